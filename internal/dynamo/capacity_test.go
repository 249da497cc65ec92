package dynamo_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
	"github.com/razorbill/razorbill/internal/reconcile"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// metered is the DynamoDB client with ReturnConsumedCapacity: INDEXES on
// every write, totalling the write capacity units DynamoDB Local reports
// for the table and for each global secondary index. DynamoDB Local's table
// figure for a transaction does not follow the item sizes (it reported 6
// for three items and for four), so metered also works out the table's
// units as DynamoDB documents them: per item written, 1 per started KB of
// the larger of the item before and after (it reads the item before), twice
// that in a transaction. Only Puts are priced that way (the money path
// writes nothing else); other writes are counted as DynamoDB Local reports.
type metered struct {
	*ddbjson.Client
	mu       sync.Mutex
	reported float64 // DynamoDB Local's table units
	billed   float64 // the table's units from item sizes
	index    map[string]float64
	writes   []string // one line per write call, for the log
	reads    []string // the key of each item read (GetItem, BatchGetItem)
	requests []string // each read request: its operation and number of keys
}

func (m *metered) GetItem(ctx context.Context, in *ddbjson.GetItemInput) (*ddbjson.GetItemOutput, error) {
	m.mu.Lock()
	m.reads = append(m.reads, keyString(in.Key))
	m.requests = append(m.requests, "GetItem 1")
	m.mu.Unlock()
	return m.Client.GetItem(ctx, in)
}

func (m *metered) BatchGetItem(ctx context.Context, in *ddbjson.BatchGetItemInput) (*ddbjson.BatchGetItemOutput, error) {
	m.mu.Lock()
	n := 0
	for _, ka := range in.RequestItems {
		for _, k := range ka.Keys {
			m.reads = append(m.reads, keyString(k))
			n++
		}
	}
	m.requests = append(m.requests, "BatchGetItem "+jsonOf(n))
	m.mu.Unlock()
	return m.Client.BatchGetItem(ctx, in)
}

func keyString(k map[string]types.AttributeValue) string {
	return aws.ToString(attrString(k["PK"])) + " " + aws.ToString(attrString(k["SK"]))
}

func attrString(v types.AttributeValue) *string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return &s.Value
	}
	return nil
}

func newMetered(c *ddbjson.Client) *metered { return &metered{Client: c, index: map[string]float64{}} }

func (m *metered) add(op string, billed float64, ccs ...types.ConsumedCapacity) {
	m.mu.Lock()
	defer m.mu.Unlock()
	line := op + " billed(table)=" + jsonOf(billed)
	m.billed += billed
	for _, cc := range ccs {
		line += " reported: total=" + jsonOf(aws.ToFloat64(cc.CapacityUnits))
		if cc.Table != nil {
			m.reported += aws.ToFloat64(cc.Table.CapacityUnits)
			line += " table=" + jsonOf(aws.ToFloat64(cc.Table.CapacityUnits))
		}
		for name, c := range cc.GlobalSecondaryIndexes {
			m.index[name] += aws.ToFloat64(c.CapacityUnits)
			line += " " + name + "=" + jsonOf(aws.ToFloat64(c.CapacityUnits))
		}
	}
	m.writes = append(m.writes, line)
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

// readLog is the items read and the read requests since reset.
func (m *metered) readLog() (reads, requests []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.reads...), append([]string(nil), m.requests...)
}

func (m *metered) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reported, m.billed, m.index, m.writes, m.reads, m.requests = 0, 0, map[string]float64{}, nil, nil, nil
}

// total is the table's units (from item sizes), DynamoDB Local's figure
// for the table, and the indexes' units (DynamoDB Local's).
func (m *metered) total() (billed, reported, index float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.index {
		index += v
	}
	return m.billed, m.reported, index
}

// putUnits is what writing it costs outside a transaction: 1 unit per
// started KB of the larger of the stored item and it.
func (m *metered) putUnits(ctx context.Context, table string, it map[string]types.AttributeValue) float64 {
	size := testenv.ItemSize(it)
	old, err := m.Client.GetItem(ctx, &ddbjson.GetItemInput{TableName: &table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]}})
	if err == nil && old.Item != nil {
		size = max(size, testenv.ItemSize(old.Item))
	}
	return float64((size + 1023) / 1024)
}

