package payments_test

import (
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/payments"
)

// A due date more than 6 months out is capped (Razorpay refuses expire_by
// beyond 6 months after creation), a nearer one is kept, and the link's
// customer carries only what Razorpay accepts.
func TestLinkExpiryCappedAndCustomerNormalised(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, c := range []struct {
		due  time.Duration
		want time.Duration
	}{
		{365 * 24 * time.Hour, payments.MaxLinkExpiry},
		{200 * 24 * time.Hour, payments.MaxLinkExpiry},
		{10 * 24 * time.Hour, 10 * 24 * time.Hour},
	} {
		inv := f.invoice()
		due := time.Now().UTC().Add(c.due)
		inv.DueDate = &due
		expected := inv.Version
		inv.Version++
		if err := f.store.UpdateInvoice(f.ctx, f.sc, inv, expected); err != nil {
			t.Fatal(err)
		}
		cus, err := f.store.Customer(f.ctx, f.sc, inv.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		cus.Name, cus.Phone = "Al", "+91 98765-43210"
		expected = cus.Version
		cus.Version++
		if err := f.store.UpdateCustomer(f.ctx, f.sc, cus, expected); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		p, err := f.svc.Create(f.ctx, f.sc, req(inv))
		if err != nil {
			t.Fatalf("due in %s: %v", c.due, err)
		}
		if p.PaymentStatus == billing.PaymentFailed || p.GatewayTrackingID == "" {
			t.Fatalf("due in %s: %+v", c.due, p)
		}
		var l struct {
			ExpireBy int64 `json:"expire_by"`
			Customer struct {
				Name    string `json:"name"`
				Contact string `json:"contact"`
			} `json:"customer"`
		}
		f.rawLink(p.GatewayTrackingID, &l)
		got := time.Unix(l.ExpireBy, 0)
		if lo, hi := start.Add(c.want).Add(-2*time.Second), time.Now().Add(c.want).Add(2*time.Second); got.Before(lo) || got.After(hi) {
			t.Errorf("due in %s: expire_by %s, want about %s from now", c.due, got.Sub(start), c.want)
		}
		if l.Customer.Name != "Al." || l.Customer.Contact != "+919876543210" {
			t.Errorf("link customer: %+v", l.Customer)
		}
	}
}
