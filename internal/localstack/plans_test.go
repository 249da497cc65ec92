package localstack_test

import (
	"testing"
)

// TestPlansAreVersioned: a plan with api.md's charges is made against a
// real meter; editing it makes version 2 while version 1 stays readable;
// bad charges are refused with the field at fault and write nothing.
func TestPlansAreVersioned(t *testing.T) {
	t.Parallel()
	s := start(t)
	m := s.must(s.call("POST", "/api/v1/meters", map[string]any{"name": "API calls", "event_name": "api_call", "aggregation": "COUNT"}), 201)
	charges := []any{
		map[string]any{"type": "FIXED", "display_name": "Platform fee", "amount": "4999", "period": "MONTHLY", "sac_code": "998314", "tax_rate": "18"},
		map[string]any{"type": "USAGE", "display_name": "API calls", "meter_id": m.s("id"), "model": "TIERED_GRADUATED",
			"tiers": []any{map[string]any{"up_to": "100000", "unit_amount": "0"}, map[string]any{"up_to": nil, "unit_amount": "0.0015"}}},
	}
	p := s.must(s.call("POST", "/api/v1/plans", map[string]any{"name": "Growth", "currency": "INR", "charges": charges}), 201)
	if p.Body["version"] != float64(1) || p.s("currency") != "inr" {
		t.Fatalf("plan: %s", p.Raw)
	}
	charges[0].(map[string]any)["amount"] = "5999"
	v2 := s.must(s.call("PUT", "/api/v1/plans/"+p.s("id"), map[string]any{"name": "Growth", "currency": "inr", "charges": charges}), 200)
	if v2.Body["version"] != float64(2) {
		t.Fatalf("edit: %s", v2.Raw)
	}
	v1 := s.must(s.call("GET", "/api/v1/plans/"+p.s("id")+"?version=1", nil), 200)
	if v1.Body["charges"].([]any)[0].(map[string]any)["amount"] != "4999.00" { // money with the currency's exponent
		t.Fatalf("version 1 changed: %s", v1.Raw)
	}
	if latest := s.must(s.call("GET", "/api/v1/plans/"+p.s("id"), nil), 200); latest.Body["version"] != float64(2) {
		t.Fatalf("latest: %s", latest.Raw)
	}
	if l := s.must(s.call("GET", "/api/v1/plans", nil), 200); len(l.Body["data"].([]any)) != 1 {
		t.Fatalf("list: %s", l.Raw)
	}
	for field, bad := range map[string]map[string]any{
		"charges[0].meter_id":       {"type": "USAGE", "display_name": "x", "meter_id": "mtr_01jzzzzzzzzzzzzzzzzzzzzzzz", "model": "PER_UNIT", "unit_amount": "1"},
		"charges[0].tiers":          {"type": "USAGE", "display_name": "x", "meter_id": m.s("id"), "model": "TIERED_VOLUME", "tiers": []any{map[string]any{"up_to": "10", "unit_amount": "1"}}},
		"charges[0].amount":         {"type": "FIXED", "display_name": "x", "amount": "49.999"},
		"charges[0].model":          {"type": "USAGE", "display_name": "x", "meter_id": m.s("id"), "model": "AVERAGE"},
		"charges[0].tax_rate":       {"type": "FIXED", "display_name": "x", "amount": "1", "tax_rate": "120"},
		"charges[0].tiers[0].up_to": {"type": "USAGE", "display_name": "x", "meter_id": m.s("id"), "model": "TIERED_GRADUATED", "tiers": []any{map[string]any{"up_to": "1e3", "unit_amount": "1"}, map[string]any{"up_to": nil, "unit_amount": "1"}}},
		"charges[0].package_size":   {"type": "USAGE", "display_name": "x", "meter_id": m.s("id"), "model": "PACKAGE", "package_size": "0", "package_amount": "5"},
	} {
		r := s.must(s.call("POST", "/api/v1/plans", map[string]any{"name": "Bad", "currency": "inr", "charges": []any{bad}}), 400)
		if r.s("error", "field") != field {
			t.Errorf("%s: %s", field, r.Raw)
		}
	}
	if l := s.must(s.call("GET", "/api/v1/plans", nil), 200); len(l.Body["data"].([]any)) != 1 {
		t.Fatalf("a refused plan was stored: %s", l.Raw)
	}
	s.must(s.call("GET", "/api/v1/plans/pln_01jzzzzzzzzzzzzzzzzzzzzzzz", nil), 404)
	s.must(s.call("GET", "/api/v1/plans/mtr_01jzzzzzzzzzzzzzzzzzzzzzzz", nil), 404)
}
