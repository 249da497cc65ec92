package localstack_test

import (
	"context"
	"testing"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/localstack"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// A Razorpay invoice (outbound sync) paid in two parts at its short_url
// while the webhook is disabled: the sweep must apply both parts. (Found by
// the chaos run's webhook-less tenant, issue 16.)
func TestSweepAppliesEveryPartOfARazorpayInvoicePaidInParts(t *testing.T) {
	t.Parallel()
	s := start(t, func(o *localstack.Options) { o.VisibilityTimeout = 2; o.SweepInterval = -1 })
	s.must(s.call("PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": s.dev.KeyID, "invoice_outbound_sync": true, "customer_sync": "ON_CREATE"}), 200)
	if err := s.st.Sim.SetWebhookEnabled(s.dev.KeyID, false); err != nil {
		t.Fatal(err)
	}
	inv := s.invoiceSynced(s.finalized(s.customer("parts-1", "parts1@example.com"), "inr").s("id"))
	rzInv := inv.s("razorpay", "invoice_id")
	first, err := s.st.Sim.PayInvoice(rzInv, razorpaysim.PayOptions{Amount: 4000}) // ₹40.00 of ₹100.00
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.st.Sim.PayInvoice(rzInv, razorpaysim.PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc := billing.Scope{TenantID: s.dev.TenantID, EnvironmentID: s.dev.EnvironmentID}
	for i := range 2 {
		if res, err := s.st.Deps.Sweeper("", nil).SweepEnvironment(context.Background(), sc); err != nil {
			t.Fatalf("sweep %d: %+v %v", i+1, res, err)
		}
	}
	for _, id := range []string{first.PaymentID, second.PaymentID} {
		if _, ok, err := s.st.Deps.Store.Applied(context.Background(), sc, id); err != nil || !ok {
			t.Errorf("Razorpay payment %s of %s not applied by the sweep (err %v)", id, rzInv, err)
		}
	}
	if got := s.call("GET", "/api/v1/invoices/"+inv.s("id"), nil); got.s("payment_status") != "SUCCEEDED" || got.s("amount_paid") != "100.00" {
		t.Fatalf("invoice after the sweeps: %s", got.Raw)
	}
}

// A failed try at a synced invoice's short_url while the webhook is
// disabled: the sweep records it on the invoice, once.
func TestSweepRecordsFailedTriesAtARazorpayInvoice(t *testing.T) {
	t.Parallel()
	s := start(t, func(o *localstack.Options) { o.VisibilityTimeout = 2; o.SweepInterval = -1 })
	s.must(s.call("PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": s.dev.KeyID, "invoice_outbound_sync": true, "customer_sync": "ON_CREATE"}), 200)
	if err := s.st.Sim.SetWebhookEnabled(s.dev.KeyID, false); err != nil {
		t.Fatal(err)
	}
	inv := s.invoiceSynced(s.finalized(s.customer("fails-1", "fails1@example.com"), "inr").s("id"))
	if _, err := s.st.Sim.FailInvoice(inv.s("razorpay", "invoice_id"), razorpaysim.FailOptions{}); err != nil {
		t.Fatal(err)
	}
	sc := billing.Scope{TenantID: s.dev.TenantID, EnvironmentID: s.dev.EnvironmentID}
	for i := range 2 {
		if res, err := s.st.Deps.Sweeper("", nil).SweepEnvironment(context.Background(), sc); err != nil {
			t.Fatalf("sweep %d: %+v %v", i+1, res, err)
		}
	}
	got := s.call("GET", "/api/v1/invoices/"+inv.s("id"), nil)
	if got.Body["failed_attempts"] != float64(1) || got.s("last_payment_error") == "" || got.s("payment_status") != "PENDING" {
		t.Fatalf("invoice after the sweeps: %s", got.Raw)
	}
}
