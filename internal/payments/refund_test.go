package payments_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/payments"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/testenv"
)

var (
	_ payments.RefundStore   = (*dynamo.Store)(nil)
	_ payments.RefundGateway = (*razorpay.Client)(nil)
)

// rig is DynamoDB Local, the Razorpay simulator over HTTP, the real client
// and the payment service with a clock the test moves.
type rig struct {
	t     *testing.T
	ctx   context.Context
	store *dynamo.Store
	sim   *razorpaysim.Simulator
	acct  razorpaysim.Account
	rzp   *razorpay.Client
	cr    razorpay.Credentials
	svc   *payments.Service
	sc    billing.Scope
	now   time.Time
}

// failingStore is the real store whose SaveRefund fails once, as a storage
// outage after Razorpay answered would.
type failingStore struct {
	*dynamo.Store
	failSave int
}

func (f *failingStore) SaveRefund(ctx context.Context, sc billing.Scope, rf billing.Refund, expectedRefund int64, p *billing.Payment, expectedPayment int64) error {
	if f.failSave > 0 {
		f.failSave--
		return apperr.E(apperr.Transient, "storage_unavailable", "storage is unavailable; retry")
	}
	return f.Store.SaveRefund(ctx, sc, rf, expectedRefund, p, expectedPayment)
}

