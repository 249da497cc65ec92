package webhook_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/webhook"
)

// countingStore counts the reads that reach DynamoDB (Local) and can be
// made to fail.
type countingStore struct {
	inner webhook.ConnectionStore
	reads atomic.Int64
	fail  atomic.Bool
}

func (c *countingStore) Connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error) {
	c.reads.Add(1)
	if c.fail.Load() {
		return billing.Connection{}, false, errors.New("dynamodb: RequestLimitExceeded")
	}
	return c.inner.Connection(ctx, sc)
}

// clock is a settable time for the receiver and its trust cache.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// cached gives the fixture's receiver a TrustCache (as the function wires
// it) over a counting store, both on one settable clock.
func (f *fixture) cached() (*countingStore, *clock) {
	store := &countingStore{inner: dynamo.WebhookTrust{Store: f.store}}
	clk := &clock{t: time.Now()}
	f.recv.Store = &webhook.TrustCache{Store: store, Now: clk.now}
	f.recv.Now = clk.now
	return store, clk
}

func (f *fixture) postWant(what string, want int, secret, eventID string) {
	f.t.Helper()
	h := signed(body, secret)
	h["X-Razorpay-Event-Id"] = eventID
	if resp := f.post(f.path(), body, h); resp.StatusCode != want {
		f.t.Fatalf("%s: %d %s, want %d", what, resp.StatusCode, resp.Body, want)
	}
}

// Within the TTL a warm receiver reads the connection once; a secret
// rotated in since that read verifies at once, because a signature the
// cached secrets refuse makes the receiver read the connection again
// before answering 401; a forgery is still 401 after that one re-read.
func TestTrustCacheRereadsBeforeRefusingASignature(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	store, clk := f.cached()
	for i := range 3 {
		f.postWant("genuine", 200, secret, "evt_c"+string(rune('0'+i)))
	}
	if n := store.reads.Load(); n != 1 {
		t.Fatalf("%d connection reads for 3 webhooks within the TTL, want 1", n)
	}
	const next = "whsec_rotated_in_000002"
	f.change(func(c *billing.Connection) {
		if err := c.RotateWebhookSecret(f.seal(next), "", clk.now()); err != nil {
			t.Fatal(err)
		}
	})
	clk.advance(time.Second)
	f.postWant("signed with the secret rotated in a second ago", 200, next, "evt_next")
	if n := store.reads.Load(); n != 2 {
		t.Fatalf("%d connection reads, want 2 (the re-read after the cached secrets refused)", n)
	}
	f.postWant("the new secret again, from the refreshed cache", 200, next, "evt_next2")
	f.postWant("the rotated-out secret within its 24 h", 200, secret, "evt_old")
	if n := store.reads.Load(); n != 2 {
		t.Fatalf("%d connection reads, want 2: the re-read refreshed the cache", n)
	}
	f.postWant("a forgery", 401, "forged-secret-guess-000", "evt_forged")
	if n := store.reads.Load(); n != 3 {
		t.Fatalf("%d connection reads after a forgery, want 3 (one re-read)", n)
	}
	// the re-read failing is a 503 (Razorpay retries), never a 401
	store.fail.Store(true)
	f.postWant("a signature the cache refuses while DynamoDB fails", 503, "whsec_rotated_in_000003", "evt_x")
	f.postWant("a genuine webhook from the cache while DynamoDB fails", 200, next, "evt_next3")
}

// A retired secret revoked, or the connection disabled, stops verifying in
// a warm receiver when its cached read is older than the TTL (injected
// clock): up to then the cached trust answers, after it the store does.
func TestTrustCacheRevocationTakesEffectWithinTheTTL(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const old = "whsec_retired_000000001"
	f.connect(secret, old) // old retired, within its grace
	store, clk := f.cached()
	f.postWant("the retired secret", 200, old, "evt_r1")
	f.change(func(c *billing.Connection) { c.RevokeRetiredSecrets(clk.now()) })
	clk.advance(webhook.TrustTTL - time.Second)
	f.postWant("the revoked secret within the TTL of the cached read", 200, old, "evt_r2")
	if n := store.reads.Load(); n != 1 {
		t.Fatalf("%d reads within the TTL, want 1", n)
	}
	clk.advance(2 * time.Second)
	f.postWant("the revoked secret after the TTL", 401, old, "evt_r3")
	f.postWant("the current secret", 200, secret, "evt_r4")

	f.change(func(c *billing.Connection) { c.Status = billing.ConnectionDisabled })
	clk.advance(webhook.TrustTTL + time.Second)
	resp := f.post(f.path(), body, signed(body, secret))
	if resp.StatusCode != 404 || !strings.Contains(resp.Body, "connection_not_configured") {
		t.Fatalf("disabled, after the TTL: %d %s", resp.StatusCode, resp.Body)
	}
	// a connection that is not active is not kept: enabled again, its next
	// webhook is accepted without waiting for a TTL
	f.change(func(c *billing.Connection) { c.Status = billing.ConnectionActive })
	f.postWant("enabled again", 200, secret, "evt_r5")
}

