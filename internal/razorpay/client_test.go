package razorpay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// simEnv is a simulator served in-process and a client pointed at it.
type simEnv struct {
	sim *razorpaysim.Simulator
	srv *httptest.Server
	c   *razorpay.Client
	cr  razorpay.Credentials
}

func newSimEnv(t *testing.T, cfg razorpay.Config) *simEnv {
	t.Helper()
	sim := razorpaysim.New(razorpaysim.Options{ExpirySweep: -1, RetrySchedule: []time.Duration{10 * time.Millisecond}})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	cfg.BaseURL = srv.URL
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = 5*time.Millisecond, 20*time.Millisecond
	}
	a := sim.DefaultAccount()
	return &simEnv{sim: sim, srv: srv, c: razorpay.NewClient(cfg), cr: razorpay.Credentials{KeyID: a.KeyID, KeySecret: a.KeySecret}}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustKind(t *testing.T, err error, kind apperr.Kind, code string) *razorpay.APIError {
	t.Helper()
	e := apperr.As(err)
	if e == nil || e.Kind != kind || e.Code != code {
		t.Fatalf("want %v %s, got %v", kind, code, err)
	}
	var api *razorpay.APIError
	if !errors.As(err, &api) {
		t.Fatalf("cause is not an *APIError: %#v", e.Err)
	}
	return api
}

