package usage

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/razorbill/razorbill/internal/apperr"
)

var t0 = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func rules() Rules {
	return Rules{Now: t0, Meters: []Meter{
		{ID: "mtr_count", EventName: "api_call", Aggregation: Count, Status: MeterActive},
		{ID: "mtr_sum", EventName: "api_call", Aggregation: Sum, Property: "tokens", Status: MeterActive},
		{ID: "mtr_old", EventName: "legacy", Aggregation: Count, Status: MeterArchived},
		{ID: "mtr_users", EventName: "login", Aggregation: UniqueCount, Property: "user", Status: MeterActive},
	}}
}

func good() Input {
	return Input{EventID: "evt-1", EventName: "api_call", CustomerExternalID: "acct-42", Timestamp: "2026-12-05T11:00:00Z",
		Properties: map[string]Property{"tokens": {Text: "1500.25", Number: true}, "region": {Text: "ap-south-1"}}}
}

func TestCheckRejectsEachBadInputWithItsCode(t *testing.T) {
	t.Parallel()
	e, err := rules().Check(good())
	if err != nil {
		t.Fatal(err)
	}
	if e.Properties["tokens"] != "1500.25" || !e.AcceptedAt.Equal(t0) || e.CustomerKey() != "x:acct-42" {
		t.Fatalf("accepted event: %+v", e)
	}
	bare := good()
	bare.Properties, bare.EventName = nil, "login"
	bare.EventName = "api_call"
	rs := rules()
	rs.Meters = rs.Meters[:1] // COUNT only: no property needed
	if e, err := rs.Check(bare); err != nil || e.Properties != nil {
		t.Fatalf("an event without properties: %+v %v (stored without the attribute: an empty map does not survive the stream)", e, err)
	}
	many := map[string]Property{}
	for i := range 10000 {
		many[strings.Repeat("k", 1+i%100)+string(rune('a'+i%26))] = Property{Text: "1"}
	}
	cases := []struct {
		name        string
		edit        func(*Input)
		code, field string
	}{
		{"no id", func(in *Input) { in.EventID = "" }, "validation_failed", "event_id"},
		{"long id", func(in *Input) { in.EventID = strings.Repeat("x", 256) }, "validation_failed", "event_id"},
		{"control in id", func(in *Input) { in.EventID = "a\nb" }, "validation_failed", "event_id"},
		{"bad name", func(in *Input) { in.EventName = "api call" }, "validation_failed", "event_name"},
		{"unknown name", func(in *Input) { in.EventName = "storage" }, "unknown_event_name", "event_name"},
		{"archived meter only", func(in *Input) { in.EventName = "legacy" }, "unknown_event_name", "event_name"},
		{"no customer", func(in *Input) { in.CustomerExternalID = "" }, "validation_failed", "customer_external_id"},
		{"both customers", func(in *Input) { in.CustomerID = "cus_01jh0000000000000000000000" }, "validation_failed", "customer_id"},
		{"customer id of another kind", func(in *Input) { in.CustomerExternalID, in.CustomerID = "", "inv_01jh0000000000000000000000" }, "validation_failed", "customer_id"},
		{"no timestamp", func(in *Input) { in.Timestamp = "" }, "validation_failed", "timestamp"},
		{"malformed timestamp", func(in *Input) { in.Timestamp = "2026-12-05 11:00" }, "validation_failed", "timestamp"},
		{"too old", func(in *Input) { in.Timestamp = t0.Add(-35*24*time.Hour - time.Second).Format(time.RFC3339) }, "timestamp_too_old", "timestamp"},
		{"future", func(in *Input) { in.Timestamp = t0.Add(5*time.Minute + time.Second).Format(time.RFC3339) }, "timestamp_in_future", "timestamp"},
		{"1e400", func(in *Input) { in.Properties["tokens"] = Property{Text: "1e400", Number: true} }, "invalid_number", "properties.tokens"},
		{"too many digits", func(in *Input) { in.Properties["x"] = Property{Text: "1234567890123456", Number: true} }, "invalid_number", "properties.x"},
		{"sum property missing", func(in *Input) { delete(in.Properties, "tokens") }, "missing_property", "properties.tokens"},
		{"sum property not a decimal", func(in *Input) { in.Properties["tokens"] = Property{Text: "lots"} }, "invalid_number", "properties.tokens"},
		{"10,000 properties", func(in *Input) { in.Properties = many }, "too_many_properties", "properties"},
		{"long value", func(in *Input) { in.Properties["region"] = Property{Text: strings.Repeat("é", 300)} }, "validation_failed", "properties.region"},
	}
	for _, c := range cases {
		in := good()
		in.Properties = map[string]Property{"tokens": in.Properties["tokens"], "region": in.Properties["region"]}
		c.edit(&in)
		_, err := rules().Check(in)
		ae := apperr.As(err)
		if ae == nil || ae.Kind != apperr.Invalid || ae.Code != c.code || ae.Field != c.field {
			t.Errorf("%s: got %v, want %s on %s", c.name, err, c.code, c.field)
		}
	}
	// At the limits: exactly 35 days old and 5 minutes ahead are accepted.
	for _, ts := range []time.Time{t0.Add(-35 * 24 * time.Hour), t0.Add(5 * time.Minute)} {
		in := good()
		in.Timestamp = ts.Format(time.RFC3339)
		if _, err := rules().Check(in); err != nil {
			t.Errorf("%s: %v", in.Timestamp, err)
		}
	}
}

