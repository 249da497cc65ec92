package webhook_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/schema"
)

// groups receives n queued messages and returns event id → message group.
func (f *fixture) groups(n int) map[string]string {
	f.t.Helper()
	out := map[string]string{}
	url := aws.String(f.env.QueueURL(schema.RazorpayEvents))
	deadline := time.Now().Add(20 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		res, err := f.env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
		if err != nil {
			f.t.Fatal(err)
		}
		for _, m := range res.Messages {
			out[fmt.Sprint(len(out))] = m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
			if _, err := f.env.SQS.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				f.t.Fatal(err)
			}
		}
	}
	return out
}

// Item 1: every event about one invoice shares one FIFO message group,
// whichever entity carries it — also when only Razorpay ids name it.
func TestEventsOfOneInvoiceShareOneGroup(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.recv.Refs = f.store
	ctx := context.Background()
	inv := ids.New(ids.Invoice)
	pay := billing.Payment{ID: ids.New(ids.Payment), DestinationID: inv, DestinationType: "INVOICE", Amount: 7000, Currency: "INR",
		PaymentStatus: billing.PaymentPending, Metadata: map[string]string{}, CreatedAt: time.Now(), UpdatedAt: time.Now(), Version: 1}
	// pay_RZgroup1 applied to the payment: its marker is the ref pay_ → ours.
	invoice := billing.Invoice{ID: inv, CustomerID: ids.New(ids.Customer), Currency: "INR", InvoiceNumber: "INV-G1", AmountDue: 7000,
		InvoiceStatus: billing.InvoiceFinalized, PaymentStatus: billing.PaymentPending, Metadata: map[string]string{}, CreatedAt: time.Now(), UpdatedAt: time.Now(), Version: 1}
	if err := f.store.CreateInvoice(ctx, f.sc, invoice); err != nil {
		t.Fatal(err)
	}
	invoice.Version = 2
	if err := f.store.ApplyMoney(ctx, f.sc, dynamo.Marker{RazorpayPaymentID: "pay_RZgroup1", PaymentID: pay.ID, InvoiceID: inv, Amount: 7000}, pay, 0, invoice, 1,
		map[string]string{"pay_RZgroup1": pay.ID}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.PutRef(ctx, f.sc, "inv_RZgroup1", inv); err != nil {
		t.Fatal(err)
	}
	bodies := []string{
		// payment.captured at the synced invoice's short_url: only invoice_id names it
		`{"entity":"event","event":"payment.captured","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_RZgroup1","amount":7000,"currency":"INR","status":"captured","order_id":"order_RZ1","invoice_id":"inv_RZgroup1","notes":[]}}},"created_at":1795400000}`,
		// invoice.paid: the invoice's notes name ours
		`{"entity":"event","event":"invoice.paid","contains":["invoice","payment"],"payload":{"invoice":{"entity":{"id":"inv_RZgroup1","notes":{"razorbill_invoice_id":"` + inv + `"}}},"payment":{"entity":{"id":"pay_RZgroup1","invoice_id":"inv_RZgroup1","notes":[]}}},"created_at":1795400001}`,
		// payment_link.expired of a link without notes: its reference_id (our payment, no ref item) → invoice
		`{"entity":"event","event":"payment_link.expired","contains":["payment_link"],"payload":{"payment_link":{"entity":{"id":"plink_RZgroup1","reference_id":"` + pay.ID + `","notes":[]}}},"created_at":1795400002}`,
		// refund.processed: refunded Razorpay payment → payment → invoice
		`{"entity":"event","event":"refund.processed","contains":["refund"],"payload":{"refund":{"entity":{"id":"rfnd_RZ1","payment_id":"pay_RZgroup1","amount":100,"notes":[]}}},"created_at":1795400003}`,
	}
	for i, b := range bodies {
		h := signed(b, secret)
		h["X-Razorpay-Event-Id"] = fmt.Sprint("evt_group_", i)
		if resp := f.post(f.path(), b, h); resp.StatusCode != 200 {
			t.Fatalf("event %d: %d %s", i, resp.StatusCode, resp.Body)
		}
	}
	want := f.sc.TenantID + "/" + f.sc.EnvironmentID + "/" + inv
	got := f.groups(len(bodies))
	if len(got) != len(bodies) {
		t.Fatalf("received %d of %d", len(got), len(bodies))
	}
	for k, g := range got {
		if g != want {
			t.Errorf("message %s in group %q, want %q", k, g, want)
		}
	}
}
