package billing

import (
	"fmt"
	"time"
)

// Refund statuses (of a refund and of each of its parts). A refund is
// PENDING while any part is; then PROCESSED when every part was, FAILED when
// every part failed, and PARTIALLY_FAILED when some parts were refunded and
// others failed.
const (
	RefundPending         = "PENDING"
	RefundProcessed       = "PROCESSED"
	RefundFailed          = "FAILED"
	RefundPartiallyFailed = "PARTIALLY_FAILED"
)

// Refund is one refund request (rfd_…) of a payment. It is written, with
// the payment's reservation (RefundPending), before Razorpay is called; each
// part is one Razorpay refund of one captured Razorpay payment, sent with
// the part's Key as X-Refund-Idempotency.
type Refund struct {
	ID        string       `dynamodbav:"id"`
	PaymentID string       `dynamodbav:"payment_id"`
	InvoiceID string       `dynamodbav:"invoice_id"`
	Currency  string       `dynamodbav:"currency"`
	Amount    int64        `dynamodbav:"amount"`
	Reason    string       `dynamodbav:"reason,omitempty"`
	Status    string       `dynamodbav:"status"`
	Parts     []RefundPart `dynamodbav:"parts"`
	// IdempotencyKey is the client's Idempotency-Key, when one was sent.
	IdempotencyKey string    `dynamodbav:"idempotency_key,omitempty"`
	CreatedAt      time.Time `dynamodbav:"created_at"`
	UpdatedAt      time.Time `dynamodbav:"updated_at"`
	Version        int64     `dynamodbav:"version"`
}

// RefundPart is the share of a refund taken from one Razorpay payment.
type RefundPart struct {
	RazorpayPaymentID string `dynamodbav:"razorpay_payment_id"`
	Amount            int64  `dynamodbav:"amount"`
	// Key is "<refund id>-<n>" (n from 1): Razorpay's X-Refund-Idempotency
	// and the note that finds this part in Razorpay's refund list.
	Key string `dynamodbav:"key"`
	// RazorpayRefundID is known once Razorpay answered or the refund was
	// found in its list.
	RazorpayRefundID string     `dynamodbav:"razorpay_refund_id,omitempty"`
	Status           string     `dynamodbav:"status"`
	Error            string     `dynamodbav:"error,omitempty"`
	SettledAt        *time.Time `dynamodbav:"settled_at,omitempty"`
}

// PartKey is the idempotency key of a refund's n-th part (n from 1).
func PartKey(refundID string, n int) string { return fmt.Sprintf("%s-%d", refundID, n) }

// DeriveStatus sets the refund's status from its parts.
func (rf *Refund) DeriveStatus() {
	processed, failed := 0, 0
	for _, p := range rf.Parts {
		switch p.Status {
		case RefundProcessed:
			processed++
		case RefundFailed:
			failed++
		default:
			rf.Status = RefundPending
			return
		}
	}
	switch {
	case failed == 0:
		rf.Status = RefundProcessed
	case processed == 0:
		rf.Status = RefundFailed
	default:
		rf.Status = RefundPartiallyFailed
	}
}

// PartFor finds the part sent under key, or the part of a Razorpay refund
// id; -1 when none.
func (rf *Refund) PartFor(key, razorpayRefundID string) int {
	for i, p := range rf.Parts {
		if (key != "" && p.Key == key) || (razorpayRefundID != "" && p.RazorpayRefundID == razorpayRefundID) {
			return i
		}
	}
	return -1
}

// RefundSource is what one Razorpay payment of a Razorbill payment can still
// refund.
type RefundSource struct {
	RazorpayPaymentID string
	Available         int64 // captured − refunded − reserved
}

// RefundSources lists the Razorpay payments a payment's refund can draw
// from, newest first. A payment recorded before Captures existed has one
// source: GatewayPaymentID with AmountReceived.
func RefundSources(p Payment) []RefundSource {
	if len(p.Captures) == 0 {
		if p.GatewayPaymentID == "" {
			return nil
		}
		return []RefundSource{{RazorpayPaymentID: p.GatewayPaymentID, Available: p.AmountReceived - p.RefundedAmount - p.RefundPending}}
	}
	out := make([]RefundSource, 0, len(p.Captures))
	for i := len(p.Captures) - 1; i >= 0; i-- {
		c := p.Captures[i]
		out = append(out, RefundSource{RazorpayPaymentID: c.RazorpayPaymentID, Available: c.Amount - c.Refunded - c.RefundPending})
	}
	return out
}