func TestValidateMeter(t *testing.T) {
	t.Parallel()
	ok := Meter{Name: "Tokens", EventName: "api_call", Aggregation: "sum", Property: "tokens", Filters: map[string][]string{"region": {"ap-south-1"}}}
	if err := ValidateMeter(&ok); err != nil || ok.Aggregation != Sum {
		t.Fatalf("%v %+v", err, ok)
	}
	bad := map[string]Meter{
		"name":        {EventName: "a", Aggregation: Count},
		"event_name":  {Name: "x", EventName: "a b", Aggregation: Count},
		"aggregation": {Name: "x", EventName: "a", Aggregation: "AVG"},
		"property":    {Name: "x", EventName: "a", Aggregation: Sum},
		"filters":     {Name: "x", EventName: "a", Aggregation: Count, Filters: map[string][]string{"region": {}}},
	}
	for field, m := range bad {
		if ae := apperr.As(ValidateMeter(&m)); ae == nil || ae.Field != field {
			t.Errorf("%s: got %v", field, ae)
		}
	}
	// A COUNT meter may name a property (api.md's example names one beside
	// every aggregation): kept, not read; a property key that is not valid
	// is still refused.
	withProp := Meter{Name: "x", EventName: "a", Aggregation: Count, Property: "tokens"}
	if err := ValidateMeter(&withProp); err != nil || withProp.Property != "tokens" {
		t.Errorf("COUNT with a property: %v (%+v)", err, withProp)
	}
	badProp := Meter{Name: "x", EventName: "a", Aggregation: Count, Property: "to\x01kens"}
	if ae := apperr.As(ValidateMeter(&badProp)); ae == nil || ae.Field != "property" {
		t.Errorf("COUNT with a control character in its property: %v", ae)
	}
	// Its events need not carry the property to be counted.
	withProp.ID, withProp.Status = "mtr_count", MeterActive
	if _, err := (Rules{Now: t0, Meters: []Meter{withProp}}).Check(Input{EventID: "e1", EventName: "a", CustomerExternalID: "c", Timestamp: "2026-12-05T11:00:00Z"}); err != nil {
		t.Errorf("an event without the COUNT meter's property: %v", err)
	}
}

func TestFoldAndMerge(t *testing.T) {
	t.Parallel()
	ev := func(id string, at time.Duration, v string) Event {
		return Event{ID: id, Name: "x", Timestamp: t0.Add(at), Properties: map[string]string{"v": v, "u": v}}
	}
	d := decimal.RequireFromString
	for _, c := range []struct {
		agg  string
		want string
	}{{Count, "4"}, {Sum, "0.0045"}, {Max, "0.002"}, {Latest, "0.001"}, {UniqueCount, "4"}} {
		m := Meter{ID: "m", Aggregation: c.agg, Property: "v"}
		if c.agg == UniqueCount {
			m.Property = "u"
		}
		// Two buckets merged must equal one bucket holding every event.
		var a, b, all Bucket
		evs := []Event{ev("e1", 0, "0.0015"), ev("e2", time.Minute, "0.002"), ev("e3", time.Hour, "0.0005"), ev("e4", time.Hour, "0.0005")}
		evs[3].ID = "e0" // same instant as e3, smaller id: e3 is LATEST
		evs[2].Properties["v"], evs[2].Properties["u"] = "0.001", "0.001"
		for i, e := range evs {
			if err := Fold(m, &all, e); err != nil {
				t.Fatal(err)
			}
			target := &a
			if i%2 == 1 {
				target = &b
			}
			if err := Fold(m, target, e); err != nil {
				t.Fatal(err)
			}
		}
		merged := Merge(c.agg, a, b)
		got, want := Result(c.agg, merged), Result(c.agg, all)
		if !got.Equal(want) {
			t.Errorf("%s: merged %s, folded %s", c.agg, got, want)
		}
		// Written out by hand: 0.0015 + 0.002 + 0.001 + 0.0005 = 0.005 for SUM.
		if c.agg == Sum {
			c.want = "0.005"
		}
		if !got.Equal(d(c.want)) {
			t.Errorf("%s = %s, want %s", c.agg, got, c.want)
		}
	}
	if Format(d("1500.2500")) != "1500.25" || Format(d("100")) != "100" || Format(decimal.Zero) != "0" {
		t.Error("Format trims trailing zeros only")
	}
}

func TestWindowsAlignToCalendarAndClip(t *testing.T) {
	t.Parallel()
	start, end := time.Date(2026, 1, 30, 22, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	months := Windows(start, end, WindowMonth)
	if len(months) != 3 || !months[1].Start.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) || !months[2].End.Equal(end) || !months[0].Start.Equal(start) {
		t.Fatalf("months: %+v", months)
	}
	if n := len(Windows(start, end, WindowDay)); n != 31 { // Jan 30 (clipped), Jan 31, 28 February days, Mar 1 (clipped)
		t.Fatalf("days: %d", n)
	}
	if n := len(Windows(start, end, WindowHour)); n != int(end.Sub(start)/time.Hour) {
		t.Fatalf("hours: %d", n)
	}
	if w := Windows(start, end, ""); len(w) != 1 || !w[0].End.Equal(end) {
		t.Fatalf("one window: %+v", w)
	}
	if m := Months(start, end); strings.Join(m, ",") != "2026-01,2026-02,2026-03" {
		t.Fatalf("months touched: %v", m)
	}
}
