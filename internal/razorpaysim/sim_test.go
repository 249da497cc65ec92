package razorpaysim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

type env struct {
	sim  *razorpaysim.Simulator
	srv  *httptest.Server
	acct razorpaysim.Account
	now  *atomic.Int64 // Unix seconds of the simulator's clock
}

func newEnv(t *testing.T, opt razorpaysim.Options) *env {
	t.Helper()
	now := &atomic.Int64{}
	now.Store(time.Now().Unix())
	opt.Now = func() time.Time { return time.Unix(now.Load(), 0) }
	opt.ExpirySweep = -1
	if opt.RetrySchedule == nil {
		opt.RetrySchedule = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}
	}
	if opt.DeliveryTimeout == 0 {
		opt.DeliveryTimeout = 2 * time.Second
	}
	sim := razorpaysim.New(opt)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	return &env{sim: sim, srv: srv, acct: sim.DefaultAccount(), now: now}
}

type answer struct {
	status int
	raw    []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.raw, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", a.status, a.raw)
	}
	return m
}

// call makes a raw API call with the default account's keys.
func (e *env) call(t *testing.T, method, path string, body any) answer {
	t.Helper()
	return e.callAs(t, e.acct.KeyID, e.acct.KeySecret, method, path, body, nil)
}

func (e *env) callAs(t *testing.T, key, secret, method, path string, body any, hdr map[string]string) answer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if key != "" {
		req.SetBasicAuth(key, secret)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, raw}
}

func errBody(t *testing.T, a answer) (desc, field string) {
	t.Helper()
	m := a.json(t)
	e, ok := m["error"].(map[string]any)
	if !ok || e["code"] != "BAD_REQUEST_ERROR" {
		t.Fatalf("not Razorpay's error body: %s", a.raw)
	}
	f, _ := e["field"].(string)
	return e["description"].(string), f
}

func TestAuthAnswersRazorpaysBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	a := e.callAs(t, e.acct.KeyID, "wrong", "GET", "/v1/customers", nil, nil)
	want := `{"error":{"code":"BAD_REQUEST_ERROR","description":"The api key provided is invalid","source":"NA","step":"NA","reason":"NA","metadata":{}}}`
	if a.status != 401 || string(a.raw) != want {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	if a := e.callAs(t, "rzp_test_unknown", "x", "GET", "/v1/payments/pay_1", nil, nil); a.status != 401 || string(a.raw) != want {
		t.Fatalf("unknown key: %d %s", a.status, a.raw)
	}
	if a := e.callAs(t, "", "", "GET", "/v1/customers", nil, nil); a.status != 401 {
		t.Fatalf("no auth: %d", a.status)
	}
	if !strings.HasPrefix(e.acct.KeyID, "rzp_test_") || e.acct.KeySecret == "" || !strings.HasPrefix(e.acct.ID, "acc_") {
		t.Fatalf("default account %+v", e.acct)
	}
	if a := e.call(t, "GET", "/v1/customers?count=1", nil); a.status != 200 {
		t.Fatalf("good key: %d %s", a.status, a.raw)
	}
}

