package secrets

import (
	"context"
	"sync"
	"time"
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

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
}

type cacheKey struct{ sealed, aad string }

type cacheEntry struct {
	plain   string
	expires time.Time
}

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
	c.mu.Lock()
	if e, ok := c.entries[k]; ok && now.Before(e.expires) {
		c.mu.Unlock()
		return e.plain, nil
	}
	c.mu.Unlock()
	plain, err := c.Opener.Open(ctx, sealed, aad)
	if err != nil {
		return "", err
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = CacheTTL
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[cacheKey]cacheEntry{}
	}
	if len(c.entries) >= cacheMax {
		for kk, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, kk)
			}
		}
		if len(c.entries) >= cacheMax {
			clear(c.entries)
		}
	}
	c.entries[k] = cacheEntry{plain: plain, expires: now.Add(ttl)}
	return plain, nil
}
