package razorpay

import (
	"encoding/json"
	"testing"
)

// Razorpay's wordings of a duplicate reference_id (live and documented),
// in the spellings they have been seen in, and refusals that are not it.
func TestIsDuplicateReferenceWordings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		desc   string
		want   bool
	}{
		{400, "payment link with given reference_id: pay_rb_01JX already exists. Please create a payment link with a different reference_id", true},
		{400, "Payment Link with given reference_id: X already exists. Please create a payment link with a different reference_id", true},
		{400, "payment link creation with reference ID already attempted", true},
		{400, "payment_link creation with reference_id already attempted", true},
		{400, "payment link with given reference id already exists", true},
		{400, "PAYMENT LINK WITH GIVEN REFERENCE  ID ALREADY EXISTS", true},
		{409, "payment link with given reference_id: X already exists.", false},
		{400, "The reference id may not be greater than 40 characters.", false},
		{400, "Customer already exists for the merchant", false},
		{400, "The amount must be atleast INR 1.00", false},
	}
	for _, c := range cases {
		body, _ := json.Marshal(map[string]any{"error": map[string]any{"code": "BAD_REQUEST_ERROR", "description": c.desc, "field": nil, "reason": nil}})
		if got := IsDuplicateReference(classify("create payment link", c.status, body)); got != c.want {
			t.Errorf("%d %q: got %v", c.status, c.desc, got)
		}
	}
}