func TestShapesArePHPFlavoured(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	c := e.call(t, "POST", "/v1/customers", map[string]any{"name": "Asha", "email": "asha@example.com"})
	if c.status != 200 || !bytes.Contains(c.raw, []byte(`"notes":[]`)) || !bytes.Contains(c.raw, []byte(`"contact":null`)) {
		t.Fatalf("customer: %s", c.raw)
	}
	cm := c.json(t)
	if _, isNum := cm["created_at"].(float64); !isNum || !strings.HasPrefix(cm["id"].(string), "cust_") || cm["entity"] != "customer" {
		t.Fatalf("customer fields: %s", c.raw)
	}
	list := e.call(t, "GET", "/v1/customers", nil).json(t)
	if list["entity"] != "collection" || list["count"] != 1.0 || len(list["items"].([]any)) != 1 {
		t.Fatalf("collection: %v", list)
	}
	l := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "currency": "INR", "reference_id": "r1"})
	if l.status != 200 || !bytes.Contains(l.raw, []byte(`"notes":null`)) || !bytes.Contains(l.raw, []byte(`"payments":null`)) ||
		!bytes.Contains(l.raw, []byte(`"cancelled_at":0`)) {
		t.Fatalf("link: %s", l.raw)
	}
	links := e.call(t, "GET", "/v1/payment_links?reference_id=r1", nil).json(t)
	if items, ok := links["payment_links"].([]any); !ok || len(items) != 1 {
		t.Fatalf("links list: %v", links)
	}
	if none := e.call(t, "GET", "/v1/payment_links?reference_id=nope", nil); string(none.raw) != `{"payment_links":[]}` {
		t.Fatalf("empty links list: %s", none.raw)
	}
	if a := e.call(t, "GET", "/v1/payments/pay_nope", nil); a.status != 400 {
		t.Fatalf("unknown id: %d %s", a.status, a.raw)
	} else if d, _ := errBody(t, a); d != "The id provided does not exist" {
		t.Fatal(d)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	cust := e.call(t, "POST", "/v1/customers", map[string]any{"name": "Val", "email": "v@example.com", "contact": "+919000090001"}).json(t)["id"]
	line := map[string]any{"name": "x", "amount": 100, "quantity": 1, "currency": "INR"}
	inv := func(over map[string]any) map[string]any {
		m := map[string]any{"type": "invoice", "customer_id": cust, "currency": "INR", "receipt": "R1", "line_items": []any{line}}
		for k, v := range over {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	many := make([]any, 51)
	for i := range many {
		many[i] = line
	}
	notes16 := map[string]any{}
	for i := 0; i < 16; i++ {
		notes16[fmt.Sprint("k", i)] = "v"
	}
	link := func(over map[string]any) map[string]any {
		m := map[string]any{"amount": 1000, "currency": "INR", "reference_id": "L-" + fmt.Sprint(len(over))}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name, path string
		body       any
		field      string
		desc       string
	}{
		{"51 line items", "/v1/invoices", inv(map[string]any{"line_items": many}), "line_items", "50"},
		{"no line items", "/v1/invoices", inv(map[string]any{"line_items": []any{}}), "line_items", "required"},
		{"receipt 41 chars", "/v1/invoices", inv(map[string]any{"receipt": strings.Repeat("r", 41)}), "receipt", "40 characters"},
		{"empty receipt", "/v1/invoices", inv(map[string]any{"receipt": ""}), "receipt", "at least 1"},
		{"expire_by 10 min ahead", "/v1/invoices", inv(map[string]any{"expire_by": time.Now().Add(10 * time.Minute).Unix()}), "expire_by", "15 minutes"},
		{"unknown customer", "/v1/invoices", inv(map[string]any{"customer_id": "cust_nope"}), "customer_id", "does not exist"},
		{"no type", "/v1/invoices", inv(map[string]any{"type": nil}), "type", "required"},
		{"zero amount", "/v1/invoices", inv(map[string]any{"line_items": []any{map[string]any{"name": "x", "amount": 0}}}), "line_items.0.amount", "at least 1"},
		{"fractional amount", "/v1/invoices", inv(map[string]any{"line_items": []any{map[string]any{"name": "x", "amount": 10.5}}}), "line_items.0.amount", "integer"},
		{"KWD amount not ending in 0", "/v1/invoices", inv(map[string]any{"currency": "KWD", "line_items": []any{map[string]any{"name": "x", "amount": 1005, "currency": "KWD"}}}), "line_items.0.amount", "end with 0"},
		{"line currency differs", "/v1/invoices", inv(map[string]any{"line_items": []any{map[string]any{"name": "x", "amount": 100, "currency": "USD"}}}), "line_items.0.currency", "same as invoice"},
		{"16 notes", "/v1/invoices", inv(map[string]any{"notes": notes16}), "notes", "15"},
		{"link below INR 1", "/v1/payment_links", link(map[string]any{"amount": 99}), "", "atleast INR 1.00"},
		{"link amount missing", "/v1/payment_links", map[string]any{"currency": "INR"}, "", "required"},
		{"link reference 41", "/v1/payment_links", link(map[string]any{"reference_id": strings.Repeat("x", 41)}), "", "40 characters"},
		{"link 16 notes", "/v1/payment_links", link(map[string]any{"notes": notes16}), "", "15"},
		{"link note 256 chars", "/v1/payment_links", link(map[string]any{"notes": map[string]any{"a": strings.Repeat("n", 256)}}), "", "255"},
		{"link callback without method", "/v1/payment_links", link(map[string]any{"callback_url": "https://x.example"}), "", "required"},
		{"link first min > amount", "/v1/payment_links", link(map[string]any{"accept_partial": true, "first_min_partial_amount": 2000}), "", "less than"},
		{"link expire_by in the past", "/v1/payment_links", link(map[string]any{"expire_by": time.Now().Add(-time.Hour).Unix()}), "", "15 minutes"},
		{"customer bad email", "/v1/customers", map[string]any{"email": "not-an-email"}, "email", "valid email"},
		{"customer fail_existing false", "/v1/customers", map[string]any{"email": "z@example.com", "fail_existing": false}, "fail_existing", "invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.call(t, "POST", c.path, c.body)
			if a.status != 400 {
				t.Fatalf("%d %s", a.status, a.raw)
			}
			desc, field := errBody(t, a)
			if field != c.field || !strings.Contains(desc, c.desc) {
				t.Fatalf("field %q desc %q", field, desc)
			}
		})
	}
	// Nothing was created by a refused request.
	if o := e.sim.Objects(""); len(o.Invoices) != 0 || len(o.PaymentLinks) != 0 || len(o.Customers) != 1 {
		t.Fatalf("refused requests created objects: %d invoices, %d links, %d customers", len(o.Invoices), len(o.PaymentLinks), len(o.Customers))
	}
}

func TestCustomerFailExisting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	in := map[string]any{"name": "Asha", "email": "asha@example.com", "contact": "+919000090000"}
	first := e.call(t, "POST", "/v1/customers", in).json(t)["id"]
	for _, off := range []any{"0", 0} {
		in["fail_existing"] = off
		if got := e.call(t, "POST", "/v1/customers", in).json(t)["id"]; got != first {
			t.Fatalf("fail_existing %v: %v != %v", off, got, first)
		}
	}
	for _, on := range []any{"1", 1, true, nil} {
		in["fail_existing"] = on
		if on == nil {
			delete(in, "fail_existing")
		}
		a := e.call(t, "POST", "/v1/customers", in)
		if d, _ := errBody(t, a); a.status != 400 || d != "Customer already exists for the merchant" {
			t.Fatalf("fail_existing %v: %d %s", on, a.status, a.raw)
		}
	}
	// Identity is email + contact: another contact is another customer.
	in["contact"], in["fail_existing"] = "+919000090009", "1"
	if a := e.call(t, "POST", "/v1/customers", in); a.status != 200 || a.json(t)["id"] == first {
		t.Fatalf("%d %s", a.status, a.raw)
	}
}

func TestRepeatedReceiptAndFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	c1 := e.call(t, "POST", "/v1/customers", map[string]any{"email": "a@example.com"}).json(t)["id"]
	c2 := e.call(t, "POST", "/v1/customers", map[string]any{"email": "b@example.com"}).json(t)["id"]
	body := func(c any) map[string]any {
		return map[string]any{"type": "invoice", "customer_id": c, "receipt": "RB-7", "line_items": []any{map[string]any{"name": "x", "amount": 1000, "quantity": 3}}}
	}
	for _, c := range []any{c1, c1, c2} {
		if a := e.call(t, "POST", "/v1/invoices", body(c)); a.status != 200 {
			t.Fatalf("a repeated receipt must be accepted: %d %s", a.status, a.raw)
		}
	}
	if n := e.call(t, "GET", "/v1/invoices?receipt=RB-7", nil).json(t)["count"]; n != 3.0 {
		t.Fatalf("receipt filter: %v", n)
	}
	got := e.call(t, "GET", "/v1/invoices?receipt=RB-7&customer_id="+c2.(string), nil).json(t)
	if got["count"] != 1.0 {
		t.Fatalf("receipt+customer filter: %v", got)
	}
	inv := got["items"].([]any)[0].(map[string]any)
	if inv["amount"] != 3000.0 || inv["amount_due"] != 3000.0 || inv["status"] != "issued" || !strings.HasPrefix(inv["order_id"].(string), "order_") ||
		!strings.HasPrefix(inv["short_url"].(string), e.srv.URL+"/i/") || inv["sms_status"] != "pending" {
		t.Fatalf("invoice: %v", inv)
	}
	if n := e.call(t, "GET", "/v1/invoices?count=2", nil).json(t)["count"]; n != 2.0 {
		t.Fatalf("count: %v", n)
	}
	if a := e.call(t, "GET", "/v1/invoices?count=101", nil); a.status != 400 {
		t.Fatalf("count 101: %d", a.status)
	}
}

func TestAccountsAreIsolated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	b, err := e.sim.CreateAccount(razorpaysim.Account{KeyID: "rzp_test_OtherMerchant1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.CreateAccount(razorpaysim.Account{KeyID: "rzp_bad"}); err == nil {
		t.Fatal("a key id without rzp_test_/rzp_live_ was accepted")
	}
	l := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "same"}).json(t)
	if a := e.callAs(t, b.KeyID, b.KeySecret, "GET", "/v1/payment_links/"+l["id"].(string), nil, nil); a.status != 404 {
		t.Fatalf("another account read the link: %d", a.status)
	}
	// reference_id is unique per account, not globally.
	if a := e.callAs(t, b.KeyID, b.KeySecret, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "same"}, nil); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	a := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "same"})
	if d, f := errBody(t, a); a.status != 400 || d != "payment link with given reference_id: same already exists. Please create a payment link with a different reference_id" || f != "" {
		t.Fatalf("%d %s", a.status, a.raw)
	}
}

// receiver records webhook deliveries; respond decides each answer.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []delivery
	respond func(n int) (status int, delay time.Duration)
	sim     *razorpaysim.Simulator // set by hook: events() sorts into emission order
}

type delivery struct {
	body   []byte
	header http.Header
}

func newReceiver(t *testing.T, respond func(n int) (int, time.Duration)) *receiver {
	r := &receiver{respond: respond}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, delivery{b, req.Header.Clone()})
		n := len(r.got)
		r.mu.Unlock()
		status, delay := 200, time.Duration(0)
		if r.respond != nil {
			status, delay = r.respond(n)
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-req.Context().Done():
				return
			}
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// events parses what arrived, checking each signature with secret.
func (r *receiver) events(t *testing.T, secret string) []razorpay.Event {
	t.Helper()
	var out []razorpay.Event
	for _, d := range r.deliveries() {
		if d.header.Get("Content-Type") != "application/json" || d.header.Get("X-Razorpay-Event-Id") == "" {
			t.Fatalf("headers: %v", d.header)
		}
		if !razorpay.VerifySignature(d.body, d.header.Get("X-Razorpay-Signature"), secret) {
			t.Fatalf("bad signature on %s", d.body)
		}
		ev, err := razorpay.ParseEvent(d.body)
		if err != nil {
			t.Fatal(err)
		}
		ev.ID = d.header.Get("X-Razorpay-Event-Id")
		out = append(out, ev)
	}
	// First attempts arrive in any order: compare in emission order.
	if r.sim != nil {
		idx := map[string]int{}
		for i, e := range r.sim.Events("") {
			idx[e.ID] = i
		}
		sort.SliceStable(out, func(i, j int) bool { return idx[out[i].ID] < idx[out[j].ID] })
	}
	return out
}

func names(evs []razorpay.Event) string {
	var n []string
	for _, e := range evs {
		n = append(n, e.Name)
	}
	return strings.Join(n, ",")
}

func wait(t *testing.T, s *razorpaysim.Simulator) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
}

const secret = "whsec_sim_test_1"

func (e *env) hook(t *testing.T, r *receiver) {
	r.sim = e.sim
	if err := e.sim.SetWebhook(e.acct.KeyID, r.srv.URL+"/webhooks/razorpay", secret); err != nil {
		t.Fatal(err)
	}
}

func TestCheckoutPageAndLinkWebhooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	r := newReceiver(t, nil)
	e.hook(t, r)
	l := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 50000, "currency": "INR", "accept_partial": true, "first_min_partial_amount": 10000,
		"reference_id": "pay_rb_1", "notes": map[string]any{"razorbill_payment_id": "pay_rb_1"}, "customer": map[string]any{"email": "a@example.com"},
		"callback_url": "https://app.example.com/back", "callback_method": "get"}).json(t)
	short := l["short_url"].(string)

	page, err := http.Get(short)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	for _, want := range []string{"Pay in full", "Pay part", "Fail payment", "INR 500.00", l["id"].(string)} {
		if !bytes.Contains(html, []byte(want)) {
			t.Fatalf("checkout page lacks %q:\n%s", want, html)
		}
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// A failed attempt first: payment.failed only.
	if resp, err := noRedirect.PostForm(short+"/fail", url.Values{"method": {"upi"}}); err != nil || resp.StatusCode != 200 {
		t.Fatalf("fail: %v %v", resp, err)
	}
	// Pay part (₹200.00 of ₹500.00) through the page's form.
	resp, err := noRedirect.PostForm(short+"/pay", url.Values{"amount": {"200.00"}, "method": {"upi"}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay part: %v %v", resp, err)
	}
	cb, _ := url.Parse(resp.Header.Get("Location"))
	q := cb.Query()
	if cb.Host != "app.example.com" || q.Get("razorpay_payment_link_status") != "partially_paid" || q.Get("razorpay_payment_link_reference_id") != "pay_rb_1" {
		t.Fatalf("callback %s", cb)
	}
	sig := razorpay.Sign([]byte(q.Get("razorpay_payment_link_id")+"|pay_rb_1|partially_paid|"+q.Get("razorpay_payment_id")), e.acct.KeySecret)
	if q.Get("razorpay_signature") != sig {
		t.Fatal("callback signature is not Razorpay's scheme")
	}
	// Pay the rest in full.
	if resp, err := noRedirect.PostForm(short+"/pay", url.Values{"amount_minor": {"30000"}, "method": {"card"}}); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay rest: %v %v", resp, err)
	}
	wait(t, e.sim)
	evs := r.events(t, secret)
	want := "payment.failed,payment.authorized,payment.captured,payment_link.partially_paid,payment.authorized,payment.captured,order.paid,payment_link.paid"
	if names(evs) != want {
		t.Fatalf("events\n got %s\nwant %s", names(evs), want)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		if seen[ev.ID] {
			t.Fatalf("event id %s reused", ev.ID)
		}
		seen[ev.ID] = true
		if ev.AccountID != e.acct.ID {
			t.Fatalf("account_id %s", ev.AccountID)
		}
		if p := ev.Payment; p != nil {
			if p.Notes["razorbill_payment_id"] != "pay_rb_1" || p.OrderID == "" || p.InvoiceID != "" {
				t.Fatalf("a link's payment carries the link's notes and order: %+v", p)
			}
		}
	}
	if p := evs[0].Payment; p.Status != "failed" || p.ErrorCode != "BAD_REQUEST_ERROR" || p.Amount != 50000 {
		t.Fatalf("failed payment: %+v", p)
	}
	if evs[1].Payment.Status != "authorized" || evs[2].Payment.Status != "captured" || evs[1].Payment.ID != evs[2].Payment.ID {
		t.Fatal("payment.authorized is a snapshot taken before capture")
	}
	part := evs[3]
	if part.PaymentLink.Status != "partially_paid" || part.PaymentLink.AmountPaid != 20000 || part.Order.AmountPaid != 20000 || part.Payment.Amount != 20000 {
		t.Fatalf("partial: %+v %+v", part.PaymentLink, part.Order)
	}
	paid := evs[7]
	if paid.PaymentLink.Status != "paid" || paid.PaymentLink.AmountPaid != 50000 || paid.Order.Status != "paid" || paid.Payment.Method != "card" ||
		paid.Order.ID != paid.Payment.OrderID || paid.PaymentLink.OrderID != paid.Order.ID || !strings.Contains(strings.Join(paid.Contains, ","), "payment_link,order,payment") {
		t.Fatalf("paid: %+v", paid)
	}
	// The page now offers nothing to pay.
	page, _ = http.Get(short)
	html, _ = io.ReadAll(page.Body)
	page.Body.Close()
	if bytes.Contains(html, []byte("Pay in full")) || !bytes.Contains(html, []byte("paid")) {
		t.Fatalf("a paid link still offers payment:\n%s", html)
	}
}

func TestInvoicePaymentWebhooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	r := newReceiver(t, nil)
	e.hook(t, r)
	c := e.call(t, "POST", "/v1/customers", map[string]any{"name": "Ivy", "email": "i@example.com", "contact": "+919000000001"}).json(t)
	inv := e.call(t, "POST", "/v1/invoices", map[string]any{"type": "invoice", "customer_id": c["id"], "receipt": "RB-9", "partial_payment": true,
		"line_items": []any{map[string]any{"name": "x", "amount": 1000, "quantity": 10}}}).json(t)
	id := inv["id"].(string)
	if _, err := e.sim.PayInvoice(id, razorpaysim.PayOptions{Amount: 4000}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.PayInvoice(id, razorpaysim.PayOptions{Amount: 7000}); err == nil {
		t.Fatal("paid more than due")
	}
	res, err := e.sim.PayInvoice(id, razorpaysim.PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wait(t, e.sim)
	evs := r.events(t, secret)
	want := "payment.authorized,payment.captured,invoice.partially_paid,payment.authorized,payment.captured,order.paid,invoice.paid"
	if names(evs) != want {
		t.Fatalf("got %s", names(evs))
	}
	last := evs[len(evs)-1]
	if last.Invoice.Status != "paid" || last.Invoice.AmountPaid != 10000 || last.Invoice.AmountDue != 0 || last.Invoice.PaymentID != res.PaymentID ||
		last.Payment.InvoiceID != id || last.Payment.Amount != 6000 || last.Order.ID != last.Invoice.OrderID || last.Invoice.PaidAt.IsZero() {
		t.Fatalf("invoice.paid: %+v %+v", last.Invoice, last.Payment)
	}
	if p := e.call(t, "GET", "/v1/payments/"+res.PaymentID, nil).json(t); p["invoice_id"] != id || p["status"] != "captured" {
		t.Fatalf("payment: %v", p)
	}
	// Not partial: a part payment is refused.
	inv2 := e.call(t, "POST", "/v1/invoices", map[string]any{"type": "invoice", "customer_id": c["id"], "receipt": "RB-10",
		"line_items": []any{map[string]any{"name": "x", "amount": 1000}}}).json(t)
	if _, err := e.sim.PayInvoice(inv2["id"].(string), razorpaysim.PayOptions{Amount: 10}); err == nil {
		t.Fatal("a part payment of a non-partial invoice was accepted")
	}
}

func TestRefundWebhooksAndIdempotency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	r := newReceiver(t, nil)
	e.hook(t, r)
	l := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 10000, "reference_id": "rf"}).json(t)
	res, _ := e.sim.PayPaymentLink(l["id"].(string), razorpaysim.PayOptions{})
	hdr := map[string]string{"X-Refund-Idempotency": "rfd_k1-0001"}
	a1 := e.callAs(t, e.acct.KeyID, e.acct.KeySecret, "POST", "/v1/payments/"+res.PaymentID+"/refund", map[string]any{"amount": 4000}, hdr).json(t)
	a2 := e.callAs(t, e.acct.KeyID, e.acct.KeySecret, "POST", "/v1/payments/"+res.PaymentID+"/refund", map[string]any{"amount": 4000}, hdr).json(t)
	if a1["id"] != a2["id"] || a1["status"] != "processed" || a1["amount"] != 4000.0 {
		t.Fatalf("%v %v", a1, a2)
	}
	if n := len(e.sim.Objects("").Refunds); n != 1 {
		t.Fatalf("%d refunds", n)
	}
	if a := e.call(t, "POST", "/v1/payments/"+res.PaymentID+"/refund", map[string]any{"amount": 7000}); a.status != 400 {
		t.Fatalf("over-refund: %d %s", a.status, a.raw)
	}
	// Manual refunds: pending until processed or failed.
	_ = e.sim.SetManualRefunds(e.acct.KeyID, true)
	a3 := e.call(t, "POST", "/v1/payments/"+res.PaymentID+"/refund", map[string]any{"amount": 1000}).json(t)
	if a3["status"] != "pending" {
		t.Fatalf("%v", a3)
	}
	if err := e.sim.ProcessRefund(a3["id"].(string), false); err != nil {
		t.Fatal(err)
	}
	wait(t, e.sim)
	var got []string
	for _, ev := range r.events(t, secret) {
		if ev.Refund != nil {
			got = append(got, ev.Name+":"+ev.Refund.Status)
			if ev.Payment == nil || ev.Payment.ID != res.PaymentID {
				t.Fatalf("a refund event carries its payment: %+v", ev)
			}
		}
	}
	if strings.Join(got, ",") != "refund.created:pending,refund.processed:processed,refund.created:pending,refund.failed:failed" {
		t.Fatalf("refund events: %v", got)
	}
	if p := e.call(t, "GET", "/v1/payments/"+res.PaymentID, nil).json(t); p["amount_refunded"] != 4000.0 || p["refund_status"] != "partial" {
		t.Fatalf("a failed refund restores amount_refunded: %v", p)
	}
}

func TestCancelAndExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	r := newReceiver(t, nil)
	e.hook(t, r)
	exp := time.Unix(e.now.Load(), 0).Add(time.Hour).Unix()
	l1 := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "c1"}).json(t)
	l2 := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "c2", "expire_by": exp}).json(t)
	c := e.call(t, "POST", "/v1/customers", map[string]any{"email": "x@example.com"}).json(t)
	inv := e.call(t, "POST", "/v1/invoices", map[string]any{"type": "invoice", "customer_id": c["id"], "receipt": "E1", "expire_by": exp,
		"line_items": []any{map[string]any{"name": "x", "amount": 1000}}}).json(t)
	if a := e.call(t, "POST", "/v1/payment_links/"+l1["id"].(string)+"/cancel", nil); a.status != 200 || a.json(t)["status"] != "cancelled" {
		t.Fatalf("cancel: %d %s", a.status, a.raw)
	}
	e.sim.Sweep()
	if n := len(e.sim.Events("")); n != 1 {
		t.Fatalf("nothing should expire yet: %d events", n)
	}
	e.now.Add(3601)
	e.sim.Sweep()
	wait(t, e.sim)
	if got := names(r.events(t, secret)); got != "payment_link.cancelled,payment_link.expired,invoice.expired" {
		t.Fatalf("got %s", got)
	}
	if _, err := e.sim.PayPaymentLink(l2["id"].(string), razorpaysim.PayOptions{}); err == nil {
		t.Fatal("an expired link was paid")
	}
	if _, err := e.sim.PayInvoice(inv["id"].(string), razorpaysim.PayOptions{}); err == nil {
		t.Fatal("an expired invoice was paid")
	}
}

