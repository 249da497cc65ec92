// Package usage is Razorbill's metering domain: meters, usage events and the
// arithmetic that turns distinct events into per-window quantities. It
// imports no adapter: the dynamo/usagedb package stores what it describes,
// the httpapi package validates requests with it, and the aggregator folds
// events into hourly buckets with Fold and reads them back with Merge.
//
// Every number is an exact decimal (shopspring/decimal over the event's
// text); nothing here is a float.
package usage

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Aggregations a meter can apply.
const (
	Count       = "COUNT"
	Sum         = "SUM"
	Max         = "MAX"
	UniqueCount = "UNIQUE_COUNT"
	Latest      = "LATEST"
)

// Aggregations lists them in the order the README documents.
var Aggregations = []string{Count, Sum, Max, UniqueCount, Latest}

// Meter statuses.
const (
	MeterActive   = "ACTIVE"
	MeterArchived = "ARCHIVED"
)

// Windows a usage query can group by.
const (
	WindowHour  = "HOUR"
	WindowDay   = "DAY"
	WindowMonth = "MONTH"
)

// Shards is how many ways one customer's buckets and raw-event timeline are
// split (the timeline by a hash of the event id, a bucket write by that of
// one of the events it counts), so that one customer sending thousands of
// events a second spreads its writes over several items instead of one.
const Shards = 8

// Meter turns events named EventName into a quantity.
type Meter struct {
	ID          string              `dynamodbav:"id" json:"id"`
	Name        string              `dynamodbav:"name" json:"name"`
	EventName   string              `dynamodbav:"event_name" json:"event_name"`
	Aggregation string              `dynamodbav:"aggregation" json:"aggregation"`
	Property    string              `dynamodbav:"property,omitempty" json:"property,omitempty"`
	Filters     map[string][]string `dynamodbav:"filters,omitempty" json:"filters,omitempty"`
	Status      string              `dynamodbav:"status" json:"status"`
	CreatedAt   time.Time           `dynamodbav:"created_at" json:"created_at"`
	ArchivedAt  *time.Time          `dynamodbav:"archived_at,omitempty" json:"archived_at,omitempty"`
}

// Event is one usage event as accepted: its properties keep the text the
// client sent (a JSON number's digits, or a string).
type Event struct {
	ID                 string            `dynamodbav:"event_id"`
	Name               string            `dynamodbav:"event_name"`
	CustomerID         string            `dynamodbav:"customer_id,omitempty"`
	CustomerExternalID string            `dynamodbav:"customer_external_id,omitempty"`
	Timestamp          time.Time         `dynamodbav:"timestamp"`
	Properties         map[string]string `dynamodbav:"properties,omitempty"`
	AcceptedAt         time.Time         `dynamodbav:"accepted_at"`
}

// CustomerKey is the customer an event is counted under: "c:<cus_id>" when
// the event named a Razorbill customer, "x:<external id>" when it named the
// customer's external id (which may not exist yet: its usage is kept under
// the external id and read with the customer once it does).
func (e Event) CustomerKey() string {
	if e.CustomerID != "" {
		return "c:" + e.CustomerID
	}
	return "x:" + e.CustomerExternalID
}

// Shard is the event's shard, 0..Shards-1, from its id.
func (e Event) Shard() int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(e.ID))
	return int(h.Sum32() % Shards)
}

// Hour is the start of the hour the event's timestamp falls in (UTC).
func (e Event) Hour() time.Time { return e.Timestamp.UTC().Truncate(time.Hour) }

// Counts reports whether m counts e: same event name, accepted while the
// meter was active (created at or before e was accepted, archived after),
// and every filter's property among its values.
func (m Meter) Counts(e Event) bool {
	if m.EventName != e.Name || e.AcceptedAt.Before(m.CreatedAt) {
		return false
	}
	if m.ArchivedAt != nil && !e.AcceptedAt.Before(*m.ArchivedAt) {
		return false
	}
	for prop, allowed := range m.Filters {
		v, ok := e.Properties[prop]
		if !ok || !contains(allowed, v) {
			return false
		}
	}
	return true
}

func contains(xs []string, v string) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

// Bucket is one meter's state for one customer, hour and shard, or the
// merge of several. N counts events; Value is the SUM, MAX or LATEST value;
// LatestKey orders LATEST candidates (timestamp, then event id); Uniques are
// UNIQUE_COUNT's distinct values (kept as a set so that merging windows
// stays exact).
type Bucket struct {
	N         int64
	Value     decimal.Decimal
	HasValue  bool
	LatestKey string
	Uniques   map[string]struct{}
}

// LatestKeyOf orders events for LATEST: the later timestamp wins, and at
// the same instant the greater event id.
func LatestKeyOf(e Event) string {
	return e.Timestamp.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + e.ID
}

