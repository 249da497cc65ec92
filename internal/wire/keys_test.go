package wire_test

import (
	"io"
	"testing"

	"github.com/razorbill/razorbill/internal/reconcile"
	"github.com/razorbill/razorbill/internal/rzsync"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/wire/paymentlinkcreator"
	"github.com/razorbill/razorbill/internal/wire/paymentreconciler"
	"github.com/razorbill/razorbill/internal/wire/syncers"
)

// TestRootsOpenKeySecretsThroughACache: every root whose job calls Razorpay
// opens the connection's key secret through a secrets.Cache (one KMS
// Decrypt per secret per warm function and TTL), and within the
// payment-link-creator the payments service, its syncer and its reconciler
// share one cache.
func TestRootsOpenKeySecretsThroughACache(t *testing.T) {
	t.Parallel()
	cached := func(name string, o rzsync.Opener) *secrets.Cache {
		t.Helper()
		c, ok := o.(*secrets.Cache)
		if !ok {
			t.Errorf("%s opens key secrets through %T, want *secrets.Cache", name, o)
		}
		return c
	}
	rc, err := paymentreconciler.Load(getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cached("payment-reconciler", rc.Secrets)
	cw, err := syncers.Customers(getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cached("customer-syncer", cw.Syncer.(*rzsync.Syncer).Secrets)
	iw, err := syncers.Invoices(getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cached("invoice-syncer", iw.Syncer.(*rzsync.Syncer).Secrets)
	a, err := paymentlinkcreator.Build(getenv, io.Discard, paymentlinkcreator.Need)
	if err != nil {
		t.Fatal(err)
	}
	svc := a.PaymentService()
	c := cached("payment-link-creator payments", svc.Secrets)
	if s := cached("payment-link-creator syncer", svc.Customers.(*rzsync.Syncer).Secrets); s != c {
		t.Error("the payments service and its syncer use different caches")
	}
	if r := cached("payment-link-creator reconciler", svc.Applier.(*reconcile.Reconciler).Secrets); r != c {
		t.Error("the payments service and its reconciler use different caches")
	}
}
