package httpapi_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo/plandb"
	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/metering"
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
	plans := &racingPlans{Store: plandb.New(a.env.DDB, a.env.Table()), t: t}
	a.rt.Add((&httpapi.Plans{Store: plans, Meters: usagedb.New(a.env.DDB, a.env.Table(), 24*time.Hour)}).Routes()...)
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

// TestPlansAndCouponsTakeNumbers: api.md — "requests accept a JSON string
// or number for amounts and quantities, and never lose precision". A
// plan's charges (amounts, package size, tiers, tax rate) and a coupon's
// percent_off may be JSON numbers and are kept exactly (money shown with the
// currency's exponent, "4999.5" → "4999.50"); a value
// of another JSON type is 400 on its field. A subscription naming a
// customer or plan that does not exist is 404 on that field, as an invoice
// naming a missing customer is.
func TestPlansAndCouponsTakeNumbers(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	plans := plandb.New(a.env.DDB, a.env.Table())
	meters := usagedb.New(a.env.DDB, a.env.Table(), 24*time.Hour)
	a.rt.Add((&httpapi.Plans{Store: plans, Meters: meters}).Routes()...)
	a.rt.Add((&httpapi.Subscriptions{Store: plans, Customers: a.store}).Routes()...)
	a.rt.Add((&httpapi.Meters{Service: &metering.Service{Store: meters, Customers: a.store, Log: logx.New(io.Discard, "error")}}).Routes()...)
	acme := a.tenant("Acme")
	c := acme.c()
	m := a.do(c, "POST", "/api/v1/meters", map[string]any{"name": "API calls", "event_name": "api_call", "aggregation": "COUNT"})
	a.expect(m, 201, "")
	plan := a.do(c, "POST", "/api/v1/plans", map[string]any{"name": "Growth", "currency": "inr", "charges": []any{
		map[string]any{"type": "FIXED", "display_name": "Platform fee", "amount": 4999.5, "period": "MONTHLY", "tax_rate": 18},
		map[string]any{"type": "USAGE", "display_name": "Bundles", "meter_id": m.str("id"), "model": "PACKAGE", "package_size": 1000, "package_amount": 25},
		map[string]any{"type": "USAGE", "display_name": "API calls", "meter_id": m.str("id"), "model": "TIERED_GRADUATED", "tiers": []any{
			map[string]any{"up_to": 100000, "unit_amount": 0, "flat_amount": 10}, map[string]any{"up_to": nil, "unit_amount": 0.0015}}}}})
	a.expect(plan, 201, "")
	charges := plan.Body["charges"].([]any)
	fixed, pkg, tiered := charges[0].(map[string]any), charges[1].(map[string]any), charges[2].(map[string]any)
	tiers := tiered["tiers"].([]any)
	t0, t1 := tiers[0].(map[string]any), tiers[1].(map[string]any)
	// Money is shown with the currency's exponent; other decimals as sent.
	for what, got := range map[string]any{"amount 4999.50": fixed["amount"], "tax_rate 18": fixed["tax_rate"], "package_size 1000": pkg["package_size"],
		"package_amount 25.00": pkg["package_amount"], "up_to 100000": t0["up_to"], "flat_amount 10.00": t0["flat_amount"], "unit_amount 0.0015": t1["unit_amount"]} {
		if want := what[strings.IndexByte(what, ' ')+1:]; got != want {
			t.Errorf("%s: answered %#v, want the string %q", what, got, want)
		}
	}
	if t1["up_to"] != nil {
		t.Errorf("the last tier's up_to: %#v, want null", t1["up_to"])
	}
	for field, v := range map[string]any{"charges[0].amount": true, "charges[0].tax_rate": map[string]any{}} {
		charge := map[string]any{"type": "FIXED", "display_name": "Fee", "amount": "10", "period": "MONTHLY"}
		charge[field[len("charges[0]."):]] = v
		r := a.do(c, "POST", "/api/v1/plans", map[string]any{"name": "Bad", "currency": "inr", "charges": []any{charge}})
		a.expect(r, 400, "validation_failed")
		if r.str("error", "field") != field {
			t.Errorf("%s = %v: %s", field, v, r.Raw)
		}
	}

	cus := a.do(c, "POST", "/api/v1/customers", map[string]any{"name": "Ravi", "email": "ravi@example.com"})
	a.expect(cus, 201, "")
	sub := a.do(c, "POST", "/api/v1/subscriptions", map[string]any{"customer_id": cus.str("id"), "plan_id": plan.str("id"),
		"coupon": map[string]any{"percent_off": 12.5, "duration": "ONCE"}})
	a.expect(sub, 201, "")
	if got := sub.str("coupon", "percent_off"); got != "12.5" {
		t.Errorf("coupon percent_off: %q, want \"12.5\" (%s)", got, sub.Raw)
	}
	r := a.do(c, "POST", "/api/v1/subscriptions", map[string]any{"customer_id": cus.str("id"), "plan_id": plan.str("id"),
		"coupon": map[string]any{"percent_off": "ten", "duration": "ONCE"}})
	a.expect(r, 400, "")
	for field, body := range map[string]map[string]any{
		"customer_id": {"customer_id": "cus_01jzzzzzzzzzzzzzzzzzzzzzzz", "plan_id": plan.str("id")},
		"plan_id":     {"customer_id": cus.str("id"), "plan_id": "pln_01jzzzzzzzzzzzzzzzzzzzzzzz"},
	} {
		r := a.do(c, "POST", "/api/v1/subscriptions", body)
		a.expect(r, 404, "not_found")
		if r.str("error", "field") != field {
			t.Errorf("a missing %s: %s", field, r.Raw)
		}
	}
}

// TestMetersPageLikeEveryList: GET /api/v1/meters takes limit and
// starting_after and answers newest first with has_more (api.md's Lists).
func TestMetersPageLikeEveryList(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	meters := usagedb.New(a.env.DDB, a.env.Table(), 24*time.Hour)
	a.rt.Add((&httpapi.Meters{Service: &metering.Service{Store: meters, Customers: a.store, Log: logx.New(io.Discard, "error")}}).Routes()...)
	c := a.tenant("Acme").c()
	var made []string
	for _, name := range []string{"calls", "tokens", "users"} {
		r := a.do(c, "POST", "/api/v1/meters", map[string]any{"name": name, "event_name": name, "aggregation": "COUNT"})
		a.expect(r, 201, "")
		made = append(made, r.str("id"))
	}
	ids := func(r resp) []string {
		var out []string
		for _, m := range r.Body["data"].([]any) {
			out = append(out, m.(map[string]any)["id"].(string))
		}
		return out
	}
	first := a.do(c, "GET", "/api/v1/meters?limit=2", nil)
	a.expect(first, 200, "")
	if got := ids(first); len(got) != 2 || got[0] != made[2] || got[1] != made[1] || first.Body["has_more"] != true {
		t.Fatalf("first page: %v, want [%s %s] and has_more (%s)", got, made[2], made[1], first.Raw)
	}
	next := a.do(c, "GET", "/api/v1/meters?limit=2&starting_after="+made[1], nil)
	a.expect(next, 200, "")
	if got := ids(next); len(got) != 1 || got[0] != made[0] || next.Body["has_more"] != false {
		t.Fatalf("second page: %v, want [%s], no more (%s)", got, made[0], next.Raw)
	}
	if all := a.do(c, "GET", "/api/v1/meters", nil); len(ids(all)) != 3 || all.Body["has_more"] != false {
		t.Fatalf("default page: %s", all.Raw)
	}
	a.expect(a.do(c, "GET", "/api/v1/meters?limit=101", nil), 400, "validation_failed")
}