func (e *simEnv) customer(t *testing.T, n int) razorpay.Customer {
	t.Helper()
	c, err := e.c.CreateCustomer(ctx(t), e.cr, razorpay.CustomerInput{Name: fmt.Sprintf("Customer %d", n),
		Email: fmt.Sprintf("c%d@example.com", n), Contact: fmt.Sprintf("+9190000%05d", n)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func invoiceInput(custID, receipt string) razorpay.InvoiceInput {
	return razorpay.InvoiceInput{CustomerID: custID, Currency: "INR", Receipt: receipt, Description: "Invoice " + receipt,
		LineItems: []razorpay.InvoiceLineItem{
			{Name: "API calls", Description: "100000 calls", Amount: 25, Quantity: 100000},
			{Name: "Platform fee", Amount: 500000, Quantity: 1, Currency: "INR"},
		},
		ExpireBy: time.Now().Add(48 * time.Hour), PartialPayment: true,
		Notes: map[string]string{"razorbill_invoice_id": "inv_rb_" + receipt}}
}

func linkInput(ref string) razorpay.PaymentLinkInput {
	return razorpay.PaymentLinkInput{Amount: 50000, Currency: "INR", Description: "Invoice RB-1", ReferenceID: ref,
		Customer: razorpay.LinkCustomer{Name: "Asha Rao", Email: "asha@example.com", Contact: "+919000090000"},
		Notes:    map[string]string{"razorbill_payment_id": ref, "tenant_id": "ten_1"}, CallbackURL: "https://app.example.com/paid",
		ExpireBy: time.Now().Add(24 * time.Hour)}
}

func countInvoices(t *testing.T, sim *razorpaysim.Simulator, keyID, receipt string) int {
	t.Helper()
	n := 0
	for _, raw := range sim.Objects(keyID).Invoices {
		var inv razorpay.Invoice
		if err := inv.UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
		if inv.Receipt == receipt {
			n++
		}
	}
	return n
}

func countLinks(t *testing.T, sim *razorpaysim.Simulator, keyID, ref string) int {
	t.Helper()
	n := 0
	for _, raw := range sim.Objects(keyID).PaymentLinks {
		var l razorpay.PaymentLink
		if err := l.UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
		if l.ReferenceID == ref {
			n++
		}
	}
	return n
}

func TestPaymentAndRefundAgainstSimulator(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{})
	link, err := e.c.CreatePaymentLink(ctx(t), e.cr, linkInput("pay_rb_A1"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.sim.PayPaymentLink(link.ID, razorpaysim.PayOptions{Method: "upi"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.c.FetchPayment(ctx(t), e.cr, res.PaymentID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != "captured" || p.Amount != 50000 || p.Currency != "INR" || p.OrderID == "" || p.Method != "upi" ||
		p.Notes["razorbill_payment_id"] != "pay_rb_A1" || p.Email != "asha@example.com" || p.CreatedAt.IsZero() {
		t.Fatalf("payment: %+v", p)
	}
	l, err := e.c.FetchPaymentLink(ctx(t), e.cr, link.ID)
	if err != nil || l.Status != "paid" || l.AmountPaid != 50000 || l.OrderID != p.OrderID || len(l.Payments) != 1 || l.Payments[0].PaymentID != p.ID {
		t.Fatalf("link after payment: %+v %v", l, err)
	}

	in := razorpay.RefundInput{Amount: 20000, IdempotencyKey: "ref_rb_0001", Receipt: "ref_rb_0001", Notes: map[string]string{"reason": "duplicate"}}
	r1, err := e.c.Refund(ctx(t), e.cr, p.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Status != "processed" || r1.Amount != 20000 || r1.PaymentID != p.ID || r1.Notes["reason"] != "duplicate" || r1.Receipt != "ref_rb_0001" {
		t.Fatalf("refund: %+v", r1)
	}
	r2, err := e.c.Refund(ctx(t), e.cr, p.ID, in)
	if err != nil || r2.ID != r1.ID {
		t.Fatalf("same X-Refund-Idempotency must return the same refund: %v %v", r2, err)
	}
	if n := len(e.sim.Objects(e.cr.KeyID).Refunds); n != 1 {
		t.Fatalf("%d refunds at the simulator", n)
	}
	_, err = e.c.Refund(ctx(t), e.cr, p.ID, razorpay.RefundInput{Amount: 40000, IdempotencyKey: "ref_rb_0002"})
	api := mustKind(t, err, apperr.Permanent, razorpay.CodeBadRequest)
	if api.Status != 400 || api.Code != "BAD_REQUEST_ERROR" || !strings.Contains(api.Description, "greater than") {
		t.Fatalf("over-refund: %+v", api)
	}
	// api.md: a refusal's message carries Razorpay's error code and description.
	if msg := apperr.PublicMessage(err); msg != "BAD_REQUEST_ERROR: "+api.Description {
		t.Fatalf("over-refund message %q, want Razorpay's code and description", msg)
	}
	full, err := e.c.Refund(ctx(t), e.cr, p.ID, razorpay.RefundInput{IdempotencyKey: "ref_rb_0003"})
	if err != nil || full.Amount != 30000 {
		t.Fatalf("a full refund of the rest: %+v %v", full, err)
	}
	p, _ = e.c.FetchPayment(ctx(t), e.cr, p.ID)
	if p.Status != "refunded" || p.AmountRefunded != 50000 || p.RefundStatus != "full" {
		t.Fatalf("payment after refunds: %+v", p)
	}
}

func TestNotFoundAndBadIDs(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{})
	_, err := e.c.FetchPayment(ctx(t), e.cr, "pay_DoesNotExist01")
	api := mustKind(t, err, apperr.NotFound, razorpay.CodeNotFound)
	if api.Status != 400 || api.Description != "The id provided does not exist" {
		t.Fatalf("unknown id: %+v", api)
	}
	_, err = e.c.FetchInvoice(ctx(t), e.cr, "inv_1/../../customers")
	mustKind(t, err, apperr.Invalid, razorpay.CodeInvalidInput)
	_, err = e.c.FetchPaymentLink(ctx(t), e.cr, "")
	mustKind(t, err, apperr.Invalid, razorpay.CodeInvalidInput)
}

func TestTooManyRequestsThenSuccess(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{MaxRetries: 2})
	if err := e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.Fault429, Method: "GET", Path: "/v1/payment_links", Count: 1}); err != nil {
		t.Fatal(err)
	}
	l, err := e.c.CreatePaymentLink(ctx(t), e.cr, linkInput("pay_rb_429"))
	if err != nil {
		t.Fatal(err)
	}
	found, ok, err := e.c.FindPaymentLinkByReference(ctx(t), e.cr, "pay_rb_429")
	if err != nil || !ok || found.ID != l.ID {
		t.Fatalf("after a 429: %+v %v %v", found, ok, err)
	}
	if left := e.sim.Faults(); len(left) != 0 {
		t.Fatalf("the 429 was not served: %+v", left)
	}
	// With no retries left, the 429 surfaces as Throttled.
	e2 := newSimEnv(t, razorpay.Config{MaxRetries: -1})
	_ = e2.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.Fault429})
	api := mustKind(t, e2.c.VerifyCredentials(ctx(t), e2.cr), apperr.Throttled, razorpay.CodeThrottled)
	if api.Status != 429 {
		t.Fatalf("%+v", api)
	}
}

func TestServerErrorsThenSuccess(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{MaxRetries: 3})
	cust := e.customer(t, 1)
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.Fault500, Path: "/v1/invoices", Method: "POST", Count: 3})
	inv, err := e.c.CreateInvoice(ctx(t), e.cr, invoiceInput(cust.ID, "RB-500"))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Status != "issued" || inv.Amount != 3000000 || countInvoices(t, e.sim, e.cr.KeyID, "RB-500") != 1 {
		t.Fatalf("after 500 ×3: %+v", inv)
	}
	// One more failure than retries: Transient, and the 500's body is kept.
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.Fault500, Path: "/v1/payments/*", Count: 4})
	_, err = e.c.FetchPayment(ctx(t), e.cr, "pay_Anything00001")
	api := mustKind(t, err, apperr.Transient, razorpay.CodeUnavailable)
	if api.Status != 500 || api.Code != "SERVER_ERROR" {
		t.Fatalf("%+v", api)
	}
}

