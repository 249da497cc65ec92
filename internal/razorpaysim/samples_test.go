package razorpaysim_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// TestEmittedEventsMatchSamples drives the simulator through every event
// in events/razorpay and checks that what it emits has the sample's
// "contains" and exactly the sample's entity fields (the samples follow
// Razorpay's documented payloads).
func TestEmittedEventsMatchSamples(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{})
	later := time.Unix(e.now.Load(), 0).Add(48 * time.Hour).Unix()
	link := func(ref string, partial bool) string {
		body := map[string]any{"amount": 50000, "currency": "INR", "reference_id": ref, "description": "Invoice RB-1",
			"customer": map[string]any{"name": "Asha Rao", "email": "asha@example.com", "contact": "+919000090000"},
			"notes":    map[string]any{"razorbill_payment_id": ref}, "callback_url": "https://app.example.com/paid", "callback_method": "get",
			"expire_by": later, "accept_partial": partial}
		if partial {
			body["first_min_partial_amount"] = 10000
		}
		a := e.call(t, "POST", "/v1/payment_links", body)
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.raw)
		}
		return a.json(t)["id"].(string)
	}
	cust := e.call(t, "POST", "/v1/customers", map[string]any{"name": "Asha Rao", "email": "asha@example.com", "contact": "+919000090000"}).json(t)["id"]
	invoice := func(receipt string) string {
		a := e.call(t, "POST", "/v1/invoices", map[string]any{"type": "invoice", "customer_id": cust, "receipt": receipt, "partial_payment": true,
			"expire_by": later, "notes": map[string]any{"invoice_number": receipt}, "description": "Invoice " + receipt,
			"line_items": []any{map[string]any{"name": "API calls", "amount": 25, "quantity": 100000}, map[string]any{"name": "Platform fee", "amount": 500000}}})
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.raw)
		}
		return a.json(t)["id"].(string)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	paid, err := e.sim.PayPaymentLink(link("full", false), razorpaysim.PayOptions{Method: "upi"})
	must(err)
	_, err = e.sim.PayPaymentLink(link("part", true), razorpaysim.PayOptions{Method: "upi", Amount: 20000})
	must(err)
	_, err = e.sim.FailPaymentLink(link("fail", false), razorpaysim.FailOptions{Method: "upi"})
	must(err)
	must(e.sim.CancelPaymentLink(link("cancel", false)))
	must(e.sim.ExpirePaymentLink(link("expire", false)))
	_, err = e.sim.PayInvoice(invoice("RB-P"), razorpaysim.PayOptions{Method: "card"})
	must(err)
	_, err = e.sim.PayInvoice(invoice("RB-PP"), razorpaysim.PayOptions{Method: "card", Amount: 1000000})
	must(err)
	must(e.sim.ExpireInvoice(invoice("RB-E")))
	if a := e.call(t, "POST", "/v1/payments/"+paid.PaymentID+"/refund", map[string]any{"amount": 20000, "receipt": "r1", "notes": map[string]any{"reason": "dup"}}); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	must(e.sim.SetManualRefunds(e.acct.KeyID, true))
	rf := e.call(t, "POST", "/v1/payments/"+paid.PaymentID+"/refund", map[string]any{"amount": 100, "receipt": "r2", "notes": map[string]any{"reason": "dup"}}).json(t)
	must(e.sim.ProcessRefund(rf["id"].(string), false))

	emitted := map[string]map[string]any{} // first event of each name
	for _, ev := range e.sim.Events(e.acct.KeyID) {
		if _, ok := emitted[ev.Name]; ok {
			continue
		}
		var m map[string]any
		must(json.Unmarshal(ev.Body, &m))
		emitted[ev.Name] = m
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "events", "razorpay", "*.json"))
	if len(files) < 12 {
		t.Fatalf("only %d samples", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			must(err)
			var sample map[string]any
			must(json.Unmarshal(raw, &sample))
			got, ok := emitted[name]
			if !ok {
				t.Fatalf("the simulator never emitted %s", name)
			}
			if !slices.Equal(keys(sample), keys(got)) {
				t.Fatalf("envelope keys %v, sample %v", keys(got), keys(sample))
			}
			if !slices.Equal(strs(sample["contains"]), strs(got["contains"])) {
				t.Fatalf("contains %v, sample %v", got["contains"], sample["contains"])
			}
			sp, gp := sample["payload"].(map[string]any), got["payload"].(map[string]any)
			for ent := range sp {
				se := sp[ent].(map[string]any)["entity"].(map[string]any)
				ge := gp[ent].(map[string]any)["entity"].(map[string]any)
				if !slices.Equal(keys(se), keys(ge)) {
					t.Errorf("%s fields differ\n missing: %v\n extra:   %v", ent, minus(keys(se), keys(ge)), minus(keys(ge), keys(se)))
				}
				for k, v := range se {
					if sub, ok := v.(map[string]any); ok && k != "notes" {
						if gsub, ok := ge[k].(map[string]any); ok && !slices.Equal(keys(sub), keys(gsub)) {
							t.Errorf("%s.%s fields: got %v, sample %v", ent, k, keys(gsub), keys(sub))
						}
					}
				}
				if se["entity"] != nil && se["entity"] != ge["entity"] {
					t.Errorf("%s.entity %v", ent, ge["entity"])
				}
			}
		})
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
