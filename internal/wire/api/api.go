// Package api wires the api function: everything the payment-link-creator
// has (DynamoDB, the secrets box, Razorpay) plus the sync queues (SQS) and
// the admin token's SSM parameter, both through internal/awsjson.
package api

import (
	"context"
	"io"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/console"
	"github.com/razorbill/razorbill/internal/dynamo/plandb"
	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/periodclose"
	"github.com/razorbill/razorbill/internal/queue"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/wire/paymentlinkcreator"
	"github.com/razorbill/razorbill/internal/wire/usageingest"
)

// Need is the configuration the function requires.
const Need = config.NeedTable | config.NeedSyncQueues | config.NeedSecrets | config.NeedAdmin | config.NeedWebhooks | config.NeedRazorpay

// Load builds the function's router from the environment read through getenv.
func Load(getenv func(string) string, logOut io.Writer) (*httpapi.Router, error) {
	a, err := paymentlinkcreator.Build(getenv, logOut, Need)
	if err != nil {
		return nil, err
	}
	cfg := a.Env.Config
	sync, err := queue.NewSyncPublisher(a.Env.AWS, cfg.CustomerSyncURL, cfg.InvoiceSyncURL)
	if err != nil {
		return nil, err
	}
	admin, err := secrets.NewAdminToken(a.Env.AWS, cfg.AdminToken, cfg.AdminTokenParam)
	if err != nil {
		return nil, err
	}
	rt := httpapi.NewRouter(a.Store, a.Store, admin.Get, a.Env.Log, nil)
	rt.Mount(console.Prefix, console.New(console.Options{API: rt.Handle, Payments: a.Router().Handle,
		SessionKey: console.KeyFromSecret(admin.Get), Log: a.Env.Log}).Handle)
	ledger := &httpapi.Ledger{Store: a.Store, Sealer: a.Box, Verifier: verifier{a.RZP},
		Sync:           sync,
		WebhookBaseURL: cfg.WebhookBaseURL, Voider: a.PaymentService(), Minimums: cfg.Minimums}
	rt.Add(ledger.Routes()...)
	rt.Add((&httpapi.GatewayEvents{Store: a.Store, Retrier: a.Reconciler()}).Routes()...)
	rt.Add((&httpapi.Refresh{Service: a.PaymentService()}).InvoiceRoutes()...)
	rt.Add((&httpapi.Tax{Store: a.Store}).Routes()...)
	usageSvc := usageingest.Service(a.Env, a.Store.Client(), a.Store)
	rt.Add((&httpapi.Meters{Service: usageSvc}).Routes()...)
	plans := plandb.New(a.Store.Client(), cfg.Table)
	rt.Add((&httpapi.Plans{Store: plans, Meters: usageSvc.Store}).Routes()...)
	rt.Add((&httpapi.Subscriptions{Store: plans, Customers: a.Store, Usage: usageSvc, Settings: periodclose.FromTaxSettings(a.Store)}).Routes()...)
	return rt, nil
}

// verifier checks Razorpay keys for the connection route.
type verifier struct{ c *razorpay.Client }

func (v verifier) VerifyCredentials(ctx context.Context, keyID, keySecret string) error {
	return v.c.VerifyCredentials(ctx, razorpay.Credentials{KeyID: keyID, KeySecret: keySecret})
}
