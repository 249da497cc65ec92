package razorpay

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSignKnownVector(t *testing.T) {
	t.Parallel()
	// RFC 4231, test case 2 (HMAC-SHA256).
	got := Sign([]byte("what do ya want for nothing?"), "Jefe")
	want := "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"entity":"event","event":"payment.captured"}`)
	const secret = "whsec_test_0001"
	good := Sign(body, secret)
	cases := []struct {
		name      string
		body      []byte
		sig, secr string
		want      bool
	}{
		{"correct", body, good, secret, true},
		{"upper-case hex", body, strings.ToUpper(good), secret, true},
		{"empty signature", body, "", secret, false},
		{"odd length", body, good[:63], secret, false},
		{"too long", body, good + "00", secret, false},
		{"non-hex", body, "zz" + good[2:], secret, false},
		{"wrong secret", body, Sign(body, "other"), secret, false},
		{"tampered body", append([]byte(nil), append(body, ' ')...), good, secret, false},
		{"empty secret", body, Sign(body, ""), "", false},
		{"one bit off", body, flipLastHex(good), secret, false},
		{"whitespace around", body, " " + good, secret, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := VerifySignature(c.body, c.sig, c.secr); got != c.want {
				t.Fatalf("VerifySignature = %v, want %v", got, c.want)
			}
		})
	}
}

func flipLastHex(s string) string {
	b, _ := hex.DecodeString(s)
	b[len(b)-1] ^= 1
	return hex.EncodeToString(b)
}

func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte(`{"event":"payment.captured"}`), "whsec_1", "")
	f.Add([]byte(""), "", "abc")
	f.Add([]byte("x"), "s", strings.Repeat("0", 64))
	f.Add([]byte("x"), "s", strings.Repeat("g", 64))
	f.Fuzz(func(t *testing.T, body []byte, secret, sig string) {
		ok := VerifySignature(body, sig, secret) // must not panic
		if ok && (secret == "" || !strings.EqualFold(sig, Sign(body, secret))) {
			t.Fatalf("accepted a signature that is not Sign(body, secret): %q", sig)
		}
		if secret != "" && !VerifySignature(body, Sign(body, secret), secret) {
			t.Fatal("rejected its own signature")
		}
	})
}

func loadSamples(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "razorpay", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in events/razorpay: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = b
	}
	return out
}

// The events Razorbill handles (shared/razorpay.md) must all have a sample.
var handledEvents = []string{"payment.authorized", "payment.captured", "payment.failed", "payment_link.paid",
	"payment_link.partially_paid", "payment_link.expired", "payment_link.cancelled", "invoice.paid",
	"invoice.partially_paid", "invoice.expired", "refund.processed", "refund.failed"}

func TestParseEventSamples(t *testing.T) {
	t.Parallel()
	samples := loadSamples(t)
	for _, name := range handledEvents {
		if _, ok := samples[name]; !ok {
			t.Errorf("events/razorpay/%s.json is missing", name)
		}
	}
	for name, body := range samples {
		t.Run(name, func(t *testing.T) {
			ev, err := ParseEvent(body)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Name != name || ev.AccountID != "acc_Rzb1LocalAcct01" || ev.CreatedAt.IsZero() || ev.ID != "" {
				t.Fatalf("envelope: %+v", ev)
			}
			// contains names exactly the entities decoded.
			var got []string
			for n, present := range map[string]bool{"payment": ev.Payment != nil, "payment_link": ev.PaymentLink != nil,
				"invoice": ev.Invoice != nil, "order": ev.Order != nil, "refund": ev.Refund != nil} {
				if present {
					got = append(got, n)
				}
			}
			want := slices.Clone(ev.Contains)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("decoded %v, contains %v", got, ev.Contains)
			}
			if ev.Payment != nil {
				p := ev.Payment
				if !strings.HasPrefix(p.ID, "pay_") || p.Amount <= 0 || p.Currency != "INR" || p.CreatedAt.IsZero() || p.Notes == nil {
					t.Fatalf("payment: %+v", p)
				}
				if p.InvoiceID == "" && p.Notes["razorbill_payment_id"] != "pay_01JZB1RAZORBILL" {
					t.Fatalf("a link payment carries the link's notes: %v", p.Notes)
				}
				if p.InvoiceID != "" && len(p.Notes) != 0 {
					t.Fatalf("the invoice payment's notes are [] in the sample: %v", p.Notes)
				}
			}
			if ev.Order != nil && (!strings.HasPrefix(ev.Order.ID, "order_") || ev.Order.Amount <= 0) {
				t.Fatalf("order: %+v", ev.Order)
			}
			if ev.Payment != nil && ev.Order != nil && ev.Payment.OrderID != ev.Order.ID {
				t.Fatalf("payment.order_id %s != order.id %s", ev.Payment.OrderID, ev.Order.ID)
			}
			if l := ev.PaymentLink; l != nil && (!strings.HasPrefix(l.ID, "plink_") || l.ReferenceID == "" || l.Amount != 50000) {
				t.Fatalf("payment link: %+v", l)
			}
			if r := ev.Refund; r != nil && (!strings.HasPrefix(r.ID, "rfnd_") || r.PaymentID == "" || r.Amount != 20000) {
				t.Fatalf("refund: %+v", r)
			}
		})
	}
}

