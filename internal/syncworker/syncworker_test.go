package syncworker

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

// Pure unit tests of the consumers' routing and failure reporting with fakes;
// the same consumers run against the real queues, table and simulator in
// internal/localstack's sync tests.

type fakeSyncer struct {
	customers, invoices []string
	forced              []bool
	err                 error
	awaiting            []billing.Invoice
}

func (f *fakeSyncer) SyncCustomer(_ context.Context, _ billing.Scope, id string) (billing.Customer, error) {
	f.customers = append(f.customers, id)
	return billing.Customer{ID: id}, f.err
}

func (f *fakeSyncer) SyncInvoice(_ context.Context, _ billing.Scope, id string, force bool) (billing.Invoice, error) {
	f.invoices = append(f.invoices, id)
	f.forced = append(f.forced, force)
	return billing.Invoice{ID: id}, f.err
}

func (f *fakeSyncer) InvoicesAwaitingCustomer(context.Context, billing.Scope, string) ([]billing.Invoice, error) {
	return f.awaiting, nil
}

type fakeStore struct {
	conn     billing.Connection
	customer billing.Customer
	updated  []billing.Customer
}

func (s *fakeStore) Connection(context.Context, billing.Scope) (billing.Connection, bool, error) {
	return s.conn, s.conn.Status != "", nil
}
func (s *fakeStore) Customer(context.Context, billing.Scope, string) (billing.Customer, error) {
	return s.customer, nil
}
func (s *fakeStore) UpdateCustomer(_ context.Context, _ billing.Scope, c billing.Customer, _ int64) error {
	s.updated = append(s.updated, c)
	return nil
}
func (s *fakeStore) Invoice(context.Context, billing.Scope, string) (billing.Invoice, error) {
	return billing.Invoice{}, nil
}
func (s *fakeStore) UpdateInvoice(context.Context, billing.Scope, billing.Invoice, int64) error {
	return nil
}

func load(t *testing.T, name string) events.SQSEvent {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "sqs", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestCustomerCreatedSyncsOnlyForOnCreateConnections(t *testing.T) {
	t.Parallel()
	for mode, want := range map[string]int{billing.CustomerSyncOnCreate: 1, billing.CustomerSyncOnDemand: 0} {
		sy := &fakeSyncer{}
		w := &Worker{Syncer: sy, Store: &fakeStore{conn: billing.Connection{Status: billing.ConnectionActive, CustomerSync: mode}}, Log: logx.New(io.Discard, "error")}
		resp, err := w.HandleCustomers(context.Background(), load(t, "customer-sync.json"))
		if err != nil || len(resp.BatchItemFailures) != 0 || len(sy.customers) != want {
			t.Errorf("%s: %v %+v synced %v", mode, err, resp, sy.customers)
		}
	}
}

func TestInvoiceSyncAndCustomerSyncedRetrigger(t *testing.T) {
	t.Parallel()
	sy := &fakeSyncer{awaiting: []billing.Invoice{{ID: "inv_waiting"}}}
	w := &Worker{Syncer: sy, Store: &fakeStore{}, Log: logx.New(io.Discard, "error")}
	resp, err := w.HandleInvoices(context.Background(), load(t, "invoice-sync.json"))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v %+v", err, resp)
	}
	if len(sy.invoices) != 2 || sy.invoices[0] != "inv_01jh0000000000000000000003" || sy.forced[0] || sy.invoices[1] != "inv_waiting" || !sy.forced[1] {
		t.Fatalf("synced %v forced %v", sy.invoices, sy.forced)
	}
}

func TestTransientFailuresAreRetriedAndMarkedFailedOnTheLastAttempt(t *testing.T) {
	t.Parallel()
	sy := &fakeSyncer{err: apperr.E(apperr.Transient, "razorpay_unavailable", "Razorpay is unavailable")}
	st := &fakeStore{conn: billing.Connection{Status: billing.ConnectionActive, CustomerSync: billing.CustomerSyncOnCreate}, customer: billing.Customer{ID: "cus_1", Version: 3}}
	w := &Worker{Syncer: sy, Store: st, Log: logx.New(io.Discard, "error"), MaxReceiveCount: 6}
	ev := load(t, "customer-sync.json")
	resp, _ := w.HandleCustomers(context.Background(), ev)
	if len(resp.BatchItemFailures) != 1 || len(st.updated) != 0 {
		t.Fatalf("first attempt: %+v, updated %d", resp, len(st.updated))
	}
	ev.Records[0].Attributes["ApproximateReceiveCount"] = "6"
	resp, _ = w.HandleCustomers(context.Background(), ev)
	if len(resp.BatchItemFailures) != 1 || len(st.updated) != 1 || st.updated[0].SyncStatus != billing.SyncFailed || st.updated[0].SyncError == "" {
		t.Fatalf("last attempt: %+v, updated %+v", resp, st.updated)
	}
	// a permanent failure is recorded by the syncer and the message is done
	sy.err = apperr.E(apperr.Permanent, "razorpay_bad_request", "bad")
	resp, _ = w.HandleCustomers(context.Background(), load(t, "customer-sync.json"))
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("permanent failure retried: %+v", resp)
	}
	// a malformed message is reported, not dropped
	bad := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: "{"}}}
	if resp, _ := w.HandleCustomers(context.Background(), bad); len(resp.BatchItemFailures) != 1 {
		t.Fatalf("malformed: %+v", resp)
	}
}
