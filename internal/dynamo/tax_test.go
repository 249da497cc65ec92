package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/testenv"
)

// TestTaxSettingsStored: an environment with no settings reads the defaults
// (18 %, auto-finalize on); a put is read back exactly, replaces the whole
// record (a GSTIN left out is gone), and stays in its own environment.
func TestTaxSettingsStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.AWS(t)
	store := dynamo.New(env.DDB, env.Table())
	tnt := ids.New(ids.Tenant)
	sc := billing.Scope{TenantID: tnt, EnvironmentID: ids.New(ids.Environment)}
	other := billing.Scope{TenantID: tnt, EnvironmentID: ids.New(ids.Environment)}

	got, err := store.TaxSettings(ctx, sc)
	if err != nil || got != billing.DefaultTaxSettings() {
		t.Fatalf("no settings: %+v, %v; want the defaults", got, err)
	}
	if !got.AutoFinalize || got.DefaultRate != "18" {
		t.Fatalf("defaults %+v", got)
	}

	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	set := billing.TaxSettings{GSTIN: "29ABCDE1234F1ZW", State: "KA", DefaultRate: "12.5", AutoFinalize: false, UpdatedAt: at}
	if err := store.PutTaxSettings(ctx, sc, set); err != nil {
		t.Fatal(err)
	}
	if got, err = store.TaxSettings(ctx, sc); err != nil || got != set {
		t.Fatalf("read back %+v, %v; want %+v", got, err, set)
	}
	if got, err = store.TaxSettings(ctx, other); err != nil || got != billing.DefaultTaxSettings() {
		t.Fatalf("another environment reads %+v, %v; want the defaults", got, err)
	}

	replaced := billing.TaxSettings{State: "MH", DefaultRate: "18", AutoFinalize: true, UpdatedAt: at.Add(time.Hour)}
	if err := store.PutTaxSettings(ctx, sc, replaced); err != nil {
		t.Fatal(err)
	}
	if got, err = store.TaxSettings(ctx, sc); err != nil || got != replaced {
		t.Fatalf("after a replace %+v, %v; want %+v", got, err, replaced)
	}
}

// TestCustomerGSTFieldsStored: a customer's GSTIN and billing state are
// stored, read back, and cleared by an update that leaves them empty.
func TestCustomerGSTFieldsStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.AWS(t)
	store := dynamo.New(env.DDB, env.Table())
	sc := billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)}
	now := time.Now().UTC()
	c := billing.Customer{ID: ids.New(ids.Customer), Name: "Asha", Metadata: map[string]string{}, GSTIN: "27AAPFU0939F1ZV", BillingState: "MH",
		SyncStatus: billing.SyncNotSynced, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := store.CreateCustomer(ctx, sc, c); err != nil {
		t.Fatal(err)
	}
	got, err := store.Customer(ctx, sc, c.ID)
	if err != nil || got.GSTIN != "27AAPFU0939F1ZV" || got.BillingState != "MH" {
		t.Fatalf("read back %+v, %v", got, err)
	}
	got.GSTIN, got.BillingState, got.Version = "", "", 2
	if err := store.UpdateCustomer(ctx, sc, got, 1); err != nil {
		t.Fatal(err)
	}
	if got, err = store.Customer(ctx, sc, c.ID); err != nil || got.GSTIN != "" || got.BillingState != "" {
		t.Fatalf("after clearing %+v, %v", got, err)
	}
}
