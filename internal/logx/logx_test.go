package logx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
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

// TestLinesAreWhatSlogWrites: for records of every kind of value — plain
// ones that appendLine writes, and groups, LogValuers, errors, floats,
// times, non-ASCII text and empty keys that it leaves to slog — with and
// without context attributes and a Lambda request id, at every level, New's
// logger writes the same bytes as slog's JSON handler with New's options.
func TestLinesAreWhatSlogWrites(t *testing.T) {
	t.Parallel()
	keys := []string{"event", "event_id", "group", "status", "webhook_secret", "Authorization", "API_KEY", "a\"b", "tab\tkey", "ключ", "", "x\x01y", "time", "msg"}
	values := []slog.Value{
		slog.StringValue("payment.captured"), slog.StringValue(""), slog.StringValue(`quo"te \ back`), slog.StringValue("line\nfeed\r\t\x00\x1f\x7f"),
		slog.StringValue("<html>&amp;</html>"), slog.StringValue("₹500 é"), slog.StringValue("bad \xff utf8"), slog.StringValue("sep \u2028"),
		slog.IntValue(-42), slog.Int64Value(1 << 62), slog.Uint64Value(1<<64 - 1), slog.BoolValue(true), slog.BoolValue(false),
		slog.DurationValue(1500 * time.Millisecond), slog.Float64Value(0.1), slog.TimeValue(time.Date(2026, 12, 6, 1, 2, 3, 4, time.UTC)),
		slog.AnyValue(errors.New("boom")), slog.AnyValue(map[string]int{"a": 1}), slog.AnyValue(Secret("sk_live_abcdefghijklmnop1a2b")),
		slog.GroupValue(slog.String("inner", "v")), slog.AnyValue(nil),
	}
	levels := []slog.Level{LevelTrace, slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError, LevelFatal, slog.LevelInfo + 2}
	times := []time.Time{time.Date(2026, 12, 6, 17, 40, 20, 123456789, time.UTC), {}, time.Date(2026, 12, 6, 23, 0, 0, 0, time.FixedZone("IST", 19800)), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	rng := rand.New(rand.NewPCG(1, 2))
	direct := 0
	for i := range 3000 {
		r := slog.NewRecord(times[rng.IntN(len(times))], levels[rng.IntN(len(levels))], []string{"webhook queued", "a \"quoted\" message\n", "₹", ""}[rng.IntN(4)], 0)
		for range rng.IntN(5) {
			r.AddAttrs(slog.Attr{Key: keys[rng.IntN(len(keys))], Value: values[rng.IntN(len(values))]})
		}
		ctx := context.Background()
		if rng.IntN(2) == 0 {
			ctx = With(ctx, "tenant_id", "tnt_01KBXQ0000000000000000000", keys[rng.IntN(len(keys))], values[rng.IntN(len(values))])
		}
		if rng.IntN(3) == 0 {
			ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: []string{"8476a536-e9f4-11e8-9739-2dfe598c3fcd", ""}[rng.IntN(2)]})
		}
		var got, want bytes.Buffer
		if err := New(&got, "trace").Handler().Handle(ctx, r.Clone()); err != nil {
			t.Fatal(err)
		}
		if err := newLogger(&want, "trace", false).Handler().Handle(ctx, r.Clone()); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("record %d:\n got %s\nwant %s", i, got.String(), want.String())
		}
		if _, ok := appendLine(nil, r, nil, ""); ok {
			direct++
		}
	}
	if direct < 100 {
		t.Fatalf("only %d of 3000 records were written by appendLine", direct)
	}
}

// FuzzLine: a line of one string attribute and a message is what slog
// writes, whatever their bytes.
func FuzzLine(f *testing.F) {
	f.Add("webhook queued", "event_id", "evt_1")
	f.Add("m", "k\"", "v\x00\n")
	f.Add("m", "token", "x")
	f.Fuzz(func(t *testing.T, msg, key, value string) {
		r := slog.NewRecord(time.Date(2026, 12, 6, 17, 40, 20, 1, time.UTC), slog.LevelInfo, msg, 0)
		r.AddAttrs(slog.String(key, value), slog.Int("n", len(value)))
		var got, want bytes.Buffer
		_ = New(&got, "info").Handler().Handle(context.Background(), r.Clone())
		_ = newLogger(&want, "info", false).Handler().Handle(context.Background(), r.Clone())
		if got.String() != want.String() {
			t.Fatalf("\n got %s\nwant %s", got.String(), want.String())
		}
	})
}

// oneAtATime is a writer that records whether a Write began while another
// was still running, and keeps every line.
type oneAtATime struct {
	inside, overlapped atomic.Int32
	mu                 sync.Mutex
	lines              []string
}

func (w *oneAtATime) Write(p []byte) (int, error) {
	if w.inside.Add(1) > 1 {
		w.overlapped.Add(1)
	}
	time.Sleep(50 * time.Microsecond) // widen the window a second Write would fall in
	w.mu.Lock()
	w.lines = append(w.lines, string(p))
	w.mu.Unlock()
	w.inside.Add(-1)
	return len(p), nil
}

// TestLinesFromManyGoroutinesAreWrittenOneAtATime: lines that appendLine
// writes and lines slog writes (a group) reach the writer whole and one at
// a time, whichever goroutines log them.
func TestLinesFromManyGoroutinesAreWrittenOneAtATime(t *testing.T) {
	t.Parallel()
	w := &oneAtATime{}
	log := New(w, "info")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				if i%2 == 0 {
					log.Info("plain", "g", g, "i", i)
				} else {
					log.Info("grouped", slog.Group("at", "g", g, "i", i))
				}
			}
		})
	}
	wg.Wait()
	if n := w.overlapped.Load(); n != 0 {
		t.Fatalf("%d writes began while another was running", n)
	}
	if len(w.lines) != 8*25 {
		t.Fatalf("%d lines, want %d", len(w.lines), 8*25)
	}
	for _, l := range w.lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil || !strings.HasSuffix(l, "}\n") {
			t.Fatalf("line %q: %v", l, err)
		}
	}
}

// TestInfoWritesWhatLogAttrsWrites: logx.Info's line is the logger's
// LogAttrs line (the time aside), and nothing below the logger's level.
func TestInfoWritesWhatLogAttrsWrites(t *testing.T) {
	t.Parallel()
	ctx := With(context.Background(), "tenant_id", "tnt_1")
	var a, b bytes.Buffer
	Info(ctx, New(&a, "info"), "webhook queued", slog.String("event", "payment.captured"), slog.String("api_key", "k"))
	New(&b, "info").LogAttrs(ctx, slog.LevelInfo, "webhook queued", slog.String("event", "payment.captured"), slog.String("api_key", "k"))
	var got, want map[string]any
	if err := json.Unmarshal(a.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Bytes(), &want); err != nil {
		t.Fatal(err)
	}
	delete(got, "time")
	delete(want, "time")
	if fmt.Sprint(got) != fmt.Sprint(want) || got["api_key"] != "[redacted]" {
		t.Fatalf("Info wrote %v, LogAttrs %v", got, want)
	}
	var quiet bytes.Buffer
	Info(ctx, New(&quiet, "warn"), "webhook queued")
	if quiet.Len() != 0 {
		t.Fatalf("an info line at warn level: %s", quiet.String())
	}
}
