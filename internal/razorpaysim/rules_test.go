package razorpaysim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// Razorpay's rules the simulator enforces (issue 14); doc.go cites each.

func TestRuleCustomerNameEmailContact(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	ok := []string{"Ali", "Gaurav Kumar", "O'Brien (India) Pvt. Ltd.", "A/B @ Home", strings.Repeat("n", 50), "D’Souza"}
	for i, name := range ok {
		a := e.call(t, "POST", "/v1/customers", map[string]any{"name": name, "email": "ok" + string(rune('a'+i)) + "@example.com"})
		if a.status != 200 {
			t.Errorf("%q refused: %d %s", name, a.status, a.raw)
		}
	}
	bad := map[string]string{
		"Al": "at least 3", strings.Repeat("n", 51): "greater than 50", "Acme, Inc.": "The name format is invalid.",
		"Jean-Luc & Co": "The name format is invalid.", "राजेश कुमार": "The name format is invalid.", "José Núñez": "The name format is invalid.",
	}
	for name, want := range bad {
		a := e.call(t, "POST", "/v1/customers", map[string]any{"name": name, "email": "bad@example.com"})
		if a.status != 400 {
			t.Errorf("%q accepted: %d %s", name, a.status, a.raw)
			continue
		}
		if d, f := errBody(t, a); f != "name" || !strings.Contains(d, want) {
			t.Errorf("%q: field %q desc %q", name, f, d)
		}
	}
	long := strings.Repeat("e", 53) + "@example.com" // 65 characters
	if a := e.call(t, "POST", "/v1/customers", map[string]any{"name": "Long Mail", "email": long}); a.status != 400 {
		t.Errorf("a 65-character email was accepted: %d", a.status)
	} else if _, f := errBody(t, a); f != "email" {
		t.Errorf("email field: %q", f)
	}
	if a := e.call(t, "POST", "/v1/customers", map[string]any{"name": "Long Mail", "email": long[1:]}); a.status != 200 {
		t.Errorf("a 64-character email was refused: %s", a.raw)
	}
	if a := e.call(t, "POST", "/v1/customers", map[string]any{"name": "Contact", "contact": "+" + strings.Repeat("9", 15)}); a.status != 400 {
		t.Errorf("a 16-character contact was accepted: %d", a.status)
	}
	if a := e.call(t, "POST", "/v1/customers", map[string]any{"name": "Contact", "contact": "+" + strings.Repeat("9", 14)}); a.status != 200 {
		t.Errorf("a 15-character contact was refused: %s", a.raw)
	}
}

func TestRuleDuplicateReferenceLiveWording(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	if a := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "pay_rb_dup1"}); a.status != 200 {
		t.Fatal(string(a.raw))
	}
	a := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "pay_rb_dup1"})
	m := a.json(t)["error"].(map[string]any)
	want := "payment link with given reference_id: pay_rb_dup1 already exists. Please create a payment link with a different reference_id"
	if a.status != 400 || m["description"] != want || m["field"] != nil || m["reason"] != nil {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	if _, has := m["field"]; !has {
		t.Fatal("field must be present and null")
	}
}

func TestRuleLinkExpiryWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	now := time.Unix(e.now.Load(), 0)
	cases := []struct {
		at   time.Time
		want int
	}{
		{now.Add(14 * time.Minute), 400},
		{now.Add(16 * time.Minute), 200},
		{now.AddDate(0, 6, 0).Add(-time.Minute), 200},
		{now.AddDate(0, 6, 0).Add(time.Minute), 400},
		{now.AddDate(1, 0, 0), 400},
	}
	for i, c := range cases {
		a := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "exp" + string(rune('a'+i)), "expire_by": c.at.Unix()})
		if a.status != c.want {
			t.Errorf("expire_by %s after now: %d %s", c.at.Sub(now), a.status, a.raw)
		}
	}
}

func TestRuleUnknownFieldsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	cust := e.call(t, "POST", "/v1/customers", map[string]any{"name": "Fields", "email": "f@example.com"}).json(t)["id"]
	line := []any{map[string]any{"name": "x", "amount": 1000}}
	inv := e.call(t, "POST", "/v1/invoices", map[string]any{"type": "invoice", "customer_id": cust, "receipt": "F1", "line_items": line}).json(t)["id"].(string)
	link := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "fields"}).json(t)["id"].(string)
	pay, err := e.sim.PayPaymentLink(link, razorpaysim.PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	link2 := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "fields2"}).json(t)["id"].(string)
	cases := []struct {
		path string
		body map[string]any
		want string
	}{
		{"/v1/customers", map[string]any{"name": "Typo", "emial": "t@example.com"}, "emial is/are not required and should not be sent"},
		{"/v1/invoices", map[string]any{"type": "invoice", "customer_id": cust, "receipt": "F2", "line_items": line, "sms_notfy": 0, "amount": 5},
			"amount, sms_notfy is/are not required and should not be sent"},
		{"/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "fields3", "expires_at": 1}, "expires_at is/are not required and should not be sent"},
		{"/v1/payments/" + pay.PaymentID + "/refund", map[string]any{"amount": 100, "reason": "x"}, "reason is/are not required and should not be sent"},
		{"/v1/invoices/" + inv + "/cancel", map[string]any{"reason": "x"}, "reason is/are not required and should not be sent"},
		{"/v1/payment_links/" + link2 + "/cancel", map[string]any{"reason": "x"}, "reason is/are not required and should not be sent"},
	}
	for _, c := range cases {
		a := e.call(t, "POST", c.path, c.body)
		if a.status != 400 {
			t.Errorf("%s %v: %d %s", c.path, c.body, a.status, a.raw)
			continue
		}
		if d, _ := errBody(t, a); d != c.want {
			t.Errorf("%s: %q", c.path, d)
		}
	}
	o := e.sim.Objects("")
	if len(o.Customers) != 1 || len(o.Invoices) != 1 || len(o.PaymentLinks) != 2 || len(o.Refunds) != 0 {
		t.Fatalf("a refused request changed something: %d customers %d invoices %d links %d refunds", len(o.Customers), len(o.Invoices), len(o.PaymentLinks), len(o.Refunds))
	}
	if a := e.call(t, "POST", "/v1/payment_links/"+link2+"/cancel", nil); a.status != 200 {
		t.Fatalf("a cancel without a body: %d %s", a.status, a.raw)
	}
}

func TestRuleNotesLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	n := func(size int) map[string]any { return map[string]any{"k": strings.Repeat("n", size)} }
	if a := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "n255", "notes": n(255)}); a.status != 200 {
		t.Errorf("link note of 255: %d %s", a.status, a.raw)
	}
	if a := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "n256", "notes": n(256)}); a.status != 400 {
		t.Errorf("link note of 256: %d", a.status)
	}
	if a := e.call(t, "POST", "/v1/customers", map[string]any{"name": "Notes", "email": "n1@example.com", "notes": n(256)}); a.status != 200 {
		t.Errorf("customer note of 256: %d %s", a.status, a.raw)
	}
	if a := e.call(t, "POST", "/v1/customers", map[string]any{"name": "Notes", "email": "n2@example.com", "notes": n(257)}); a.status != 400 {
		t.Errorf("customer note of 257: %d", a.status)
	}
	sixteen := map[string]any{}
	for i := 0; i < 16; i++ {
		sixteen[string(rune('a'+i))] = "v"
	}
	if a := e.call(t, "POST", "/v1/customers", map[string]any{"name": "Notes", "email": "n3@example.com", "notes": sixteen}); a.status != 400 {
		t.Errorf("16 customer notes: %d", a.status)
	}
}

func TestRuleLinkErrorsAndUnknownLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	for _, c := range []struct{ method, path string }{{"GET", "/v1/payment_links/plink_ZZZZZZZZZZZZZZ"}, {"POST", "/v1/payment_links/plink_ZZZZZZZZZZZZZZ/cancel"}} {
		a := e.call(t, c.method, c.path, nil)
		m := a.json(t)["error"].(map[string]any)
		if a.status != 404 || m["field"] != nil || m["reason"] != nil || m["description"] != "The id provided does not exist" {
			t.Errorf("%s %s: %d %s", c.method, c.path, a.status, a.raw)
		}
	}
	a := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 99})
	m := a.json(t)["error"].(map[string]any)
	if f, has := m["field"]; a.status != 400 || !has || f != nil || m["reason"] != nil {
		t.Errorf("validation: %d %s", a.status, a.raw)
	}
	// Main-API errors keep field and reason.
	a = e.call(t, "GET", "/v1/invoices/inv_ZZZZZZZZZZZZZZ", nil)
	if d, f := errBody(t, a); a.status != 400 || f != "id" || d != "The id provided does not exist" {
		t.Errorf("invoice: %d %s", a.status, a.raw)
	}
}

func TestRuleOnlyIssuedInvoicesCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	cust := e.call(t, "POST", "/v1/customers", map[string]any{"name": "Drafts", "email": "d@example.com"}).json(t)["id"]
	draft := e.call(t, "POST", "/v1/invoices", map[string]any{"type": "invoice", "customer_id": cust, "draft": "1",
		"line_items": []any{map[string]any{"name": "x", "amount": 1000}}}).json(t)
	if draft["status"] != "draft" {
		t.Fatal(draft)
	}
	if a := e.call(t, "POST", "/v1/invoices/"+draft["id"].(string)+"/cancel", nil); a.status != 400 {
		t.Fatalf("a draft was cancelled: %d %s", a.status, a.raw)
	}
}

func TestRuleDashboardResendCurrentSecretRetriesFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{RetrySchedule: []time.Duration{200 * time.Millisecond}})
	var failFirst atomic.Bool
	failFirst.Store(true)
	r := newReceiver(t, func(n int) (int, time.Duration) {
		if n == 1 && failFirst.Load() {
			return 500, 0
		}
		return 200, 0
	})
	e.hook(t, r)
	l := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "sec"}).json(t)
	_ = e.sim.CancelPaymentLink(l["id"].(string))
	// The first attempt failed; rotate before the automatic retry.
	deadline := time.Now().Add(5 * time.Second)
	for len(r.deliveries()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := e.sim.RotateWebhookSecret(e.acct.KeyID, "whsec_rotated"); err != nil {
		t.Fatal(err)
	}
	wait(t, e.sim)
	ds := r.deliveries()
	if len(ds) != 2 {
		t.Fatalf("%d deliveries", len(ds))
	}
	if !razorpay.VerifySignature(ds[1].body, ds[1].header.Get("X-Razorpay-Signature"), secret) {
		t.Fatal("an automatic retry keeps the secret of the first attempt")
	}
	evID := ds[0].header.Get("X-Razorpay-Event-Id")
	if _, err := e.sim.Redeliver(context.Background(), evID, razorpaysim.RedeliverOptions{}); err != nil {
		t.Fatal(err)
	}
	ds = r.deliveries()
	if last := ds[len(ds)-1]; !razorpay.VerifySignature(last.body, last.header.Get("X-Razorpay-Signature"), "whsec_rotated") {
		t.Fatal("a dashboard resend is signed with the current secret")
	}
	if _, err := e.sim.Redeliver(context.Background(), evID, razorpaysim.RedeliverOptions{Secret: secret}); err != nil {
		t.Fatal(err)
	}
	ds = r.deliveries()
	if last := ds[len(ds)-1]; !razorpay.VerifySignature(last.body, last.header.Get("X-Razorpay-Signature"), secret) {
		t.Fatal("RedeliverOptions.Secret still chooses the secret")
	}
}

// blockingReceiver holds every delivery until two are in flight at once
// (or a second passes): with one-at-a-time delivery that never happens.
func blockingReceiver(t *testing.T) (url string, overlapped *atomic.Bool) {
	var mu sync.Mutex
	inflight := 0
	both := make(chan struct{})
	var once sync.Once
	overlapped = &atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inflight++
		if inflight >= 2 {
			overlapped.Store(true)
			once.Do(func() { close(both) })
		}
		mu.Unlock()
		select {
		case <-both:
		case <-time.After(300 * time.Millisecond):
		}
		mu.Lock()
		inflight--
		mu.Unlock()
		w.WriteHeader(200)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, overlapped
}

func TestRuleFirstAttemptsAreConcurrent(t *testing.T) {
	t.Parallel()
	for _, ordered := range []bool{false, true} {
		e := newEnv(t, razorpaysim.Options{OrderedWebhooks: ordered})
		url, overlapped := blockingReceiver(t)
		if err := e.sim.SetWebhook(e.acct.KeyID, url, secret); err != nil {
			t.Fatal(err)
		}
		l := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "conc"}).json(t)
		if _, err := e.sim.PayPaymentLink(l["id"].(string), razorpaysim.PayOptions{}); err != nil {
			t.Fatal(err)
		}
		wait(t, e.sim)
		if overlapped.Load() == ordered {
			t.Fatalf("OrderedWebhooks %v: deliveries overlapped %v", ordered, overlapped.Load())
		}
	}
}
