package billing

import (
	"strings"
	"time"
)

// Open instruments are what the gateway-sweeper pulls from Razorpay when
// no webhook comes: the storage indexes a record while its predicate
// holds and drops it from the index when it stops holding.

// LinkOpen reports whether the payment's Razorpay payment link may still
// take money or close without us knowing: a PENDING, PROCESSING or
// PARTIALLY_PAID payment with a link, or a FAILED one (a failed try leaves
// the link payable) whose link is not known to be closed.
func (p Payment) LinkOpen() bool {
	if !strings.HasPrefix(p.GatewayTrackingID, "plink_") {
		return false
	}
	switch p.PaymentStatus {
	case PaymentPending, PaymentProcessing, PaymentPartiallyPaid:
		return true
	case PaymentFailed:
		switch p.ErrorCode {
		case "payment_link_expired", "payment_link_cancelled":
			return false
		}
		switch p.Metadata["razorpay_payment_link_status"] {
		case "cancelled", "expired", "paid":
			return false
		}
		return true
	}
	return false
}

// RazorpayInvoiceOpen reports whether the invoice's synced Razorpay
// invoice may still be paid: it is FINALIZED, something remains to pay,
// and its Razorpay invoice still has a payable short_url (expiry clears it).
func (inv Invoice) RazorpayInvoiceOpen() bool {
	return inv.RazorpayInvoiceID != "" && inv.RazorpayShortURL != "" && inv.InvoiceStatus == InvoiceFinalized && inv.AmountRemaining() > 0
}

// RefundOpen reports whether Razorpay's word on the refund is awaited.
func (rf Refund) RefundOpen() bool { return rf.Status == RefundPending }

// Webhook health on a connection.
const (
	WebhookHealthy       = "HEALTHY"
	WebhookSilent        = "SILENT"
	WebhookNeverReceived = "NEVER_RECEIVED"
)

// MissedWindow is how far back missed events are counted.
const MissedWindow = 24 * time.Hour

// WebhookHealth is the connection's webhook block.
type WebhookHealth struct {
	Status         string
	LastReceivedAt *time.Time
	MissedEvents   int
}

// Webhook derives the webhook health at now from when the last webhook
// arrived and when the sweeper found events no webhook had announced:
// SILENT while a missed event of the last 24 h is newer than the last
// webhook received, NEVER_RECEIVED when no webhook ever arrived (and
// nothing was missed), HEALTHY otherwise.
func (c Connection) Webhook(now time.Time) WebhookHealth {
	h := WebhookHealth{Status: WebhookHealthy, LastReceivedAt: c.LastWebhookAt}
	var latest time.Time
	for _, t := range c.MissedWebhooks {
		if now.Sub(t) <= MissedWindow {
			h.MissedEvents++
			if t.After(latest) {
				latest = t
			}
		}
	}
	switch {
	case h.MissedEvents > 0 && (c.LastWebhookAt == nil || latest.After(*c.LastWebhookAt)):
		h.Status = WebhookSilent
	case c.LastWebhookAt == nil:
		h.Status = WebhookNeverReceived
	}
	return h
}

// PruneMissed keeps the missed-event times of the last 24 h (at most
// limit, the newest).
func PruneMissed(ts []time.Time, now time.Time, limit int) []time.Time {
	out := make([]time.Time, 0, len(ts))
	for _, t := range ts {
		if now.Sub(t) <= MissedWindow {
			out = append(out, t)
		}
	}
	if len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out
}

// SweepCursor is where an environment's gateway sweep stands (package
// sweep): a sweep of one environment may take several invocations.
type SweepCursor struct {
	// After: the open instruments after this id are still to pull ("":
	// from the first).
	After string
	State string
	// At is when the cursor was written; an older write never replaces it.
	At time.Time
}

// The states of a SweepCursor.
const (
	// SweepRunning: a sweep of the environment is queued or continuing in
	// another invocation; the schedule does not queue it again while the
	// cursor is fresh.
	SweepRunning = "running"
	// SweepWaiting: Razorpay throttled the sweep at After; the next
	// scheduled run goes on from there.
	SweepWaiting = "waiting"
	// SweepDone: the last sweep reached the last open instrument.
	SweepDone = "done"
)
