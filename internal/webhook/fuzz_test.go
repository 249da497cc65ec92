package webhook

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/apperr"
)

// FuzzParseEnvelope: any body either parses to an event name or is a 400
// with the error envelope; GroupKey never panics and is never empty.
func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`{"event":"payment.captured","payload":{"payment":{"entity":{"id":"pay_1","notes":{"razorbill_invoice_id":"inv_1"}}}}}`))
	f.Add([]byte(`{"event":"invoice.paid","payload":{"invoice":{"entity":{"id":"inv_X","notes":[]}}}}`))
	f.Add([]byte(`{"event":"x","payload":{"payment":[]}}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := ParseEnvelope(body)
		if err != nil {
			if apperr.HTTPStatus(err) != 400 {
				t.Fatalf("status %d for %q", apperr.HTTPStatus(err), body)
			}
			return
		}
		if env.Event == "" || env.GroupKey() == "" {
			t.Fatalf("parsed %q to %+v", body, env)
		}
	})
}

// samples are Razorpay's event bodies in events/: the shapes Razorpay sends.
func samples(tb testing.TB) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	files, err := filepath.Glob("../../events/razorpay/*.json")
	if err != nil || len(files) < 10 {
		tb.Fatalf("event samples: %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	raw, err := os.ReadFile("../../events/functionurl/webhook-payment-captured.json")
	if err != nil {
		tb.Fatal(err)
	}
	var ev struct{ Body string }
	if err := json.Unmarshal(raw, &ev); err != nil {
		tb.Fatal(err)
	}
	out["functionurl"] = []byte(ev.Body)
	return out
}

// sameAsEncodingJSON fails unless encoding/json reads body without an
// error into the Envelope scanEnvelope read.
func sameAsEncodingJSON(t *testing.T, body []byte, got Envelope) {
	t.Helper()
	var want Envelope
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatalf("scanned %q, which encoding/json refuses: %v", body, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: scanned %+v, encoding/json reads %+v", body, got, want)
	}
}

// TestScanEnvelopeReadsRazorpaysEvents: every sample is read by the scan
// (not left to encoding/json), into what encoding/json reads; bodies the
// scan must leave to encoding/json are left to it.
func TestScanEnvelopeReadsRazorpaysEvents(t *testing.T) {
	t.Parallel()
	for name, body := range samples(t) {
		e, ok := scanEnvelope(body)
		if !ok {
			t.Fatalf("%s: not scanned", name)
		}
		sameAsEncodingJSON(t, body, e)
		if e.Event == "" || len(e.Payload) == 0 {
			t.Fatalf("%s: %+v", name, e)
		}
	}
	for _, body := range []string{
		`{"event":"a.b","event":"c.d"}`,  // a member twice
		`{"Event":"a.b"}`,                // read into Event by encoding/json
		`{"event":"a\u002eb"}`,           // an escape
		`{"event":"paymént.captured"}`,   // outside ASCII
		`{"event":"a.b","payload":null}`, // not an object
		`{"event":"a.b","payload":{"payment":{"entity":{"ID":"pay_1"}}}}`, // a field's name in capitals
		`{"event":"a.b","payload":{"payment":{"entity":{"id":"pay_1","id":"pay_2"}}}}`,
		`{"event":"a.b","payload":{"payment":{"entity":null}}}`,
		`{"event":"a.b","payload":{"payment":{"entity":{"id":7}}}}`,
		`{"event":"a.b","payload":{"payment":{},"payment":{}}}`,
		`{"event":"a.b"`,
	} {
		if e, ok := scanEnvelope([]byte(body)); ok {
			t.Errorf("%s: scanned to %+v; want it left to encoding/json", body, e)
		}
	}
}

// FuzzScanEnvelope: whatever the body, what the scan reads is what
// encoding/json reads.
func FuzzScanEnvelope(f *testing.F) {
	for _, b := range samples(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"event":"a.b","payload":{"payment":{"entity":{"id":"pay_1","notes":null,"invoice_id":null}}}}`))
	f.Add([]byte(`{"event":"a.b","payload":{"refund":{"entity":{"payment_id":"pay_1","notes":{"k":[1,{"x":"}"}]}}},"x":{"entity":1}}}`))
	f.Add([]byte(` {"account_id":null,"event":"x.y","payload":{}} `))
	f.Fuzz(func(t *testing.T, body []byte) {
		if e, ok := scanEnvelope(body); ok {
			sameAsEncodingJSON(t, body, e)
		}
	})
}

// TestScanEnvelopeAgreesOnGeneratedBodies: envelopes built at random from
// the parts that matter — the Envelope's keys, the same in other cases,
// keys named twice, null, numbers, escapes, bytes outside ASCII, nested
// values and spaces — read the same by the scan (when it reads them) and
// by encoding/json; and the scan reads a good share of them.
func TestScanEnvelopeAgreesOnGeneratedBodies(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	space := func() string { return pick("", "", " ", "\n  ") }
	str := func() string {
		return pick(`"pay_1"`, `"inv_1"`, `"payment.captured"`, `""`, `null`, `7`, `"a\"b"`, `"\u0070ay"`, `"é"`, `{"x":1}`, `["a"]`, `true`)
	}
	object := func(keys []string, value func(k string) string) string {
		var b strings.Builder
		b.WriteString("{" + space())
		n := rng.IntN(len(keys) + 2)
		for i := range n {
			if i > 0 {
				b.WriteString("," + space())
			}
			k := pick(keys...)
			if rng.IntN(10) == 0 {
				k = strings.ToUpper(k[:1]) + k[1:]
			}
			b.WriteString(`"` + k + `"` + space() + ":" + space() + value(k))
		}
		b.WriteString(space() + "}")
		return b.String()
	}
	entity := func() string {
		return object([]string{"id", "order_id", "invoice_id", "payment_id", "reference_id", "notes", "amount", "entity"}, func(k string) string {
			if k == "notes" {
				return pick(`[]`, `null`, `{"razorbill_invoice_id":"inv_1"}`, `{"a":{"b":["}"]}}`, `"x"`)
			}
			if k == "amount" {
				return pick(`50000`, `-1.5e3`)
			}
			return str()
		})
	}
	entry := func() string {
		return object([]string{"entity", "other"}, func(k string) string {
			if k == "entity" {
				return pick(entity(), entity(), `null`, `[]`)
			}
			return str()
		})
	}
	scanned := 0
	for range 20000 {
		body := object([]string{"event", "account_id", "payload", "contains", "created_at"}, func(k string) string {
			switch k {
			case "payload":
				return pick(object([]string{"payment", "payment_link", "order", "refund", "invoice"}, func(string) string { return pick(entry(), entry(), `null`) }), `null`, `[]`)
			case "contains":
				return `["payment"]`
			case "created_at":
				return `1700000000`
			}
			return str()
		})
		if e, ok := scanEnvelope([]byte(body)); ok {
			scanned++
			sameAsEncodingJSON(t, []byte(body), e)
		}
	}
	if scanned < 2000 {
		t.Fatalf("only %d of 20000 bodies were scanned", scanned)
	}
	t.Logf("%d of 20000 bodies scanned", scanned)
}

// BenchmarkParseEnvelope reads the sample webhook's envelope: by the scan
// (ParseEnvelope) and through encoding/json (the floor's decode).
func BenchmarkParseEnvelope(b *testing.B) {
	body := samples(b)["functionurl"]
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseEnvelope(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e Envelope
			if err := json.Unmarshal(body, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