func (m *metered) PutItem(ctx context.Context, in *ddbjson.PutItemInput) (*ddbjson.PutItemOutput, error) {
	units := m.putUnits(ctx, aws.ToString(in.TableName), in.Item)
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.Client.PutItem(ctx, in)
	if err == nil && out.ConsumedCapacity != nil {
		m.add("PutItem", units, *out.ConsumedCapacity)
	}
	return out, err
}

func (m *metered) UpdateItem(ctx context.Context, in *ddbjson.UpdateItemInput) (*ddbjson.UpdateItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.Client.UpdateItem(ctx, in)
	if err == nil && out.ConsumedCapacity != nil {
		m.add("UpdateItem", aws.ToFloat64(out.ConsumedCapacity.Table.CapacityUnits), *out.ConsumedCapacity)
	}
	return out, err
}

func (m *metered) DeleteItem(ctx context.Context, in *ddbjson.DeleteItemInput) (*ddbjson.DeleteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.Client.DeleteItem(ctx, in)
	if err == nil && out.ConsumedCapacity != nil {
		m.add("DeleteItem", aws.ToFloat64(out.ConsumedCapacity.Table.CapacityUnits), *out.ConsumedCapacity)
	}
	return out, err
}

func (m *metered) TransactWriteItems(ctx context.Context, in *ddbjson.TransactWriteItemsInput) (*ddbjson.TransactWriteItemsOutput, error) {
	var units float64
	for _, ti := range in.TransactItems {
		if ti.Put == nil {
			panic("metered prices only Puts in a transaction")
		}
		units += 2 * m.putUnits(ctx, aws.ToString(ti.Put.TableName), ti.Put.Item)
	}
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.Client.TransactWriteItems(ctx, in)
	if err == nil {
		m.add("TransactWriteItems", units, out.ConsumedCapacity...)
	}
	return out, err
}

// capturedFixture is a FINALIZED invoice of one line with an open payment
// link payment, as payments.Service leaves them, on DynamoDB Local, and a
// reconciler whose environment is connected to a Razorpay simulator.
type capturedFixture struct {
	db    *metered
	store *dynamo.Store
	rec   *reconcile.Reconciler
	sc    billing.Scope
	sim   *razorpaysim.Simulator
	rzp   *razorpay.Client
	cr    razorpay.Credentials
	inv   billing.Invoice
	pay   billing.Payment
}

