package payments_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/payments"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
	"github.com/razorbill/razorbill/internal/reconcile"
	"github.com/razorbill/razorbill/internal/rzsync"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is the payment service over DynamoDB Local and the Razorpay
// simulator (real HTTP, the real client), with the reconciler as its
// Applier and a clock the test moves.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	store  *dynamo.Store
	sim    *razorpaysim.Simulator
	acct   razorpaysim.Account
	client *razorpay.Client
	svc    *payments.Service
	syncer *rzsync.Syncer
	sc     billing.Scope
	offset atomic.Int64 // added to the wall clock, ns
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := testenv.AWS(t)
	f := &fixture{t: t, ctx: context.Background(), store: dynamo.New(env.DDB, env.Table()),
		sc: billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)}}
	f.sim = razorpaysim.New(razorpaysim.Options{ExpirySweep: -1})
	ts := httptest.NewServer(f.sim)
	t.Cleanup(func() { ts.Close(); f.sim.Close() })
	f.acct = f.sim.DefaultAccount()
	f.client = razorpay.NewClient(razorpay.Config{BaseURL: ts.URL, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	kek, err := secrets.NewLocalKEK(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	box := secrets.NewBox(kek)
	sealed, err := box.Seal(f.ctx, f.acct.KeySecret, f.sc.TenantID+"/"+f.sc.EnvironmentID+"/key_secret")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := f.store.PutConnection(f.ctx, billing.Connection{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, Name: "test",
		KeyID: f.acct.KeyID, KeySecretSealed: sealed, Status: billing.ConnectionActive, CustomerSync: "ON_DEMAND", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return time.Now().UTC().Add(time.Duration(f.offset.Load())) }
	f.syncer = &rzsync.Syncer{Store: f.store, Gateway: f.client, Secrets: box}
	f.svc = &payments.Service{Store: f.store, Gateway: f.client, Customers: f.syncer, Secrets: box, Now: clock,
		Instruments: f.client, Applier: &reconcile.Reconciler{Store: f.store, Log: logx.New(io.Discard, "error")}}
	return f
}

// invoice makes a customer and a FINALIZED invoice of ₹100.00.
func (f *fixture) invoice() billing.Invoice {
	f.t.Helper()
	now := time.Now().UTC()
	cus := billing.Customer{ID: ids.New(ids.Customer), ExternalID: ids.New(""), Name: "Ravi Kumar", Email: "ravi@example.com", Phone: "+919876543210",
		Metadata: map[string]string{}, SyncStatus: billing.SyncNotSynced, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := f.store.CreateCustomer(f.ctx, f.sc, cus); err != nil {
		f.t.Fatal(err)
	}
	inv := billing.Invoice{ID: ids.New(ids.Invoice), CustomerID: cus.ID, Currency: "INR", InvoiceNumber: "INV-" + ids.New("")[len(ids.New(""))-10:],
		LineItems: []billing.LineItem{{DisplayName: "Platform fee", PriceType: "FIXED", Quantity: "1", UnitAmount: "100", Amount: 10000}},
		Subtotal:  10000, AmountDue: 10000, InvoiceStatus: billing.InvoiceFinalized, PaymentStatus: billing.PaymentPending, SyncStatus: billing.SyncNotSynced,
		Metadata: map[string]string{}, FinalizedAt: &now, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := f.store.CreateInvoice(f.ctx, f.sc, inv); err != nil {
		f.t.Fatal(err)
	}
	return inv
}

func req(inv billing.Invoice) payments.CreateInput {
	return payments.CreateInput{Amount: "100", AmountSet: true, Currency: "inr", DestinationID: inv.ID, DestinationType: "INVOICE", PaymentMethodType: "PAYMENT_LINK"}
}

func (f *fixture) links() []razorpay.PaymentLink {
	var out []razorpay.PaymentLink
	for _, raw := range f.sim.Objects(f.acct.KeyID).PaymentLinks {
		var l razorpay.PaymentLink
		if err := json.Unmarshal(raw, &l); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

func (f *fixture) link(id string) razorpay.PaymentLink {
	f.t.Helper()
	for _, l := range f.links() {
		if l.ID == id {
			return l
		}
	}
	f.t.Fatalf("no link %s at Razorpay", id)
	return razorpay.PaymentLink{}
}

func (f *fixture) inv(id string) billing.Invoice {
	f.t.Helper()
	inv, err := f.store.Invoice(f.ctx, f.sc, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return inv
}

func (f *fixture) pay(id string) billing.Payment {
	f.t.Helper()
	p, err := f.store.Payment(f.ctx, f.sc, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func code(err error) string {
	if e := apperr.As(err); e != nil {
		return e.Code
	}
	return ""
}

func details(err error) map[string]any {
	if e := apperr.As(err); e != nil {
		return e.Details
	}
	return nil
}

// A request that claimed the invoice and died (its link created at
// Razorpay, never stored) holds the invoice until its claim runs out;
// then exactly one of many concurrent requests takes it over and finishes
// it with the same link.
func TestAbandonedClaimIsTakenOverOnceAndHealedToItsLink(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.invoice()
	// The dead request: its claim written, its link made at Razorpay.
	now := time.Now().UTC()
	until := now.Add(payments.DefaultClaimWindow)
	dead := billing.Payment{ID: ids.New(ids.Payment), DestinationID: inv.ID, DestinationType: "INVOICE", CustomerID: inv.CustomerID, Amount: 10000, Currency: "INR",
		PaymentStatus: billing.PaymentPending, PaymentMethodType: "PAYMENT_LINK", PaymentGateway: "razorpay", ProcessPayment: true,
		ClaimedUntil: &until, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now, Version: 1}
	expected := inv.Version
	inv.Version++
	inv.OpenPaymentID = dead.ID
	if err := f.store.SavePaymentAndInvoice(f.ctx, f.sc, dead, 0, inv, expected, nil); err != nil {
		t.Fatal(err)
	}
	cr := razorpay.Credentials{KeyID: f.acct.KeyID, KeySecret: f.acct.KeySecret}
	made, err := f.client.CreatePaymentLink(f.ctx, cr, razorpay.PaymentLinkInput{Amount: 10000, Currency: "INR", ReferenceID: dead.ID})
	if err != nil {
		t.Fatal(err)
	}
	// While the claim is young: 409 with the payment and no URL yet, and
	// nothing sent to Razorpay.
	before := f.sim.Calls("POST", "/v1/payment_links")
	_, err = f.svc.Create(f.ctx, f.sc, req(inv))
	if code(err) != "payment_link_exists" || details(err)["payment_id"] != dead.ID || details(err)["payment_url"] != nil {
		t.Fatalf("young claim: %v %v", err, details(err))
	}
	if n := f.sim.Calls("POST", "/v1/payment_links"); n != before {
		t.Fatalf("a young claim was finished by another request: %d creates", n-before)
	}
	// After the claim's window: ten requests at once, one takes it over.
	f.offset.Store(int64(payments.DefaultClaimWindow + time.Second))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok []billing.Payment
	conflicts := 0
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := f.svc.Create(f.ctx, f.sc, req(inv))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok = append(ok, p)
			case code(err) == "payment_link_exists":
				conflicts++
			default:
				t.Errorf("unexpected: %v", err)
			}
		}()
	}
	wg.Wait()
	if len(ok) != 1 || conflicts != 9 {
		t.Fatalf("after the window: %d created, %d conflicts", len(ok), conflicts)
	}
	if ok[0].ID != dead.ID || ok[0].GatewayTrackingID != made.ID || len(f.links()) != 1 {
		t.Fatalf("healed to %+v; links at Razorpay %d", ok[0], len(f.links()))
	}
	if n := f.sim.Calls("POST", "/v1/payment_links") - before; n != 1 {
		t.Fatalf("%d Razorpay creates after the take-over, want 1", n)
	}
}

// A request that ends without a link because Razorpay is unreachable gives
// its claim up: the client's immediate retry finishes the same payment.
func TestOutageGivesTheClaimUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.invoice()
	if err := f.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.Fault500, Method: "POST", Path: "/v1/payment_links", Count: 10}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if !apperr.Retryable(err) {
		t.Fatalf("outage: %v", err)
	}
	open := f.inv(inv.ID).OpenPaymentID
	if p := f.pay(open); p.ClaimedUntil == nil || p.ClaimedUntil.After(time.Now().Add(time.Second)) {
		t.Fatalf("the claim was kept: %+v", p.ClaimedUntil)
	}
	f.sim.ClearFaults()
	p, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if err != nil || p.ID != open || p.PaymentURL == "" || len(f.links()) != 1 {
		t.Fatalf("retry: %+v %v, links %d", p, err, len(f.links()))
	}
}

// PROCESSING (authorized, not captured) holds the invoice as PENDING does.
func TestProcessingPaymentHoldsTheInvoice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.invoice()
	p, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if err != nil {
		t.Fatal(err)
	}
	cur := f.pay(p.ID)
	expected := cur.Version
	cur.Version++
	cur.PaymentStatus = billing.PaymentProcessing
	if err := f.store.UpdatePayment(f.ctx, f.sc, cur, expected); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Create(f.ctx, f.sc, req(inv))
	if code(err) != "payment_link_exists" || details(err)["payment_id"] != p.ID || details(err)["payment_url"] != p.PaymentURL {
		t.Fatalf("second request while PROCESSING: %v %v", err, details(err))
	}
	if len(f.links()) != 1 {
		t.Fatalf("%d links at Razorpay", len(f.links()))
	}
}

// failed marks a payment FAILED and frees its invoice, as payment.failed
// does today, while its link stays created (and payable) at Razorpay.
func (f *fixture) failed(p billing.Payment) {
	f.t.Helper()
	cur, inv := f.pay(p.ID), f.inv(p.DestinationID)
	ep, ei := cur.Version, inv.Version
	cur.Version++
	inv.Version++
	cur.PaymentStatus, cur.ErrorCode = billing.PaymentFailed, "BAD_REQUEST_ERROR"
	inv.OpenPaymentID = ""
	if err := f.store.SavePaymentAndInvoice(f.ctx, f.sc, cur, ep, inv, ei, nil); err != nil {
		f.t.Fatal(err)
	}
}

func TestNewLinkCancelsEarlierCreatedLinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.invoice()
	first, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sim.FailPaymentLink(first.GatewayTrackingID, razorpaysim.FailOptions{}); err != nil {
		t.Fatal(err)
	}
	f.failed(first)
	second, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if err != nil {
		t.Fatal(err)
	}
	if st := f.link(first.GatewayTrackingID).Status; st != "cancelled" {
		t.Fatalf("the earlier link is %s at Razorpay", st)
	}
	if st := f.link(second.GatewayTrackingID).Status; st != "created" || second.ID == first.ID {
		t.Fatalf("the new link is %s", st)
	}
	// A third request is refused by the open second one and cancels nothing.
	if _, err := f.svc.Create(f.ctx, f.sc, req(inv)); code(err) != "payment_link_exists" {
		t.Fatal(err)
	}
	if f.link(second.GatewayTrackingID).Status != "created" {
		t.Fatal("the open link was cancelled")
	}
}

func TestEarlierLinkFoundPaidRefusesTheNewLinkAndAppliesTheMoney(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.invoice()
	first, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if err != nil {
		t.Fatal(err)
	}
	f.failed(first)
	// The customer pays the old link; its webhook has not arrived.
	if _, err := f.sim.PayPaymentLink(first.GatewayTrackingID, razorpaysim.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Create(f.ctx, f.sc, req(inv))
	if code(err) != "invoice_already_paid" {
		t.Fatalf("new link over a paid one: %v", err)
	}
	if len(f.links()) != 1 {
		t.Fatalf("%d links at Razorpay", len(f.links()))
	}
	got := f.inv(inv.ID)
	if got.AmountPaid != 10000 || got.PaymentStatus != billing.PaymentSucceeded {
		t.Fatalf("money not applied: paid %d, %s", got.AmountPaid, got.PaymentStatus)
	}
	if p := f.pay(first.ID); p.PaymentStatus != billing.PaymentSucceeded || p.AmountReceived != 10000 {
		t.Fatalf("payment: %s %d", p.PaymentStatus, p.AmountReceived)
	}
}

func TestCancelPayment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.invoice()
	p, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.Cancel(f.ctx, f.sc, p.ID)
	if err != nil || c.PaymentStatus != billing.PaymentCancelled {
		t.Fatalf("cancel: %+v %v", c.PaymentStatus, err)
	}
	if f.link(p.GatewayTrackingID).Status != "cancelled" || f.inv(inv.ID).OpenPaymentID != "" {
		t.Fatal("the link stays open or the invoice stays held")
	}
	if _, err := f.svc.Cancel(f.ctx, f.sc, p.ID); code(err) != "payment_not_cancellable" {
		t.Fatalf("second cancel: %v", err)
	}
	// The invoice is free: a new link.
	again, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if err != nil || again.ID == p.ID {
		t.Fatalf("after cancel: %+v %v", again, err)
	}
	// Paid at Razorpay before the webhook: refused, money applied.
	if _, err := f.sim.PayPaymentLink(again.GatewayTrackingID, razorpaysim.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Cancel(f.ctx, f.sc, again.ID); code(err) != "invoice_already_paid" {
		t.Fatalf("cancel of a paid link: %v", err)
	}
	if got := f.inv(inv.ID); got.AmountPaid != 10000 || got.PaymentStatus != billing.PaymentSucceeded {
		t.Fatalf("money not applied: %d %s", got.AmountPaid, got.PaymentStatus)
	}
	// A young claim without a link cannot be cancelled yet.
	inv2 := f.invoice()
	now := time.Now().UTC()
	until := now.Add(time.Minute)
	claim := billing.Payment{ID: ids.New(ids.Payment), DestinationID: inv2.ID, DestinationType: "INVOICE", CustomerID: inv2.CustomerID, Amount: 10000, Currency: "INR",
		PaymentStatus: billing.PaymentPending, PaymentMethodType: "PAYMENT_LINK", PaymentGateway: "razorpay", ProcessPayment: true,
		ClaimedUntil: &until, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := f.store.CreatePayment(f.ctx, f.sc, claim); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Cancel(f.ctx, f.sc, claim.ID); code(err) != "payment_not_cancellable" {
		t.Fatalf("cancel of a claim in progress: %v", err)
	}
}

func TestVoidCancelsLinksAndTheRazorpayInvoice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// An earlier failed link, still created (payable) at Razorpay, with the
	// invoice free: void cancels it.
	inv := f.invoice()
	old, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if err != nil {
		t.Fatal(err)
	}
	f.failed(old)
	if v, err := f.svc.VoidInvoice(f.ctx, f.sc, inv.ID); err != nil || v.InvoiceStatus != billing.InvoiceVoided {
		t.Fatalf("void: %+v %v", v, err)
	}
	if st := f.link(old.GatewayTrackingID).Status; st != "cancelled" {
		t.Fatalf("the earlier link is %s after void", st)
	}
	// An open link: cancelled, the payment CANCELLED, the invoice voided.
	inv2 := f.invoice()
	open, err := f.svc.Create(f.ctx, f.sc, req(inv2))
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.VoidInvoice(f.ctx, f.sc, inv2.ID)
	if err != nil || v.InvoiceStatus != billing.InvoiceVoided || v.OpenPaymentID != "" {
		t.Fatalf("void: %+v %v", v, err)
	}
	if st := f.link(open.GatewayTrackingID).Status; st != "cancelled" {
		t.Fatalf("the open link is %s after void", st)
	}
	if p := f.pay(open.ID); p.PaymentStatus != billing.PaymentCancelled {
		t.Fatalf("open payment: %s", p.PaymentStatus)
	}
	// A synced Razorpay invoice is cancelled at Razorpay first.
	synced := f.syncedInvoice()
	if v, err := f.svc.VoidInvoice(f.ctx, f.sc, synced.ID); err != nil || v.InvoiceStatus != billing.InvoiceVoided {
		t.Fatalf("void synced: %v", err)
	}
	if st := f.rzInvoice(synced.RazorpayInvoiceID).Status; st != "cancelled" {
		t.Fatalf("the Razorpay invoice is %s", st)
	}
	// Paid at Razorpay before its webhook: void refused, money applied.
	paid := f.syncedInvoice()
	if _, err := f.sim.PayInvoice(paid.RazorpayInvoiceID, razorpaysim.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.VoidInvoice(f.ctx, f.sc, paid.ID); code(err) != "invoice_already_paid" {
		t.Fatalf("void of a paid Razorpay invoice: %v", err)
	}
	if got := f.inv(paid.ID); got.InvoiceStatus != billing.InvoiceFinalized || got.AmountPaid != 10000 {
		t.Fatalf("after refused void: %s paid %d", got.InvoiceStatus, got.AmountPaid)
	}
}

// An open link paid at Razorpay before its webhook: void refused, money applied.
func TestVoidOfAPaidLinkIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.invoice()
	p, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sim.PayPaymentLink(p.GatewayTrackingID, razorpaysim.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.VoidInvoice(f.ctx, f.sc, inv.ID); code(err) != "invoice_already_paid" {
		t.Fatalf("void: %v", err)
	}
	if got := f.inv(inv.ID); got.InvoiceStatus != billing.InvoiceFinalized || got.PaymentStatus != billing.PaymentSucceeded {
		t.Fatalf("after refused void: %s %s", got.InvoiceStatus, got.PaymentStatus)
	}
}

// syncedInvoice makes an invoice synced to a Razorpay invoice by the syncer.
func (f *fixture) syncedInvoice() billing.Invoice {
	f.t.Helper()
	inv := f.invoice()
	got, err := f.syncer.SyncInvoice(f.ctx, f.sc, inv.ID, true)
	if err != nil {
		f.t.Fatal(err)
	}
	if got.RazorpayInvoiceID == "" {
		f.t.Fatalf("not synced: %+v", got)
	}
	return got
}

func (f *fixture) rzInvoice(id string) razorpay.Invoice {
	f.t.Helper()
	for _, raw := range f.sim.Objects(f.acct.KeyID).Invoices {
		var inv razorpay.Invoice
		if err := json.Unmarshal(raw, &inv); err != nil {
			f.t.Fatal(err)
		}
		if inv.ID == id {
			return inv
		}
	}
	f.t.Fatalf("no Razorpay invoice %s", id)
	return razorpay.Invoice{}
}

// Seed 001's link defaults, asserted field by field at Razorpay: email and
// SMS notifications and reminders on, the description naming the invoice,
// its lines and total; a connection can turn each off.
func TestLinkDefaultsAtRazorpay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.invoice()
	p, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Description    string          `json:"description"`
		Notify         map[string]bool `json:"notify"`
		ReminderEnable bool            `json:"reminder_enable"`
	}
	f.rawLink(p.GatewayTrackingID, &l)
	want := "Invoice " + inv.InvoiceNumber + "\nPlatform fee: 1 × 100 = 100.00\nTotal: 100.00 INR"
	if l.Description != want || !l.Notify["email"] || !l.Notify["sms"] || !l.ReminderEnable {
		t.Fatalf("link: %+v, want description %q", l, want)
	}
	c, _, err := f.store.Connection(f.ctx, f.sc)
	if err != nil {
		t.Fatal(err)
	}
	off := false
	c.LinkNotifySMS, c.LinkReminders = &off, &off
	if err := f.store.PutConnection(f.ctx, c); err != nil {
		t.Fatal(err)
	}
	p2, err := f.svc.Create(f.ctx, f.sc, req(f.invoice()))
	if err != nil {
		t.Fatal(err)
	}
	l.Notify = nil
	f.rawLink(p2.GatewayTrackingID, &l)
	if !l.Notify["email"] || l.Notify["sms"] || l.ReminderEnable {
		t.Fatalf("with sms and reminders off: %+v", l)
	}
}

func (f *fixture) rawLink(id string, v any) {
	f.t.Helper()
	for _, raw := range f.sim.Objects(f.acct.KeyID).PaymentLinks {
		var probe struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(raw, &probe)
		if probe.ID == id {
			if err := json.Unmarshal(raw, v); err != nil {
				f.t.Fatal(err)
			}
			return
		}
	}
	f.t.Fatalf("no link %s", id)
}

// A link's reference_id is its payment's id, and it is the only map from
// the link to the payment: no ref item is written for it (one write fewer
// per link; the reconciler and the receiver read the reference_id that
// every payment_link event carries).
func TestALinksReferenceIDIsItsOnlyMapToThePayment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p, err := f.svc.Create(f.ctx, f.sc, req(f.invoice()))
	if err != nil {
		t.Fatal(err)
	}
	if l := f.link(p.GatewayTrackingID); l.ReferenceID != p.ID {
		t.Fatalf("link %s has reference_id %q, want %s", l.ID, l.ReferenceID, p.ID)
	}
	if ours, ok, err := f.store.Ref(f.ctx, f.sc, p.GatewayTrackingID); err != nil || ok {
		t.Fatalf("a ref item maps the link to %q (%v)", ours, err)
	}
}

// customerReads counts the service's reads of customers.
type customerReads struct {
	*dynamo.Store
	n atomic.Int64
}

func (c *customerReads) Customer(ctx context.Context, sc billing.Scope, id string) (billing.Customer, error) {
	c.n.Add(1)
	return c.Store.Customer(ctx, sc, id)
}

// A payment request reads its customer once: the link is made from the
// customer the request read (and synced), not from a second read.
func TestAPaymentRequestReadsItsCustomerOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.invoice()
	if _, err := f.syncer.SyncCustomer(f.ctx, f.sc, inv.CustomerID); err != nil {
		t.Fatal(err)
	}
	reads := &customerReads{Store: f.store}
	f.svc.Store = reads
	p, err := f.svc.Create(f.ctx, f.sc, req(inv))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, raw := range f.sim.Objects(f.acct.KeyID).PaymentLinks {
		found = found || strings.Contains(string(raw), p.GatewayTrackingID) && strings.Contains(string(raw), `"email":"ravi@example.com"`)
	}
	if !found {
		t.Fatalf("link %s does not carry the customer's email", p.GatewayTrackingID)
	}
	if n := reads.n.Load(); n != 1 {
		t.Fatalf("the customer was read %d times, want 1", n)
	}
}

// refusingLinks is the real client except that Razorpay refuses every
// payment link as it refuses one it finds invalid (400 BAD_REQUEST_ERROR).
type refusingLinks struct{ *razorpay.Client }

func (refusingLinks) CreatePaymentLink(context.Context, razorpay.Credentials, razorpay.PaymentLinkInput) (razorpay.PaymentLink, error) {
	return razorpay.PaymentLink{}, &apperr.Error{Kind: apperr.Permanent, Code: razorpay.CodeBadRequest, Message: "BAD_REQUEST_ERROR: The customer contact is invalid",
		Err: &razorpay.APIError{Status: 400, Code: "BAD_REQUEST_ERROR", Description: "The customer contact is invalid", Op: "create payment link"}}
}

// TestARefusedLinkNamesRazorpaysCodeAndDescription: api.md — "502 Razorpay
// refused or failed (with Razorpay's error code and description in
// message)". The payment is FAILED with the code and description stored
// apart, and the invoice is free for another try.
func TestARefusedLinkNamesRazorpaysCodeAndDescription(t *testing.T) {
	f := newFixture(t)
	f.svc.Gateway = refusingLinks{f.client}
	inv := f.invoice()
	_, err := f.svc.Create(f.ctx, f.sc, req(inv))
	e := apperr.As(err)
	if e == nil || e.Code != "razorpay_link_creation_failed" || e.Message != "Razorpay refused to create the payment link: BAD_REQUEST_ERROR: The customer contact is invalid" {
		t.Fatalf("got %v", err)
	}
	page, err := f.svc.List(f.ctx, f.sc, inv.ID, billing.ListOptions{Limit: 5})
	if err != nil || len(page.Data) != 1 {
		t.Fatalf("payments of the invoice: %+v %v", page, err)
	}
	if p := page.Data[0]; p.PaymentStatus != billing.PaymentFailed || p.ErrorCode != "BAD_REQUEST_ERROR" || p.ErrorMessage != "The customer contact is invalid" {
		t.Fatalf("the refused payment: %+v", p)
	}
}
