package reconcile_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
)

// syncedInvoice makes a FINALIZED invoice synced to a Razorpay invoice
// (its ref stored as the syncer stores it) with no Razorbill payment.
func (f *fixture) syncedInvoice(currency string, due int64) (billing.Invoice, string) {
	f.t.Helper()
	now := time.Now().UTC()
	rzInv := "inv_RZ" + ids.New("")[4:18]
	inv := billing.Invoice{ID: ids.New(ids.Invoice), CustomerID: ids.New(ids.Customer), Currency: currency, InvoiceNumber: ids.New("INV-")[:20],
		LineItems: []billing.LineItem{{DisplayName: "Fee", PriceType: "FIXED", Quantity: "1", UnitAmount: "1", Amount: due}},
		Subtotal:  due, AmountDue: due, InvoiceStatus: billing.InvoiceFinalized, PaymentStatus: billing.PaymentPending, SyncStatus: billing.SyncSynced,
		RazorpayInvoiceID: rzInv, RazorpayShortURL: "https://rzp.io/i/inv", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := f.store.CreateInvoice(f.ctx, f.sc, inv); err != nil {
		f.t.Fatal(err)
	}
	if err := f.store.PutRef(f.ctx, f.sc, rzInv, inv.ID); err != nil {
		f.t.Fatal(err)
	}
	return inv, rzInv
}

// atShortURL is a payment event for a payment made at a Razorpay invoice's
// short_url: payment.invoice_id is set, the notes name nothing of ours.
func atShortURL(name, rzPay, rzInv string, amount int64, cur, status string) string {
	p := paymentEntity(rzPay, amount, cur, status, nil)
	p["invoice_id"] = rzInv
	if status == "failed" {
		p["error_code"], p["error_description"] = "BAD_REQUEST_ERROR", "Payment failed because the card was declined"
	}
	return envelope(name, map[string]any{"payment": entity(p)})
}

func (f *fixture) invoiceNow(id string) billing.Invoice {
	f.t.Helper()
	i, err := f.store.Invoice(f.ctx, f.sc, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return i
}

func (f *fixture) parked() []billing.GatewayEvent {
	f.t.Helper()
	page, err := f.store.ListGatewayEvents(f.ctx, f.sc, billing.GatewayEventUnmatched, billing.ListOptions{Limit: 50})
	if err != nil {
		f.t.Fatal(err)
	}
	return page.Data
}

// flakyStore fails the first money transaction as a storage outage (or a
// Lambda dying there) would.
type flakyStore struct {
	*dynamo.Store
	fails atomic.Int32
}

func (s *flakyStore) ApplyMoney(ctx context.Context, sc billing.Scope, m dynamo.Marker, p billing.Payment, ep int64, inv billing.Invoice, ei int64, refs ...map[string]string) error {
	if s.fails.Add(1) == 1 {
		return apperr.E(apperr.Transient, "storage_unavailable", "injected failure")
	}
	return s.Store.ApplyMoney(ctx, sc, m, p, ep, inv, ei, refs...)
}

// Item 1: a failure of the money transaction leaves nothing behind (no ref
// to a payment never written); the redelivery applies the money once.
func TestFailedMoneyTransactionLeavesNoOrphanRef(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, rzInv := f.syncedInvoice("INR", 7000)
	flaky := &flakyStore{Store: f.store}
	f.rec.Store = flaky
	body := atShortURL("payment.captured", "pay_ORPH01", rzInv, 7000, "INR", "captured")
	msg := billing.EventMessage{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, Event: "payment.captured", Body: body}
	if err := f.rec.Apply(f.ctx, f.sc, msg); !apperr.Retryable(err) {
		t.Fatalf("first attempt: %v, want a retryable failure", err)
	}
	if _, ok, _ := f.store.Ref(f.ctx, f.sc, "pay_ORPH01"); ok {
		t.Fatal("a ref was written although the money was not")
	}
	for i := 0; i < 3; i++ { // redeliveries
		if err := f.rec.Apply(f.ctx, f.sc, msg); err != nil {
			t.Fatalf("redelivery %d: %v", i, err)
		}
	}
	// invoice.paid for the same payment (notes name our invoice) counts nothing more
	f.apply(envelope("invoice.paid", map[string]any{
		"invoice": entity(map[string]any{"id": rzInv, "entity": "invoice", "status": "paid", "amount": 7000, "amount_paid": 7000, "currency": "INR", "notes": map[string]string{"razorbill_invoice_id": inv.ID}}),
		"payment": entity(func() map[string]any {
			p := paymentEntity("pay_ORPH01", 7000, "INR", "captured", nil)
			p["invoice_id"] = rzInv
			return p
		}()),
	}))
	got := f.invoiceNow(inv.ID)
	if got.AmountPaid != 7000 || got.PaymentStatus != billing.PaymentSucceeded {
		t.Fatalf("invoice: %+v", got)
	}
	ours, ok, err := f.store.Ref(f.ctx, f.sc, "pay_ORPH01")
	if err != nil || !ok {
		t.Fatalf("ref after applying: %v %v", ok, err)
	}
	p, err := f.store.Payment(f.ctx, f.sc, ours)
	if err != nil || p.AmountReceived != 7000 || p.PaymentStatus != billing.PaymentSucceeded || len(p.Captures) != 1 || p.Captures[0].RazorpayPaymentID != "pay_ORPH01" {
		t.Fatalf("payment: %+v %v", p, err)
	}
	if len(f.parked()) != 0 {
		t.Fatalf("parked: %+v", f.parked())
	}
}

// Item 10: server-side references outrank notes; money matched only by
// notes is confirmed at Razorpay and applied at Razorpay's amount; money
// Razorpay does not know is parked.
func TestNotesAreOutrankedAndConfirmed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	invA, payA, plinkA := f.invoice("INR", 5000)
	invB, payB, _ := f.invoice("INR", 5000)
	// The payer wrote B's ids into the notes of a payment on A's link.
	rp := f.rzPaid(5000, "INR", notesOf(payB))
	f.apply(linkPaid(plinkA, rp, 5000, "INR", notesOf(payB)))
	a, _ := f.state(invA, payA)
	b, _ := f.state(invB, payB)
	if a.AmountPaid != 5000 || b.AmountPaid != 0 {
		t.Fatalf("link id did not win over notes: A paid %d, B paid %d", a.AmountPaid, b.AmountPaid)
	}

	// Notes only, payload claims 5000, Razorpay holds 2000: 2000 is applied.
	invC, payC, _ := f.invoice("INR", 5000)
	small := f.rzPaid(2000, "INR", notesOf(payC))
	f.apply(captured(small, 5000, "INR", notesOf(payC)))
	c, pc := f.state(invC, payC)
	if c.AmountPaid != 2000 || pc.AmountReceived != 2000 {
		t.Fatalf("applied the payload's amount, not Razorpay's: %+v / %+v", c, pc)
	}
	// Item 10: a capture smaller than the payment does not make it SUCCEEDED.
	if pc.PaymentStatus != billing.PaymentPartiallyPaid || pc.SucceededAt != nil || c.PaymentStatus != billing.PaymentPartiallyPaid {
		t.Fatalf("partial capture: payment %s, invoice %s", pc.PaymentStatus, c.PaymentStatus)
	}

	// Notes only, a payment Razorpay does not have: parked, nothing applied.
	invD, payD, _ := f.invoice("INR", 5000)
	if resp := f.sqs(captured("pay_Forged0001", 5000, "INR", notesOf(payD))); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures: %+v", resp)
	}
	d, _ := f.state(invD, payD)
	if d.AmountPaid != 0 || len(f.parked()) != 1 {
		t.Fatalf("unconfirmed money applied: %+v, parked %d", d, len(f.parked()))
	}
}

