package localstack_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/localstack"
	"github.com/razorbill/razorbill/internal/razorpaysim"
	"github.com/razorbill/razorbill/internal/schema"
)

// within polls f every 250 ms for at most d, and logs how long it took
// (on a loaded machine that is where a slow run shows its time).
func (s *stack) within(d time.Duration, what string, f func() bool) {
	s.t.Helper()
	began := time.Now()
	deadline := began.Add(d)
	for time.Now().Before(deadline) {
		if f() {
			s.t.Logf("%s: %s", what, time.Since(began).Round(100*time.Millisecond))
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	s.t.Fatalf("%s: not within %s", what, d)
}

// eventsDrained reports whether the razorpay-events queue holds no message,
// visible or being handled, at two reads a second apart: the reconciler has
// handled (and deleted) everything queued before the call.
func (s *stack) eventsDrained() bool {
	s.t.Helper()
	empty := func() bool {
		out, err := s.st.Deps.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(s.st.Deps.Config.EventsQueueURL),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			s.t.Fatalf("queue attributes: %v", err)
		}
		return out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)] == "0" &&
			out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)] == "0"
	}
	if !empty() {
		return false
	}
	time.Sleep(time.Second)
	return empty()
}

// openLink makes a finalized invoice of amount rupees and its payment link.
func (s *stack) openLink(ext string, rupees int) (inv, pay resp) {
	s.t.Helper()
	inv = s.finalized(s.customer(ext, ext+"@example.com"), "inr", map[string]any{"display_name": "Platform fee", "quantity": "1", "unit_amount": fmt.Sprint(rupees)})
	pay = s.must(s.call("POST", "/api/v1/payments", payReq(inv, rupees)), 201)
	return inv, pay
}

// moneyState is the money and the statuses: what a redelivery must not change.
func (s *stack) moneyState(payIDs, invIDs []string) string {
	s.t.Helper()
	var b strings.Builder
	for _, id := range payIDs {
		p := s.must(s.call("GET", "/api/v1/payments/"+id, nil), 200)
		// (not error_code: a replayed payment_link.cancelled of a link we
		// cancelled ourselves renames a FAILED payment's reason)
		fmt.Fprintf(&b, "%s %s %s %s %v %s\n", id, p.s("payment_status"), p.s("gateway_payment_id"), p.s("refunded_amount"), p.Body["attempts"], p.s("succeeded_at"))
	}
	for _, id := range invIDs {
		i := s.must(s.call("GET", "/api/v1/invoices/"+id, nil), 200)
		fmt.Fprintf(&b, "%s %s %s %s %s\n", id, i.s("payment_status"), i.s("amount_paid"), i.s("amount_remaining"), i.s("amount_refunded"))
	}
	return b.String()
}

