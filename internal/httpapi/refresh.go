package httpapi

import (
	"context"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
)

// Refresher pulls one instrument's state from Razorpay now
// (payments.Service.Refresh / RefreshInvoice).
type Refresher interface {
	Refresh(ctx context.Context, sc billing.Scope, id string) (billing.Payment, error)
	RefreshInvoice(ctx context.Context, sc billing.Scope, id string) (billing.Invoice, error)
}

// Refresh serves POST …/refresh: the payment route on the
// payment-link-creator function, the invoice route on the api function.
type Refresh struct {
	Service Refresher
}

// PaymentRoutes: POST /api/v1/payments/{id}/refresh.
func (h *Refresh) PaymentRoutes() []Route {
	return []Route{{Method: "POST", Pattern: "/api/v1/payments/{id}/refresh", Auth: AuthScoped, Handle: h.payment}}
}

// InvoiceRoutes: POST /api/v1/invoices/{id}/refresh.
func (h *Refresh) InvoiceRoutes() []Route {
	return []Route{{Method: "POST", Pattern: "/api/v1/invoices/{id}/refresh", Auth: AuthScoped, Handle: h.invoice}}
}

func (h *Refresh) payment(ctx context.Context, r *Request) (Response, error) {
	if err := emptyOrObject(r.Body); err != nil {
		return Response{}, err
	}
	p, err := h.Service.Refresh(ctx, r.Scope, r.Params["id"])
	if err != nil {
		return Response{}, err
	}
	return Response{Body: PaymentView(p)}, nil
}

func (h *Refresh) invoice(ctx context.Context, r *Request) (Response, error) {
	if err := emptyOrObject(r.Body); err != nil {
		return Response{}, err
	}
	inv, err := h.Service.RefreshInvoice(ctx, r.Scope, r.Params["id"])
	if err != nil {
		return Response{}, err
	}
	return Response{Body: InvoiceView(inv)}, nil
}

// webhookView is the connection's "webhook" block (billing.Connection.Webhook).
func webhookView(c billing.Connection, now time.Time) map[string]any {
	h := c.Webhook(now)
	return map[string]any{"status": h.Status, "last_received_at": tsp(h.LastReceivedAt), "missed_events": h.MissedEvents}
}
