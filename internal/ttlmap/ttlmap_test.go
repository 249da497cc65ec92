package ttlmap

import (
	"testing"
	"time"
)

func TestExpiry(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	var m Map[string, int]
	m.Put("a", 1, t0.Add(time.Minute), t0, 3)
	if v, ok := m.Get("a", t0.Add(59*time.Second)); !ok || v != 1 {
		t.Fatalf("within its time: %d %v", v, ok)
	}
	if _, ok := m.Get("a", t0.Add(time.Minute)); ok {
		t.Fatal("an entry is kept past its expiry")
	}
	m.Delete("a")
	if m.Len() != 0 {
		t.Fatal("Delete kept the entry")
	}
}

// A full map drops the expired entries before a new key, then, when none
// had expired, everything; a key already held is replaced in place.
func TestBound(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	var m Map[int, int]
	m.Put(1, 1, t0.Add(time.Second), t0, 3)
	m.Put(2, 2, t0.Add(time.Hour), t0, 3)
	m.Put(3, 3, t0.Add(time.Hour), t0, 3)
	m.Put(3, 33, t0.Add(time.Hour), t0.Add(2*time.Second), 3)
	if m.Len() != 3 {
		t.Fatalf("replacing a key changed the size: %d", m.Len())
	}
	m.Put(4, 4, t0.Add(time.Hour), t0.Add(2*time.Second), 3)
	if _, ok := m.Get(1, t0); ok || m.Len() != 3 {
		t.Fatalf("the expired entry was not the one dropped: len %d", m.Len())
	}
	if v, ok := m.Get(2, t0.Add(2*time.Second)); !ok || v != 2 {
		t.Fatal("a live entry was dropped while an expired one could go")
	}
	m.Put(5, 5, t0.Add(time.Hour), t0.Add(3*time.Second), 3)
	if m.Len() != 1 {
		t.Fatalf("a full map of live entries was not cleared: len %d", m.Len())
	}
}