// Refundable is the most one refund can take from sources: the sum of what
// each source has left, counting only sources with at least minimum left
// (Razorpay refuses a smaller refund).
func Refundable(sources []RefundSource, minimum int64) int64 {
	var t int64
	for _, s := range sources {
		if s.Available >= minimum && s.Available > 0 {
			t += s.Available
		}
	}
	return t
}

// SplitRefund allocates amount across sources in their order (newest
// first): each source gives what it has left until amount is covered, and
// every share is at least minimum. When taking all a source has would leave
// a remainder below minimum for the next source, the source gives that much
// less, so the next share is exactly minimum; when that is not possible the
// source is skipped. ok is false when amount cannot be allocated so.
func SplitRefund(sources []RefundSource, amount, minimum int64) (shares []int64, ok bool) {
	if minimum < 1 {
		minimum = 1
	}
	shares = make([]int64, len(sources))
	rem := amount
	if rem < minimum {
		return nil, false
	}
	for i, s := range sources {
		if rem == 0 {
			break
		}
		if s.Available < minimum {
			continue
		}
		take := min(s.Available, rem)
		if left := rem - take; left > 0 && left < minimum {
			take = rem - minimum
			if take < minimum {
				continue
			}
		}
		shares[i] = take
		rem -= take
	}
	if rem != 0 {
		return nil, false
	}
	return shares, true
}

// ReserveRefund adds a share to the payment's reservation: on the capture
// it comes from, and in the payment's total.
func (p *Payment) ReserveRefund(razorpayPaymentID string, amount int64) {
	p.RefundPending += amount
	if i := p.captureIndex(razorpayPaymentID); i >= 0 {
		p.Captures[i].RefundPending += amount
	}
}

// ReleaseRefund takes a share back out of the reservation (never below 0).
func (p *Payment) ReleaseRefund(razorpayPaymentID string, amount int64) {
	p.RefundPending = max(p.RefundPending-amount, 0)
	if i := p.captureIndex(razorpayPaymentID); i >= 0 {
		p.Captures[i].RefundPending = max(p.Captures[i].RefundPending-amount, 0)
	}
}

func (p *Payment) captureIndex(razorpayPaymentID string) int {
	for i, c := range p.Captures {
		if c.RazorpayPaymentID == razorpayPaymentID {
			return i
		}
	}
	return -1
}

// RefundOutcome is Razorpay's final word on one of its refunds.
type RefundOutcome struct {
	RazorpayRefundID  string
	RazorpayPaymentID string
	Amount            int64
	Processed         bool // refund.processed; false: refund.failed
}

// SettleRefund applies a Razorpay refund's outcome to the payment, its
// invoice and (when the refund was ours) the part of our refund record it
// settles. part is that part's index in rf, or -1 (a refund made outside
// Razorbill, e.g. in Razorpay's dashboard, settles no part).
//
// A processed refund adds to the payment's and the invoice's refunded
// amounts and never lowers the invoice's amount_paid, so amount_remaining
// never grows and a refunded invoice is not billable again. A failed refund
// only releases the reservation. The reservation of a part is released once:
// a part already released (FAILED after the grace period) is not released
// again when Razorpay later reports it.
func SettleRefund(o RefundOutcome, pay *Payment, inv *Invoice, rf *Refund, part int, now time.Time) {
	now = now.UTC()
	if rf != nil && part >= 0 {
		p := &rf.Parts[part]
		if p.Status == RefundPending {
			pay.ReleaseRefund(p.RazorpayPaymentID, p.Amount)
		}
		p.RazorpayRefundID = o.RazorpayRefundID
		p.SettledAt = &now
		if o.Processed {
			p.Status, p.Error = RefundProcessed, ""
		} else {
			p.Status, p.Error = RefundFailed, "Razorpay reported the refund failed"
		}
		rf.DeriveStatus()
		rf.UpdatedAt = now
	}
	pay.UpdatedAt = now
	if !o.Processed {
		return
	}
	pay.RefundedAmount += o.Amount
	if i := pay.captureIndex(o.RazorpayPaymentID); i >= 0 {
		pay.Captures[i].Refunded += o.Amount
	}
	if pay.RefundedAmount >= pay.AmountReceived {
		pay.PaymentStatus = PaymentRefunded
	} else {
		pay.PaymentStatus = PaymentPartiallyRefunded
	}
	inv.AmountRefunded += o.Amount
	inv.ApplyPaymentStatus(now)
	inv.UpdatedAt = now
}
