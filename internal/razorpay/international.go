package razorpay

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/razorpay/razorpay-go/requests"
	"github.com/razorpay/razorpay-go/resources"
)

// InternationalProbeReceipt is the receipt of the order InternationalEnabled
// creates, so the merchant can tell it apart in the dashboard.
const InternationalProbeReceipt = "razorbill-international-check"

// InternationalEnabled tells whether the account takes non-INR payments.
//
// Razorpay has no API that reports it. The probe creates an order of
// USD 1.00 (POST /v1/orders, receipt InternationalProbeReceipt): an order
// is not shown to any customer, sends no notification, holds no money and
// needs no clean-up, and Razorpay refuses a non-INR order with a 400 on an
// account without international payments ("Currency is not supported";
// observed live, razorpay/razorpay-php#95 and razorpay/razorpay-python#129,
// where Razorpay's staff name the missing activation as the cause). The
// assumption: an account that takes a USD order takes non-INR invoices and
// payment links too. It answers true when the order is created, false when
// Razorpay refuses it over its currency (IsInternationalNotEnabled), and the
// error otherwise.
func (c *Client) InternationalEnabled(ctx context.Context, cr Credentials) (bool, error) {
	err := c.do(ctx, cr, call{op: "check international payments", retry: true,
		send: func(r *requests.Request) (map[string]interface{}, error) {
			return (&resources.Order{Request: r}).Create(map[string]interface{}{"amount": 100, "currency": "USD", "receipt": InternationalProbeReceipt}, nil)
		}})
	if err == nil {
		return true, nil
	}
	if IsInternationalNotEnabled(err) {
		return false, nil
	}
	return false, err
}

// IsInternationalNotEnabled reports whether err is Razorpay's 400 refusal of
// a non-INR request on an account without international payments: "the
// merchant doesn't have international activated" (invoices and payment
// links), or "Currency is not supported" with field currency (orders).
func IsInternationalNotEnabled(err error) bool {
	var api *APIError
	if !errors.As(err, &api) || api.Status != http.StatusBadRequest {
		return false
	}
	d := strings.ToLower(api.Description)
	return strings.Contains(d, "international") ||
		(strings.Contains(d, "currency") && strings.Contains(d, "not supported"))
}
