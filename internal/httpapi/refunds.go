package httpapi

import (
	"context"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/money"
)

// RefundView is a refund as the API shows it: the request and one entry per
// Razorpay refund it was split into.
func RefundView(rf billing.Refund) map[string]any {
	cur := money.MustCurrency(rf.Currency)
	parts := make([]map[string]any, 0, len(rf.Parts))
	for _, p := range rf.Parts {
		parts = append(parts, map[string]any{
			"id": nullable(p.RazorpayRefundID), "payment_id": p.RazorpayPaymentID, "amount": money.Format(p.Amount, cur),
			"status": p.Status, "idempotency_key": p.Key, "error": nullable(p.Error), "settled_at": tsp(p.SettledAt),
		})
	}
	return map[string]any{
		"id": rf.ID, "status": rf.Status, "amount": money.Format(rf.Amount, cur), "currency": cur.Lower(),
		"payment_id": rf.PaymentID, "invoice_id": rf.InvoiceID, "reason": nullable(rf.Reason),
		"razorpay_refunds": parts, "created_at": ts(rf.CreatedAt), "updated_at": ts(rf.UpdatedAt),
	}
}

// refunds is GET /api/v1/payments/{id}/refunds.
func (p *Payments) refunds(ctx context.Context, r *Request) (Response, error) {
	opt, err := listOptions(r)
	if err != nil {
		return Response{}, err
	}
	page, err := p.Service.Refunds(ctx, r.Scope, r.Params["id"], opt)
	if err != nil {
		return Response{}, err
	}
	data := make([]any, 0, len(page.Data))
	for _, rf := range page.Data {
		data = append(data, RefundView(rf))
	}
	return Response{Body: map[string]any{"data": data, "has_more": page.HasMore}}, nil
}
