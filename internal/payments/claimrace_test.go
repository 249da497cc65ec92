package payments_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
)

// invoiceMovesFirst is the real store on DynamoDB Local with another
// writer of the invoice getting in first: before each of the next `races`
// claims (SavePaymentAndInvoice) it rewrites the invoice as the
// invoice-syncer does when it stores a sync (a new version, nothing a
// payment depends on), so the claim's condition on the version fails.
type invoiceMovesFirst struct {
	*dynamo.Store
	t      *testing.T
	races  atomic.Int32
	claims atomic.Int32
}

func (s *invoiceMovesFirst) SavePaymentAndInvoice(ctx context.Context, sc billing.Scope, p billing.Payment, ep int64, inv billing.Invoice, ei int64, refs map[string]string) error {
	s.claims.Add(1)
	if s.races.Add(-1) >= 0 {
		cur, err := s.Invoice(ctx, sc, inv.ID)
		if err != nil {
			s.t.Fatal(err)
		}
		v := cur.Version
		cur.Version, cur.SyncAttempts = v+1, cur.SyncAttempts+1
		if err := s.UpdateInvoice(ctx, sc, cur, v); err != nil {
			s.t.Fatal(err)
		}
	}
	return s.Store.SavePaymentAndInvoice(ctx, sc, p, ep, inv, ei, refs)
}

// TestAClaimLostToAnotherWriteStartsAgain: a payment request whose claim
// lost only to another write of the invoice (still free, still payable)
// starts again instead of answering 409 concurrent_update for a conflict
// the client did not cause; the invoice gets one link. Only an invoice
// that changes under every try (3) answers 409, with nothing claimed and
// nothing made at Razorpay.
func TestAClaimLostToAnotherWriteStartsAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	store := &invoiceMovesFirst{Store: f.store, t: t}
	svc := *f.svc
	svc.Store = store

	inv := f.invoice()
	store.races.Store(2)
	p, err := svc.Create(f.ctx, f.sc, req(inv))
	if err != nil || p.PaymentStatus != billing.PaymentPending || p.GatewayTrackingID == "" {
		t.Fatalf("create after two lost claims: %+v %v", p, err)
	}
	if n := store.claims.Load(); n != 3 {
		t.Errorf("%d claims, want 3 (two lost, one won)", n)
	}
	if got := f.inv(inv.ID); got.OpenPaymentID != p.ID || got.SyncAttempts != 2 {
		t.Fatalf("the invoice: open payment %q, sync attempts %d; want %s and the racing writes kept", got.OpenPaymentID, got.SyncAttempts, p.ID)
	}
	if n := len(f.links()); n != 1 {
		t.Fatalf("%d links at Razorpay, want 1", n)
	}

	other := f.invoice()
	store.claims.Store(0)
	store.races.Store(100)
	if _, err := svc.Create(f.ctx, f.sc, req(other)); code(err) != "concurrent_update" {
		t.Fatalf("an invoice changing under every try: %v, want 409 concurrent_update", err)
	}
	if n := store.claims.Load(); n != 3 {
		t.Errorf("%d claims, want 3", n)
	}
	if got := f.inv(other.ID); got.OpenPaymentID != "" {
		t.Fatalf("the refused request left the invoice held by %s", got.OpenPaymentID)
	}
	if n := len(f.links()); n != 1 {
		t.Fatalf("%d links at Razorpay, want still 1", n)
	}
}
