package httpapi_test

import (
	"testing"

	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/ids"
)

// Check characters worked out by hand in internal/billing/tax_test.go.
const (
	gstinKA = "29ABCDE1234F1ZW"
	gstinMH = "27AAPFU0939F1ZV"
)

func withTax(a *api) { a.rt.Add((&httpapi.Tax{Store: a.store}).Routes()...) }

func taxPath(env string) string { return "/api/v1/environments/" + env + "/tax" }

// TestTaxSettingsRoutes: GET shows the defaults until a PUT; a PUT replaces
// the whole settings and answers the view; bad input is a 400 naming the
// field and changes nothing; another environment's id (the tenant's other
// environment, another tenant's, an id of another kind) is 404 and changes
// nothing.
func TestTaxSettingsRoutes(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	withTax(a)
	acme := a.tenant("Acme")
	c := acme.c()

	r := a.do(c, "GET", taxPath(acme.prod), nil)
	a.expect(r, 200, "")
	if r.Body["gstin"] != nil || r.Body["state"] != nil || r.Body["default_rate"] != "18" || r.Body["auto_finalize"] != true || r.Body["updated_at"] != nil || r.str("environment_id") != acme.prod {
		t.Fatalf("defaults: %s", r.Raw)
	}

	r = a.do(c, "PUT", taxPath(acme.prod), map[string]any{"gstin": gstinKA, "state": "KA", "default_rate": "18", "auto_finalize": false})
	a.expect(r, 200, "")
	if r.str("gstin") != gstinKA || r.str("state") != "KA" || r.str("default_rate") != "18" || r.Body["auto_finalize"] != false || r.str("updated_at") == "" {
		t.Fatalf("put: %s", r.Raw)
	}
	stored := a.do(c, "GET", taxPath(acme.prod), nil)
	a.expect(stored, 200, "")
	if stored.Raw != r.Raw {
		t.Fatalf("get after put:\n%s\nwant\n%s", stored.Raw, r.Raw)
	}

	for name, tc := range map[string]struct {
		body        any
		code, field string
	}{
		"gstin of another state":      {map[string]any{"gstin": gstinMH, "state": "KA"}, "gstin_state_mismatch", "state"},
		"rate 150":                    {map[string]any{"state": "KA", "default_rate": "150"}, "validation_failed", "default_rate"},
		"rate with 3 decimals":        {map[string]any{"state": "KA", "default_rate": 18.125}, "validation_failed", "default_rate"},
		"rate of another type":        {map[string]any{"state": "KA", "default_rate": true}, "validation_failed", "default_rate"},
		"unknown state":               {map[string]any{"state": "XY"}, "invalid_state", "state"},
		"auto_finalize not a boolean": {`{"state": "KA", "auto_finalize": "no"}`, "", "auto_finalize"},
		"unknown field":               {`{"state": "KA", "gst_rate": "18"}`, "", ""},
	} {
		r := a.do(c, "PUT", taxPath(acme.prod), tc.body)
		if r.Status != 400 || (tc.code != "" && r.code() != tc.code) || (tc.field != "" && r.str("error", "field") != tc.field) {
			t.Errorf("%s: %d %s; want 400 %s on %s", name, r.Status, r.Raw, tc.code, tc.field)
		}
		if now := a.do(c, "GET", taxPath(acme.prod), nil); now.Raw != stored.Raw {
			t.Fatalf("%s changed the settings: %s", name, now.Raw)
		}
	}

	other := a.tenant("Other")
	for name, env := range map[string]string{"own sandbox": acme.sandbox, "another tenant's": other.prod, "a customer id": ids.New(ids.Customer), "no id": "env_"} {
		for _, m := range []string{"PUT", "GET"} {
			if r := a.do(c, m, taxPath(env), map[string]any{"state": "MH"}); r.Status != 404 || r.code() != "not_found" {
				t.Errorf("%s %s: %d %s; want 404 not_found", m, name, r.Status, r.Raw)
			}
		}
	}
	if r := a.do(creds{key: acme.key, env: acme.sandbox}, "GET", taxPath(acme.sandbox), nil); r.Status != 200 || r.Body["state"] != nil {
		t.Fatalf("sandbox changed: %s", r.Raw)
	}
	if r := a.do(other.c(), "GET", taxPath(other.prod), nil); r.Status != 200 || r.Body["state"] != nil {
		t.Fatalf("other tenant changed: %s", r.Raw)
	}
	if now := a.do(c, "GET", taxPath(acme.prod), nil); now.Raw != stored.Raw {
		t.Fatalf("a 404 changed the settings: %s", now.Raw)
	}

	// A whole replace: what is left out takes its default; the state may
	// come from the GSTIN; a rate may be a JSON number.
	r = a.do(c, "PUT", taxPath(acme.prod), map[string]any{"state": "mh"})
	a.expect(r, 200, "")
	if r.Body["gstin"] != nil || r.str("state") != "MH" || r.str("default_rate") != "18" || r.Body["auto_finalize"] != true {
		t.Fatalf("replace: %s", r.Raw)
	}
	r = a.do(c, "PUT", taxPath(acme.prod), `{"gstin": "27aapfu0939f1zv", "default_rate": 12.50}`)
	a.expect(r, 200, "")
	if r.str("gstin") != gstinMH || r.str("state") != "MH" || r.str("default_rate") != "12.5" {
		t.Fatalf("state from gstin: %s", r.Raw)
	}
	// An environment without a GSTIN turns auto-finalize off alone: no
	// supplier state, as before its first PUT.
	r = a.do(c, "PUT", taxPath(acme.prod), map[string]any{"auto_finalize": false})
	a.expect(r, 200, "")
	if r.Body["gstin"] != nil || r.Body["state"] != nil || r.str("default_rate") != "18" || r.Body["auto_finalize"] != false {
		t.Fatalf("auto_finalize alone: %s", r.Raw)
	}
}

