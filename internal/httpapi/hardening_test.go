package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/ids"
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

// TestAFilteredListReadsABoundedPartition: ?status= used to read a whole
// partition in one request to fill a page. A page now ends after
// dynamo.MaxScanPerList items read, with has_more and next_starting_after,
// and following the cursor finds the rest.
func TestAFilteredListReadsABoundedPartition(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	acme := a.tenant("Acme")
	c := acme.c()
	cus := customer(a, c, "bounded-1")
	old := draft(a, c, cus, "10")
	a.expect(a.do(c, "POST", "/api/v1/invoices/"+old+"/finalize", nil), 200, "")
	a.expect(a.do(c, "POST", "/api/v1/invoices/"+old+"/void", nil), 200, "")
	sc := scopeOf(acme)
	n := dynamo.MaxScanPerList + 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			now := time.Now().UTC()
			inv := billing.Invoice{ID: ids.New(ids.Invoice), CustomerID: cus, Currency: "INR", InvoiceNumber: fmt.Sprintf("B-%05d", i),
				LineItems: []billing.LineItem{{DisplayName: "x", PriceType: "FIXED", Quantity: "1", UnitAmount: "1", Amount: 100}},
				Subtotal:  100, AmountDue: 100, InvoiceStatus: billing.InvoiceDraft, PaymentStatus: billing.PaymentPending, SyncStatus: billing.SyncNotSynced,
				Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now, Version: 1}
			errs <- a.store.CreateInvoice(context.Background(), sc, inv)
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	first := a.do(c, "GET", "/api/v1/invoices?status=VOIDED&limit=5", nil)
	a.expect(first, 200, "")
	next := first.str("next_starting_after")
	if first.Body["has_more"] != true || len(first.Body["data"].([]any)) != 0 || next == "" {
		t.Fatalf("first page: %.300s", first.Raw)
	}
	second := a.do(c, "GET", "/api/v1/invoices?status=VOIDED&limit=5&starting_after="+next, nil)
	a.expect(second, 200, "")
	data := second.Body["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["id"] != old || second.Body["has_more"] != false {
		t.Fatalf("second page: %.300s", second.Raw)
	}
}
