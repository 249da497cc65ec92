package logx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretsNeverReachTheLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := New(&buf, "debug")
	const secret = "sk_live_abcdefghijklmnop1a2b"
	ctx := With(context.Background(), "request_id", "req_1", "tenant_id", "tnt_1")
	log.InfoContext(ctx, "saving connection",
		"key", Secret(secret),
		"webhook_secret", secret, // redacted by key name
		"note", fmt.Sprint(Secret(secret)))
	out := buf.String()
	if strings.Contains(out, "abcdefghijklmnop") {
		t.Fatalf("secret leaked: %s", out)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["request_id"] != "req_1" || line["tenant_id"] != "tnt_1" {
		t.Errorf("context attributes missing: %v", line)
	}
	if line["key"] != "••••1a2b" || line["webhook_secret"] != "[redacted]" {
		t.Errorf("masking: %v", line)
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "short": "••••", "0123456789abcdef": "••••", "0123456789abcdefghij": "••••ghij", "KL4AxdDFm1d3wvy5xmmXrTDo": "••••rTDo"} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkLine is the webhook receiver's line: three attributes of its
// own and three from the context.
func BenchmarkLine(b *testing.B) {
	log := New(io.Discard, "info")
	ctx := With(context.Background(), "request_id", "req_01KBXQ0000000000000000000")
	ctx = With(ctx, "tenant_id", "tnt_01KBXQ0000000000000000000", "environment_id", "env_01KBXQ0000000000000000000")
	b.ReportAllocs()
	for b.Loop() {
		log.InfoContext(ctx, "webhook queued", "event", "payment.captured", "event_id", "evt_RZ00000000000001", "group", "inv_01KBXQ0000000000000000000")
	}
}

// TestSensitiveIsContainsOfEachWord: the scan finds exactly the keys that
// contain one of sensitiveKeys, case-insensitively.
func TestSensitiveIsContainsOfEachWord(t *testing.T) {
	t.Parallel()
	ref := func(key string) bool {
		k := strings.ToLower(key)
		for _, w := range sensitiveKeys {
			if strings.Contains(k, w) {
				return true
			}
		}
		return false
	}
	keys := []string{"", "time", "level", "msg", "request_id", "tenant_id", "event_id", "group", "error", "status",
		"secret", "webhook_secret", "SECRET", "Key_Secret", "key_secre", "passwor", "xpasswordx", "tokens", "tok",
		"Authorization", "authorizatio", "api_key", "apikey", "api-key", "x_signature", "signatur", "ssecret", "aapikey",
		"kkey_secret", "ppassword", "ttoken", "é_token", "ÀPIKEY", "stoken"}
	for _, w := range sensitiveKeys { // every word at every offset, and every word cut short
		keys = append(keys, w, "x"+w, w[:len(w)-1], strings.ToUpper(w)+"_x", w[1:])
	}
	for _, k := range keys {
		if got, want := sensitive(k), ref(k); got != want {
			t.Errorf("sensitive(%q) = %v, want %v", k, got, want)
		}
	}
}

// TestLevelNames: every level is written as a JSON string, as slog names
// it, except TRACE and FATAL.
func TestLevelNames(t *testing.T) {
	t.Setenv(LambdaLevelEnv, "TRACE")
	var buf bytes.Buffer
	log := New(&buf, "")
	levels := []slog.Level{LevelTrace, slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError, LevelFatal, slog.LevelInfo + 2, slog.LevelWarn - 1, LevelFatal + 1}
	want := []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "INFO+2", "INFO+3", "ERROR+5"}
	for _, lv := range levels {
		log.Log(context.Background(), lv, "x")
	}
	dec := json.NewDecoder(&buf)
	for i := range levels {
		var line map[string]any
		if err := dec.Decode(&line); err != nil {
			t.Fatal(err)
		}
		if line["level"] != want[i] {
			t.Errorf("level %d written as %v, want %q", levels[i], line["level"], want[i])
		}
	}
}