// TestCustomerGSTFields: a customer takes a gstin and a billing_state on
// create and PATCH, shown upper-case (null when unset); a bad GSTIN, an
// unknown state or a GSTIN of another state than the billing state is a 400
// naming the field and creates or changes nothing; "" clears.
func TestCustomerGSTFields(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	acme := a.tenant("Acme")
	c := acme.c()

	plain := customer(a, c, "gst-plain")
	if r := a.do(c, "GET", "/api/v1/customers/"+plain, nil); r.Body["gstin"] != nil || r.Body["billing_state"] != nil {
		t.Fatalf("unset fields: %s", r.Raw)
	}
	if _, ok := a.do(c, "GET", "/api/v1/customers/"+plain, nil).Body["gstin"]; !ok {
		t.Fatal("the view has no gstin")
	}

	r := a.do(c, "POST", "/api/v1/customers", map[string]any{"external_id": "gst-1", "name": "Asha", "gstin": " 27aapfu0939f1zv", "billing_state": "mh"})
	a.expect(r, 201, "")
	if r.str("gstin") != gstinMH || r.str("billing_state") != "MH" {
		t.Fatalf("create: %s", r.Raw)
	}
	id := r.str("id")
	r = a.do(c, "POST", "/api/v1/customers", map[string]any{"external_id": "gst-2", "gstin": gstinKA})
	a.expect(r, 201, "")
	if r.str("gstin") != gstinKA || r.Body["billing_state"] != nil {
		t.Fatalf("gstin only: %s", r.Raw)
	}

	for name, tc := range map[string]struct {
		body        map[string]any
		code, field string
	}{
		"no Z":           {map[string]any{"external_id": "gst-bad-1", "gstin": "27AAPFU0939F1YV"}, "invalid_gstin", "gstin"},
		"state mismatch": {map[string]any{"external_id": "gst-bad-2", "gstin": gstinKA, "billing_state": "TN"}, "gstin_state_mismatch", "billing_state"},
		"unknown state":  {map[string]any{"external_id": "gst-bad-3", "billing_state": "Karnataka"}, "invalid_state", "billing_state"},
		"short gstin":    {map[string]any{"external_id": "gst-bad-4", "gstin": "29ABCDE1234"}, "invalid_gstin", "gstin"},
	} {
		r := a.do(c, "POST", "/api/v1/customers", tc.body)
		if r.Status != 400 || r.code() != tc.code || r.str("error", "field") != tc.field {
			t.Errorf("%s: %d %s; want 400 %s on %s", name, r.Status, r.Raw, tc.code, tc.field)
		}
		if l := a.do(c, "GET", "/api/v1/customers?external_id="+tc.body["external_id"].(string), nil); len(l.Body["data"].([]any)) != 0 {
			t.Errorf("%s created a customer: %s", name, l.Raw)
		}
	}

	before := a.do(c, "GET", "/api/v1/customers/"+id, nil).Raw
	for name, tc := range map[string]struct {
		body        map[string]any
		code, field string
	}{
		"billing state against the stored gstin": {map[string]any{"billing_state": "KA"}, "gstin_state_mismatch", "billing_state"},
		"gstin against the stored billing state": {map[string]any{"gstin": gstinKA}, "gstin_state_mismatch", "billing_state"},
		"bad gstin":                              {map[string]any{"gstin": "27AAPFU0939F1Z", "name": "Changed"}, "invalid_gstin", "gstin"},
	} {
		r := a.do(c, "PATCH", "/api/v1/customers/"+id, tc.body)
		if r.Status != 400 || r.code() != tc.code || r.str("error", "field") != tc.field {
			t.Errorf("%s: %d %s; want 400 %s on %s", name, r.Status, r.Raw, tc.code, tc.field)
		}
		if now := a.do(c, "GET", "/api/v1/customers/"+id, nil).Raw; now != before {
			t.Fatalf("%s changed the customer: %s", name, now)
		}
	}
	// both moved together, then cleared one at a time
	r = a.do(c, "PATCH", "/api/v1/customers/"+id, map[string]any{"gstin": gstinKA, "billing_state": "ka"})
	a.expect(r, 200, "")
	if r.str("gstin") != gstinKA || r.str("billing_state") != "KA" {
		t.Fatalf("patch both: %s", r.Raw)
	}
	r = a.do(c, "PATCH", "/api/v1/customers/"+id, map[string]any{"gstin": ""})
	a.expect(r, 200, "")
	if r.Body["gstin"] != nil || r.str("billing_state") != "KA" {
		t.Fatalf("clear gstin: %s", r.Raw)
	}
	r = a.do(c, "PATCH", "/api/v1/customers/"+id, map[string]any{"billing_state": "DL", "name": "Asha K"})
	a.expect(r, 200, "")
	if r.str("billing_state") != "DL" || r.str("name") != "Asha K" {
		t.Fatalf("move state: %s", r.Raw)
	}
	r = a.do(c, "PATCH", "/api/v1/customers/"+id, map[string]any{"billing_state": ""})
	a.expect(r, 200, "")
	if r.Body["gstin"] != nil || r.Body["billing_state"] != nil {
		t.Fatalf("clear state: %s", r.Raw)
	}
}
