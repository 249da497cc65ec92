package localstack_test

import (
	"context"
	"testing"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/localstack"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// POST …/refresh pulls one instrument now, with no webhook and no sweep:
// the answer is the updated record.
func TestRefreshRoutesPullOneInstrumentNow(t *testing.T) {
	t.Parallel()
	s := start(t, func(o *localstack.Options) { o.SweepInterval = -1 })
	if err := s.st.Sim.SetWebhookEnabled(s.dev.KeyID, false); err != nil {
		t.Fatal(err)
	}
	inv, pay := s.openLink("refresh-1", 250)
	inv2, pay2 := s.openLink("refresh-2", 300)
	for _, p := range []resp{pay, pay2} {
		if _, err := s.st.Sim.PayPaymentLink(p.s("gateway_tracking_id"), razorpaysim.PayOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.call("GET", "/api/v1/payments/"+pay.s("id"), nil); got.s("payment_status") != "PENDING" {
		t.Fatalf("applied without a webhook or a refresh: %s", got.Raw)
	}
	got := s.must(s.call("POST", "/api/v1/payments/"+pay.s("id")+"/refresh", nil), 200)
	if got.s("payment_status") != "SUCCEEDED" || got.s("gateway_payment_id") == "" {
		t.Fatalf("payment refresh: %s", got.Raw)
	}
	if i := s.call("GET", "/api/v1/invoices/"+inv.s("id"), nil); i.s("payment_status") != "SUCCEEDED" || i.s("amount_paid") != "250.00" {
		t.Fatalf("invoice after the payment refresh: %s", i.Raw)
	}
	gotInv := s.must(s.call("POST", "/api/v1/invoices/"+inv2.s("id")+"/refresh", nil), 200)
	if gotInv.s("payment_status") != "SUCCEEDED" || gotInv.s("amount_paid") != "300.00" {
		t.Fatalf("invoice refresh: %s", gotInv.Raw)
	}
	// a second refresh changes nothing
	again := s.must(s.call("POST", "/api/v1/invoices/"+inv2.s("id")+"/refresh", nil), 200)
	if again.s("amount_paid") != "300.00" {
		t.Fatalf("second refresh: %s", again.Raw)
	}
	s.must(s.call("POST", "/api/v1/payments/pay_00000000000000000000000000/refresh", nil), 404)
	s.must(s.call("POST", "/api/v1/invoices/"+pay.s("id")+"/refresh", nil), 404)
	s.must(s.call("POST", "/api/v1/payments/"+pay.s("id")+"/refresh", "not an object"), 400)
}

// A Razorpay invoice (outbound sync) paid at its short_url with no webhook
// is applied by the sweep; one that expired frees the invoice.
func TestSweepPullsSyncedRazorpayInvoices(t *testing.T) {
	t.Parallel()
	s := start(t, func(o *localstack.Options) { o.VisibilityTimeout = 2; o.SweepInterval = -1 })
	s.must(s.call("PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": s.dev.KeyID, "invoice_outbound_sync": true, "customer_sync": "ON_CREATE"}), 200)
	if err := s.st.Sim.SetWebhookEnabled(s.dev.KeyID, false); err != nil {
		t.Fatal(err)
	}
	paid := s.invoiceSynced(s.finalized(s.customer("rzinv-1", "rzinv1@example.com"), "inr").s("id"))
	expired := s.invoiceSynced(s.finalized(s.customer("rzinv-2", "rzinv2@example.com"), "inr").s("id"))
	if _, err := s.st.Sim.PayInvoice(paid.s("razorpay", "invoice_id"), razorpaysim.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.st.Sim.ExpireInvoice(expired.s("razorpay", "invoice_id")); err != nil {
		t.Fatal(err)
	}
	sc := billing.Scope{TenantID: s.dev.TenantID, EnvironmentID: s.dev.EnvironmentID}
	res, err := s.st.Deps.Sweeper("", nil).SweepEnvironment(context.Background(), sc)
	if err != nil || res.Swept != 2 || res.Missed != 2 {
		t.Fatalf("sweep: %+v %v", res, err)
	}
	if i := s.call("GET", "/api/v1/invoices/"+paid.s("id"), nil); i.s("payment_status") != "SUCCEEDED" || i.s("amount_paid") != "100.00" {
		t.Fatalf("paid Razorpay invoice: %s", i.Raw)
	}
	if ids, _, err := s.st.Deps.Store.OpenItems(context.Background(), sc, "", 10); err != nil || len(ids) != 0 {
		t.Fatalf("still open after the sweep: %v %v", ids, err)
	}
	// the expired one can be paid by a new link now
	s.must(s.call("POST", "/api/v1/payments", payReq(expired, 100)), 201)
}

// Razorpay answering 429 (after the client's own backoff) ends the
// environment's sweep for this run; the next run finishes it.
func TestSweepBacksOffOn429AndContinuesNextRun(t *testing.T) {
	t.Parallel()
	s := start(t, func(o *localstack.Options) { o.SweepInterval = -1 })
	if err := s.st.Sim.SetWebhookEnabled(s.dev.KeyID, false); err != nil {
		t.Fatal(err)
	}
	// More paid links than one group of pulls (the sweeper pulls 4 side
	// by side): the 429s of the first group stop the run before a second.
	const links, group = 6, 4
	var pays []resp
	for i := 0; i < links; i++ {
		_, p := s.openLink("throttle-"+string(rune('a'+i)), 100)
		if _, err := s.st.Sim.PayPaymentLink(p.s("gateway_tracking_id"), razorpaysim.PayOptions{}); err != nil {
			t.Fatal(err)
		}
		pays = append(pays, p)
	}
	if err := s.st.Sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.Fault429, Method: "GET", Path: "/v1/payment_links/*", Count: 1000}); err != nil {
		t.Fatal(err)
	}
	sc := billing.Scope{TenantID: s.dev.TenantID, EnvironmentID: s.dev.EnvironmentID}
	sw := s.st.Deps.Sweeper("", nil)
	before := s.st.Sim.Calls("", "")
	res, err := sw.SweepEnvironment(context.Background(), sc)
	if err != nil || !res.Throttled || res.Swept != group || res.Missed != 0 {
		t.Fatalf("throttled sweep: %+v %v", res, err)
	}
	// each pull: one call and the client's 3 retries of a 429
	if n := s.st.Sim.Calls("", "") - before; n > group*(1+razorpay.DefaultMaxRetries) {
		t.Fatalf("%d calls into a throttled account in one run", n)
	}
	s.st.Sim.ClearFaults()
	res, err = sw.SweepEnvironment(context.Background(), sc)
	if err != nil || res.Throttled || res.Missed != links {
		t.Fatalf("next run: %+v %v", res, err)
	}
	for _, p := range pays {
		if got := s.call("GET", "/api/v1/payments/"+p.s("id"), nil); got.s("payment_status") != "SUCCEEDED" {
			t.Fatalf("after the next run: %s", got.Raw)
		}
	}
}
