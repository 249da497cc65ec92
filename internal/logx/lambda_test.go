package logx

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestLambdaRequestIDOnEveryLine: every line logged with an invocation's
// context carries its aws_request_id, next to the context attributes, and
// secrets are still redacted; a line without an invocation has none.
func TestLambdaRequestIDOnEveryLine(t *testing.T) {
	t.Setenv(LambdaLevelEnv, "")
	var buf bytes.Buffer
	log := New(&buf, "debug")
	const secret = "sk_live_abcdefghijklmnop1a2b"
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"})
	ctx = With(ctx, "tenant_id", "tnt_1")
	log.InfoContext(ctx, "first", "webhook_secret", secret, "key", Secret(secret))
	log.With("component", "relay").WarnContext(ctx, "second")
	log.WithGroup("g").With("component", "relay").ErrorContext(ctx, "third", "token", secret)
	log.InfoContext(context.Background(), "outside an invocation")

	got := lines(t, &buf)
	if len(got) != 4 {
		t.Fatalf("want 4 lines, got %d: %s", len(got), buf.String())
	}
	for _, l := range got[:3] {
		if l["aws_request_id"] != "c6af9ac6-7b61-11e6-9a41-93e8deadbeef" {
			t.Errorf("line without the request id: %v", l)
		}
	}
	if _, ok := got[3]["aws_request_id"]; ok {
		t.Errorf("request id on a line outside an invocation: %v", got[3])
	}
	// under a group the invocation's attributes stay at the top level
	if g, _ := got[2]["g"].(map[string]any); got[2]["tenant_id"] != "tnt_1" || g["token"] != "[redacted]" || g["component"] != "relay" {
		t.Errorf("grouped line: %v", got[2])
	}
	if got[0]["tenant_id"] != "tnt_1" || got[0]["webhook_secret"] != "[redacted]" || got[0]["key"] != "••••1a2b" {
		t.Errorf("context attributes or redaction lost: %v", got[0])
	}
	if strings.Contains(buf.String(), "abcdefghijklmnop") {
		t.Fatalf("secret leaked: %s", buf.String())
	}
}

// TestLambdaLogLevelWins: AWS_LAMBDA_LOG_LEVEL overrides the configured
// level (WARN drops INFO even though "debug" was asked for).
func TestLambdaLogLevelWins(t *testing.T) {
	t.Setenv(LambdaLevelEnv, "WARN")
	var buf bytes.Buffer
	log := New(&buf, "debug")
	log.Debug("debug line")
	log.Info("info line")
	log.Warn("warn line")
	log.Error("error line")
	got := lines(t, &buf)
	if len(got) != 2 || got[0]["msg"] != "warn line" || got[1]["msg"] != "error line" {
		t.Fatalf("want only the warn and error lines, got %s", buf.String())
	}
}

// TestLambdaTraceLevel: TRACE lets every line through and writes the level
// name Lambda filters on, not slog's "DEBUG-4".
func TestLambdaTraceLevel(t *testing.T) {
	t.Setenv(LambdaLevelEnv, "TRACE")
	var buf bytes.Buffer
	log := New(&buf, "error")
	log.Log(context.Background(), LevelTrace, "trace line")
	log.Log(context.Background(), LevelFatal, "fatal line")
	log.Debug("debug line")
	got := lines(t, &buf)
	if len(got) != 3 || got[0]["level"] != "TRACE" || got[1]["level"] != "FATAL" || got[2]["level"] != "DEBUG" {
		t.Fatalf("levels: %s", buf.String())
	}
}

// TestLambdaLevelFallback: without AWS_LAMBDA_LOG_LEVEL (or with a value
// that is not one of Lambda's levels) the configured level applies.
func TestLambdaLevelFallback(t *testing.T) {
	for _, env := range []string{"", "verbose"} {
		t.Setenv(LambdaLevelEnv, env)
		var buf bytes.Buffer
		log := New(&buf, "warn")
		log.Info("info line")
		log.Warn("warn line")
		if got := lines(t, &buf); len(got) != 1 || got[0]["msg"] != "warn line" {
			t.Errorf("env %q: want only the warn line, got %s", env, buf.String())
		}
	}
}

func TestLevel(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		lambda, fallback string
		want             slog.Level
	}{
		{"TRACE", "", LevelTrace},
		{"DEBUG", "error", slog.LevelDebug},
		{"INFO", "debug", slog.LevelInfo},
		{"WARN", "", slog.LevelWarn},
		{"ERROR", "", slog.LevelError},
		{"FATAL", "", LevelFatal},
		{"warn", "", slog.LevelWarn},
		{"", "debug", slog.LevelDebug},
		{"", "error", slog.LevelError},
		{"bogus", "warn", slog.LevelWarn},
		{"", "", slog.LevelInfo},
		{"", "bogus", slog.LevelInfo},
	} {
		if got := Level(c.lambda, c.fallback); got != c.want {
			t.Errorf("Level(%q, %q) = %v, want %v", c.lambda, c.fallback, got, c.want)
		}
	}
}
