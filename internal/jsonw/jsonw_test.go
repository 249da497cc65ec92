package jsonw_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/jsonw"
)

// decodesLikeEncodingJSON fails unless AppendString's output is one JSON
// string that decodes to what encoding/json's encoding of v decodes to
// (invalid UTF-8 becomes U+FFFD in both), after the bytes already in dst.
func decodesLikeEncodingJSON(t *testing.T, v string) {
	t.Helper()
	out := jsonw.AppendString([]byte("prefix"), v)
	if !strings.HasPrefix(string(out), "prefix") {
		t.Fatalf("%q: the bytes before were changed: %q", v, out)
	}
	var got string
	if err := json.Unmarshal(out[len("prefix"):], &got); err != nil {
		t.Fatalf("%q: %q is not one JSON string: %v", v, out, err)
	}
	ref, _ := json.Marshal(v)
	var want string
	_ = json.Unmarshal(ref, &want)
	if got != want {
		t.Fatalf("%q decodes to %q, encoding/json's to %q", v, got, want)
	}
}

func TestAppendStringDecodesLikeEncodingJSON(t *testing.T) {
	inputs := []string{"", "plain ascii only", "\xff\xfe invalid", "ok\xc3", "mixed \"q\" \\ \x01\x1f é \xed\xa0\x80 surrogate",
		strings.Repeat("ab\"", 100) + "\x80", `{"entity":"event","payload":{"payment":{"notes":[]}}}`, "exactly8", "seven\"7", "\u2028\u2029"}
	for i := range 256 {
		inputs = append(inputs, strings.Repeat("x", i%13)+string(rune(i))+string([]byte{byte(i)})+"tail")
	}
	for _, v := range inputs {
		decodesLikeEncodingJSON(t, v)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00", "é\xff", strings.Repeat("0123456789", 5)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) { decodesLikeEncodingJSON(t, v) })
}

// BenchmarkAppendString escapes a queue message as the webhook receiver's
// SendMessage does: a JSON document, about one byte in six a quote.
func BenchmarkAppendString(b *testing.B) {
	raw, err := os.ReadFile("../../events/functionurl/webhook-payment-captured.json")
	if err != nil {
		b.Fatal(err)
	}
	var ev struct{ Body string }
	if err := json.Unmarshal(raw, &ev); err != nil {
		b.Fatal(err)
	}
	msg := `{"tenant_id":"ten_01jh0000000000000000000001","environment_id":"env_01jh0000000000000000000002","event_id":"evt_1","event":"payment.captured","received_at":"2026-11-23T06:00:01Z","body":` + ev.Body + `}`
	buf := make([]byte, 0, 2*len(msg))
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		buf = jsonw.AppendString(buf[:0], msg)
	}
}
