package httpapi_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo/plandb"
	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/pricing"
)

// racingPlans is the real plan store in DynamoDB Local, with a writer that
// gets in first: before each of the next `races` subscription updates it
// bills a step of that subscription the way the period close does (one
// more step and invoice, the version bumped), so the update's expected
// version is stale and DynamoDB refuses it.
type racingPlans struct {
	*plandb.Store
	t       *testing.T
	mu      sync.Mutex
	races   int
	updates int
}

func (s *racingPlans) UpdateSubscription(ctx context.Context, sc billing.Scope, sub pricing.Subscription, expected int64) error {
	s.mu.Lock()
	s.updates++
	race := s.races > 0
	if race {
		s.races--
	}
	s.mu.Unlock()
	if race {
		cur, err := s.Subscription(ctx, sc, sub.ID)
		if err != nil {
			s.t.Fatal(err)
		}
		v := cur.Version
		cur.Steps, cur.Invoices, cur.Version = cur.Steps+1, cur.Invoices+1, v+1
		if err := s.Store.UpdateSubscription(ctx, sc, cur, v); err != nil {
			s.t.Fatal(err)
		}
	}
	return s.Store.UpdateSubscription(ctx, sc, sub, expected)
}

func (s *racingPlans) race(n int) (updates int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	updates, s.races, s.updates = s.updates, n, 0
	return updates
}

// TestSubscriptionChangesRetryAConcurrentUpdate: the period close writes a
// subscription whenever it bills a step, so a client's change-plan or
// cancel can lose the version race. The change is applied again to the
// subscription as stored (the period close's step kept, the client's
// change on top) instead of a 409 the client did nothing to cause; only a
// subscription that keeps changing under every try answers 409
// concurrent_update, and that writes nothing of the client's.
func TestSubscriptionChangesRetryAConcurrentUpdate(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	plans := &racingPlans{Store: plandb.New(a.env.DynamoDB, a.env.Table()), t: t}
	a.rt.Add((&httpapi.Plans{Store: plans, Meters: usagedb.New(a.env.DynamoDB, a.env.Table(), 24*time.Hour)}).Routes()...)
	a.rt.Add((&httpapi.Subscriptions{Store: plans, Customers: a.store}).Routes()...)
	acme := a.tenant("Acme")
	c := acme.c()
	sc := billing.Scope{TenantID: acme.id, EnvironmentID: acme.prod}

	cus := a.do(c, "POST", "/api/v1/customers", map[string]any{"name": "Ravi", "email": "ravi@example.com"})
	a.expect(cus, 201, "")
	fee := func(name, amount string) string {
		r := a.do(c, "POST", "/api/v1/plans", map[string]any{"name": name, "currency": "inr", "charges": []any{
			map[string]any{"type": "FIXED", "display_name": "Platform fee", "amount": amount, "period": "MONTHLY"}}})
		a.expect(r, 201, "")
		return r.str("id")
	}
	growth, scale := fee("Growth", "4999"), fee("Scale", "9999")
	sub := a.do(c, "POST", "/api/v1/subscriptions", map[string]any{"customer_id": cus.str("id"), "plan_id": growth})
	a.expect(sub, 201, "")
	id := sub.str("id")
	stored := func() pricing.Subscription {
		s, err := plans.Subscription(context.Background(), sc, id)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	// One concurrent step: the change is written on the second try.
	plans.race(1)
	r := a.do(c, "POST", "/api/v1/subscriptions/"+id+"/change-plan", map[string]any{"plan_id": scale})
	a.expect(r, 200, "")
	if n := plans.race(0); n != 2 {
		t.Errorf("change-plan: %d updates, want 2 (the lost one and the retry)", n)
	}
	if s := stored(); s.PendingPlanID != scale || s.Steps != 1 || s.Version != 3 || r.str("pending_plan", "plan_id") != scale {
		t.Fatalf("after change-plan: stored %+v, answered %s", s, r.Raw)
	}

	// Two concurrent steps: cancel at the period's end on the third try.
	plans.race(2)
	r = a.do(c, "POST", "/api/v1/subscriptions/"+id+"/cancel", map[string]any{"at": "PERIOD_END"})
	a.expect(r, 200, "")
	if n := plans.race(0); n != 3 {
		t.Errorf("cancel: %d updates, want 3", n)
	}
	s := stored()
	if s.CancelAt == nil || s.PendingPlanID != scale || s.Steps != 3 || s.Version != 6 || r.str("cancel_at") == "" {
		t.Fatalf("after cancel: stored %+v, answered %s", s, r.Raw)
	}

	// A subscription that changes under every try: 409 after five, and
	// none of the client's change is stored (only the racing steps are).
	plans.race(100)
	r = a.do(c, "POST", "/api/v1/subscriptions/"+id+"/cancel", map[string]any{"at": "NOW"})
	a.expect(r, 409, "concurrent_update")
	if n := plans.race(0); n != 5 {
		t.Errorf("cancel under constant races: %d updates, want 5", n)
	}
	if after := stored(); after.Status != pricing.SubActive || !after.CancelAt.Equal(*s.CancelAt) || after.Steps != s.Steps+5 {
		t.Fatalf("after the refused cancel: stored %+v, before it %+v", after, s)
	}
}
