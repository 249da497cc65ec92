package relay

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/logx"
)

func load(t *testing.T, name string) events.DynamoDBEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "dynamodb", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// fakeQueue records what is enqueued (a pure unit test of the mapping; the
// relay runs against the real stream and SQS in internal/localstack's tests).
type fakeQueue struct {
	got    []billing.SyncRequest
	failAt int
}

func (q *fakeQueue) EnqueueSync(_ context.Context, r billing.SyncRequest) error {
	if q.failAt > 0 && len(q.got)+1 == q.failAt {
		return apperr.E(apperr.Transient, "queue_unavailable", "down")
	}
	q.got = append(q.got, r)
	return nil
}

func TestSampleRecordsMapToSyncRequests(t *testing.T) {
	t.Parallel()
	for file, want := range map[string]billing.SyncRequest{
		"customer-insert.json":   {Kind: billing.SyncCustomer, TenantID: "tnt_01jh0000000000000000000000", EnvironmentID: "env_01jh0000000000000000000001", ID: "cus_01jh0000000000000000000002", Reason: "created"},
		"invoice-finalized.json": {Kind: billing.SyncInvoice, TenantID: "tnt_01jh0000000000000000000000", EnvironmentID: "env_01jh0000000000000000000001", ID: "inv_01jh0000000000000000000003", Reason: "finalized"},
		"invoice-issued.json":    {Kind: billing.SyncInvoice, TenantID: "tnt_01jh0000000000000000000000", EnvironmentID: "env_01jh0000000000000000000001", ID: "inv_01jh0000000000000000000003", Reason: "issued"},
	} {
		q := &fakeQueue{}
		r := &Relay{Queue: q, Log: logx.New(io.Discard, "error")}
		resp, err := r.Handle(context.Background(), load(t, file))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: %v %v", file, err, resp)
		}
		if len(q.got) != 1 || q.got[0] != want {
			t.Errorf("%s: got %+v, want %+v", file, q.got, want)
		}
	}
}

func TestOtherChangesAreIgnored(t *testing.T) {
	t.Parallel()
	ev := load(t, "invoice-finalized.json")
	rec := ev.Records[0]
	rec.Change.OldImage["invoice_status"] = events.NewStringAttribute("FINALIZED") // FINALIZED → FINALIZED (a payment landed)
	if _, ok := Request(rec); ok {
		t.Fatal("an invoice update that is not DRAFT→FINALIZED was relayed")
	}
	rec.Change.OldImage["invoice_status"] = events.NewStringAttribute("DRAFT")
	rec.Change.NewImage["invoice_status"] = events.NewStringAttribute("VOIDED")
	if _, ok := Request(rec); ok {
		t.Fatal("DRAFT→VOIDED was relayed")
	}
	c := load(t, "customer-insert.json").Records[0]
	c.EventName = "REMOVE"
	if _, ok := Request(c); ok {
		t.Fatal("a REMOVE was relayed")
	}
}

func TestCustomerBecameSyncedRetriesItsInvoices(t *testing.T) {
	t.Parallel()
	c := load(t, "customer-insert.json").Records[0]
	c.EventName = "MODIFY"
	c.Change.OldImage = map[string]events.DynamoDBAttributeValue{"entity": events.NewStringAttribute("customer"), "sync_status": events.NewStringAttribute("PENDING")}
	c.Change.NewImage["sync_status"] = events.NewStringAttribute("SYNCED")
	req, ok := Request(c)
	if !ok || req.Kind != billing.SyncCustomerSynced || req.ID != "cus_01jh0000000000000000000002" {
		t.Fatalf("got %+v %v", req, ok)
	}
}

func TestFailureReportsTheSequenceNumberToRetryFrom(t *testing.T) {
	t.Parallel()
	ev := events.DynamoDBEvent{Records: append(load(t, "customer-insert.json").Records, load(t, "invoice-finalized.json").Records...)}
	q := &fakeQueue{failAt: 2}
	r := &Relay{Queue: q, Log: logx.New(io.Discard, "error")}
	resp, err := r.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "111100000000000000002" {
		t.Fatalf("failures: %+v", resp.BatchItemFailures)
	}
	if len(q.got) != 1 {
		t.Fatalf("sent %d", len(q.got))
	}
}

// TestScopeFromTheKeyOrTheOlderCopies: invoices and customers no longer
// carry tenant_id/environment_id copies (the samples have none): the scope
// is read from the record's key. An item written before that still
// carries them and is relayed from them when its key does not read as
// ours; a record with neither is not relayed.
func TestScopeFromTheKeyOrTheOlderCopies(t *testing.T) {
	t.Parallel()
	rec := load(t, "invoice-finalized.json").Records[0]
	if _, ok := rec.Change.NewImage["tenant_id"]; ok {
		t.Fatal("the sample still carries tenant_id")
	}
	req, ok := Request(rec)
	if !ok || req.TenantID != "tnt_01jh0000000000000000000000" || req.EnvironmentID != "env_01jh0000000000000000000001" {
		t.Fatalf("from the key: %+v %v", req, ok)
	}
	older := load(t, "invoice-finalized.json").Records[0]
	older.Change.Keys = map[string]events.DynamoDBAttributeValue{"PK": events.NewStringAttribute("legacy"), "SK": events.NewStringAttribute("A")}
	older.Change.NewImage["tenant_id"] = events.NewStringAttribute("tnt_01jh0000000000000000000007")
	older.Change.NewImage["environment_id"] = events.NewStringAttribute("env_01jh0000000000000000000008")
	if req, ok := Request(older); !ok || req.TenantID != "tnt_01jh0000000000000000000007" || req.EnvironmentID != "env_01jh0000000000000000000008" {
		t.Fatalf("from the copies: %+v %v", req, ok)
	}
	delete(older.Change.NewImage, "tenant_id")
	if req, ok := Request(older); ok {
		t.Fatalf("a record with no readable scope was relayed: %+v", req)
	}
	// A key of another shape (a ref, an id with '#') is not read as a scope.
	odd := load(t, "invoice-finalized.json").Records[0]
	odd.Change.Keys["PK"] = events.NewStringAttribute("S#tnt_01jh0000000000000000000000#env_01jh0000000000000000000001#RZP#inv_x")
	if req, ok := Request(odd); ok {
		t.Fatalf("a key of another shape gave a scope: %+v", req)
	}
}