func TestHTMLBadGatewayIsTransient(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{MaxRetries: -1})
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultHTML502})
	_, _, err := e.c.FindCustomer(ctx(t), e.cr, "a@example.com", "")
	api := mustKind(t, err, apperr.Transient, razorpay.CodeUnavailable)
	if api.Status != 502 || api.Code != "" {
		t.Fatalf("%+v", api)
	}
}

func TestTimeoutUnderShortContext(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{MaxRetries: 5})
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultTimeout, Count: 10})
	c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.c.FetchInvoice(c, e.cr, "inv_Anything00001")
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the call outlived its context: %v", took)
	}
	api := mustKind(t, err, apperr.Transient, razorpay.CodeUnavailable)
	if api.Status != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%+v (%v)", api, err)
	}
}

func TestAttemptTimeoutRetries(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{MaxRetries: 2, AttemptTimeout: 150 * time.Millisecond})
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultTimeout, Count: 1})
	if err := e.c.VerifyCredentials(ctx(t), e.cr); err != nil {
		t.Fatalf("a hung attempt should be abandoned and retried: %v", err)
	}
}

func TestCrashAfterCreateInvoiceHealedByReceipt(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{MaxRetries: 3})
	cust := e.customer(t, 2)
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultCrashAfterCreate, Method: "POST", Path: "/v1/invoices"})
	inv, err := e.c.CreateInvoice(ctx(t), e.cr, invoiceInput(cust.ID, "RB-CRASH-1"))
	if err != nil {
		t.Fatal(err)
	}
	if n := countInvoices(t, e.sim, e.cr.KeyID, "RB-CRASH-1"); n != 1 || inv.Receipt != "RB-CRASH-1" || inv.ID == "" {
		t.Fatalf("%d invoices with the receipt; returned %+v", n, inv)
	}

	// Without retries the caller heals: the create fails Transient, the
	// lookup finds the invoice, and nothing is created twice.
	e2 := newSimEnv(t, razorpay.Config{MaxRetries: -1})
	cust2 := e2.customer(t, 3)
	_ = e2.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultCrashAfterCreate, Method: "POST", Path: "/v1/invoices"})
	_, err = e2.c.CreateInvoice(ctx(t), e2.cr, invoiceInput(cust2.ID, "RB-CRASH-2"))
	mustKind(t, err, apperr.Transient, razorpay.CodeUnavailable)
	found, ok, err := e2.c.FindInvoiceByReceipt(ctx(t), e2.cr, "RB-CRASH-2")
	if err != nil || !ok || found.Amount != 3000000 || len(found.LineItems) != 2 {
		t.Fatalf("lookup by receipt: %+v %v %v", found, ok, err)
	}
	if n := countInvoices(t, e2.sim, e2.cr.KeyID, "RB-CRASH-2"); n != 1 {
		t.Fatalf("%d invoices", n)
	}
}