// Webhooks disabled at Razorpay for the whole run: links paid, failed,
// expired and refunds processed are all applied by the sweeper alone,
// exactly as the webhooks would have; the connection shows
// SILENT; re-enabling and redelivering every event changes nothing.
func TestSweeperAppliesEverythingWhenWebhooksNeverCome(t *testing.T) {
	t.Parallel()
	// One sweep of the 70 instruments takes several seconds with
	// -race beside the rest of the package, and far longer on a loaded
	// machine (90 s were seen in a make test whose metering package took
	// 288 s). The check is that the scheduled sweeper alone applies
	// everything, so the waits below are bounds on liveness, not speed
	// targets. A short interval keeps the test from idling between sweeps:
	// a sweep that outlasts it is followed at once by the next (the sweeps
	// of one environment share a FIFO group, so they never overlap).
	const interval = 5 * time.Second
	const applyBound, settleBound = 5 * time.Minute, 2 * time.Minute
	const paid, failed, expired, refunded = 50, 10, 5, 5
	s := start(t, func(o *localstack.Options) { o.SweepInterval = interval })
	if err := s.st.Sim.SetWebhookEnabled(s.dev.KeyID, false); err != nil {
		t.Fatal(err)
	}
	if err := s.st.Sim.SetManualRefunds(s.dev.KeyID, true); err != nil {
		t.Fatal(err)
	}
	var payIDs, invIDs []string
	type pl struct{ inv, pay resp }
	var all []pl
	began := time.Now()
	for i := 0; i < paid+failed+expired; i++ {
		inv, pay := s.openLink(fmt.Sprintf("sw-%d", i), 100+i)
		all = append(all, pl{inv, pay})
		payIDs, invIDs = append(payIDs, pay.s("id")), append(invIDs, inv.s("id"))
	}
	t.Logf("%d invoices with links: %s", len(all), time.Since(began).Round(100*time.Millisecond))
	rzPay := map[string]string{}
	failCode := map[string]string{}
	for i, x := range all {
		link := x.pay.s("gateway_tracking_id")
		switch {
		case i < paid:
			r, err := s.st.Sim.PayPaymentLink(link, razorpaysim.PayOptions{Method: "card"})
			if err != nil {
				t.Fatal(err)
			}
			rzPay[x.pay.s("id")] = r.PaymentID
		case i < paid+failed:
			code := fmt.Sprintf("BAD_REQUEST_ERROR_%d", i)
			if _, err := s.st.Sim.FailPaymentLink(link, razorpaysim.FailOptions{ErrorCode: code}); err != nil {
				t.Fatal(err)
			}
			failCode[x.pay.s("id")] = code
		default:
			if err := s.st.Sim.ExpirePaymentLink(link); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.within(applyBound, "every link applied by the sweeper", func() bool {
		// newest first: the sweep pulls in the open index's order (oldest
		// first), so while it runs a poll stops at its first read instead
		// of reading every payment already applied (on a loaded machine
		// those reads were a good share of the CPU the sweep waited for)
		for i := len(all) - 1; i >= 0; i-- {
			x := all[i]
			p := s.call("GET", "/api/v1/payments/"+x.pay.s("id"), nil)
			switch {
			case i < paid && p.s("payment_status") != "SUCCEEDED":
				return false
			case i >= paid && p.s("payment_status") != "FAILED":
				return false
			case i >= paid+failed && p.s("error_code") != "payment_link_expired":
				return false
			}
		}
		return true
	})
	for i, x := range all {
		p := s.call("GET", "/api/v1/payments/"+x.pay.s("id"), nil)
		inv := s.call("GET", "/api/v1/invoices/"+x.inv.s("id"), nil)
		switch {
		case i < paid:
			if p.s("gateway_payment_id") != rzPay[x.pay.s("id")] || p.s("payment_method") != "card" || p.s("succeeded_at") == "" ||
				inv.s("payment_status") != "SUCCEEDED" || inv.s("amount_paid") != x.inv.s("amount_due") || inv.s("amount_remaining") != "0.00" {
				t.Fatalf("paid link %d: %s\n%s", i, p.Raw, inv.Raw)
			}
		case i < paid+failed:
			if p.s("error_code") != failCode[x.pay.s("id")] || p.Body["attempts"] != float64(1) || inv.s("payment_status") != "PENDING" {
				t.Fatalf("failed link %d: %s\n%s", i, p.Raw, inv.Raw)
			}
		default:
			if inv.s("payment_status") != "PENDING" {
				t.Fatalf("expired link %d: %s", i, inv.Raw)
			}
		}
		// the invoice is free again after a failure or expiry: a new link can be made
		if i == paid || i == paid+failed {
			s.must(s.call("POST", "/api/v1/payments", payReq(x.inv, 100+i)), 201)
		}
	}

	// Refunds Razorpay processes while no webhook comes.
	var refundIDs []string
	for i := 0; i < refunded; i++ {
		r := s.must(s.call("POST", "/api/v1/payments/"+all[i].pay.s("id")+"/refund", nil), 202)
		parts, _ := r.Body["razorpay_refunds"].([]any)
		if len(parts) != 1 {
			t.Fatalf("refund: %s", r.Raw)
		}
		rf, _ := parts[0].(map[string]any)["id"].(string)
		if err := s.st.Sim.ProcessRefund(rf, true); err != nil {
			t.Fatal(err)
		}
		refundIDs = append(refundIDs, r.s("id"))
	}
	s.within(settleBound, "refunds settled by the sweeper", func() bool {
		for i := 0; i < refunded; i++ {
			if s.call("GET", "/api/v1/payments/"+all[i].pay.s("id"), nil).s("payment_status") != "REFUNDED" {
				return false
			}
		}
		return true
	})
	for i := 0; i < refunded; i++ {
		inv := s.call("GET", "/api/v1/invoices/"+all[i].inv.s("id"), nil)
		if inv.s("payment_status") != "REFUNDED" || inv.s("amount_refunded") != inv.s("amount_paid") {
			t.Fatalf("refunded invoice: %s", inv.Raw)
		}
	}

	conn := s.must(s.call("GET", "/api/v1/connections/razorpay", nil), 200)
	hook, _ := conn.Body["webhook"].(map[string]any)
	want := paid + failed + expired + refunded
	if hook["status"] != "SILENT" || hook["missed_events"] != float64(want) || hook["last_received_at"] != nil {
		t.Fatalf("webhook block: %v (want SILENT, %d missed)", hook, want)
	}
	if !strings.Contains(s.logs.String(), `"MissedWebhookEvents":`) {
		t.Fatal("no MissedWebhookEvents metric was logged")
	}

	// Razorpay's webhook comes back and every event is replayed: nothing changes.
	before := s.moneyState(payIDs, invIDs)
	if err := s.st.Sim.SetWebhookEnabled(s.dev.KeyID, true); err != nil {
		t.Fatal(err)
	}
	ds, err := s.st.Sim.RedeliverAll(context.Background(), s.dev.KeyID)
	if err != nil || len(ds) < paid+failed+expired+refunded {
		t.Fatalf("redeliver: %d deliveries, %v", len(ds), err)
	}
	for _, d := range ds {
		if !d.OK() {
			t.Fatalf("redelivery refused: %+v", d)
		}
	}
	s.eventually("webhooks received", func() bool {
		c := s.call("GET", "/api/v1/connections/razorpay", nil)
		h, _ := c.Body["webhook"].(map[string]any)
		return h["last_received_at"] != nil
	})
	s.within(settleBound, "the reconciler drained the replay", s.eventsDrained)
	if after := s.moneyState(payIDs, invIDs); after != before {
		t.Fatalf("the replay changed the money:\nbefore\n%s\nafter\n%s", before, after)
	}
	for i, id := range refundIDs {
		r := s.must(s.call("GET", "/api/v1/payments/"+all[i].pay.s("id")+"/refunds", nil), 200)
		if !strings.Contains(r.Raw, id) || !strings.Contains(r.Raw, `"PROCESSED"`) {
			t.Fatalf("refund %s: %s", id, r.Raw)
		}
	}
	if ev := s.call("GET", "/api/v1/gateway-events?status=UNMATCHED", nil); strings.Contains(ev.Raw, `"id"`) {
		t.Fatalf("the replay parked events: %s", ev.Raw)
	}
	conn = s.must(s.call("GET", "/api/v1/connections/razorpay", nil), 200)
	hook, _ = conn.Body["webhook"].(map[string]any)
	if hook["status"] != "HEALTHY" || hook["missed_events"] != float64(want) {
		t.Fatalf("after webhooks resumed: %v", hook)
	}
}

// One sweep's Razorpay calls are the open instruments, not the invoices:
// many paid invoices (synced to Razorpay) and a few open links → one
// GET /v1/payment_links/{id} per open link and nothing else.
//
// RAZORBILL_SWEEP_COST_INVOICES sets the paid invoices (default 500 in
// make test, 50 to each open link: a sweep that walked invoices would make
// 510 calls, not 10; issue 16 asks for 10,000: docs/benchmarks.md has that
// run).
func TestSweepCostIsOpenInstrumentsNotInvoices(t *testing.T) {
	t.Parallel()
	const open = 10
	closed := 500
	if v := os.Getenv("RAZORBILL_SWEEP_COST_INVOICES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("RAZORBILL_SWEEP_COST_INVOICES=%q: want a positive number", v)
		}
		closed = n
	}
	s := start(t, func(o *localstack.Options) { o.SweepInterval = -1 })
	sc := billing.Scope{TenantID: s.dev.TenantID, EnvironmentID: s.dev.EnvironmentID}
	st := s.st.Deps.Store
	cus := s.customer("cost-0", "cost@example.com")
	now := time.Now().UTC()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < closed; i += 8 {
				inv := billing.Invoice{ID: ids.New(ids.Invoice), CustomerID: cus, Currency: "INR", InvoiceNumber: fmt.Sprintf("COST-%05d", i),
					InvoiceStatus: billing.InvoiceFinalized, PaymentStatus: billing.PaymentSucceeded, Subtotal: 10000, AmountDue: 10000, AmountPaid: 10000,
					RazorpayInvoiceID: fmt.Sprintf("inv_cost%010d", i), RazorpayShortURL: "https://rzp.io/i/x", CreatedAt: now, UpdatedAt: now, Version: 1}
				if err := st.CreateInvoice(context.Background(), sc, inv); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := 0; i < open; i++ {
		s.openLink(fmt.Sprintf("cost-open-%d", i), 100)
	}
	openIDs, next, err := st.OpenItems(context.Background(), sc, "", 100)
	if err != nil || next != "" || len(openIDs) != open {
		t.Fatalf("open items: %d %q %v", len(openIDs), next, err)
	}
	callsBefore := s.st.Sim.Calls("", "")
	start := time.Now()
	res, err := s.st.Deps.Sweeper("", nil).SweepEnvironment(context.Background(), sc)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	calls := s.st.Sim.Calls("", "") - callsBefore
	links := s.st.Sim.Calls("GET", "/v1/payment_links/*")
	t.Logf("sweep of %d paid invoices + %d open links: %d Razorpay calls (%d link fetches), %d instruments, %s", closed, open, calls, links, res.Swept, took)
	if calls != open || res.Swept != open || res.Missed != 0 {
		t.Fatalf("one sweep made %d Razorpay calls over %d instruments (missed %d); want %d", calls, res.Swept, res.Missed, open)
	}
}

// A sweep with more open instruments than one invocation can pull queues
// its own continuation on gateway-sweep, and the next invocation goes on
// after the last link it pulled. Here Razorpay answers each link fetch in
// 300 ms and an invocation has 6 s, 1 s before its 5 s margin: a few
// groups of four pulls. 20 unpaid links (they stay open) come first in the
// open index, the 4 paid ones last: a sweep that started again from the
// first open instrument each run (as it used to) would never reach them.
// Every paid link is applied, with webhooks off. (The schedule runs every
// 20 s only as a backstop for an invocation so starved it pulled nothing;
// it skips the environment while its sweep is running.)
func TestASweepThatRunsOutOfTimeContinuesInAnotherInvocation(t *testing.T) {
	t.Parallel()
	const unpaid, paid = 20, 4
	var queueURL string
	s := start(t, func(o *localstack.Options) {
		o.SweepInterval, o.SweepTimeout = 20*time.Second, 6*time.Second
		queueURL = o.Resources.Queue(schema.GatewaySweep).URL
	})
	if err := s.st.Sim.SetWebhookEnabled(s.dev.KeyID, false); err != nil {
		t.Fatal(err)
	}
	var pays []resp
	for i := 0; i < unpaid+paid; i++ {
		_, pay := s.openLink(fmt.Sprintf("cont-%d", i), 100+i)
		if i >= unpaid {
			if _, err := s.st.Sim.PayPaymentLink(pay.s("gateway_tracking_id"), razorpaysim.PayOptions{Method: "upi"}); err != nil {
				t.Fatal(err)
			}
			pays = append(pays, pay)
		}
	}
	if err := s.st.Sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultSlow, DelayMS: 300, Method: "GET", Path: "/v1/payment_links/*", Count: 10000}); err != nil {
		t.Fatal(err)
	}
	fetches := s.st.Sim.Calls("GET", "/v1/payment_links/*")
	// A scheduled run now: the fan-out queues this environment once.
	if n, err := s.st.Deps.Sweeper(queueURL, nil).FanOut(context.Background()); err != nil || n != 1 {
		t.Fatalf("fan-out: %d environments, %v", n, err)
	}
	s.within(3*time.Minute, "the paid links, last in the open index, applied by the sweep's continuations", func() bool {
		for _, p := range pays {
			if s.call("GET", "/api/v1/payments/"+p.s("id"), nil).s("payment_status") != "SUCCEEDED" {
				return false
			}
		}
		return true
	})
	n := strings.Count(s.logs.String(), "the sweep ran out of time; it continues in another invocation")
	t.Logf("%d continuations, %d link fetches for %d open links", n, s.st.Sim.Calls("GET", "/v1/payment_links/*")-fetches, unpaid+paid)
	if n == 0 {
		t.Fatal("the sweep never ran out of time: the test did not exercise a continuation")
	}
	// The continued sweep reached the end: its cursor says done, so the
	// next scheduled run queues the environment again, from the first.
	sc := billing.Scope{TenantID: s.dev.TenantID, EnvironmentID: s.dev.EnvironmentID}
	s.within(time.Minute, "the sweep cursor done", func() bool {
		c, err := s.st.Deps.Store.GetSweepCursor(context.Background(), sc)
		return err == nil && c.State == billing.SweepDone
	})
	hook, _ := s.must(s.call("GET", "/api/v1/connections/razorpay", nil), 200).Body["webhook"].(map[string]any)
	if hook["missed_events"] != float64(paid) {
		t.Fatalf("missed events %v, want %d (each paid link once)", hook["missed_events"], paid)
	}
}
