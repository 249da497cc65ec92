package logx

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/razorbill/razorbill/internal/jsonw"
)

// lockedWriter is a logger's writer: slog's JSON handler and appendLine's
// lines are written through it, one whole line per Write, one at a time.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// linePool holds line buffers between records.
var linePool = sync.Pool{New: func() any { return new([]byte) }}

// appendLine appends the JSON line slog's JSON handler, with New's options,
// writes for r with attrs and requestID (as aws_request_id, when not empty)
// added after r's own attributes — byte for byte, TestLinesAreWhatSlogWrites
// holds it to that — when every key, the message and every string value
// are printable ASCII without escapes beyond quotes, backslashes and
// control characters, and every value is a string, integer, bool or
// duration. Otherwise ok is false and slog writes the line: groups, values
// that resolve (LogValuer, Secret), errors and other values, floats,
// times, non-ASCII text.
func appendLine(b []byte, r slog.Record, attrs []slog.Attr, requestID string) (_ []byte, ok bool) {
	b = append(b, '{')
	if !r.Time.IsZero() {
		if y := r.Time.Year(); y < 0 || y >= 10000 {
			return b, false
		}
		b = append(b, `"time":"`...)
		b = r.Time.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `",`...)
	}
	b = append(b, `"level":`...)
	if b, ok = appendString(b, levelName(r.Level)); !ok {
		return b, false
	}
	b = append(b, `,"msg":`...)
	if b, ok = appendString(b, r.Message); !ok {
		return b, false
	}
	ok = true
	r.Attrs(func(a slog.Attr) bool {
		b, ok = appendAttr(b, a)
		return ok
	})
	for _, a := range attrs {
		if !ok {
			break
		}
		b, ok = appendAttr(b, a)
	}
	if ok && requestID != "" {
		b, ok = appendAttr(b, slog.String("aws_request_id", requestID))
	}
	return append(b, '}', '\n'), ok
}

// appendAttr appends ,"key":value, the value "[redacted]" when the key names
// a secret (New's ReplaceAttr).
func appendAttr(b []byte, a slog.Attr) (_ []byte, ok bool) {
	if a.Key == "" {
		return b, false // slog drops an empty attribute and keeps a key-less one
	}
	v := a.Value
	switch v.Kind() {
	case slog.KindString, slog.KindInt64, slog.KindUint64, slog.KindBool, slog.KindDuration:
	default:
		return b, false
	}
	b = append(b, ',')
	if b, ok = appendString(b, a.Key); !ok {
		return b, false
	}
	b = append(b, ':')
	if sensitive(a.Key) {
		return append(b, `"[redacted]"`...), true
	}
	switch v.Kind() {
	case slog.KindString:
		return appendString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10), true
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10), true
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool()), true
	default: // slog.KindDuration, in nanoseconds as encoding/json writes it
		return strconv.AppendInt(b, int64(v.Duration()), 10), true
	}
}

// appendString appends s as slog's JSON handler writes an ASCII string
// (quotes, backslashes and control characters escaped, as jsonw does); ok
// is false for a string with a byte outside ASCII.
func appendString(b []byte, s string) (_ []byte, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return b, false
		}
	}
	return jsonw.AppendString(b, s), true
}