// An environment with no connection is read on every webhook (nothing
// cached for it), and a failed read is a 503 that is not cached either.
func TestTrustCacheKeepsNoMissingConnectionOrFailedRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	store, _ := f.cached()
	other := webhook.PathPrefix + f.sc.TenantID + "/env_01jh0000000000000000000999"
	for range 2 {
		if resp := f.post(other, body, signed(body, secret)); resp.StatusCode != 404 {
			t.Fatalf("no connection: %d %s", resp.StatusCode, resp.Body)
		}
	}
	if n := store.reads.Load(); n != 2 {
		t.Fatalf("%d reads for 2 webhooks to an environment without a connection, want 2", n)
	}
	store.fail.Store(true)
	f.postWant("DynamoDB failing, nothing cached", 503, secret, "evt_f1")
	store.fail.Store(false)
	f.postWant("DynamoDB back", 200, secret, "evt_f2")
	if msgs := f.queued(); len(msgs) != 1 {
		t.Fatalf("queued %d messages, want 1 (only the accepted webhook)", len(msgs))
	}
}

// TrustCache alone: entries expire at exactly TTL on its clock, and a
// zero TTL means TrustTTL.
func TestTrustCacheTTL(t *testing.T) {
	sc := billing.Scope{TenantID: "ten_1", EnvironmentID: "env_1"}
	mem := memConnections{sc: {TenantID: "ten_1", EnvironmentID: "env_1", Status: billing.ConnectionActive}}
	store := &countingStore{inner: mem}
	clk := &clock{t: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)}
	c := &webhook.TrustCache{Store: store, Now: clk.now}
	ctx := context.Background()
	read := func(wantCached bool) {
		t.Helper()
		_, found, cached, err := c.CachedConnection(ctx, sc)
		if err != nil || !found || cached != wantCached {
			t.Fatalf("found %v cached %v err %v, want cached %v", found, cached, err, wantCached)
		}
	}
	read(false)
	clk.advance(webhook.TrustTTL - time.Nanosecond)
	read(true)
	clk.advance(time.Nanosecond)
	read(false)
	if _, _, err := c.Reread(ctx, sc); err != nil {
		t.Fatal(err)
	}
	read(true)
	if n := store.reads.Load(); n != 3 {
		t.Fatalf("%d store reads, want 3", n)
	}
}

// An account refused by the cached connection is re-read once too: the
// connection's account changed since the cached read is honoured at once,
// and another account is still refused after the re-read, nothing queued.
func TestTrustCacheRereadsBeforeRefusingAnAccount(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.change(func(c *billing.Connection) { c.AccountID = "acc_live_mine" })
	store, _ := f.cached()
	if _, ok, err := f.recv.Store.Connection(context.Background(), f.sc); !ok || err != nil { // the cache's first read
		t.Fatal(ok, err)
	}
	resp := f.post(f.path(), body, signed(body, secret)) // body's account_id is acc_x
	if resp.StatusCode != 401 || !strings.Contains(resp.Body, "account_mismatch") {
		t.Fatalf("other account: %d %s", resp.StatusCode, resp.Body)
	}
	if n := store.reads.Load(); n != 2 {
		t.Fatalf("%d reads, want 2 (the first read, then the re-read before the 401)", n)
	}
	f.change(func(c *billing.Connection) { c.AccountID = "acc_x" })
	f.postWant("the connection's account changed within the TTL", 200, secret, "evt_acct")
	if n := store.reads.Load(); n != 3 {
		t.Fatalf("%d reads, want 3", n)
	}
	if msgs := f.queued(); len(msgs) != 1 {
		t.Fatalf("queued %d messages, want 1", len(msgs))
	}
}
