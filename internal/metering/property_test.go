package metering_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/metering"
	"github.com/razorbill/razorbill/internal/testenv"
	"github.com/razorbill/razorbill/internal/usage"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type rig struct {
	sc     billing.Scope
	ledger *dynamo.Store
	store  *usagedb.Store
	svc    *metering.Service
	now    time.Time
}

func newRig(t *testing.T) *rig {
	t.Helper()
	return newRigEnv(testenv.AWS(t))
}

func newRigEnv(env *testenv.Env) *rig {
	r := &rig{sc: billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)},
		ledger: dynamo.New(env.DDB, env.Table()), store: usagedb.New(env.DDB, env.Table(), 0),
		now: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)}
	r.svc = &metering.Service{Store: r.store, Customers: r.ledger, Now: func() time.Time { return r.now },
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	return r
}

func (r *rig) customer(t *testing.T, ext string) billing.Customer {
	t.Helper()
	c := billing.Customer{ID: ids.New(ids.Customer), ExternalID: ext, Email: ext + "@example.com", SyncStatus: billing.SyncNotSynced,
		CreatedAt: r.now, UpdatedAt: r.now, Version: 1, Metadata: map[string]string{}}
	if err := r.ledger.CreateCustomer(context.Background(), r.sc, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (r *rig) meter(t *testing.T, m usage.Meter) usage.Meter {
	t.Helper()
	m, err := r.svc.CreateMeter(context.Background(), r.sc, m)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// reference computes a meter's value over events directly, without
// usage.Fold/Merge: the independent answer the buckets must equal.
func reference(m usage.Meter, evs []usage.Event) string {
	var n int64
	sum, maxV, latest := decimal.Zero, decimal.Zero, decimal.Zero
	haveMax, latestKey := false, ""
	uniq := map[string]bool{}
	for _, e := range evs {
		n++
		v := e.Properties[m.Property]
		switch m.Aggregation {
		case usage.Sum:
			sum = sum.Add(decimal.RequireFromString(v))
		case usage.Max:
			d := decimal.RequireFromString(v)
			if !haveMax || d.GreaterThan(maxV) {
				maxV, haveMax = d, true
			}
		case usage.Latest:
			k := e.Timestamp.Format(time.RFC3339Nano)
			// later timestamp wins; at the same instant the greater id
			if latestKey == "" || e.Timestamp.After(mustTime(latestKey)) || (e.Timestamp.Equal(mustTime(latestKey)) && e.ID > latestID(latestKey)) {
				latest, latestKey = decimal.RequireFromString(v), k+"|"+e.ID
			}
		case usage.UniqueCount:
			uniq[v] = true
		}
	}
	var d decimal.Decimal
	switch m.Aggregation {
	case usage.Count:
		d = decimal.NewFromInt(n)
	case usage.Sum:
		d = sum
	case usage.Max:
		d = maxV
	case usage.Latest:
		d = latest
	case usage.UniqueCount:
		d = decimal.NewFromInt(int64(len(uniq)))
	}
	return usage.Format(d)
}

func mustTime(k string) time.Time {
	for i := range k {
		if k[i] == '|' {
			t, _ := time.Parse(time.RFC3339Nano, k[:i])
			return t
		}
	}
	return time.Time{}
}

func latestID(k string) string {
	for i := range k {
		if k[i] == '|' {
			return k[i+1:]
		}
	}
	return ""
}

func matches(m usage.Meter, e usage.Event) bool {
	if m.EventName != e.Name {
		return false
	}
	for p, vals := range m.Filters {
		ok := false
		for _, v := range vals {
			ok = ok || e.Properties[p] == v
		}
		if !ok {
			return false
		}
	}
	return true
}

// TestUsageEqualsTheDistinctRawEvents is issue 18's property test: random
// events (30 % delivered twice or more, shuffled, batches redelivered and
// applied concurrently, late within the window, two meters with filters,
// all five aggregations) → every HOUR, DAY and MONTH window's usage, and the
// total, equals a reference computed from the distinct raw events, exactly.
func TestUsageEqualsTheDistinctRawEvents(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("RAZORBILL_USAGE_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (RAZORBILL_USAGE_SEED reruns it)", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	r := newRig(t)
	ctx := context.Background()
	alice := r.customer(t, "acct-alice")
	bob := r.customer(t, "acct-bob")
	meters := []usage.Meter{
		r.meter(t, usage.Meter{Name: "calls", EventName: "api_call", Aggregation: "count"}),
		r.meter(t, usage.Meter{Name: "tokens", EventName: "api_call", Aggregation: usage.Sum, Property: "tokens"}),
		r.meter(t, usage.Meter{Name: "peak tokens in Mumbai", EventName: "api_call", Aggregation: usage.Max, Property: "tokens",
			Filters: map[string][]string{"region": {"ap-south-1"}}}),
		r.meter(t, usage.Meter{Name: "active users", EventName: "api_call", Aggregation: usage.UniqueCount, Property: "user"}),
		r.meter(t, usage.Meter{Name: "storage", EventName: "storage", Aggregation: usage.Latest, Property: "gb"}),
		r.meter(t, usage.Meter{Name: "hot+cold GB", EventName: "storage", Aggregation: usage.Sum, Property: "gb",
			Filters: map[string][]string{"tier": {"hot", "cold"}}}),
	}
	r.now = r.now.Add(time.Minute) // events are accepted after the meters exist
	start := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC) // 6 days, across a month boundary
	var distinct []usage.Event
	n := 250 + rng.IntN(100)
	for i := 0; i < n; i++ {
		e := usage.Event{ID: fmt.Sprintf("evt-%d-%d", i, rng.IntN(1000)), AcceptedAt: r.now,
			Timestamp: start.Add(time.Duration(rng.Int64N(int64(end.Sub(start))))).Truncate(time.Duration(1+rng.IntN(3)) * time.Millisecond)}
		switch rng.IntN(4) {
		case 0:
			e.CustomerID = alice.ID
		case 1:
			e.CustomerExternalID = alice.ExternalID // the same customer by its external id
		case 2:
			e.CustomerID = bob.ID
		default:
			e.CustomerExternalID = "acct-nobody-yet"
		}
		if rng.IntN(3) == 0 {
			e.Name = "storage"
			e.Properties = map[string]string{"gb": decimalText(rng), "tier": []string{"hot", "cold", "archive"}[rng.IntN(3)]}
		} else {
			e.Name = "api_call"
			e.Properties = map[string]string{"tokens": decimalText(rng), "region": []string{"ap-south-1", "us-east-1"}[rng.IntN(2)],
				"user": fmt.Sprintf("u%d", rng.IntN(40))}
		}
		if i > 0 && rng.IntN(20) == 0 { // same instant as another event: LATEST breaks the tie by id
			e.Timestamp = distinct[rng.IntN(len(distinct))].Timestamp
		}
		distinct = append(distinct, e)
	}
	for _, e := range distinct { // what usage-ingest stores; its stream records are the deliveries below
		if dup, err := r.store.PutEvent(ctx, r.sc, e); err != nil || dup {
			t.Fatalf("store %s: duplicate %v, %v", e.ID, dup, err)
		}
	}
	// Deliveries: every event once, 30 % again (some three times), shuffled.
	deliveries := append([]usage.Event(nil), distinct...)
	for _, e := range distinct {
		for rng.IntN(10) < 3 {
			deliveries = append(deliveries, e)
		}
	}
	rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
	var batches [][]usage.Event
	for rest := deliveries; len(rest) > 0; {
		k := min(len(rest), 1+rng.IntN(150))
		batches = append(batches, rest[:k])
		rest = rest[k:]
	}
	metersNow, err := r.store.Meters(ctx, r.sc)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	counted, dups := 0, 0
	sem := make(chan struct{}, 3) // batches from several shards at once
	for i, b := range batches {
		redeliver := rng.IntN(4) == 0
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			for try := 0; try < 1+boolInt(redeliver); try++ {
				a, err := r.store.Apply(ctx, r.sc, metersNow, b)
				// A transient error (events claimed by another delivery's
				// chunk that may still commit) is delivered again, as the
				// stream does; what it counted before counts.
				for again := 0; apperr.Is(err, apperr.Transient) && again < 600; again++ {
					mu.Lock()
					counted, dups = counted+a.Counted, dups+a.Duplicates
					mu.Unlock()
					time.Sleep(20 * time.Millisecond)
					a, err = r.store.Apply(ctx, r.sc, metersNow, b)
				}
				if err != nil {
					t.Errorf("batch %d: %v", i, err)
					return
				}
				mu.Lock()
				counted, dups = counted+a.Counted, dups+a.Duplicates
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if counted != len(distinct) {
		t.Fatalf("counted %d events, want the %d distinct ones (%d deliveries, %d seen as duplicates)", counted, len(distinct), len(deliveries), dups)
	}
	checked := 0
	for _, c := range []billing.Customer{alice, bob} {
		for _, m := range meters {
			for _, win := range []string{usage.WindowHour, usage.WindowDay, usage.WindowMonth, ""} {
				n, _ := checkUsage(t, r, c, m, distinct, start, end, win)
				checked += n
			}
		}
	}
	if checked < 2*6*(144+6+2+1) {
		t.Fatalf("checked only %d windows", checked)
	}
	// The unattributed external id's events are kept and listed, newest first.
	dayEnd := start.Add(24 * time.Hour)
	var want []usage.Event
	for _, e := range distinct {
		if e.CustomerExternalID == "acct-nobody-yet" && e.Timestamp.Before(dayEnd) {
			want = append(want, e)
		}
	}
	var got []usage.Event
	after := ""
	for page := 0; ; page++ {
		evs, more, err := r.svc.ListEvents(ctx, r.sc, "", "acct-nobody-yet", start, dayEnd, 7, after)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, evs...)
		if !more {
			break
		}
		after = evs[len(evs)-1].ID
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d events of acct-nobody-yet on the first day, want %d", len(got), len(want))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Timestamp.After(got[i-1].Timestamp) {
			t.Fatalf("events not newest first at %d", i)
		}
	}
}

// checkUsage compares each window of meter m's usage for customer c over
// [start, end), and the total, with reference() over the events of evs
// that c sent and m counts; each difference is reported on t. It returns
// how many windows it checked and how many values differed.
func checkUsage(t *testing.T, r *rig, c billing.Customer, m usage.Meter, evs []usage.Event, start, end time.Time, window string) (checked, mismatches int) {
	t.Helper()
	keys := map[string]bool{"c:" + c.ID: true, "x:" + c.ExternalID: true}
	got, total, err := r.svc.Usage(context.Background(), r.sc, metering.UsageQuery{MeterID: m.ID, CustomerID: c.ID, Start: start, End: end, Window: window})
	if err != nil {
		t.Fatal(err)
	}
	var all []usage.Event
	for _, w := range got {
		var in []usage.Event
		for _, e := range evs {
			if keys[e.CustomerKey()] && matches(m, e) && !e.Timestamp.Before(w.Start) && e.Timestamp.Before(w.End) {
				in = append(in, e)
			}
		}
		all = append(all, in...)
		if want := reference(m, in); w.Value != want {
			mismatches++
			t.Errorf("%s %s %s window %s: %s, want %s", c.ExternalID, m.Name, window, w.Start.Format(time.RFC3339), w.Value, want)
		}
		checked++
	}
	if want := reference(m, all); total != want {
		mismatches++
		t.Errorf("%s %s %s total: %s, want %s", c.ExternalID, m.Name, window, total, want)
	}
	return checked, mismatches
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// decimalText is a random exact decimal: up to 12 decimals, sometimes
// negative, sometimes large.
func decimalText(rng *rand.Rand) string {
	whole := rng.Int64N(1_000_000)
	if rng.IntN(10) == 0 {
		whole = rng.Int64N(999_999_999_999_999)
	}
	s := strconv.FormatInt(whole, 10)
	if d := rng.IntN(13); d > 0 {
		frac := ""
		for range d {
			frac += strconv.Itoa(rng.IntN(10))
		}
		s += "." + frac
	}
	if rng.IntN(15) == 0 {
		s = "-" + s
	}
	return s
}

// TestOneBatchOfManyUniqueValuesStaysWithinTheTransactionLimit: 150 events
// of one customer, hour and meter, each with its own UNIQUE_COUNT value,
// write 300+ items: Apply splits them into transactions of ≤ 100 items
// (each distinct value is an item of its own).
func TestOneBatchOfManyUniqueValuesStaysWithinTheTransactionLimit(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	c := r.customer(t, "acct-many")
	users := r.meter(t, usage.Meter{Name: "users", EventName: "login", Aggregation: usage.UniqueCount, Property: "user"})
	calls := r.meter(t, usage.Meter{Name: "logins", EventName: "login", Aggregation: usage.Count})
	r.now = r.now.Add(time.Minute)
	hour := r.now.Truncate(time.Hour)
	var evs []usage.Event
	for i := range 150 {
		evs = append(evs, usage.Event{ID: fmt.Sprintf("e%03d", i), Name: "login", CustomerID: c.ID, Timestamp: hour.Add(time.Duration(i) * time.Second),
			Properties: map[string]string{"user": fmt.Sprintf("user-%d", i)}, AcceptedAt: r.now})
	}
	ms, err := r.store.Meters(ctx, r.sc)
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.store.Apply(ctx, r.sc, ms, evs)
	if err != nil || a.Counted != 150 {
		t.Fatalf("applied %+v, %v", a, err)
	}
	for _, m := range []usage.Meter{users, calls} {
		want := "150"
		_, total, err := r.svc.Usage(ctx, r.sc, metering.UsageQuery{MeterID: m.ID, CustomerID: c.ID, Start: hour, End: hour.Add(time.Hour)})
		if err != nil || total != want {
			t.Fatalf("%s: %s, %v; want %s", m.Name, total, err, want)
		}
	}
}

// TestARepeatInOneBulkCallIsADuplicateOfTheFirst: the same event_id twice
// in one call with other values — the first occurrence is stored and
// counted, the second answered duplicate (found with make run: the puts ran
// concurrently and the second could win).
func TestARepeatInOneBulkCallIsADuplicateOfTheFirst(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	r.customer(t, "acct-rep")
	r.meter(t, usage.Meter{Name: "tokens", EventName: "api_call", Aggregation: usage.Sum, Property: "tokens"})
	r.now = r.now.Add(time.Minute)
	ev := func(id, tokens string) usage.Input {
		return usage.Input{EventID: id, EventName: "api_call", CustomerExternalID: "acct-rep", Timestamp: r.now.Format(time.RFC3339),
			Properties: map[string]usage.Property{"tokens": {Text: tokens}}}
	}
	for i := range 30 { // each a new id: the race, if any, shows within a few
		id := fmt.Sprintf("dup-%d", i)
		res, err := r.svc.Ingest(ctx, r.sc, []usage.Input{ev(id, "1500.25"), ev(id, "1")})
		if err != nil {
			t.Fatal(err)
		}
		stored, ok, err := r.store.Event(ctx, r.sc, id)
		if err != nil || !ok || stored.Properties["tokens"] != "1500.25" {
			t.Fatalf("stored %+v (%v %v); want the first occurrence", stored.Properties, ok, err)
		}
		if res[1].Status != metering.Duplicate {
			t.Fatalf("second occurrence: %s", res[1].Status)
		}
	}
}
