// Package jsonw writes JSON strings, and walks the members of an object
// (Object; StringMember reads one string member with it), without
// reflection, for the few hot paths that build or read a JSON document by
// hand (the webhook receiver's queue message, its envelope and routing
// notes, and its SQS request and answer, internal/sqsjson).
package jsonw

import (
	"encoding/binary"
	"unicode/utf8"
	"unsafe"
)

// AppendString appends v as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, as encoding/json
// does (without its HTML escaping, which JSON does not need).
func AppendString(b []byte, v string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(v); {
		// Eight bytes at a time while none needs a look: no control
		// character, quote, backslash or byte of a multi-byte rune.
		for i+8 <= len(v) && plain8(v[i:i+8]) {
			i += 8
		}
		// Then byte by byte up to the next byte that needs a look (in a
		// JSON document, one in a few: the word test would fail again).
		for i < len(v) && plain[v[i]] {
			i++
		}
		if i >= len(v) {
			break
		}
		c := v[i]
		if c < utf8.RuneSelf {
			b = append(b, v[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, v[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, v[start:]...)
	return append(b, '"')
}

// plain is true for the bytes written as they are without a look: printable
// ASCII but the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plain8 reports whether none of the 8 bytes of w is below 0x20, a quote, a
// backslash or above 0x7f (the usual "has a byte less than / equal to"
// word tricks).
func plain8(w string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(w), 8))
	less := (x - ones*0x20) & ^x & highs
	q := x ^ (ones * '"')
	quote := (q - ones) & ^q & highs
	bs := x ^ (ones * '\\')
	backslash := (bs - ones) & ^bs & highs
	return (less | quote | backslash | x&highs) == 0
}
