package chaos_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// refundFaultKinds are the simulator faults armed on a refund's Razorpay
// call: answers that leave the outcome unknown (409 "in progress", 5xx,
// timeouts, with or without the refund made), a slow Razorpay, and a 429
// that refuses it.
var refundFaultKinds = []string{"409", "409_after_create", "500_after_create", "timeout_after_create", "slow", "500", "timeout", "429"}

// Refund plans for a fully paid invoice.
const (
	rfFull       = "full refund"
	rfPartial    = "partial refund (a third)"
	rfTwoPartial = "two refunds (a third, then the rest)"
)

// lifecycle is what the lifecycle phase did, for the checks and the report.
type lifecycle struct {
	mu        sync.Mutex
	answers   map[string]int  // "scenario: what happened" → invoices
	voided    map[string]bool // invoice → void answered 200
	cancelled map[string]bool // invoice → cancel answered 200
	// paymentsRefunded are the Razorbill payments refunds were asked for.
	paymentsRefunded map[string]*tenant
	refundPlans      map[string]int
	refundRequests   int // refund requests made (each with its own Idempotency-Key)
	refundRetries    int // the same request again after a 5xx, a transport error or a 409 concurrent_update
	refundRepeats    int // the same request again after its 202, as an unsure client does
	refundOtherID    int // a repeat answered with another refund than the first answer
	refundAnswers    map[string]int
	firstStatus      map[string]int // a refund's status in its first 202
	faultsArmed      map[string]int
	faultsLeft       int
	lookups          int // GET /payments/{id}/refunds calls in the settlement phase
	pendingAfter     int // refunds still PENDING when settlement gave up
	paidAfterCancel  int // a link paid at the simulator after its cancel answered 200
}

func (l *lifecycle) answer(scenario, what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.answers[scenario+": "+what]++
}

// lifecycle runs, with webhooks delivered as they happen and faults on, the
// scenarios that need the delivery phase's outcome: a new link after a
// failed try while the customer pays the old one, voids and cancels racing
// the customer, and refunds of paid invoices with Razorpay faults armed on
// the refund call.
func (h *harness) lifecycle() {
	l := &lifecycle{answers: map[string]int{}, voided: map[string]bool{}, cancelled: map[string]bool{}, paymentsRefunded: map[string]*tenant{},
		refundPlans: map[string]int{}, refundAnswers: map[string]int{}, faultsArmed: map[string]int{}, firstStatus: map[string]int{}}
	h.life = l
	h.f.on.Store(true)
	var jobs []func()
	candidates := 0
	for _, tn := range h.tenants {
		if tn.Pull != nil {
			continue // the webhook-less tenants: pull only (pull_test.go)
		}
		for _, inv := range tn.Invoices {
			tn, inv := tn, inv
			switch inv.Scenario {
			case scNewLink:
				jobs = append(jobs, func() { h.newLinkRace(tn, inv) })
			case scVoidRace:
				jobs = append(jobs, func() { h.voidRace(tn, inv) })
			case scCancel:
				jobs = append(jobs, func() { h.cancelThenPay(tn, inv) })
			case scPay, scPayParts, scFailPay:
				// The first candidates are refunded with each fault kind in
				// turn, the rest at the refund rate.
				fault := ""
				switch {
				case candidates < len(refundFaultKinds):
					fault = refundFaultKinds[candidates]
				case h.f.float() < h.cfg.RefundRate:
					if h.f.intn(2) == 0 {
						fault = refundFaultKinds[h.f.intn(len(refundFaultKinds))]
					}
				default:
					continue
				}
				candidates++
				plan := []string{rfFull, rfPartial, rfTwoPartial}[h.f.intn(3)]
				jobs = append(jobs, func() { h.refundInvoice(tn, inv, plan, fault) })
			}
		}
	}
	rnd := rand.New(rand.NewPCG(h.cfg.Seed, 7))
	rnd.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	h.parallel(len(jobs), func(i int) { jobs[i]() })
	l.faultsLeft = len(h.sim.Faults())
	h.sim.ClearFaults()
}