func newRig(t *testing.T) *rig {
	t.Helper()
	env := testenv.AWS(t)
	r := &rig{t: t, ctx: context.Background(), store: dynamo.New(env.DDB, env.Table()),
		sc: billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)}, now: time.Now().UTC()}
	r.sim = razorpaysim.New(razorpaysim.Options{MaxHang: 3 * time.Second})
	ts := httptest.NewServer(r.sim)
	t.Cleanup(func() { ts.Close(); r.sim.Close() })
	r.acct = r.sim.DefaultAccount()
	r.rzp = razorpay.NewClient(razorpay.Config{BaseURL: ts.URL, AttemptTimeout: 300 * time.Millisecond, MaxRetries: 1,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	r.cr = razorpay.Credentials{KeyID: r.acct.KeyID, KeySecret: r.acct.KeySecret}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	kek, err := secrets.NewLocalKEK(key)
	if err != nil {
		t.Fatal(err)
	}
	box := secrets.NewBox(kek)
	sealed, err := box.Seal(r.ctx, r.acct.KeySecret, r.sc.TenantID+"/"+r.sc.EnvironmentID+"/key_secret")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.store.PutConnection(r.ctx, billing.Connection{TenantID: r.sc.TenantID, EnvironmentID: r.sc.EnvironmentID, KeyID: r.acct.KeyID,
		KeySecretSealed: sealed, Status: billing.ConnectionActive, CreatedAt: r.now, UpdatedAt: r.now}); err != nil {
		t.Fatal(err)
	}
	r.svc = &payments.Service{Store: r.store, Gateway: r.rzp, Secrets: box, Minimums: money.DefaultMinimums(), Now: func() time.Time { return r.now }}
	return r
}

// paid makes a SUCCEEDED payment of an invoice, collected by one Razorpay
// payment per amount (oldest first), each captured at the simulator.
func (r *rig) paid(amounts ...int64) (billing.Invoice, billing.Payment) {
	r.t.Helper()
	var total int64
	var caps []billing.Capture
	for i, a := range amounts {
		link, err := r.rzp.CreatePaymentLink(r.ctx, r.cr, razorpay.PaymentLinkInput{Amount: a, Currency: "INR", ReferenceID: ids.New("r"),
			Description: "test", ExpireBy: r.now.Add(24 * time.Hour)})
		if err != nil {
			r.t.Fatal(err)
		}
		res, err := r.sim.PayPaymentLink(link.ID, razorpaysim.PayOptions{})
		if err != nil {
			r.t.Fatal(err)
		}
		caps = append(caps, billing.Capture{RazorpayPaymentID: res.PaymentID, Amount: a, CapturedAt: r.now.Add(time.Duration(i) * time.Minute)})
		total += a
	}
	inv := billing.Invoice{ID: ids.New(ids.Invoice), CustomerID: ids.New(ids.Customer), Currency: "INR", InvoiceNumber: ids.New("")[:20],
		LineItems: []billing.LineItem{{DisplayName: "Fee", PriceType: "FIXED", Quantity: "1", UnitAmount: "1", Amount: total}},
		Subtotal:  total, AmountDue: total, AmountPaid: total, InvoiceStatus: billing.InvoiceFinalized, PaymentStatus: billing.PaymentSucceeded,
		SyncStatus: billing.SyncNotSynced, Metadata: map[string]string{}, CreatedAt: r.now, UpdatedAt: r.now, Version: 1}
	if err := r.store.CreateInvoice(r.ctx, r.sc, inv); err != nil {
		r.t.Fatal(err)
	}
	pay := billing.Payment{ID: ids.New(ids.Payment), DestinationID: inv.ID, DestinationType: "INVOICE", CustomerID: inv.CustomerID, Amount: total,
		Currency: "INR", PaymentStatus: billing.PaymentSucceeded, PaymentMethodType: "PAYMENT_LINK", PaymentGateway: "razorpay", ProcessPayment: true,
		GatewayPaymentID: caps[len(caps)-1].RazorpayPaymentID, AmountReceived: total, Captures: caps, Metadata: map[string]string{},
		CreatedAt: r.now, UpdatedAt: r.now, Version: 1}
	if err := r.store.CreatePayment(r.ctx, r.sc, pay); err != nil {
		r.t.Fatal(err)
	}
	return inv, pay
}

func (r *rig) simRefunds() []razorpay.Refund {
	var out []razorpay.Refund
	for _, raw := range r.sim.Objects(r.acct.KeyID).Refunds {
		var rf razorpay.Refund
		if err := rf.UnmarshalJSON(raw); err != nil {
			r.t.Fatal(err)
		}
		out = append(out, rf)
	}
	return out
}

func (r *rig) payment(id string) billing.Payment {
	r.t.Helper()
	p, err := r.store.Payment(r.ctx, r.sc, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

func (r *rig) fault(kind razorpaysim.FaultKind, count int) {
	r.t.Helper()
	if err := r.sim.InjectFault(razorpaysim.Fault{Kind: kind, Method: "POST", Path: "/v1/payments/*", Count: count}); err != nil {
		r.t.Fatal(err)
	}
}

// A refund whose answer never came (Razorpay made it, then the connection
// hung) stays PENDING; the client's retry with the same Idempotency-Key gets
// the same refund, settled by looking it up — Razorpay holds ONE refund.
func TestRetryWithTheSameKeyAfterATimeoutRefundsOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	inv, pay := r.paid(10000)
	r.fault(razorpaysim.FaultTimeoutAfterCreate, 5)
	first, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "50.00", "duplicate order", "client-key-1")
	if err != nil {
		t.Fatal(err)
	}
	if first.Refund.Status != billing.RefundPending || len(first.Refund.Parts) != 1 || first.Refund.Parts[0].RazorpayRefundID != "" ||
		first.Payment.RefundPending != 5000 {
		t.Fatalf("after the timeout: %+v", first)
	}
	r.sim.ClearFaults()
	again, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "50.00", "duplicate order", "client-key-1")
	if err != nil {
		t.Fatal(err)
	}
	rz := r.simRefunds()
	if len(rz) != 1 || rz[0].Amount != 5000 {
		t.Fatalf("Razorpay holds %d refunds: %+v", len(rz), rz)
	}
	if again.Refund.ID != first.Refund.ID || again.Refund.Status != billing.RefundProcessed || again.Refund.Parts[0].RazorpayRefundID != rz[0].ID {
		t.Fatalf("the retry: %+v", again.Refund)
	}
	p := r.payment(pay.ID)
	if p.RefundPending != 0 || p.RefundedAmount != 5000 || p.PaymentStatus != billing.PaymentPartiallyRefunded {
		t.Fatalf("payment: %+v", p)
	}
	i, _ := r.store.Invoice(r.ctx, r.sc, inv.ID)
	if i.AmountPaid != 10000 || i.AmountRefunded != 5000 || i.AmountRemaining() != 0 || i.PaymentStatus != billing.PaymentSucceeded {
		t.Fatalf("invoice: %+v", i)
	}
	// the same key for another request is refused, and changes nothing
	if _, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "20.00", "", "client-key-1"); !apperr.HasCode(err, "idempotency_key_reused") {
		t.Fatalf("a reused key: %v", err)
	}
	if len(r.simRefunds()) != 1 {
		t.Fatal("a reused key sent a refund")
	}
}