func newCapturedFixture(t *testing.T, ctx context.Context) *capturedFixture {
	t.Helper()
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
	f := &capturedFixture{db: db, store: store, sim: sim, rzp: client, cr: razorpay.Credentials{KeyID: a.KeyID, KeySecret: a.KeySecret},
		sc:  billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)},
		rec: &reconcile.Reconciler{Store: store, Gateway: client, Secrets: box, Log: logx.New(io.Discard, "error")}}
	sealed, err := box.Seal(ctx, a.KeySecret, f.sc.TenantID+"/"+f.sc.EnvironmentID+"/key_secret")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := store.PutConnection(ctx, billing.Connection{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, KeyID: a.KeyID, KeySecretSealed: sealed,
		Status: billing.ConnectionActive, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	due := now.Add(30 * 24 * time.Hour)
	inv := billing.Invoice{ID: ids.New(ids.Invoice), CustomerID: ids.New(ids.Customer), Currency: "INR", InvoiceNumber: "INV-000123", DueDate: &due,
		LineItems: []billing.LineItem{{DisplayName: "Pro plan, monthly", PriceType: "FIXED", Quantity: "1", UnitAmount: "500.00", Amount: 50000}},
		Subtotal:  50000, AmountDue: 50000, InvoiceStatus: billing.InvoiceFinalized, PaymentStatus: billing.PaymentPending, SyncStatus: billing.SyncNotSynced,
		Metadata: map[string]string{}, FinalizedAt: &now, CreatedAt: now, UpdatedAt: now, Version: 2}
	if err := store.CreateInvoice(ctx, f.sc, inv); err != nil {
		t.Fatal(err)
	}
	l, err := client.CreatePaymentLink(ctx, f.cr, razorpay.PaymentLinkInput{Amount: 50000, Currency: "INR", ReferenceID: ids.New("r")})
	if err != nil {
		t.Fatal(err)
	}
	pay := billing.Payment{ID: ids.New(ids.Payment), DestinationID: inv.ID, DestinationType: "INVOICE", CustomerID: inv.CustomerID, Amount: 50000, Currency: "INR",
		PaymentStatus: billing.PaymentPending, PaymentMethodType: "PAYMENT_LINK", PaymentGateway: "razorpay", ProcessPayment: true,
		SuccessURL: "https://example.com/billing/thanks", GatewayTrackingID: l.ID, PaymentURL: l.ShortURL,
		Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now, Version: 1}
	expected := inv.Version
	inv.Version++
	inv.OpenPaymentID, inv.UpdatedAt = pay.ID, now
	if err := store.SavePaymentAndInvoice(ctx, f.sc, pay, 0, inv, expected, map[string]string{l.ID: pay.ID}); err != nil {
		t.Fatal(err)
	}
	f.inv, f.pay = inv, pay
	return f
}

// deliver hands the reconciler one queued event, as the SQS poller does,
// and fails the test unless it is done.
func (f *capturedFixture) deliver(t *testing.T, event, body string) {
	t.Helper()
	m, _ := json.Marshal(billing.EventMessage{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, Event: event, EventID: ids.New("evt"),
		ReceivedAt: time.Now().UTC(), Body: body})
	resp, err := f.rec.HandleSQS(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: ids.New("msg"), Body: string(m),
		Attributes: map[string]string{"MessageGroupId": f.inv.ID}}}})
	if err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("%s: %v %v", event, resp.BatchItemFailures, err)
	}
}

