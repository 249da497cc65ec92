// Package logx sets up Razorbill's structured logs: log/slog JSON with stable
// keys (request_id, tenant_id, environment_id, …) carried in the context, and
// redaction so that a secret can never be written to a log line.
package logx

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Secret is a string that logs as a mask. Wrap every secret value before it
// could reach a logger: slog calls LogValue, fmt calls String.
type Secret string

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Mask(string(s))) }

// String masks the secret for fmt.
func (s Secret) String() string { return Mask(string(s)) }

// Reveal returns the secret itself, for the one call that needs it.
func (s Secret) Reveal() string { return string(s) }

// Mask shows only the last four characters ("••••1a2b") of a secret of 20
// characters or more (Razorpay key secrets are 24; webhook secrets are at
// least 20), and nothing of a shorter one, where four would give away too
// large a share of it.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	if len(s) < 20 {
		return "••••"
	}
	return "••••" + s[len(s)-4:]
}

// sensitiveKeys are attribute keys whose values are always replaced.
var sensitiveKeys = []string{"secret", "password", "token", "authorization", "api_key", "apikey", "signature", "key_secret"}

// sensitiveFirst marks the first letters of sensitiveKeys.
var sensitiveFirst = func() (first [256]bool) {
	for _, w := range sensitiveKeys {
		first[w[0]] = true
	}
	return first
}()

// sensitive reports whether key, lower-cased, contains one of
// sensitiveKeys. It is called for every attribute of every line, so it
// looks for each word only where the key has the word's first letter.
func sensitive(key string) bool {
	k := strings.ToLower(key)
	for i := 0; i < len(k); i++ {
		if !sensitiveFirst[k[i]] {
			continue
		}
		for _, w := range sensitiveKeys {
			if w[0] == k[i] && strings.HasPrefix(k[i:], w) {
				return true
			}
		}
	}
	return false
}

// Lambda's application log levels beyond slog's four: TRACE is the most
// detailed, FATAL the least.
const (
	LevelTrace = slog.LevelDebug - 4
	LevelFatal = slog.LevelError + 4
)

// LambdaLevelEnv is set by Lambda to the function's application log level
// (ApplicationLogLevelV2) when its log format is JSON: TRACE, DEBUG, INFO,
// WARN, ERROR or FATAL.
const LambdaLevelEnv = "AWS_LAMBDA_LOG_LEVEL"

// Level picks the logger's level: lambdaLevel (the value of
// AWS_LAMBDA_LOG_LEVEL) when it names one of Lambda's levels, otherwise
// fallback ("debug", "info", "warn", "error"), otherwise info.
func Level(lambdaLevel, fallback string) slog.Level {
	if lv, ok := parseLevel(lambdaLevel); ok {
		return lv
	}
	if lv, ok := parseLevel(fallback); ok {
		return lv
	}
	return slog.LevelInfo
}

func parseLevel(s string) (slog.Level, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "TRACE":
		return LevelTrace, true
	case "DEBUG":
		return slog.LevelDebug, true
	case "INFO":
		return slog.LevelInfo, true
	case "WARN":
		return slog.LevelWarn, true
	case "ERROR":
		return slog.LevelError, true
	case "FATAL":
		return LevelFatal, true
	}
	return 0, false
}

// New returns a JSON logger writing to w. Its level is AWS_LAMBDA_LOG_LEVEL
// when set to one of Lambda's levels, otherwise level ("debug", "info",
// "warn", "error"; default info). Attributes whose key names a secret are
// redacted whatever their value, as a second line of defence behind Secret.
// A line logged with a context carrying a Lambda invocation
// (lambdacontext) includes its aws_request_id.
func New(w io.Writer, level string) *slog.Logger { return newLogger(w, level, true) }

// newLogger is New; with direct false every line goes through slog's JSON
// handler (the reference appendLine's lines are tested against).
func newLogger(w io.Writer, level string, direct bool) *slog.Logger {
	lv := Level(os.Getenv(LambdaLevelEnv), level)
	out := &lockedWriter{w: w}
	h := slog.NewJSONHandler(out, &slog.HandlerOptions{
		Level: lv,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.LevelKey {
				// Lambda filters JSON lines by "level"; name TRACE and
				// FATAL as it does (slog would write DEBUG-4, ERROR+4).
				// A string, which the handler writes as it is; the Level
				// itself would go through encoding/json (its MarshalJSON).
				lv, ok := a.Value.Any().(slog.Level)
				if !ok {
					return a
				}
				return slog.String(slog.LevelKey, levelName(lv))
			}
			if sensitive(a.Key) && a.Value.Kind() != slog.KindGroup {
				return slog.String(a.Key, "[redacted]")
			}
			return a
		},
	})
	if !direct {
		out = nil
	}
	return slog.New(ctxHandler{Handler: h, base: h, out: out})
}