// Item 11: statuses never move backwards.
func TestStatusesNeverMoveBackwards(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	authorized := func(rzPay string, p billing.Payment) string {
		return envelope("payment.authorized", map[string]any{"payment": entity(paymentEntity(rzPay, p.Amount, "INR", "authorized", notesOf(p)))})
	}
	// A late payment.authorized after payment.failed of the same Razorpay payment.
	inv, pay, _ := f.invoice("INR", 3000)
	f.apply(failed("pay_LATE01", 3000, "INR", notesOf(pay)))
	f.apply(authorized("pay_LATE01", pay))
	i, p := f.state(inv, pay)
	if p.PaymentStatus != billing.PaymentFailed || i.OpenPaymentID != "" {
		t.Fatalf("late authorized moved a failed payment: %s, open %q", p.PaymentStatus, i.OpenPaymentID)
	}

	// A capture after a full refund keeps the refund visible.
	inv2, pay2, plink2 := f.invoice("INR", 3000)
	f.apply(linkPaid(plink2, "pay_REF001", 3000, "INR", nil))
	f.apply(refund("refund.processed", "rfnd_R1", "pay_REF001", 3000, "INR"))
	if _, p2 := f.state(inv2, pay2); p2.PaymentStatus != billing.PaymentRefunded {
		t.Fatalf("after refund: %s", p2.PaymentStatus)
	}
	// (a second capture on the link, of another amount than the link's:
	// confirmed at Razorpay, so it is a real payment there)
	ref2 := f.rzPaid(1000, "INR", nil)
	f.apply(linkPaid(plink2, ref2, 1000, "INR", nil))
	_, p2 := f.state(inv2, pay2)
	if p2.PaymentStatus != billing.PaymentPartiallyRefunded || p2.AmountReceived != 4000 {
		t.Fatalf("a later capture overwrote the refund: %s, received %d", p2.PaymentStatus, p2.AmountReceived)
	}
	// Item 7: each capture is recorded; the latest Razorpay payment is the gateway id.
	if len(p2.Captures) != 2 || p2.Captures[0].RazorpayPaymentID != "pay_REF001" || p2.Captures[1].RazorpayPaymentID != ref2 ||
		p2.Captures[1].Amount != 1000 || p2.Captures[1].CapturedAt.IsZero() || p2.GatewayPaymentID != ref2 {
		t.Fatalf("captures: %+v, gateway id %s", p2.Captures, p2.GatewayPaymentID)
	}
}

