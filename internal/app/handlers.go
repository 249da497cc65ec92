package app

import (
	"context"

	"github.com/razorbill/razorbill/internal/console"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/dynamo/plandb"
	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/metering"
	"github.com/razorbill/razorbill/internal/payments"
	"github.com/razorbill/razorbill/internal/periodclose"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/reconcile"
	"github.com/razorbill/razorbill/internal/relay"
	"github.com/razorbill/razorbill/internal/rzsync"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/syncworker"
	"github.com/razorbill/razorbill/internal/webhook"
)

// Razorpay is the Razorpay client for this function.
func (d *Deps) Razorpay() *razorpay.Client {
	if d.rzp == nil {
		// Each attempt is bounded by RazorpayTimeout and ends the client's
		// DeadlineMargin before the invocation's deadline.
		d.rzp = razorpay.NewClient(razorpay.Config{BaseURL: d.Config.RazorpayBaseURL, Logger: d.Log, AttemptTimeout: d.Config.RazorpayTimeout})
	}
	return d.rzp
}

// verifier checks Razorpay keys for the connection route.
type verifier struct{ c *razorpay.Client }

func (v verifier) VerifyCredentials(ctx context.Context, keyID, keySecret string) error {
	return v.c.VerifyCredentials(ctx, razorpay.Credentials{KeyID: keyID, KeySecret: keySecret})
}

// InternationalEnabled probes whether the account takes non-INR payments
// (httpapi.InternationalChecker).
func (v verifier) InternationalEnabled(ctx context.Context, keyID, keySecret string) (bool, error) {
	return v.c.InternationalEnabled(ctx, razorpay.Credentials{KeyID: keyID, KeySecret: keySecret})
}

// Keys opens connections' key secrets through Box, keeping each opened
// value for secrets.CacheTTL (one cache per Deps, shared by the syncer, the
// payments service and the reconciler): one KMS Decrypt per secret per
// warm function and TTL instead of one per Razorpay call. Nil without Box.
func (d *Deps) Keys() rzsync.Opener {
	if d.Box == nil {
		return nil
	}
	d.keysOnce.Do(func() { d.keys = secrets.NewCache(d.Box) })
	return d.keys
}

// Syncer is the customer/invoice sync implementation.
func (d *Deps) Syncer() *rzsync.Syncer {
	return &rzsync.Syncer{Store: d.Store, Gateway: d.Razorpay(), Secrets: d.Keys()}
}

// Reconciler applies Razorpay events; it confirms money matched only by
// notes at Razorpay with the connection's key.
func (d *Deps) Reconciler() *reconcile.Reconciler {
	r := &reconcile.Reconciler{Store: d.Store, Log: d.Log, Gateway: d.Razorpay()}
	if d.Box != nil {
		r.Secrets = d.Keys()
	}
	return r
}

// APIHandler is the api function: the ledger and the parked gateway events.
func (d *Deps) APIHandler() *httpapi.Router {
	rt := d.NewAPIRouter(verifier{d.Razorpay()})
	rt.Mount(console.Prefix, d.Console(rt).Handle)
	ge := &httpapi.GatewayEvents{Store: d.Store, Retrier: d.Reconciler()}
	rt.Add(ge.Routes()...)
	rt.Add((&httpapi.Refresh{Service: d.PaymentService()}).InvoiceRoutes()...)
	rt.Add((&httpapi.Tax{Store: d.Store}).Routes()...)
	rt.Add((&httpapi.Meters{Service: d.Metering()}).Routes()...)
	plans := plandb.New(d.DDB, d.Config.Table)
	rt.Add((&httpapi.Plans{Store: plans, Meters: d.UsageStore()}).Routes()...)
	rt.Add((&httpapi.Subscriptions{Store: plans, Customers: d.Store, Usage: d.Metering(), Settings: periodclose.FromTaxSettings(d.Store)}).Routes()...)
	return rt
}

