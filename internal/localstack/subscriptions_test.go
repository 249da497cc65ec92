package localstack_test

import (
	"fmt"
	"testing"
	"time"
)

// TestUpcomingInvoiceFromUsage: a customer on a plan (₹4,999 a month billed
// in advance, ₹0.50 per API call in arrears, 18 % GST) sends 10 events;
// the upcoming invoice shows them and the next period's fee, with GST per
// line, and writes nothing. Cancel at period end leaves no fee for the next
// period; cancel now ends it.
func TestUpcomingInvoiceFromUsage(t *testing.T) {
	t.Parallel()
	s := start(t)
	m := s.must(s.call("POST", "/api/v1/meters", map[string]any{"name": "API calls", "event_name": "api_call", "aggregation": "COUNT"}), 201)
	plan := s.must(s.call("POST", "/api/v1/plans", map[string]any{"name": "Growth", "currency": "inr", "charges": []any{
		map[string]any{"type": "FIXED", "display_name": "Platform fee", "amount": "4999", "period": "MONTHLY", "sac_code": "998314"},
		map[string]any{"type": "USAGE", "display_name": "API calls", "meter_id": m.s("id"), "model": "PER_UNIT", "unit_amount": "0.5"}}}), 201)
	cus := s.customer("acct-sub", "sub@example.com")
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	sub := s.must(s.call("POST", "/api/v1/subscriptions", map[string]any{"customer_id": cus, "plan_id": plan.s("id"),
		"start": today.Format(time.RFC3339), "billing_period": "MONTHLY", "anchor_day": today.Day()}), 201)
	if sub.s("current_period_start") != today.Format(time.RFC3339) || sub.s("status") != "ACTIVE" {
		t.Fatalf("subscription: %s", sub.Raw)
	}
	// Events without properties (a COUNT meter needs none).
	var evs []any
	for i := range 10 {
		evs = append(evs, map[string]any{"event_id": fmt.Sprintf("sub-%d", i), "event_name": "api_call", "customer_id": cus, "timestamp": now.Format(time.RFC3339)})
	}
	if r := s.must(s.call("POST", "/api/v1/events/bulk", map[string]any{"events": evs}), 202); r.Body["accepted"] != float64(10) {
		t.Fatalf("bulk: %s", r.Raw)
	}
	path := "/api/v1/subscriptions/" + sub.s("id") + "/upcoming-invoice"
	// 10 × 0.50 = 5.00 now + 4,999.00 for the next period = 5,004.00;
	// CGST 9 %: 0.45 + 449.91 = 450.36, SGST the same; total 5,904.72.
	s.eventually("usage in the preview", func() bool {
		r := s.must(s.call("GET", path, nil), 200)
		return r.s("subtotal") == "5004.00"
	})
	up := s.must(s.call("GET", path, nil), 200)
	if up.s("total") != "5904.72" || len(up.Body["tax_lines"].([]any)) != 2 || up.Body["tax_lines"].([]any)[0].(map[string]any)["amount"] != "450.36" {
		t.Fatalf("upcoming invoice: %s", up.Raw)
	}
	// An invoice's names too: line_items (with price_type) and amount_due.
	if items, ok := up.Body["line_items"].([]any); !ok || len(items) != len(up.Body["lines"].([]any)) || up.s("amount_due") != "5904.72" ||
		items[0].(map[string]any)["price_type"] != items[0].(map[string]any)["type"] {
		t.Fatalf("upcoming invoice as an invoice names it: %s", up.Raw)
	}
	// A plan change at the period's end: the preview bills this period's
	// usage on the old plan and the next period's fee on the new one.
	scale := s.must(s.call("POST", "/api/v1/plans", map[string]any{"name": "Scale", "currency": "inr", "charges": []any{
		map[string]any{"type": "FIXED", "display_name": "Scale fee", "amount": "9999", "period": "MONTHLY"}}}), 201)
	usd := s.must(s.call("POST", "/api/v1/plans", map[string]any{"name": "Dollar", "currency": "usd", "charges": []any{
		map[string]any{"type": "FIXED", "display_name": "Fee", "amount": "99", "period": "MONTHLY"}}}), 201)
	change := "/api/v1/subscriptions/" + sub.s("id") + "/change-plan"
	if r := s.must(s.call("POST", change, map[string]any{"plan_id": usd.s("id")}), 400); r.s("error", "code") != "currency_mismatch" || r.s("error", "field") != "plan_id" {
		t.Errorf("currency_mismatch: %s", r.Raw)
	}
	// A plan that does not exist is 404, as a missing invoice customer is.
	if r := s.must(s.call("POST", change, map[string]any{"plan_id": "pln_01jzzzzzzzzzzzzzzzzzzzzzzz"}), 404); r.s("error", "code") != "not_found" || r.s("error", "field") != "plan_id" {
		t.Errorf("a missing plan: %s", r.Raw)
	}
	if r := s.must(s.call("POST", change, map[string]any{"plan_id": scale.s("id"), "at": "NOW"}), 400); r.s("error", "field") != "at" {
		t.Errorf("at NOW: %s", r.Raw)
	}
	if r := s.must(s.call("POST", change, map[string]any{"plan_id": scale.s("id")}), 200); r.s("pending_plan", "plan_id") != scale.s("id") ||
		r.s("pending_plan", "from") != r.s("current_period_end") {
		t.Fatalf("change: %s", r.Raw)
	}
	if up := s.must(s.call("GET", path, nil), 200); up.s("subtotal") != "10004.00" {
		t.Fatalf("the preview after the change: %s", up.Raw)
	}
	// Nothing was written: the customer's only invoice can be the period
	// close's opening one (this period's fee), never the preview's.
	if l := s.must(s.call("GET", "/api/v1/invoices?customer_id="+cus, nil), 200); len(l.Body["data"].([]any)) > 1 ||
		(len(l.Body["data"].([]any)) == 1 && l.Body["data"].([]any)[0].(map[string]any)["metadata"].(map[string]any)["billing_step"] != "0") {
		t.Fatalf("the preview wrote an invoice: %s", l.Raw)
	}
	c := s.must(s.call("POST", "/api/v1/subscriptions/"+sub.s("id")+"/cancel", map[string]any{"at": "PERIOD_END"}), 200)
	if c.s("cancel_at") != c.s("current_period_end") {
		t.Fatalf("cancel at period end: %s", c.Raw)
	}
	if up := s.must(s.call("GET", path, nil), 200); up.s("subtotal") != "5.00" {
		t.Fatalf("ending with this period, the next period's fee is not billed: %s", up.Raw)
	}
	s.must(s.call("POST", "/api/v1/subscriptions/"+sub.s("id")+"/cancel", map[string]any{"at": "NOW"}), 200)
	s.must(s.call("GET", path, nil), 409)
	s.must(s.call("POST", "/api/v1/subscriptions/"+sub.s("id")+"/cancel", map[string]any{"at": "NOW"}), 409)
	// Bad input changes nothing: a plan or customer that does not exist is
	// 404 on its field (as an invoice's missing customer is), the rest 400.
	for field, body := range map[string]map[string]any{
		"plan_id":     {"customer_id": cus, "plan_id": "pln_01jzzzzzzzzzzzzzzzzzzzzzzz"},
		"customer_id": {"customer_id": "cus_01jzzzzzzzzzzzzzzzzzzzzzzz", "plan_id": plan.s("id")},
	} {
		if r := s.must(s.call("POST", "/api/v1/subscriptions", body), 404); r.s("error", "field") != field {
			t.Errorf("%s: %s", field, r.Raw)
		}
	}
	for field, body := range map[string]map[string]any{
		"billing_period": {"customer_id": cus, "plan_id": plan.s("id"), "billing_period": "ANNUAL"},
		"anchor_day":     {"customer_id": cus, "plan_id": plan.s("id"), "anchor_day": 32},
		"coupon":         {"customer_id": cus, "plan_id": plan.s("id"), "coupon": map[string]any{"duration": "ONCE"}},
	} {
		if r := s.must(s.call("POST", "/api/v1/subscriptions", body), 400); r.s("error", "field") != field {
			t.Errorf("%s: %s", field, r.Raw)
		}
	}
}
