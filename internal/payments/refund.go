package payments

import (
	"context"
	"strings"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/rzsync"
)

// RefundResult is a requested refund.
type RefundResult struct {
	Payment          billing.Payment
	RefundID         string
	RazorpayRefundID string
	Amount           int64
	Status           string
}

// Refund asks Razorpay to refund amount (the whole unrefunded remainder when
// amount is empty) of a succeeded payment. The amount is reserved on the
// payment first (a conditional write), so two refund requests can never
// together exceed what was paid; Razorpay's X-Refund-Idempotency carries our
// refund id, so a retried call never refunds twice. The refund.processed /
// refund.failed webhooks settle it.
func (s *Service) Refund(ctx context.Context, sc billing.Scope, paymentID, amount, reason string) (RefundResult, error) {
	if len(reason) > 255 {
		return RefundResult{}, invalid("validation_failed", "reason", "reason is longer than 255 characters")
	}
	for attempt := 0; ; attempt++ {
		pay, err := s.Store.Payment(ctx, sc, paymentID)
		if err != nil {
			return RefundResult{}, err
		}
		if pay.PaymentStatus != billing.PaymentSucceeded && pay.PaymentStatus != billing.PaymentPartiallyRefunded || pay.GatewayPaymentID == "" {
			return RefundResult{}, conflict("payment_not_refundable", "payment %s is %s; only a succeeded payment can be refunded", pay.ID, pay.PaymentStatus)
		}
		cur := money.MustCurrency(pay.Currency)
		refundable := pay.AmountReceived - pay.RefundedAmount - pay.RefundPending
		amt := refundable
		if strings.TrimSpace(amount) != "" {
			amt, err = money.Parse(strings.TrimSpace(amount), cur)
			if err != nil {
				return RefundResult{}, invalid("validation_failed", "amount", "%s", err.Error())
			}
			if amt <= 0 {
				return RefundResult{}, invalid("validation_failed", "amount", "a refund amount must be positive")
			}
		}
		if amt > refundable || refundable <= 0 {
			return RefundResult{}, apperr.InvalidField("refund_exceeds_payment", "amount", "at most %s %s of payment %s can still be refunded", money.Format(refundable, cur), cur.Code, pay.ID)
		}
		rz, err := money.ToRazorpay(amt, cur)
		if err != nil {
			return RefundResult{}, invalid("validation_failed", "amount", "%s", err.Error())
		}
		conn, err := rzsync.ActiveConnection(ctx, s.Store, sc)
		if err != nil {
			return RefundResult{}, err
		}
		cr, err := rzsync.Credentials(ctx, s.Secrets, conn)
		if err != nil {
			return RefundResult{}, err
		}
		refundID := ids.New(ids.Refund)
		expected := pay.Version
		pay.Version++
		pay.RefundPending += amt
		pay.UpdatedAt = s.now()
		if err := s.Store.UpdatePayment(ctx, sc, pay, expected); err != nil {
			if apperr.HasCode(err, apperr.CodeConcurrentUpdate) && attempt < 5 {
				continue
			}
			return RefundResult{}, err
		}
		ref, err := s.Gateway.Refund(ctx, cr, pay.GatewayPaymentID, razorpay.RefundInput{
			Amount: rz, IdempotencyKey: refundID, Receipt: refundID,
			Notes: map[string]string{"razorbill_refund_id": refundID, "razorbill_payment_id": pay.ID, "razorbill_invoice_id": pay.DestinationID, "tenant_id": sc.TenantID, "environment_id": sc.EnvironmentID, "reason": truncate(reason, 255)},
		})
		if err != nil {
			if !apperr.Retryable(err) {
				s.releaseRefund(ctx, sc, pay.ID, amt)
				return RefundResult{}, &apperr.Error{Kind: apperr.Permanent, Code: "razorpay_refund_failed", Message: "Razorpay refused the refund: " + describe(err), Err: err}
			}
			// Unknown outcome: the reservation stays until Razorpay's
			// refund webhook settles it.
			return RefundResult{}, err
		}
		return RefundResult{Payment: pay, RefundID: refundID, RazorpayRefundID: ref.ID, Amount: amt, Status: "PENDING"}, nil
	}
}

func (s *Service) releaseRefund(ctx context.Context, sc billing.Scope, paymentID string, amt int64) {
	for attempt := 0; attempt < 5; attempt++ {
		pay, err := s.Store.Payment(ctx, sc, paymentID)
		if err != nil {
			return
		}
		expected := pay.Version
		pay.Version++
		pay.RefundPending -= amt
		if pay.RefundPending < 0 {
			pay.RefundPending = 0
		}
		if err := s.Store.UpdatePayment(ctx, sc, pay, expected); err == nil || !apperr.HasCode(err, apperr.CodeConcurrentUpdate) {
			return
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
