package reconcile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
	"github.com/razorbill/razorbill/internal/reconcile"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type fixture struct {
	t     *testing.T
	store *dynamo.Store
	rec   *reconcile.Reconciler
	sc    billing.Scope
	ctx   context.Context
	sim   *razorpaysim.Simulator
	rzp   *razorpay.Client
	cr    razorpay.Credentials
}

// newFixture is a reconciler on DynamoDB Local whose environment is
// connected to a Razorpay simulator served over HTTP (it confirms payments
// matched only by their notes there, through the real client).
func newFixture(t *testing.T) *fixture {
	env := testenv.AWS(t)
	store := dynamo.New(env.DDB, env.Table())
	sim := razorpaysim.New(razorpaysim.Options{ExpirySweep: -1})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	kek, _ := secrets.NewLocalKEK([]byte("0123456789abcdef0123456789abcdef"))
	box := secrets.NewBox(kek)
	client := razorpay.NewClient(razorpay.Config{BaseURL: srv.URL, MaxRetries: -1})
	a := sim.DefaultAccount()
	f := &fixture{t: t, store: store, rec: &reconcile.Reconciler{Store: store, Gateway: client, Secrets: box, Log: logx.New(io.Discard, "error")},
		sc: billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)}, ctx: context.Background(),
		sim: sim, rzp: client, cr: razorpay.Credentials{KeyID: a.KeyID, KeySecret: a.KeySecret}}
	sealed, err := box.Seal(f.ctx, a.KeySecret, f.sc.TenantID+"/"+f.sc.EnvironmentID+"/key_secret")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutConnection(f.ctx, billing.Connection{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, KeyID: a.KeyID, KeySecretSealed: sealed,
		Status: billing.ConnectionActive, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return f
}

// rzPaid makes a captured payment of amount at the simulator (a link with
// notes, paid in full) and returns its Razorpay id.
func (f *fixture) rzPaid(amount int64, cur string, notes map[string]string) string {
	f.t.Helper()
	l, err := f.rzp.CreatePaymentLink(f.ctx, f.cr, razorpay.PaymentLinkInput{Amount: amount, Currency: cur, ReferenceID: ids.New("r"), Notes: notes})
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := f.sim.PayPaymentLink(l.ID, razorpaysim.PayOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return res.PaymentID
}

// invoice makes a FINALIZED invoice with an open PENDING link payment and
// returns both, with the Razorpay link id mapped to the payment.
func (f *fixture) invoice(currency string, due int64) (billing.Invoice, billing.Payment, string) {
	f.t.Helper()
	return f.invoiceWithIDs(ids.New(ids.Invoice), ids.New(ids.Payment), currency, due)
}

// invoiceWithIDs is invoice with the invoice's and the payment's ids given.
func (f *fixture) invoiceWithIDs(invID, payID, currency string, due int64) (billing.Invoice, billing.Payment, string) {
	f.t.Helper()
	now := time.Now().UTC()
	inv := billing.Invoice{ID: invID, CustomerID: ids.New(ids.Customer), Currency: currency, InvoiceNumber: "INV-" + ids.New(""),
		LineItems: []billing.LineItem{{DisplayName: "Fee", PriceType: "FIXED", Quantity: "1", UnitAmount: "1", Amount: due}},
		Subtotal:  due, AmountDue: due, InvoiceStatus: billing.InvoiceFinalized, PaymentStatus: billing.PaymentPending, SyncStatus: billing.SyncNotSynced,
		Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now, Version: 1}
	inv.InvoiceNumber = inv.InvoiceNumber[:20]
	if err := f.store.CreateInvoice(f.ctx, f.sc, inv); err != nil {
		f.t.Fatal(err)
	}
	plink := "plink_" + ids.New("")[:14]
	pay := billing.Payment{ID: payID, DestinationID: inv.ID, DestinationType: "INVOICE", CustomerID: inv.CustomerID, Amount: due, Currency: currency,
		PaymentStatus: billing.PaymentPending, PaymentMethodType: "PAYMENT_LINK", PaymentGateway: "razorpay", ProcessPayment: true,
		GatewayTrackingID: plink, PaymentURL: "https://rzp.io/i/x", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now, Version: 1}
	expected := inv.Version
	inv.Version++
	inv.OpenPaymentID = pay.ID
	// As in production, no ref item maps the link: its reference_id is the
	// payment's id (linkPaid reads it from linkRefs, as Razorpay sends it).
	if err := f.store.SavePaymentAndInvoice(f.ctx, f.sc, pay, 0, inv, expected, nil); err != nil {
		f.t.Fatal(err)
	}
	linkRefs.Store(plink, pay.ID)
	return inv, pay, plink
}

// linkRefs is each fixture link's reference_id (plink → our payment id),
// which Razorbill sets when it creates a link and Razorpay repeats in every
// payment_link event; a payer cannot change it (unlike a payment's notes).
var linkRefs sync.Map

func linkRef(plink string) string {
	ref, _ := linkRefs.Load(plink)
	s, _ := ref.(string)
	return s
}

func entity(v map[string]any) map[string]any { return map[string]any{"entity": v} }

func envelope(name string, payload map[string]any) string {
	contains := []string{}
	for k := range payload {
		contains = append(contains, k)
	}
	b, _ := json.Marshal(map[string]any{"entity": "event", "account_id": "acc_test", "event": name, "contains": contains, "payload": payload, "created_at": time.Now().Unix()})
	return string(b)
}

func paymentEntity(id string, amount int64, cur, status string, notes map[string]string) map[string]any {
	return map[string]any{"id": id, "entity": "payment", "amount": amount, "currency": cur, "status": status, "method": "upi",
		"order_id": "order_" + id[4:], "invoice_id": nil, "notes": notes, "error_code": nil, "error_description": nil, "created_at": time.Now().Unix()}
}

func captured(rzpPay string, amount int64, cur string, notes map[string]string) string {
	return envelope("payment.captured", map[string]any{"payment": entity(paymentEntity(rzpPay, amount, cur, "captured", notes))})
}

func linkPaid(plink, rzpPay string, amount int64, cur string, notes map[string]string) string {
	return envelope("payment_link.paid", map[string]any{
		"payment_link": entity(map[string]any{"id": plink, "entity": "payment_link", "amount": amount, "amount_paid": amount, "currency": cur, "status": "paid", "notes": notes, "short_url": "https://rzp.io/i/x", "reference_id": linkRef(plink)}),
		"order":        entity(map[string]any{"id": "order_" + rzpPay[4:], "entity": "order", "amount": amount, "amount_paid": amount, "currency": cur, "status": "paid", "notes": []any{}}),
		"payment":      entity(paymentEntity(rzpPay, amount, cur, "captured", notes)),
	})
}

func failed(rzpPay string, amount int64, cur string, notes map[string]string) string {
	p := paymentEntity(rzpPay, amount, cur, "failed", notes)
	p["error_code"], p["error_description"] = "BAD_REQUEST_ERROR", "Payment failed because the UPI app declined it"
	return envelope("payment.failed", map[string]any{"payment": entity(p)})
}

func refund(name, rfnd, rzpPay string, amount int64, cur string) string {
	return envelope(name, map[string]any{"refund": entity(map[string]any{"id": rfnd, "entity": "refund", "payment_id": rzpPay, "amount": amount, "currency": cur, "status": "processed", "notes": []any{}})})
}

func (f *fixture) apply(body string) {
	f.t.Helper()
	if err := f.rec.Apply(f.ctx, f.sc, billing.EventMessage{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, Event: "x", Body: body}); err != nil {
		f.t.Fatalf("apply: %v", err)
	}
}

func (f *fixture) sqs(bodies ...string) events.SQSEventResponse {
	f.t.Helper()
	var ev events.SQSEvent
	for i, b := range bodies {
		var env struct {
			Event string `json:"event"`
		}
		_ = json.Unmarshal([]byte(b), &env)
		m, _ := json.Marshal(billing.EventMessage{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, EventID: fmt.Sprint("evt_", i, "_", ids.New("")), Event: env.Event, ReceivedAt: time.Now(), Body: b})
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprint("m", i), Body: string(m)})
	}
	resp, err := f.rec.HandleSQS(f.ctx, ev)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp
}

