// Package ids makes Razorbill's prefixed identifiers: a prefix ("cus_",
// "inv_", …) and a ULID (48-bit millisecond time, 80 random bits, Crockford
// base32), so ids sort by creation time. Within one millisecond the random
// part is incremented, so ids made by one process also sort in order.
package ids

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"sync"
	"time"
)

// Prefixes.
const (
	Tenant       = "tnt_"
	Environment  = "env_"
	APIKey       = "key_"
	Customer     = "cus_"
	Invoice      = "inv_"
	Payment      = "pay_"
	Refund       = "rfd_"
	Event        = "gev_"
	Request      = "req_"
	Meter        = "mtr_"
	Plan         = "pln_"
	Subscription = "sub_"
)

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

var (
	mu       sync.Mutex
	lastMS   uint64
	lastRand [10]byte
	now      = time.Now
)

// New returns prefix + a fresh ULID in lower case.
func New(prefix string) string {
	mu.Lock()
	ms := uint64(now().UnixMilli())
	var r [10]byte
	if ms <= lastMS {
		ms = lastMS
		r = lastRand
		for i := len(r) - 1; i >= 0; i-- { // increment
			r[i]++
			if r[i] != 0 {
				break
			}
		}
	} else if _, err := rand.Read(r[:]); err != nil {
		mu.Unlock()
		panic("ids: crypto/rand failed: " + err.Error())
	}
	lastMS, lastRand = ms, r
	mu.Unlock()

	var b [16]byte
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], ms)
	copy(b[:6], t[2:])
	copy(b[6:], r[:])
	return prefix + encode(b)
}

func encode(b [16]byte) string {
	// 128 bits → 26 base32 chars (first char carries 3 bits).
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// Valid reports whether s looks like an id with the prefix.
func Valid(prefix, s string) bool {
	if !strings.HasPrefix(s, prefix) || len(s) != len(prefix)+26 {
		return false
	}
	for i := len(prefix); i < len(s); i++ {
		if !inAlphabet[s[i]] {
			return false
		}
	}
	return true
}

// inAlphabet marks the bytes of alphabet (Valid looks each byte up instead
// of searching alphabet for it: the webhook receiver checks three ids per
// event).
var inAlphabet = func() (t [256]bool) {
	for i := range len(alphabet) {
		t[alphabet[i]] = true
	}
	return t
}()

// Secret returns n random bytes as lower-case base32 text (for API keys).
func Secret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("ids: crypto/rand failed: " + err.Error())
	}
	var sb strings.Builder
	var acc uint32
	bits := 0
	for _, x := range b {
		acc = acc<<8 | uint32(x)
		bits += 8
		for bits >= 5 {
			sb.WriteByte(alphabet[(acc>>(bits-5))&31])
			bits -= 5
		}
	}
	if bits > 0 {
		sb.WriteByte(alphabet[(acc<<(5-bits))&31])
	}
	return sb.String()
}
