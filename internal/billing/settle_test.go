package billing

import "testing"

func TestSettleStatus(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status                     string
		amount, received, refunded int64
		want                       string
	}{
		{PaymentPending, 1000, 0, 0, PaymentPending},
		{PaymentProcessing, 1000, 0, 0, PaymentProcessing},
		{PaymentFailed, 1000, 0, 0, PaymentFailed},
		{PaymentPending, 1000, 400, 0, PaymentPartiallyPaid},                  // a capture smaller than the payment
		{PaymentPartiallyPaid, 1000, 1000, 0, PaymentSucceeded},               // covered
		{PaymentSucceeded, 1000, 1500, 0, PaymentSucceeded},                   // more than asked
		{PaymentPartiallyRefunded, 1000, 1500, 300, PaymentPartiallyRefunded}, // a later capture keeps the refund visible
		{PaymentRefunded, 1000, 1000, 1000, PaymentRefunded},
		{PaymentRefunded, 1000, 1700, 1000, PaymentPartiallyRefunded}, // money arrived after a full refund
		{PaymentFailed, 1000, 1000, 0, PaymentSucceeded},              // a capture after a failed try
	} {
		p := Payment{PaymentStatus: c.status, Amount: c.amount, AmountReceived: c.received, RefundedAmount: c.refunded}
		if got := p.SettleStatus(); got != c.want {
			t.Errorf("%+v: %s, want %s", c, got, c.want)
		}
	}
}
