package payments_test

import (
	"context"
	"testing"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/payments"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// pausingStore runs pause once, inside the first customer read.
type pausingStore struct {
	*dynamo.Store
	pause func()
}

func (p *pausingStore) Customer(ctx context.Context, sc billing.Scope, id string) (billing.Customer, error) {
	if p.pause != nil {
		f := p.pause
		p.pause = nil
		f()
	}
	return p.Store.Customer(ctx, sc, id)
}

// TestARacingRequestNeverCancelsTheWinnersLink: request A reads the free
// invoice, then request B claims it and hands out its link; A must not
// cancel B's link while looking for earlier links (it used to, leaving B's
// customer with a dead URL), and A is told about B's payment.
func TestARacingRequestNeverCancelsTheWinnersLink(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.invoice()
	var b billing.Payment
	slow := *f.svc
	slow.Store = &pausingStore{Store: f.store, pause: func() {
		var err error
		if b, err = f.svc.Create(f.ctx, f.sc, req(inv)); err != nil {
			t.Errorf("request B: %v", err)
		}
	}}
	_, err := slow.Create(f.ctx, f.sc, req(inv))
	if code(err) != "payment_link_exists" || details(err)["payment_id"] != b.ID {
		t.Fatalf("request A: %v %v, want payment_link_exists naming %s", err, details(err), b.ID)
	}
	if l := f.link(b.GatewayTrackingID); l.Status != "created" {
		t.Fatalf("B's link is %s", l.Status)
	}
	if p := f.pay(b.ID); p.PaymentStatus != billing.PaymentPending || f.inv(inv.ID).OpenPaymentID != b.ID {
		t.Fatalf("B's payment %s, invoice held by %q", p.PaymentStatus, f.inv(inv.ID).OpenPaymentID)
	}
}

// TestALinkThatExistsButCannotBeReadIsNeverFailed: Razorpay made the link
// (the answer was lost), refuses the retry as a duplicate reference_id, and
// the look-up fails too. The payment must not become FAILED with its invoice
// freed (a second link would follow while the first, already sent to the
// customer, is still payable): the request is a retryable error and the
// retry finishes the same link.
func TestALinkThatExistsButCannotBeReadIsNeverFailed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.invoice()
	for _, fl := range []razorpaysim.Fault{
		{Kind: razorpaysim.FaultCrashAfterCreate, Method: "POST", Path: "/v1/payment_links", Count: 1},
		{Kind: razorpaysim.Fault500, Method: "GET", Path: "/v1/payment_links*", Count: 100},
	} {
		if err := f.sim.InjectFault(fl); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if err == nil || !apperr.Retryable(err) {
		t.Fatalf("first request: %v, want a retryable error", err)
	}
	open := f.inv(inv.ID).OpenPaymentID
	// The retry takes the given-up claim over: Razorpay now answers the
	// create with a definite "reference_id already exists", and the
	// look-up still fails.
	_, err = f.svc.Create(f.ctx, f.sc, req(inv))
	if err == nil || !apperr.Retryable(err) {
		t.Fatalf("second request: %v, want a retryable error", err)
	}
	if p := f.pay(open); p.PaymentStatus != billing.PaymentPending || f.inv(inv.ID).OpenPaymentID != open {
		t.Fatalf("the payment became %s (%s), invoice held by %q", p.PaymentStatus, p.ErrorCode, f.inv(inv.ID).OpenPaymentID)
	}
	f.sim.ClearFaults()
	p, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if err != nil || p.ID != open || p.PaymentURL == "" || len(f.links()) != 1 {
		t.Fatalf("retry: %+v %v, %d links", p, err, len(f.links()))
	}
}

var _ payments.Store = (*pausingStore)(nil)

// staleFirstRead answers the first invoice read as it was before a sync
// stored its Razorpay invoice.
type staleFirstRead struct {
	*dynamo.Store
	done bool
}

func (s *staleFirstRead) Invoice(ctx context.Context, sc billing.Scope, id string) (billing.Invoice, error) {
	inv, err := s.Store.Invoice(ctx, sc, id)
	if !s.done {
		s.done = true
		inv.RazorpayInvoiceID, inv.RazorpayShortURL, inv.SyncStatus = "", "", billing.SyncPending
	}
	return inv, err
}

// TestAVoidCancelsARazorpayInvoiceStoredWhileItRan: a sync stored the
// Razorpay invoice after the void first read the invoice; the void cancels
// it before voiding (it used to void with the Razorpay invoice still issued
// and payable).
func TestAVoidCancelsARazorpayInvoiceStoredWhileItRan(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.syncedInvoice()
	svc := *f.svc
	svc.Store = &staleFirstRead{Store: f.store}
	got, err := svc.VoidInvoice(f.ctx, f.sc, inv.ID)
	if err != nil || got.InvoiceStatus != billing.InvoiceVoided {
		t.Fatalf("void: %+v %v", got.InvoiceStatus, err)
	}
	if st := f.rzInvoice(inv.RazorpayInvoiceID).Status; st != "cancelled" {
		t.Fatalf("the Razorpay invoice is %s after the void", st)
	}
}