// PaymentService creates payment links and refunds.
func (d *Deps) PaymentService() *payments.Service {
	return &payments.Service{Store: d.Store, Gateway: d.Razorpay(), Customers: d.Syncer(), Invoices: d.Syncer(), Secrets: d.Keys(),
		Minimums: d.Config.Minimums, LinkExpiry: d.Config.DefaultLinkExpiry,
		Instruments: d.Razorpay(), Applier: d.Reconciler()}
}

// PaymentsHandler is the payment-link-creator function.
func (d *Deps) PaymentsHandler() *httpapi.Router {
	rt := httpapi.NewRouter(d.Store, d.Store, d.AdminToken, d.Log, nil)
	p := &httpapi.Payments{Service: d.PaymentService()}
	rt.Add(p.Routes()...)
	rt.Add((&httpapi.Refresh{Service: d.PaymentService()}).PaymentRoutes()...)
	return rt
}

// WebhookReceiver is the webhook-receiver function.
func (d *Deps) WebhookReceiver() *webhook.Receiver {
	return &webhook.Receiver{Store: webhook.NewTrustCache(dynamo.WebhookTrust{Store: d.Store}), Refs: d.Store, Secrets: secrets.NewCache(d.Box), Queue: d.Events, Log: d.Log}
}

// Relay is the stream-relay function.
func (d *Deps) Relay() *relay.Relay { return &relay.Relay{Queue: d.Sync, Log: d.Log} }

// CustomerWorker is the customer-syncer function.
func (d *Deps) CustomerWorker() *syncworker.Worker {
	return &syncworker.Worker{Syncer: d.Syncer(), Store: d.Store, Log: d.Log, MaxReceiveCount: schema.CustomerSync.MaxReceiveCount}
}

// InvoiceWorker is the invoice-syncer function.
func (d *Deps) InvoiceWorker() *syncworker.Worker {
	return &syncworker.Worker{Syncer: d.Syncer(), Store: d.Store, Log: d.Log, MaxReceiveCount: schema.InvoiceSync.MaxReceiveCount}
}

var (
	_ rzsync.Store            = (*dynamoStore)(nil)
	_ payments.Store          = (*dynamoStore)(nil)
	_ reconcile.Store         = (*dynamoStore)(nil)
	_ syncworker.Store        = (*dynamoStore)(nil)
	_ webhook.ConnectionStore = (*dynamoStore)(nil)
)

var _ httpapi.InternationalChecker = verifier{}

// UsageStore is the metering part of the table.
func (d *Deps) UsageStore() *usagedb.Store {
	return usagedb.New(d.DDB, d.Config.Table, d.Config.UsageRetention)
}

// Metering is the usage service (meters, ingestion, usage queries).
func (d *Deps) Metering() *metering.Service {
	return &metering.Service{Store: d.UsageStore(), Customers: d.Store, Lateness: d.Config.UsageLateness, Log: d.Log}
}

// UsageIngestHandler is the usage-ingest function: POST /api/v1/events,
// POST /api/v1/events/bulk, GET /api/v1/events.
func (d *Deps) UsageIngestHandler() *httpapi.Router {
	rt := httpapi.NewRouter(d.Store, d.Store, d.AdminToken, d.Log, nil)
	rt.Add((&httpapi.Events{Service: d.Metering()}).Routes()...)
	return rt
}

// PeriodCloser is the period-close function.
func (d *Deps) PeriodCloser() *periodclose.Closer {
	return &periodclose.Closer{Plans: plandb.New(d.DDB, d.Config.Table), Ledger: d.Store, Usage: d.Metering(),
		Minimums: d.Config.Minimums, Grace: d.Config.PeriodCloseGrace, Log: d.Log, Settings: periodclose.FromTaxSettings(d.Store)}
}

// UsageAggregator is the usage-aggregator function.
func (d *Deps) UsageAggregator() *metering.Aggregator {
	return &metering.Aggregator{Store: d.UsageStore(), Log: d.Log}
}