func TestDeliveryRetriesOnErrorsAndSlowAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{DeliveryTimeout: 100 * time.Millisecond})
	r := newReceiver(t, func(n int) (int, time.Duration) {
		switch n {
		case 1:
			return 500, 0
		case 2:
			return 200, 400 * time.Millisecond // answers too late: a failure
		}
		return 200, 0
	})
	e.hook(t, r)
	l := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "rt"}).json(t)
	if err := e.sim.CancelPaymentLink(l["id"].(string)); err != nil {
		t.Fatal(err)
	}
	wait(t, e.sim)
	log := e.sim.Deliveries(e.acct.KeyID)
	if len(log) != 3 || log[0].Status != 500 || log[1].Status != 0 || !strings.Contains(log[1].Error, "no answer") || !log[2].OK() {
		t.Fatalf("delivery log: %+v", log)
	}
	if log[0].Attempt != 1 || log[2].Attempt != 3 || log[0].EventID != log[2].EventID {
		t.Fatalf("attempts: %+v", log)
	}
	evs := e.sim.Events(e.acct.KeyID)
	if len(evs) != 1 || !evs[0].Delivered || evs[0].Attempts != 3 {
		t.Fatalf("event: %+v", evs)
	}
	// The same event id on every attempt.
	for _, d := range r.deliveries() {
		if d.header.Get("X-Razorpay-Event-Id") != evs[0].ID {
			t.Fatal("retries must keep the event id")
		}
	}
}

func TestRetriesGiveUpAndKeepTheOldSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	var fail atomic.Bool
	fail.Store(true)
	r := newReceiver(t, func(n int) (int, time.Duration) {
		if fail.Load() {
			return 503, 0
		}
		return 200, 0
	})
	e.hook(t, r)
	l := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "rot"}).json(t)
	_ = e.sim.CancelPaymentLink(l["id"].(string))
	wait(t, e.sim)
	evs := e.sim.Events("")
	if !evs[0].GaveUp || evs[0].Delivered || evs[0].Attempts != 4 {
		t.Fatalf("after the schedule ran out: %+v", evs[0])
	}
	// Rotate: a redelivery (a resend from the dashboard) of the old event
	// is signed with the current secret, a new event with the new one.
	old, err := e.sim.RotateWebhookSecret(e.acct.KeyID, "whsec_new")
	if err != nil || old != secret {
		t.Fatal(old, err)
	}
	fail.Store(false)
	ds, err := e.sim.Redeliver(context.Background(), evs[0].ID, razorpaysim.RedeliverOptions{})
	if err != nil || len(ds) != 1 || !ds[0].OK() {
		t.Fatalf("%+v %v", ds, err)
	}
	last := r.deliveries()[len(r.deliveries())-1]
	if !razorpay.VerifySignature(last.body, last.header.Get("X-Razorpay-Signature"), "whsec_new") {
		t.Fatal("a dashboard resend of the older event is signed with the current secret")
	}
	l2 := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "rot2"}).json(t)
	_ = e.sim.CancelPaymentLink(l2["id"].(string))
	wait(t, e.sim)
	last = r.deliveries()[len(r.deliveries())-1]
	if !razorpay.VerifySignature(last.body, last.header.Get("X-Razorpay-Signature"), "whsec_new") {
		t.Fatal("a new event is signed with the new secret")
	}
}

func TestRedeliverTwiceBadSignatureAndOutOfOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	r := newReceiver(t, nil)
	e.hook(t, r)
	if err := e.sim.HoldWebhooks(e.acct.KeyID, true); err != nil {
		t.Fatal(err)
	}
	l := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "ooo"}).json(t)
	if _, err := e.sim.PayPaymentLink(l["id"].(string), razorpaysim.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	wait(t, e.sim)
	if n := len(r.deliveries()); n != 0 {
		t.Fatalf("held events were delivered: %d", n)
	}
	order, err := e.sim.ReleaseWebhooks(e.acct.KeyID, razorpaysim.ReleaseReverse)
	if err != nil || len(order) != 4 {
		t.Fatal(order, err)
	}
	wait(t, e.sim)
	var arrived []string
	for _, d := range r.deliveries() {
		ev, _ := razorpay.ParseEvent(d.body)
		arrived = append(arrived, ev.Name)
	}
	if got := strings.Join(arrived, ","); got != "payment_link.paid,order.paid,payment.captured,payment.authorized" {
		t.Fatalf("reverse order: %s", got)
	}
	ds, err := e.sim.Redeliver(context.Background(), order[0], razorpaysim.RedeliverOptions{Times: 2})
	if err != nil || len(ds) != 2 {
		t.Fatal(ds, err)
	}
	all := r.deliveries()
	a, b := all[len(all)-2], all[len(all)-1]
	if !bytes.Equal(a.body, b.body) || a.header.Get("X-Razorpay-Event-Id") != b.header.Get("X-Razorpay-Event-Id") || a.header.Get("X-Razorpay-Event-Id") != order[0] {
		t.Fatal("a duplicate delivery is byte-identical with the same event id")
	}
	if _, err := e.sim.Redeliver(context.Background(), order[0], razorpaysim.RedeliverOptions{BadSignature: true}); err != nil {
		t.Fatal(err)
	}
	bad := r.deliveries()[len(r.deliveries())-1]
	if razorpay.VerifySignature(bad.body, bad.header.Get("X-Razorpay-Signature"), secret) || len(bad.header.Get("X-Razorpay-Signature")) != 64 {
		t.Fatal("the bad signature verified")
	}
	if _, err := e.sim.Redeliver(context.Background(), "evt_nope", razorpaysim.RedeliverOptions{}); err == nil {
		t.Fatal("unknown event redelivered")
	}
}

func TestNoWebhookURLSendsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	l := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "nw"}).json(t)
	_ = e.sim.CancelPaymentLink(l["id"].(string))
	wait(t, e.sim)
	if evs := e.sim.Events(""); len(evs) != 1 || evs[0].URL != "" || evs[0].Attempts != 0 {
		t.Fatalf("%+v", evs)
	}
	if _, err := e.sim.Redeliver(context.Background(), e.sim.Events("")[0].ID, razorpaysim.RedeliverOptions{}); err != razorpaysim.ErrNoWebhook {
		t.Fatalf("want ErrNoWebhook, got %v", err)
	}
}

func TestFaultsAtTheHTTPLevel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{MaxHang: 200 * time.Millisecond})
	inject := func(f razorpaysim.Fault) {
		if err := e.sim.InjectFault(f); err != nil {
			t.Fatal(err)
		}
	}
	inject(razorpaysim.Fault{Kind: razorpaysim.Fault429, Path: "/v1/customers"})
	if a := e.call(t, "GET", "/v1/customers", nil); a.status != 429 {
		t.Fatalf("429: %d", a.status)
	}
	if a := e.call(t, "GET", "/v1/customers", nil); a.status != 200 {
		t.Fatalf("the fault applies to the next N calls only: %d", a.status)
	}
	inject(razorpaysim.Fault{Kind: razorpaysim.FaultHTML502})
	if a := e.call(t, "GET", "/v1/customers", nil); a.status != 502 || !bytes.HasPrefix(a.raw, []byte("<html>")) {
		t.Fatalf("502: %d %s", a.status, a.raw)
	}
	inject(razorpaysim.Fault{Kind: razorpaysim.FaultTimeout})
	if a := e.call(t, "GET", "/v1/customers", nil); a.status != 504 {
		t.Fatalf("a hang past MaxHang ends in 504: %d", a.status)
	}
	inject(razorpaysim.Fault{Kind: razorpaysim.FaultCrashAfterCreate, Method: "POST", Path: "/v1/payment_links"})
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/payment_links", strings.NewReader(`{"amount":1000,"reference_id":"crash"}`))
	req.SetBasicAuth(e.acct.KeyID, e.acct.KeySecret)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("crash_after_create answered %d", resp.StatusCode)
	}
	if a := e.call(t, "GET", "/v1/payment_links?reference_id=crash", nil).json(t); len(a["payment_links"].([]any)) != 1 {
		t.Fatalf("the link was not created before the crash: %v", a)
	}
	inject(razorpaysim.Fault{Kind: razorpaysim.Fault500, KeyID: "rzp_test_someoneelse"})
	if a := e.call(t, "GET", "/v1/customers", nil); a.status != 200 {
		t.Fatalf("a fault for another key hit this one: %d", a.status)
	}
	if err := e.sim.InjectFault(razorpaysim.Fault{Kind: "boom"}); err == nil {
		t.Fatal("unknown kind accepted")
	}
}

func TestControlAPIOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	r := newReceiver(t, nil)
	ctl := func(method, path string, body any) answer { return e.callAs(t, "", "", method, path, body, nil) }
	acct := ctl("POST", "/_sim/accounts", map[string]any{"webhook_url": r.srv.URL, "webhook_secret": "whsec_ctl"}).json(t)
	key, sec := acct["key_id"].(string), acct["key_secret"].(string)
	l := e.callAs(t, key, sec, "POST", "/v1/payment_links", map[string]any{"amount": 2000, "reference_id": "ctl", "accept_partial": true}, nil).json(t)
	if a := ctl("POST", "/_sim/payment_links/"+l["id"].(string)+"/pay", map[string]any{"amount": 500, "method": "netbanking"}); a.status != 200 {
		t.Fatalf("pay: %d %s", a.status, a.raw)
	} else if res := a.json(t); res["status"] != "captured" || len(res["events"].([]any)) != 3 {
		t.Fatalf("pay result %v", res)
	}
	if a := ctl("POST", "/_sim/payment_links/"+l["id"].(string)+"/fail", map[string]any{"error_description": "Card declined"}); a.status != 200 {
		t.Fatalf("fail: %d %s", a.status, a.raw)
	}
	if a := ctl("POST", "/_sim/payment_links/plink_nope/pay", nil); a.status != 404 {
		t.Fatalf("unknown link: %d", a.status)
	}
	if a := ctl("POST", "/_sim/faults", map[string]any{"kind": "500", "path": "/v1/payments/*", "count": 2}); a.status != 200 {
		t.Fatalf("faults: %d %s", a.status, a.raw)
	}
	if f := ctl("GET", "/_sim/faults", nil); !bytes.Contains(f.raw, []byte(`"count":2`)) {
		t.Fatalf("faults: %s", f.raw)
	}
	ctl("DELETE", "/_sim/faults", nil)
	if a := ctl("POST", "/_sim/wait?timeout_ms=5000", nil); a.status != 200 {
		t.Fatalf("wait: %d", a.status)
	}
	objs := ctl("GET", "/_sim/objects?key_id="+key, nil).json(t)
	if len(objs["payment_links"].([]any)) != 1 || len(objs["payments"].([]any)) != 2 || len(objs["orders"].([]any)) != 1 {
		t.Fatalf("objects: %v", objs)
	}
	var evs []map[string]any
	_ = json.Unmarshal(ctl("GET", "/_sim/events?key_id="+key, nil).raw, &evs)
	if len(evs) != 4 || evs[3]["event"] != "payment.failed" {
		t.Fatalf("events: %v", evs)
	}
	if a := ctl("POST", "/_sim/events/"+evs[0]["id"].(string)+"/redeliver", map[string]any{"times": 2, "bad_signature": true}); a.status != 200 {
		t.Fatalf("redeliver: %d %s", a.status, a.raw)
	}
	var log []map[string]any
	_ = json.Unmarshal(ctl("GET", "/_sim/deliveries?key_id="+key, nil).raw, &log)
	if len(log) != 6 || log[5]["bad_signature"] != true {
		t.Fatalf("deliveries: %v", log)
	}
	for _, d := range r.deliveries()[:4] {
		if !razorpay.VerifySignature(d.body, d.header.Get("X-Razorpay-Signature"), "whsec_ctl") {
			t.Fatal("signed with the account's secret")
		}
	}
	if a := ctl("PUT", "/_sim/accounts/"+key+"/webhook", map[string]any{"url": "http://127.0.0.1:1/x", "secret": "s2"}); a.status != 200 {
		t.Fatalf("set webhook: %d", a.status)
	}
	dash := ctl("GET", "/", nil)
	if dash.status != 200 || !bytes.Contains(dash.raw, []byte(l["short_url"].(string))) {
		t.Fatalf("dashboard: %d", dash.status)
	}
}

