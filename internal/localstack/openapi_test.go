package localstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/openapicheck"
)

// openapiClient is the client every test's API calls go through: each
// request to apiURL and its response (errors too) are checked against
// docs/openapi.yaml, and a mismatch fails t naming the operation.
func openapiClient(t *testing.T, apiURL string) *http.Client {
	t.Helper()
	doc, err := openapicheck.Load(context.Background(), openapicheck.SpecPath())
	if err != nil {
		t.Fatal(err)
	}
	tr, err := openapicheck.NewTransport(doc, apiURL, nil, func(msg string) { t.Error(msg) })
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: tr}
}

// adminCall is one API call with the admin token, through the checked client.
func (s *stack) adminCall(method, path string, body any) resp {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.st.APIURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.st.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := s.st.Client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{Status: res.StatusCode, Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

// Every operation docs/openapi.yaml documents (but Razorpay's webhook, on
// the receiver's URL) is called once over real HTTP here, so each has a real
// request and response checked against the document, whatever the other
// tests happen to call.
func TestOpenAPIEveryOperationAgainstTheRealAPI(t *testing.T) {
	t.Parallel()
	s := start(t)
	// no API key, no token
	res, err := s.st.Client.Get(s.st.APIURL + "/health")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("health: %v %v", err, res)
	}
	res.Body.Close()

	// API keys: the tenant's own, then the admin's way in
	key := s.must(s.call("POST", "/api/v1/api-keys", map[string]any{"name": "ci", "environments": []string{s.dev.EnvironmentID}, "permissions": "read"}), 201)
	s.must(s.call("GET", "/api/v1/api-keys?limit=5", nil), 200)
	s.must(s.call("DELETE", "/api/v1/api-keys/"+key.s("id"), nil), 200)
	adminKey := s.must(s.adminCall("POST", "/api/v1/tenants/"+s.dev.TenantID+"/api-keys", map[string]any{"name": "rescue"}), 201)
	s.must(s.adminCall("GET", "/api/v1/tenants/"+s.dev.TenantID+"/api-keys", nil), 200)
	s.must(s.adminCall("DELETE", "/api/v1/tenants/"+s.dev.TenantID+"/api-keys/"+adminKey.s("id"), nil), 200)

	// GST settings
	taxPath := "/api/v1/environments/" + s.dev.EnvironmentID + "/tax"
	s.must(s.call("PUT", taxPath, map[string]any{"gstin": "29ABCDE1234F1ZW", "state": "KA", "default_rate": "18", "auto_finalize": true}), 200)
	s.must(s.call("GET", taxPath, nil), 200)

	// customers
	cus := s.customer("acct-openapi", "ravi@example.com")
	s.must(s.call("PATCH", "/api/v1/customers/"+cus, map[string]any{"name": "Ravi K", "metadata": map[string]any{"plan": "growth"}}), 200)
	s.must(s.call("GET", "/api/v1/customers?external_id=acct-openapi", nil), 200)
	s.must(s.call("GET", "/api/v1/customers?limit=2", nil), 200)
	s.must(s.call("POST", "/api/v1/customers/"+cus+"/sync", nil), 202)
	s.must(s.call("GET", "/api/v1/customers/"+cus, nil), 200)

	// invoices
	inv := s.finalized(cus, "inr")
	s.must(s.call("GET", "/api/v1/invoices?customer_id="+cus+"&status=FINALIZED", nil), 200)
	s.must(s.call("GET", "/api/v1/invoices/"+inv.s("id"), nil), 200)
	s.must(s.call("POST", "/api/v1/invoices/"+inv.s("id")+"/refresh", nil), 200)

	// payments: open a link, read it, refresh it, cancel it, then refund a
	// payment that has nothing to refund (an error is checked too)
	p := s.must(s.call("POST", "/api/v1/payments", payReq(inv, 100)), 201)
	s.must(s.call("GET", "/api/v1/payments?destination_id="+inv.s("id"), nil), 200)
	s.must(s.call("GET", "/api/v1/payments/"+p.s("id"), nil), 200)
	s.must(s.call("POST", "/api/v1/payments/"+p.s("id")+"/refresh", nil), 200)
	s.must(s.call("POST", "/api/v1/payments/"+p.s("id")+"/cancel", nil), 200)
	if r := s.call("POST", "/api/v1/payments/"+p.s("id")+"/refund", map[string]any{"amount": "50.00"}); r.Status != 409 && r.Status != 400 {
		t.Fatalf("refund of a cancelled payment: %d %s", r.Status, r.Raw)
	}
	s.must(s.call("GET", "/api/v1/payments/"+p.s("id")+"/refunds", nil), 200)

	// an invoice synced to Razorpay, then voided
	other := s.finalized(cus, "inr")
	s.must(s.call("POST", "/api/v1/invoices/"+other.s("id")+"/sync", nil), 202)
	s.must(s.call("POST", "/api/v1/invoices/"+other.s("id")+"/void", nil), 200)

	// parked events: the list, and a retry of an id that is not there
	s.must(s.call("GET", "/api/v1/gateway-events?status=UNMATCHED", nil), 200)
	s.must(s.call("POST", "/api/v1/gateway-events/gev_01jzzzzzzzzzzzzzzzzzzzzzzz/retry", nil), 404)

	// metering: a meter, an event, a bulk call, the events, usage, archive
	m := s.must(s.call("POST", "/api/v1/meters", map[string]any{"name": "Calls", "event_name": "api_call", "aggregation": "COUNT"}), 201)
	s.must(s.call("GET", "/api/v1/meters", nil), 200)
	s.must(s.call("GET", "/api/v1/meters/"+m.s("id"), nil), 200)
	at := time.Now().UTC().Truncate(time.Hour)
	s.must(s.call("POST", "/api/v1/events", map[string]any{"event_id": "oa-1", "event_name": "api_call", "customer_id": cus, "timestamp": at.Format(time.RFC3339)}), 202)
	s.must(s.call("POST", "/api/v1/events/bulk", map[string]any{"events": []any{
		map[string]any{"event_id": "oa-2", "event_name": "api_call", "customer_external_id": "acct-openapi", "timestamp": at.Format(time.RFC3339), "properties": map[string]any{"n": 1}},
		map[string]any{"event_id": "oa-3", "event_name": "nope", "customer_id": cus, "timestamp": at.Format(time.RFC3339)}}}), 202)
	window := "&start=" + at.Format(time.RFC3339) + "&end=" + at.Add(time.Hour).Format(time.RFC3339)
	s.must(s.call("GET", "/api/v1/events?customer_id="+cus+window, nil), 200)
	s.must(s.call("GET", "/api/v1/usage?meter_id="+m.s("id")+"&customer_id="+cus+window+"&window=HOUR", nil), 200)
	plan := s.must(s.call("POST", "/api/v1/plans", map[string]any{"name": "Growth", "currency": "inr", "charges": []any{
		map[string]any{"type": "FIXED", "display_name": "Platform fee", "amount": "4999", "period": "MONTHLY", "sac_code": "998314"},
		map[string]any{"type": "USAGE", "display_name": "Calls", "meter_id": m.s("id"), "model": "PACKAGE", "package_size": "1000", "package_amount": "5"}}}), 201)
	s.must(s.call("PUT", "/api/v1/plans/"+plan.s("id"), map[string]any{"name": "Growth 2", "currency": "inr", "charges": []any{
		map[string]any{"type": "FIXED", "display_name": "Platform fee", "amount": "5999"}}}), 200)
	s.must(s.call("GET", "/api/v1/plans/"+plan.s("id")+"?version=1", nil), 200)
	s.must(s.call("GET", "/api/v1/plans", nil), 200)
	sub := s.must(s.call("POST", "/api/v1/subscriptions", map[string]any{"customer_id": cus, "plan_id": plan.s("id"), "coupon": map[string]any{"percent_off": "10", "duration": "REPEATING", "periods": 3}}), 201)
	s.must(s.call("GET", "/api/v1/subscriptions/"+sub.s("id"), nil), 200)
	s.must(s.call("GET", "/api/v1/subscriptions/"+sub.s("id")+"/upcoming-invoice", nil), 200)
	s.must(s.call("POST", "/api/v1/subscriptions/"+sub.s("id")+"/change-plan", map[string]any{"plan_id": plan.s("id"), "plan_version": 1}), 200)
	s.must(s.call("POST", "/api/v1/subscriptions/"+sub.s("id")+"/cancel", map[string]any{"at": "PERIOD_END"}), 200)
	s.must(s.call("POST", "/api/v1/meters/"+m.s("id")+"/archive", nil), 200)

	// the connection last: revoke old webhook secrets, read it, disable it
	s.must(s.call("POST", "/api/v1/connections/razorpay/webhook-secret/revoke", nil), 200)
	s.must(s.call("GET", "/api/v1/connections/razorpay", nil), 200)
	s.must(s.call("DELETE", "/api/v1/connections/razorpay", nil), 200)

	doc, err := openapicheck.Load(context.Background(), openapicheck.SpecPath())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, op := range s.st.Client.Transport.(*openapicheck.Transport).Seen() {
		seen[op] = true
	}
	for _, op := range openapicheck.Operations(doc) {
		if !seen[op] && !strings.Contains(op, "/webhooks/") {
			t.Errorf("%s was not called", op)
		}
	}
}
