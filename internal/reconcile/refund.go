package reconcile

import (
	"context"
	"errors"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/razorpay"
)

// refundStore is what settling a refund needs beside Store.
type refundStore interface {
	Refund(ctx context.Context, sc billing.Scope, id string) (billing.Refund, error)
	SettleRefund(ctx context.Context, sc billing.Scope, m dynamo.Marker, p billing.Payment, expectedPayment int64, inv billing.Invoice, expectedInvoice int64, rf *billing.Refund, expectedRefund int64) error
}

// applyRefund applies refund.processed / refund.failed: one transaction
// writes the marker "refund:<rfnd id>" (so each Razorpay refund counts
// once, whichever of the webhook and a lookup by the payments service comes
// first), the payment, the invoice and the part of our refund record it
// settles (billing.SettleRefund). A processed refund adds to amount_refunded
// and never lowers amount_paid.
func (r *Reconciler) applyRefund(ctx context.Context, sc billing.Scope, ev razorpay.Event) error {
	if ev.Refund == nil || ev.Refund.ID == "" {
		return unmatched("%s carries no refund entity", ev.Name)
	}
	rs, ok := r.Store.(refundStore)
	if !ok {
		return apperr.E(apperr.Internal, "", "the reconciler's store cannot settle refunds")
	}
	rf := *ev.Refund
	key := "refund:" + rf.ID
	if _, done, err := r.Store.Applied(ctx, sc, key); err != nil || done {
		return err
	}
	return retry(func() error {
		pay, inv, rec, part, err := r.refundTarget(ctx, sc, rs, rf)
		if err != nil {
			return err
		}
		// Read the marker again after the payment: a look-up may have
		// counted this refund (marker and payment in one transaction) since
		// the first check, and then the payment has nothing left to refund.
		if _, done, err := r.Store.Applied(ctx, sc, key); err != nil || done {
			return err
		}
		amount := money.FromRazorpay(rf.Amount)
		if rf.Currency != "" && rf.Currency != pay.Currency {
			return unmatched("refund %s is in %s but payment %s is in %s", rf.ID, rf.Currency, pay.ID, pay.Currency)
		}
		processed := ev.Name == "refund.processed"
		if processed && amount > pay.AmountReceived-pay.RefundedAmount {
			return unmatched("refund %s of %d exceeds what payment %s has left (%d)", rf.ID, amount, pay.ID, pay.AmountReceived-pay.RefundedAmount)
		}
		ep, ei := pay.Version, inv.Version
		pay.Version++
		inv.Version++
		var recp *billing.Refund
		var erf int64
		if rec.ID != "" {
			erf = rec.Version
			rec.Version++
			recp = &rec
		}
		now := r.now()
		billing.SettleRefund(billing.RefundOutcome{RazorpayRefundID: rf.ID, RazorpayPaymentID: rf.PaymentID, Amount: amount, Processed: processed},
			&pay, &inv, recp, part, now)
		m := dynamo.Marker{RazorpayPaymentID: key, PaymentID: pay.ID, InvoiceID: inv.ID, Amount: amount, Event: ev.Name, AppliedAt: now.Format(time.RFC3339Nano)}
		err = rs.SettleRefund(ctx, sc, m, pay, ep, inv, ei, recp, erf)
		if errors.Is(err, dynamo.ErrAlreadyApplied) {
			return nil
		}
		if err == nil {
			r.Log.InfoContext(ctx, "refund applied", "razorpay_refund_id", rf.ID, "event", ev.Name, "payment_id", pay.ID, "refund_id", rec.ID,
				"amount", amount, "invoice_payment_status", inv.PaymentStatus)
		}
		return err
	})
}

// refundTarget finds the payment, its invoice and (when the refund was
// requested through Razorbill) our refund record and the index of the part
// a Razorpay refund is: by the razorbill_refund_id / razorbill_refund_part
// notes we sent, else by razorbill_payment_id, else by the Razorpay payment
// id's ref. part is -1 without a record.
func (r *Reconciler) refundTarget(ctx context.Context, sc billing.Scope, rs refundStore, rf razorpay.Refund) (billing.Payment, billing.Invoice, billing.Refund, int, error) {
	var rec billing.Refund
	part := -1
	payID := ""
	if id := rf.Notes["razorbill_refund_id"]; ids.Valid(ids.Refund, id) {
		got, err := rs.Refund(ctx, sc, id)
		switch {
		case err == nil:
			rec = got
			payID = rec.PaymentID
			part = rec.PartFor(rf.Notes["razorbill_refund_part"], rf.ID)
		case !apperr.Is(err, apperr.NotFound):
			return billing.Payment{}, billing.Invoice{}, rec, -1, err
		}
	}
	if payID == "" {
		if id := rf.Notes["razorbill_payment_id"]; ids.Valid(ids.Payment, id) {
			payID = id
		}
	}
	if payID == "" && rf.PaymentID != "" {
		ours, ok, err := r.Store.Ref(ctx, sc, rf.PaymentID)
		if err != nil {
			return billing.Payment{}, billing.Invoice{}, rec, -1, err
		}
		if ok && ids.Valid(ids.Payment, ours) {
			payID = ours
		}
	}
	if payID == "" {
		return billing.Payment{}, billing.Invoice{}, rec, -1, unmatched("refund %s of Razorpay payment %s matches no Razorbill payment", rf.ID, rf.PaymentID)
	}
	pay, err := r.Store.Payment(ctx, sc, payID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return pay, billing.Invoice{}, rec, -1, unmatched("payment %s named by refund %s does not exist in this environment", payID, rf.ID)
		}
		return pay, billing.Invoice{}, rec, -1, err
	}
	inv, err := r.Store.Invoice(ctx, sc, pay.DestinationID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return pay, inv, rec, -1, unmatched("invoice %s of payment %s does not exist", pay.DestinationID, pay.ID)
		}
		return pay, inv, rec, -1, err
	}
	return pay, inv, rec, part, nil
}
