// Package ttlmap is the bounded map a warm function keeps values in for a
// while (opened secrets, a connection's trust): each entry expires at a
// time its writer chooses, and a full map first drops what has expired,
// then everything, so a function serving many tenants never grows without
// bound.
package ttlmap

import (
	"sync"
	"time"
)

// Map is empty and ready as its zero value; safe for concurrent use.
type Map[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]entry[V]
}

type entry[V any] struct {
	v       V
	expires time.Time
}

// Get returns k's value if it is there and not expired at now.
func (m *Map[K, V]) Get(k K, now time.Time) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[k]
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put keeps v under k until expires. A new key in a map holding max
// entries first drops the entries expired at now, then, if it is still
// full, all of them.
func (m *Map[K, V]) Put(k K, v V, expires, now time.Time, max int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = map[K]entry[V]{}
	}
	if _, ok := m.entries[k]; !ok && len(m.entries) >= max {
		for kk, e := range m.entries {
			if !now.Before(e.expires) {
				delete(m.entries, kk)
			}
		}
		if len(m.entries) >= max {
			clear(m.entries)
		}
	}
	m.entries[k] = entry[V]{v: v, expires: expires}
}

// Delete drops k.
func (m *Map[K, V]) Delete(k K) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, k)
}

// Len is the number of entries held, expired ones included.
func (m *Map[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
