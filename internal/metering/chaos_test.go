package metering_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/lambdahost"
	"github.com/razorbill/razorbill/internal/metering"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/testenv"
	"github.com/razorbill/razorbill/internal/usage"
)

// faultyDB is DynamoDB with injected faults, seeded: before any call a
// throttle or a 500 (rate/5); after a PutItem or a TransactWriteItems was
// written, a 500 anyway (rate/5: the caller cannot tell it was written);
// a TransactionConflict cancellation instead of a transaction (rate); keys
// left unprocessed by BatchGetItem (rate).
type faultyDB struct {
	inner usagedb.API
	rate  float64
	on    atomic.Bool
	mu    sync.Mutex
	rnd   *rand.Rand
	count map[string]int
}

func (d *faultyDB) roll(p float64, kind string) bool {
	if !d.on.Load() {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rnd.Float64() >= p {
		return false
	}
	d.count[kind]++
	return true
}

func (d *faultyDB) before(op string) error {
	if d.roll(d.rate/10, "throttled before "+op) {
		return &types.ThrottlingException{Message: aws.String("Rate of requests exceeds the allowed throughput.")}
	}
	if d.roll(d.rate/10, "500 before "+op) {
		return &types.InternalServerError{Message: aws.String("Internal server error")}
	}
	return nil
}

func (d *faultyDB) GetItem(ctx context.Context, in *ddbjson.GetItemInput) (*ddbjson.GetItemOutput, error) {
	if err := d.before("GetItem"); err != nil {
		return nil, err
	}
	return d.inner.GetItem(ctx, in)
}

func (d *faultyDB) UpdateItem(ctx context.Context, in *ddbjson.UpdateItemInput) (*ddbjson.UpdateItemOutput, error) {
	if err := d.before("UpdateItem"); err != nil {
		return nil, err
	}
	return d.inner.UpdateItem(ctx, in)
}

func (d *faultyDB) Query(ctx context.Context, in *ddbjson.QueryInput) (*ddbjson.QueryOutput, error) {
	if err := d.before("Query"); err != nil {
		return nil, err
	}
	return d.inner.Query(ctx, in)
}

func (d *faultyDB) PutItem(ctx context.Context, in *ddbjson.PutItemInput) (*ddbjson.PutItemOutput, error) {
	if err := d.before("PutItem"); err != nil {
		return nil, err
	}
	out, err := d.inner.PutItem(ctx, in)
	if err == nil && d.roll(d.rate/5, "500 after PutItem was written") {
		return nil, &types.InternalServerError{Message: aws.String("Internal server error")}
	}
	return out, err
}

func (d *faultyDB) BatchGetItem(ctx context.Context, in *ddbjson.BatchGetItemInput) (*ddbjson.BatchGetItemOutput, error) {
	if err := d.before("BatchGetItem"); err != nil {
		return nil, err
	}
	for table, ka := range in.RequestItems {
		if len(ka.Keys) > 1 && d.roll(d.rate, "BatchGetItem left keys unprocessed") {
			half := len(ka.Keys) / 2
			first := ka
			first.Keys = ka.Keys[:half]
			out, err := d.inner.BatchGetItem(ctx, &ddbjson.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: first}})
			if err != nil {
				return nil, err
			}
			rest := ka
			rest.Keys = ka.Keys[half:]
			out.UnprocessedKeys = map[string]types.KeysAndAttributes{table: rest}
			return out, nil
		}
	}
	return d.inner.BatchGetItem(ctx, in)
}

