package httpapi

import (
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/usage"
)

// FuzzEventBody feeds arbitrary event bodies through strict decoding and
// usage's rules: never a panic; a rejection is a 400 with a code; an
// accepted event holds only what the rules allow (≤ 50 properties, every
// number a plain decimal, the timestamp inside the accepted range).
func FuzzEventBody(f *testing.F) {
	for _, s := range []string{
		`{"event_id":"evt-1","event_name":"api_call","customer_external_id":"acct-42","timestamp":"2026-12-05T11:00:00Z","properties":{"tokens":"1500","region":"ap-south-1"}}`,
		`{"event_id":"e","event_name":"api_call","customer_id":"cus_01jh0000000000000000000000","timestamp":"2026-12-05T11:59:59.999999999+05:30","properties":{"tokens":1e400}}`,
		`{"event_id":"e","event_name":"api_call","customer_external_id":"a","timestamp":"2026-12-05T11:00:00Z","properties":{"tokens":-0.000000000001}}`,
		`{"properties":{"a":true,"b":null,"c":{},"d":[]}}`, `{"properties":[]}`, `{`, `[]`, `{"event_id":1}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	rules := usage.Rules{Now: now, Meters: []usage.Meter{{ID: "m", EventName: "api_call", Aggregation: usage.Sum, Property: "tokens", Status: usage.MeterActive}}}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeEvent(body)
		if err == nil {
			var e usage.Event
			e, err = rules.Check(in)
			if err == nil {
				if len(e.Properties) > usage.MaxProperties || e.Timestamp.Before(now.Add(-usage.DefaultLateness)) || e.Timestamp.After(now.Add(usage.MaxFuture)) {
					t.Fatalf("accepted %+v", e)
				}
				if _, perr := usage.ParseValue(e.Properties["tokens"]); perr != nil {
					t.Fatalf("accepted a SUM event whose tokens %q is not a decimal", e.Properties["tokens"])
				}
				return
			}
		}
		ae := apperr.As(err)
		if ae == nil || ae.Kind != apperr.Invalid || ae.Code == "" {
			t.Fatalf("rejection %v is not a coded 400", err)
		}
	})
}
