package httpapi_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/httpapi"
)

// TestOpenAPIMatchesRoutes checks docs/openapi.yaml against the routes the
// router serves: every route documented, nothing documented that is not served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("..", "..", "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pathRe := regexp.MustCompile(`^  (/[^:]*):\s*$`)
	methodRe := regexp.MustCompile(`^    (get|post|put|patch|delete):`)
	documented := map[string]bool{}
	inPaths, current := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "paths:" {
			inPaths = true
			continue
		}
		if !inPaths {
			continue
		}
		if m := pathRe.FindStringSubmatch(line); m != nil {
			current = m[1]
			continue
		}
		if m := methodRe.FindStringSubmatch(line); m != nil && current != "" {
			documented[strings.ToUpper(m[1])+" "+current] = true
		}
	}
	rt := httpapi.NewRouter(nil, nil, nil, nil, nil)
	rt.Add((&httpapi.Ledger{}).Routes()...)
	rt.Add((&httpapi.Payments{}).Routes()...)
	rt.Add((&httpapi.GatewayEvents{}).Routes()...)
	rt.Add((&httpapi.Refresh{}).PaymentRoutes()...)
	rt.Add((&httpapi.Refresh{}).InvoiceRoutes()...)
	rt.Add((&httpapi.Meters{}).Routes()...)
	rt.Add((&httpapi.Events{}).Routes()...)
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
		t.Fatalf("only %d operations parsed from openapi.yaml", len(documented))
	}
}
