package webhook

import (
	"context"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ttlmap"
)

// TrustTTL is how long a warm receiver answers from what it read of an
// environment's connection (its status, Razorpay account and webhook
// secrets) before reading it again.
const TrustTTL = time.Minute

// trustCacheMax bounds the entries kept; only active connections are kept,
// so an unknown path cannot grow the cache.
const trustCacheMax = 4096

// CachingConnectionStore is a ConnectionStore that may answer from a cache.
// The receiver reads through CachedConnection and, when the cached
// connection refuses a signed webhook as unauthorized, calls Reread once
// and checks again, so that a secret (or account) changed within the
// cache's TTL is honoured at once.
type CachingConnectionStore interface {
	ConnectionStore
	// CachedConnection is Connection; cached says the answer came from the
	// cache rather than a read of the store.
	CachedConnection(ctx context.Context, sc billing.Scope) (c billing.Connection, found, cached bool, err error)
	// Reread reads the store and replaces (or drops) the cached entry.
	Reread(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error)
}

// TrustCache keeps, in the warm function, each environment's active
// connection as Store read it, for TTL: a webhook within the TTL costs no
// DynamoDB read. A connection that is missing or not active is never kept
// (each such webhook reads the store), nor is a failed read. So a change to
// a connection — disabled, its account set, a retired secret revoked —
// takes effect in a warm receiver within TTL; a secret rotated in works at
// once, because the receiver re-reads when the cached secrets refuse a
// signature. Whether a retired secret is still within its 24 h is decided
// on each webhook from the cached expiry, not at read time. Safe for
// concurrent use.
type TrustCache struct {
	Store ConnectionStore
	TTL   time.Duration    // TrustTTL when zero
	Now   func() time.Time // time.Now when nil

	entries ttlmap.Map[billing.Scope, billing.Connection]
}

// NewTrustCache caches what s reads for TrustTTL.
func NewTrustCache(s ConnectionStore) *TrustCache { return &TrustCache{Store: s} }

func (c *TrustCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Connection answers from the cache within the TTL, else reads the store.
func (c *TrustCache) Connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error) {
	conn, found, _, err := c.CachedConnection(ctx, sc)
	return conn, found, err
}

// CachedConnection answers from the cache when sc's connection was read
// active less than TTL ago, else reads the store (Reread).
func (c *TrustCache) CachedConnection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, bool, error) {
	if conn, ok := c.entries.Get(sc, c.now()); ok {
		return conn, true, true, nil
	}
	conn, found, err := c.Reread(ctx, sc)
	return conn, found, false, err
}

// Reread reads sc's connection from the store; an active one replaces the
// cached entry for TTL, anything else (none, not active) drops it. A failed
// read leaves the cache as it was.
func (c *TrustCache) Reread(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error) {
	conn, found, err := c.Store.Connection(ctx, sc)
	if err != nil {
		return conn, found, err
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = TrustTTL
	}
	if !found || conn.Status != billing.ConnectionActive {
		c.entries.Delete(sc)
		return conn, found, nil
	}
	now := c.now()
	c.entries.Put(sc, conn, now.Add(ttl), now, trustCacheMax)
	return conn, found, nil
}
