package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/payments"
)

// PaymentService creates, reads and refunds payments.
type PaymentService interface {
	Create(ctx context.Context, sc billing.Scope, in payments.CreateInput) (billing.Payment, error)
	Get(ctx context.Context, sc billing.Scope, id string) (billing.Payment, error)
	List(ctx context.Context, sc billing.Scope, destinationID string, opt billing.ListOptions) (billing.Page[billing.Payment], error)
	Refund(ctx context.Context, sc billing.Scope, paymentID, amount, reason, idempotencyKey string) (payments.RefundResult, error)
	Refunds(ctx context.Context, sc billing.Scope, paymentID string, opt billing.ListOptions) (billing.Page[billing.Refund], error)
	Cancel(ctx context.Context, sc billing.Scope, id string) (billing.Payment, error)
}

// Payments serves /api/v1/payments (the payment-link-creator function).
type Payments struct {
	Service PaymentService
}

// Routes lists the payment routes.
func (p *Payments) Routes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/api/v1/payments", Auth: AuthScoped, Handle: p.create},
		{Method: "GET", Pattern: "/api/v1/payments", Auth: AuthScoped, Handle: p.list},
		{Method: "GET", Pattern: "/api/v1/payments/{id}", Auth: AuthScoped, Handle: p.get},
		{Method: "POST", Pattern: "/api/v1/payments/{id}/refund", Auth: AuthScoped, Handle: p.refund},
		{Method: "GET", Pattern: "/api/v1/payments/{id}/refunds", Auth: AuthScoped, Handle: p.refunds},
		{Method: "POST", Pattern: "/api/v1/payments/{id}/cancel", Auth: AuthScoped, Handle: p.cancel},
	}
}

func (p *Payments) cancel(ctx context.Context, r *Request) (Response, error) {
	if err := emptyOrObject(r.Body); err != nil {
		return Response{}, err
	}
	pay, err := p.Service.Cancel(ctx, r.Scope, r.Params["id"])
	if err != nil {
		return Response{}, err
	}
	return Response{Body: PaymentView(pay)}, nil
}

func (p *Payments) create(ctx context.Context, r *Request) (Response, error) {
	var in struct {
		Amount            Decimal           `json:"amount"`
		Currency          string            `json:"currency"`
		DestinationID     string            `json:"destination_id"`
		DestinationType   string            `json:"destination_type"`
		PaymentMethodType string            `json:"payment_method_type"`
		ProcessPayment    *bool             `json:"process_payment"`
		PaymentGateway    string            `json:"payment_gateway"`
		SuccessURL        string            `json:"success_url"`
		Metadata          map[string]string `json:"metadata"`
	}
	if err := Decode(r.Body, &in); err != nil {
		return Response{}, err
	}
	if err := in.Amount.Check("amount", true); err != nil {
		return Response{}, err
	}
	pay, err := p.Service.Create(ctx, r.Scope, payments.CreateInput{
		Amount: in.Amount.Text, AmountSet: in.Amount.Set, Currency: in.Currency, DestinationID: in.DestinationID,
		DestinationType: in.DestinationType, PaymentMethodType: in.PaymentMethodType, PaymentGateway: in.PaymentGateway,
		ProcessPayment: in.ProcessPayment, SuccessURL: in.SuccessURL, Metadata: in.Metadata,
	})
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusCreated, Body: PaymentView(pay)}, nil
}

func (p *Payments) get(ctx context.Context, r *Request) (Response, error) {
	pay, err := p.Service.Get(ctx, r.Scope, r.Params["id"])
	if err != nil {
		return Response{}, err
	}
	return Response{Body: PaymentView(pay)}, nil
}

func (p *Payments) list(ctx context.Context, r *Request) (Response, error) {
	opt, err := listOptions(r)
	if err != nil {
		return Response{}, err
	}
	page, err := p.Service.List(ctx, r.Scope, r.Query["destination_id"], opt)
	if err != nil {
		return Response{}, err
	}
	data := make([]any, 0, len(page.Data))
	for _, pay := range page.Data {
		data = append(data, PaymentView(pay))
	}
	return Response{Body: map[string]any{"data": data, "has_more": page.HasMore}}, nil
}

func (p *Payments) refund(ctx context.Context, r *Request) (Response, error) {
	var in struct {
		Amount Decimal `json:"amount"`
		Reason string  `json:"reason"`
	}
	if len(strings.TrimSpace(string(r.Body))) > 0 {
		if err := Decode(r.Body, &in); err != nil {
			return Response{}, err
		}
	}
	if err := in.Amount.Check("amount", false); err != nil {
		return Response{}, err
	}
	// The client's Idempotency-Key also names the refund record, so a retry
	// after a 5xx (whose answer the router does not keep) finds it.
	res, err := p.Service.Refund(ctx, r.Scope, r.Params["id"], in.Amount.Text, in.Reason, r.Headers["idempotency-key"])
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusAccepted, Body: RefundView(res.Refund)}, nil
}