func notesOf(p billing.Payment) map[string]string {
	return map[string]string{"razorbill_payment_id": p.ID, "razorbill_invoice_id": p.DestinationID}
}

func (f *fixture) state(inv billing.Invoice, pay billing.Payment) (billing.Invoice, billing.Payment) {
	f.t.Helper()
	i, err := f.store.Invoice(f.ctx, f.sc, inv.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := f.store.Payment(f.ctx, f.sc, pay.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return i, p
}

func TestCapturedAndLinkPaidCountOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, pay, plink := f.invoice("INR", 10000)
	n := notesOf(pay)
	rp := f.rzPaid(10000, "INR", n)
	resp := f.sqs(captured(rp, 10000, "INR", n), linkPaid(plink, rp, 10000, "INR", n), captured(rp, 10000, "INR", n))
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures: %+v", resp)
	}
	i, p := f.state(inv, pay)
	if i.AmountPaid != 10000 || i.PaymentStatus != billing.PaymentSucceeded || i.OpenPaymentID != "" || i.PaidAt == nil {
		t.Fatalf("invoice: %+v", i)
	}
	if p.PaymentStatus != billing.PaymentSucceeded || p.GatewayPaymentID != rp || p.PaymentMethod != "upi" || p.SucceededAt == nil || p.AmountReceived != 10000 {
		t.Fatalf("payment: %+v", p)
	}
}

