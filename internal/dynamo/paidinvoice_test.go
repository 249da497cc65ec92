package dynamo_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/payments"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
	"github.com/razorbill/razorbill/internal/reconcile"
	"github.com/razorbill/razorbill/internal/rzsync"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/testenv"
)

// MaxPaidInvoiceWRU bounds the write capacity units (metered as in
// TestCapturedApplyWriteCapacity) of one invoice paid through a payment
// link: its customer, the invoice, the link (customer synced to Razorpay,
// payment claimed, link stored), payment.captured and payment_link.paid.
// With every attribute projected into the indexes, a ref item per applied
// Razorpay payment and copies of ids on the items it cost 64 (customer 6,
// invoice 11, link 21, payment.captured 26, payment_link.paid 0).
const MaxPaidInvoiceWRU = 38

// TestPaidInvoiceWriteCapacity meters the whole write path of a paid
// invoice through the real services against DynamoDB Local and the
// Razorpay simulator, per step.
func TestPaidInvoiceWriteCapacity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.AWS(t)
	db := newMetered(env.DDB)
	store := dynamo.New(db, env.Table())
	sim := razorpaysim.New(razorpaysim.Options{ExpirySweep: -1})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	kek, _ := secrets.NewLocalKEK([]byte("0123456789abcdef0123456789abcdef"))
	box := secrets.NewBox(kek)
	client := razorpay.NewClient(razorpay.Config{BaseURL: srv.URL, MaxRetries: -1})
	a := sim.DefaultAccount()
	sc := billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)}
	sealed, err := box.Seal(ctx, a.KeySecret, sc.TenantID+"/"+sc.EnvironmentID+"/key_secret")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := store.PutConnection(ctx, billing.Connection{TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID, Name: "test", KeyID: a.KeyID, KeySecretSealed: sealed,
		Status: billing.ConnectionActive, CustomerSync: "ON_DEMAND", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	rec := &reconcile.Reconciler{Store: store, Gateway: client, Secrets: box, Log: logx.New(io.Discard, "error")}
	svc := &payments.Service{Store: store, Gateway: client, Customers: &rzsync.Syncer{Store: store, Gateway: client, Secrets: box}, Secrets: box,
		Instruments: client, Applier: rec}

	total := 0.0
	step := func(name string, do func()) {
		t.Helper()
		db.reset()
		do()
		table, reported, index := db.total()
		for _, w := range db.writes {
			t.Log("  " + w)
		}
		t.Logf("%s: %.1f WRU (table %.1f from item sizes, DynamoDB Local reports %.1f; indexes %.1f)", name, table+index, table, reported, index)
		total += table + index
	}
	cus := billing.Customer{ID: ids.New(ids.Customer), ExternalID: ids.New(""), Name: "Ravi Kumar", Email: "ravi@example.com", Phone: "+919876543210",
		Metadata: map[string]string{}, SyncStatus: billing.SyncNotSynced, CreatedAt: now, UpdatedAt: now, Version: 1}
	step("customer", func() {
		if err := store.CreateCustomer(ctx, sc, cus); err != nil {
			t.Fatal(err)
		}
	})
	inv := billing.Invoice{ID: ids.New(ids.Invoice), CustomerID: cus.ID, Currency: "INR", InvoiceNumber: "INV-000042",
		LineItems: []billing.LineItem{{DisplayName: "Pro plan, monthly", PriceType: "FIXED", Quantity: "1", UnitAmount: "500.00", Amount: 50000}},
		Subtotal:  50000, AmountDue: 50000, InvoiceStatus: billing.InvoiceDraft, PaymentStatus: billing.PaymentPending, SyncStatus: billing.SyncNotSynced,
		Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now, Version: 1}
	step("invoice create + finalize", func() {
		if err := store.CreateInvoice(ctx, sc, inv); err != nil {
			t.Fatal(err)
		}
		inv.InvoiceStatus, inv.FinalizedAt, inv.Version = billing.InvoiceFinalized, &now, 2
		if err := store.UpdateInvoice(ctx, sc, inv, 1); err != nil {
			t.Fatal(err)
		}
	})
	var pay billing.Payment
	step("payment link", func() {
		if pay, err = svc.Create(ctx, sc, payments.CreateInput{Amount: "500.00", AmountSet: true, Currency: "inr", DestinationID: inv.ID,
			DestinationType: "INVOICE", PaymentMethodType: "PAYMENT_LINK"}); err != nil {
			t.Fatal(err)
		}
	})
	res, err := sim.PayPaymentLink(pay.GatewayTrackingID, razorpaysim.PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	notes := map[string]string{"razorbill_payment_id": pay.ID, "razorbill_invoice_id": inv.ID}
	payment := map[string]any{"entity": map[string]any{"id": res.PaymentID, "entity": "payment", "amount": 50000, "currency": "INR", "status": "captured", "method": "upi",
		"order_id": res.OrderID, "invoice_id": nil, "notes": notes, "error_code": nil, "error_description": nil, "created_at": now.Unix()}}
	deliver := func(name string, payload map[string]any) {
		contains := []string{}
		for k := range payload {
			contains = append(contains, k)
		}
		b, _ := json.Marshal(map[string]any{"entity": "event", "account_id": "acc_test", "event": name, "contains": contains, "payload": payload, "created_at": now.Unix()})
		if err := rec.Apply(ctx, sc, billing.EventMessage{TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID, Event: name, Body: string(b)}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	step("payment.captured", func() { deliver("payment.captured", map[string]any{"payment": payment}) })
	step("payment_link.paid", func() {
		deliver("payment_link.paid", map[string]any{"payment": payment,
			"payment_link": map[string]any{"entity": map[string]any{"id": pay.GatewayTrackingID, "entity": "payment_link", "amount": 50000, "amount_paid": 50000,
				"currency": "INR", "status": "paid", "notes": notes, "reference_id": pay.ID}},
			"order": map[string]any{"entity": map[string]any{"id": res.OrderID, "entity": "order", "amount": 50000, "amount_paid": 50000, "currency": "INR", "status": "paid"}}})
	})
	got, err := store.Invoice(ctx, sc, inv.ID)
	if err != nil || got.AmountPaid != 50000 || got.PaymentStatus != billing.PaymentSucceeded {
		t.Fatalf("invoice not paid exactly once: %+v %v", got, err)
	}
	raw, err := db.Client.GetItem(ctx, &ddbjson.GetItemInput{TableName: aws.String(store.Table()), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "S#" + sc.TenantID + "#" + sc.EnvironmentID + "#" + pay.ID}, "SK": &types.AttributeValueMemberS{Value: "A"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("paid invoice: %.1f WRU; the paid payment's item is %d bytes", total, testenv.ItemSize(raw.Item))
	if total > MaxPaidInvoiceWRU {
		t.Errorf("a paid invoice cost %.1f WRU, more than %d", total, MaxPaidInvoiceWRU)
	}
}
