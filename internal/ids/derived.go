package ids

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// Derived returns prefix + a ULID-shaped id that is a function of (t, key):
// the time part is t's millisecond, the random part the first 80 bits of
// SHA-256(key). The same t and key always give the same id, so a record
// keyed by it is written once however often its source is redelivered; ids
// still sort by t.
func Derived(prefix string, t time.Time, key string) string {
	h := sha256.Sum256([]byte(key))
	var b [16]byte
	var ts [8]byte
	ms := t.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	binary.BigEndian.PutUint64(ts[:], uint64(ms))
	copy(b[:6], ts[2:])
	copy(b[6:], h[:10])
	return prefix + encode(b)
}