// captured is a payment.captured webhook body for a payment of this
// fixture's link, paid at the simulator.
func (f *capturedFixture) captured(t *testing.T) (body, rzpPaymentID string) {
	t.Helper()
	res, err := f.sim.PayPaymentLink(f.pay.GatewayTrackingID, razorpaysim.PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	notes := map[string]string{"razorbill_payment_id": f.pay.ID, "razorbill_invoice_id": f.inv.ID}
	b, _ := json.Marshal(map[string]any{"entity": "event", "account_id": "acc_test", "event": "payment.captured", "contains": []string{"payment"},
		"payload": map[string]any{"payment": map[string]any{"entity": map[string]any{"id": res.PaymentID, "entity": "payment", "amount": 50000, "currency": "INR",
			"status": "captured", "method": "upi", "order_id": res.OrderID, "invoice_id": nil, "notes": notes, "error_code": nil, "error_description": nil,
			"created_at": time.Now().Unix()}}}, "created_at": time.Now().Unix()})
	return string(b), res.PaymentID
}

// MaxCapturedWRU is the most write capacity units (the table's from item
// sizes, the indexes' as DynamoDB Local reports them) applying one
// payment.captured to an invoice may cost: the marker, the payment and the
// invoice (1 KB each) in a transaction, and the payment leaving the
// open-instruments index. The paid payment link's item here (a success_url,
// no metadata of the client's) is 1,001 bytes; it was 1,124 while it stored
// zero amounts and attempts, and the link's and the Razorpay payment's ids
// a second time in its metadata (the API shows those from
// gateway_tracking_id and gateway_payment_id), and that 2 KB payment made
// the apply cost 10. With every attribute projected into the indexes, a
// separate ref item for the Razorpay payment and copies of the id and scope
// on the items, the same apply cost 26: DynamoDB Local reported 24 (table
// 8, GSI1 6, GSI2 6, GSI3 4), its table figure 2 below the item sizes' 10
// (marker, ref, a 1.28 KB payment and a 1.02 KB invoice).
const MaxCapturedWRU = 8

// MaxCapturedReads is the items read applying one payment.captured.
const MaxCapturedReads = 4

// TestCapturedApplyWriteCapacity meters the writes of applying one
// payment.captured (the money transaction and everything else the
// reconciler writes for it) and bounds their write capacity units.
func TestCapturedApplyWriteCapacity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCapturedFixture(t, ctx)
	body, rp := f.captured(t)
	f.db.reset()
	if err := f.rec.Apply(ctx, f.sc, billing.EventMessage{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, Event: "payment.captured", Body: body}); err != nil {
		t.Fatal(err)
	}
	table, reported, index := f.db.total()
	reads, _ := f.db.readLog()
	for _, w := range f.db.writes {
		t.Log(w)
	}
	t.Logf("payment.captured: %.1f WRU (table %.1f from item sizes, DynamoDB Local reports %.1f; indexes %.1f)", table+index, table, reported, index)
	inv, err := f.store.Invoice(ctx, f.sc, f.inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if inv.AmountPaid != 50000 || inv.PaymentStatus != billing.PaymentSucceeded {
		t.Fatalf("the capture was not applied: %+v", inv)
	}
	if _, ok, err := f.store.Applied(ctx, f.sc, rp); err != nil || !ok {
		t.Fatalf("no marker for %s: %v %v", rp, ok, err)
	}
	// The marker is the ref Razorpay payment → ours: no item of its own.
	if ours, ok, err := f.store.Ref(ctx, f.sc, rp); err != nil || !ok || ours != f.pay.ID {
		t.Fatalf("Ref(%s) = %q %v %v, want %s", rp, ours, ok, err, f.pay.ID)
	}
	refItem, err := f.db.Client.GetItem(ctx, &ddbjson.GetItemInput{TableName: aws.String(f.store.Table()), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "S#" + f.sc.TenantID + "#" + f.sc.EnvironmentID + "#RZP#" + rp}, "SK": &types.AttributeValueMemberS{Value: "REF"}}})
	if err != nil || refItem.Item != nil {
		t.Fatalf("a ref item for %s was written: %v %v", rp, refItem.Item, err)
	}
	for _, k := range []string{f.pay.ID, f.inv.ID} {
		res, err := f.db.Client.GetItem(ctx, &ddbjson.GetItemInput{TableName: aws.String(f.store.Table()), Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "S#" + f.sc.TenantID + "#" + f.sc.EnvironmentID + "#" + k}, "SK": &types.AttributeValueMemberS{Value: "A"}}})
		if err != nil {
			t.Fatal(err)
		}
		sizes := map[string]int{}
		for a, v := range res.Item {
			sizes[a] = len(a) + testenv.ValueSize(v)
		}
		t.Logf("%s: %d bytes %v", k, testenv.ItemSize(res.Item), sizes)
	}
	// The connection, the marker (absent), the payment and the invoice: the
	// marker is read once, not again as the Razorpay payment's ref, and the
	// Razorpay order's ref, which Razorbill never writes, is not looked for.
	if len(reads) != MaxCapturedReads {
		t.Errorf("applying payment.captured read %d items, want %d: %v", len(reads), MaxCapturedReads, reads)
	}
	if table+index > MaxCapturedWRU {
		t.Errorf("applying payment.captured cost %.1f WRU (table %.1f, indexes %.1f), more than %d", table+index, table, index, MaxCapturedWRU)
	}
}

