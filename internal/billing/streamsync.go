package billing

// SyncsOnCreate reports whether the connection makes a new customer be
// synced to Razorpay at once: it is active and its customer_sync is
// ON_CREATE. Otherwise a customer is synced when a payment link or an
// invoice sync needs it, or by a manual sync.
func (c Connection) SyncsOnCreate() bool {
	return c.Status == ConnectionActive && c.CustomerSync == CustomerSyncOnCreate
}

// SyncsOnFinalize reports whether the connection makes a finalized invoice
// with amount due be pushed to Razorpay at once: it is active and its
// invoice_outbound_sync is on.
func (c Connection) SyncsOnFinalize() bool {
	return c.Status == ConnectionActive && c.InvoiceOutboundSync
}