func TestCrashAfterCreateLinkHealedByReference(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{MaxRetries: 3})
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultCrashAfterCreate, Method: "POST", Path: "/v1/payment_links"})
	l, err := e.c.CreatePaymentLink(ctx(t), e.cr, linkInput("pay_rb_crash"))
	if err != nil || l.ReferenceID != "pay_rb_crash" || !strings.HasPrefix(l.ID, "plink_") {
		t.Fatalf("%+v %v", l, err)
	}
	if n := countLinks(t, e.sim, e.cr.KeyID, "pay_rb_crash"); n != 1 {
		t.Fatalf("%d links", n)
	}
	// The lookup itself failing once: the client does not send the create
	// again blindly; it looks again and finds the link.
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultCrashAfterCreate, Method: "POST", Path: "/v1/payment_links"})
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.Fault500, Method: "GET", Path: "/v1/payment_links"})
	l2, err := e.c.CreatePaymentLink(ctx(t), e.cr, linkInput("pay_rb_crash2"))
	if err != nil || countLinks(t, e.sim, e.cr.KeyID, "pay_rb_crash2") != 1 || l2.ReferenceID != "pay_rb_crash2" {
		t.Fatalf("%+v %v", l2, err)
	}
	// Without retries the caller heals by reference.
	e2 := newSimEnv(t, razorpay.Config{MaxRetries: -1})
	_ = e2.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultCrashAfterCreate, Method: "POST", Path: "/v1/payment_links"})
	_, err = e2.c.CreatePaymentLink(ctx(t), e2.cr, linkInput("pay_rb_crash3"))
	mustKind(t, err, apperr.Transient, razorpay.CodeUnavailable)
	_, err = e2.c.CreatePaymentLink(ctx(t), e2.cr, linkInput("pay_rb_crash3"))
	if !razorpay.IsDuplicateReference(err) || apperr.KindOf(err) != apperr.Permanent {
		t.Fatalf("a second create must be refused, not duplicated: %v", err)
	}
	found, ok, err := e2.c.FindPaymentLinkByReference(ctx(t), e2.cr, "pay_rb_crash3")
	if err != nil || !ok || countLinks(t, e2.sim, e2.cr.KeyID, "pay_rb_crash3") != 1 || found.Amount != 50000 {
		t.Fatalf("%+v %v %v", found, ok, err)
	}
}

func TestNonIdempotentRequestsAreNotRetried(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{MaxRetries: 3})
	link, _ := e.c.CreatePaymentLink(ctx(t), e.cr, linkInput("pay_rb_nr"))
	res, err := e.sim.PayPaymentLink(link.ID, razorpaysim.PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.Fault500, Method: "POST", Path: "/v1/payments/*", Count: 2})
	_, err = e.c.Refund(ctx(t), e.cr, res.PaymentID, razorpay.RefundInput{Amount: 100}) // no idempotency key
	mustKind(t, err, apperr.Transient, razorpay.CodeUnavailable)
	if left := e.sim.Faults(); len(left) != 1 || left[0].Count != 1 {
		t.Fatalf("a refund without an idempotency key was retried: faults left %+v", left)
	}
	e.sim.ClearFaults()
	// With FailExisting a customer create is not repeated either.
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.Fault500, Method: "POST", Path: "/v1/customers", Count: 2})
	_, err = e.c.CreateCustomer(ctx(t), e.cr, razorpay.CustomerInput{Name: "Xavier", Email: "x@example.com", FailExisting: true})
	mustKind(t, err, apperr.Transient, razorpay.CodeUnavailable)
	if left := e.sim.Faults(); len(left) != 1 {
		t.Fatalf("retried: %+v", left)
	}
}

