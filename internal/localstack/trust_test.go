package localstack_test

import (
	"testing"

	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// Issue 14 row 7 and 15#9 end to end: the development tenant is connected
// in its sandbox (test keys); PUT reports whether the account takes
// international payments, and a non-INR payment request or invoice sync on
// an account without them is 409 international_not_enabled with nothing
// written here or at Razorpay. The connection learns its Razorpay account
// from the first verified webhook.
func TestInternationalPaymentsAndLearntAccount(t *testing.T) {
	t.Parallel()
	s := start(t)
	conn := s.must(s.call("GET", "/api/v1/connections/razorpay", nil), 200)
	if conn.s("mode") != "test" || conn.Body["international"] != true || conn.Body["account_id"] != nil {
		t.Fatalf("bootstrapped connection: %s", conn.Raw)
	}
	// the first verified webhook names the account
	inr := s.finalized(s.customer("intl-1", "intl1@example.com"), "inr")
	p := s.must(s.call("POST", "/api/v1/payments", payReq(inr, 100)), 201)
	if _, err := s.st.Sim.PayPaymentLink(p.s("gateway_tracking_id"), razorpaysim.PayOptions{Method: "upi"}); err != nil {
		t.Fatal(err)
	}
	s.eventually("payment SUCCEEDED", func() bool {
		return s.call("GET", "/api/v1/payments/"+p.s("id"), nil).s("payment_status") == "SUCCEEDED"
	})
	acct := s.st.Sim.DefaultAccount()
	if got := s.call("GET", "/api/v1/connections/razorpay", nil).s("account_id"); got != acct.ID {
		t.Fatalf("learnt account %q, want %q", got, acct.ID)
	}

	// the account loses international payments; PUT with the key re-checks
	if err := s.st.Sim.SetInternational(acct.KeyID, false); err != nil {
		t.Fatal(err)
	}
	conn = s.must(s.call("PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": acct.KeyID, "key_secret": acct.KeySecret}), 200)
	if conn.Body["international"] != false || conn.s("account_id") != acct.ID {
		t.Fatalf("after switching international off: %s", conn.Raw)
	}
	usd := s.finalized(s.customer("intl-2", "intl2@example.com"), "usd")
	linksBefore := len(s.links())
	r := s.must(s.call("POST", "/api/v1/payments", payReq(usd, 100)), 409)
	if r.s("error", "code") != "international_not_enabled" {
		t.Fatalf("USD payment: %s", r.Raw)
	}
	r = s.must(s.call("POST", "/api/v1/invoices/"+usd.s("id")+"/sync", nil), 409)
	if r.s("error", "code") != "international_not_enabled" {
		t.Fatalf("USD invoice sync: %s", r.Raw)
	}
	after := s.call("GET", "/api/v1/invoices/"+usd.s("id"), nil)
	if after.s("updated_at") != usd.s("updated_at") || len(s.links()) != linksBefore {
		t.Fatalf("something was written: invoice %s, links %d → %d", after.Raw, linksBefore, len(s.links()))
	}
	// INR still works on such an account
	s.must(s.call("POST", "/api/v1/payments", payReq(s.finalized(s.customer("intl-3", "intl3@example.com"), "inr"), 100)), 201)

	// activated again: re-checked on PUT, USD goes through
	if err := s.st.Sim.SetInternational(acct.KeyID, true); err != nil {
		t.Fatal(err)
	}
	conn = s.must(s.call("PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": acct.KeyID, "key_secret": acct.KeySecret}), 200)
	if conn.Body["international"] != true {
		t.Fatalf("after switching international on: %s", conn.Raw)
	}
	s.must(s.call("POST", "/api/v1/payments", payReq(usd, 100)), 201)
}
