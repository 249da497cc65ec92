package secrets_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/secrets"
)

type countingOpener struct {
	calls int
	fail  bool
}

func (c *countingOpener) Open(_ context.Context, sealed, aad string) (string, error) {
	c.calls++
	if c.fail {
		return "", errors.New("kms unavailable")
	}
	return "plain:" + sealed + ":" + aad, nil
}

// 15#6: one opening per sealed value (and aad) for 5 minutes; a new sealed
// value (a rotation) is opened once; failures are not cached.
func TestCacheOpensEachSealedValueOncePerTTL(t *testing.T) {
	ctx := context.Background()
	o := &countingOpener{}
	now := time.Unix(1795400000, 0)
	c := &secrets.Cache{Opener: o, Now: func() time.Time { return now }}
	for i := 0; i < 10; i++ {
		if v, err := c.Open(ctx, "sealed-A", "t/e/webhook_secret"); err != nil || v != "plain:sealed-A:t/e/webhook_secret" {
			t.Fatalf("open: %q %v", v, err)
		}
	}
	if o.calls != 1 {
		t.Fatalf("%d openings of one value, want 1", o.calls)
	}
	if _, err := c.Open(ctx, "sealed-B", "t/e/webhook_secret"); err != nil || o.calls != 2 {
		t.Fatalf("a new sealed value: %d openings %v", o.calls, err)
	}
	if v, _ := c.Open(ctx, "sealed-A", "other/e/webhook_secret"); v != "plain:sealed-A:other/e/webhook_secret" || o.calls != 3 {
		t.Fatalf("another aad shares the entry: %q %d", v, o.calls)
	}
	now = now.Add(secrets.CacheTTL)
	if _, err := c.Open(ctx, "sealed-A", "t/e/webhook_secret"); err != nil || o.calls != 4 {
		t.Fatalf("after the TTL: %d openings %v", o.calls, err)
	}
	o.fail = true
	for i := 0; i < 2; i++ {
		if _, err := c.Open(ctx, "sealed-C", "t/e/webhook_secret"); err == nil {
			t.Fatal("a failure was hidden")
		}
	}
	if o.calls != 6 {
		t.Fatalf("failures cached: %d openings, want 6", o.calls)
	}
}