// retrying calls until the answer is neither a transport error, a 5xx nor a
// 409 concurrent_update (what a client retries), for up to three minutes;
// it returns the last answer and how many retries it made.
func (h *harness) retrying(tn *tenant, method, path string, body any, key string) (apiResp, error, int) {
	deadline := time.Now().Add(3 * time.Minute)
	for attempt := 0; ; attempt++ {
		r, err := h.callKey(tn, method, path, body, key)
		again := err != nil || r.Status >= 500 || (r.Status == 409 && r.s("error", "code") == "concurrent_update")
		if !again || time.Now().After(deadline) {
			return r, err, attempt
		}
		time.Sleep(min(time.Duration(attempt+1)*100*time.Millisecond, 2*time.Second))
	}
}

func answerText(r apiResp, err error) string {
	if err != nil {
		return "transport error"
	}
	if c := r.s("error", "code"); c != "" {
		return fmt.Sprintf("%d %s", r.Status, c)
	}
	return fmt.Sprint(r.Status)
}

// pay is the customer paying the invoice's instrument at the simulator.
func (h *harness) pay(inv *invoice, instrument string) error {
	var res razorpaysim.PaymentResult
	var err error
	if inv.Synced {
		res, err = h.sim.PayInvoice(instrument, razorpaysim.PayOptions{Method: "upi"})
	} else {
		res, err = h.sim.PayPaymentLink(instrument, razorpaysim.PayOptions{Method: "upi"})
	}
	if err == nil {
		h.setupMu.Lock()
		inv.Captures = append(inv.Captures, res.PaymentID)
		h.setupMu.Unlock()
	}
	return err
}

func paidText(err error) string {
	if err != nil {
		return "refused by Razorpay"
	}
	return "paid"
}

// newLinkRace: the first link failed (its payment is FAILED, the invoice
// free); a new link is requested while the customer pays the old link, and
// then the customer pays the new link too if there is one.
func (h *harness) newLinkRace(tn *tenant, inv *invoice) {
	var oldErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(time.Duration(h.f.intn(400)) * time.Millisecond) // either side may win
		oldErr = h.pay(inv, inv.LinkID)
	}()
	body := map[string]any{"amount": inv.AmountText, "currency": "inr", "destination_id": inv.ID, "destination_type": "INVOICE",
		"payment_method_type": "PAYMENT_LINK", "process_payment": true, "payment_gateway": "razorpay"}
	r, err, _ := h.retrying(tn, "POST", "/api/v1/payments", body, "")
	wg.Wait()
	what := "old link " + paidText(oldErr) + "; new request " + answerText(r, err)
	newLink := ""
	switch {
	case err == nil && r.Status == 201:
		newLink = r.s("gateway_tracking_id")
	case err == nil && r.Status == 409 && r.s("error", "code") == "payment_link_exists":
		// A retry after an answer lost to a fault: the payment it names is ours.
		if p, perr := h.call(tn, "GET", "/api/v1/payments/"+r.s("error", "details", "payment_id"), nil); perr == nil && p.Status == 200 {
			newLink = p.s("gateway_tracking_id")
		}
	}
	if strings.HasPrefix(newLink, "plink_") {
		what += "; new link " + paidText(h.pay(inv, newLink))
	}
	h.life.answer(inv.Scenario, what)
}