// Item 4: PROCESSING holds the invoice like PENDING.
func TestAuthorizedHoldsTheInvoice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, pay, _ := f.invoice("INR", 3000)
	auth := func(rzPay string) string {
		return envelope("payment.authorized", map[string]any{"payment": entity(paymentEntity(rzPay, 3000, "INR", "authorized", notesOf(pay)))})
	}
	f.apply(auth("pay_HOLD01"))
	i, p := f.state(inv, pay)
	if p.PaymentStatus != billing.PaymentProcessing || i.OpenPaymentID != pay.ID {
		t.Fatalf("authorized: %s, open %q", p.PaymentStatus, i.OpenPaymentID)
	}
	f.apply(failed("pay_HOLD01", 3000, "INR", notesOf(pay))) // that try failed: the invoice is free
	if i, _ = f.state(inv, pay); i.OpenPaymentID != "" {
		t.Fatalf("failure did not free the invoice: %q", i.OpenPaymentID)
	}
	f.apply(auth("pay_HOLD02")) // the customer tries again on the same link
	i, p = f.state(inv, pay)
	if p.PaymentStatus != billing.PaymentProcessing || i.OpenPaymentID != pay.ID {
		t.Fatalf("a new authorized try does not hold the invoice: %s, open %q", p.PaymentStatus, i.OpenPaymentID)
	}
}

