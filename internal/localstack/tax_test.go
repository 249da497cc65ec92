package localstack_test

import (
	"testing"
)

// TestTaxSettingsAndCustomerGSTThroughTheAPI: over the real API and
// DynamoDB Local, an environment's GST settings default, are set with a
// GSTIN whose check character is right (29ABCDE1234F1ZW: see
// internal/billing/tax_test.go for the hand computation), and customers
// take a GSTIN and a place of supply; each bad input — a GSTIN of another
// state, a rate of 150, an unknown state, a malformed GSTIN — is a 400
// naming the field and changes nothing. api.md's example GSTIN, whose check
// character is wrong, is accepted with a warning.
func TestTaxSettingsAndCustomerGSTThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := start(t)
	path := "/api/v1/environments/" + s.dev.EnvironmentID + "/tax"

	d := s.must(s.call("GET", path, nil), 200)
	if d.Body["gstin"] != nil || d.Body["state"] != nil || d.s("default_rate") != "18" || d.Body["auto_finalize"] != true {
		t.Fatalf("defaults: %s", d.Raw)
	}
	set := s.must(s.call("PUT", path, map[string]any{"gstin": "29ABCDE1234F1ZW", "state": "KA", "default_rate": "18", "auto_finalize": true}), 200)
	if set.s("gstin") != "29ABCDE1234F1ZW" || set.s("state") != "KA" || set.s("default_rate") != "18" || set.Body["auto_finalize"] != true {
		t.Fatalf("put: %s", set.Raw)
	}
	stored := s.must(s.call("GET", path, nil), 200)
	if stored.Raw != set.Raw {
		t.Fatalf("get %s; want %s", stored.Raw, set.Raw)
	}
	for name, tc := range map[string]struct {
		body        map[string]any
		code, field string
	}{
		"malformed gstin": {map[string]any{"gstin": "29ABCDE1234F1X5", "state": "KA"}, "invalid_gstin", "gstin"},
		"state mismatch":  {map[string]any{"gstin": "29ABCDE1234F1ZW", "state": "MH"}, "gstin_state_mismatch", "state"},
		"rate 150":        {map[string]any{"state": "KA", "default_rate": "150"}, "validation_failed", "default_rate"},
		"unknown state":   {map[string]any{"state": "QQ"}, "invalid_state", "state"},
	} {
		r := s.call("PUT", path, tc.body)
		if r.Status != 400 || r.s("error", "code") != tc.code || r.s("error", "field") != tc.field {
			t.Errorf("%s: %d %s; want 400 %s on %s", name, r.Status, r.Raw, tc.code, tc.field)
		}
		if now := s.must(s.call("GET", path, nil), 200); now.Raw != stored.Raw {
			t.Fatalf("%s changed the settings: %s", name, now.Raw)
		}
	}
	if set.Body["gstin_warning"] != nil {
		t.Fatalf("a right GSTIN with a warning: %s", set.Raw)
	}
	// api.md's example: accepted, the wrong check character shown.
	example := s.must(s.call("PUT", path, map[string]any{"gstin": "29ABCDE1234F1Z5", "state": "KA"}), 200)
	if example.s("gstin") != "29ABCDE1234F1Z5" || example.s("gstin_warning") == "" {
		t.Fatalf("api.md's example: %s", example.Raw)
	}
	if r := s.call("GET", "/api/v1/environments/env_01jzzzzzzzzzzzzzzzzzzzzzzz/tax", nil); r.Status != 404 {
		t.Fatalf("another environment: %d %s", r.Status, r.Raw)
	}

	// customers: a GSTIN of Maharashtra with its place of supply, one with a
	// place of supply only, and the refusals
	mh := s.must(s.call("POST", "/api/v1/customers", map[string]any{"external_id": "gst-mh", "name": "Asha", "gstin": "27AAPFU0939F1ZV", "billing_state": "MH"}), 201)
	if mh.s("gstin") != "27AAPFU0939F1ZV" || mh.s("billing_state") != "MH" {
		t.Fatalf("customer: %s", mh.Raw)
	}
	if got := s.must(s.call("GET", "/api/v1/customers/"+mh.s("id"), nil), 200); got.s("gstin") != "27AAPFU0939F1ZV" || got.s("billing_state") != "MH" {
		t.Fatalf("read back: %s", got.Raw)
	}
	ka := s.must(s.call("POST", "/api/v1/customers", map[string]any{"external_id": "gst-ka", "billing_state": "ka"}), 201)
	if ka.Body["gstin"] != nil || ka.s("billing_state") != "KA" {
		t.Fatalf("customer: %s", ka.Raw)
	}
	for name, tc := range map[string]struct {
		body        map[string]any
		code, field string
	}{
		"no state code":  {map[string]any{"external_id": "gst-bad", "gstin": "99AAPFU0939F1ZA"}, "invalid_gstin", "gstin"},
		"state mismatch": {map[string]any{"external_id": "gst-bad", "gstin": "27AAPFU0939F1ZV", "billing_state": "KA"}, "gstin_state_mismatch", "billing_state"},
		"unknown state":  {map[string]any{"external_id": "gst-bad", "billing_state": "IN"}, "invalid_state", "billing_state"},
	} {
		r := s.call("POST", "/api/v1/customers", tc.body)
		if r.Status != 400 || r.s("error", "code") != tc.code || r.s("error", "field") != tc.field {
			t.Errorf("%s: %d %s; want 400 %s on %s", name, r.Status, r.Raw, tc.code, tc.field)
		}
	}
	if l := s.must(s.call("GET", "/api/v1/customers?external_id=gst-bad", nil), 200); len(l.Body["data"].([]any)) != 0 {
		t.Fatalf("a refused customer was created: %s", l.Raw)
	}
	before := s.must(s.call("GET", "/api/v1/customers/"+mh.s("id"), nil), 200).Raw
	if r := s.call("PATCH", "/api/v1/customers/"+mh.s("id"), map[string]any{"billing_state": "KA"}); r.Status != 400 || r.s("error", "code") != "gstin_state_mismatch" {
		t.Fatalf("patch mismatch: %d %s", r.Status, r.Raw)
	}
	if now := s.must(s.call("GET", "/api/v1/customers/"+mh.s("id"), nil), 200).Raw; now != before {
		t.Fatalf("a refused PATCH changed the customer: %s", now)
	}
	p := s.must(s.call("PATCH", "/api/v1/customers/"+ka.s("id"), map[string]any{"gstin": "29AAPFU0939F1ZR"}), 200)
	if p.s("gstin") != "29AAPFU0939F1ZR" || p.s("billing_state") != "KA" {
		t.Fatalf("patch: %s", p.Raw)
	}
}