// voidRace: POST /invoices/{id}/void while the customer pays the open
// instrument.
func (h *harness) voidRace(tn *tenant, inv *invoice) {
	var payErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(time.Duration(h.f.intn(400)) * time.Millisecond) // either side may win
		payErr = h.pay(inv, inv.LinkID)
	}()
	r, err, _ := h.retrying(tn, "POST", "/api/v1/invoices/"+inv.ID+"/void", nil, "")
	wg.Wait()
	// A retry of a void that committed but answered 5xx is 409 invoice_voided:
	// the void took effect.
	if err == nil && (r.Status == 200 || (r.Status == 409 && r.s("error", "code") == "invoice_voided")) {
		h.life.mu.Lock()
		h.life.voided[inv.ID] = true
		h.life.mu.Unlock()
	}
	h.life.answer(inv.Scenario, "void "+answerText(r, err)+"; payment "+paidText(payErr))
}

// cancelThenPay: POST /payments/{id}/cancel on the open link, then the
// customer tries to pay it.
func (h *harness) cancelThenPay(tn *tenant, inv *invoice) {
	r, err, _ := h.retrying(tn, "POST", "/api/v1/payments/"+inv.PaymentID+"/cancel", nil, "")
	payErr := h.pay(inv, inv.LinkID)
	// A retry of a cancel that committed but answered 5xx is 409
	// payment_not_cancellable naming the CANCELLED payment: it took effect.
	ok := err == nil && (r.Status == 200 || (r.Status == 409 && r.s("error", "code") == "payment_not_cancellable" && r.s("error", "details", "payment_status") == "CANCELLED"))
	h.life.mu.Lock()
	if ok {
		h.life.cancelled[inv.ID] = true
		if payErr == nil {
			h.life.paidAfterCancel++
		}
	}
	h.life.mu.Unlock()
	h.life.answer(inv.Scenario, "cancel "+answerText(r, err)+"; payment "+paidText(payErr))
}

// refundInvoice asks for the plan's refunds of the invoice's payment, each
// with its own Idempotency-Key, with fault armed (when not "") on the
// Razorpay refund call of the newest capture. A client retries 5xx with the
// same key; after a 202 it sometimes sends the same request again.
func (h *harness) refundInvoice(tn *tenant, inv *invoice, plan, fault string) {
	l := h.life
	l.mu.Lock()
	l.paymentsRefunded[inv.PaymentID] = tn
	l.refundPlans[plan]++
	l.mu.Unlock()
	third := money.Format(inv.Amount/3, money.MustCurrency("INR"))
	var bodies []map[string]any
	switch plan {
	case rfFull:
		bodies = []map[string]any{{"reason": "chaos: full"}}
	case rfPartial:
		bodies = []map[string]any{{"amount": third, "reason": "chaos: partial"}}
	default:
		bodies = []map[string]any{{"amount": third, "reason": "chaos: first part"}, {"reason": "chaos: the rest"}}
	}
	for n, body := range bodies {
		if fault != "" && len(inv.Captures) > 0 {
			// Faults that do nothing at Razorpay may repeat, so that the
			// client's own retries fail too and the outcome stays unknown
			// until a lookup after RefundGrace.
			count := 1
			switch fault {
			case "409", "500", "timeout":
				count += h.f.intn(4)
			}
			f := razorpaysim.Fault{Kind: razorpaysim.FaultKind(fault), Method: "POST", KeyID: tn.Acct.KeyID, Count: count,
				Path: "/v1/payments/" + inv.Captures[len(inv.Captures)-1] + "/refund"}
			if err := h.sim.InjectFault(f); err != nil {
				h.t.Fatal(err)
			}
			l.mu.Lock()
			l.faultsArmed[fault]++
			l.mu.Unlock()
			h.f.count("razorpay: " + fault + " armed on a refund")
		}
		key := fmt.Sprintf("chaos-refund-%s-%d", inv.ID, n+1)
		path := "/api/v1/payments/" + inv.PaymentID + "/refund"
		r, err, retries := h.retrying(tn, "POST", path, body, key)
		repeat := err == nil && r.Status == 202 && (fault != "" || h.f.intn(2) == 0)
		l.mu.Lock()
		if err == nil && r.Status == 202 {
			l.firstStatus[r.s("status")]++
		}
		l.refundRequests++
		l.refundRetries += retries
		l.refundAnswers[answerText(r, err)]++
		l.mu.Unlock()
		if repeat {
			r2, err2, retries2 := h.retrying(tn, "POST", path, body, key)
			l.mu.Lock()
			l.refundRepeats++
			l.refundRetries += retries2
			if err2 != nil || r2.Status != 202 || r2.s("id") != r.s("id") {
				l.refundOtherID++
				l.mu.Unlock()
				h.t.Errorf("refund %s repeated with key %s: %s %s, first answer named %s", inv.PaymentID, key, answerText(r2, err2), r2.s("id"), r.s("id"))
				continue
			}
			l.mu.Unlock()
		}
	}
}