func TestParseEventSampleValues(t *testing.T) {
	t.Parallel()
	s := loadSamples(t)
	ev, err := ParseEvent(s["invoice.paid"])
	if err != nil {
		t.Fatal(err)
	}
	inv := ev.Invoice
	if inv.ID != "inv_Rzb1Invoice0001" || inv.Status != "paid" || inv.Amount != 3000000 || inv.AmountPaid != 3000000 || inv.AmountDue != 0 ||
		inv.Receipt != "RB-2025-0002" || inv.PaymentID != "pay_Rzb1PayInv00001" || !inv.PartialPayment || len(inv.LineItems) != 2 {
		t.Fatalf("invoice: %+v", inv)
	}
	var sum int64
	for _, li := range inv.LineItems {
		sum += li.Amount * li.Quantity
	}
	if sum != inv.Amount || inv.LineItems[0].Quantity != 100000 || inv.LineItems[0].Amount != 25 {
		t.Fatalf("line items %+v do not add up to %d", inv.LineItems, inv.Amount)
	}
	if ev.Payment.InvoiceID != inv.ID || ev.Payment.Method != "card" || !ev.Payment.Captured {
		t.Fatalf("payment: %+v", ev.Payment)
	}
	if !inv.PaidAt.Equal(time.Unix(1751000300, 0)) || !inv.CancelledAt.IsZero() {
		t.Fatalf("times: paid %v cancelled %v", inv.PaidAt, inv.CancelledAt)
	}

	ev, err = ParseEvent(s["payment.failed"])
	if err != nil {
		t.Fatal(err)
	}
	if p := ev.Payment; p.Status != "failed" || p.ErrorCode != "BAD_REQUEST_ERROR" || p.ErrorDescription != "Payment failed" || p.ErrorReason != "payment_failed" {
		t.Fatalf("failed payment: %+v", p)
	}
	ev, err = ParseEvent(s["payment_link.partially_paid"])
	if err != nil {
		t.Fatal(err)
	}
	if l := ev.PaymentLink; l.Status != "partially_paid" || l.AmountPaid != 20000 || !l.AcceptPartial || l.FirstMinPartialAmount != 10000 || l.CallbackMethod != "get" {
		t.Fatalf("link: %+v", l)
	}
	if ev.Order.AmountDue != 30000 || ev.Order.Status != "attempted" {
		t.Fatalf("order: %+v", ev.Order)
	}
}

