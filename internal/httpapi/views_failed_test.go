package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/httpapi"
)

// Failed tries at a synced invoice's short_url show on the invoice.
func TestInvoiceViewShowsFailedAttempts(t *testing.T) {
	t.Parallel()
	inv := billing.Invoice{ID: "inv_1", Currency: "INR", CreatedAt: time.Now(), UpdatedAt: time.Now(), FailedAttempts: 2, LastPaymentError: "BAD_REQUEST_ERROR: declined"}
	b, err := json.Marshal(httpapi.InvoiceView(inv))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"failed_attempts":2`) || !strings.Contains(string(b), `"last_payment_error":"BAD_REQUEST_ERROR: declined"`) {
		t.Fatalf("view: %s", b)
	}
	b, _ = json.Marshal(httpapi.InvoiceView(billing.Invoice{ID: "inv_2", Currency: "INR"}))
	if !strings.Contains(string(b), `"failed_attempts":0`) || !strings.Contains(string(b), `"last_payment_error":null`) {
		t.Fatalf("view without failures: %s", b)
	}
}
