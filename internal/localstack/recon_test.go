package localstack_test

import (
	"testing"

	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// A synced invoice paid at its short_url in two parts after a failed try,
// with no Razorbill payment: every webhook (payment.*, invoice.*) reaches
// the one invoice, the failed try is recorded on it, both captures land on
// one Razorbill payment, and nothing is parked.
func TestShortURLPartsAndFailedTryLandOnOneInvoice(t *testing.T) {
	t.Parallel()
	s := startSync(t)
	cus := s.customer("recon-short", "short@example.com")
	inv := s.finalized(cus, "inr", map[string]any{"display_name": "Fee", "quantity": "1", "unit_amount": "300"})
	rzInv := s.invoiceSynced(inv.s("id")).s("razorpay", "invoice_id")
	if _, err := s.st.Sim.FailInvoice(rzInv, razorpaysim.FailOptions{ErrorDescription: "Payment failed because the card was declined"}); err != nil {
		t.Fatal(err)
	}
	s.eventually("failed try recorded on the invoice", func() bool {
		r := s.call("GET", "/api/v1/invoices/"+inv.s("id"), nil)
		n, _ := r.Body["failed_attempts"].(float64)
		return n == 1 && r.s("last_payment_error") != ""
	})
	for _, amount := range []int64{10000, 20000} {
		if _, err := s.st.Sim.PayInvoice(rzInv, razorpaysim.PayOptions{Amount: amount}); err != nil {
			t.Fatal(err)
		}
	}
	s.eventually("invoice paid at its short_url", func() bool {
		r := s.call("GET", "/api/v1/invoices/"+inv.s("id"), nil)
		return r.s("payment_status") == "SUCCEEDED" && r.s("amount_paid") == "300.00" && r.s("open_payment_id") == ""
	})
	pays, _ := s.call("GET", "/api/v1/payments?destination_id="+inv.s("id"), nil).Body["data"].([]any)
	if len(pays) != 1 {
		t.Fatalf("%d payments for one invoice paid in two parts: %v", len(pays), pays)
	}
	p := pays[0].(map[string]any)
	if p["payment_status"] != "SUCCEEDED" || p["amount"] != "300.00" {
		t.Fatalf("payment: %v", p)
	}
	if parked, _ := s.call("GET", "/api/v1/gateway-events?status=UNMATCHED", nil).Body["data"].([]any); len(parked) != 0 {
		t.Fatalf("parked: %v", parked)
	}
}