// A 5xx answer to the client (here: storage failing after Razorpay
// answered) makes the router forget the response; the retry with the same
// Idempotency-Key finds the refund through its own mapping.
func TestRetryAfterA5xxFindsTheSameRefund(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	_, pay := r.paid(10000)
	fs := &failingStore{Store: r.store, failSave: 1}
	r.svc.Store = fs
	if _, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "", "", "client-key-2"); !apperr.Retryable(err) {
		t.Fatalf("first answer: %v", err)
	}
	res, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "", "", "client-key-2")
	if err != nil {
		t.Fatal(err)
	}
	if rz := r.simRefunds(); len(rz) != 1 || rz[0].Amount != 10000 || res.Refund.Parts[0].RazorpayRefundID != rz[0].ID {
		t.Fatalf("Razorpay holds %+v; refund %+v", rz, res.Refund)
	}
	if p := r.payment(pay.ID); p.PaymentStatus != billing.PaymentRefunded || p.RefundPending != 0 {
		t.Fatalf("payment: %+v", p)
	}
}

// A 500 after Razorpay made the refund: PENDING, then GET …/refunds finds it
// in Razorpay's list (by our part key) and settles it.
func TestUnknownOutcomeIsResolvedByLookup(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	_, pay := r.paid(10000)
	r.fault(razorpaysim.Fault500AfterCreate, 5)
	res, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "30.00", "", "")
	if err != nil || res.Refund.Status != billing.RefundPending || res.Refund.Parts[0].RazorpayRefundID != "" {
		t.Fatalf("after the 500: %+v %v", res.Refund, err)
	}
	r.sim.ClearFaults()
	page, err := r.svc.Refunds(r.ctx, r.sc, pay.ID, billing.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rz := r.simRefunds()
	if len(rz) != 1 {
		t.Fatalf("%d refunds at Razorpay", len(rz))
	}
	got, err := r.store.Refund(r.ctx, r.sc, res.Refund.ID)
	if err != nil || got.Status != billing.RefundProcessed || got.Parts[0].RazorpayRefundID != rz[0].ID || len(page.Data) != 1 {
		t.Fatalf("after the lookup: %+v %v (listed %d)", got, err, len(page.Data))
	}
	if p := r.payment(pay.ID); p.RefundedAmount != 3000 || p.RefundPending != 0 || p.Captures[0].Refunded != 3000 {
		t.Fatalf("payment: %+v", p)
	}
}

// 409 ("in progress") is not a refusal: the reservation stays while the
// refund may still be made, and is released only after the grace period
// when Razorpay's list never shows it.
func TestConflictKeepsTheReservationUntilTheGracePeriodEnds(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	_, pay := r.paid(10000)
	r.fault(razorpaysim.Fault409, 10)
	res, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "40.00", "", "")
	if err != nil || res.Refund.Status != billing.RefundPending {
		t.Fatalf("after 409: %+v %v", res.Refund, err)
	}
	r.sim.ClearFaults()
	if p := r.payment(pay.ID); p.RefundPending != 4000 || p.Captures[0].RefundPending != 4000 {
		t.Fatalf("the reservation was released on 409: %+v", p)
	}
	// within the grace period a lookup that finds nothing keeps it
	r.now = r.now.Add(payments.DefaultRefundGrace - time.Minute)
	if _, err := r.svc.Refunds(r.ctx, r.sc, pay.ID, billing.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if p := r.payment(pay.ID); p.RefundPending != 4000 {
		t.Fatalf("released before the grace period: %+v", p)
	}
	// and only 60.00 can be refunded meanwhile
	if _, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "60.01", "", ""); !apperr.HasCode(err, "refund_exceeds_payment") {
		t.Fatalf("over the reservation: %v", err)
	}
	r.now = r.now.Add(2 * time.Minute)
	if _, err := r.svc.Refunds(r.ctx, r.sc, pay.ID, billing.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	got, _ := r.store.Refund(r.ctx, r.sc, res.Refund.ID)
	if p := r.payment(pay.ID); p.RefundPending != 0 || p.Captures[0].RefundPending != 0 || got.Status != billing.RefundFailed {
		t.Fatalf("after the grace period: %+v %+v", p, got)
	}
	if len(r.simRefunds()) != 0 {
		t.Fatal("a lookup sent a refund")
	}
	// the money is refundable again
	if _, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "100.00", "", ""); err != nil {
		t.Fatal(err)
	}
}