func TestLinkPaidAloneIsMatchedByItsReferenceID(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, pay, plink := f.invoice("JPY", 500)
	f.apply(linkPaid(plink, "pay_B1", 500, "JPY", nil)) // no notes: matched by the link's reference_id
	i, _ := f.state(inv, pay)
	if i.AmountPaid != 500 || i.PaymentStatus != billing.PaymentSucceeded {
		t.Fatalf("invoice: %+v", i)
	}
}

func TestFailedThenCapturedEndsSucceeded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, pay, _ := f.invoice("INR", 2500)
	n := notesOf(pay)
	f.apply(failed("pay_C1", 2500, "INR", n))
	f.apply(failed("pay_C1", 2500, "INR", n)) // duplicate delivery counts once
	i, p := f.state(inv, pay)
	if p.PaymentStatus != billing.PaymentFailed || p.Attempts != 1 || p.ErrorCode != "BAD_REQUEST_ERROR" || p.ErrorMessage == "" || i.OpenPaymentID != "" {
		t.Fatalf("after failure: %+v / %+v", p, i)
	}
	f.apply(captured(f.rzPaid(2500, "INR", n), 2500, "INR", n)) // the customer retried on the same link
	f.apply(failed("pay_C3", 2500, "INR", n))                   // a late failure does not undo it
	i, p = f.state(inv, pay)
	if p.PaymentStatus != billing.PaymentSucceeded || i.PaymentStatus != billing.PaymentSucceeded || i.AmountPaid != 2500 {
		t.Fatalf("after capture: %+v / %+v", p, i)
	}
}

