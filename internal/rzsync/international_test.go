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
