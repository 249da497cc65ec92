package rzsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
	"github.com/razorbill/razorbill/internal/rzsync"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// hookStore is the DynamoDB store with hooks that run real writes (a void,
// a link, a concurrent edit) at chosen moments of a sync, and a switch that
// makes a sync's final write fail as an outage would.
type hookStore struct {
	*dynamo.Store
	mu               sync.Mutex
	afterPutRef      func()
	raceFinal        func() // runs once just before a sync's final write
	failFinalInvoice bool
	failFinalCustom  bool
}

func (h *hookStore) PutRef(ctx context.Context, sc billing.Scope, rzpID, ourID string) error {
	err := h.Store.PutRef(ctx, sc, rzpID, ourID)
	h.mu.Lock()
	f := h.afterPutRef
	h.afterPutRef = nil
	h.mu.Unlock()
	if f != nil {
		f()
	}
	return err
}

var errOutage = apperr.E(apperr.Transient, "dynamodb_unavailable", "injected outage")

func (h *hookStore) UpdateInvoice(ctx context.Context, sc billing.Scope, inv billing.Invoice, expected int64) error {
	h.mu.Lock()
	fail := h.failFinalInvoice && inv.RazorpayInvoiceID != ""
	race := h.takeRace(inv.RazorpayInvoiceID != "")
	h.mu.Unlock()
	if fail {
		return errOutage
	}
	if race != nil {
		race()
	}
	return h.Store.UpdateInvoice(ctx, sc, inv, expected)
}

func (h *hookStore) UpdateCustomer(ctx context.Context, sc billing.Scope, c billing.Customer, expected int64) error {
	h.mu.Lock()
	fail := h.failFinalCustom && c.RazorpayCustomerID != ""
	race := h.takeRace(c.RazorpayCustomerID != "")
	h.mu.Unlock()
	if fail {
		return errOutage
	}
	if race != nil {
		race()
	}
	return h.Store.UpdateCustomer(ctx, sc, c, expected)
}