// settle looks the refunded payments' refunds up (GET
// /payments/{id}/refunds, which settles PENDING parts at Razorpay) until
// none is PENDING or the grace period plus a minute and a half has passed,
// then waits for the webhooks and drains the queue.
func (h *harness) settle() {
	l := h.life
	deadline := time.Now().Add(h.cfg.RefundGrace + 90*time.Second)
	pending := map[string]*tenant{}
	for id, tn := range l.paymentsRefunded {
		pending[id] = tn
	}
	for len(pending) > 0 && time.Now().Before(deadline) {
		for id, tn := range pending {
			r, err := h.call(tn, "GET", "/api/v1/payments/"+id+"/refunds?limit=100", nil)
			l.lookups++
			if err != nil || r.Status != 200 {
				continue
			}
			left := false
			data, _ := r.Body["data"].([]any)
			for _, d := range data {
				if m, _ := d.(map[string]any); m["status"] == "PENDING" {
					left = true
				}
			}
			if !left {
				delete(pending, id)
			}
		}
		if len(pending) > 0 {
			time.Sleep(2 * time.Second)
		}
	}
	l.pendingAfter = len(pending)
	h.webhooksBack()
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Minute)
	defer cancel()
	if err := h.sim.WaitDeliveries(ctx); err != nil {
		h.t.Errorf("the simulator still had deliveries pending after 5 minutes: %v", err)
	}
	h.drain()
	h.f.on.Store(false)
	h.cons.stopAll()
}

// world is one account's objects at Razorpay (the simulator), indexed by
// the instrument (payment link or Razorpay invoice) each payment went
// through and the Razorbill invoice each instrument belongs to.
type world struct {
	payments    []razorpay.Payment
	paymentByID map[string]razorpay.Payment
	refunds     []razorpay.Refund
	instrInv    map[string]string          // instrument → our invoice ("" for another system's)
	orderInstr  map[string]string          // order → instrument
	payInstr    map[string]string          // Razorpay payment → instrument (from the links' payment lists)
	payable     map[string]int             // our invoice → instruments a customer can still pay
	paidThrough map[string]map[string]bool // our invoice → instruments with a capture
}

