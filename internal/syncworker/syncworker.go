// Package syncworker holds the customer-syncer and invoice-syncer queue
// consumers. Each reads sync requests (from the stream relay or a manual
// POST …/sync), calls the one sync implementation (package rzsync), and
// reports per-message failures: a transient Razorpay error returns the
// message to the queue (retried after the visibility timeout, then the DLQ —
// and on the last attempt the record is marked FAILED so the API shows it);
// a permanent one is recorded on the record as FAILED with Razorpay's
// description and the message is done.
package syncworker

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/logx"
)

// Syncer is the sync implementation.
type Syncer interface {
	SyncCustomer(ctx context.Context, sc billing.Scope, id string) (billing.Customer, error)
	SyncInvoice(ctx context.Context, sc billing.Scope, id string, force bool) (billing.Invoice, error)
	InvoicesAwaitingCustomer(ctx context.Context, sc billing.Scope, customerID string) ([]billing.Invoice, error)
}

// Store reads connections and marks records failed after the last attempt.
type Store interface {
	Connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error)
	Customer(ctx context.Context, sc billing.Scope, id string) (billing.Customer, error)
	UpdateCustomer(ctx context.Context, sc billing.Scope, c billing.Customer, expected int64) error
	Invoice(ctx context.Context, sc billing.Scope, id string) (billing.Invoice, error)
	UpdateInvoice(ctx context.Context, sc billing.Scope, inv billing.Invoice, expected int64) error
}

// Worker consumes a sync queue.
type Worker struct {
	Syncer          Syncer
	Store           Store
	Log             *slog.Logger
	MaxReceiveCount int // the queue's redrive limit
}

// HandleCustomers is the customer-syncer handler.
func (w *Worker) HandleCustomers(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return w.each(ctx, ev, w.customer)
}

// HandleInvoices is the invoice-syncer handler.
func (w *Worker) HandleInvoices(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return w.each(ctx, ev, w.invoice)
}

func (w *Worker) each(ctx context.Context, ev events.SQSEvent, f func(context.Context, billing.SyncRequest) error) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		fail := func() {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
		// Stop taking work when the Lambda is about to run out of time.
		if d, ok := ctx.Deadline(); ok && time.Until(d) < 3*time.Second {
			fail()
			continue
		}
		var req billing.SyncRequest
		if err := json.Unmarshal([]byte(rec.Body), &req); err != nil || req.TenantID == "" || req.EnvironmentID == "" || req.ID == "" {
			w.Log.ErrorContext(ctx, "sync message is not a sync request; dropped to the DLQ after retries", "message_id", rec.MessageId)
			fail()
			continue
		}
		rctx := logx.With(ctx, "tenant_id", req.TenantID, "environment_id", req.EnvironmentID, "record_id", req.ID, "reason", req.Reason)
		err := f(rctx, req)
		if err == nil || !apperr.Retryable(err) {
			if err != nil {
				w.Log.WarnContext(rctx, "sync failed permanently; recorded on the record", "error", err.Error())
			}
			continue
		}
		if w.lastAttempt(rec) {
			w.markFailed(rctx, req, err)
		}
		w.Log.WarnContext(rctx, "sync failed; will retry", "error", err.Error())
		fail()
	}
	return resp, nil
}

func (w *Worker) lastAttempt(rec events.SQSMessage) bool {
	n, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	return w.MaxReceiveCount > 0 && n >= w.MaxReceiveCount
}

func (w *Worker) customer(ctx context.Context, req billing.SyncRequest) error {
	sc := billing.Scope{TenantID: req.TenantID, EnvironmentID: req.EnvironmentID}
	if req.Reason == "created" {
		conn, ok, err := w.Store.Connection(ctx, sc)
		if err != nil {
			return err
		}
		// The stream relays only customers created while this held
		// (billing.Customer.SyncOnCreate); it may have changed since.
		if !ok || !conn.SyncsOnCreate() {
			return nil // ON_DEMAND: synced when a payment link or invoice needs it
		}
	}
	_, err := w.Syncer.SyncCustomer(ctx, sc, req.ID)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	return err
}

func (w *Worker) invoice(ctx context.Context, req billing.SyncRequest) error {
	sc := billing.Scope{TenantID: req.TenantID, EnvironmentID: req.EnvironmentID}
	if req.Kind == billing.SyncCustomerSynced {
		invs, err := w.Syncer.InvoicesAwaitingCustomer(ctx, sc, req.ID)
		if err != nil {
			return err
		}
		for _, inv := range invs {
			if _, err := w.Syncer.SyncInvoice(ctx, sc, inv.ID, true); err != nil && apperr.Retryable(err) {
				return err
			}
		}
		return nil
	}
	_, err := w.Syncer.SyncInvoice(ctx, sc, req.ID, strings.HasPrefix(req.Reason, "manual"))
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if e := apperr.As(err); e != nil && (e.Code == "invoice_not_finalized" || e.Code == "connection_not_configured") {
		return nil // nothing to do for this request
	}
	return err
}

// markFailed records the last transient error as FAILED before the message
// goes to the DLQ, so the API shows why and a manual sync can retry it.
func (w *Worker) markFailed(ctx context.Context, req billing.SyncRequest, cause error) {
	sc := billing.Scope{TenantID: req.TenantID, EnvironmentID: req.EnvironmentID}
	msg := "gave up after repeated failures: " + apperr.PublicMessage(cause)
	for attempt := 0; attempt < 3; attempt++ {
		var err error
		switch req.Kind {
		case billing.SyncCustomer:
			var c billing.Customer
			if c, err = w.Store.Customer(ctx, sc, req.ID); err != nil || c.RazorpayCustomerID != "" {
				return
			}
			expected := c.Version
			c.Version++
			c.SyncStatus, c.SyncError, c.SyncLeaseUntil = billing.SyncFailed, msg, nil
			err = w.Store.UpdateCustomer(ctx, sc, c, expected)
		case billing.SyncInvoice:
			var inv billing.Invoice
			if inv, err = w.Store.Invoice(ctx, sc, req.ID); err != nil || inv.RazorpayInvoiceID != "" {
				return
			}
			expected := inv.Version
			inv.Version++
			inv.SyncStatus, inv.SyncError, inv.SyncLeaseUntil = billing.SyncFailed, msg, nil
			if e := apperr.As(cause); e != nil {
				inv.SyncErrorCode = e.Code
			}
			err = w.Store.UpdateInvoice(ctx, sc, inv, expected)
		default:
			return
		}
		if err == nil {
			return
		}
	}
}
