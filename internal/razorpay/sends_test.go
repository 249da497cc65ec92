package razorpay_test

import (
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// Every create and cancel the client makes, with every optional field it
// can send set, is accepted by the simulator, which refuses fields Razorpay
// does not document ("… is/are not required and should not be sent").
func TestEverythingTheClientSendsIsAccepted(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{})
	notes := map[string]string{"razorbill_id": "x_1", "tenant_id": "ten_1"}
	cust, err := e.c.CreateCustomer(ctx(t), e.cr, razorpay.CustomerInput{Name: "Every Field (QA)", Email: "every@example.com",
		Contact: "+919876543210", GSTIN: "29ABCDE1234F1Z5", Notes: notes, FailExisting: true})
	if err != nil {
		t.Fatal("customer:", err)
	}
	if _, err := e.c.CreateCustomer(ctx(t), e.cr, razorpay.CustomerInput{Name: "Every Field (QA)", Email: "every@example.com", Contact: "+919876543210", Notes: notes}); err != nil {
		t.Fatal("customer, fail_existing 0:", err)
	}
	inv, err := e.c.CreateInvoice(ctx(t), e.cr, razorpay.InvoiceInput{CustomerID: cust.ID, Currency: "INR", Receipt: "RB-EVERY-1", Description: "Invoice RB-EVERY-1",
		LineItems: []razorpay.InvoiceLineItem{{Name: "Fee", Description: "Monthly", Amount: 10000, Quantity: 2, Currency: "INR"}},
		ExpireBy:  time.Now().Add(48 * time.Hour), SMSNotify: true, EmailNotify: true, PartialPayment: true, Notes: notes})
	if err != nil {
		t.Fatal("invoice:", err)
	}
	if _, err := e.c.CancelInvoice(ctx(t), e.cr, inv.ID); err != nil {
		t.Fatal("cancel invoice:", err)
	}
	in := razorpay.PaymentLinkInput{Amount: 50000, Currency: "INR", Description: "Invoice RB-EVERY-2", ReferenceID: "pay_rb_every",
		AcceptPartial: true, FirstMinPartialAmount: 10000, Customer: razorpay.LinkCustomer{Name: "Every Field", Email: "every@example.com", Contact: "+919876543210"},
		NotifySMS: true, NotifyEmail: true, ReminderEnable: true, Notes: notes, CallbackURL: "https://merchant.example/paid", ExpireBy: time.Now().Add(24 * time.Hour)}
	l, err := e.c.CreatePaymentLink(ctx(t), e.cr, in)
	if err != nil {
		t.Fatal("link:", err)
	}
	in.ReferenceID = "pay_rb_every2"
	l2, err := e.c.CreatePaymentLink(ctx(t), e.cr, in)
	if err != nil {
		t.Fatal("link:", err)
	}
	if _, err := e.c.CancelPaymentLink(ctx(t), e.cr, l2.ID); err != nil {
		t.Fatal("cancel link:", err)
	}
	res, err := e.sim.PayPaymentLink(l.ID, razorpaysim.PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Refund(ctx(t), e.cr, res.PaymentID, razorpay.RefundInput{Amount: 10000, Notes: notes, Receipt: "RB-EVERY-R1", IdempotencyKey: "rfd_every_0001"}); err != nil {
		t.Fatal("refund:", err)
	}
}