// TestACapturedWebhookIsReadInTwoRequests: the payment-reconciler reads
// what applying a payment.captured needs — the connection, the Razorpay
// payment's marker (absent), the payment and the invoice — in two
// BatchGetItem requests instead of four GetItems, each item once, and a
// payment_link.paid for the same payment after it (already applied) in one.
func TestACapturedWebhookIsReadInTwoRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCapturedFixture(t, ctx)
	body, rp := f.captured(t)
	f.db.reset()
	f.deliver(t, "payment.captured", body)
	reads, requests := f.db.readLog()
	inv, err := f.store.Invoice(ctx, f.sc, f.inv.ID)
	if err != nil || inv.AmountPaid != 50000 || inv.PaymentStatus != billing.PaymentSucceeded {
		t.Fatalf("the capture was not applied: %+v %v", inv, err)
	}
	want := []string{"BatchGetItem 2", "BatchGetItem 2"}
	if !slices.Equal(requests, want) {
		t.Errorf("payment.captured: read requests %v, want %v (items %v)", requests, want, reads)
	}
	if len(reads) != MaxCapturedReads {
		t.Errorf("payment.captured read %d items, want %d: %v", len(reads), MaxCapturedReads, reads)
	}

	f.db.reset()
	var link map[string]any
	_ = json.Unmarshal([]byte(body), &link)
	link["event"] = "payment_link.paid"
	link["payload"].(map[string]any)["payment_link"] = map[string]any{"entity": map[string]any{"id": f.pay.GatewayTrackingID, "entity": "payment_link",
		"status": "paid", "amount": 50000, "amount_paid": 50000, "currency": "INR", "reference_id": f.pay.ID}}
	b, _ := json.Marshal(link)
	f.deliver(t, "payment_link.paid", string(b))
	reads, requests = f.db.readLog()
	if want := []string{"BatchGetItem 2"}; !slices.Equal(requests, want) {
		t.Errorf("payment_link.paid after it: read requests %v, want %v (items %v)", requests, want, reads)
	}
	if inv, err := f.store.Invoice(ctx, f.sc, f.inv.ID); err != nil || inv.AmountPaid != 50000 {
		t.Fatalf("the payment was counted again: %+v %v", inv, err)
	}
	if _, ok, err := f.store.Applied(ctx, f.sc, rp); err != nil || !ok {
		t.Fatalf("no marker for %s: %v %v", rp, ok, err)
	}
}

// racingStore is the store with another writer changing the invoice just
// before the reconciler's first money transaction, which so loses its
// version race.
type racingStore struct {
	*dynamo.Store
	raced bool
}

func (s *racingStore) ApplyMoney(ctx context.Context, sc billing.Scope, m dynamo.Marker, p billing.Payment, expectedPayment int64, inv billing.Invoice, expectedInvoice int64, refs ...map[string]string) error {
	if !s.raced {
		s.raced = true
		cur, err := s.Invoice(context.Background(), sc, inv.ID)
		if err != nil {
			return err
		}
		expected := cur.Version
		cur.Version++
		cur.Metadata = map[string]string{"po": "PO-7"}
		if err := s.UpdateInvoice(context.Background(), sc, cur, expected); err != nil {
			return err
		}
	}
	return s.Store.ApplyMoney(ctx, sc, m, p, expectedPayment, inv, expectedInvoice, refs...)
}

// TestARetryAfterALostRaceReadsAfresh: when the money transaction loses a
// version race, the next attempt reads the payment and the invoice from
// the table with GetItems — not from the first attempt's BatchGetItem — so
// it applies the money once, on the invoice as the other writer left it.
func TestARetryAfterALostRaceReadsAfresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCapturedFixture(t, ctx)
	body, _ := f.captured(t)
	racing := &racingStore{Store: f.store}
	f.rec.Store = racing
	f.db.reset()
	f.deliver(t, "payment.captured", body)
	if !racing.raced {
		t.Fatal("the race was not run")
	}
	reads, requests := f.db.readLog()
	// connection + marker; payment + invoice; the racer's invoice read; the
	// retry's marker (as the Razorpay payment's ref), payment and invoice,
	// each from the table.
	want := []string{"BatchGetItem 2", "BatchGetItem 2", "GetItem 1", "GetItem 1", "GetItem 1", "GetItem 1"}
	if !slices.Equal(requests, want) {
		t.Errorf("read requests %v, want %v", requests, want)
	}
	if len(reads) == 8 && (reads[6] != reads[2] || reads[7] != reads[3]) {
		t.Errorf("the retry read %v, want the payment and invoice again (%v)", reads[6:], reads[2:4])
	}
	inv, err := f.store.Invoice(ctx, f.sc, f.inv.ID)
	if err != nil || inv.AmountPaid != 50000 || inv.PaymentStatus != billing.PaymentSucceeded || inv.Metadata["po"] != "PO-7" {
		t.Fatalf("invoice after the retry: %+v %v", inv, err)
	}
}
