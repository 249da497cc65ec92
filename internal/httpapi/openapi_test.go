package httpapi_test

import (
	"context"
	"sort"
	"testing"

	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/openapicheck"
)

// TestOpenAPIMatchesRoutes loads docs/openapi.yaml as an OpenAPI 3 document
// (it must validate) and checks its operations against the routes the router
// serves: every route documented, nothing documented that is not served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	doc, err := openapicheck.Load(context.Background(), openapicheck.SpecPath())
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, op := range openapicheck.Operations(doc) {
		documented[op] = true
	}
	rt := httpapi.NewRouter(nil, nil, nil, nil, nil)
	rt.Add((&httpapi.Ledger{}).Routes()...)
	rt.Add((&httpapi.Payments{}).Routes()...)
	rt.Add((&httpapi.GatewayEvents{}).Routes()...)
	rt.Add((&httpapi.Refresh{}).PaymentRoutes()...)
	rt.Add((&httpapi.Refresh{}).InvoiceRoutes()...)
	rt.Add((&httpapi.Meters{}).Routes()...)
	rt.Add((&httpapi.Events{}).Routes()...)
	rt.Add((&httpapi.Plans{}).Routes()...)
	rt.Add((&httpapi.Subscriptions{}).Routes()...)
	rt.Add((&httpapi.Tax{}).Routes()...)
	served := map[string]bool{"POST /api/v1/webhooks/razorpay/{tenant_id}/{environment_id}": true}
	for _, r := range rt.Routes() {
		served[r] = true
	}
	var missing, extra []string
	for r := range served {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !served[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("openapi.yaml out of date:\n  served but not documented: %v\n  documented but not served: %v", missing, extra)
	}
	if len(documented) < 25 {
		t.Fatalf("only %d operations in openapi.yaml", len(documented))
	}
}