func TestPartialOverpaidAndRefunds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, pay, _ := f.invoice("KWD", 5000)
	n := notesOf(pay)
	d1, d2 := f.rzPaid(2000, "KWD", n), f.rzPaid(4000, "KWD", n)
	f.apply(captured(d1, 2000, "KWD", n))
	i, _ := f.state(inv, pay)
	if i.PaymentStatus != billing.PaymentPartiallyPaid || i.AmountPaid != 2000 || i.AmountRemaining() != 3000 {
		t.Fatalf("partial: %+v", i)
	}
	f.apply(captured(d2, 4000, "KWD", n))
	i, p := f.state(inv, pay)
	if i.PaymentStatus != billing.PaymentOverpaid || i.AmountPaid != 6000 || p.AmountReceived != 6000 {
		t.Fatalf("overpaid: %+v / %+v", i, p)
	}
	f.apply(refund("refund.processed", "rfnd_1", d2, 1000, "KWD"))
	f.apply(refund("refund.processed", "rfnd_1", d2, 1000, "KWD")) // duplicate
	i, p = f.state(inv, pay)
	if p.PaymentStatus != billing.PaymentPartiallyRefunded || p.RefundedAmount != 1000 || i.AmountPaid != 6000 || i.AmountRefunded != 1000 || i.PaymentStatus != billing.PaymentOverpaid || i.AmountRemaining() != 0 {
		t.Fatalf("partial refund: %+v / %+v", p, i)
	}
	f.apply(refund("refund.failed", "rfnd_2", d2, 500, "KWD"))
	f.apply(refund("refund.processed", "rfnd_3", d1, 5000, "KWD"))
	i, p = f.state(inv, pay)
	if p.PaymentStatus != billing.PaymentRefunded || p.RefundedAmount != 6000 || i.AmountPaid != 6000 || i.AmountRefunded != 6000 || i.AmountRemaining() != 0 || i.PaymentStatus != billing.PaymentRefunded {
		t.Fatalf("full refund: %+v / %+v", p, i)
	}
}

func TestUnmatchedEventsAreParkedAndRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	resp := f.sqs(captured("pay_E1", 100, "INR", nil), envelope("payment.captured", map[string]any{}))
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("an unmatched event failed the batch: %+v", resp)
	}
	page, err := f.store.ListGatewayEvents(f.ctx, f.sc, billing.GatewayEventUnmatched, billing.ListOptions{Limit: 10})
	if err != nil || len(page.Data) != 2 {
		t.Fatalf("parked: %v %+v", err, page)
	}
	// currency disagreeing with the payment is parked with a reason, not applied
	inv, pay, _ := f.invoice("INR", 100)
	f.sqs(captured("pay_E2", 100, "USD", notesOf(pay)))
	i, _ := f.state(inv, pay)
	if i.AmountPaid != 0 {
		t.Fatal("money in another currency was applied")
	}
	page, _ = f.store.ListGatewayEvents(f.ctx, f.sc, billing.GatewayEventUnmatched, billing.ListOptions{Limit: 10})
	if len(page.Data) != 3 || page.Data[0].Reason == "" {
		t.Fatalf("currency mismatch not parked: %+v", page.Data)
	}
	var first billing.GatewayEvent
	for _, e := range page.Data {
		if e.Event == "payment.captured" && e.Reason != "" && len(e.Body) > 0 && strings.Contains(e.Body, "pay_E1") {
			first = e
		}
	}
	if first.ID == "" {
		t.Fatalf("pay_E1's event is not parked: %+v", page.Data)
	}
	// An event that names nothing Razorbill knows stays parked on retry.
	if got, err := f.rec.Retry(f.ctx, f.sc, first.ID); err != nil || got.Status != billing.GatewayEventUnmatched || got.Attempts != 2 {
		t.Fatalf("retry of an event naming nothing: %+v %v", got, err)
	}
	// A capture whose payment is not stored yet (its notes name it) is
	// parked, and applied by a retry once the payment exists.
	inv2 := billing.Invoice{ID: ids.New(ids.Invoice)}
	pay2 := billing.Payment{ID: ids.New(ids.Payment), DestinationID: inv2.ID}
	n2 := notesOf(pay2)
	rp2 := f.rzPaid(100, "INR", n2)
	f.sqs(captured(rp2, 100, "INR", n2))
	var early billing.GatewayEvent
	page, _ = f.store.ListGatewayEvents(f.ctx, f.sc, billing.GatewayEventUnmatched, billing.ListOptions{Limit: 10})
	for _, e := range page.Data {
		if strings.Contains(e.Body, rp2) {
			early = e
		}
	}
	if early.ID == "" {
		t.Fatalf("the capture of a payment not stored yet is not parked: %+v", page.Data)
	}
	inv2, pay2, _ = f.invoiceWithIDs(inv2.ID, pay2.ID, "INR", 100)
	got, err := f.rec.Retry(f.ctx, f.sc, early.ID)
	if err != nil || got.Status != billing.GatewayEventApplied {
		t.Fatalf("retry: %+v %v", got, err)
	}
	i2, _ := f.state(inv2, pay2)
	if i2.AmountPaid != 100 {
		t.Fatalf("retried event not applied: %+v", i2)
	}
}

