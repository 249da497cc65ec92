package httpapi_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/payments"
)

// withEveryRoute adds the payment and gateway-event routes to the ledger's,
// so one router serves every {id} route of the API.
func withEveryRoute(a *api) {
	svc := &payments.Service{Store: a.store}
	a.rt.Add((&httpapi.Payments{Service: svc}).Routes()...)
	a.rt.Add((&httpapi.GatewayEvents{Store: a.store, Retrier: panicRetrier{}}).Routes()...)
}

// panicRetrier fails the test if a route ever reaches it with a wrong id.
type panicRetrier struct{}

func (panicRetrier) Retry(context.Context, billing.Scope, string) (billing.GatewayEvent, error) {
	panic("retry reached with an id of another kind")
}

// TestIDsOfAnotherKindAreNotFound sends, to every route with an {id}, an id
// of every other kind that exists in the environment (and some malformed
// ones): each is 404 and nothing changes — before, PATCH /customers/inv_…
// overwrote the invoice with a customer and GET /invoices/cus_… panicked.
func TestIDsOfAnotherKindAreNotFound(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	withEveryRoute(a)
	acme := a.tenant("Acme")
	c := acme.c()
	cus := customer(a, c, "typed-1")
	inv := draft(a, c, cus, "100")
	a.expect(a.do(c, "POST", "/api/v1/invoices/"+inv+"/finalize", nil), 200, "")
	pay := a.do(c, "POST", "/api/v1/payments", map[string]any{"amount": "100", "currency": "inr", "destination_id": inv,
		"destination_type": "INVOICE", "payment_method_type": "PAYMENT_LINK", "process_payment": false})
	a.expect(pay, 201, "")
	payID := pay.str("id")
	sc := scopeOf(acme)
	before := snapshot(t, a, sc, cus, inv, payID)

	wrong := []string{cus, inv, payID, acme.id, acme.prod, "inv_x", "pay_" + strings.Repeat("u", 26), "cus_%00", ids.New(ids.Refund), "gev_" + cus}
	kindOf := map[string]string{"customers": ids.Customer, "invoices": ids.Invoice, "payments": ids.Payment, "gateway-events": ids.Event, "api-keys": ids.APIKey, "tenants": ids.Tenant}
	routes := a.rt.Routes()
	checked := 0
	for _, rk := range routes {
		method, pattern, _ := strings.Cut(rk, " ")
		parts := strings.Split(strings.Trim(pattern, "/"), "/")
		idx := -1
		for i, p := range parts {
			if p == "{id}" {
				idx = i
			}
		}
		if idx < 1 {
			continue
		}
		prefix := kindOf[parts[idx-1]]
		if prefix == "" {
			t.Fatalf("route %s: unknown id kind of %q; add it to this test", rk, parts[idx-1])
		}
		for _, id := range wrong {
			if strings.HasPrefix(id, prefix) && ids.Valid(prefix, id) {
				continue // the right kind
			}
			path := strings.Replace(pattern, "{id}", id, 1)
			body := map[string]any{"name": "Overwritten", "email": "x@example.com"}
			cr := c
			if parts[0] == "api" && parts[2] == "tenants" {
				cr = creds{key: adminToken}
			}
			r := a.do(cr, method, path, body)
			if r.Status != 404 {
				t.Errorf("%s %s: got %d %s, want 404", method, path, r.Status, r.Raw)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("only %d route/id pairs checked: the router lost its {id} routes?", checked)
	}
	after := snapshot(t, a, sc, cus, inv, payID)
	if before != after {
		t.Fatalf("records changed:\nbefore %s\nafter  %s", before, after)
	}
}

func snapshot(t *testing.T, a *api, sc billing.Scope, cus, inv, pay string) string {
	t.Helper()
	ctx := context.Background()
	c, err := a.store.Customer(ctx, sc, cus)
	if err != nil {
		t.Fatal(err)
	}
	i, err := a.store.Invoice(ctx, sc, inv)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.store.Payment(ctx, sc, pay)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join([]string{c.Name, itoa(c.Version), i.InvoiceStatus, itoa(i.Version), p.PaymentStatus, itoa(p.Version)}, "|")
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// TestStoreReadsAndWritesAreTyped: a store read of an id of another kind is
// not found, and a versioned write of one kind never lands on a record of
// another (the condition includes the entity type).
func TestStoreReadsAndWritesAreTyped(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	acme := a.tenant("Acme")
	c := acme.c()
	cus := customer(a, c, "typed-2")
	inv := draft(a, c, cus, "100")
	sc := scopeOf(acme)
	ctx := context.Background()
	if _, err := a.store.Customer(ctx, sc, inv); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("Customer(invoice id): %v, want not found", err)
	}
	if _, err := a.store.Invoice(ctx, sc, cus); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("Invoice(customer id): %v, want not found", err)
	}
	if _, err := a.store.Payment(ctx, sc, inv); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("Payment(invoice id): %v, want not found", err)
	}
	stored, err := a.store.Invoice(ctx, sc, inv)
	if err != nil {
		t.Fatal(err)
	}
	// A customer written under the invoice's id at the invoice's version.
	fake := billing.Customer{ID: inv, Name: "Overwritten", Version: stored.Version + 1}
	if err := a.store.UpdateCustomer(ctx, sc, fake, stored.Version); err == nil {
		t.Fatal("a customer write overwrote an invoice")
	}
	again, err := a.store.Invoice(ctx, sc, inv)
	if err != nil || again.Version != stored.Version || again.InvoiceStatus != billing.InvoiceDraft {
		t.Fatalf("invoice after the refused write: %+v, %v", again, err)
	}
}

// TestInvoiceForACustomerIDOfAnotherKind: customer_id must name a customer.
func TestInvoiceForACustomerIDOfAnotherKind(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	acme := a.tenant("Acme")
	c := acme.c()
	cus := customer(a, c, "typed-3")
	inv := draft(a, c, cus, "100")
	r := a.do(c, "POST", "/api/v1/invoices", map[string]any{"customer_id": inv, "currency": "inr",
		"line_items": []any{map[string]any{"display_name": "x", "quantity": "1", "unit_amount": "10"}}})
	if r.Status != 404 || r.str("error", "field") != "customer_id" {
		t.Fatalf("got %d %s, want 404 on customer_id", r.Status, r.Raw)
	}
}

// TestAHandlerPanicIsA500: a panic in a handler is answered with the JSON
// error envelope (500) and the router keeps serving.
func TestAHandlerPanicIsA500(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	a.rt.Add(httpapi.Route{Method: "GET", Pattern: "/boom", Auth: httpapi.AuthNone, Handle: func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		panic("boom")
	}})
	r := a.do(creds{}, "GET", "/boom", nil)
	if r.Status != 500 || r.code() != "internal_error" || strings.Contains(r.Raw, "boom") {
		t.Fatalf("got %d %s, want 500 internal_error without the panic text", r.Status, r.Raw)
	}
	a.expect(a.do(creds{}, "GET", "/health", nil), 200, "")
}
