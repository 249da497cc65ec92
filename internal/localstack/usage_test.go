package localstack_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestUsageEventsBecomeUsageEndToEnd drives metering through the local
// stack as a client would: meters made through the api function, events
// through the usage-ingest function (single and bulk, with duplicates and
// bad events), counted by the usage-aggregator from the table's stream,
// read back per window; events for an external id that no customer has yet
// are kept and counted once the customer exists.
func TestUsageEventsBecomeUsageEndToEnd(t *testing.T) {
	t.Parallel()
	s := start(t)
	calls := s.must(s.call("POST", "/api/v1/meters", map[string]any{"name": "API calls", "event_name": "api_call", "aggregation": "COUNT"}), 201)
	tokens := s.must(s.call("POST", "/api/v1/meters", map[string]any{"name": "Tokens in Mumbai", "event_name": "api_call", "aggregation": "sum",
		"property": "tokens", "filters": map[string]any{"region": []string{"ap-south-1"}}}), 201)
	if tokens.s("aggregation") != "SUM" || tokens.s("status") != "ACTIVE" || !strings.HasPrefix(tokens.s("id"), "mtr_") {
		t.Fatalf("meter: %s", tokens.Raw)
	}
	now := time.Now().UTC()
	hour := now.Truncate(time.Hour)
	ts := func(d time.Duration) string { return hour.Add(-d).Add(90 * time.Second).Format(time.RFC3339) }
	// Events for acct-42 before the customer exists.
	one := map[string]any{"event_id": "evt-1", "event_name": "api_call", "customer_external_id": "acct-42", "timestamp": ts(2 * time.Hour),
		"properties": map[string]any{"tokens": "1500.25", "region": "ap-south-1"}}
	if r := s.must(s.call("POST", "/api/v1/events", one), 202); r.s("status") != "ACCEPTED" {
		t.Fatalf("first event: %s", r.Raw)
	}
	if r := s.must(s.call("POST", "/api/v1/events", one), 202); r.s("status") != "DUPLICATE" {
		t.Fatalf("repeat: %s", r.Raw)
	}
	cus := s.customer("acct-42", "usage@example.com")
	var batch []map[string]any
	for i := 2; i <= 40; i++ {
		region := "ap-south-1"
		if i%4 == 0 {
			region = "us-east-1"
		}
		batch = append(batch, map[string]any{"event_id": fmt.Sprintf("evt-%d", i), "event_name": "api_call", "customer_id": cus,
			"timestamp": ts(time.Duration(i%3) * time.Hour), "properties": map[string]any{"tokens": 100, "region": region}})
	}
	batch = append(batch, one, // a duplicate inside a bulk call
		map[string]any{"event_id": "bad-time", "event_name": "api_call", "customer_id": cus, "timestamp": "yesterday"},
		map[string]any{"event_id": "bad-number", "event_name": "api_call", "customer_id": cus, "timestamp": ts(0), "properties": map[string]any{"tokens": json1e400{}}},
		map[string]any{"event_id": "no-meter", "event_name": "storage", "customer_id": cus, "timestamp": ts(0)},
		map[string]any{"event_id": "too-old", "event_name": "api_call", "customer_id": cus, "timestamp": now.Add(-36 * 24 * time.Hour).Format(time.RFC3339)},
		map[string]any{"event_id": "many-keys", "event_name": "api_call", "customer_id": cus, "timestamp": ts(0), "properties": manyKeys(10000)},
		map[string]any{"event_id": "future", "event_name": "api_call", "customer_id": cus, "timestamp": now.Add(time.Hour).Format(time.RFC3339)},
	)
	r := s.must(s.call("POST", "/api/v1/events/bulk", map[string]any{"events": batch}), 202)
	if r.Body["accepted"] != float64(39) || r.Body["duplicates"] != float64(1) {
		t.Fatalf("bulk: %s", r.Raw)
	}
	codes := map[string]string{}
	for _, x := range r.Body["rejected"].([]any) {
		m := x.(map[string]any)
		codes[m["event_id"].(string)] = m["code"].(string)
	}
	want := map[string]string{"bad-time": "validation_failed", "bad-number": "invalid_number", "no-meter": "unknown_event_name",
		"too-old": "timestamp_too_old", "many-keys": "too_many_properties", "future": "timestamp_in_future"}
	for id, code := range want {
		if codes[id] != code {
			t.Errorf("event %s rejected with %q, want %q (%s)", id, codes[id], code, r.Raw)
		}
	}
	// Counted asynchronously; the total is exact.
	q := fmt.Sprintf("/api/v1/usage?meter_id=%s&customer_id=%s&start=%s&end=%s&window=HOUR", calls.s("id"), cus,
		hour.Add(-3*time.Hour).Format(time.RFC3339), hour.Add(time.Hour).Format(time.RFC3339))
	s.eventually("40 calls counted", func() bool { return s.must(s.call("GET", q, nil), 200).s("total") == "40" })
	u := s.must(s.call("GET", q, nil), 200)
	if d := u.Body["data"].([]any); len(d) != 4 {
		t.Fatalf("4 hourly windows expected: %s", u.Raw)
	}
	// 1500.25 (acct-42, before the customer existed) + 100 × the 29 Mumbai events of evt-2..evt-40.
	qt := fmt.Sprintf("/api/v1/usage?meter_id=%s&customer_id=%s&start=%s&end=%s", tokens.s("id"), cus,
		hour.Add(-3*time.Hour).Format(time.RFC3339), hour.Add(time.Hour).Format(time.RFC3339))
	s.eventually("tokens summed", func() bool { return s.must(s.call("GET", qt, nil), 200).s("total") == "4400.25" })

	// Raw events are listed newest first for the customer (both keys).
	list := s.must(s.call("GET", fmt.Sprintf("/api/v1/events?customer_id=%s&start=%s&end=%s&limit=100", cus,
		hour.Add(-3*time.Hour).Format(time.RFC3339), hour.Add(time.Hour).Format(time.RFC3339)), nil), 200)
	if n := len(list.Body["data"].([]any)); n != 40 {
		t.Fatalf("listed %d events, want 40", n)
	}
	// Bad queries.
	s.must(s.call("GET", "/api/v1/usage?meter_id=mtr_x&customer_id="+cus+"&start=2026-12-01T00:00:00Z&end=2026-12-02T00:00:00Z", nil), 404)
	bad := s.must(s.call("GET", fmt.Sprintf("/api/v1/usage?meter_id=%s&customer_id=%s&start=2026-12-01T00:30:00Z&end=2026-12-02T00:00:00Z", calls.s("id"), cus), nil), 400)
	if bad.s("error", "field") != "start" {
		t.Fatalf("unaligned start: %s", bad.Raw)
	}
	big := make([]map[string]any, 1001)
	for i := range big {
		big[i] = one
	}
	if r := s.must(s.call("POST", "/api/v1/events/bulk", map[string]any{"events": big}), 400); r.s("error", "code") != "too_many_events" {
		t.Fatalf("1001 events: %s", r.Raw)
	}
	// Archived: no longer counts new events, and a new event for it is refused when no other meter counts it.
	s.must(s.call("POST", "/api/v1/meters/"+calls.s("id")+"/archive", nil), 200)
	s.must(s.call("POST", "/api/v1/meters/"+tokens.s("id")+"/archive", nil), 200)
	if r := s.must(s.call("POST", "/api/v1/events", map[string]any{"event_id": "late-1", "event_name": "api_call", "customer_id": cus, "timestamp": ts(0)}), 400); r.s("error", "code") != "unknown_event_name" {
		t.Fatalf("event after archive: %s", r.Raw)
	}
}

// json1e400 marshals as the JSON number 1e400 (a float64 cannot hold it).
type json1e400 struct{}

func (json1e400) MarshalJSON() ([]byte, error) { return []byte("1e400"), nil }

func manyKeys(n int) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = i
	}
	return m
}
