package localstack_test

import (
	"testing"

	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// TestAKeyChangeWaitsForOpenInstrumentsAndResyncsCustomers: moving an
// environment to another Razorpay account is refused while a link is still
// open under the old key (it would be paid at the old account, whose
// webhooks the connection then refuses); once it is cancelled the change
// goes through, and the customer — synced under the old account — is synced
// again under the new one before its next link.
func TestAKeyChangeWaitsForOpenInstrumentsAndResyncsCustomers(t *testing.T) {
	t.Parallel()
	s := start(t)
	cus := s.customer("key-change", "keychange@example.com")
	first := s.finalized(cus, "inr")
	p := s.must(s.call("POST", "/api/v1/payments", payReq(first, "100")), 201)
	oldCustomer := s.must(s.call("GET", "/api/v1/customers/"+cus, nil), 200).s("razorpay", "customer_id")
	if oldCustomer == "" {
		t.Fatal("the customer was not synced for its link")
	}
	other, err := s.st.Sim.CreateAccount(razorpaysim.Account{})
	if err != nil {
		t.Fatal(err)
	}
	change := map[string]any{"key_id": other.KeyID, "key_secret": other.KeySecret}
	r := s.call("PUT", "/api/v1/connections/razorpay", change)
	if r.Status != 409 || r.s("error", "code") != "connection_has_open_instruments" {
		t.Fatalf("key change with an open link: %d %s", r.Status, r.Raw)
	}
	s.must(s.call("POST", "/api/v1/payments/"+p.s("id")+"/cancel", nil), 200)
	s.must(s.call("PUT", "/api/v1/connections/razorpay", change), 200)

	second := s.finalized(cus, "inr")
	s.must(s.call("POST", "/api/v1/payments", payReq(second, "100")), 201)
	newCustomer := s.must(s.call("GET", "/api/v1/customers/"+cus, nil), 200).s("razorpay", "customer_id")
	atNew := decodeAll[razorpay.Customer](s.t, s.st.Sim.Objects(other.KeyID).Customers)
	if len(atNew) != 1 || newCustomer != atNew[0].ID || newCustomer == oldCustomer {
		t.Fatalf("customer after the key change: %q (was %q), %d at the new account", newCustomer, oldCustomer, len(atNew))
	}
	if n := len(decodeAll[razorpay.PaymentLink](s.t, s.st.Sim.Objects(other.KeyID).PaymentLinks)); n != 1 {
		t.Fatalf("%d links at the new account, want 1", n)
	}
}
