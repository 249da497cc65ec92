package payments_test

import (
	"context"
	"testing"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// sweepAfterCancel is the real Razorpay client whose link cancel, once
// Razorpay has answered, runs sweep (as the gateway sweeper would, landing
// between Razorpay's cancel and Razorbill recording it).
type sweepAfterCancel struct {
	*razorpay.Client
	sweep func(linkID string)
}

func (g *sweepAfterCancel) CancelPaymentLink(ctx context.Context, cr razorpay.Credentials, id string) (razorpay.PaymentLink, error) {
	link, err := g.Client.CancelPaymentLink(ctx, cr, id)
	if err == nil {
		g.sweep(id)
	}
	return link, err
}

// TestASweepDuringRazorbillsOwnCancelCountsNoMissedEvent: the gateway
// sweeper counts a link it finds closed as a missed webhook. When the link
// was closed by Razorbill itself — a new payment request cancelling an
// earlier link whose try failed, or POST /payments/{id}/cancel — and the
// sweep lands after Razorpay's cancel but before Razorbill recorded it,
// that is no missed webhook (localstack TestSweeperAppliesEverything…
// counted one once). A link cancelled by someone else still counts.
func TestASweepDuringRazorbillsOwnCancelCountsNoMissedEvent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var missed, sweeps int
	byLink := map[string]string{} // link id → payment id
	gw := &sweepAfterCancel{Client: f.client, sweep: func(linkID string) {
		sweeps++
		n, err := f.svc.RefreshOpen(f.ctx, f.sc, byLink[linkID])
		if err != nil {
			t.Errorf("sweep of %s: %v", linkID, err)
		}
		missed += n
	}}
	svc := *f.svc
	svc.Instruments = gw

	// A failed try leaves the first link payable; the second request
	// cancels it.
	inv := f.invoice()
	first, err := svc.Create(f.ctx, f.sc, req(inv))
	if err != nil {
		t.Fatal(err)
	}
	byLink[first.GatewayTrackingID] = first.ID
	if _, err := f.sim.FailPaymentLink(first.GatewayTrackingID, razorpaysim.FailOptions{}); err != nil {
		t.Fatal(err)
	}
	f.failed(first)
	second, err := svc.Create(f.ctx, f.sc, req(inv))
	if err != nil {
		t.Fatal(err)
	}
	byLink[second.GatewayTrackingID] = second.ID
	if sweeps != 1 || missed != 0 || f.link(first.GatewayTrackingID).Status != "cancelled" || f.pay(first.ID).CancelRequestedAt == nil {
		t.Fatalf("superseded link: %d sweeps, %d missed, link %s; want 1 sweep, 0 missed, cancelled", sweeps, missed, f.link(first.GatewayTrackingID).Status)
	}

	// The open link cancelled through the API.
	got, err := svc.Cancel(f.ctx, f.sc, second.ID)
	if err != nil || got.PaymentStatus != billing.PaymentCancelled {
		t.Fatalf("cancel: %s %v", got.PaymentStatus, err)
	}
	if sweeps != 2 || missed != 0 || f.inv(inv.ID).OpenPaymentID != "" {
		t.Fatalf("cancel: %d sweeps, %d missed; want 2 sweeps, 0 missed, the invoice free", sweeps, missed)
	}

	// A link cancelled at Razorpay by someone else (the dashboard): the
	// sweep applies it and counts the webhook that never came.
	third, err := svc.Create(f.ctx, f.sc, req(inv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.CancelPaymentLink(f.ctx, razorpay.Credentials{KeyID: f.acct.KeyID, KeySecret: f.acct.KeySecret}, third.GatewayTrackingID); err != nil {
		t.Fatal(err)
	}
	n, err := svc.RefreshOpen(f.ctx, f.sc, third.ID)
	if err != nil || n != 1 {
		t.Fatalf("a link cancelled elsewhere: %d missed, %v; want 1", n, err)
	}
	if p := f.pay(third.ID); p.LinkOpen() || p.CancelRequestedAt != nil {
		t.Fatalf("a link cancelled elsewhere: the payment stays open (%s) or claims Razorbill's cancel", p.PaymentStatus)
	}
}
