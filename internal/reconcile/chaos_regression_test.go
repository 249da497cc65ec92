package reconcile_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
)

// Found by the chaos run: a payment request on a synced invoice hands out
// the Razorpay invoice's short_url; the customer's first try there fails
// and the second succeeds. The Razorpay invoice stays payable after the
// failed try, so the failure is recorded on the invoice and the payment that
// handed out the URL keeps holding it — the capture then lands on that
// payment (SUCCEEDED), not on a second Razorbill payment beside a FAILED one.
func TestShortURLFailedThenPaidLandsOnTheRequestedPayment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, rzInv := f.syncedInvoice("INR", 5000)
	now := time.Now().UTC()
	pay := billing.Payment{ID: ids.New(ids.Payment), DestinationID: inv.ID, DestinationType: "INVOICE", CustomerID: inv.CustomerID, Amount: 5000, Currency: "INR",
		PaymentStatus: billing.PaymentPending, PaymentMethodType: "PAYMENT_LINK", PaymentGateway: "razorpay", ProcessPayment: true,
		GatewayTrackingID: rzInv, PaymentURL: inv.RazorpayShortURL, Metadata: map[string]string{"razorpay_invoice_id": rzInv}, CreatedAt: now, UpdatedAt: now, Version: 1}
	expected := inv.Version
	inv.Version++
	inv.OpenPaymentID = pay.ID
	if err := f.store.SavePaymentAndInvoice(f.ctx, f.sc, pay, 0, inv, expected, map[string]string{}); err != nil {
		t.Fatal(err)
	}

	f.apply(atShortURL("payment.failed", "pay_SHORTFAIL1", rzInv, 5000, "INR", "failed"))
	f.apply(atShortURL("payment.captured", "pay_SHORTOK1", rzInv, 5000, "INR", "captured"))

	got, p := f.state(inv, pay)
	if got.AmountPaid != 5000 || got.FailedAttempts != 1 {
		t.Fatalf("invoice: amount_paid %d, failed_attempts %d", got.AmountPaid, got.FailedAttempts)
	}
	if p.PaymentStatus != billing.PaymentSucceeded || p.AmountReceived != 5000 {
		t.Fatalf("payment %s that handed out the short_url: %s with %d received", p.ID, p.PaymentStatus, p.AmountReceived)
	}
	page, err := f.store.ListPayments(f.ctx, f.sc, inv.ID, billing.ListOptions{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 {
		t.Fatalf("invoice %s has %d Razorbill payments, want 1", inv.ID, len(page.Data))
	}
}

// paymentReadFails fails the first read of one payment as a throttled
// DynamoDB read would.
type paymentReadFails struct {
	*dynamo.Store
	id    string
	fails atomic.Int32
}

func (s *paymentReadFails) Payment(ctx context.Context, sc billing.Scope, id string) (billing.Payment, error) {
	if id == s.id && s.fails.Add(1) == 1 {
		return billing.Payment{}, apperr.E(apperr.Throttled, "storage_throttled", "injected ThrottlingException")
	}
	return s.Store.Payment(ctx, sc, id)
}

// Found by the chaos run: a capture at a synced invoice's short_url whose
// read of the invoice's open payment failed (throttled) was applied to a
// new Razorbill payment, leaving the payment that handed out the URL with
// nothing received. A failed read is retried, never taken for "no payment".
func TestShortURLCaptureRetriesAFailedReadOfTheOpenPayment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, rzInv := f.syncedInvoice("INR", 6000)
	now := time.Now().UTC()
	pay := billing.Payment{ID: ids.New(ids.Payment), DestinationID: inv.ID, DestinationType: "INVOICE", CustomerID: inv.CustomerID, Amount: 6000, Currency: "INR",
		PaymentStatus: billing.PaymentPending, PaymentMethodType: "PAYMENT_LINK", PaymentGateway: "razorpay", ProcessPayment: true,
		GatewayTrackingID: rzInv, PaymentURL: inv.RazorpayShortURL, Metadata: map[string]string{"razorpay_invoice_id": rzInv}, CreatedAt: now, UpdatedAt: now, Version: 1}
	expected := inv.Version
	inv.Version++
	inv.OpenPaymentID = pay.ID
	if err := f.store.SavePaymentAndInvoice(f.ctx, f.sc, pay, 0, inv, expected, map[string]string{}); err != nil {
		t.Fatal(err)
	}
	f.rec.Store = &paymentReadFails{Store: f.store, id: pay.ID}
	msg := billing.EventMessage{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, Event: "payment.captured",
		Body: atShortURL("payment.captured", "pay_SHORTOK2", rzInv, 6000, "INR", "captured")}
	for i := 0; i < 3; i++ { // the first attempt may fail retryably; the queue redelivers it
		if err := f.rec.Apply(f.ctx, f.sc, msg); err == nil {
			break
		} else if !apperr.Retryable(err) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	got, p := f.state(inv, pay)
	if got.AmountPaid != 6000 || p.AmountReceived != 6000 || p.PaymentStatus != billing.PaymentSucceeded {
		t.Fatalf("invoice amount_paid %d; payment %s: %s with %d received", got.AmountPaid, p.ID, p.PaymentStatus, p.AmountReceived)
	}
	page, err := f.store.ListPayments(f.ctx, f.sc, inv.ID, billing.ListOptions{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 {
		t.Fatalf("invoice %s has %d Razorbill payments, want 1", inv.ID, len(page.Data))
	}
}
