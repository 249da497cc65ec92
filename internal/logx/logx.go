// Package logx sets up Razorbill's structured logs: log/slog JSON with stable
// keys (request_id, tenant_id, environment_id, …) carried in the context, and
// redaction so that a secret can never be written to a log line.
package logx

import (
	"context"
	"io"
	"log/slog"
	"strings"
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

func sensitive(key string) bool {
	k := strings.ToLower(key)
	for _, s := range sensitiveKeys {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// New returns a JSON logger writing to w at level ("debug", "info", "warn",
// "error"; default info). Attributes whose key names a secret are redacted
// whatever their value, as a second line of defence behind Secret.
func New(w io.Writer, level string) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: lv,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if sensitive(a.Key) && a.Value.Kind() != slog.KindGroup {
				return slog.String(a.Key, "[redacted]")
			}
			return a
		},
	})
	return slog.New(ctxHandler{h})
}

type ctxKey struct{}

// With returns ctx carrying attributes that every log line made with it
// includes (request_id, tenant_id, environment_id, invoice_id, …).
func With(ctx context.Context, args ...any) context.Context {
	prev, _ := ctx.Value(ctxKey{}).([]any)
	all := make([]any, 0, len(prev)+len(args))
	all = append(all, prev...)
	all = append(all, args...)
	return context.WithValue(ctx, ctxKey{}, all)
}

type ctxHandler struct{ slog.Handler }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if args, ok := ctx.Value(ctxKey{}).([]any); ok {
		r.Add(args...)
	}
	return h.Handler.Handle(ctx, r)
}

func (h ctxHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ctxHandler{h.Handler.WithAttrs(as)}
}

func (h ctxHandler) WithGroup(name string) slog.Handler { return ctxHandler{h.Handler.WithGroup(name)} }
