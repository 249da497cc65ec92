package payments_test

import (
	"context"
	"testing"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
)

// failsAfterFirstRead plays the reconciler applying a payment.failed for
// the payment between the cancel's first read and its write: the first
// Payment read answers what was stored (PENDING), then the stored payment
// becomes FAILED.
type failsAfterFirstRead struct {
	*dynamo.Store
	done bool
}

func (s *failsAfterFirstRead) Payment(ctx context.Context, sc billing.Scope, id string) (billing.Payment, error) {
	p, err := s.Store.Payment(ctx, sc, id)
	if err != nil || s.done {
		return p, err
	}
	s.done = true
	failed := p
	failed.PaymentStatus, failed.Version = billing.PaymentFailed, p.Version+1
	if err := s.Store.UpdatePayment(ctx, sc, failed, p.Version); err != nil {
		return p, err
	}
	return p, nil
}

// TestACancelRacingAFailedTryEndsCancelled: the chaos run found a cancel
// that answered 200 and left the payment FAILED, because a failed try was
// applied while the cancel ran. The link is cancelled at Razorpay, so the
// payment is CANCELLED and the invoice free.
func TestACancelRacingAFailedTryEndsCancelled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.invoice()
	p, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if err != nil {
		t.Fatal(err)
	}
	svc := *f.svc
	svc.Store = &failsAfterFirstRead{Store: f.store}
	got, err := svc.Cancel(f.ctx, f.sc, p.ID)
	if err != nil || got.PaymentStatus != billing.PaymentCancelled {
		t.Fatalf("cancel: %s %v; want CANCELLED", got.PaymentStatus, err)
	}
	if f.link(p.GatewayTrackingID).Status != "cancelled" || f.inv(inv.ID).OpenPaymentID != "" {
		t.Fatal("the link stays open or the invoice stays held")
	}
}