func TestTwoTenantsInParallel(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{})
	other, err := e.sim.CreateAccount(razorpaysim.Account{})
	if err != nil {
		t.Fatal(err)
	}
	tenants := []razorpay.Credentials{e.cr, {KeyID: other.KeyID, KeySecret: other.KeySecret}}
	const perTenant = 12
	var wg sync.WaitGroup
	errs := make(chan error, 2*perTenant)
	for ti, cr := range tenants {
		for i := 0; i < perTenant; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ref := fmt.Sprintf("t%d-%d", ti, i)
				c, err := e.c.CreateCustomer(context.Background(), cr, razorpay.CustomerInput{Name: "Tenant Customer", Email: ref + "@example.com", Notes: map[string]string{"tenant": fmt.Sprint(ti)}})
				if err != nil {
					errs <- err
					return
				}
				l, err := e.c.CreatePaymentLink(context.Background(), cr, linkInput(ref))
				if err != nil {
					errs <- err
					return
				}
				got, ok, err := e.c.FindPaymentLinkByReference(context.Background(), cr, ref)
				if err != nil || !ok || got.ID != l.ID {
					errs <- fmt.Errorf("tenant %d lookup %s: %v %v", ti, ref, ok, err)
					return
				}
				if _, _, err := e.c.FindCustomer(context.Background(), cr, c.Email, ""); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Each tenant's objects were made with its own key, and only its own.
	for ti, cr := range tenants {
		objs := e.sim.Objects(cr.KeyID)
		if len(objs.Customers) != perTenant || len(objs.PaymentLinks) != perTenant {
			t.Fatalf("tenant %d holds %d customers, %d links", ti, len(objs.Customers), len(objs.PaymentLinks))
		}
		for _, raw := range objs.Customers {
			var c razorpay.Customer
			_ = c.UnmarshalJSON(raw)
			if c.Notes["tenant"] != fmt.Sprint(ti) {
				t.Fatalf("tenant %d holds customer %+v", ti, c)
			}
		}
	}
	// A tenant cannot see the other's link.
	_, ok, err := e.c.FindPaymentLinkByReference(ctx(t), tenants[1], "t0-0")
	if err != nil || ok {
		t.Fatalf("tenant 1 found tenant 0's link: %v %v", ok, err)
	}
}

func TestCallbackURLAndCancel(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{})
	l, err := e.c.CreatePaymentLink(ctx(t), e.cr, linkInput("pay_rb_cb"))
	if err != nil || l.CallbackURL != "https://app.example.com/paid" || l.CallbackMethod != "get" || !strings.HasPrefix(l.ShortURL, e.srv.URL+"/i/") {
		t.Fatalf("%+v %v", l, err)
	}
	resp, err := http.Get(l.ShortURL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("checkout page: %v %v", resp, err)
	}
	resp.Body.Close()
	c, err := e.c.CancelPaymentLink(ctx(t), e.cr, l.ID)
	if err != nil || c.Status != "cancelled" || c.CancelledAt.IsZero() {
		t.Fatalf("%+v %v", c, err)
	}
	_, err = e.c.CancelPaymentLink(ctx(t), e.cr, l.ID)
	mustKind(t, err, apperr.Permanent, razorpay.CodeBadRequest)
	// A cancel whose answer is lost is healed by fetching the link.
	l2, _ := e.c.CreatePaymentLink(ctx(t), e.cr, linkInput("pay_rb_cb2"))
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultCrashAfterCreate, Path: "/v1/payment_links/*"})
	c2, err := e.c.CancelPaymentLink(ctx(t), e.cr, l2.ID)
	if err != nil || c2.Status != "cancelled" {
		t.Fatalf("%+v %v", c2, err)
	}
}

func TestFindCustomerPagesAndMatchesContacts(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{})
	first := e.customer(t, 0)
	for i := 1; i < 130; i++ {
		e.customer(t, i)
	}
	// Lists are newest first: the first customer is on the second page.
	got, ok, err := e.c.FindCustomer(ctx(t), e.cr, "C0@EXAMPLE.COM", "9000000000")
	if err != nil || !ok || got.ID != first.ID {
		t.Fatalf("%+v %v %v", got, ok, err)
	}
	if _, ok, _ := e.c.FindCustomer(ctx(t), e.cr, "c0@example.com", "+919999999999"); ok {
		t.Fatal("matched a customer whose contact differs")
	}
	if _, ok, _ := e.c.FindCustomer(ctx(t), e.cr, "", ""); ok {
		t.Fatal("matched on nothing")
	}
}