// Fold adds one event, counted by m, to b. The caller folds each distinct
// event at most once per bucket; Fold itself is not idempotent for COUNT
// and SUM. It fails only when the meter's property is not a decimal, which
// ingestion already refuses.
func Fold(m Meter, b *Bucket, e Event) error {
	switch m.Aggregation {
	case Count:
		b.N++
		return nil
	case UniqueCount:
		if b.Uniques == nil {
			b.Uniques = map[string]struct{}{}
		}
		b.Uniques[e.Properties[m.Property]] = struct{}{}
		b.N++
		return nil
	}
	v, err := ParseValue(e.Properties[m.Property])
	if err != nil {
		return fmt.Errorf("meter %s: event %s: property %q: %w", m.ID, e.ID, m.Property, err)
	}
	b.N++
	switch m.Aggregation {
	case Sum:
		b.Value, b.HasValue = b.Value.Add(v), true
	case Max:
		if !b.HasValue || v.GreaterThan(b.Value) {
			b.Value, b.HasValue = v, true
		}
	case Latest:
		if k := LatestKeyOf(e); !b.HasValue || k > b.LatestKey {
			b.Value, b.HasValue, b.LatestKey = v, true, k
		}
	default:
		return fmt.Errorf("meter %s: unknown aggregation %q", m.ID, m.Aggregation)
	}
	return nil
}

// Merge combines two buckets of the same meter (other hours, other shards).
func Merge(aggregation string, a, b Bucket) Bucket {
	out := Bucket{N: a.N + b.N}
	switch aggregation {
	case Sum:
		out.Value, out.HasValue = a.Value.Add(b.Value), a.HasValue || b.HasValue
	case Max:
		out = pick(a, b, a.HasValue && (!b.HasValue || a.Value.GreaterThanOrEqual(b.Value)))
		out.N = a.N + b.N
	case Latest:
		out = pick(a, b, a.HasValue && (!b.HasValue || a.LatestKey >= b.LatestKey))
		out.N = a.N + b.N
	case UniqueCount:
		out.Uniques = make(map[string]struct{}, len(a.Uniques)+len(b.Uniques))
		for k := range a.Uniques {
			out.Uniques[k] = struct{}{}
		}
		for k := range b.Uniques {
			out.Uniques[k] = struct{}{}
		}
	}
	return out
}

func pick(a, b Bucket, first bool) Bucket {
	if first {
		return Bucket{Value: a.Value, HasValue: a.HasValue, LatestKey: a.LatestKey}
	}
	return Bucket{Value: b.Value, HasValue: b.HasValue, LatestKey: b.LatestKey}
}

// Result is a bucket's quantity as the API shows it: COUNT the events,
// UNIQUE_COUNT the distinct values, SUM/MAX/LATEST the value ("0" when no
// event was counted).
func Result(aggregation string, b Bucket) decimal.Decimal {
	switch aggregation {
	case Count:
		return decimal.NewFromInt(b.N)
	case UniqueCount:
		return decimal.NewFromInt(int64(len(b.Uniques)))
	}
	if !b.HasValue {
		return decimal.Zero
	}
	return b.Value
}

// Format writes a quantity without trailing zeros ("1500", "0.0015").
func Format(d decimal.Decimal) string {
	s := d.String()
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		return "0"
	}
	return s
}

// Window is one row of a usage answer: [Start, End).
type Window struct {
	Start, End time.Time
}

// Windows splits [start, end) into windows of size ("" = one window),
// aligned to UTC hours, days or calendar months; the first and last are
// clipped to the range.
func Windows(start, end time.Time, size string) []Window {
	var out []Window
	for t := start; t.Before(end); {
		next := end
		switch size {
		case WindowHour:
			next = t.Truncate(time.Hour).Add(time.Hour)
		case WindowDay:
			y, mo, d := t.Date()
			next = time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC)
		case WindowMonth:
			y, mo, _ := t.Date()
			next = time.Date(y, mo+1, 1, 0, 0, 0, 0, time.UTC)
		}
		if next.After(end) {
			next = end
		}
		out = append(out, Window{Start: t, End: next})
		t = next
	}
	return out
}

// Months lists the calendar months ("2026-12") that [start, end) touches.
func Months(start, end time.Time) []string {
	var out []string
	y, mo, _ := start.UTC().Date()
	for t := time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC); t.Before(end); t = t.AddDate(0, 1, 0) {
		out = append(out, t.Format("2006-01"))
	}
	return out
}

// Days lists the UTC days ("2026-12-01") that [start, end) touches, newest first.
func Days(start, end time.Time) []string {
	var out []string
	y, mo, d := start.UTC().Date()
	for t := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC); t.Before(end); t = t.AddDate(0, 0, 1) {
		out = append(out, t.Format("2006-01-02"))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

// HourKey is the sort-key form of an hour ("2026-12-01T10").
func HourKey(t time.Time) string { return t.UTC().Format("2006-01-02T15") }

// ParseHourKey reads HourKey's form back.
func ParseHourKey(s string) (time.Time, error) { return time.Parse("2006-01-02T15", s) }