// razorpaySide reads the account's objects and counts duplicates at
// Razorpay: one link per Razorbill payment (reference_id), one Razorpay
// invoice per Razorbill invoice, one customer per email+contact.
func (h *harness) razorpaySide(tn *tenant, r *report) *world {
	obj := h.sim.Objects(tn.Acct.KeyID)
	w := &world{paymentByID: map[string]razorpay.Payment{}, instrInv: map[string]string{}, orderInstr: map[string]string{},
		payInstr: map[string]string{}, payable: map[string]int{}, paidThrough: map[string]map[string]bool{}}
	refs, rzInvs := map[string]int{}, map[string]int{}
	for _, raw := range obj.PaymentLinks {
		var l razorpay.PaymentLink
		if err := json.Unmarshal(raw, &l); err != nil {
			h.t.Fatal(err)
		}
		r.Links++
		refs[l.ReferenceID]++
		id := l.Notes["razorbill_invoice_id"]
		w.instrInv[l.ID] = id
		if l.OrderID != "" {
			w.orderInstr[l.OrderID] = l.ID
		}
		for _, lp := range l.Payments {
			w.payInstr[lp.PaymentID] = l.ID
		}
		if id != "" && (l.Status == "created" || l.Status == "partially_paid") {
			w.payable[id]++
		}
	}
	for _, raw := range obj.Invoices {
		var inv razorpay.Invoice
		if err := json.Unmarshal(raw, &inv); err != nil {
			h.t.Fatal(err)
		}
		r.RzInvoices++
		id := inv.Notes["razorbill_invoice_id"]
		w.instrInv[inv.ID] = id
		rzInvs[id]++
		if inv.OrderID != "" {
			w.orderInstr[inv.OrderID] = inv.ID
		}
		if id != "" && (inv.Status == "issued" || inv.Status == "partially_paid") {
			w.payable[id]++
		}
	}
	for k, n := range refs {
		if n > 1 {
			r.DupLinks += n - 1
			r.mismatch("%d payment links for reference_id %s", n, k)
		}
	}
	for k, n := range rzInvs {
		if n > 1 {
			r.DupRzInvoices += n - 1
			r.mismatch("%d Razorpay invoices for %s", n, k)
		}
	}
	who := map[string]int{}
	for _, raw := range obj.Customers {
		var c razorpay.Customer
		if err := json.Unmarshal(raw, &c); err != nil {
			h.t.Fatal(err)
		}
		r.RzCustomers++
		who[c.Email+"|"+c.Contact]++
	}
	for k, n := range who {
		if n > 1 {
			r.DupCustomers += n - 1
			r.mismatch("%d Razorpay customers for %s", n, k)
		}
	}
	for _, raw := range obj.Payments {
		var p razorpay.Payment
		if err := json.Unmarshal(raw, &p); err != nil {
			h.t.Fatal(err)
		}
		w.payments = append(w.payments, p)
		w.paymentByID[p.ID] = p
		if inv := w.paymentInvoice(p); inv != "" && (p.Status == "captured" || p.Status == "refunded") {
			if w.paidThrough[inv] == nil {
				w.paidThrough[inv] = map[string]bool{}
			}
			w.paidThrough[inv][w.paymentInstrument(p)] = true
		}
	}
	for _, raw := range obj.Refunds {
		var rf razorpay.Refund
		if err := json.Unmarshal(raw, &rf); err != nil {
			h.t.Fatal(err)
		}
		w.refunds = append(w.refunds, rf)
	}
	return w
}

// paymentInstrument is the link or Razorpay invoice a payment was made at.
func (w *world) paymentInstrument(p razorpay.Payment) string {
	if p.InvoiceID != "" {
		return p.InvoiceID
	}
	if in := w.payInstr[p.ID]; in != "" {
		return in
	}
	return w.orderInstr[p.OrderID]
}

// paymentInvoice is our invoice a payment paid ("" for another system's).
func (w *world) paymentInvoice(p razorpay.Payment) string {
	if inv := w.instrInv[w.paymentInstrument(p)]; inv != "" {
		return inv
	}
	return p.Notes["razorbill_invoice_id"]
}

// eventInvoice is our invoice an event is about ("" for another system's).
func (w *world) eventInvoice(ev razorpay.Event) string {
	switch {
	case ev.Payment != nil:
		return w.paymentInvoice(*ev.Payment)
	case ev.PaymentLink != nil:
		return ev.PaymentLink.Notes["razorbill_invoice_id"]
	case ev.Invoice != nil:
		return ev.Invoice.Notes["razorbill_invoice_id"]
	}
	return ""
}

// invoiceStatusFor is the invoice payment status README's "The money
// lifecycle" gives these amounts: REFUNDED once everything paid was
// refunded; otherwise PENDING, PARTIALLY_PAID, SUCCEEDED or OVERPAID by
// what was paid against what is due.
func invoiceStatusFor(paid, refunded, due int64) string {
	switch {
	case paid > 0 && refunded >= paid:
		return billing.PaymentRefunded
	case paid == 0:
		return billing.PaymentPending
	case paid < due:
		return billing.PaymentPartiallyPaid
	case paid == due:
		return billing.PaymentSucceeded
	}
	return billing.PaymentOverpaid
}

