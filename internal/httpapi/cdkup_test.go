package httpapi_test

import (
	"context"
	"io"
	"testing"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/secrets"
)

// connectionDown is the real store whose connection read fails.
type connectionDown struct{ *dynamo.Store }

func (connectionDown) Connection(context.Context, billing.Scope) (billing.Connection, bool, error) {
	return billing.Connection{}, false, apperr.E(apperr.Transient, "store_unavailable", "connection read failed")
}

// TestSyncFlagsFollowTheConnection: the customer and finalized-invoice
// items carry sync_on_create / sync_on_finalize (which the stream filters
// require) exactly when the connection, at write time, syncs them; when the
// connection cannot be read the flag is set and the syncer decides.
func TestSyncFlagsFollowTheConnection(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	tn := a.tenant("Flags")
	c := tn.c()
	sc := billing.Scope{TenantID: tn.id, EnvironmentID: tn.prod}
	flags := func(cusID, invID string) (bool, bool) {
		t.Helper()
		cus, err := a.store.Customer(context.Background(), sc, cusID)
		if err != nil {
			t.Fatal(err)
		}
		if invID == "" {
			return cus.SyncOnCreate, false
		}
		inv, err := a.store.Invoice(context.Background(), sc, invID)
		if err != nil {
			t.Fatal(err)
		}
		return cus.SyncOnCreate, inv.SyncOnFinalize
	}
	finalize := func(cus, amount string) string {
		t.Helper()
		id := draft(a, c, cus, amount)
		a.expect(a.do(c, "POST", "/api/v1/invoices/"+id+"/finalize", nil), 200, "")
		return id
	}
	connect := func(outbound bool, customerSync string) {
		t.Helper()
		r := a.do(c, "PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": "rzp_live_flags", "key_secret": "s3cr3t-s3cr3t",
			"webhook_secret": "whsec-0123456789abcdef", "invoice_outbound_sync": outbound, "customer_sync": customerSync})
		if r.Status != 200 && r.Status != 201 {
			t.Fatalf("PUT connection: %s", r.Raw)
		}
	}

	// No connection yet.
	cus := customer(a, c, "flags-none")
	if onCreate, onFinalize := flags(cus, finalize(cus, "100")); onCreate || onFinalize {
		t.Errorf("no connection: sync_on_create %v, sync_on_finalize %v; want neither", onCreate, onFinalize)
	}
	// ON_DEMAND, outbound sync off.
	connect(false, "ON_DEMAND")
	cus = customer(a, c, "flags-off")
	if onCreate, onFinalize := flags(cus, finalize(cus, "100")); onCreate || onFinalize {
		t.Errorf("sync off: sync_on_create %v, sync_on_finalize %v; want neither", onCreate, onFinalize)
	}
	// ON_CREATE, outbound sync on; an invoice with nothing due is never synced.
	connect(true, "ON_CREATE")
	cus = customer(a, c, "flags-on")
	if onCreate, onFinalize := flags(cus, finalize(cus, "100")); !onCreate || !onFinalize {
		t.Errorf("sync on: sync_on_create %v, sync_on_finalize %v; want both", onCreate, onFinalize)
	}
	if _, onFinalize := flags(cus, finalize(cus, "0")); onFinalize {
		t.Error("an invoice with nothing due is flagged for sync")
	}
	// Disabled connection: nothing is synced.
	a.expect(a.do(c, "DELETE", "/api/v1/connections/razorpay", nil), 200, "")
	cus = customer(a, c, "flags-disabled")
	if onCreate, onFinalize := flags(cus, finalize(cus, "100")); onCreate || onFinalize {
		t.Errorf("disabled connection: sync_on_create %v, sync_on_finalize %v; want neither", onCreate, onFinalize)
	}

	// The same table through a ledger whose connection read fails: flagged.
	kek, err := secrets.NewLocalKEK([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	rt := httpapi.NewRouter(a.store, a.store, func(context.Context) (string, error) { return adminToken, nil }, logx.New(io.Discard, "error"), nil)
	rt.Add((&httpapi.Ledger{Store: connectionDown{a.store}, Sealer: secrets.NewBox(kek), Verifier: fakeVerifier{},
		Sync: a.env.SyncPublisher()}).Routes()...)
	down := &api{t: t, rt: rt, env: a.env, store: a.store}
	r := down.do(c, "POST", "/api/v1/customers", map[string]any{"external_id": "flags-down", "name": "N", "email": "down@example.com"})
	down.expect(r, 201, "")
	inv := draft(down, c, r.str("id"), "100")
	down.expect(down.do(c, "POST", "/api/v1/invoices/"+inv+"/finalize", nil), 200, "")
	if onCreate, onFinalize := flags(r.str("id"), inv); !onCreate || !onFinalize {
		t.Errorf("connection unreadable: sync_on_create %v, sync_on_finalize %v; want both (the syncer decides)", onCreate, onFinalize)
	}
}
