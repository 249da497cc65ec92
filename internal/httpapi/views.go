package httpapi

import (
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/money"
)

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func tsp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func customerView(c billing.Customer) map[string]any {
	md := map[string]string{}
	for k, v := range c.Metadata {
		md[k] = v
	}
	if c.RazorpayCustomerID != "" {
		md["razorpay_customer_id"] = c.RazorpayCustomerID
	}
	return map[string]any{
		"id": c.ID, "external_id": nullable(c.ExternalID), "name": c.Name, "email": nullable(c.Email), "phone": nullable(c.Phone),
		"gstin": nullable(c.GSTIN), "gstin_warning": nullable(billing.GSTINWarning(c.GSTIN)), "billing_state": nullable(c.BillingState),
		"metadata": md,
		"razorpay": map[string]any{
			"customer_id": nullable(c.RazorpayCustomerID), "sync_status": c.SyncStatus,
			"last_error": nullable(c.SyncError), "attempts": c.SyncAttempts, "synced_at": tsp(c.SyncedAt),
		},
		"created_at": ts(c.CreatedAt), "updated_at": ts(c.UpdatedAt),
	}
}

// InvoiceView is an invoice as the API shows it: decimal strings by the
// currency's exponent, the currency lower-case.
func InvoiceView(inv billing.Invoice) map[string]any {
	cur := money.MustCurrency(inv.Currency)
	f := func(v int64) string { return money.Format(v, cur) }
	lines := make([]map[string]any, 0, len(inv.LineItems))
	for _, li := range inv.LineItems {
		lines = append(lines, map[string]any{
			"display_name": li.DisplayName, "description": nullable(li.Description), "price_type": li.PriceType,
			"quantity": li.Quantity, "unit_amount": li.UnitAmount, "amount": f(li.Amount),
			"discount": f(li.Discount), "tax_rate": nullable(li.TaxRate), "sac_code": nullable(li.SACCode), "meter_id": nullable(li.MeterID),
		})
	}
	taxes := make([]map[string]any, 0, len(inv.TaxLines))
	for _, t := range inv.TaxLines {
		taxes = append(taxes, map[string]any{"name": t.Name, "amount": f(t.Amount)})
	}
	return map[string]any{
		"id": inv.ID, "customer_id": inv.CustomerID, "currency": cur.Lower(), "invoice_number": inv.InvoiceNumber,
		"due_date": tsp(inv.DueDate), "period_start": tsp(inv.PeriodStart), "period_end": tsp(inv.PeriodEnd),
		"line_items": lines,
		"subtotal":   f(inv.Subtotal), "discount": f(inv.Discount), "tax_lines": taxes, "total": f(inv.AmountDue),
		"subscription_id": nullable(inv.SubscriptionID),
		"amount_due":      f(inv.AmountDue), "amount_paid": f(inv.AmountPaid),
		"amount_remaining": f(inv.AmountRemaining()), "amount_refunded": f(inv.AmountRefunded),
		"invoice_status": inv.InvoiceStatus, "payment_status": inv.PaymentStatus,
		"metadata": inv.Metadata,
		"razorpay": map[string]any{
			"invoice_id": nullable(inv.RazorpayInvoiceID), "short_url": nullable(inv.RazorpayShortURL),
			"sync_status": inv.SyncStatus, "last_error": nullable(inv.SyncError), "error_code": nullable(inv.SyncErrorCode),
			"attempts": inv.SyncAttempts, "synced_at": tsp(inv.SyncedAt),
		},
		"open_payment_id": nullable(inv.OpenPaymentID),
		// failed tries at the synced Razorpay invoice's short_url
		"failed_attempts": inv.FailedAttempts, "last_payment_error": nullable(inv.LastPaymentError),
		"finalized_at": tsp(inv.FinalizedAt), "voided_at": tsp(inv.VoidedAt), "paid_at": tsp(inv.PaidAt),
		"created_at": ts(inv.CreatedAt), "updated_at": ts(inv.UpdatedAt),
	}
}

type jsonRaw string

// MarshalJSON emits the stored JSON as it is.
func (j jsonRaw) MarshalJSON() ([]byte, error) { return []byte(j), nil }
