package dynamo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/testenv"
)

// TestListPagesReadItemsFromTheTable: the indexes hold only keys, so a list
// reads its page's items from the table. A page of 100 (101 keys read, more
// than one BatchGetItem takes) comes back whole, newest first, with the
// cursor of its last item; the next page goes on from there; a status
// filter (applied to the items read) keeps only what matches.
func TestListPagesReadItemsFromTheTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.AWS(t)
	store := dynamo.New(env.DDB, env.Table())
	sc := billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)}
	cus := ids.New(ids.Customer)
	var made []string // oldest first
	for i := 0; i < 130; i++ {
		now := time.Now().UTC()
		inv := billing.Invoice{ID: ids.New(ids.Invoice), CustomerID: cus, Currency: "INR", InvoiceNumber: fmt.Sprintf("INV-%04d", i),
			InvoiceStatus: billing.InvoiceDraft, PaymentStatus: billing.PaymentPending, SyncStatus: billing.SyncNotSynced,
			Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now, Version: 1}
		if i%10 == 0 {
			inv.InvoiceStatus = billing.InvoiceVoided
		}
		if err := store.CreateInvoice(ctx, sc, inv); err != nil {
			t.Fatal(err)
		}
		made = append(made, inv.ID)
	}
	want := func(from, n int) []string { // newest first, skipping from newest
		var out []string
		for i := len(made) - 1 - from; i >= 0 && len(out) < n; i-- {
			out = append(out, made[i])
		}
		return out
	}
	idsOf := func(p billing.Page[billing.Invoice]) []string {
		var out []string
		for _, inv := range p.Data {
			if inv.CustomerID != cus || inv.InvoiceNumber == "" {
				t.Fatalf("an item read back incomplete: %+v", inv)
			}
			out = append(out, inv.ID)
		}
		return out
	}
	for _, f := range []billing.InvoiceFilter{{}, {CustomerID: cus}} { // GSI1, GSI2
		first, err := store.ListInvoices(ctx, sc, f, billing.ListOptions{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if got := idsOf(first); fmt.Sprint(got) != fmt.Sprint(want(0, 100)) || !first.HasMore || first.Next != made[30] {
			t.Fatalf("%+v: first page %d items, has_more %v, next %s; want the 100 newest, has_more, next %s", f, len(got), first.HasMore, first.Next, made[30])
		}
		second, err := store.ListInvoices(ctx, sc, f, billing.ListOptions{Limit: 100, StartingAfter: first.Next})
		if err != nil {
			t.Fatal(err)
		}
		if got := idsOf(second); fmt.Sprint(got) != fmt.Sprint(want(100, 100)) || second.HasMore {
			t.Fatalf("%+v: second page %v (has_more %v), want %v", f, got, second.HasMore, want(100, 100))
		}
	}
	voided, err := store.ListInvoices(ctx, sc, billing.InvoiceFilter{Status: billing.InvoiceVoided}, billing.ListOptions{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	wantVoided := []string{made[120], made[110], made[100], made[90], made[80]}
	if got := idsOf(voided); fmt.Sprint(got) != fmt.Sprint(wantVoided) || !voided.HasMore || voided.Next != made[80] {
		t.Fatalf("voided page %v (has_more %v, next %s), want %v", got, voided.HasMore, voided.Next, wantVoided)
	}
}
