package billing

import (
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/money"
)

// Finalize moves a DRAFT invoice to FINALIZED and freezes its totals. An
// invoice with nothing to pay is SUCCEEDED at once (and is never synced).
func (inv *Invoice) Finalize(now time.Time) error {
	switch inv.InvoiceStatus {
	case InvoiceDraft:
	case InvoiceVoided:
		return apperr.E(apperr.Conflict, "invoice_voided", "invoice %s is voided", inv.ID)
	default:
		return apperr.E(apperr.Conflict, "invoice_not_draft", "invoice %s is %s; only a DRAFT invoice can be finalized", inv.ID, inv.InvoiceStatus)
	}
	t := now.UTC()
	inv.InvoiceStatus = InvoiceFinalized
	inv.FinalizedAt = &t
	if inv.AmountDue == 0 {
		inv.PaymentStatus = PaymentSucceeded
		inv.PaidAt = &t
	}
	return nil
}

// FinalizeToCollect is finalization as the API and the period close do
// it: Finalize, then mark the invoice for the Razorpay sync when the
// connection syncs finalized invoices (syncs) and something is due, then
// refuse a total Razorpay cannot collect (min: its minimums).
func (inv *Invoice) FinalizeToCollect(now time.Time, syncs bool, min *money.Minimums) error {
	if err := inv.Finalize(now); err != nil {
		return err
	}
	inv.SyncOnFinalize = syncs && inv.AmountDue > 0 // nothing due: never synced
	return inv.CheckCollectable(min)
}

// Void moves a DRAFT or FINALIZED invoice with nothing paid to VOIDED.
func (inv *Invoice) Void(now time.Time) error {
	if inv.InvoiceStatus == InvoiceVoided {
		return apperr.E(apperr.Conflict, "invoice_voided", "invoice %s is already voided", inv.ID)
	}
	if inv.AmountPaid > 0 {
		return apperr.E(apperr.Conflict, "invoice_already_paid", "invoice %s has payments; refund them instead of voiding", inv.ID)
	}
	if inv.OpenPaymentID != "" {
		return apperr.E(apperr.Conflict, "payment_link_exists", "invoice %s has an open payment %s; wait for it to expire or cancel it first", inv.ID, inv.OpenPaymentID).
			WithDetails(map[string]any{"payment_id": inv.OpenPaymentID})
	}
	t := now.UTC()
	inv.InvoiceStatus = InvoiceVoided
	inv.VoidedAt = &t
	return nil
}

// ApplyPaymentStatus derives the invoice's payment status from its amounts.
func (inv *Invoice) ApplyPaymentStatus(now time.Time) {
	switch {
	case inv.AmountPaid > 0 && inv.AmountRefunded >= inv.AmountPaid:
		// Everything paid was refunded; amount_paid is never lowered by a
		// refund, so nothing becomes payable again.
		inv.PaymentStatus = PaymentRefunded
	case inv.AmountPaid == 0:
		if inv.AmountDue == 0 && inv.InvoiceStatus == InvoiceFinalized {
			inv.PaymentStatus = PaymentSucceeded
		} else {
			inv.PaymentStatus = PaymentPending
		}
	case inv.AmountPaid < inv.AmountDue:
		inv.PaymentStatus = PaymentPartiallyPaid
	case inv.AmountPaid == inv.AmountDue:
		inv.PaymentStatus = PaymentSucceeded
	default:
		inv.PaymentStatus = PaymentOverpaid
	}
	if inv.PaymentStatus == PaymentSucceeded || inv.PaymentStatus == PaymentOverpaid {
		if inv.PaidAt == nil {
			t := now.UTC()
			inv.PaidAt = &t
		}
	}
}

// Paid reports whether nothing remains to pay.
func (inv Invoice) Paid() bool {
	return inv.PaymentStatus == PaymentSucceeded || inv.PaymentStatus == PaymentOverpaid
}
