package app_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/razorbill/razorbill/internal/app"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/payments"
	"github.com/razorbill/razorbill/internal/rzsync"
	"github.com/razorbill/razorbill/internal/secrets"
)

// countingKEK counts data-key unwraps: with KMS, each is one Decrypt call.
type countingKEK struct {
	secrets.KeyWrapper
	unwraps atomic.Int64
}

func (k *countingKEK) Unwrap(ctx context.Context, wrapped []byte, aad string) ([]byte, error) {
	k.unwraps.Add(1)
	return k.KeyWrapper.Unwrap(ctx, wrapped, aad)
}

// TestEveryRazorpayCallerOpensAKeySecretOncePerTTL: the syncer, the
// payments service (payment links, refunds, refreshes, the sweep) and the
// reconciler open the connection's key secret through one shared cache, so
// many calls for one environment cost one unwrap (one KMS Decrypt) within
// secrets.CacheTTL; a rotated key (new sealed text) is opened afresh.
func TestEveryRazorpayCallerOpensAKeySecretOncePerTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	local, err := secrets.NewLocalKEK(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	kek := &countingKEK{KeyWrapper: local}
	d := &app.Deps{Config: &config.Config{}, Box: secrets.NewBox(kek)}
	conn := billing.Connection{TenantID: "tnt_1", EnvironmentID: "env_1", KeyID: "rzp_test_1"}
	if conn.KeySecretSealed, err = d.Box.Seal(ctx, "s3cret", "tnt_1/env_1/key_secret"); err != nil {
		t.Fatal(err)
	}
	openers := map[string]rzsync.Opener{
		"syncer": d.Syncer().Secrets, "payments": d.PaymentService().Secrets, "reconciler": d.Reconciler().Secrets,
		"sweeper": d.Sweeper("", nil).Refresher.(*payments.Service).Secrets,
	}
	const n = 50
	for name, o := range openers {
		for range n {
			cr, err := rzsync.Credentials(ctx, o, conn)
			if err != nil || cr.KeySecret != "s3cret" || cr.KeyID != "rzp_test_1" {
				t.Fatalf("%s: %+v %v", name, cr, err)
			}
		}
	}
	if got := kek.unwraps.Load(); got != 1 {
		t.Fatalf("%d calls over %d openers cost %d unwraps, want 1", n, len(openers), got)
	}
	rotated := conn
	if rotated.KeySecretSealed, err = d.Box.Seal(ctx, "n3w", "tnt_1/env_1/key_secret"); err != nil {
		t.Fatal(err)
	}
	if cr, err := rzsync.Credentials(ctx, d.Syncer().Secrets, rotated); err != nil || cr.KeySecret != "n3w" {
		t.Fatalf("rotated key: %+v %v", cr, err)
	}
	if got := kek.unwraps.Load(); got != 2 {
		t.Fatalf("after rotation %d unwraps, want 2", got)
	}
}
