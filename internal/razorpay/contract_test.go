package razorpay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/razorpay"
)

// The contract: one suite, TestContract, run against Razorpay test mode
// when RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET and RAZORPAY_CONTRACT=1 are set
// (make contract), and against the simulator otherwise (make test): never
// skipped. A case asserts what Razorpay documents or was observed live to
// do; exact wording the simulator invents is asserted only against it.

type contractEnv struct {
	c    *razorpay.Client
	cr   razorpay.Credentials
	base string // API root without /v1, for the raw calls the client never makes
	live bool
	run  string // unique per run, for receipts, reference ids and emails
}

func (e contractEnv) ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

type contractCase struct {
	name string
	run  func(t *testing.T, e contractEnv)
}

var contractCases = []contractCase{
	{"verify credentials", func(t *testing.T, e contractEnv) {
		if err := e.c.VerifyCredentials(e.ctx(t), e.cr); err != nil {
			t.Fatal(err)
		}
		err := e.c.VerifyCredentials(e.ctx(t), razorpay.Credentials{KeyID: e.cr.KeyID, KeySecret: "wrong-secret"})
		api := mustKind(t, err, apperr.Unauthorized, razorpay.CodeInvalidCredentials)
		if api.Status != http.StatusUnauthorized || api.Code != "BAD_REQUEST_ERROR" || api.Description != "The api key provided is invalid" {
			t.Fatalf("401: %+v", api)
		}
	}},
	{"customer fail_existing and email+contact identity", func(t *testing.T, e contractEnv) {
		in := razorpay.CustomerInput{Name: "Contract Customer", Email: "contract+" + e.run + "@example.com", Contact: "+91" + digits10(e.run),
			Notes: map[string]string{"run": e.run}}
		c1, err := e.c.CreateCustomer(e.ctx(t), e.cr, in)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c1.ID, "cust_") || c1.Email != in.Email || c1.Notes["run"] != e.run || c1.CreatedAt.IsZero() {
			t.Fatalf("%+v", c1)
		}
		c2, err := e.c.CreateCustomer(e.ctx(t), e.cr, in) // fail_existing "0"
		if err != nil || c2.ID != c1.ID {
			t.Fatalf("fail_existing \"0\" must return the existing customer: %+v %v", c2, err)
		}
		in.FailExisting = true
		_, err = e.c.CreateCustomer(e.ctx(t), e.cr, in)
		api := mustKind(t, err, apperr.Permanent, razorpay.CodeBadRequest)
		if api.Status != 400 || !strings.Contains(api.Description, "already exists") {
			t.Fatalf("fail_existing \"1\": %+v", api)
		}
		found, ok, err := e.c.FindCustomer(e.ctx(t), e.cr, strings.ToUpper(in.Email), in.Contact)
		if err != nil || !ok || found.ID != c1.ID {
			t.Fatalf("FindCustomer: %+v %v %v", found, ok, err)
		}
	}},
	{"invoice create, find by receipt, fetch; receipts may repeat", func(t *testing.T, e contractEnv) {
		cust, err := e.c.CreateCustomer(e.ctx(t), e.cr, razorpay.CustomerInput{Name: "Invoice Customer", Email: "inv+" + e.run + "@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		receipt := "RB-" + e.run
		in := invoiceInput(cust.ID, receipt)
		inv, err := e.c.CreateInvoice(e.ctx(t), e.cr, in)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(inv.ID, "inv_") || inv.Status != "issued" || inv.Receipt != receipt || inv.Currency != "INR" ||
			inv.Amount != 25*100000+500000 || inv.AmountDue != inv.Amount || inv.AmountPaid != 0 || inv.ShortURL == "" ||
			!strings.HasPrefix(inv.OrderID, "order_") || inv.CustomerID != cust.ID || inv.Notes["razorbill_invoice_id"] != "inv_rb_"+receipt {
			t.Fatalf("%+v", inv)
		}
		if len(inv.LineItems) != 2 || inv.LineItems[0].Name != "API calls" || inv.LineItems[0].Amount != 25 || inv.LineItems[0].Quantity != 100000 ||
			inv.LineItems[1].Amount != 500000 || inv.LineItems[1].Quantity != 1 {
			t.Fatalf("line items not preserved: %+v", inv.LineItems)
		}
		found, ok, err := e.c.FindInvoiceByReceipt(e.ctx(t), e.cr, receipt)
		if err != nil || !ok || found.ID != inv.ID {
			t.Fatalf("FindInvoiceByReceipt: %+v %v %v", found, ok, err)
		}
		fetched, err := e.c.FetchInvoice(e.ctx(t), e.cr, inv.ID)
		if err != nil || fetched.ID != inv.ID || fetched.Amount != inv.Amount {
			t.Fatalf("FetchInvoice: %+v %v", fetched, err)
		}
		again, err := e.c.CreateInvoice(e.ctx(t), e.cr, in)
		if err != nil || again.ID == inv.ID {
			t.Fatalf("a repeated receipt is accepted by Razorpay (Razorbill heals by lookup, not by a create error): %+v %v", again, err)
		}
		found, _, _ = e.c.FindInvoiceByReceipt(e.ctx(t), e.cr, receipt)
		if found.ID != inv.ID {
			t.Fatalf("the earliest invoice with the receipt is returned: got %s want %s", found.ID, inv.ID)
		}
		_, ok, err = e.c.FindInvoiceByReceipt(e.ctx(t), e.cr, "RB-none-"+e.run)
		if err != nil || ok {
			t.Fatalf("unknown receipt: %v %v", ok, err)
		}
	}},
	{"invoice validation keeps status, code and field", func(t *testing.T, e contractEnv) {
		cust, err := e.c.CreateCustomer(e.ctx(t), e.cr, razorpay.CustomerInput{Name: "Validation Customer", Email: "val+" + e.run + "@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		in := invoiceInput(cust.ID, "RB-V-"+e.run)
		in.ExpireBy = time.Now().Add(5 * time.Minute)
		_, err = e.c.CreateInvoice(e.ctx(t), e.cr, in)
		api := mustKind(t, err, apperr.Permanent, razorpay.CodeBadRequest)
		if api.Status != 400 || api.Code != "BAD_REQUEST_ERROR" || api.Description == "" {
			t.Fatalf("%+v", api)
		}
		if !e.live && (api.Field != "expire_by" || apperr.As(err).Field != "expire_by") {
			t.Fatalf("field: %+v", api)
		}
		_, err = e.c.CreateInvoice(e.ctx(t), e.cr, invoiceInput("cust_DoesNotExist00", "RB-V2-"+e.run))
		if k := apperr.KindOf(err); k != apperr.Permanent && k != apperr.NotFound {
			t.Fatalf("unknown customer: %v", err)
		}
	}},
	{"payment link create, find, fetch, duplicate reference, cancel", func(t *testing.T, e contractEnv) {
		ref := "pay_rb_" + e.run
		in := linkInput(ref)
		l, err := e.c.CreatePaymentLink(e.ctx(t), e.cr, in)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(l.ID, "plink_") || l.Status != "created" || l.Amount != 50000 || l.AmountPaid != 0 || l.Currency != "INR" ||
			l.ReferenceID != ref || l.ShortURL == "" || l.CallbackMethod != "get" || l.Notes["razorbill_payment_id"] != ref || l.ExpireBy.IsZero() {
			t.Fatalf("%+v", l)
		}
		found, ok, err := e.c.FindPaymentLinkByReference(e.ctx(t), e.cr, ref)
		if err != nil || !ok || found.ID != l.ID {
			t.Fatalf("find: %+v %v %v", found, ok, err)
		}
		fetched, err := e.c.FetchPaymentLink(e.ctx(t), e.cr, l.ID)
		if err != nil || fetched.ID != l.ID || fetched.Status != "created" {
			t.Fatalf("fetch: %+v %v", fetched, err)
		}
		_, err = e.c.CreatePaymentLink(e.ctx(t), e.cr, in)
		api := mustKind(t, err, apperr.Permanent, razorpay.CodeBadRequest)
		if api.Status != 400 || !razorpay.IsDuplicateReference(err) || api.Field != "" || api.Reason != "" {
			t.Fatalf("duplicate reference_id: %+v", api)
		}
		if want := "payment link with given reference_id: " + ref + " already exists. Please create a payment link with a different reference_id"; !e.live && api.Description != want {
			t.Fatalf("duplicate reference_id wording: %q", api.Description)
		}
		c, err := e.c.CancelPaymentLink(e.ctx(t), e.cr, l.ID)
		if err != nil || c.Status != "cancelled" {
			t.Fatalf("cancel: %+v %v", c, err)
		}
		_, ok, err = e.c.FindPaymentLinkByReference(e.ctx(t), e.cr, "pay_rb_none_"+e.run)
		if err != nil || ok {
			t.Fatalf("unknown reference: %v %v", ok, err)
		}
	}},
	{"payment link below the minimum amount", func(t *testing.T, e contractEnv) {
		in := linkInput("pay_rb_min_" + e.run)
		in.Amount = 99
		_, err := e.c.CreatePaymentLink(e.ctx(t), e.cr, in)
		api := mustKind(t, err, apperr.Permanent, razorpay.CodeBadRequest)
		if api.Status != 400 || api.Field != "" || api.Reason != "" { // payment-link errors: field and reason null
			t.Fatalf("%+v", api)
		}
	}},
	{"unknown ids are NotFound", func(t *testing.T, e contractEnv) {
		_, err := e.c.FetchPayment(e.ctx(t), e.cr, "pay_ZZZZZZZZZZZZZZ")
		mustKind(t, err, apperr.NotFound, razorpay.CodeNotFound)
		_, err = e.c.FetchPaymentLink(e.ctx(t), e.cr, "plink_ZZZZZZZZZZZZZZ")
		mustKind(t, err, apperr.NotFound, razorpay.CodeNotFound)
	}},
}

// rulesCases are Razorpay's rules of issue 14, one case per rule the client
// can reach (webhook signing and ordering are the simulator's own tests:
// Razorpay test mode cannot be driven to send them on demand).
var rulesCases = []contractCase{
	{"customer name 3-50 of letters digits space . ' / @ ( ), email <= 64, contact <= 15", func(t *testing.T, e contractEnv) {
		ok := razorpay.CustomerInput{Name: "Contract O'Brien (QA) Ltd.", Email: "rules+" + e.run + "@example.com"}
		if _, err := e.c.CreateCustomer(e.ctx(t), e.cr, ok); err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{"Al", "Acme, Inc.", "Jean-Luc & Co", "राजेश कुमार", strings.Repeat("n", 51)} {
			_, err := e.c.CreateCustomer(e.ctx(t), e.cr, razorpay.CustomerInput{Name: name, Email: fmt.Sprintf("rules%d+%s@example.com", i, e.run)})
			api := mustKind(t, err, apperr.Permanent, razorpay.CodeBadRequest)
			if api.Status != 400 || (!e.live && api.Field != "name") {
				t.Fatalf("%q: %+v", name, api)
			}
		}
		long := "r" + e.run + strings.Repeat("x", 64) + "@example.com"
		long = long[len(long)-65:]
		_, err := e.c.CreateCustomer(e.ctx(t), e.cr, razorpay.CustomerInput{Name: "Long Email", Email: long})
		if api := mustKind(t, err, apperr.Permanent, razorpay.CodeBadRequest); api.Status != 400 {
			t.Fatalf("65-character email: %+v", api)
		}
		_, err = e.c.CreateCustomer(e.ctx(t), e.cr, razorpay.CustomerInput{Name: "Long Contact", Email: "lc+" + e.run + "@example.com", Contact: "+91" + digits10(e.run) + "123"})
		if api := mustKind(t, err, apperr.Permanent, razorpay.CodeBadRequest); api.Status != 400 {
			t.Fatalf("16-character contact: %+v", api)
		}
	}},
	{"payment link expire_by at least 15 minutes ahead, at most 6 months after creation", func(t *testing.T, e contractEnv) {
		for i, d := range []time.Duration{14 * time.Minute, 190 * 24 * time.Hour} {
			in := linkInput(fmt.Sprintf("pay_rb_exp%d_%s", i, e.run))
			in.ExpireBy = time.Now().Add(d)
			_, err := e.c.CreatePaymentLink(e.ctx(t), e.cr, in)
			if api := mustKind(t, err, apperr.Permanent, razorpay.CodeBadRequest); api.Status != 400 {
				t.Fatalf("expire_by in %s: %+v", d, api)
			}
		}
		in := linkInput("pay_rb_expok_" + e.run)
		in.ExpireBy = time.Now().Add(180*24*time.Hour - time.Hour) // Razorbill's cap (payments.MaxLinkExpiry)
		l, err := e.c.CreatePaymentLink(e.ctx(t), e.cr, in)
		if err != nil {
			t.Fatalf("expire_by at Razorbill's cap: %v", err)
		}
		if _, err := e.c.CancelPaymentLink(e.ctx(t), e.cr, l.ID); err != nil {
			t.Fatal(err)
		}
	}},
	{"unknown request fields are refused", func(t *testing.T, e contractEnv) {
		for _, c := range []struct {
			path string
			body map[string]any
			want string
		}{
			{"/v1/customers", map[string]any{"name": "Typo Customer", "emial": "typo+" + e.run + "@example.com"}, "emial is/are not required and should not be sent"},
			{"/v1/payment_links", map[string]any{"amount": 50000, "currency": "INR", "reference_id": "pay_rb_typo_" + e.run, "expires_at": 1}, "expires_at is/are not required and should not be sent"},
		} {
			status, body := rawCall(t, e, "POST", c.path, c.body)
			if status != 400 || !strings.Contains(body, c.want) {
				t.Fatalf("%s: %d %s", c.path, status, body)
			}
		}
		_, ok, err := e.c.FindPaymentLinkByReference(e.ctx(t), e.cr, "pay_rb_typo_"+e.run)
		if err != nil || ok {
			t.Fatalf("a refused link was created: %v %v", ok, err)
		}
	}},
	{"payment link notes at most 255 characters", func(t *testing.T, e contractEnv) {
		in := linkInput("pay_rb_n256_" + e.run)
		in.Notes["long"] = strings.Repeat("n", 256)
		_, err := e.c.CreatePaymentLink(e.ctx(t), e.cr, in)
		if api := mustKind(t, err, apperr.Permanent, razorpay.CodeBadRequest); api.Status != 400 {
			t.Fatalf("%+v", api)
		}
		in = linkInput("pay_rb_n255_" + e.run)
		in.Notes["long"] = strings.Repeat("n", 255)
		l, err := e.c.CreatePaymentLink(e.ctx(t), e.cr, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.CancelPaymentLink(e.ctx(t), e.cr, l.ID); err != nil {
			t.Fatal(err)
		}
	}},
	{"only created links and issued invoices cancel; unknown link is 404", func(t *testing.T, e contractEnv) {
		l, err := e.c.CreatePaymentLink(e.ctx(t), e.cr, linkInput("pay_rb_cc_"+e.run))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.CancelPaymentLink(e.ctx(t), e.cr, l.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.c.CancelPaymentLink(e.ctx(t), e.cr, l.ID)
		if api := mustKind(t, err, apperr.Permanent, razorpay.CodeBadRequest); api.Status != 400 || api.Field != "" {
			t.Fatalf("a cancelled link cancelled again: %+v", api)
		}
		cust, err := e.c.CreateCustomer(e.ctx(t), e.cr, razorpay.CustomerInput{Name: "Cancel Customer", Email: "cancel+" + e.run + "@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := e.c.CreateInvoice(e.ctx(t), e.cr, invoiceInput(cust.ID, "RB-C-"+e.run))
		if err != nil {
			t.Fatal(err)
		}
		if c, err := e.c.CancelInvoice(e.ctx(t), e.cr, inv.ID); err != nil || c.Status != "cancelled" {
			t.Fatalf("cancel an issued invoice: %+v %v", c, err)
		}
		_, err = e.c.CancelInvoice(e.ctx(t), e.cr, inv.ID)
		if api := mustKind(t, err, apperr.Permanent, razorpay.CodeBadRequest); api.Status != 400 {
			t.Fatalf("a cancelled invoice cancelled again: %+v", api)
		}
		_, err = e.c.FetchPaymentLink(e.ctx(t), e.cr, "plink_ZZZZZZZZZZZZZZ")
		if api := mustKind(t, err, apperr.NotFound, razorpay.CodeNotFound); api.Status != 404 {
			t.Fatalf("unknown link: %+v", api)
		}
	}},
}

// rawCall sends a request the client never would (a body with a field
// Razorpay does not accept) and returns the status and body.
func rawCall(t *testing.T, e contractEnv, method, path string, body any) (int, string) {
	t.Helper()
	j, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(e.ctx(t), method, strings.TrimRight(e.base, "/")+path, bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(e.cr.KeyID, e.cr.KeySecret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func digits10(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprint(&b, int(r)%10)
	}
	d := "9" + b.String() + "000000000"
	return d[:10]
}

func runContract(t *testing.T, mk func(t *testing.T) contractEnv) {
	for _, c := range append(append([]contractCase(nil), contractCases...), rulesCases...) {
		t.Run(c.name, func(t *testing.T) {
			e := mk(t)
			e.run = fmt.Sprintf("%d%03d", time.Now().UnixNano()/1e6%1e9, len(c.name))
			c.run(t, e)
		})
	}
}

// TestContract runs the contract against Razorpay test mode when
// RAZORPAY_CONTRACT=1 (or the older RAZORPAY_CONTRACT_LIVE=1) is set with
// RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET, and against the simulator
// otherwise. RAZORPAY_CONTRACT=1 without the keys is an error, not a
// silent fallback.
func TestContract(t *testing.T) {
	id, secret := os.Getenv("RAZORPAY_KEY_ID"), os.Getenv("RAZORPAY_KEY_SECRET")
	live := os.Getenv("RAZORPAY_CONTRACT") == "1" || os.Getenv("RAZORPAY_CONTRACT_LIVE") == "1"
	if !live {
		t.Parallel()
		t.Log("contract run against the simulator (set RAZORPAY_CONTRACT=1 with RAZORPAY_KEY_ID/RAZORPAY_KEY_SECRET for Razorpay test mode)")
		runContract(t, func(t *testing.T) contractEnv {
			e := newSimEnv(t, razorpay.Config{})
			return contractEnv{c: e.c, cr: e.cr, base: e.srv.URL}
		})
		return
	}
	if id == "" || secret == "" {
		t.Fatal("RAZORPAY_CONTRACT=1 needs RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET (test mode keys)")
	}
	if !strings.HasPrefix(id, "rzp_test_") {
		t.Fatalf("refusing to run the contract with a non-test key %s", id)
	}
	base := os.Getenv("RAZORPAY_BASE_URL")
	if base == "" {
		base = "https://api.razorpay.com"
	}
	t.Logf("contract run against Razorpay test mode at %s", base)
	runContract(t, func(t *testing.T) contractEnv {
		return contractEnv{c: razorpay.NewClient(razorpay.Config{BaseURL: base}), cr: razorpay.Credentials{KeyID: id, KeySecret: secret}, base: base, live: true}
	})
}
