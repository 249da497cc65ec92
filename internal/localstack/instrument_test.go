package localstack_test

import (
	"testing"

	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// TestOutboundSyncMakesTheRazorpayInvoiceTheOneInstrument: with invoice
// outbound sync on, a payment request made right after finalize — before
// the queued sync has finished (Razorpay's invoice create is slowed down) —
// gets the Razorpay invoice's short_url, and no payment link is ever made.
// Before, the request made a link beside the Razorpay invoice.
func TestOutboundSyncMakesTheRazorpayInvoiceTheOneInstrument(t *testing.T) {
	t.Parallel()
	s := startSync(t)
	cus := s.customer("one-instrument", "one@example.com")
	s.customerSynced(cus)
	if err := s.st.Sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultSlow, Method: "POST", Path: "/v1/invoices", DelayMS: 1500, Count: 2}); err != nil {
		t.Fatal(err)
	}
	inv := s.finalized(cus, "inr")
	pay := s.must(s.call("POST", "/api/v1/payments", payReq(inv, "100")), 201)
	synced := s.invoiceSynced(inv.s("id"))
	if url := synced.s("razorpay", "short_url"); url == "" || pay.s("payment_url") != url || pay.s("gateway_tracking_id") != synced.s("razorpay", "invoice_id") {
		t.Fatalf("payment %s\ninvoice %s\nwant the Razorpay invoice's short_url as the payment_url", pay.Raw, synced.Raw)
	}
	if n := len(s.links()); n != 0 {
		t.Fatalf("%d payment links made beside the Razorpay invoice", n)
	}
	if n := len(s.rzpInvoices()); n != 1 {
		t.Fatalf("%d Razorpay invoices, want 1", n)
	}
	// A second request is told about the open instrument.
	again := s.call("POST", "/api/v1/payments", payReq(inv, "100"))
	if again.Status != 409 || again.s("error", "code") != "payment_link_exists" {
		t.Fatalf("second request: %d %s", again.Status, again.Raw)
	}
}