// Item 3: money captured for a VOIDED invoice is parked for an operator.
func TestCaptureOnVoidedInvoiceIsParked(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, pay, plink := f.invoice("INR", 3000)
	cur := f.invoiceNow(inv.ID)
	expected := cur.Version
	cur.Version++
	cur.InvoiceStatus, cur.OpenPaymentID = billing.InvoiceVoided, ""
	if err := f.store.UpdateInvoice(f.ctx, f.sc, cur, expected); err != nil {
		t.Fatal(err)
	}
	f.sqs(linkPaid(plink, "pay_VOID01", 3000, "INR", nil))
	i, p := f.state(inv, pay)
	parked := f.parked()
	if i.AmountPaid != 0 || p.AmountReceived != 0 || len(parked) != 1 || parked[0].Reason == "" {
		t.Fatalf("voided invoice: %+v / %+v, parked %+v", i, p, parked)
	}
}

// Item 14: a redelivered event is parked once; failed tries at a synced
// invoice's short_url are recorded on the invoice, once each, not parked.
func TestParkedOnceAndShortURLFailuresOnInvoice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	orphan := captured("pay_NOBODY1", 100, "INR", nil)
	for i := 0; i < 3; i++ {
		f.sqsWithID("evt_same_1", orphan)
	}
	if n := len(f.parked()); n != 1 {
		t.Fatalf("one event redelivered 3 times: %d parked records", n)
	}

	inv, rzInv := f.syncedInvoice("INR", 4000)
	fail := atShortURL("payment.failed", "pay_SHORTF1", rzInv, 4000, "INR", "failed")
	f.sqsWithID("evt_f1", fail)
	f.sqsWithID("evt_f1b", fail) // a second delivery under another event id
	f.sqsWithID("evt_f2", atShortURL("payment.failed", "pay_SHORTF2", rzInv, 4000, "INR", "failed"))
	f.sqsWithID("evt_a3", atShortURL("payment.authorized", "pay_SHORTA3", rzInv, 4000, "INR", "authorized"))
	got := f.invoiceNow(inv.ID)
	if got.FailedAttempts != 2 || got.LastPaymentError != "BAD_REQUEST_ERROR: Payment failed because the card was declined" {
		t.Fatalf("invoice: failed_attempts %d, last_payment_error %q", got.FailedAttempts, got.LastPaymentError)
	}
	if n := len(f.parked()); n != 1 {
		t.Fatalf("short_url tries were parked: %+v", f.parked())
	}
}

// sqsWithID delivers one event through the SQS handler under a given
// Razorpay event id.
func (f *fixture) sqsWithID(eventID, body string) {
	f.t.Helper()
	var env struct {
		Event string `json:"event"`
	}
	_ = json.Unmarshal([]byte(body), &env)
	m, _ := json.Marshal(billing.EventMessage{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, EventID: eventID, Event: env.Event, ReceivedAt: time.Now(), Body: body})
	resp, err := f.rec.HandleSQS(f.ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: eventID, Body: string(m)}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		f.t.Fatalf("%v %+v", err, resp)
	}
}

// TestACancelledPaymentStaysCancelled: Razorpay's payment_link.cancelled
// (or a late payment.failed) after POST /payments/{id}/cancel confirms the
// cancel; it used to turn the CANCELLED payment into FAILED.
func TestACancelledPaymentStaysCancelled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, pay, plink := f.invoice("INR", 3000)
	i, p := f.state(inv, pay)
	ep, ei := p.Version, i.Version
	p.Version++
	p.PaymentStatus, p.ErrorCode = billing.PaymentCancelled, "payment_cancelled"
	i.Version++
	i.OpenPaymentID = ""
	if err := f.store.SavePaymentAndInvoice(f.ctx, f.sc, p, ep, i, ei, nil); err != nil {
		t.Fatal(err)
	}
	f.apply(envelope("payment_link.cancelled", map[string]any{"payment_link": entity(map[string]any{"id": plink, "entity": "payment_link", "amount": 3000,
		"amount_paid": 0, "currency": "INR", "status": "cancelled", "notes": notesOf(pay), "reference_id": pay.ID})}))
	f.apply(failed("pay_LATEFAIL1", 3000, "INR", notesOf(pay)))
	if _, p = f.state(inv, pay); p.PaymentStatus != billing.PaymentCancelled {
		t.Fatalf("a cancelled payment became %s (%s)", p.PaymentStatus, p.ErrorCode)
	}
}