// Rate limited on every attempt (nothing done) → the refund fails and its
// reservation is released.
func TestRefusedRefundReleasesTheReservation(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	_, pay := r.paid(10000)
	r.fault(razorpaysim.Fault429, 10)
	_, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "40.00", "", "client-key-3")
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != "razorpay_refund_failed" {
		t.Fatalf("refused: %v", err)
	}
	if p := r.payment(pay.ID); p.RefundPending != 0 || p.Captures[0].RefundPending != 0 {
		t.Fatalf("reservation kept: %+v", p)
	}
	// the same key answers the same refusal without calling Razorpay
	r.sim.ClearFaults()
	if _, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "40.00", "", "client-key-3"); !apperr.HasCode(err, "razorpay_refund_failed") {
		t.Fatalf("retry of a refused refund: %v", err)
	}
	if len(r.simRefunds()) != 0 {
		t.Fatal("Razorpay refunded")
	}
}

// Two Razorpay payments (60.00 then 40.00): a refund of 80.00 takes the
// newest first — 40.00 of the second, then 40.00 of the first — one
// Razorpay refund each, with its own key.
func TestRefundSplitsAcrossCapturesNewestFirst(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	_, pay := r.paid(6000, 4000)
	res, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "80.00", "", "")
	if err != nil {
		t.Fatal(err)
	}
	ps := res.Refund.Parts
	if len(ps) != 2 || ps[0].RazorpayPaymentID != pay.Captures[1].RazorpayPaymentID || ps[0].Amount != 4000 ||
		ps[1].RazorpayPaymentID != pay.Captures[0].RazorpayPaymentID || ps[1].Amount != 4000 ||
		ps[0].Key != res.Refund.ID+"-1" || ps[1].Key != res.Refund.ID+"-2" || ps[0].RazorpayRefundID == "" || ps[1].RazorpayRefundID == "" {
		t.Fatalf("parts: %+v", ps)
	}
	byPay := map[string]int64{}
	for _, rf := range r.simRefunds() {
		byPay[rf.PaymentID] += rf.Amount
	}
	if len(byPay) != 2 || byPay[pay.Captures[0].RazorpayPaymentID] != 4000 || byPay[pay.Captures[1].RazorpayPaymentID] != 4000 {
		t.Fatalf("at Razorpay: %v", byPay)
	}
	// what is left (20.00 of the first capture) is the most a refund can take
	if _, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "20.01", "", ""); !apperr.HasCode(err, "refund_exceeds_payment") {
		t.Fatalf("over what is left: %v", err)
	}
	if _, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "0.50", "", ""); !apperr.HasCode(err, "amount_below_minimum") {
		t.Fatalf("below ₹1.00: %v", err)
	}
}

// A payment recorded before Captures existed refunds its GatewayPaymentID.
func TestRefundOfAPaymentWithoutCaptures(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	_, pay := r.paid(10000)
	pay.Captures = nil
	if err := r.store.UpdatePayment(r.ctx, r.sc, pay, pay.Version); err != nil {
		t.Fatal(err)
	}
	res, err := r.svc.Refund(r.ctx, r.sc, pay.ID, "", "", "")
	if err != nil || len(res.Refund.Parts) != 1 || res.Refund.Parts[0].RazorpayPaymentID != pay.GatewayPaymentID || res.Refund.Amount != 10000 {
		t.Fatalf("%+v %v", res.Refund, err)
	}
}
