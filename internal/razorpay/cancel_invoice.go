package razorpay

import (
	"context"

	"github.com/razorpay/razorpay-go/requests"
	"github.com/razorpay/razorpay-go/resources"
)

// CancelInvoice is POST /v1/invoices/{id}/cancel (only an issued invoice
// can be cancelled; anything else is a 400). After an attempt of unknown
// outcome the retry first fetches the invoice and returns it if it is
// already cancelled.
func (c *Client) CancelInvoice(ctx context.Context, cr Credentials, id string) (Invoice, error) {
	const op = "cancel invoice"
	if err := validID(op, "id", id); err != nil {
		return Invoice{}, err
	}
	var out Invoice
	err := c.do(ctx, cr, call{op: op, retry: true, out: &out,
		heal: func(ctx context.Context) (bool, error) {
			var inv Invoice
			err := c.once(ctx, cr, call{op: "fetch invoice", out: &inv, send: func(r *requests.Request) (map[string]interface{}, error) {
				return (&resources.Invoice{Request: r}).Fetch(id, nil, nil)
			}}, 0)
			if err != nil {
				return false, err
			}
			if inv.Status == "cancelled" {
				out = inv
				return true, nil
			}
			return false, nil
		},
		send: func(r *requests.Request) (map[string]interface{}, error) {
			return (&resources.Invoice{Request: r}).Cancel(id, nil, nil)
		}})
	return out, err
}
