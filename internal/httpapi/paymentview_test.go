package httpapi_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/httpapi"
)

// TestPaymentViewShowsTheRazorpayIDsInMetadata: the link id and the last
// Razorpay payment id are stored once (gateway_tracking_id,
// gateway_payment_id) and shown in metadata too, as seed 001's response
// has them; the client's own metadata is kept, and a payment without a
// link or a Razorpay payment shows neither key.
func TestPaymentViewShowsTheRazorpayIDsInMetadata(t *testing.T) {
	now := time.Now().UTC()
	base := billing.Payment{ID: "pay_01jh0000000000000000000009", Amount: 10000, Currency: "INR", PaymentStatus: billing.PaymentSucceeded,
		Metadata: map[string]string{"plan": "growth"}, CreatedAt: now, UpdatedAt: now}
	paid := base
	paid.GatewayTrackingID, paid.GatewayPaymentID = "plink_Fc8lXILABzQL7M", "pay_Fc8mUeDrEKf08Y"
	synced := base
	synced.GatewayTrackingID, synced.GatewayPaymentID = "inv_Fc8lXILABzQL7M", "pay_Fc8mUeDrEKf08Y"
	synced.Metadata = map[string]string{"razorpay_invoice_id": "inv_Fc8lXILABzQL7M"}
	for name, tc := range map[string]struct {
		p    billing.Payment
		want map[string]string
	}{
		"a paid link":             {paid, map[string]string{"plan": "growth", "razorpay_payment_link_id": "plink_Fc8lXILABzQL7M", "razorpay_payment_id": "pay_Fc8mUeDrEKf08Y"}},
		"a paid Razorpay invoice": {synced, map[string]string{"razorpay_invoice_id": "inv_Fc8lXILABzQL7M", "razorpay_payment_id": "pay_Fc8mUeDrEKf08Y"}},
		"nothing at Razorpay yet": {base, map[string]string{"plan": "growth"}},
	} {
		got := httpapi.PaymentView(tc.p)["metadata"]
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: metadata %v, want %v", name, got, tc.want)
		}
	}
	if base.Metadata["razorpay_payment_link_id"] != "" || len(paid.Metadata) != 1 {
		t.Error("the view changed the payment's own metadata")
	}
}
