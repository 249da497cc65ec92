package localstack_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// The console's actions go through the API: its Idempotency-Key, its
// rules and its error codes, each error shown next to its field.
func TestConsoleActionsGoThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := start(t)
	cus := s.customer("acct-actions", "kiran@example.com")
	inv := s.finalized(cus, "inr")
	c := s.consoleClient()
	csrf := c.signIn(s.dev.APIKey, s.dev.EnvironmentID)

	// Customers: search by external id and by email.
	if p := c.do("GET", "/console/customers?external_id=acct-actions", nil); !strings.Contains(p.HTML, "/console/customers/"+cus) {
		t.Errorf("search by external id: %.400s", p.HTML)
	}
	if p := c.do("GET", "/console/customers?email=KIRAN@", nil); !strings.Contains(p.HTML, "/console/customers/"+cus) {
		t.Errorf("search by email: %.400s", p.HTML)
	}
	if p := c.do("GET", "/console/customers?email=nobody@", nil); strings.Contains(p.HTML, "/console/customers/"+cus) {
		t.Error("an email search shows a customer with another email")
	}
	// Sync now.
	if p := c.do("POST", "/console/customers/"+cus+"/sync", url.Values{"csrf": {csrf}, "idem": {"console-sync-1"}}); p.Status != http.StatusSeeOther || p.Location != "/console/customers/"+cus+"?done=synced" {
		t.Fatalf("sync now: %d %s %.400s", p.Status, p.Location, p.HTML)
	}
	s.eventually("customer synced", func() bool {
		return s.call("GET", "/api/v1/customers/"+cus, nil).s("razorpay", "sync_status") == "SYNCED"
	})
	if p := c.do("GET", "/console/customers/"+cus, nil); !strings.Contains(p.HTML, `id="rzp-customer-id">cust_`) {
		t.Errorf("the customer page does not show the Razorpay id: %.2000s", p.HTML)
	}

	// A payment link: the form's Idempotency-Key makes a double submit one link.
	link := url.Values{"csrf": {csrf}, "idem": {"console-link-1"}}
	for i := range 2 {
		if p := c.do("POST", "/console/invoices/"+inv.s("id")+"/payment-link", link); p.Status != http.StatusSeeOther {
			t.Fatalf("payment link (submit %d): %d %.600s", i+1, p.Status, p.HTML)
		}
	}
	pays, _ := s.call("GET", "/api/v1/payments?destination_id="+inv.s("id"), nil).Body["data"].([]any)
	if len(pays) != 1 {
		t.Fatalf("%d payments after a double submit", len(pays))
	}
	pay := pays[0].(map[string]any)
	payID := pay["id"].(string)
	// A new request while that link is open is the API's 409, in words.
	if p := c.do("POST", "/console/invoices/"+inv.s("id")+"/payment-link", url.Values{"csrf": {csrf}, "idem": {"console-link-2"}}); p.Status != http.StatusConflict || !strings.Contains(p.HTML, "payment_link_exists") {
		t.Errorf("a second link: %d %.600s", p.Status, p.HTML)
	}
	// Cancel that link in the console (Razorpay cancels it), then make another.
	if p := c.do("POST", "/console/payments/"+payID+"/cancel", url.Values{"csrf": {csrf}, "idem": {"console-cancel-link"}}); p.Status != http.StatusSeeOther || p.Location != "/console/payments/"+payID+"?done=pcanceled" {
		t.Fatalf("cancel the link: %d %s %.600s", p.Status, p.Location, p.HTML)
	}
	if st := s.call("GET", "/api/v1/payments/"+payID, nil).s("payment_status"); st != "CANCELLED" {
		t.Fatalf("after cancel: %s", st)
	}
	if p := c.do("POST", "/console/invoices/"+inv.s("id")+"/payment-link", url.Values{"csrf": {csrf}, "idem": {"console-link-3"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("a new link after the cancel: %d %.600s", p.Status, p.HTML)
	}
	pays, _ = s.call("GET", "/api/v1/payments?destination_id="+inv.s("id"), nil).Body["data"].([]any)
	if len(pays) != 2 {
		t.Fatalf("%d payments after cancel and a new link", len(pays))
	}
	pay = pays[0].(map[string]any)
	payID = pay["id"].(string)
	if p := c.do("POST", "/console/payments/"+payID+"/refresh", url.Values{"csrf": {csrf}, "idem": {"console-refresh"}}); p.Status != http.StatusSeeOther {
		t.Errorf("refresh: %d %.600s", p.Status, p.HTML)
	}
	if _, err := s.st.Sim.PayPaymentLink(pay["gateway_tracking_id"].(string), razorpaysim.PayOptions{Method: "upi"}); err != nil {
		t.Fatal(err)
	}
	s.eventually("payment SUCCEEDED", func() bool {
		return s.call("GET", "/api/v1/payments/"+payID, nil).s("payment_status") == "SUCCEEDED"
	})
	if p := c.do("GET", "/console/invoices/"+inv.s("id"), nil); !strings.Contains(p.HTML, `id="payment-status">SUCCEEDED`) {
		t.Errorf("the invoice page does not show SUCCEEDED: %.1500s", p.HTML)
	}
	// The invoice list filters by status (the API's filter and its 400).
	for status, want := range map[string]bool{"SUCCEEDED": true, "FINALIZED": true, "DRAFT": false, "": true} {
		if p := c.do("GET", "/console/invoices?status="+status, nil); p.Status != 200 || strings.Contains(p.HTML, "/console/invoices/"+inv.s("id")) != want {
			t.Errorf("invoices with status %q: %d, listed %v", status, p.Status, !want)
		}
	}
	if p := c.do("GET", "/console/invoices?status=BOGUS", nil); p.Status != http.StatusBadRequest || !strings.Contains(p.HTML, "not an invoice or payment status") {
		t.Errorf("a bad status filter: %d %.600s", p.Status, p.HTML)
	}
	// Void of a paid invoice: the API's refusal.
	if p := c.do("POST", "/console/invoices/"+inv.s("id")+"/void", url.Values{"csrf": {csrf}, "idem": {"console-void"}}); p.Status != http.StatusConflict || !strings.Contains(p.HTML, `role="alert"`) {
		t.Errorf("void of a paid invoice: %d %.600s", p.Status, p.HTML)
	}

	// Refunds: too much is refused next to the amount; a part is sent once.
	if p := c.do("POST", "/console/payments/"+payID+"/refund", url.Values{"csrf": {csrf}, "idem": {"console-refund-bad"}, "amount": {"100.01"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.HTML, `id="amount-error"`) || !strings.Contains(p.HTML, `value="100.01"`) {
		t.Errorf("a refund above the payment: %d %.3000s", p.Status, p.HTML)
	}
	refund := url.Values{"csrf": {csrf}, "idem": {"console-refund-1"}, "amount": {"40.00"}, "reason": {"goodwill"}}
	for range 2 {
		if p := c.do("POST", "/console/payments/"+payID+"/refund", refund); p.Status != http.StatusSeeOther {
			t.Fatalf("refund: %d %.600s", p.Status, p.HTML)
		}
	}
	if rf, _ := s.call("GET", "/api/v1/payments/"+payID+"/refunds", nil).Body["data"].([]any); len(rf) != 1 {
		t.Fatalf("%d refunds after a double submit", len(rf))
	}
	if p := c.do("GET", "/console/payments/"+payID, nil); !strings.Contains(p.HTML, "Refund rfd_") {
		t.Errorf("the payment page does not list the refund: %.2000s", p.HTML)
	}

	// Gateway events: an unmatched event is listed with its reason and payload, and retried.
	body := `{"entity":"event","account_id":"` + s.st.Sim.DefaultAccount().ID + `","event":"payment.captured","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_CONSOLE1","amount":100,"currency":"INR","status":"captured","notes":[]}}},"created_at":1795400000}`
	u := fmt.Sprintf("%s/api/v1/webhooks/razorpay/%s/%s", s.st.WebhookBaseURL, s.dev.TenantID, s.dev.EnvironmentID)
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	req.Header.Set("X-Razorpay-Signature", razorpay.Sign([]byte(body), s.dev.WebhookSecret))
	req.Header.Set("X-Razorpay-Event-Id", "evt_console_parked")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("webhook: %v %v", err, res)
	}
	res.Body.Close()
	var evID string
	s.eventually("event parked", func() bool {
		parked, _ := s.call("GET", "/api/v1/gateway-events?status=UNMATCHED", nil).Body["data"].([]any)
		if len(parked) == 1 {
			evID = parked[0].(map[string]any)["id"].(string)
		}
		return evID != ""
	})
	ev := s.call("GET", "/api/v1/gateway-events?status=UNMATCHED", nil).Body["data"].([]any)[0].(map[string]any)
	p := c.do("GET", "/console/gateway-events", nil)
	if !strings.Contains(p.HTML, evID) || !strings.Contains(p.HTML, "pay_CONSOLE1") || !strings.Contains(p.HTML, ev["reason"].(string)) {
		t.Errorf("the events page: %.3000s", p.HTML)
	}
	if p := c.do("POST", "/console/gateway-events/"+evID+"/retry", url.Values{"csrf": {csrf}, "idem": {"console-retry"}}); p.Status != http.StatusSeeOther || p.Location != "/console/gateway-events?done=retried" {
		t.Errorf("retry: %d %s %.400s", p.Status, p.Location, p.HTML)
	}

	// Rotate the webhook secret: the new one is shown once, then only its hint.
	rot := c.do("POST", "/console/connection", url.Values{"csrf": {csrf}, "name": {"Razorpay simulator"}, "key_id": {s.dev.KeyID},
		"customer_sync": {"ON_DEMAND"}, "generate_webhook_secret": {"on"}})
	m := regexp.MustCompile(`id="new-webhook-secret">(whsec_[A-Za-z0-9_-]{20,})<`).FindStringSubmatch(rot.HTML)
	if rot.Status != 200 || m == nil {
		t.Fatalf("rotation: %d %.2000s", rot.Status, rot.HTML)
	}
	conn := s.must(s.call("GET", "/api/v1/connections/razorpay", nil), 200)
	if hint := conn.s("webhook_secret"); !strings.HasSuffix(hint, m[1][len(m[1])-4:]) {
		t.Errorf("the connection's webhook secret hint %q is not the new secret's", hint)
	}
	if again := c.do("GET", "/console/connection", nil); strings.Contains(again.HTML, m[1]) || strings.Contains(again.HTML, "new-webhook-secret") {
		t.Error("the new webhook secret is shown a second time")
	}
	s.assertNoSecretsLogged()
}
