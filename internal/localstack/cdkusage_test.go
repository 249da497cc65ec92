package localstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// sampleEvent reads events/<dir>/<name> with the sample's fixed tenant,
// environment and timestamps replaced (old → new pairs), into v.
func sampleEvent(t *testing.T, dir, name string, v any, replace ...string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", dir, name))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(replace...).Replace(string(raw))
	if err := json.Unmarshal([]byte(text), v); err != nil {
		t.Fatal(err)
	}
}

// The usage samples in events/ run through the usage functions' handlers
// on this stack's table: the API Gateway request for POST
// /api/v1/events/bulk through usage-ingest (two events accepted, the
// repeat of the first a duplicate), counted by the stack's aggregator from
// the table's stream; the DynamoDB stream record of a usage_event INSERT
// through usage-aggregator (counted once, and a redelivery of it adds
// nothing). The samples' timestamps are moved to the last hour so they are
// within the lateness window, and the stream record's accepted_at to now.
func TestSampleUsageEvents(t *testing.T) {
	t.Parallel()
	s := start(t)
	calls := s.must(s.call("POST", "/api/v1/meters", map[string]any{"name": "API calls", "event_name": "api_call", "aggregation": "COUNT"}), 201)
	tokens := s.must(s.call("POST", "/api/v1/meters", map[string]any{"name": "Tokens", "event_name": "api_call", "aggregation": "SUM", "property": "tokens"}), 201)
	cus := s.customer("acct-42", "sample-usage@example.com")

	hour := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	ts1, ts2 := hour.Add(15*time.Minute).Format(time.RFC3339), hour.Add(20*time.Minute).Format(time.RFC3339)
	scope := []string{"tnt_01jh0000000000000000000000", s.dev.TenantID, "env_01jh0000000000000000000001", s.dev.EnvironmentID,
		"2026-12-01T10:15:00Z", ts1, "2026-12-01T10:20:00Z", ts2}

	var req events.APIGatewayV2HTTPRequest
	sampleEvent(t, "apigw", "usage-events-bulk.json", &req, scope...)
	if req.RouteKey != "POST /api/v1/events/bulk" {
		t.Fatalf("sample route %q", req.RouteKey)
	}
	req.Headers["authorization"] = "Bearer " + s.dev.APIKey
	out, err := s.st.Deps.UsageIngestHandler().Handle(context.Background(), req)
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("bulk sample: %v %d %s", err, out.StatusCode, out.Body)
	}
	var res struct {
		Accepted, Duplicates int
		Rejected             []any
	}
	if err := json.Unmarshal([]byte(out.Body), &res); err != nil || res.Accepted != 2 || res.Duplicates != 1 || len(res.Rejected) != 0 {
		t.Fatalf("bulk sample: %v %s", err, out.Body)
	}
	usage := func(meter string) string {
		q := fmt.Sprintf("/api/v1/usage?meter_id=%s&customer_id=%s&start=%s&end=%s", meter, cus,
			hour.Format(time.RFC3339), hour.Add(time.Hour).Format(time.RFC3339))
		return s.must(s.call("GET", q, nil), 200).s("total")
	}
	s.eventually("the bulk sample counted", func() bool { return usage(calls.s("id")) == "2" && usage(tokens.s("id")) == "1750.25" })

	// The stream sample, as an event the ingest never saw: counted once.
	// It was accepted now (a meter counts events accepted after it was made).
	var ev events.DynamoDBEvent
	sampleEvent(t, "dynamodb", "usage-event-insert.json", &ev, append(scope, "evt-sample-0001", "evt-sample-stream",
		"2026-12-01T10:15:01.25Z", time.Now().UTC().Format(time.RFC3339Nano))...)
	if len(ev.Records) != 1 || ev.Records[0].EventName != "INSERT" || ev.Records[0].Change.NewImage["entity"].String() != "usage_event" {
		t.Fatalf("stream sample: %+v", ev.Records)
	}
	agg := s.st.Deps.UsageAggregator()
	for i := 0; i < 2; i++ { // the second is a redelivery
		r, err := agg.Handle(context.Background(), ev)
		if err != nil || len(r.BatchItemFailures) != 0 {
			t.Fatalf("stream sample, delivery %d: %v %+v", i+1, err, r.BatchItemFailures)
		}
		if got, want := usage(calls.s("id"))+" "+usage(tokens.s("id")), "3 3250.5"; got != want {
			t.Fatalf("after the stream sample's delivery %d: count and sum %s, want %s", i+1, got, want)
		}
	}
}
