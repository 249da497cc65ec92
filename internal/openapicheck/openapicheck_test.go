package openapicheck_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/razorbill/razorbill/internal/openapicheck"
)

// Reports look like
//
//	openapi: POST /things: response does not match docs/openapi.yaml: …
//	  response 201 Created: {"name": "x"}

// fakeSpec has one operation whose 201 response requires id and whose
// request body requires an integer count.
const fakeSpec = `openapi: 3.0.3
info: {title: fake, version: "1"}
components:
  securitySchemes:
    apiKey: {type: http, scheme: bearer}
  schemas:
    Error:
      type: object
      required: [error]
      properties:
        error: {type: object, required: [code, message], properties: {code: {type: string}, message: {type: string}}}
security: [{apiKey: []}]
paths:
  /things:
    post:
      requestBody: {required: true, content: {application/json: {schema: {type: object, required: [count], properties: {count: {type: integer}}}}}}
      responses:
        "201": {description: created, content: {application/json: {schema: {type: object, required: [id], properties: {id: {type: string}}}}}}
        "400": {description: bad, content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
`

type reports struct {
	mu   sync.Mutex
	got  []string
	sent string // the request body the server received
}

func (r *reports) add(s string) { r.mu.Lock(); r.got = append(r.got, s); r.mu.Unlock() }

// serve answers every call with status and body and returns a client whose
// transport checks calls against spec.
func serve(t *testing.T, spec string, status int, body string) (*http.Client, string, *reports) {
	t.Helper()
	rep := &reports{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rep.mu.Lock()
		rep.sent = string(b)
		rep.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	var doc, err = openapicheck.Parse(context.Background(), []byte(spec))
	if spec == "" {
		doc, err = openapicheck.Load(context.Background(), openapicheck.SpecPath())
	}
	if err != nil {
		t.Fatal(err)
	}
	tr, err := openapicheck.NewTransport(doc, srv.URL, nil, rep.add)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: tr}, srv.URL, rep
}

func post(t *testing.T, c *http.Client, url, body string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Environment-ID", "env_1")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func TestTransportCatchesMismatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, spec string
		status     int
		path, req  string
		resp       string
		want       []string // substrings of the one report; none: no report
	}{
		{"matching call", fakeSpec, 201, "/things", `{"count": 2}`, `{"id": "t_1"}`, nil},
		{"matching error", fakeSpec, 400, "/things", `{"count": "two"}`, `{"error": {"code": "validation_failed", "message": "m"}}`, nil},
		{"response misses a required field", fakeSpec, 201, "/things", `{"count": 2}`, `{"name": "x"}`,
			[]string{"POST /things", "response does not match", `"id"`}},
		{"request body of the wrong type accepted", fakeSpec, 201, "/things", `{"count": "two"}`, `{"id": "t_1"}`,
			[]string{"POST /things", "request does not match", "count"}},
		{"undocumented status", fakeSpec, 409, "/things", `{"count": 2}`, `{"error": {"code": "c", "message": "m"}}`,
			[]string{"POST /things", "status is not supported"}},
		{"undocumented route served", fakeSpec, 200, "/other", `{}`, `{}`,
			[]string{"POST /other", "not in docs/openapi.yaml"}},
		{"undocumented route refused without the error envelope", fakeSpec, 404, "/other", `{}`, `{"message": "Not Found"}`,
			[]string{"POST /other", "not the Error schema"}},
		{"real spec: payment status outside its enum", "", 201, "/api/v1/payments",
			`{"amount": 100, "currency": "inr", "destination_id": "inv_1", "destination_type": "INVOICE", "payment_method_type": "PAYMENT_LINK"}`,
			`{"id": "pay_1", "payment_status": "PAID", "amount": "100.00", "currency": "inr"}`,
			[]string{"POST /api/v1/payments", "payment_status"}},
		{"real spec: a customer without its razorpay sync state", "", 201, "/api/v1/customers", `{"external_id": "acct-42"}`,
			`{"id": "cus_1", "external_id": "acct-42", "name": "", "email": null, "phone": null, "metadata": {}, "created_at": "2026-12-05T00:00:00Z"}`,
			[]string{"POST /api/v1/customers", `"razorpay"`}},
		{"real spec: a timestamp that is not RFC 3339", "", 202, "/api/v1/customers/cus_1/sync", ``,
			`{"id": "cus_1", "external_id": null, "name": "", "email": null, "phone": null, "metadata": {}, "created_at": "yesterday",
			  "razorpay": {"customer_id": null, "sync_status": "PENDING", "last_error": null, "attempts": 0, "synced_at": null}}`,
			[]string{"POST /api/v1/customers/{id}/sync", "created_at"}},
		{"real spec: a wrong-typed request body accepted", "", 202, "/api/v1/payments/pay_1/refund", `{"amount": true}`,
			`{"id": "rfd_1", "status": "PENDING", "amount": "1.00", "currency": "inr", "payment_id": "pay_1", "razorpay_refunds": [], "created_at": "2026-12-05T00:00:00Z"}`,
			[]string{"POST /api/v1/payments/{id}/refund", "request does not match", "amount"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, url, rep := serve(t, tc.spec, tc.status, tc.resp)
			if got := post(t, c, url+tc.path, tc.req); got != tc.resp {
				t.Errorf("the caller read %q, want %q", got, tc.resp)
			}
			if rep.sent != tc.req {
				t.Errorf("the server read %q, want %q", rep.sent, tc.req)
			}
			if tc.want == nil {
				if len(rep.got) != 0 {
					t.Fatalf("reported %q", rep.got)
				}
				return
			}
			if len(rep.got) != 1 {
				t.Fatalf("got %d reports %q, want one", len(rep.got), rep.got)
			}
			for _, w := range tc.want {
				if !strings.Contains(rep.got[0], w) {
					t.Errorf("report %q does not name %q", rep.got[0], w)
				}
			}
		})
	}
}

// Calls outside the base URL, the simulator's /_sim/ API and webhook
// deliveries are not checked.
func TestTransportSkips(t *testing.T) {
	t.Parallel()
	c, url, rep := serve(t, fakeSpec, 200, `{}`)
	post(t, c, url+"/_sim/payments/x/pay", `{}`)
	post(t, c, url+"/api/v1/webhooks/razorpay/tnt_1/env_1", `{}`)
	if len(rep.got) != 0 {
		t.Fatalf("reported %q", rep.got)
	}
	tr := c.Transport.(*openapicheck.Transport)
	if seen := tr.Seen(); len(seen) != 0 {
		t.Fatalf("Seen = %q after skipped calls only", seen)
	}
	post(t, c, url+"/things", `{"count": 1}`)
	if seen := strings.Join(tr.Seen(), ","); seen != "POST /things" {
		t.Fatalf("Seen = %q, want POST /things", seen)
	}
}