func TestParseEventTolerance(t *testing.T) {
	t.Parallel()
	// Razorpay's own documented sample shows the order's id without its
	// prefix, notes as null/[]/numbers and a link with expire_by 0.
	body := `{"entity":"event","account_id":"acc_X","event":"payment_link.paid","contains":["payment_link","order","payment"],
	"payload":{"order":{"entity":{"id":"QflczVVaNJciLq","amount":"1000","amount_paid":1000.0,"notes":[],"created_at":"1749618325"}},
	"payment":{"entity":{"id":"pay_Q","amount":1000,"order_id":"order_QflczVVaNJciLq","notes":{"n":7,"b":true,"z":null},"email":null,"captured":"1"}},
	"payment_link":{"entity":{"id":"plink_Q","amount":1000,"notes":null,"expire_by":0,"payments":null,"reminders":[]}}},
	"created_at":1749618314}`
	ev, err := ParseEvent([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Order.ID != "order_QflczVVaNJciLq" || ev.Order.ID != ev.Payment.OrderID || ev.Order.Amount != 1000 || ev.Order.AmountPaid != 1000 {
		t.Fatalf("order: %+v", ev.Order)
	}
	if ev.Payment.Notes["n"] != "7" || ev.Payment.Notes["b"] != "true" || ev.Payment.Email != "" || !ev.Payment.Captured {
		t.Fatalf("payment: %+v", ev.Payment)
	}
	if ev.PaymentLink.Notes == nil || len(ev.PaymentLink.Notes) != 0 || !ev.PaymentLink.ExpireBy.IsZero() {
		t.Fatalf("link: %+v", ev.PaymentLink)
	}
	if !ev.Order.CreatedAt.Equal(time.Unix(1749618325, 0)) {
		t.Fatalf("string timestamp: %v", ev.Order.CreatedAt)
	}
	if _, err := ParseEvent([]byte(`{"event":"payment.captured","payload":[]}`)); err != nil {
		t.Fatalf("PHP's [] payload: %v", err)
	}
}

func TestParseEventRejects(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"empty":              ``,
		"not json":           `<html>`,
		"array":              `[]`,
		"truncated":          `{"event":"payment.captured"`,
		"no event":           `{"entity":"event","payload":{}}`,
		"event null":         `{"event":null}`,
		"inexact amount":     `{"event":"payment.captured","payload":{"payment":{"entity":{"id":"pay_1","amount":100.5}}}}`,
		"entity not object":  `{"event":"payment.captured","payload":{"payment":{"entity":"pay_1"}}}`,
		"amount not numeric": `{"event":"payment.captured","payload":{"payment":{"entity":{"amount":"ten"}}}}`,
	} {
		if _, err := ParseEvent([]byte(body)); err == nil {
			t.Errorf("%s: ParseEvent accepted %s", name, body)
		}
	}
}

func TestBuildEventBodyRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Unix(1751000000, 0)
	body, err := BuildEventBody("payment_link.paid", "acc_A", at,
		EventEntity{"payment_link", map[string]any{"id": "plink_1", "amount": 5000, "notes": []any{}}},
		EventEntity{"order", map[string]any{"id": "order_1", "amount": 5000}},
		EventEntity{"payment", map[string]any{"id": "pay_1", "amount": 5000, "order_id": "order_1"}})
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil || string(env["entity"]) != `"event"` || string(env["contains"]) != `["payment_link","order","payment"]` {
		t.Fatalf("envelope %s: %v", body, err)
	}
	ev, err := ParseEvent(body)
	if err != nil || ev.Name != "payment_link.paid" || !ev.CreatedAt.Equal(at) || ev.PaymentLink.ID != "plink_1" || ev.Payment.OrderID != ev.Order.ID {
		t.Fatalf("round trip: %+v %v", ev, err)
	}
	if _, err := BuildEventBody("", "acc", at); err == nil {
		t.Fatal("an unnamed event was built")
	}
	if _, err := BuildEventBody("x", "acc", at, EventEntity{"payment", 1}, EventEntity{"payment", 2}); err == nil {
		t.Fatal("an entity given twice was accepted")
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, b := range loadSamples(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"event":"x","payload":{"payment":{"entity":{"notes":[1,2],"amount":"1e3"}}}}`))
	f.Add([]byte(`{"event":"x","payload":{"order":{"entity":{"id":""}}},"contains":"payment"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseEvent(body) // must not panic
		if err == nil && ev.Name == "" {
			t.Fatal("accepted an event without a name")
		}
		if err == nil && ev.Payment != nil && ev.Payment.Notes == nil {
			t.Fatal("nil notes")
		}
	})
}
