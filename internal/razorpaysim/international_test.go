package razorpaysim_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// Issue 14 row 7: non-INR invoices, links and orders need international
// payments on the account. Accounts have them on by default; switched off
// (control route), Razorpay's 400 refuses them while INR still works, and
// the client's probe reports it.
func TestInternationalPaymentsSwitch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	client := razorpay.NewClient(razorpay.Config{BaseURL: e.srv.URL, MaxRetries: -1})
	cr := razorpay.Credentials{KeyID: e.acct.KeyID, KeySecret: e.acct.KeySecret}
	if on, err := client.InternationalEnabled(context.Background(), cr); err != nil || !on {
		t.Fatalf("default account: international %v %v, want on", on, err)
	}
	if a := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "currency": "USD", "reference_id": "usd-on"}); a.status != 200 {
		t.Fatalf("USD link with international on: %d %s", a.status, a.raw)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/_sim/accounts/"+e.acct.KeyID+"/international", strings.NewReader(`{"on":false}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("control route: %v %v", resp, err)
	}
	c := e.call(t, "POST", "/v1/customers", map[string]any{"name": "Intl", "email": "intl@example.com", "contact": "+919000000071"}).json(t)
	for what, a := range map[string]answer{
		"link": e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "currency": "USD", "reference_id": "usd-off"}),
		"invoice": e.call(t, "POST", "/v1/invoices", map[string]any{"type": "invoice", "customer_id": c["id"], "currency": "USD",
			"line_items": []any{map[string]any{"name": "x", "amount": 1000, "currency": "USD", "quantity": 1}}}),
	} {
		if a.status != 400 {
			t.Fatalf("USD %s with international off: %d %s", what, a.status, a.raw)
		}
		if desc, field := errBody(t, a); !strings.Contains(desc, "international activated") || field != "currency" {
			t.Fatalf("USD %s refusal: %q %q", what, desc, field)
		}
	}
	if a := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "currency": "INR", "reference_id": "inr-off"}); a.status != 200 {
		t.Fatalf("INR link with international off: %d %s", a.status, a.raw)
	}
	if on, err := client.InternationalEnabled(context.Background(), cr); err != nil || on {
		t.Fatalf("switched off: international %v %v, want off", on, err)
	}
	if err := e.sim.SetInternational(e.acct.KeyID, true); err != nil {
		t.Fatal(err)
	}
	if on, err := client.InternationalEnabled(context.Background(), cr); err != nil || !on {
		t.Fatalf("switched on again: %v %v", on, err)
	}
}