// levelName is the name a line gives its level: Lambda's TRACE and FATAL,
// slog's names otherwise.
func levelName(lv slog.Level) string {
	switch lv {
	case LevelTrace:
		return "TRACE"
	case LevelFatal:
		return "FATAL"
	}
	return lv.String()
}

type ctxKey struct{}

// With returns ctx carrying attributes that every log line made with it
// includes (request_id, tenant_id, environment_id, invoice_id, …).
// The arguments become attributes here, once, as Logger.Log would turn
// them into attributes on every line.
func With(ctx context.Context, args ...any) context.Context {
	r := slog.NewRecord(time.Time{}, 0, "", 0)
	r.Add(args...)
	attrs := make([]slog.Attr, 0, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a); return true })
	return WithAttrs(ctx, attrs...)
}

// Info logs msg at info level with attrs, the line l.LogAttrs writes, for a
// hot path: slog.Logger looks up its caller's program counter for every
// record (for AddSource, which New's handler does not use); Info does not.
func Info(ctx context.Context, l *slog.Logger, msg string, attrs ...slog.Attr) {
	if !l.Enabled(ctx, slog.LevelInfo) {
		return
	}
	r := slog.NewRecord(time.Now(), slog.LevelInfo, msg, 0)
	r.AddAttrs(attrs...)
	_ = l.Handler().Handle(ctx, r)
}

// WithAttrs is With for attributes already made (a hot path's: the
// arguments of With are boxed into interfaces, and turned into attributes).
func WithAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(ctxKey{}).([]slog.Attr)
	all := make([]slog.Attr, 0, len(prev)+len(attrs))
	all = append(all, prev...)
	all = append(all, attrs...)
	return context.WithValue(ctx, ctxKey{}, all)
}

// ctxHandler adds the context's attributes and the Lambda request id to
// each record, at the top level of the line even under WithGroup: it keeps
// the handler from before the first group (base) and the attributes and
// groups added since (tail), and replays tail after the top-level attributes.
type ctxHandler struct {
	slog.Handler // base with tail applied
	base         slog.Handler
	tail         []groupOrAttrs
	// out is the logger's writer when no attribute or group was added to
	// the handler (New's own): a line of plain attributes is then written
	// by appendLine instead of slog's JSON handler.
	out *lockedWriter
}

type groupOrAttrs struct {
	group string
	attrs []slog.Attr
}

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs, _ := ctx.Value(ctxKey{}).([]slog.Attr)
	var requestID string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	if h.out != nil {
		buf := linePool.Get().(*[]byte)
		line, ok := appendLine((*buf)[:0], r, attrs, requestID)
		var err error
		if ok {
			_, err = h.out.Write(line)
		}
		if cap(line) <= 16<<10 {
			*buf = line
			linePool.Put(buf)
		}
		if ok {
			return err
		}
	}
	if requestID != "" {
		attrs = append(attrs[:len(attrs):len(attrs)], slog.String("aws_request_id", requestID))
	}
	var top []slog.Attr
	if len(h.tail) == 0 {
		r.AddAttrs(attrs...)
	} else {
		top = attrs
	}
	if len(top) == 0 {
		return h.Handler.Handle(ctx, r)
	}
	out := h.base.WithAttrs(top)
	for _, g := range h.tail {
		if g.group != "" {
			out = out.WithGroup(g.group)
		} else {
			out = out.WithAttrs(g.attrs)
		}
	}
	return out.Handle(ctx, r)
}

func (h ctxHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(h.tail) == 0 {
		next := h.Handler.WithAttrs(as)
		return ctxHandler{Handler: next, base: next}
	}
	return ctxHandler{Handler: h.Handler.WithAttrs(as), base: h.base, tail: append(h.tail[:len(h.tail):len(h.tail)], groupOrAttrs{attrs: as})}
}

func (h ctxHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return ctxHandler{Handler: h.Handler.WithGroup(name), base: h.base, tail: append(h.tail[:len(h.tail):len(h.tail)], groupOrAttrs{group: name})}
}
