package httpapi_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/httpapi"
)

// TestDuplicateAndCaseVariantKeysAreRefused: {"name":"a","NAME":"b"} used
// to store "b" (encoding/json matches keys case-insensitively, last wins).
func TestDuplicateAndCaseVariantKeysAreRefused(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c := a.tenant("Acme").c()
	for _, body := range []string{
		`{"external_id":"dup-1","name":"a","NAME":"b"}`,
		`{"external_id":"dup-1","name":"a","name":"b"}`,
		`{"external_id":"dup-1","name":"a","metadata":{"k":"1","K":"2"}}`,
	} {
		r := a.do(c, "POST", "/api/v1/customers", body)
		if r.Status != 400 || r.code() != "duplicate_field" {
			t.Fatalf("%s: got %d %s, want 400 duplicate_field", body, r.Status, r.Raw)
		}
	}
	// Nothing was created, and the same keys at different levels are fine.
	a.expect(a.do(c, "GET", "/api/v1/customers?external_id=dup-1", nil), 200, "")
	if r := a.do(c, "GET", "/api/v1/customers?external_id=dup-1", nil); strings.Contains(r.Raw, "dup-1") {
		t.Fatalf("a refused body created a customer: %s", r.Raw)
	}
	a.expect(a.do(c, "POST", "/api/v1/customers", `{"external_id":"dup-2","name":"name","metadata":{"name":"x","external_id":"y"}}`), 201, "")
}

// TestRetryableOutcomesAreNotStoredUnderAnIdempotencyKey: a 409
// concurrent_update (or any *_in_progress) says "retry"; replaying it for
// 24 h would make every retry fail.
func TestRetryableOutcomesAreNotStoredUnderAnIdempotencyKey(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c := a.tenant("Acme").c()
	var calls atomic.Int32
	a.rt.Add(httpapi.Route{Method: "POST", Pattern: "/api/v1/flaky", Auth: httpapi.AuthScoped, Handle: func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		switch calls.Add(1) {
		case 1:
			return httpapi.Response{}, apperr.E(apperr.Conflict, apperr.CodeConcurrentUpdate, "lost a race; retry")
		case 2:
			return httpapi.Response{}, apperr.E(apperr.Conflict, "sync_in_progress", "busy; retry")
		}
		return httpapi.Response{Status: 201, Body: map[string]any{"ok": true}}, nil
	}})
	a.expect(a.do(c, "POST", "/api/v1/flaky", `{}`, "Idempotency-Key", "k-1"), 409, apperr.CodeConcurrentUpdate)
	a.expect(a.do(c, "POST", "/api/v1/flaky", `{}`, "Idempotency-Key", "k-1"), 409, "sync_in_progress")
	a.expect(a.do(c, "POST", "/api/v1/flaky", `{}`, "Idempotency-Key", "k-1"), 201, "")
	r := a.do(c, "POST", "/api/v1/flaky", `{}`, "Idempotency-Key", "k-1")
	a.expect(r, 201, "")
	if r.Headers["Idempotent-Replayed"] != "true" || calls.Load() != 3 {
		t.Fatalf("the final outcome was not replayed: headers %v, %d calls", r.Headers, calls.Load())
	}
}

// TestAnInvoiceTooLargeForOneRecordIsRefused: 250 lines with 1,000-character
// descriptions used to fail at DynamoDB's 400 KB item limit with a 500.
func TestAnInvoiceTooLargeForOneRecordIsRefused(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c := a.tenant("Acme").c()
	cus := customer(a, c, "big-1")
	lines := make([]any, 250)
	for i := range lines {
		lines[i] = map[string]any{"display_name": strings.Repeat("n", 250), "description": strings.Repeat("d", 1000), "quantity": "1", "unit_amount": "1"}
	}
	r := a.do(c, "POST", "/api/v1/invoices", map[string]any{"customer_id": cus, "currency": "inr", "line_items": lines})
	if r.Status != 400 || r.code() != "invoice_too_large" {
		t.Fatalf("got %d %.300s, want 400 invoice_too_large", r.Status, r.Raw)
	}
}
