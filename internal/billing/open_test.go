package billing

import (
	"testing"
	"time"
)

func TestWebhookHealth(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(-d); return &x }
	for name, tc := range map[string]struct {
		c      Connection
		status string
		missed int
	}{
		"never received":           {Connection{}, WebhookNeverReceived, 0},
		"received, nothing missed": {Connection{LastWebhookAt: at(time.Minute)}, WebhookHealthy, 0},
		"missed, never received":   {Connection{MissedWebhooks: []time.Time{*at(time.Hour)}}, WebhookSilent, 1},
		"missed after the last webhook": {Connection{LastWebhookAt: at(2 * time.Hour), MissedWebhooks: []time.Time{*at(time.Hour), *at(30 * time.Minute)}},
			WebhookSilent, 2},
		"webhooks since the last miss": {Connection{LastWebhookAt: at(time.Minute), MissedWebhooks: []time.Time{*at(time.Hour)}}, WebhookHealthy, 1},
		"misses older than 24 h":       {Connection{LastWebhookAt: at(48 * time.Hour), MissedWebhooks: []time.Time{*at(25 * time.Hour)}}, WebhookHealthy, 0},
	} {
		h := tc.c.Webhook(now)
		if h.Status != tc.status || h.MissedEvents != tc.missed {
			t.Errorf("%s: %s %d, want %s %d", name, h.Status, h.MissedEvents, tc.status, tc.missed)
		}
	}
	kept := PruneMissed([]time.Time{*at(30 * time.Hour), *at(3 * time.Hour), *at(2 * time.Hour), *at(time.Hour)}, now, 2)
	if len(kept) != 2 || !kept[1].Equal(*at(time.Hour)) {
		t.Errorf("prune: %v", kept)
	}
}

func TestOpenPredicates(t *testing.T) {
	link := func(status, code, linkStatus string) Payment {
		return Payment{GatewayTrackingID: "plink_1", PaymentStatus: status, ErrorCode: code, Metadata: map[string]string{"razorpay_payment_link_status": linkStatus}}
	}
	for _, tc := range []struct {
		p    Payment
		open bool
	}{
		{link(PaymentPending, "", ""), true},
		{link(PaymentProcessing, "", ""), true},
		{link(PaymentFailed, "BAD_REQUEST_ERROR", ""), true}, // a failed try leaves the link payable
		{link(PaymentFailed, "payment_link_expired", ""), false},
		{link(PaymentFailed, "BAD_REQUEST_ERROR", "cancelled"), false},
		{link(PaymentSucceeded, "", ""), false},
		{link(PaymentCancelled, "", ""), false},
		{Payment{GatewayTrackingID: "inv_1", PaymentStatus: PaymentPending}, false}, // its Razorpay invoice is indexed instead
		{Payment{PaymentStatus: PaymentPending}, false},                             // no link yet
	} {
		if got := tc.p.LinkOpen(); got != tc.open {
			t.Errorf("%s %s %v: open %v", tc.p.PaymentStatus, tc.p.ErrorCode, tc.p.Metadata, got)
		}
	}
	inv := Invoice{RazorpayInvoiceID: "inv_R1", RazorpayShortURL: "https://rzp.io/i/x", InvoiceStatus: InvoiceFinalized, AmountDue: 100}
	if !inv.RazorpayInvoiceOpen() {
		t.Error("unpaid synced invoice not open")
	}
	paid := inv
	paid.AmountPaid = 100
	paid.ApplyPaymentStatus(time.Now())
	refunded := paid
	refunded.AmountRefunded = 100
	refunded.ApplyPaymentStatus(time.Now())
	expired := inv
	expired.RazorpayShortURL = ""
	voided := inv
	voided.InvoiceStatus = InvoiceVoided
	for _, c := range []Invoice{paid, refunded, expired, voided, {InvoiceStatus: InvoiceFinalized, AmountDue: 100}} {
		if c.RazorpayInvoiceOpen() {
			t.Errorf("open: %+v", c)
		}
	}
	if !(Refund{Status: RefundPending}).RefundOpen() || (Refund{Status: RefundProcessed}).RefundOpen() {
		t.Error("refund open predicate")
	}
}
