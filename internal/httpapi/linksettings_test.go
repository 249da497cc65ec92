package httpapi_test

import "testing"

// The connection's payment link settings: on by default (seed 001), each
// one changed alone by PUT, shown by GET.
func TestConnectionPaymentLinkSettings(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c := a.tenant("Links").c()
	put := map[string]any{"key_id": "rzp_live_abc", "key_secret": "KeySecretValue0001a2b", "webhook_secret": "WebhookSecretValue9z9z"}
	r := a.do(c, "PUT", "/api/v1/connections/razorpay", put)
	a.expect(r, 201, "")
	pl := func(r resp) map[string]any { m, _ := r.Body["payment_links"].(map[string]any); return m }
	if m := pl(r); m["notify_email"] != true || m["notify_sms"] != true || m["reminders"] != true {
		t.Fatalf("defaults: %s", r.Raw)
	}
	put["payment_links"] = map[string]any{"notify_sms": false}
	a.do(c, "PUT", "/api/v1/connections/razorpay", put)
	put["payment_links"] = map[string]any{"reminders": false}
	a.do(c, "PUT", "/api/v1/connections/razorpay", put)
	g := a.do(c, "GET", "/api/v1/connections/razorpay", nil)
	if m := pl(g); m["notify_email"] != true || m["notify_sms"] != false || m["reminders"] != false {
		t.Fatalf("after two PUTs: %s", g.Raw)
	}
}
