package razorpay

import (
	"context"

	"github.com/razorpay/razorpay-go/requests"
	"github.com/razorpay/razorpay-go/resources"
)

// OrderPayments is GET /v1/orders/{id}/payments: every payment attempted
// on an order (a payment link's order), failed ones included — how failed
// tries on a link are learnt without webhooks.
func (c *Client) OrderPayments(ctx context.Context, cr Credentials, orderID string) ([]Payment, error) {
	const op = "fetch order payments"
	if err := validID(op, "order_id", orderID); err != nil {
		return nil, err
	}
	var list collection[Payment]
	err := c.do(ctx, cr, call{op: op, retry: true, out: &list, send: func(r *requests.Request) (map[string]interface{}, error) {
		return (&resources.Order{Request: r}).Payments(orderID, nil, nil)
	}})
	return list.Items, err
}
