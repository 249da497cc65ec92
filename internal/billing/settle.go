package billing

// SettleStatus is the status a payment's amounts give it once money has
// arrived: REFUNDED when everything received was refunded,
// PARTIALLY_REFUNDED when some was, SUCCEEDED when what it received covers
// its amount, PARTIALLY_PAID when it does not. A payment that has received
// nothing keeps its status (PENDING, PROCESSING, FAILED, …). Deriving the
// status from amounts, never from the event being applied, means an older
// event cannot move it backwards.
func (p Payment) SettleStatus() string {
	switch {
	case p.AmountReceived <= 0:
		return p.PaymentStatus
	case p.RefundedAmount >= p.AmountReceived:
		return PaymentRefunded
	case p.RefundedAmount > 0:
		return PaymentPartiallyRefunded
	case p.AmountReceived < p.Amount:
		return PaymentPartiallyPaid
	default:
		return PaymentSucceeded
	}
}
