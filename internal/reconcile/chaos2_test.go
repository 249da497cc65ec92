package reconcile_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/reconcile"
)

// settleBetween lets another writer count a refund right after the
// reconciler checked the refund's marker (the payments service's lookup
// racing the refund.processed webhook).
type settleBetween struct {
	*dynamo.Store
	key  string
	do   func()
	done atomic.Bool
}

func (s *settleBetween) Applied(ctx context.Context, sc billing.Scope, key string) (dynamo.Marker, bool, error) {
	m, ok, err := s.Store.Applied(ctx, sc, key)
	if key == s.key && s.done.CompareAndSwap(false, true) {
		s.do()
	}
	return m, ok, err
}

// Found by the chaos run (refund retried after a 503 while its
// refund.processed webhook was handled): the refund is counted once by the
// other path between the webhook's marker check and its read of the
// payment; the webhook must see it as applied, not park it as UNMATCHED
// ("exceeds what payment … has left (0)").
func TestRefundCountedByALookupMeanwhileIsNotParked(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, pay, plink := f.invoice("INR", 3000)
	f.apply(linkPaid(plink, "pay_RACE01", 3000, "INR", nil))
	body := refund("refund.processed", "rfnd_RACE1", "pay_RACE01", 3000, "INR")
	other := &reconcile.Reconciler{Store: f.store, Gateway: f.rec.Gateway, Secrets: f.rec.Secrets, Log: f.rec.Log}
	f.rec.Store = &settleBetween{Store: f.store, key: "refund:rfnd_RACE1", do: func() {
		if err := other.Apply(f.ctx, f.sc, billing.EventMessage{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, Event: "refund.processed", Body: body}); err != nil {
			t.Errorf("the other path: %v", err)
		}
	}}
	if err := f.rec.Apply(f.ctx, f.sc, billing.EventMessage{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, Event: "refund.processed", Body: body}); err != nil {
		t.Errorf("the webhook of a refund counted meanwhile: %v", err)
	}
	if _, p := f.state(inv, pay); p.RefundedAmount != 3000 {
		t.Fatalf("refunded %d, want 3000 once", p.RefundedAmount)
	}
	if parked := f.parked(); len(parked) != 0 {
		t.Fatalf("the refund counted once was also parked: %s", parked[0].Reason)
	}
}
