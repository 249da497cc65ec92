package webhook

import (
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
