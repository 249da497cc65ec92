package payments_test

import (
	"testing"
)

// Issue 14 row 7, learnt from a refusal: on a connection whose account was
// never probed, Razorpay's refusal of a USD link is 409
// international_not_enabled (the payment FAILED, the invoice free again)
// and is recorded on the connection, so the next USD request is refused
// before anything is written or sent.
func TestUSDLinkRefusalIsLearnt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.sim.SetInternational(f.acct.KeyID, false); err != nil {
		t.Fatal(err)
	}
	inv := f.invoice()
	expected := inv.Version
	inv.Version++
	inv.Currency = "USD"
	if err := f.store.UpdateInvoice(f.ctx, f.sc, inv, expected); err != nil {
		t.Fatal(err)
	}
	in := req(inv)
	in.Currency = "usd"
	p, err := f.svc.Create(f.ctx, f.sc, in)
	if code(err) != "international_not_enabled" {
		t.Fatalf("first USD request: %v", err)
	}
	if got := f.pay(p.ID); got.PaymentStatus != "FAILED" || f.inv(inv.ID).OpenPaymentID != "" {
		t.Fatalf("after the refusal: payment %s, invoice open payment %q", got.PaymentStatus, f.inv(inv.ID).OpenPaymentID)
	}
	conn, _, err := f.store.Connection(f.ctx, f.sc)
	if err != nil || conn.International == nil || *conn.International {
		t.Fatalf("connection not marked: %v %v", conn.International, err)
	}
	calls := f.sim.Calls("POST", "/v1/payment_links")
	p2, err := f.svc.Create(f.ctx, f.sc, in)
	if code(err) != "international_not_enabled" || p2.ID == "" {
		t.Fatalf("second USD request: %v", err)
	}
	if _, err := f.store.Payment(f.ctx, f.sc, p2.ID); err == nil {
		t.Fatal("the second request wrote a payment")
	}
	if n := f.sim.Calls("POST", "/v1/payment_links"); n != calls {
		t.Fatalf("Razorpay was called again: %d → %d", calls, n)
	}
}
