package localstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/localstack"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
	"github.com/razorbill/razorbill/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// stack is one local topology over HTTP: the API, the webhook receiver, the
// simulator, the pollers — the paths a client and Razorpay use.
type stack struct {
	t    *testing.T
	st   *localstack.Stack
	dev  localstack.Dev
	logs *syncBuffer
}

// syncBuffer collects every log line the stack writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// assertNoSecretsLogged scans everything logged for the Razorpay key secret,
// the webhook secret and the API key.
func (s *stack) assertNoSecretsLogged() {
	s.t.Helper()
	logs := s.logs.String()
	if len(logs) < 1000 {
		s.t.Fatalf("only %d bytes of logs were captured", len(logs))
	}
	for name, secret := range map[string]string{"key secret": s.dev.KeySecret, "webhook secret": s.dev.WebhookSecret, "API key": s.dev.APIKey, "admin token": s.st.AdminToken} {
		if strings.Contains(logs, secret) {
			s.t.Errorf("the %s appears in the logs", name)
		}
	}
}

func start(t *testing.T, tweak ...func(*localstack.Options)) *stack {
	t.Helper()
	env := testenv.AWS(t)
	logs := &syncBuffer{}
	opt := localstack.Options{
		Endpoints: env.Endpoints, Resources: env.Resources, KeyFile: t.TempDir() + "/local.key",
		SimOptions: razorpaysim.Options{RetrySchedule: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}},
		PollWait:   1, LogOutput: logs, LogLevel: "debug",
	}
	// Every call a function makes must be one its IAM role allows.
	rec := newCallRecorder()
	opt.APIOptions = append(opt.APIOptions, rec.middleware)
	opt.WrapHTTP = rec.wrap
	for _, f := range tweak {
		f(&opt)
	}
	st, err := localstack.Start(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.check(t) })
	t.Cleanup(func() { _ = st.Close() })
	st.Client = openapiClient(t, st.APIURL)
	dev, err := st.Bootstrap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &stack{t: t, st: st, dev: dev, logs: logs}
}

type resp struct {
	Status int
	Body   map[string]any
	Raw    string
}