func TestStartServesOnItsOwnAndDrafts(t *testing.T) {
	t.Parallel()
	sim := razorpaysim.New(razorpaysim.Options{ExpirySweep: -1, DefaultKeyID: "rzp_test_Fixed000000001", DefaultKeySecret: "fixed-secret"})
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	if sim.URL() != base || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("base %s url %s", base, sim.URL())
	}
	e := &env{sim: sim, srv: &httptest.Server{URL: base}, acct: sim.DefaultAccount()}
	if e.acct.KeyID != "rzp_test_Fixed000000001" || e.acct.KeySecret != "fixed-secret" {
		t.Fatalf("%+v", e.acct)
	}
	c := e.call(t, "POST", "/v1/customers", map[string]any{"email": "d@example.com"}).json(t)
	d := e.call(t, "POST", "/v1/invoices", map[string]any{"type": "invoice", "customer_id": c["id"], "receipt": "D1", "draft": "1",
		"line_items": []any{map[string]any{"name": "x", "amount": 100}}}).json(t)
	if d["status"] != "draft" || d["short_url"] != "" || d["order_id"] != "" {
		t.Fatalf("draft: %v", d)
	}
	if _, err := sim.PayInvoice(d["id"].(string), razorpaysim.PayOptions{}); err == nil {
		t.Fatal("a draft was paid")
	}
	issued := e.call(t, "POST", "/v1/invoices/"+d["id"].(string)+"/issue", nil).json(t)
	if issued["status"] != "issued" || !strings.HasPrefix(issued["short_url"].(string), base+"/i/") {
		t.Fatalf("issued: %v", issued)
	}
	page, err := http.Get(issued["short_url"].(string))
	if err != nil || page.StatusCode != 200 {
		t.Fatalf("%v %v", page, err)
	}
	page.Body.Close()
	if resp, _ := http.Get(base + "/i/nonexistent"); resp.StatusCode != 404 {
		t.Fatalf("unknown short code: %d", resp.StatusCode)
	}
}

func TestRefundIdempotencyRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	l := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 10000, "reference_id": "rf-rules"}).json(t)
	res, _ := e.sim.PayPaymentLink(l["id"].(string), razorpaysim.PayOptions{})
	path := "/v1/payments/" + res.PaymentID + "/refund"
	refund := func(body map[string]any, key string) answer {
		return e.callAs(t, e.acct.KeyID, e.acct.KeySecret, "POST", path, body, map[string]string{"X-Refund-Idempotency": key})
	}
	for _, bad := range []string{"short", "has space in it", "ümlaut-key-1"} {
		if a := refund(map[string]any{"amount": 1000}, bad); a.status != 400 {
			t.Fatalf("key %q: %d %s", bad, a.status, a.raw)
		}
	}
	a1 := refund(map[string]any{"amount": 1000}, "rfd_key-0001").json(t)
	a2 := refund(map[string]any{"amount": 1000}, "rfd_key-0001").json(t)
	if a1["id"] == nil || a1["id"] != a2["id"] {
		t.Fatalf("same key, same body: %v %v", a1, a2)
	}
	if a := refund(map[string]any{"amount": 2000}, "rfd_key-0001"); a.status != 400 || !strings.Contains(string(a.raw), "Different request with the same idempotency key") {
		t.Fatalf("same key, other body: %d %s", a.status, a.raw)
	}
	if a := refund(map[string]any{"amount": 99}, "rfd_key-0002"); a.status != 400 || !strings.Contains(string(a.raw), "atleast INR 1.00") {
		t.Fatalf("below ₹1.00: %d %s", a.status, a.raw)
	}
	if err := e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.Fault409, Path: path}); err != nil {
		t.Fatal(err)
	}
	if a := refund(map[string]any{"amount": 1000}, "rfd_key-0003"); a.status != 409 {
		t.Fatalf("409 fault: %d %s", a.status, a.raw)
	}
	_ = e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.Fault500AfterCreate, Path: path})
	if a := refund(map[string]any{"amount": 1000}, "rfd_key-0004"); a.status != 500 {
		t.Fatalf("500 after create: %d %s", a.status, a.raw)
	}
	list := e.call(t, "GET", "/v1/payments/"+res.PaymentID+"/refunds?count=1", nil).json(t)
	if list["entity"] != "collection" || list["count"] != 1.0 {
		t.Fatalf("list: %v", list)
	}
	all := e.call(t, "GET", "/v1/payments/"+res.PaymentID+"/refunds", nil).json(t)
	if all["count"] != 2.0 { // rfd_key-0001 and the one made before the 500
		t.Fatalf("refunds: %v", all)
	}
}