func (h *hookStore) takeRace(final bool) func() {
	if !final || h.raceFinal == nil {
		return nil
	}
	f := h.raceFinal
	h.raceFinal = nil
	return f
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	sc    billing.Scope
	raw   *dynamo.Store
	store *hookStore
	sim   *razorpaysim.Simulator
	rzp   *razorpay.Client
	cr    razorpay.Credentials
	sy    *rzsync.Syncer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := testenv.AWS(t)
	raw := dynamo.New(env.DDB, env.Table())
	sim := razorpaysim.New(razorpaysim.Options{ExpirySweep: -1, RetrySchedule: []time.Duration{10 * time.Millisecond}, Logger: logx.New(io.Discard, "error")})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	rzp := razorpay.NewClient(razorpay.Config{BaseURL: srv.URL, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	kek, err := secrets.NewLocalKEK([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	box := secrets.NewBox(kek)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	sc := billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)}
	a := sim.DefaultAccount()
	sealed, err := box.Seal(ctx, a.KeySecret, sc.TenantID+"/"+sc.EnvironmentID+"/key_secret")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := raw.PutConnection(ctx, billing.Connection{TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID, Name: "razorpay", KeyID: a.KeyID,
		KeySecretSealed: sealed, InvoiceOutboundSync: true, CustomerSync: billing.CustomerSyncOnCreate, Status: billing.ConnectionActive, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	hs := &hookStore{Store: raw}
	return &fixture{t: t, ctx: ctx, sc: sc, raw: raw, store: hs, sim: sim, rzp: rzp, cr: razorpay.Credentials{KeyID: a.KeyID, KeySecret: a.KeySecret},
		sy: &rzsync.Syncer{Store: hs, Gateway: rzp, Secrets: box, Wait: 5 * time.Second}}
}

func (f *fixture) customer() billing.Customer {
	f.t.Helper()
	now := time.Now().UTC()
	id := ids.New(ids.Customer)
	c := billing.Customer{ID: id, ExternalID: "ext-" + id, Name: "Ravi Kumar", Email: id + "@example.com", Phone: "+919876543210",
		Metadata: map[string]string{}, SyncStatus: billing.SyncNotSynced, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := f.raw.CreateCustomer(f.ctx, f.sc, c); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// invoice stores a FINALIZED INR invoice of due paise; edit adjusts it first.
func (f *fixture) invoice(cus billing.Customer, number string, due int64, edit ...func(*billing.Invoice)) billing.Invoice {
	f.t.Helper()
	now := time.Now().UTC()
	inv := billing.Invoice{ID: ids.New(ids.Invoice), CustomerID: cus.ID, Currency: "INR", InvoiceNumber: number,
		LineItems: []billing.LineItem{{DisplayName: "Platform fee", PriceType: "FIXED", Quantity: "1", UnitAmount: "1", Amount: due}},
		Subtotal:  due, AmountDue: due, InvoiceStatus: billing.InvoiceFinalized, PaymentStatus: billing.PaymentPending, SyncStatus: billing.SyncNotSynced,
		Metadata: map[string]string{}, FinalizedAt: &now, CreatedAt: now, UpdatedAt: now, Version: 1}
	for _, e := range edit {
		e(&inv)
	}
	if err := f.raw.CreateInvoice(f.ctx, f.sc, inv); err != nil {
		f.t.Fatal(err)
	}
	return inv
}

// payment stores a PENDING payment for inv tracked by tracking ("" for a
// request still creating its link) and makes it the invoice's open payment.
func (f *fixture) openPayment(inv billing.Invoice, tracking string) billing.Payment {
	f.t.Helper()
	now := time.Now().UTC()
	p := billing.Payment{ID: ids.New(ids.Payment), DestinationID: inv.ID, DestinationType: "INVOICE", CustomerID: inv.CustomerID, Amount: inv.AmountDue,
		Currency: inv.Currency, PaymentStatus: billing.PaymentPending, PaymentMethodType: "PAYMENT_LINK", PaymentGateway: "razorpay", ProcessPayment: true,
		GatewayTrackingID: tracking, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now, Version: 1}
	f.edit(inv.ID, func(i *billing.Invoice) { i.OpenPaymentID = p.ID })
	if err := f.raw.CreatePayment(f.ctx, f.sc, p); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// edit changes the stored invoice with a real conditional write.
func (f *fixture) edit(id string, change func(*billing.Invoice)) {
	f.t.Helper()
	inv := f.get(id)
	expected := inv.Version
	inv.Version++
	change(&inv)
	if err := f.raw.UpdateInvoice(f.ctx, f.sc, inv, expected); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) get(id string) billing.Invoice {
	f.t.Helper()
	inv, err := f.raw.Invoice(f.ctx, f.sc, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return inv
}

func (f *fixture) rzpInvoices() []razorpay.Invoice {
	f.t.Helper()
	var out []razorpay.Invoice
	for _, raw := range f.sim.Objects(f.cr.KeyID).Invoices {
		var inv razorpay.Invoice
		if err := json.Unmarshal(raw, &inv); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, inv)
	}
	return out
}

// madeFor lists the Razorpay invoices whose notes name our invoice id.
func (f *fixture) madeFor(id string) []razorpay.Invoice {
	var out []razorpay.Invoice
	for _, ri := range f.rzpInvoices() {
		if ri.Notes[razorpay.NoteInvoiceID] == id {
			out = append(out, ri)
		}
	}
	return out
}

// 13.6: the syncer never issues a Razorpay invoice beside an open payment
// link or once money was applied; a payment request's own claim (no link
// yet) does not stop the on-demand sync, which asks for amount_remaining.
func TestSyncNeverIssuesBesideAnotherInstrument(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cus := f.customer()
	linked := f.invoice(cus, "INV-L1", 50000)
	f.openPayment(linked, "plink_"+ids.New("")[4:18])
	partly := f.invoice(cus, "INV-P1", 50000, func(i *billing.Invoice) {
		i.AmountPaid, i.PaymentStatus = 20000, billing.PaymentPartiallyPaid
	})
	for _, id := range []string{linked.ID, partly.ID} {
		got, err := f.sy.SyncInvoice(f.ctx, f.sc, id, false)
		if err != nil {
			t.Fatalf("sync %s: %v", id, err)
		}
		if got.RazorpayInvoiceID != "" || got.RazorpayShortURL != "" || len(f.madeFor(id)) != 0 {
			t.Fatalf("invoice %s got a Razorpay invoice beside another instrument: %+v", id, got)
		}
		if w, err := f.sy.SyncInvoiceWaiting(f.ctx, f.sc, id); err != nil || w.RazorpayShortURL != "" || len(f.madeFor(id)) != 0 {
			t.Fatalf("on-demand sync of %s: %+v %v", id, w, err)
		}
	}
	claimed := f.invoice(cus, "INV-C1", 123456)
	f.openPayment(claimed, "") // a payment request claimed it and is making a link
	got, err := f.sy.SyncInvoiceWaiting(f.ctx, f.sc, claimed.ID)
	if err != nil || got.RazorpayShortURL != "" || len(f.madeFor(claimed.ID)) != 0 {
		t.Fatalf("sync beside a link being made: %+v %v", got, err)
	}
	free := f.invoice(cus, "INV-F1", 123456)
	got, err = f.sy.SyncInvoiceWaiting(f.ctx, f.sc, free.ID)
	if err != nil || got.RazorpayShortURL == "" || got.SyncStatus != billing.SyncSynced {
		t.Fatalf("on-demand sync: %+v %v", got, err)
	}
	made := f.madeFor(free.ID)
	if len(made) != 1 || made[0].ID != got.RazorpayInvoiceID || made[0].Amount != got.AmountRemaining() || made[0].ShortURL != got.RazorpayShortURL {
		t.Fatalf("Razorpay invoices for %s: %+v, want one of %d", free.ID, made, got.AmountRemaining())
	}
}

// 13.6: the on-demand sync waits while another sync holds the lease, then
// returns the synced invoice; the queue-driven sync answers busy at once.
func TestOnDemandSyncWaitsForTheLease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cus := f.customer()
	inv := f.invoice(cus, "INV-W1", 99900)
	until := time.Now().UTC().Add(1500 * time.Millisecond)
	f.edit(inv.ID, func(i *billing.Invoice) { i.SyncLeaseUntil, i.SyncStatus = &until, billing.SyncPending })
	if _, err := f.sy.SyncInvoice(f.ctx, f.sc, inv.ID, false); !apperr.HasCode(err, "sync_in_progress") || !apperr.Retryable(err) {
		t.Fatalf("queue sync under a live lease: %v", err)
	}
	// It waits for the lease to end, however long the call above took
	// (under -race on a loaded machine, most of the lease's 1.5 s).
	got, err := f.sy.SyncInvoiceWaiting(f.ctx, f.sc, inv.ID)
	if err != nil || got.RazorpayShortURL == "" || got.SyncedAt == nil || got.SyncedAt.Before(until) {
		t.Fatalf("waiting sync: %+v %v; want it synced after the lease's end, %v", got, err, until)
	}
	if n := len(f.madeFor(inv.ID)); n != 1 {
		t.Fatalf("%d Razorpay invoices", n)
	}
	// A short wait gives up with the retryable busy error.
	inv2 := f.invoice(cus, "INV-W2", 99900)
	far := time.Now().UTC().Add(time.Minute)
	f.edit(inv2.ID, func(i *billing.Invoice) { i.SyncLeaseUntil = &far })
	short := *f.sy
	short.Wait = 300 * time.Millisecond
	if _, err := short.SyncInvoiceWaiting(f.ctx, f.sc, inv2.ID); !apperr.HasCode(err, "sync_in_progress") {
		t.Fatalf("waiting past the wait: %v", err)
	}
}

// 13.3: a sync that finds, at its final write, that the invoice was voided
// or got a link meanwhile cancels the Razorpay invoice it made.
func TestSyncCancelsWhatItMadeForAnInvoiceVoidedOrLinkedMeanwhile(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cus := f.customer()
	for name, meanwhile := range map[string]func(billing.Invoice){
		"voided": func(inv billing.Invoice) {
			f.edit(inv.ID, func(i *billing.Invoice) {
				now := time.Now().UTC()
				i.InvoiceStatus, i.VoidedAt = billing.InvoiceVoided, &now
			})
		},
		"linked": func(inv billing.Invoice) { f.openPayment(inv, "plink_"+ids.New("")[4:18]) },
	} {
		inv := f.invoice(cus, "INV-"+name, 70000)
		f.store.mu.Lock()
		f.store.afterPutRef = func() { meanwhile(inv) }
		f.store.mu.Unlock()
		if _, err := f.sy.SyncInvoice(f.ctx, f.sc, inv.ID, false); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := f.get(inv.ID)
		made := f.madeFor(inv.ID)
		if got.RazorpayInvoiceID != "" || got.RazorpayShortURL != "" || got.SyncLeaseUntil != nil {
			t.Fatalf("%s: Razorpay ids stored: %+v", name, got)
		}
		if len(made) != 1 || made[0].Status != "cancelled" {
			t.Fatalf("%s: Razorpay invoices %+v, want the one made, cancelled", name, made)
		}
		if !strings.Contains(got.SyncError, made[0].ID) {
			t.Fatalf("%s: sync error %q does not name the cancelled invoice", name, got.SyncError)
		}
	}
}

// 13.12: a sync's final write that loses a version race is re-read and
// retried; when it cannot be written the lease is released and the error is
// retryable, so the next try runs at once and makes nothing twice.
func TestFinalWriteRetriesLostRacesAndReleasesTheLease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cus := f.customer()
	if _, err := f.sy.SyncCustomer(f.ctx, f.sc, cus.ID); err != nil { // so the race below meets the invoice's write
		t.Fatal(err)
	}
	inv := f.invoice(cus, "INV-R1", 80000)
	f.store.mu.Lock()
	f.store.raceFinal = func() {
		f.edit(inv.ID, func(i *billing.Invoice) { i.FailedAttempts, i.LastPaymentError = 1, "card declined" })
	}
	f.store.mu.Unlock()
	got, err := f.sy.SyncInvoice(f.ctx, f.sc, inv.ID, false)
	if err != nil || got.SyncStatus != billing.SyncSynced || got.RazorpayInvoiceID == "" {
		t.Fatalf("sync after a lost race: %+v %v", got, err)
	}
	if s := f.get(inv.ID); s.RazorpayInvoiceID != got.RazorpayInvoiceID || s.FailedAttempts != 1 || s.SyncLeaseUntil != nil {
		t.Fatalf("stored: %+v", s)
	}

	// The invoice's final write fails: lease released, retryable, PENDING.
	inv2 := f.invoice(cus, "INV-R2", 80000)
	f.store.mu.Lock()
	f.store.failFinalInvoice = true
	f.store.mu.Unlock()
	if _, err := f.sy.SyncInvoice(f.ctx, f.sc, inv2.ID, false); err == nil || !apperr.Retryable(err) {
		t.Fatalf("failed final write: %v", err)
	}
	if s := f.get(inv2.ID); s.SyncLeaseUntil != nil || s.SyncStatus != billing.SyncPending || s.RazorpayInvoiceID != "" {
		t.Fatalf("after a failed final write: %+v", s)
	}
	f.store.mu.Lock()
	f.store.failFinalInvoice = false
	f.store.mu.Unlock()
	if got, err := f.sy.SyncInvoice(f.ctx, f.sc, inv2.ID, false); err != nil || got.SyncStatus != billing.SyncSynced {
		t.Fatalf("retry: %+v %v", got, err)
	}
	if n := len(f.madeFor(inv2.ID)); n != 1 {
		t.Fatalf("%d Razorpay invoices after the retry", n)
	}

	// The same for a customer: a lost race is retried ...
	c1 := f.customer()
	f.store.mu.Lock()
	f.store.raceFinal = func() {
		c, err := f.raw.Customer(f.ctx, f.sc, c1.ID)
		if err != nil {
			t.Error(err)
			return
		}
		expected := c.Version
		c.Version++
		c.Name = "Ravi K."
		if err := f.raw.UpdateCustomer(f.ctx, f.sc, c, expected); err != nil {
			t.Error(err)
		}
	}
	f.store.mu.Unlock()
	if got, err := f.sy.SyncCustomer(f.ctx, f.sc, c1.ID); err != nil || got.RazorpayCustomerID == "" || got.Name != "Ravi K." || got.SyncStatus != billing.SyncSynced {
		t.Fatalf("customer sync after a lost race: %+v %v", got, err)
	}
	// ... and a write that fails releases the lease.
	c2 := f.customer()
	f.store.mu.Lock()
	f.store.failFinalCustom = true
	f.store.mu.Unlock()
	if _, err := f.sy.SyncCustomer(f.ctx, f.sc, c2.ID); err == nil || !apperr.Retryable(err) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("failed customer write: %v", err)
	}
	sc, err := f.raw.Customer(f.ctx, f.sc, c2.ID)
	if err != nil || sc.SyncLeaseUntil != nil || sc.SyncStatus != billing.SyncPending {
		t.Fatalf("customer after a failed final write: %+v %v", sc, err)
	}
	f.store.mu.Lock()
	f.store.failFinalCustom = false
	f.store.mu.Unlock()
	if got, err := f.sy.SyncCustomer(f.ctx, f.sc, c2.ID); err != nil || got.RazorpayCustomerID == "" {
		t.Fatalf("customer retry: %+v %v", got, err)
	}
}

// 22.2: the receipt is unique per Razorbill invoice, and healing matches
// our id in the notes among every invoice sharing the receipt: with the
// merchant's own Razorpay invoice carrying the same number, three crashes
// after create leave exactly one Razorpay invoice of ours and the foreign
// one untouched. An invoice synced before the change (bare number as the
// receipt) is found, not made again.
func TestReceiptsCannotCollide(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cus := f.customer()
	synced, err := f.sy.SyncCustomer(f.ctx, f.sc, cus.ID)
	if err != nil {
		t.Fatal(err)
	}
	foreignIn := razorpay.InvoiceInput{CustomerID: synced.RazorpayCustomerID, Currency: "INR", Receipt: "INV-000777", Description: "made in the dashboard",
		LineItems: []razorpay.InvoiceLineItem{{Name: "Consulting", Amount: 990000, Quantity: 1}},
		Notes:     map[string]string{razorpay.NoteInvoiceID: "inv_of_another_environment"}}
	foreign, err := f.rzp.CreateInvoice(f.ctx, f.cr, foreignIn)
	if err != nil {
		t.Fatal(err)
	}
	inv := f.invoice(cus, "INV-000777", 45000)
	if err := f.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultCrashAfterCreate, Method: "POST", Path: "/v1/invoices", Count: 3}); err != nil {
		t.Fatal(err)
	}
	var got billing.Invoice
	for try := 0; try < 6 && got.SyncStatus != billing.SyncSynced; try++ {
		got, err = f.sy.SyncInvoice(f.ctx, f.sc, inv.ID, false)
		if err != nil && !apperr.Retryable(err) {
			t.Fatalf("try %d: %v", try, err)
		}
	}
	if got.SyncStatus != billing.SyncSynced {
		t.Fatalf("never synced: %+v", got)
	}
	// Every crash is spent: the later creates went through the same heal.
	for try := 0; try < 3; try++ {
		if _, err := f.sy.SyncInvoice(f.ctx, f.sc, inv.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	ours := f.madeFor(inv.ID)
	if len(ours) != 1 || ours[0].ID != got.RazorpayInvoiceID || ours[0].ID == foreign.ID {
		t.Fatalf("Razorpay invoices of ours: %+v (stored %s, foreign %s)", ours, got.RazorpayInvoiceID, foreign.ID)
	}
	if r := ours[0].Receipt; r == "INV-000777" || !strings.HasPrefix(r, "INV-000777-") || len(r) > razorpay.MaxReceipt || r != rzsync.Receipt(inv) {
		t.Fatalf("receipt %q", r)
	}
	all := f.rzpInvoices()
	if len(all) != 2 {
		t.Fatalf("%d Razorpay invoices, want the foreign one and ours", len(all))
	}
	for _, ri := range all {
		if ri.ID == foreign.ID && (ri.Status != "issued" || ri.Notes[razorpay.NoteInvoiceID] != "inv_of_another_environment") {
			t.Fatalf("foreign invoice touched: %+v", ri)
		}
	}

	// Synced before the change: the receipt is the bare number.
	legacy := f.invoice(cus, "INV-000888", 45000)
	old, err := f.rzp.CreateInvoice(f.ctx, f.cr, razorpay.InvoiceInput{CustomerID: synced.RazorpayCustomerID, Currency: "INR", Receipt: "INV-000888",
		LineItems: []razorpay.InvoiceLineItem{{Name: "Platform fee", Amount: 45000, Quantity: 1}}, Notes: map[string]string{razorpay.NoteInvoiceID: legacy.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.sy.SyncInvoice(f.ctx, f.sc, legacy.ID, false); err != nil || got.RazorpayInvoiceID != old.ID || len(f.madeFor(legacy.ID)) != 1 {
		t.Fatalf("legacy invoice: %+v %v", got, err)
	}

	// A long number is cut so that number and suffix fit 40 characters.
	long := billing.Invoice{ID: "inv_01jh0000000000000000abcdefgh", InvoiceNumber: strings.Repeat("9", 40)}
	if r := rzsync.Receipt(long); len(r) != 40 || !strings.HasSuffix(r, "-abcdefgh") {
		t.Fatalf("long receipt %q", r)
	}
}

// 22.1 (invoice part): the connection's invoice notification settings are
// what the Razorpay invoice is created with.
func TestInvoiceNotifySettingsComeFromTheConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cus := f.customer()
	quiet := f.invoice(cus, "INV-N0", 10000)
	if _, err := f.sy.SyncInvoice(f.ctx, f.sc, quiet.ID, false); err != nil {
		t.Fatal(err)
	}
	conn, _, err := f.raw.Connection(f.ctx, f.sc)
	if err != nil {
		t.Fatal(err)
	}
	conn.InvoiceNotifyEmail, conn.InvoiceNotifySMS = true, true
	if err := f.raw.PutConnection(f.ctx, conn); err != nil {
		t.Fatal(err)
	}
	loud := f.invoice(cus, "INV-N1", 10000)
	if _, err := f.sy.SyncInvoice(f.ctx, f.sc, loud.ID, false); err != nil {
		t.Fatal(err)
	}
	status := func(id string) (sms, email string) {
		for _, raw := range f.sim.Objects(f.cr.KeyID).Invoices {
			var w struct {
				Notes       map[string]string `json:"notes"`
				SMSStatus   *string           `json:"sms_status"`
				EmailStatus *string           `json:"email_status"`
			}
			if err := json.Unmarshal(raw, &w); err != nil {
				t.Fatal(err)
			}
			if w.Notes[razorpay.NoteInvoiceID] == id {
				if w.SMSStatus != nil {
					sms = *w.SMSStatus
				}
				if w.EmailStatus != nil {
					email = *w.EmailStatus
				}
			}
		}
		return sms, email
	}
	if s, e := status(quiet.ID); s != "" || e != "" {
		t.Fatalf("default: sms %q email %q, want none", s, e)
	}
	if s, e := status(loud.ID); s != "pending" || e != "pending" {
		t.Fatalf("notify on: sms %q email %q, want pending", s, e)
	}
}

// A customer's GSTIN reaches the Razorpay customer when its check
// character is right; a wrong one stays in the notes (Razorpay is not sent
// what it may refuse).
func TestCustomerGSTINReachesRazorpay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for gstin, wantSent := range map[string]bool{"29ABCDE1234F1ZW": true, "29ABCDE1234F1Z5": false} {
		c := f.customer()
		c.GSTIN, c.BillingState = gstin, "KA"
		if err := f.raw.UpdateCustomer(f.ctx, f.sc, c, c.Version); err != nil {
			t.Fatal(err)
		}
		synced, err := f.sy.SyncCustomer(f.ctx, f.sc, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, raw := range f.sim.Objects(f.cr.KeyID).Customers {
			var rc razorpay.Customer
			if err := json.Unmarshal(raw, &rc); err != nil {
				t.Fatal(err)
			}
			if rc.ID != synced.RazorpayCustomerID {
				continue
			}
			found = true
			if sent := rc.GSTIN == gstin; sent != wantSent || (!wantSent && rc.Notes[rzsync.NoteGSTIN] != gstin) {
				t.Errorf("%s: Razorpay customer gstin %q notes %v", gstin, rc.GSTIN, rc.Notes)
			}
		}
		if !found {
			t.Fatalf("%s: no Razorpay customer %s", gstin, synced.RazorpayCustomerID)
		}
	}
}