// TestAClosedLinkThatIsNotThePaymentsOwnIsParked: links are matched by
// their reference_id (no ref item is stored for a link). A
// payment_link.expired for a link whose reference_id names our payment but
// which is not that payment's link (only a link made outside Razorbill can
// be) is parked and changes nothing; the payment's own link closes it.
func TestAClosedLinkThatIsNotThePaymentsOwnIsParked(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, pay, plink := f.invoice("INR", 3000)
	if _, ok, err := f.store.Ref(f.ctx, f.sc, plink); err != nil || ok {
		t.Fatalf("a ref item for the link: %v %v", ok, err)
	}
	expired := func(link string) string {
		return envelope("payment_link.expired", map[string]any{"payment_link": entity(map[string]any{"id": link, "entity": "payment_link", "amount": 3000,
			"amount_paid": 0, "currency": "INR", "status": "expired", "notes": map[string]string{}, "reference_id": pay.ID})})
	}
	if resp := f.sqs(expired("plink_NOTOURS0001")); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("not parked: %+v", resp)
	}
	i, p := f.state(inv, pay)
	if p.PaymentStatus != billing.PaymentPending || i.OpenPaymentID != pay.ID {
		t.Fatalf("another link's expiry changed the payment: %s, invoice held by %q", p.PaymentStatus, i.OpenPaymentID)
	}
	if parked := f.parked(); len(parked) != 1 || !strings.Contains(parked[0].Reason, plink) {
		t.Fatalf("parked: %+v", parked)
	}
	f.apply(expired(plink))
	i, p = f.state(inv, pay)
	if p.PaymentStatus != billing.PaymentFailed || p.ErrorCode != "payment_link_expired" || i.OpenPaymentID != "" {
		t.Fatalf("its own link's expiry: %s %s, invoice held by %q", p.PaymentStatus, p.ErrorCode, i.OpenPaymentID)
	}

	// A payment whose instrument is a Razorpay invoice has no link at all:
	// a link event naming it is parked too.
	inv2, pay2, _ := f.invoice("INR", 3000)
	ep := pay2.Version
	pay2.Version++
	pay2.GatewayTrackingID, pay2.PaymentURL = "inv_RZNOLINK0001", "https://rzp.io/i/inv"
	if err := f.store.UpdatePayment(f.ctx, f.sc, pay2, ep); err != nil {
		t.Fatal(err)
	}
	body := envelope("payment_link.cancelled", map[string]any{"payment_link": entity(map[string]any{"id": "plink_NOTOURS0002", "entity": "payment_link", "amount": 3000,
		"amount_paid": 0, "currency": "INR", "status": "cancelled", "notes": map[string]string{}, "reference_id": pay2.ID})})
	if resp := f.sqs(body); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("not parked: %+v", resp)
	}
	if i2, p2 := f.state(inv2, pay2); p2.PaymentStatus != billing.PaymentPending || i2.OpenPaymentID != pay2.ID {
		t.Fatalf("a link event closed a payment with no link: %s, invoice held by %q", p2.PaymentStatus, i2.OpenPaymentID)
	}
	if parked := f.parked(); len(parked) != 2 {
		t.Fatalf("parked: %d events, want 2", len(parked))
	}
}