func TestInvoiceShortURLCheckoutPaysInvoice(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{})
	cust := e.customer(t, 7)
	inv, err := e.c.CreateInvoice(ctx(t), e.cr, invoiceInput(cust.ID, "RB-PAGE"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(inv.ShortURL+"/pay", map[string][]string{"amount": {"10000.00"}, "method": {"card"}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	resp.Body.Close()
	got, err := e.c.FetchInvoice(ctx(t), e.cr, inv.ID)
	if err != nil || got.Status != "partially_paid" || got.AmountPaid != 1000000 || got.AmountDue != 2000000 || got.PaymentID == "" {
		t.Fatalf("%+v %v", got, err)
	}
	p, err := e.c.FetchPayment(ctx(t), e.cr, got.PaymentID)
	if err != nil || p.InvoiceID != inv.ID || p.OrderID != inv.OrderID || p.Method != "card" || p.Amount != 1000000 {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestRetryAfterAndUnreadableSuccess(t *testing.T) {
	t.Parallel()
	var calls int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		switch {
		case r.URL.Path == "/v1/payments/pay_RetryAfter0001" && n == 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			_, _ = w.Write([]byte(`{"error":{"code":"BAD_REQUEST_ERROR","description":"Too many requests"}}`))
		case r.URL.Path == "/v1/payments/pay_RetryAfter0001":
			_, _ = w.Write([]byte(`{"id":"pay_RetryAfter0001","amount":"100","notes":[]}`))
		default:
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>maintenance</html>"))
		}
	}))
	defer srv.Close()
	c := razorpay.NewClient(razorpay.Config{BaseURL: srv.URL + "/v1/", MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Second})
	cr := razorpay.Credentials{KeyID: "rzp_test_x", KeySecret: "y"}
	start := time.Now()
	p, err := c.FetchPayment(ctx(t), cr, "pay_RetryAfter0001")
	if err != nil || p.Amount != 100 {
		t.Fatalf("%+v %v", p, err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("Retry-After: 1 was not honoured (%v)", waited)
	}
	_, err = c.FetchInvoice(ctx(t), cr, "inv_Anything00001")
	api := mustKind(t, err, apperr.Transient, razorpay.CodeUnavailable)
	if api.Status != 200 {
		t.Fatalf("an HTML 200 is an unreadable answer: %+v", api)
	}
	if c.BaseURL() != srv.URL {
		t.Fatalf("the /v1 suffix must be trimmed: %s", c.BaseURL())
	}
	bad := razorpay.NewClient(razorpay.Config{BaseURL: "::not a url"})
	mustKind(t, bad.VerifyCredentials(ctx(t), cr), apperr.Internal, "razorpay_base_url_invalid")
	mustKind(t, c.VerifyCredentials(ctx(t), razorpay.Credentials{}), apperr.Unauthorized, razorpay.CodeInvalidCredentials)
}

func TestRefundConflictIsAnUnknownOutcomeAndListFindsIt(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{MaxRetries: 1, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	link, _ := e.c.CreatePaymentLink(ctx(t), e.cr, linkInput("pay_rb_409"))
	res, err := e.sim.PayPaymentLink(link.ID, razorpaysim.PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.Fault409AfterCreate, Method: "POST", Path: "/v1/payments/*", Count: 1})
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.Fault409, Method: "POST", Path: "/v1/payments/*", Count: 1})
	in := razorpay.RefundInput{Amount: 1000, IdempotencyKey: "rfd_c409-1", Notes: map[string]string{"razorbill_refund_part": "rfd_c409-1"}}
	_, err = e.c.Refund(ctx(t), e.cr, res.PaymentID, in)
	mustKind(t, err, apperr.Transient, razorpay.CodeRefundInProgress)
	if !razorpay.RefundOutcomeUnknown(err) {
		t.Fatal("a 409 must be an unknown outcome")
	}
	list, err := e.c.ListRefunds(ctx(t), e.cr, res.PaymentID)
	if err != nil || len(list) != 1 || list[0].Notes["razorbill_refund_part"] != "rfd_c409-1" || list[0].Amount != 1000 {
		t.Fatalf("list: %+v %v", list, err)
	}
	// the same key with another body is a key conflict, also not a refusal
	_, err = e.c.Refund(ctx(t), e.cr, res.PaymentID, razorpay.RefundInput{Amount: 2000, IdempotencyKey: "rfd_c409-1"})
	if !apperr.HasCode(err, razorpay.CodeRefundKeyConflict) || !razorpay.RefundOutcomeUnknown(err) {
		t.Fatalf("key conflict: %v", err)
	}
	// a key Razorpay would refuse is not sent
	_, err = e.c.Refund(ctx(t), e.cr, res.PaymentID, razorpay.RefundInput{Amount: 1000, IdempotencyKey: "short"})
	mustKind(t, err, apperr.Invalid, razorpay.CodeInvalidInput)
}
