package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/logx"
)

// FuzzInvoiceBody feeds arbitrary bodies through strict decoding and the
// invoice rules: never a panic, and every rejection a 4xx with the envelope.
func FuzzInvoiceBody(f *testing.F) {
	for _, s := range []string{
		`{"customer_id":"cus_1","currency":"inr","line_items":[{"display_name":"a","quantity":"1234567","unit_amount":"0.0015"}]}`,
		`{"customer_id":"cus_1","currency":"KWD","line_items":[{"display_name":"a","quantity":1,"unit_amount":1.005}]}`,
		`{"line_items":[{"quantity":{},"unit_amount":[]}]}`, `{"due_date":"x"}`, `[]`, `{`, `null`, `{"a":1}`,
		`{"customer_id":"c","currency":"jpy","line_items":[{"display_name":"x","quantity":"-0","unit_amount":"1e9"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in invoiceInput
		err := Decode(body, &in)
		if err == nil {
			for _, li := range in.LineItems {
				if e := li.Quantity.Check("q", true); e != nil {
					err = e
				}
				if e := li.UnitAmount.Check("u", true); e != nil {
					err = e
				}
			}
		}
		if err == nil {
			bin := billing.InvoiceInput{CustomerID: in.CustomerID, Currency: in.Currency, Metadata: in.Metadata}
			for _, li := range in.LineItems {
				bin.LineItems = append(bin.LineItems, billing.LineItemInput{DisplayName: li.DisplayName, Quantity: li.Quantity.Text, UnitAmount: li.UnitAmount.Text, PriceType: li.PriceType})
			}
			var inv billing.Invoice
			inv, err = billing.BuildInvoice(bin)
			if err == nil {
				var sum int64
				for _, l := range inv.LineItems {
					sum += l.Amount
				}
				if sum != inv.AmountDue {
					t.Fatalf("lines sum %d, amount due %d", sum, inv.AmountDue)
				}
				return
			}
		}
		status, env := apperr.Envelope(err)
		if status < 400 || status >= 500 || env.Error.Code == "" || env.Error.Message == "" {
			t.Fatalf("rejection %d %+v for %q", status, env, body)
		}
	})
}

// FuzzRouter sends arbitrary bodies and paths through the router (with no
// credentials): it must always answer with a JSON error envelope, never panic.
func FuzzRouter(f *testing.F) {
	f.Add("/api/v1/customers", "POST", []byte(`{"external_id":"x"}`))
	f.Add("/api/v1/invoices/inv_1/finalize", "POST", []byte(``))
	f.Add("/health", "GET", []byte(nil))
	f.Add("//api//v1/", "PATCH", []byte(`{`))
	rt := NewRouter(nil, nil, func(context.Context) (string, error) { return "admin-token-0123456789abcdef", nil }, logx.New(io.Discard, "error"), nil)
	rt.Add((&Ledger{}).Routes()...)
	rt.Add((&Payments{}).Routes()...)
	rt.Add((&GatewayEvents{}).Routes()...)
	f.Fuzz(func(t *testing.T, path, method string, body []byte) {
		ev := events.APIGatewayV2HTTPRequest{RawPath: path, Body: string(body), Headers: map[string]string{}}
		ev.RequestContext.HTTP.Method = method
		out, err := rt.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if out.StatusCode == 200 {
			return // /health
		}
		var env apperr.Body
		if out.StatusCode < 400 || json.Unmarshal([]byte(out.Body), &env) != nil || env.Error.Code == "" {
			t.Fatalf("%s %q: %d %s", method, path, out.StatusCode, out.Body)
		}
	})
}