// TestAnExpiredPartPaidRazorpayInvoiceFreesTheInvoice: after part of a
// synced invoice was paid at its short_url and the Razorpay invoice expired,
// the part-paid payment no longer holds the invoice (it used to, forever:
// every new payment request was 409 with the dead URL).
func TestAnExpiredPartPaidRazorpayInvoiceFreesTheInvoice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, rzInv := f.syncedInvoice("INR", 10000)
	f.apply(atShortURL("payment.captured", "pay_PARTEXP1", rzInv, 4000, "INR", "captured"))
	held := f.invoiceNow(inv.ID)
	if held.AmountPaid != 4000 || held.OpenPaymentID == "" {
		t.Fatalf("after a part payment: paid %d, open %q", held.AmountPaid, held.OpenPaymentID)
	}
	f.apply(envelope("invoice.expired", map[string]any{"invoice": entity(map[string]any{"id": rzInv, "entity": "invoice", "status": "expired",
		"amount": 10000, "amount_paid": 4000, "amount_due": 6000, "currency": "INR", "notes": map[string]string{"razorbill_invoice_id": inv.ID}})}))
	got := f.invoiceNow(inv.ID)
	if got.OpenPaymentID != "" || got.RazorpayShortURL != "" || got.AmountPaid != 4000 {
		t.Fatalf("after invoice.expired: open %q, short_url %q, paid %d", got.OpenPaymentID, got.RazorpayShortURL, got.AmountPaid)
	}
	if p, err := f.store.Payment(f.ctx, f.sc, held.OpenPaymentID); err != nil || p.AmountReceived != 4000 {
		t.Fatalf("the part-paid payment: %+v %v", p, err)
	}
}

// TestAFailedTryAtARazorpayInvoiceKeepsItsPayment: the Razorpay invoice is
// still payable after a failed try, so the client's payment keeps holding
// the invoice and the customer's next try lands on it (it used to become
// FAILED, and the next capture made a second payment).
func TestAFailedTryAtARazorpayInvoiceKeepsItsPayment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, rzInv := f.syncedInvoice("INR", 5000)
	now := time.Now().UTC()
	pay := billing.Payment{ID: ids.New(ids.Payment), DestinationID: inv.ID, DestinationType: "INVOICE", CustomerID: inv.CustomerID, Amount: 5000, Currency: "INR",
		PaymentStatus: billing.PaymentPending, PaymentMethodType: "PAYMENT_LINK", PaymentGateway: "razorpay", ProcessPayment: true,
		GatewayTrackingID: rzInv, PaymentURL: inv.RazorpayShortURL, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now, Version: 1}
	cur := f.invoiceNow(inv.ID)
	ei := cur.Version
	cur.Version++
	cur.OpenPaymentID = pay.ID
	if err := f.store.SavePaymentAndInvoice(f.ctx, f.sc, pay, 0, cur, ei, nil); err != nil {
		t.Fatal(err)
	}
	f.apply(atShortURL("payment.failed", "pay_RZIFAIL1", rzInv, 5000, "INR", "failed"))
	if p, _ := f.store.Payment(f.ctx, f.sc, pay.ID); p.PaymentStatus != billing.PaymentPending || f.invoiceNow(inv.ID).OpenPaymentID != pay.ID {
		t.Fatalf("after a failed try: %s, open %q", p.PaymentStatus, f.invoiceNow(inv.ID).OpenPaymentID)
	}
	f.apply(atShortURL("payment.captured", "pay_RZIOK01", rzInv, 5000, "INR", "captured"))
	p, _ := f.store.Payment(f.ctx, f.sc, pay.ID)
	got := f.invoiceNow(inv.ID)
	if p.PaymentStatus != billing.PaymentSucceeded || p.AmountReceived != 5000 || got.AmountPaid != 5000 {
		t.Fatalf("capture after a failed try: payment %s %d, invoice paid %d", p.PaymentStatus, p.AmountReceived, got.AmountPaid)
	}
}

// TestAnEventThatDisagreesWithItsLinkIsConfirmed: matched by its link id
// (a server-side reference), but the captured amount is not the link's —
// our links take no partial payments — so the payment is read from Razorpay
// and Razorpay's amount is applied, not the payload's.
func TestAnEventThatDisagreesWithItsLinkIsConfirmed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, pay, plink := f.invoice("INR", 5000)
	rp := f.rzPaid(2000, "INR", nil)
	f.apply(linkPaid(plink, rp, 3000, "INR", notesOf(pay)))
	i, p := f.state(inv, pay)
	if i.AmountPaid != 2000 || p.AmountReceived != 2000 {
		t.Fatalf("applied the payload's 3000, not Razorpay's 2000: invoice paid %d, payment received %d", i.AmountPaid, p.AmountReceived)
	}
}