// checkPayment compares one Razorbill payment with Razorpay: what it
// received is what its instrument captured (and was applied), what it
// refunded is what Razorpay processed, its status follows from the two
// amounts, no refund reservation is left, and each of its refund records
// agrees part by part with Razorpay's refunds.
func (h *harness) checkPayment(r *report, sc billing.Scope, want *invoice, p billing.Payment, shared int, received, refunded int64, rzByPart map[string]razorpay.Refund) {
	if p.AmountReceived != received {
		r.InvoiceMismatches++
		r.mismatch("payment %s of invoice %s (%s): %s, %d received, its instrument %s captured %d (%d Razorbill payments share it)", p.ID, want.ID, want.Scenario, p.PaymentStatus, p.AmountReceived, p.GatewayTrackingID, received, shared)
	}
	if p.RefundedAmount != refunded {
		r.RefundMismatches++
		r.mismatch("payment %s (%s): %d refunded, Razorpay processed %d", p.ID, want.Scenario, p.RefundedAmount, refunded)
	}
	if p.RefundPending != 0 {
		r.StuckReservations++
		r.mismatch("payment %s (%s): refund_pending %d after settlement", p.ID, want.Scenario, p.RefundPending)
	}
	var ws string
	switch {
	case received <= 0:
		switch p.PaymentStatus {
		case billing.PaymentSucceeded, billing.PaymentPartiallyPaid, billing.PaymentRefunded, billing.PaymentPartiallyRefunded:
			ws = "a status without money (PENDING, PROCESSING, FAILED, CANCELLED, …)"
		}
	case refunded >= received:
		ws = billing.PaymentRefunded
	case refunded > 0:
		ws = billing.PaymentPartiallyRefunded
	case received < p.Amount:
		ws = billing.PaymentPartiallyPaid
	default:
		ws = billing.PaymentSucceeded
	}
	if ws != "" && p.PaymentStatus != ws {
		r.StatusMismatches++
		r.mismatch("payment %s (%s): %s with %d received and %d refunded, want %s", p.ID, want.Scenario, p.PaymentStatus, received, refunded, ws)
	}
	if h.life != nil && h.life.cancelled[want.ID] && p.ID == want.PaymentID && p.PaymentStatus != billing.PaymentCancelled {
		r.StatusMismatches++
		r.mismatch("payment %s (%s): %s after its cancel answered 200", p.ID, want.Scenario, p.PaymentStatus)
	}
	page, err := h.store.ListRefunds(h.ctx, sc, p.ID, billing.ListOptions{Limit: 100})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, rf := range page.Data {
		r.RefundRecords++
		r.refundStatus[rf.Status]++
		if rf.Status == billing.RefundPending {
			r.PendingRefunds++
			r.mismatch("refund %s of payment %s is still PENDING after settlement", rf.ID, p.ID)
		}
		for _, part := range rf.Parts {
			r.RefundParts++
			if part.RazorpayRefundID != "" {
				// Who settled it: the refund lookup or a webhook (the marker's event).
				if m, ok, err := h.store.Applied(h.ctx, sc, "refund:"+part.RazorpayRefundID); err != nil {
					h.t.Fatal(err)
				} else if ok {
					r.settledBy[m.Event]++
				}
			}
			rz, sent := rzByPart[part.Key]
			processed := sent && rz.Status == "processed"
			if (part.Status == billing.RefundProcessed) != processed {
				r.RefundMismatches++
				r.mismatch("refund part %s: %s at Razorbill, Razorpay shows %v (%s)", part.Key, part.Status, sent, rz.Status)
			}
		}
	}
}
