package secrets

import (
	"context"
	"time"

	"github.com/razorbill/razorbill/internal/ttlmap"
)

// Opener opens sealed values (a *Box, or anything that decrypts).
type Opener interface {
	Open(ctx context.Context, sealed, aad string) (string, error)
}

// CacheTTL is how long an opened value is kept.
const CacheTTL = 5 * time.Minute

const cacheMax = 1024

// Cache keeps opened values in the warm function for TTL, keyed by the
// sealed text and aad: a rotated secret has new sealed text, so it is a
// new entry and the old one simply ages out. A value that fails to open is
// not cached (the next call tries again). Safe for concurrent use.
type Cache struct {
	Opener Opener
	TTL    time.Duration    // CacheTTL when zero
	Now    func() time.Time // time.Now when nil

	entries ttlmap.Map[cacheKey, string]
}

type cacheKey struct{ sealed, aad string }

// NewCache caches what o opens for CacheTTL.
func NewCache(o Opener) *Cache { return &Cache{Opener: o} }

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Open returns the cached value, or opens and caches it.
func (c *Cache) Open(ctx context.Context, sealed, aad string) (string, error) {
	k := cacheKey{sealed, aad}
	now := c.now()
	if plain, ok := c.entries.Get(k, now); ok {
		return plain, nil
	}
	plain, err := c.Opener.Open(ctx, sealed, aad)
	if err != nil {
		return "", err
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = CacheTTL
	}
	c.entries.Put(k, plain, now.Add(ttl), now, cacheMax)
	return plain, nil
}