func (d *faultyDB) TransactWriteItems(ctx context.Context, in *ddbjson.TransactWriteItemsInput) (*ddbjson.TransactWriteItemsOutput, error) {
	if err := d.before("TransactWriteItems"); err != nil {
		return nil, err
	}
	if d.roll(d.rate, "TransactionConflict") {
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i] = types.CancellationReason{Code: aws.String("None")}
		}
		reasons[len(reasons)-1] = types.CancellationReason{Code: aws.String("TransactionConflict")}
		return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled [TransactionConflict]"), CancellationReasons: reasons}
	}
	out, err := d.inner.TransactWriteItems(ctx, in)
	if err == nil && d.roll(d.rate/5, "500 after TransactWriteItems committed") {
		return nil, &types.InternalServerError{Message: aws.String("Internal server error")}
	}
	return out, err
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestUsageChaos is issue 18's chaos run: events sent by 8 clients in bulk
// calls, 30 % of them delivered again, with DynamoDB faults on ingestion
// and aggregation (throttles, 500s before and after writes, transaction
// conflicts, unprocessed batch reads) and the aggregator killed and
// restarted from the stream's start several times. Every event a client
// sent is counted exactly once: each customer's usage per meter equals the
// reference computed from the distinct events, and each customer's listed
// events are exactly its distinct events. `make test` runs 400 events;
// `make chaos` (RAZORBILL_CHAOS=1) runs RAZORBILL_USAGE_CHAOS_EVENTS
// (20,000) and writes its figures into docs/reliability.md.
func TestUsageChaos(t *testing.T) {
	t.Parallel()
	full := os.Getenv("RAZORBILL_CHAOS") == "1"
	n, kills, seed := envInt("RAZORBILL_USAGE_CHAOS_EVENTS", 400), 2, uint64(18)
	if full {
		n, kills, seed = envInt("RAZORBILL_USAGE_CHAOS_EVENTS", 20000), envInt("RAZORBILL_USAGE_CHAOS_KILLS", 8), uint64(time.Now().UnixNano())
	}
	if v := os.Getenv("RAZORBILL_USAGE_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	const dupRate, faultRate = 0.30, 0.05
	t.Logf("usage chaos: %d events, %.0f%% duplicates, %.0f%% faults, %d kills, seed %d", n, dupRate*100, faultRate*100, kills, seed)
	began := time.Now()
	rng := rand.New(rand.NewPCG(seed, 18))
	env := testenv.AWS(t)
	r := newRigEnv(env)
	db := &faultyDB{inner: env.DDB, rate: faultRate, rnd: rand.New(rand.NewPCG(seed, 99)), count: map[string]int{}}
	store := usagedb.New(db, env.Table(), 0)
	// A killed consumer's handler still marks its chunk aborted (on a
	// context the kill does not end), so the next delivery claims its
	// events at once; a chunk left without a marker (that write failed) is
	// taken over once its claims are this old (correct at any age: a live
	// chunk aborted only costs its owner another round).
	store.SetOrphanAfter(2 * time.Second)
	// r.store (the test's own reads) stays fault-free; ingestion and the
	// aggregator get the faults.
	r.svc.Store, r.svc.Concurrency = store, 8
	r.now = time.Now().UTC()
	ctx := context.Background()
	var custs []billing.Customer
	for i := range 4 {
		custs = append(custs, r.customer(t, fmt.Sprintf("acct-%d", i)))
	}
	meters := []usage.Meter{
		r.meter(t, usage.Meter{Name: "calls", EventName: "api_call", Aggregation: usage.Count}),
		r.meter(t, usage.Meter{Name: "tokens", EventName: "api_call", Aggregation: usage.Sum, Property: "tokens"}),
		r.meter(t, usage.Meter{Name: "peak", EventName: "api_call", Aggregation: usage.Max, Property: "tokens", Filters: map[string][]string{"region": {"ap-south-1"}}}),
		r.meter(t, usage.Meter{Name: "users", EventName: "api_call", Aggregation: usage.UniqueCount, Property: "user"}),
		r.meter(t, usage.Meter{Name: "gb", EventName: "storage", Aggregation: usage.Latest, Property: "gb"}),
	}
	r.now = r.now.Add(time.Second)
	hour := r.now.Truncate(time.Hour)
	start, end := hour.Add(-47*time.Hour), hour.Add(time.Hour)
	var distinct []map[string]any
	for i := range n {
		c := custs[rng.IntN(len(custs))]
		ev := map[string]any{"event_id": fmt.Sprintf("chaos-%d", i), "timestamp": start.Add(time.Duration(rng.Int64N(int64(r.now.Sub(start))))).Format(time.RFC3339Nano)}
		if rng.IntN(2) == 0 {
			ev["customer_id"] = c.ID
		} else {
			ev["customer_external_id"] = c.ExternalID
		}
		if rng.IntN(4) == 0 {
			ev["event_name"], ev["properties"] = "storage", map[string]usage.Property{"gb": {Text: decimalText(rng), Number: true}}
		} else {
			ev["event_name"], ev["properties"] = "api_call", map[string]usage.Property{"tokens": {Text: decimalText(rng), Number: true},
				"region": {Text: []string{"ap-south-1", "eu-west-1"}[rng.IntN(2)]}, "user": {Text: fmt.Sprintf("u%d", rng.IntN(60))}}
		}
		distinct = append(distinct, ev)
	}
	sends := append([]map[string]any(nil), distinct...)
	for _, ev := range distinct {
		if rng.Float64() < dupRate {
			sends = append(sends, ev)
		}
	}
	rng.Shuffle(len(sends), func(i, j int) { sends[i], sends[j] = sends[j], sends[i] })
	var batches [][]usage.Input
	for rest := sends; len(rest) > 0; {
		k := min(len(rest), 1+rng.IntN(100))
		var b []usage.Input
		for _, ev := range rest[:k] {
			b = append(b, toInput(ev))
		}
		batches = append(batches, b)
		rest = rest[k:]
	}

	// The aggregator on the stream, killed and restarted from the start.
	aggLog := io.Writer(io.Discard)
	if os.Getenv("RAZORBILL_USAGE_CHAOS_LOG") != "" {
		f, err := os.Create(os.Getenv("RAZORBILL_USAGE_CHAOS_LOG"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		aggLog = f
	}
	agg := &metering.Aggregator{Store: store, Log: slog.New(slog.NewJSONHandler(aggLog, nil))}
	var pollers sync.WaitGroup
	var stop context.CancelFunc
	startPoller := func() {
		pctx, cancel := context.WithCancel(ctx)
		stop = cancel
		pollers.Add(1)
		go func() {
			defer pollers.Done()
			err := lambdahost.PollStream(pctx, env.Streams, env.StreamARN(), agg.Handle, lambdahost.StreamOptions{
				Filters: []string{schema.UsageEventsFilter}, FunctionName: "usage-aggregator", BatchSize: 300, MaxRetries: 1000,
				StartingPosition: lambdahost.TrimHorizon, PollInterval: 50 * time.Millisecond,
				Logger: slog.New(slog.NewJSONHandler(aggLog, nil)),
				OnFailure: func(context.Context, []events.DynamoDBEventRecord) {
					t.Errorf("the stream gave up on records")
				}})
			if err != nil && pctx.Err() == nil {
				t.Errorf("poller: %v", err)
			}
		}()
	}
	db.on.Store(true)
	startPoller()

	// Eight clients send the batches; a failed call is sent again whole.
	var sent, accepted, dups, retried atomic.Int64
	var answeredMu sync.Mutex
	answered, acceptedTimes := map[string]bool{}, map[string]int{}
	jobs := make(chan []usage.Input)
	var clients sync.WaitGroup
	for range 8 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for b := range jobs {
				for try := 0; ; try++ {
					res, err := r.svc.Ingest(ctx, r.sc, b)
					if err != nil {
						if try > 50 {
							t.Errorf("a batch failed 50 times: %v", err)
							break
						}
						retried.Add(1)
						continue
					}
					sent.Add(int64(len(b)))
					answeredMu.Lock()
					for i, x := range res {
						answered[b[i].EventID] = true
						if x.Status == metering.Accepted {
							acceptedTimes[b[i].EventID]++
						}
					}
					answeredMu.Unlock()
					for i, x := range res {
						switch x.Status {
						case metering.Accepted:
							accepted.Add(1)
						case metering.Duplicate:
							dups.Add(1)
						default:
							t.Errorf("event %s rejected: %v", b[i].EventID, x.Err)
						}
					}
					break
				}
			}
		}()
	}
	killEvery := len(batches)/(kills+1) + 1
	for i, b := range batches {
		jobs <- b
		if i > 0 && i%killEvery == 0 {
			stop()
			pollers.Wait()
			startPoller()
		}
	}
	close(jobs)
	clients.Wait()
	ingested := time.Since(began)
	// Every distinct event was answered accepted or duplicate (a call that
	// failed after storing some events is sent again: those come back as
	// duplicates), and none was accepted twice.
	if len(answered) != n {
		t.Fatalf("%d of the %d distinct events were answered", len(answered), n)
	}
	for id, k := range acceptedTimes {
		if k > 1 {
			t.Fatalf("event %s accepted %d times", id, k)
		}
	}

	// Until every customer's listed events are its distinct events and
	// every one is counted (its chunk applied), then faults off; the
	// totals must match exactly.
	want := map[string]int{}
	for _, ev := range distinct {
		want[custOf(ev, custs)]++
	}
	evs := make([]usage.Event, 0, n)
	for _, ev := range distinct {
		in := toInput(ev)
		ts, _ := time.Parse(time.RFC3339Nano, in.Timestamp)
		props := map[string]string{}
		for k, p := range in.Properties {
			props[k] = p.Text
		}
		evs = append(evs, usage.Event{ID: in.EventID, Name: in.EventName, CustomerID: in.CustomerID, CustomerExternalID: in.CustomerExternalID, Timestamp: ts, Properties: props})
	}
	// a bound on liveness: under other packages' load, the last of 400
	// events was seen counted just after a 3-minute bound
	deadline := time.Now().Add(5 * time.Minute)
	for {
		done := true
		for _, c := range custs {
			if got := countEvents(t, r, c, start, end); got != want[c.ID] {
				done = false
			}
		}
		if done {
			counted, err := r.store.Counted(ctx, r.sc, evs)
			if err != nil {
				t.Fatal(err)
			}
			done = len(counted) == len(evs)
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			for _, c := range custs {
				t.Logf("%s: %d listed, want %d", c.ExternalID, countEvents(t, r, c, start, end), want[c.ID])
			}
			db.mu.Lock()
			t.Logf("faults: %v", db.count)
			db.mu.Unlock()
			t.Fatal("not every event was counted within 5 minutes")
		}
		time.Sleep(300 * time.Millisecond)
	}
	db.on.Store(false)
	stop()
	pollers.Wait()
	drained := time.Since(began)
	mismatches := 0
	for _, c := range custs {
		for _, m := range meters {
			_, bad := checkUsage(t, r, c, m, evs, start, end, usage.WindowHour)
			mismatches += bad
		}
	}
	db.mu.Lock()
	var faults []string
	injected := 0
	for k, v := range db.count {
		faults = append(faults, fmt.Sprintf("| %s | %d |", k, v))
		injected += v
	}
	db.mu.Unlock()
	sort.Strings(faults)
	if injected == 0 {
		t.Fatal("no fault was injected")
	}
	t.Logf("usage chaos: %d sent (%d retried calls), %d accepted, %d duplicates, %d faults, ingested in %s, counted in %s, %d mismatches",
		sent.Load(), retried.Load(), accepted.Load(), dups.Load(), injected, ingested.Round(time.Second), drained.Round(time.Second), mismatches)
	if full && !t.Failed() {
		writeUsageReport(t, fmt.Sprintf(`## Usage metering (issue 18)

Written by `+"`internal/metering`"+` TestUsageChaos under `+"`make chaos`"+` (RAZORBILL_CHAOS=1), %s, seed %d.
%d distinct usage events for 4 customers (half named by customer id, half by
external id), 5 meters (COUNT, SUM, MAX with a filter, UNIQUE_COUNT, LATEST),
sent in bulk calls of 1–100 events by 8 concurrent clients, %.0f %% of the
events sent again (%d sends in all); DynamoDB faults at %.0f %% on ingestion
and aggregation; the usage-aggregator's stream poller killed and restarted
from the stream's start %d times (every record delivered again). The
metering pipeline has no SQS hop (usage-ingest → table → stream →
usage-aggregator), so no SQS fault applies to it.

| result | count |
|---|---:|
| distinct events sent | %d |
| answered accepted (a call that failed after storing some is sent again; those come back duplicate) | %d |
| sends answered duplicate | %d |
| bulk calls sent again after a failure | %d |
| faults injected | %d |
| windows or totals not equal to the reference from the distinct events | %d |
| lost events (sent, not listed on the customer's timeline) | 0 |

Faults injected:

| fault | count |
|---|---:|
%s

Ingestion took %s; every event was counted %s after the first send.
`, time.Now().UTC().Format("2006-01-02 15:04 UTC"), seed, n, dupRate*100, len(sends), faultRate*100, kills,
			n, accepted.Load(), dups.Load(), retried.Load(), injected, mismatches, strings.Join(faults, "\n"),
			ingested.Round(time.Second), drained.Round(time.Second)))
	}
}

func custOf(ev map[string]any, custs []billing.Customer) string {
	for _, c := range custs {
		if ev["customer_id"] == c.ID || ev["customer_external_id"] == c.ExternalID {
			return c.ID
		}
	}
	return ""
}

func countEvents(t *testing.T, r *rig, c billing.Customer, start, end time.Time) int {
	t.Helper()
	n := 0
	after := ""
	for {
		evs, more, err := r.store.ListEvents(context.Background(), r.sc, []string{"c:" + c.ID, "x:" + c.ExternalID}, start, end, 100, after)
		if err != nil {
			t.Fatal(err)
		}
		n += len(evs)
		if !more {
			return n
		}
		after = usagedb.Cursor(evs[len(evs)-1])
	}
}

func toInput(ev map[string]any) usage.Input {
	in := usage.Input{EventID: ev["event_id"].(string), EventName: ev["event_name"].(string), Timestamp: ev["timestamp"].(string),
		Properties: ev["properties"].(map[string]usage.Property)}
	if v, ok := ev["customer_id"].(string); ok {
		in.CustomerID = v
	}
	if v, ok := ev["customer_external_id"].(string); ok {
		in.CustomerExternalID = v
	}
	return in
}

const reportMarker = "<!-- usage metering chaos: written by internal/metering TestUsageChaos; the payments chaos run keeps it -->"

// writeUsageReport replaces the usage section of docs/reliability.md
// (everything after reportMarker), or appends it.
func writeUsageReport(t *testing.T, section string) {
	path := "../../docs/reliability.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(b), reportMarker)
	out := strings.TrimRight(head, "\n") + "\n\n" + reportMarker + "\n\n" + section
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}
