package rzsync_test

import (
	"testing"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
)

// Issue 14 row 7: the background invoice sync of a non-INR invoice on an
// account without international payments sends nothing to Razorpay and
// leaves the invoice FAILED with international_not_enabled, for people to
// see; INR invoices still sync.
func TestNonINRInvoiceSyncNeedsInternationalPayments(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conn, _, err := f.raw.Connection(f.ctx, f.sc)
	if err != nil {
		t.Fatal(err)
	}
	off := false
	conn.International = &off
	if err := f.raw.PutConnection(f.ctx, conn); err != nil {
		t.Fatal(err)
	}
	cus := f.customer()
	usd := f.invoice(cus, "INV-USD1", 10000, func(i *billing.Invoice) { i.Currency = "USD" })
	_, err = f.sy.SyncInvoice(f.ctx, f.sc, usd.ID, false)
	if !apperr.HasCode(err, "international_not_enabled") || apperr.HTTPStatus(err) != 409 {
		t.Fatalf("USD sync: %v", err)
	}
	if got := f.get(usd.ID); got.SyncStatus != billing.SyncFailed || got.SyncErrorCode != "international_not_enabled" || got.RazorpayInvoiceID != "" {
		t.Fatalf("USD invoice after the refusal: %+v", got)
	}
	if n := len(f.rzpInvoices()); n != 0 {
		t.Fatalf("%d invoices sent to Razorpay", n)
	}
	inr := f.invoice(cus, "INV-INR1", 10000)
	if got, err := f.sy.SyncInvoice(f.ctx, f.sc, inr.ID, false); err != nil || got.RazorpayInvoiceID == "" {
		t.Fatalf("INR sync: %+v %v", got, err)
	}
}

// Issue 14 row 7, learnt from a refusal: a connection whose account was
// never probed (stored before the probe) meets Razorpay's refusal; the sync
// reports international_not_enabled and the connection records it, so the
// next non-INR sync is refused before Razorpay is called.
func TestInternationalRefusalIsLearnt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.sim.SetInternational(f.cr.KeyID, false); err != nil {
		t.Fatal(err)
	}
	cus := f.customer()
	first := f.invoice(cus, "INV-USD2", 10000, func(i *billing.Invoice) { i.Currency = "USD" })
	if _, err := f.sy.SyncInvoice(f.ctx, f.sc, first.ID, false); !apperr.HasCode(err, "international_not_enabled") {
		t.Fatalf("refused sync: %v", err)
	}
	conn, _, err := f.raw.Connection(f.ctx, f.sc)
	if err != nil || conn.International == nil || *conn.International {
		t.Fatalf("connection after the refusal: %v %v", conn.International, err)
	}
	if got := f.get(first.ID); got.SyncStatus != billing.SyncFailed || got.SyncErrorCode != "international_not_enabled" {
		t.Fatalf("invoice after the refusal: %+v", got)
	}
	calls := f.sim.Calls("POST", "/v1/invoices")
	second := f.invoice(cus, "INV-USD3", 10000, func(i *billing.Invoice) { i.Currency = "USD" })
	if _, err := f.sy.SyncInvoice(f.ctx, f.sc, second.ID, false); !apperr.HasCode(err, "international_not_enabled") {
		t.Fatalf("second sync: %v", err)
	}
	if n := f.sim.Calls("POST", "/v1/invoices"); n != calls {
		t.Fatalf("Razorpay was called again: %d → %d invoice creates", calls, n)
	}
}
