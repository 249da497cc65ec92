package jsonw

import "encoding/json"

// StringMember is the string value of the member key of obj, one valid
// JSON value (the caller has checked it, or a decoder has), as
// encoding/json reads it into a map[string]any: the last member of that
// name wins, and a value that is not a string, or obj that is not an
// object, reads as "". It scans the object's members without decoding
// them; a key or value with an escape or a byte outside ASCII goes through
// encoding/json. (The webhook receiver reads its routing notes with it, and
// internal/sqsjson SQS's answer.)
func StringMember(obj []byte, key string) string {
	if i := skipSpace(obj, 0); i >= len(obj) || obj[i] != '{' {
		return ""
	}
	var found []byte
	if Object(obj, 0, func(k []byte, at int) int {
		if string(k) != key {
			return skipValue(obj, at)
		}
		found = nil
		if obj[at] != '"' {
			return skipValue(obj, at)
		}
		s, next, ok := plainString(obj, at)
		if !ok {
			return -1
		}
		found = s
		return next
	}) < 0 {
		// A key or the value with an escape or a byte outside ASCII.
		return decodeMember(obj, key)
	}
	return string(found)
}

// Object reads the object whose '{' is the first byte of b at or after i
// (spaces skipped), b being one valid JSON value (the caller has checked
// it): it calls f with each member's key and the index of its value's first
// byte, and f returns the index just after that value (having read it, or
// skipped it with SkipValue), or -1 to stop. Object returns the index just
// after the object's '}', or -1 when b has no object there, when a key has
// an escape or a byte outside ASCII (f is not called for it), or when f
// stopped. Each byte is looked at once.
func Object(b []byte, i int, f func(key []byte, at int) int) int {
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != '{' {
		return -1
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return -1
		}
		if b[i] == '}' {
			return i + 1
		}
		if b[i] != '"' {
			return -1
		}
		k, next, ok := plainString(b, i)
		if !ok {
			return -1
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return -1
		}
		at := skipSpace(b, i+1)
		if at >= len(b) {
			return -1
		}
		if i = f(k, at); i < 0 || i > len(b) {
			return -1
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i++
		}
	}
}

// SkipValue is the index just after the valid JSON value whose first byte
// is b[i].
func SkipValue(b []byte, i int) int { return skipValue(b, i) }

// PlainString reads the value whose first byte is b[i] when it is a JSON
// string without an escape or a byte outside ASCII (so its bytes are its
// value): s is its text and next the index after it; ok is false for any
// other value.
func PlainString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	return plainString(b, i)
}

// decodeMember is StringMember through encoding/json.
func decodeMember(notes []byte, key string) string {
	var m map[string]any
	if json.Unmarshal(notes, &m) != nil {
		return ""
	}
	v, _ := m[key].(string)
	return v
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString is the string starting at b[i] (a '"') and the index after
// it; ok is false when it holds an escape or a byte outside ASCII (which
// encoding/json would check and may replace).
func plainString(b []byte, i int) (s []byte, next int, ok bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '"':
			return b[i+1 : j], j + 1, true
		case '\\':
			return nil, 0, false
		}
		if b[j] >= 0x80 {
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// skipValue is the index after the valid JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // the end of the enclosing object: a scalar ended here
			}
			if depth--; depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i // a scalar ended here
			}
		}
	}
	return i
}
