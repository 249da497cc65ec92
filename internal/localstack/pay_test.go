package localstack_test

import (
	"sync"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// Fifty concurrent requests through the HTTP router while Razorpay answers
// the link create slowly (the requests spread over its 1.5 s): one 201, 49 × 409 payment_link_exists naming the
// same payment (payment_url null while the link is being made), and one
// create call at Razorpay.
func TestFiftyConcurrentRequestsMakeOneLinkAndOneRazorpayCreate(t *testing.T) {
	t.Parallel()
	s := start(t)
	inv := s.finalized(s.customer("acct-50", "a50@example.com"), "inr")
	s.customerSynced(inv.s("customer_id"))
	if err := s.st.Sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultSlow, Method: "POST", Path: "/v1/payment_links", DelayMS: 1500}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	out := make([]resp, 50)
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread over the slow create: most requests come while the
			// first one is still waiting on Razorpay, as clients' do.
			time.Sleep(time.Duration(i) * 20 * time.Millisecond)
			out[i] = s.call("POST", "/api/v1/payments", payReq(inv, 100))
		}()
	}
	wg.Wait()
	created, conflicts, inProgress := 0, 0, 0
	var payID string
	for _, r := range out {
		if r.Status == 201 {
			created++
			payID = r.s("id")
		}
	}
	for _, r := range out {
		if r.Status != 409 {
			continue
		}
		if r.s("error", "code") != "payment_link_exists" || r.s("error", "details", "payment_id") != payID {
			t.Fatalf("409 body: %s (the 201 was %s)", r.Raw, payID)
		}
		conflicts++
		if d, _ := r.Body["error"].(map[string]any)["details"].(map[string]any); d != nil {
			if v, present := d["payment_url"]; present && v == nil {
				inProgress++
			}
		}
	}
	creates := s.st.Sim.Calls("POST", "/v1/payment_links")
	if created != 1 || conflicts != 49 || creates != 1 || len(s.links()) != 1 {
		t.Fatalf("201 ×%d, 409 ×%d, Razorpay creates %d, links %d", created, conflicts, creates, len(s.links()))
	}
	if inProgress == 0 {
		t.Fatal("no 409 said the link was still being made (payment_url null)")
	}
}

func TestCancelAPaymentFreesTheInvoice(t *testing.T) {
	t.Parallel()
	s := start(t)
	inv := s.finalized(s.customer("acct-cancel", "cancel@example.com"), "inr")
	p := s.must(s.call("POST", "/api/v1/payments", payReq(inv, 100)), 201)
	c := s.must(s.call("POST", "/api/v1/payments/"+p.s("id")+"/cancel", nil), 200)
	if c.s("payment_status") != "CANCELLED" || c.s("id") != p.s("id") {
		t.Fatalf("cancel: %s", c.Raw)
	}
	if l := s.links(); len(l) != 1 || l[0].Status != "cancelled" {
		t.Fatalf("links at Razorpay: %+v", l)
	}
	r := s.must(s.call("POST", "/api/v1/payments/"+p.s("id")+"/cancel", nil), 409)
	if r.s("error", "code") != "payment_not_cancellable" {
		t.Fatalf("second cancel: %s", r.Raw)
	}
	// The invoice is free for a new link.
	again := s.must(s.call("POST", "/api/v1/payments", payReq(inv, 100)), 201)
	if again.s("id") == p.s("id") || len(s.links()) != 2 {
		t.Fatalf("new link: %s", again.Raw)
	}
}

// Void cancels the open link at Razorpay instead of answering 409.
func TestVoidCancelsTheOpenLink(t *testing.T) {
	t.Parallel()
	s := start(t)
	inv := s.finalized(s.customer("acct-void", "void@example.com"), "inr")
	p := s.must(s.call("POST", "/api/v1/payments", payReq(inv, 100)), 201)
	v := s.must(s.call("POST", "/api/v1/invoices/"+inv.s("id")+"/void", nil), 200)
	if v.s("invoice_status") != "VOIDED" {
		t.Fatalf("void: %s", v.Raw)
	}
	if l := s.links(); len(l) != 1 || l[0].ID != p.s("gateway_tracking_id") || l[0].Status != "cancelled" {
		t.Fatalf("links at Razorpay: %+v", l)
	}
	r := s.must(s.call("POST", "/api/v1/payments", payReq(inv, 100)), 409)
	if r.s("error", "code") != "invoice_voided" {
		t.Fatalf("payment for a voided invoice: %s", r.Raw)
	}
}

// A link paid at Razorpay whose webhook has not arrived: void is refused
// with invoice_already_paid and the money applied at once; the webhook,
// when it comes, does not count it twice.
func TestVoidOfALinkPaidBeforeItsWebhookAppliesTheMoneyOnce(t *testing.T) {
	t.Parallel()
	s := start(t)
	inv := s.finalized(s.customer("acct-void-paid", "voidpaid@example.com"), "inr")
	p := s.must(s.call("POST", "/api/v1/payments", payReq(inv, 100)), 201)
	if err := s.st.Sim.HoldWebhooks(s.dev.KeyID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.Sim.PayPaymentLink(p.s("gateway_tracking_id"), razorpaysim.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	r := s.must(s.call("POST", "/api/v1/invoices/"+inv.s("id")+"/void", nil), 409)
	if r.s("error", "code") != "invoice_already_paid" {
		t.Fatalf("void: %s", r.Raw)
	}
	got := s.call("GET", "/api/v1/invoices/"+inv.s("id"), nil)
	if got.s("invoice_status") != "FINALIZED" || got.s("payment_status") != "SUCCEEDED" || got.s("amount_paid") != "100.00" {
		t.Fatalf("after the refused void: %s", got.Raw)
	}
	if _, err := s.st.Sim.ReleaseWebhooks(s.dev.KeyID, razorpaysim.ReleaseInOrder); err != nil {
		t.Fatal(err)
	}
	s.eventually("webhooks delivered", func() bool {
		for _, e := range s.st.Sim.Events(s.dev.KeyID) {
			if !e.Delivered {
				return false
			}
		}
		return true
	})
	// The queued events are applied within a poll or two: watch for 3 s.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got := s.call("GET", "/api/v1/invoices/"+inv.s("id"), nil); got.s("amount_paid") != "100.00" || got.s("payment_status") != "SUCCEEDED" {
			t.Fatalf("after the webhooks: %s", got.Raw)
		}
	}
}