// PaymentView is a payment as the API shows it (seed 001's shape). Its
// metadata shows razorpay_payment_link_id (the link, gateway_tracking_id)
// and razorpay_payment_id (the last Razorpay payment received,
// gateway_payment_id) from those fields, which are not stored twice: a
// paid payment's item stays under 1 KB, the unit DynamoDB bills a write in.
func PaymentView(p billing.Payment) map[string]any {
	cur := money.MustCurrency(p.Currency)
	md := map[string]string{}
	for k, v := range p.Metadata {
		md[k] = v
	}
	if strings.HasPrefix(p.GatewayTrackingID, "plink_") {
		md["razorpay_payment_link_id"] = p.GatewayTrackingID
	}
	if p.GatewayPaymentID != "" {
		md["razorpay_payment_id"] = p.GatewayPaymentID
	}
	return map[string]any{
		"id": p.ID, "payment_status": p.PaymentStatus, "payment_url": nullable(p.PaymentURL),
		"amount": money.Format(p.Amount, cur), "currency": cur.Lower(),
		"destination_id": p.DestinationID, "destination_type": p.DestinationType,
		"payment_method_type": p.PaymentMethodType, "payment_gateway": p.PaymentGateway,
		"process_payment": p.ProcessPayment, "success_url": nullable(p.SuccessURL),
		"gateway_tracking_id": nullable(p.GatewayTrackingID), "gateway_payment_id": nullable(p.GatewayPaymentID),
		"payment_method": nullable(p.PaymentMethod), "amount_received": money.Format(p.AmountReceived, cur),
		"error_code": nullable(p.ErrorCode), "error_message": nullable(p.ErrorMessage),
		"refunded_amount": money.Format(p.RefundedAmount, cur), "refund_pending": money.Format(p.RefundPending, cur),
		"attempts": p.Attempts, "succeeded_at": tsp(p.SucceededAt), "failed_at": tsp(p.FailedAt),
		"metadata": md, "created_at": ts(p.CreatedAt), "updated_at": ts(p.UpdatedAt),
	}
}

// GatewayEvents serves the parked-event routes.
type GatewayEvents struct {
	Store interface {
		ListGatewayEvents(ctx context.Context, sc billing.Scope, status string, opt billing.ListOptions) (billing.Page[billing.GatewayEvent], error)
	}
	Retrier interface {
		Retry(ctx context.Context, sc billing.Scope, id string) (billing.GatewayEvent, error)
	}
}

// Routes lists the gateway-event routes.
func (g *GatewayEvents) Routes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/gateway-events", Auth: AuthScoped, Handle: g.list},
		{Method: "POST", Pattern: "/api/v1/gateway-events/{id}/retry", Auth: AuthScoped, Handle: g.retry},
	}
}

func (g *GatewayEvents) list(ctx context.Context, r *Request) (Response, error) {
	opt, err := listOptions(r)
	if err != nil {
		return Response{}, err
	}
	status := strings.ToUpper(r.Query["status"])
	if status != "" && status != billing.GatewayEventUnmatched && status != billing.GatewayEventApplied {
		return Response{}, apperr.InvalidField("validation_failed", "status", "status must be UNMATCHED or APPLIED")
	}
	page, err := g.Store.ListGatewayEvents(ctx, r.Scope, status, opt)
	if err != nil {
		return Response{}, err
	}
	data := make([]any, 0, len(page.Data))
	for _, e := range page.Data {
		data = append(data, gatewayEventView(e))
	}
	return Response{Body: map[string]any{"data": data, "has_more": page.HasMore}}, nil
}

func (g *GatewayEvents) retry(ctx context.Context, r *Request) (Response, error) {
	if err := emptyOrObject(r.Body); err != nil {
		return Response{}, err
	}
	e, err := g.Retrier.Retry(ctx, r.Scope, r.Params["id"])
	if err != nil {
		return Response{}, err
	}
	return Response{Body: gatewayEventView(e)}, nil
}

func gatewayEventView(e billing.GatewayEvent) map[string]any {
	return map[string]any{
		"id": e.ID, "event_id": nullable(e.EventID), "event": e.Event, "status": e.Status, "reason": nullable(e.Reason),
		"attempts": e.Attempts, "received_at": ts(e.ReceivedAt), "applied_at": tsp(e.AppliedAt),
		"created_at": ts(e.CreatedAt), "updated_at": ts(e.UpdatedAt), "payload": rawJSON(e.Body),
	}
}

func rawJSON(s string) any {
	if s == "" {
		return nil
	}
	return jsonRaw(s)
}

// linkSettingsView shows a connection's payment link settings; unset is on
// (seed 001's defaults).
func linkSettingsView(c billing.Connection) map[string]bool {
	on := func(p *bool) bool { return p == nil || *p }
	return map[string]bool{"notify_email": on(c.LinkNotifyEmail), "notify_sms": on(c.LinkNotifySMS), "reminders": on(c.LinkReminders)}
}