func (r resp) s(path ...string) string {
	var v any = r.Body
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

func (s *stack) call(method, path string, body any) resp {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.st.APIURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.dev.APIKey)
	req.Header.Set("X-Environment-ID", s.dev.EnvironmentID)
	req.Header.Set("Content-Type", "application/json")
	res, err := s.st.Client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{Status: res.StatusCode, Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

func (s *stack) must(r resp, status int) resp {
	s.t.Helper()
	if r.Status != status {
		s.t.Fatalf("got %d %s, want %d", r.Status, r.Raw, status)
	}
	return r
}

func (s *stack) customer(ext, email string) string {
	s.t.Helper()
	return s.must(s.call("POST", "/api/v1/customers", map[string]any{"external_id": ext, "name": "Ravi Kumar", "email": email, "phone": "+919876543210"}), 201).s("id")
}

func (s *stack) finalized(cus, currency string, lines ...map[string]any) resp {
	s.t.Helper()
	if len(lines) == 0 {
		lines = []map[string]any{{"display_name": "Platform fee", "quantity": "1", "unit_amount": "100"}}
	}
	inv := s.must(s.call("POST", "/api/v1/invoices", map[string]any{"customer_id": cus, "currency": currency, "line_items": lines}), 201)
	return s.must(s.call("POST", "/api/v1/invoices/"+inv.s("id")+"/finalize", nil), 200)
}

func payReq(inv resp, amount any) map[string]any {
	return map[string]any{"amount": amount, "currency": inv.s("currency"), "destination_id": inv.s("id"), "destination_type": "INVOICE",
		"payment_method_type": "PAYMENT_LINK", "process_payment": true, "payment_gateway": "razorpay", "success_url": "https://merchant.example/thanks?x=1"}
}

// eventually polls f until it is true or 60 s pass: a bound on liveness,
// not a speed target (with other packages' tests beside it, a period close
// that takes 2 s alone was seen to miss a 15 s bound).
func (s *stack) eventually(what string, f func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("timed out waiting for %s", what)
}

// decodeAll decodes the simulator's objects of one kind.
func decodeAll[T any](t *testing.T, raws []json.RawMessage) []T {
	t.Helper()
	out := make([]T, 0, len(raws))
	for _, raw := range raws {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func (s *stack) links() []razorpay.PaymentLink {
	return decodeAll[razorpay.PaymentLink](s.t, s.st.Sim.Objects(s.dev.KeyID).PaymentLinks)
}

// The seed's example, field by field, then a person's path: pay the link at
// the simulator and see the payment and the invoice SUCCEEDED.
func TestPaymentLinkPaidEndToEnd(t *testing.T) {
	t.Parallel()
	s := start(t)
	inv := s.finalized(s.customer("acct-1", "ravi@example.com"), "inr")
	p := s.must(s.call("POST", "/api/v1/payments", payReq(inv, 100)), 201)
	if !strings.HasPrefix(p.s("id"), "pay_") || p.s("payment_status") != "PENDING" || p.s("amount") != "100.00" || p.s("currency") != "inr" ||
		p.s("destination_id") != inv.s("id") || !strings.HasPrefix(p.s("gateway_tracking_id"), "plink_") ||
		p.s("metadata", "razorpay_payment_link_id") != p.s("gateway_tracking_id") || p.s("payment_url") == "" || p.s("created_at") == "" {
		t.Fatalf("seed 001 response: %s", p.Raw)
	}
	links := s.links()
	if len(links) != 1 || links[0].Amount != 10000 || links[0].Currency != "INR" || links[0].ReferenceID != p.s("id") ||
		links[0].CallbackURL != "https://merchant.example/thanks?x=1" || links[0].CallbackMethod != "get" || links[0].Notes["razorbill_invoice_id"] != inv.s("id") {
		t.Fatalf("link at Razorpay: %+v", links)
	}
	// the customer was synced on demand first
	c := s.call("GET", "/api/v1/customers/"+inv.s("customer_id"), nil)
	if c.s("razorpay", "sync_status") != "SYNCED" || !strings.HasPrefix(c.s("metadata", "razorpay_customer_id"), "cust_") {
		t.Fatalf("customer: %s", c.Raw)
	}
	// a second request while the link is open
	again := s.must(s.call("POST", "/api/v1/payments", payReq(inv, "100.00")), 409)
	if again.s("error", "code") != "payment_link_exists" {
		t.Fatalf("second link: %s", again.Raw)
	}
	// the checkout page is a page a person can open
	page, err := http.Get(p.s("payment_url"))
	if err != nil || page.StatusCode != 200 {
		t.Fatalf("checkout page: %v %v", err, page)
	}
	page.Body.Close()
	if _, err := s.st.Sim.PayPaymentLink(p.s("gateway_tracking_id"), razorpaysim.PayOptions{Method: "upi"}); err != nil {
		t.Fatal(err)
	}
	s.eventually("payment SUCCEEDED", func() bool {
		return s.call("GET", "/api/v1/payments/"+p.s("id"), nil).s("payment_status") == "SUCCEEDED"
	})
	got := s.call("GET", "/api/v1/invoices/"+inv.s("id"), nil)
	if got.s("payment_status") != "SUCCEEDED" || got.s("amount_paid") != "100.00" || got.s("amount_remaining") != "0.00" {
		t.Fatalf("invoice: %s", got.Raw)
	}
	pay := s.call("GET", "/api/v1/payments/"+p.s("id"), nil)
	if !strings.HasPrefix(pay.s("gateway_payment_id"), "pay_") || pay.s("payment_method") != "upi" || pay.s("succeeded_at") == "" {
		t.Fatalf("payment: %s", pay.Raw)
	}
	s.must(s.call("POST", "/api/v1/payments", payReq(inv, 100)), 409)

	// refund part, then the rest
	r := s.must(s.call("POST", "/api/v1/payments/"+p.s("id")+"/refund", map[string]any{"amount": "40.00", "reason": "goodwill"}), 202)
	if r.s("amount") != "40.00" || r.s("status") != "PENDING" || !strings.HasPrefix(r.s("id"), "rfd_") {
		t.Fatalf("refund: %s", r.Raw)
	}
	s.must(s.call("POST", "/api/v1/payments/"+p.s("id")+"/refund", map[string]any{"amount": "60.01"}), 400)
	s.eventually("PARTIALLY_REFUNDED", func() bool {
		return s.call("GET", "/api/v1/payments/"+p.s("id"), nil).s("payment_status") == "PARTIALLY_REFUNDED"
	})
	s.must(s.call("POST", "/api/v1/payments/"+p.s("id")+"/refund", nil), 202)
	s.eventually("REFUNDED", func() bool {
		return s.call("GET", "/api/v1/payments/"+p.s("id"), nil).s("payment_status") == "REFUNDED"
	})
	got = s.call("GET", "/api/v1/invoices/"+inv.s("id"), nil)
	if got.s("payment_status") != "REFUNDED" || got.s("amount_paid") != "100.00" || got.s("amount_refunded") != "100.00" || got.s("amount_remaining") != "0.00" {
		t.Fatalf("invoice after refunds: %s", got.Raw)
	}
	// a refunded invoice is not billable again
	if r := s.must(s.call("POST", "/api/v1/payments", payReq(inv, 100)), 409); r.s("error", "code") != "invoice_already_paid" {
		t.Fatalf("a new payment for a refunded invoice: %s", r.Raw)
	}
	list := s.must(s.call("GET", "/api/v1/payments/"+p.s("id")+"/refunds", nil), 200)
	if data, _ := list.Body["data"].([]any); len(data) != 2 {
		t.Fatalf("refunds: %s", list.Raw)
	}
	s.assertNoSecretsLogged()
}

func TestFailedThenCapturedOnOneLink(t *testing.T) {
	t.Parallel()
	s := start(t)
	inv := s.finalized(s.customer("acct-2", "a2@example.com"), "inr")
	p := s.must(s.call("POST", "/api/v1/payments", payReq(inv, "100.00")), 201)
	if _, err := s.st.Sim.FailPaymentLink(p.s("gateway_tracking_id"), razorpaysim.FailOptions{ErrorDescription: "Payment was declined by the bank"}); err != nil {
		t.Fatal(err)
	}
	s.eventually("FAILED", func() bool { return s.call("GET", "/api/v1/payments/"+p.s("id"), nil).s("payment_status") == "FAILED" })
	f := s.call("GET", "/api/v1/payments/"+p.s("id"), nil)
	if f.s("error_message") != "Payment was declined by the bank" || f.Body["attempts"].(float64) != 1 {
		t.Fatalf("failed payment: %s", f.Raw)
	}
	if _, err := s.st.Sim.PayPaymentLink(p.s("gateway_tracking_id"), razorpaysim.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	s.eventually("SUCCEEDED after a retry", func() bool {
		return s.call("GET", "/api/v1/invoices/"+inv.s("id"), nil).s("payment_status") == "SUCCEEDED"
	})
}

func TestCrashAfterCreateIsHealedWithoutASecondLink(t *testing.T) {
	t.Parallel()
	s := start(t)
	inv := s.finalized(s.customer("acct-4", "a4@example.com"), "inr")
	s.customerSynced(inv.s("customer_id"))
	if err := s.st.Sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultCrashAfterCreate, Method: "POST", Path: "/v1/payment_links", Count: 1}); err != nil {
		t.Fatal(err)
	}
	first := s.call("POST", "/api/v1/payments", payReq(inv, 100))
	var p resp
	if first.Status == 201 {
		p = first // the client healed it within the call
	} else {
		p = s.must(s.call("POST", "/api/v1/payments", payReq(inv, 100)), 201)
	}
	if len(s.links()) != 1 || s.links()[0].ID != p.s("gateway_tracking_id") {
		t.Fatalf("links at Razorpay: %+v, payment %s", s.links(), p.Raw)
	}
}

func (s *stack) customerSynced(id string) {
	s.t.Helper()
	s.must(s.call("POST", "/api/v1/customers/"+id+"/sync", nil), 202)
	s.eventually("customer synced", func() bool {
		return s.call("GET", "/api/v1/customers/"+id, nil).s("razorpay", "sync_status") == "SYNCED"
	})
}

func TestPaymentRequestRejections(t *testing.T) {
	t.Parallel()
	s := start(t)
	cus := s.customer("acct-5", "a5@example.com")
	inv := s.finalized(cus, "inr")
	draft := s.must(s.call("POST", "/api/v1/invoices", map[string]any{"customer_id": cus, "currency": "inr", "line_items": []any{map[string]any{"display_name": "x", "quantity": "1", "unit_amount": "5"}}}), 201)
	// below the minimum never finalizes, so no payment can be asked for it
	small := s.must(s.call("POST", "/api/v1/invoices", map[string]any{"customer_id": cus, "currency": "inr", "line_items": []any{map[string]any{"display_name": "x", "quantity": "1", "unit_amount": "0.50"}}}), 201)
	if msg := s.must(s.call("POST", "/api/v1/invoices/"+small.s("id")+"/finalize", nil), 409).s("error", "message"); !strings.Contains(msg, "1.00 INR") {
		t.Errorf("the minimum is not named: %q", msg)
	}
	voided := s.finalized(cus, "inr")
	s.must(s.call("POST", "/api/v1/invoices/"+voided.s("id")+"/void", nil), 200)
	for name, tc := range map[string]struct {
		body   map[string]any
		status int
		code   string
	}{
		"amount not remaining": {payReq(inv, "99.99"), 400, "invalid_invoice_amount"},
		"too many decimals":    {payReq(inv, "100.001"), 400, "invalid_invoice_amount"},
		"below minimum draft":  {payReq(small, "0.50"), 409, "invoice_not_finalized"},
		"currency mismatch":    {func() map[string]any { b := payReq(inv, 100); b["currency"] = "usd"; return b }(), 400, "currency_mismatch"},
		"draft":                {payReq(draft, 5), 409, "invoice_not_finalized"},
		"voided":               {payReq(voided, 100), 409, "invoice_voided"},
		"unknown invoice": {func() map[string]any {
			b := payReq(inv, 100)
			b["destination_id"] = "inv_01jzzzzzzzzzzzzzzzzzzzzzzz"
			return b
		}(), 404, "not_found"},
		"wrong method type": {func() map[string]any { b := payReq(inv, 100); b["payment_method_type"] = "CARD"; return b }(), 400, "validation_failed"},
		"bad success url":   {func() map[string]any { b := payReq(inv, 100); b["success_url"] = "javascript:alert(1)"; return b }(), 400, "validation_failed"},
	} {
		r := s.call("POST", "/api/v1/payments", tc.body)
		if r.Status != tc.status || r.s("error", "code") != tc.code {
			t.Errorf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
	if n := len(s.links()); n != 0 {
		t.Fatalf("rejected requests made %d links", n)
	}
	if l := s.call("GET", "/api/v1/payments?destination_id="+inv.s("id"), nil); len(l.Body["data"].([]any)) != 0 {
		t.Fatalf("rejected requests left payments: %s", l.Raw)
	}
	// process_payment false records an INITIATED payment and calls nothing
	b := payReq(inv, 100)
	b["process_payment"] = false
	if r := s.must(s.call("POST", "/api/v1/payments", b), 201); r.s("payment_status") != "INITIATED" || len(s.links()) != 0 {
		t.Fatalf("process_payment false: %s", r.Raw)
	}
}

func TestZeroAndThreeDecimalCurrenciesConvertExactly(t *testing.T) {
	t.Parallel()
	s := start(t)
	cus := s.customer("acct-6", "a6@example.com")
	jpy := s.finalized(cus, "jpy", map[string]any{"display_name": "x", "quantity": "3", "unit_amount": "333.5"})
	kwd := s.finalized(cus, "kwd", map[string]any{"display_name": "x", "quantity": "2", "unit_amount": "1.235"})
	pj := s.must(s.call("POST", "/api/v1/payments", payReq(jpy, 1001)), 201)
	pk := s.must(s.call("POST", "/api/v1/payments", payReq(kwd, "2.470")), 201)
	amounts := map[string]int64{}
	for _, l := range s.links() {
		amounts[l.ID] = l.Amount
	}
	if amounts[pj.s("gateway_tracking_id")] != 1001 || amounts[pk.s("gateway_tracking_id")] != 2470 {
		t.Fatalf("amounts at Razorpay: %v", amounts)
	}
	if pj.s("amount") != "1001" || pk.s("amount") != "2.470" {
		t.Fatalf("amounts shown: %s %s", pj.s("amount"), pk.s("amount"))
	}
}

func TestParkedEventIsListedAndRetried(t *testing.T) {
	t.Parallel()
	s := start(t)
	body := `{"entity":"event","account_id":"acc_x","event":"payment.captured","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_ZZZ","amount":100,"currency":"INR","status":"captured","notes":[]}}},"created_at":1795400000}`
	u := fmt.Sprintf("%s/api/v1/webhooks/razorpay/%s/%s", s.st.WebhookBaseURL, s.dev.TenantID, s.dev.EnvironmentID)
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	req.Header.Set("X-Razorpay-Signature", razorpay.Sign([]byte(body), s.dev.WebhookSecret))
	req.Header.Set("X-Razorpay-Event-Id", "evt_parked")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("webhook: %v %v", err, res)
	}
	res.Body.Close()
	var parked []any
	s.eventually("event parked", func() bool {
		parked, _ = s.call("GET", "/api/v1/gateway-events?status=UNMATCHED", nil).Body["data"].([]any)
		return len(parked) == 1
	})
	id := parked[0].(map[string]any)["id"].(string)
	r := s.must(s.call("POST", "/api/v1/gateway-events/"+id+"/retry", nil), 200)
	if r.s("status") != "UNMATCHED" || r.s("reason") == "" {
		t.Fatalf("retry of an event that still matches nothing: %s", r.Raw)
	}
	s.must(s.call("GET", "/api/v1/gateway-events?status=nope", nil), 400)
}

// The events/apigw/create-payment.json sample runs through the
// payment-link-creator handler with this stack's key, environment and invoice.
func TestSampleCreatePaymentEvent(t *testing.T) {
	t.Parallel()
	s := start(t)
	inv := s.finalized(s.customer("acct-sample", "sample@example.com"), "inr")
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "apigw", "create-payment.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	ev.Headers["authorization"] = "Bearer " + s.dev.APIKey
	ev.Headers["x-environment-id"] = s.dev.EnvironmentID
	ev.Body = strings.Replace(ev.Body, "inv_REPLACED_BY_TESTS", inv.s("id"), 1)
	out, err := s.st.Deps.PaymentsHandler().Handle(context.Background(), ev)
	if err != nil || out.StatusCode != 201 || !strings.Contains(out.Body, `"payment_status":"PENDING"`) {
		t.Fatalf("sample: %v %d %s", err, out.StatusCode, out.Body)
	}
}

func TestConnectionKeysAreCheckedAgainstRazorpay(t *testing.T) {
	t.Parallel()
	s := start(t)
	r := s.call("PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": s.dev.KeyID, "key_secret": "not-the-secret", "webhook_secret": "whsec_another_0123456789"})
	if r.Status != 400 || r.s("error", "code") != "invalid_razorpay_credentials" {
		t.Fatalf("wrong secret: %d %s", r.Status, r.Raw)
	}
	// nothing changed: the stored connection still works
	inv := s.finalized(s.customer("acct-creds", "creds@example.com"), "inr")
	s.must(s.call("POST", "/api/v1/payments", payReq(inv, 100)), 201)
}

func TestRazorpayOutageIs503AndARetryMakesOneLink(t *testing.T) {
	t.Parallel()
	s := start(t)
	inv := s.finalized(s.customer("acct-outage", "outage@example.com"), "inr")
	s.customerSynced(inv.s("customer_id"))
	if err := s.st.Sim.InjectFault(razorpaysim.Fault{Kind: "500", Path: "/v1/payment_links*", Count: 30}); err != nil {
		t.Fatal(err)
	}
	r := s.call("POST", "/api/v1/payments", payReq(inv, 100))
	if r.Status != 503 || r.s("error", "code") == "" {
		t.Fatalf("during the outage: %d %s", r.Status, r.Raw)
	}
	s.st.Sim.ClearFaults()
	p := s.must(s.call("POST", "/api/v1/payments", payReq(inv, 100)), 201)
	if len(s.links()) != 1 || s.links()[0].ID != p.s("gateway_tracking_id") {
		t.Fatalf("after the outage: %d links, payment %s", len(s.links()), p.Raw)
	}
}
