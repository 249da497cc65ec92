package httpapi_test

import (
	"slices"
	"testing"

	"github.com/razorbill/razorbill/internal/httpapi"
)

// TestRecommendedWebhookEventsLeaveOutPaymentAuthorized: the events the
// connection asks the tenant to tick are the ones that move money or end an
// instrument; payment.authorized (no money moves, one queue hop and writes
// each) is not recommended. The reconciler still applies it when it comes
// (internal/reconcile TestAuthorizedHoldsTheInvoice).
func TestRecommendedWebhookEventsLeaveOutPaymentAuthorized(t *testing.T) {
	t.Parallel()
	if slices.Contains(httpapi.WebhookEvents, "payment.authorized") {
		t.Errorf("payment.authorized is recommended: %v", httpapi.WebhookEvents)
	}
	for _, e := range []string{"payment.captured", "payment.failed", "payment_link.paid", "payment_link.partially_paid", "payment_link.expired",
		"payment_link.cancelled", "invoice.paid", "invoice.partially_paid", "invoice.expired", "refund.processed", "refund.failed"} {
		if !slices.Contains(httpapi.WebhookEvents, e) {
			t.Errorf("%s is not recommended: %v", e, httpapi.WebhookEvents)
		}
	}
}
