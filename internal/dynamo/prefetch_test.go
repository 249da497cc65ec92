package dynamo_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/testenv"
)

// TestPrefetchAnswersEachFirstReadFromOneBatch: after Prefetch the first
// read of each named item — present, absent, or of another entity type
// than asked — is answered from one BatchGetItem exactly as a GetItem
// would answer it; a second read of an item, a read of an item not named,
// and a read through a store of another table go to the table. One item
// alone, or a batch DynamoDB refuses, leaves the reads as they were.
func TestPrefetchAnswersEachFirstReadFromOneBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.AWS(t)
	db := newMetered(env.DDB)
	s := dynamo.New(db, env.Table())
	sc := billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)}
	now := time.Now().UTC()
	if err := s.PutConnection(ctx, billing.Connection{TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID, KeyID: "rzp_test_x", Status: billing.ConnectionActive, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	inv := billing.Invoice{ID: ids.New(ids.Invoice), CustomerID: ids.New(ids.Customer), Currency: "INR", InvoiceStatus: billing.InvoiceDraft, Metadata: map[string]string{},
		CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.CreateInvoice(ctx, sc, inv); err != nil {
		t.Fatal(err)
	}
	missing := ids.New(ids.Payment)
	requests := func() []string {
		db.mu.Lock()
		defer db.mu.Unlock()
		r := db.requests
		db.requests = nil
		return r
	}
	requests()

	pctx := s.Prefetch(ctx, sc, dynamo.Prefetch{Connection: true, Markers: []string{"pay_Absent000000001", ""}, Entities: []string{inv.ID, missing, inv.ID}})
	if got := requests(); !slices.Equal(got, []string{"BatchGetItem 4"}) {
		t.Fatalf("Prefetch: %v, want one BatchGetItem of the 4 distinct items", got)
	}
	if c, ok, err := s.Connection(pctx, sc); err != nil || !ok || c.KeyID != "rzp_test_x" {
		t.Fatalf("Connection = %+v %v %v", c, ok, err)
	}
	if _, ok, err := s.Applied(pctx, sc, "pay_Absent000000001"); err != nil || ok {
		t.Fatalf("Applied of an absent marker = %v %v", ok, err)
	}
	if _, err := s.Payment(pctx, sc, missing); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("Payment of an absent id: %v, want not found", err)
	}
	// The invoice's item, asked for as a payment first: of another entity
	// type, so absent, as getEntity answers it from a GetItem.
	if _, err := s.Payment(pctx, sc, inv.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("Payment of an invoice id: %v, want not found", err)
	}
	if got := requests(); len(got) != 0 {
		t.Fatalf("the first reads went to the table: %v", got)
	}
	// Each was answered once: the same reads now read the table.
	if got, err := s.Invoice(pctx, sc, inv.ID); err != nil || got.ID != inv.ID {
		t.Fatalf("Invoice = %+v %v", got, err)
	}
	if _, _, err := s.Connection(pctx, sc); err != nil {
		t.Fatal(err)
	}
	if got := requests(); !slices.Equal(got, []string{"GetItem 1", "GetItem 1"}) {
		t.Fatalf("second reads: %v, want two GetItems", got)
	}
	// A store of another table does not take this table's items.
	pctx = s.Prefetch(ctx, sc, dynamo.Prefetch{Connection: true, Entities: []string{inv.ID}})
	requests()
	other := dynamo.New(db, env.Table()+"-other")
	if _, _, err := other.Connection(pctx, sc); err == nil {
		t.Fatal("a store of a table that does not exist read a connection")
	}
	if got := requests(); !slices.Equal(got, []string{"GetItem 1"}) {
		t.Fatalf("another table's read: %v, want a GetItem", got)
	}
	// One item is one GetItem, as without Prefetch.
	if one := s.Prefetch(ctx, sc, dynamo.Prefetch{Connection: true}); one != ctx {
		t.Fatal("Prefetch of one item returned a new context")
	}
	if got := requests(); len(got) != 0 {
		t.Fatalf("Prefetch of one item: %v", got)
	}
	// A refused batch: the reads go to the table, and answer.
	refusing := dynamo.New(refusingBatch{db}, env.Table())
	rctx := refusing.Prefetch(ctx, sc, dynamo.Prefetch{Connection: true, Entities: []string{inv.ID}})
	if c, ok, err := refusing.Connection(rctx, sc); err != nil || !ok || c.KeyID != "rzp_test_x" {
		t.Fatalf("Connection after a refused batch = %+v %v %v", c, ok, err)
	}
	if got := requests(); !slices.Equal(got, []string{"GetItem 1"}) {
		t.Fatalf("after a refused batch: %v, want a GetItem", got)
	}
}

// refusingBatch fails every BatchGetItem as a throttled DynamoDB would.
type refusingBatch struct{ *metered }

func (refusingBatch) BatchGetItem(context.Context, *ddbjson.BatchGetItemInput) (*ddbjson.BatchGetItemOutput, error) {
	return nil, errors.New("ProvisionedThroughputExceededException")
}