// Every delivery three times, shuffled, across two concurrent consumers:
// each invoice's amount_paid must equal the sum of its distinct captured
// payments.
func TestReplayedShuffledConcurrentDeliveriesCountOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rng := rand.New(rand.NewSource(42))
	type want struct {
		inv  billing.Invoice
		pay  billing.Payment
		paid int64
	}
	var wants []want
	var bodies []string
	for i := 0; i < 12; i++ {
		due := int64(1000 + rng.Intn(9000))
		inv, pay, plink := f.invoice("INR", due)
		n := notesOf(pay)
		w := want{inv: inv, pay: pay}
		for k := 0; k < 1+rng.Intn(3); k++ { // 1–3 distinct Razorpay payments
			amt := int64(100 + rng.Intn(2000))
			rp := f.rzPaid(amt, "INR", n)
			w.paid += amt
			bodies = append(bodies, captured(rp, amt, "INR", n), linkPaid(plink, rp, amt, "INR", n))
			if rng.Intn(2) == 0 {
				bodies = append(bodies, failed(fmt.Sprintf("pay_%02d%02dF", i, k), amt, "INR", n))
			}
		}
		wants = append(wants, w)
	}
	var all []string
	for r := 0; r < 3; r++ {
		all = append(all, bodies...)
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var wg sync.WaitGroup
	errs := make(chan error, len(all))
	for c := 0; c < 2; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < len(all); i += 2 {
				if err := f.rec.Apply(f.ctx, f.sc, billing.EventMessage{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, Body: all[i]}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("apply: %v", err)
	}
	for _, w := range wants {
		i, p := f.state(w.inv, w.pay)
		if i.AmountPaid != w.paid || p.AmountReceived != w.paid {
			t.Errorf("invoice %s: amount_paid %d, payment received %d, want %d", i.ID, i.AmountPaid, p.AmountReceived, w.paid)
		}
		want := billing.PaymentSucceeded
		if w.paid < p.Amount {
			want = billing.PaymentPartiallyPaid // what it received does not cover it
		}
		if p.PaymentStatus != want {
			t.Errorf("payment %s ended %s, want %s", p.ID, p.PaymentStatus, want)
		}
	}
}

// The razorpay-events SQS sample (a queued payment.captured) applies to the
// payment and invoice it names.
func TestSampleSQSEvent(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "sqs", "razorpay-events.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	var m billing.EventMessage
	if err := json.Unmarshal([]byte(ev.Records[0].Body), &m); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	f.sc = billing.Scope{TenantID: m.TenantID, EnvironmentID: m.EnvironmentID}
	now := time.Now().UTC()
	// the sample's environment has an active connection (events of a disabled one are parked)
	kek, _ := secrets.NewLocalKEK([]byte("0123456789abcdef0123456789abcdef"))
	box := secrets.NewBox(kek)
	sealed, err := box.Seal(f.ctx, f.cr.KeySecret, m.TenantID+"/"+m.EnvironmentID+"/key_secret")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.PutConnection(f.ctx, billing.Connection{TenantID: m.TenantID, EnvironmentID: m.EnvironmentID, KeyID: f.cr.KeyID, KeySecretSealed: sealed,
		Status: billing.ConnectionActive, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	// The sample names its payment only in notes (no link, no Razorpay
	// invoice), so the reconciler confirms it at Razorpay. The simulator
	// never made pay_DESlfW9H8K9uqM: here GET /v1/payments/{id} answers with
	// the sample's own payment entity, as Razorpay would for it (the
	// confirmation through the simulator is TestCapturedAndLinkPaidCountOnce's).
	rzEv, err := razorpay.ParseEvent([]byte(m.Body))
	if err != nil || rzEv.Payment == nil {
		t.Fatalf("sample body: %v", err)
	}
	gw := &samplePayments{pay: *rzEv.Payment}
	f.rec = &reconcile.Reconciler{Store: f.store, Gateway: gw, Secrets: box, Log: logx.New(io.Discard, "error")}
	inv := billing.Invoice{ID: "inv_01jh0000000000000000000003", CustomerID: "cus_01jh0000000000000000000002", Currency: "INR", InvoiceNumber: "INV-000042",
		AmountDue: 10000, Subtotal: 10000, InvoiceStatus: billing.InvoiceFinalized, PaymentStatus: billing.PaymentPending, Metadata: map[string]string{},
		OpenPaymentID: "pay_01jh0000000000000000000009", CreatedAt: now, UpdatedAt: now, Version: 1}
	pay := billing.Payment{ID: "pay_01jh0000000000000000000009", DestinationID: inv.ID, DestinationType: "INVOICE", Amount: 10000, Currency: "INR",
		PaymentStatus: billing.PaymentPending, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := f.store.CreateInvoice(f.ctx, f.sc, inv); err != nil {
		t.Fatal(err)
	}
	if err := f.store.CreatePayment(f.ctx, f.sc, pay); err != nil {
		t.Fatal(err)
	}
	resp, err := f.rec.HandleSQS(f.ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v %+v", err, resp)
	}
	i, p := f.state(inv, pay)
	if i.AmountPaid != 10000 || i.PaymentStatus != billing.PaymentSucceeded || p.GatewayPaymentID != "pay_DESlfW9H8K9uqM" {
		t.Fatalf("sample not applied: %+v / %+v", i, p)
	}
	if gw.fetched != 1 {
		t.Errorf("the sample's payment was confirmed %d times, want 1", gw.fetched)
	}
}

// samplePayments answers GET /v1/payments/{id} for one payment.
type samplePayments struct {
	pay     razorpay.Payment
	fetched int
}

func (g *samplePayments) FetchPayment(_ context.Context, _ razorpay.Credentials, id string) (razorpay.Payment, error) {
	g.fetched++
	if id != g.pay.ID {
		return razorpay.Payment{}, fmt.Errorf("no payment %s", id)
	}
	return g.pay, nil
}

// A failure holds back the rest of its message group only.
func TestBatchFailureHoldsBackOnlyItsGroup(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, pay, _ := f.invoice("INR", 100)
	good := func(id, group string) events.SQSMessage {
		m, _ := json.Marshal(billing.EventMessage{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, Event: "payment.authorized",
			Body: envelope("payment.authorized", map[string]any{"payment": entity(paymentEntity("pay_G"+id, 100, "INR", "authorized", notesOf(pay)))})})
		return events.SQSMessage{MessageId: id, Body: string(m), Attributes: map[string]string{"MessageGroupId": group}}
	}
	bad := events.SQSMessage{MessageId: "bad", Body: "not json", Attributes: map[string]string{"MessageGroupId": "a"}}
	resp, err := f.rec.HandleSQS(f.ctx, events.SQSEvent{Records: []events.SQSMessage{good("1", "a"), bad, good("2", "a"), good("3", "b")}})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, x := range resp.BatchItemFailures {
		failed = append(failed, x.ItemIdentifier)
	}
	if fmt.Sprint(failed) != "[bad 2]" {
		t.Fatalf("failed %v, want [bad 2]", failed)
	}
}
