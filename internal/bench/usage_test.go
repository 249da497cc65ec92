package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/localaws"
	"github.com/razorbill/razorbill/internal/localstack"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/testenv"
	"github.com/razorbill/razorbill/internal/usage"
)

// TestUsageBench measures metering (issue 18) through the local stack over
// HTTP: usage events POSTed to /api/v1/events/bulk (the usage-ingest
// function behind the local API Gateway), counted by the usage-aggregator
// from the table's stream.
//
//	bulk      Senders concurrent closed-loop senders, Bulk events per call,
//	          Events in all, spread over Customers customers
//	baseline  open loop for HotSeconds: OthersRate events/s for the other
//	          customers, and HotRate events/s more spread over them
//	hot       the same load, but the HotRate events/s from one customer
//
// Per phase: the ack latency of every bulk call (POST → 202), accepted
// events/s, and the *queryable latency* of sampled events (the first of
// every closed-loop call, every tenth of an open-loop one): from its call's 202 until it is counted — its timeline
// item names a chunk whose marker says applied, written in the transaction
// that changed the event's buckets, so from then GET /api/v1/usage counts
// it. A watcher polls the samples with usagedb.Store.Counted every PollMS
// (consistent BatchGetItems straight to DynamoDB Local, not metered) and
// stamps each when the read that found it returned: an upper bound, late
// by at most one interval plus the reads.
// Every AWS call of the functions goes through the metering proxy (calls,
// capacity units); a middleware in the config's APIOptions (run by
// internal/ddbjson) attributes each to its function and
// counts writes per partition key (the hot-key question).
type usageSettings struct {
	Events     int `json:"events"`      // RAZORBILL_BENCH_USAGE_EVENTS (50000)
	Bulk       int `json:"bulk"`        // events per bulk call (100)
	Senders    int `json:"senders"`     // RAZORBILL_BENCH_USAGE_SENDERS (8)
	Customers  int `json:"customers"`   // customers the events name (20)
	PollMS     int `json:"poll_ms"`     // queryable watcher's interval (100)
	Warmup     int `json:"warmup"`      // RAZORBILL_BENCH_USAGE_WARMUP: events sent first, not a goal figure (3000)
	HotRate    int `json:"hot_rate"`    // RAZORBILL_BENCH_USAGE_HOT_RATE: events/s of the hot customer (default: 30 % of the bulk phase's rate)
	OthersRate int `json:"others_rate"` // RAZORBILL_BENCH_USAGE_OTHERS_RATE: events/s of the others together (default: 15 % of it)
	// The rates were derived from the bulk phase (not set).
	HotRateAuto    bool `json:"hot_rate_auto,omitempty"`
	OthersRateAuto bool `json:"others_rate_auto,omitempty"`
	HotSeconds     int  `json:"hot_seconds"` // RAZORBILL_BENCH_USAGE_HOT_SECONDS (20)
}

// usageGroup is one sender group of a phase (all senders, "others" or "hot").
type usageGroup struct {
	Name       string  `json:"name"`
	Rate       int     `json:"rate,omitempty"` // open loop: events/s offered
	Requests   int     `json:"requests"`
	Events     int     `json:"events"`
	Accepted   int     `json:"accepted"`
	Failed     int     `json:"failed"`                // calls not answered 202 (throttled, errors)
	Statuses   []int   `json:"statuses,omitempty"`    // the distinct failure statuses
	Wall       float64 `json:"wall_ms"`               // first call → last 202
	PerSec     float64 `json:"accepted_per_s"`        // accepted events / wall
	Ack        dist    `json:"ack"`                   // per bulk call
	Queryable  dist    `json:"queryable"`             // sampled events
	Unsettled  int     `json:"unsettled,omitempty"`   // samples never seen counted
	LateStarts int     `json:"late_starts,omitempty"` // open loop: calls sent > 50 ms after their slot
	apiCalls   int     // api_call events accepted (the exactness check)
}

// fnOps are one function's DynamoDB calls by operation, from the SDK
// middleware (capacity as DynamoDB Local reported it).
type fnOp struct {
	Calls  int64   `json:"calls"`
	Errors int64   `json:"errors,omitempty"`
	Units  float64 `json:"capacity_units,omitempty"`
	Items  int64   `json:"items,omitempty"` // items written (transactions: their Puts)
	// SizeWRU is the write units DynamoDB's pricing rules give the items
	// written, from their sizes (1 WRU per KB, 2 in a transaction; an
	// UpdateItem or Delete counted 1): DynamoDB Local under-reports
	// transactions.
	SizeWRU float64 `json:"size_wru,omitempty"`
	// Kinds counts the items written by kind (keyKind).
	Kinds map[string]int64 `json:"kinds,omitempty"`
}

// pkRate is the busiest second of one partition key.
type pkRate struct {
	Key      string  `json:"key"`              // shape: S = the environment, ids kept
	Kind     string  `json:"kind"`             // timeline, bucket, unique, meter, other
	Writes   int     `json:"writes_per_s"`     // in its busiest second
	Avg      float64 `json:"avg_writes_per_s"` // over the phase's seconds with writes
	Total    int     `json:"writes"`           // in the phase
	Transact bool    `json:"transactional"`    // written in transactions (2 WRU per KB)
}

type usagePhase struct {
	Name       string                      `json:"name"`
	LoadStart  string                      `json:"loadavg_start"`
	LoadEnd    string                      `json:"loadavg_end"`
	Groups     []*usageGroup               `json:"groups"`
	Counted    float64                     `json:"counted_ms"` // first call → every sample counted
	Counts     *phaseCounts                `json:"counts"`     // metering proxy
	ByFunction map[string]map[string]*fnOp `json:"by_function"`
	TopKeys    []pkRate                    `json:"top_keys"` // busiest partition keys (writes/s)
	LogBytes   int64                       `json:"log_bytes"`
	Events     int                         `json:"events"` // accepted in the phase
	// CPU time spent during the phase (user+sys): DynamoDB Local's JVM, and
	// this test process (the stack's functions and pollers, the metering
	// proxy, the senders and the watcher).
	CPUDynamoDB float64 `json:"cpu_dynamodb_ms"`
	CPUGo       float64 `json:"cpu_go_ms"`
	// Events the aggregator took up per second (timeline items, its claims, written)
	// while the senders ran, and after the last 202 until all were counted.
	AggWhileSending float64 `json:"agg_per_s_while_sending"`
	AggAfter        float64 `json:"agg_per_s_after"`
}

type usageResult struct {
	Machine  machine       `json:"machine"`
	Settings usageSettings `json:"settings"`
	Meters   []string      `json:"meters"`
	Phases   []*usagePhase `json:"phases"`
	Checks   []string      `json:"checks"`
	Took     float64       `json:"took_ms"`
}

// fnMeter is the APIOptions middleware's tally: calls per function and
// operation, and writes per partition key per second.
type fnMeter struct {
	mu    sync.Mutex
	ops   map[string]map[string]*fnOp
	pk    map[string]map[int64]int
	txPK  map[string]bool
	count atomic.Bool // per-key counting on (the phases, not set-up)
}

func newFnMeter() *fnMeter {
	return &fnMeter{ops: map[string]map[string]*fnOp{}, pk: map[string]map[int64]int{}, txPK: map[string]bool{}}
}

func (f *fnMeter) take() (map[string]map[string]*fnOp, map[string]map[int64]int, map[string]bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, p, t := f.ops, f.pk, f.txPK
	f.ops, f.pk, f.txPK = map[string]map[string]*fnOp{}, map[string]map[int64]int{}, map[string]bool{}
	return o, p, t
}

func pkOf(it map[string]types.AttributeValue) string {
	if s, ok := it[schema.AttrPK].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func capOf(c *types.ConsumedCapacity) float64 {
	if c == nil || c.CapacityUnits == nil {
		return 0
	}
	return *c.CapacityUnits
}

func capsOf(cs []types.ConsumedCapacity) float64 {
	sum := 0.0
	for i := range cs {
		sum += capOf(&cs[i])
	}
	return sum
}

// apiOption adds the tally to every AWS client of the stack.
func (f *fnMeter) apiOption(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("usageBenchTally", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleInitialize(ctx, in)
		fn := "poller" // stream and queue pollers, outside any invocation
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			fn = lc.InvokedFunctionArn[strings.LastIndexByte(lc.InvokedFunctionArn, ':')+1:]
		}
		var op string
		var units float64
		var written []string
		var sizeWRU float64
		tx := false
		switch p := in.Parameters.(type) {
		case *ddbjson.PutItemInput:
			op, written, sizeWRU = "PutItem", []string{pkOf(p.Item)}, startedKB(testenv.ItemSize(p.Item))
		case *ddbjson.UpdateItemInput:
			op, written, sizeWRU = "UpdateItem", []string{pkOf(p.Key)}, 1
		case *ddbjson.DeleteItemInput:
			op, written, sizeWRU = "DeleteItem", []string{pkOf(p.Key)}, 1
		case *ddbjson.TransactWriteItemsInput:
			op, tx = "TransactWriteItems", true
			for _, x := range p.TransactItems {
				switch {
				case x.Put != nil:
					written = append(written, pkOf(x.Put.Item))
					sizeWRU += 2 * startedKB(testenv.ItemSize(x.Put.Item))
				case x.Update != nil:
					written = append(written, pkOf(x.Update.Key))
					sizeWRU += 2
				case x.Delete != nil:
					written = append(written, pkOf(x.Delete.Key))
					sizeWRU += 2
				}
			}
		case *ddbjson.GetItemInput:
			op = "GetItem"
		case *ddbjson.QueryInput:
			op = "Query"
		case *ddbjson.BatchGetItemInput:
			op = "BatchGetItem"
		default:
			return out, md, err
		}
		if err == nil {
			switch r := out.Result.(type) {
			case *ddbjson.PutItemOutput:
				units = capOf(r.ConsumedCapacity)
			case *ddbjson.UpdateItemOutput:
				units = capOf(r.ConsumedCapacity)
			case *ddbjson.DeleteItemOutput:
				units = capOf(r.ConsumedCapacity)
			case *ddbjson.GetItemOutput:
				units = capOf(r.ConsumedCapacity)
			case *ddbjson.QueryOutput:
				units = capOf(r.ConsumedCapacity)
			case *ddbjson.TransactWriteItemsOutput:
				units = capsOf(r.ConsumedCapacity)
			case *ddbjson.BatchGetItemOutput:
				units = capsOf(r.ConsumedCapacity)
			}
		}
		sec := time.Now().Unix()
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.ops[fn] == nil {
			f.ops[fn] = map[string]*fnOp{}
		}
		o := f.ops[fn][op]
		if o == nil {
			o = &fnOp{}
			f.ops[fn][op] = o
		}
		o.Calls++
		o.Units += units
		if err != nil {
			o.Errors++
			return out, md, err
		}
		o.Items += int64(len(written))
		o.SizeWRU += sizeWRU
		for _, pk := range written {
			if o.Kinds == nil {
				o.Kinds = map[string]int64{}
			}
			o.Kinds[keyKind(pk)]++
		}
		if !f.count.Load() {
			return out, md, err
		}
		for _, pk := range written {
			if pk == "" || strings.Contains(pk, "#EV#") { // an event item: one key per event id, written once
				continue
			}
			if f.pk[pk] == nil {
				f.pk[pk] = map[int64]int{}
			}
			f.pk[pk][sec]++
			if tx {
				f.txPK[pk] = true
			}
		}
		return out, md, err
	}), middleware.After)
}

// keyKind names what a usagedb partition key holds.
func keyKind(pk string) string {
	for marker, name := range map[string]string{"#EV#": "event", "#UE#": "timeline", "#UB#": "bucket", "#UU#": "unique", "#UC#": "marker", "#MTR": "meter"} {
		if strings.Contains(pk, marker) {
			return name
		}
	}
	return "other"
}

// topKeys lists the n partition keys with the busiest second, as shapes.
func topKeys(pk map[string]map[int64]int, tx map[string]bool, scopePrefix string, n int) []pkRate {
	var out []pkRate
	first, last := int64(1<<62), int64(0)
	for _, secs := range pk {
		for sec := range secs {
			first, last = min(first, sec), max(last, sec)
		}
	}
	span := float64(max(1, last-first+1))
	for k, secs := range pk {
		best, total := 0, 0
		for _, c := range secs {
			best = max(best, c)
			total += c
		}
		out = append(out, pkRate{Key: "S" + strings.TrimPrefix(k, scopePrefix), Kind: keyKind(k), Writes: best, Total: total, Avg: float64(total) / span, Transact: tx[k]})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Avg != out[j].Avg {
			return out[i].Avg > out[j].Avg
		}
		return out[i].Key < out[j].Key
	})
	return out[:min(n, len(out))]
}

// sample is an accepted event whose counting the watcher waits for.
type sample struct {
	ev    usage.Event
	group *usageGroup
	at    time.Time // its call's 202
}

// watcher polls whether the samples are counted (usagedb.Store.Counted).
type watcher struct {
	store    *usagedb.Store
	sc       billing.Scope
	interval time.Duration
	mu       sync.Mutex
	pending  []sample
	lats     map[*usageGroup][]time.Duration
	errs     int
}

func (w *watcher) add(s sample) {
	w.mu.Lock()
	w.pending = append(w.pending, s)
	w.mu.Unlock()
}

func (w *watcher) left() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

func (w *watcher) run(ctx context.Context) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		batch := append([]sample(nil), w.pending...)
		w.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		evs := make([]usage.Event, len(batch))
		for i, s := range batch {
			evs[i] = s.ev
		}
		seen, err := w.store.Counted(ctx, w.sc, evs)
		now := time.Now()
		if err != nil {
			w.mu.Lock()
			w.errs++
			w.mu.Unlock()
			continue
		}
		done := map[string]bool{}
		w.mu.Lock()
		for i, s := range batch {
			if seen[i] {
				w.lats[s.group] = append(w.lats[s.group], now.Sub(s.at))
				done[s.ev.ID] = true
			}
		}
		keep := w.pending[:0]
		for _, s := range w.pending {
			if !done[s.ev.ID] {
				keep = append(keep, s)
			}
		}
		w.pending = keep
		w.mu.Unlock()
	}
}

type usageBench struct {
	t        *testing.T
	st       *localstack.Stack
	dev      localstack.Dev
	meter    *meter
	fns      *fnMeter
	logs     *byteCounter
	client   *http.Client
	watch    *watcher
	cfg      usageSettings
	res      usageResult
	prefix   string // the environment's key prefix
	ddbPID   int    // DynamoDB Local's process (0: not found)
	seq      atomic.Int64
	baseTime time.Time
}

// byteCounter counts what the stack logs.
type byteCounter struct {
	w io.Writer
	n atomic.Int64
}

func (b *byteCounter) Write(p []byte) (int, error) {
	b.n.Add(int64(len(p)))
	return b.w.Write(p)
}

func TestUsageBench(t *testing.T) {
	gate(t)
	start := time.Now()
	cfg := usageSettings{
		Events:     envInt(t, "RAZORBILL_BENCH_USAGE_EVENTS", 50000),
		Bulk:       100,
		Senders:    envInt(t, "RAZORBILL_BENCH_USAGE_SENDERS", 8),
		Customers:  20,
		PollMS:     100,
		Warmup:     envInt(t, "RAZORBILL_BENCH_USAGE_WARMUP", 3000),
		HotRate:    envInt(t, "RAZORBILL_BENCH_USAGE_HOT_RATE", 2000),
		OthersRate: envInt(t, "RAZORBILL_BENCH_USAGE_OTHERS_RATE", 1000),
		HotSeconds: envInt(t, "RAZORBILL_BENCH_USAGE_HOT_SECONDS", 20),
	}
	env := testenv.AWS(t)
	queues := map[string]string{}
	for name, q := range env.Resources.Queues {
		queues[q.URL] = name
		queues[q.DLQURL] = name + "-dlq"
	}
	m := newMeter(queues)
	ddbURL, stopDDB, err := m.serve(env.Endpoints.DynamoDB)
	if err != nil {
		t.Fatal(err)
	}
	defer stopDDB()
	sqsURL, stopSQS, err := m.serve(env.Endpoints.SQS)
	if err != nil {
		t.Fatal(err)
	}
	defer stopSQS()
	if err := os.MkdirAll(resultsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(resultsDir, "usage.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	fns := newFnMeter()
	b := &usageBench{ddbPID: listener(env.Endpoints.DynamoDB), t: t, meter: m, fns: fns, logs: &byteCounter{w: logFile}, cfg: cfg,
		client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}},
		res:    usageResult{Machine: thisMachine(), Settings: cfg}}
	st, err := localstack.Start(context.Background(), localstack.Options{
		Endpoints: localaws.Endpoints{DynamoDB: ddbURL, SQS: sqsURL}, Resources: env.Resources,
		KeyFile: t.TempDir() + "/local.key", LogOutput: b.logs, LogLevel: "info", PollWait: 1,
		APIOptions: []func(*middleware.Stack) error{fns.apiOption}, SweepInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b.st = st
	if b.dev, err = st.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	sc := billing.Scope{TenantID: b.dev.TenantID, EnvironmentID: b.dev.EnvironmentID}
	b.prefix = "S#" + sc.TenantID + "#" + sc.EnvironmentID
	ctx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	b.watch = &watcher{store: usagedb.New(env.DDB, env.Table(), 0), sc: sc, interval: time.Duration(cfg.PollMS) * time.Millisecond,
		lats: map[*usageGroup][]time.Duration{}}
	go b.watch.run(ctx)

	// Set-up: customers (the events name their external ids) and meters.
	var hotID string
	for i := range cfg.Customers + 1 {
		var out struct{ ID string }
		b.api("POST", "/api/v1/customers", map[string]any{"external_id": custName(i), "name": fmt.Sprintf("Usage customer %d", i),
			"email": fmt.Sprintf("usage%d@example.com", i)}, 201, &out)
		if i == 0 {
			hotID = out.ID
		}
	}
	meters := []map[string]any{
		{"name": "API calls", "event_name": "api_call", "aggregation": "COUNT"},
		{"name": "Tokens in Mumbai", "event_name": "api_call", "aggregation": "SUM", "property": "tokens", "filters": map[string]any{"region": []string{"ap-south-1"}}},
		{"name": "Active users", "event_name": "api_call", "aggregation": "UNIQUE_COUNT", "property": "user"},
		{"name": "Peak storage", "event_name": "storage", "aggregation": "MAX", "property": "gb"},
	}
	var countMeter string
	for _, mt := range meters {
		var out struct{ ID string }
		b.api("POST", "/api/v1/meters", mt, 201, &out)
		if mt["aggregation"] == "COUNT" {
			countMeter = out.ID
		}
		f, _ := json.Marshal(mt)
		b.res.Meters = append(b.res.Meters, string(f))
	}
	b.baseTime = time.Now().UTC().Truncate(time.Second)
	b.settle()
	m.take()
	fns.take()
	b.logs.n.Store(0)

	// warm-up (DynamoDB Local's JIT; not a goal figure), then bulk: closed loop.
	b.closedLoop("warm-up", &usageGroup{Name: fmt.Sprintf("%d senders", cfg.Senders)}, cfg.Warmup)
	all := &usageGroup{Name: fmt.Sprintf("%d senders", cfg.Senders)}
	b.closedLoop("bulk", all, cfg.Events)

	// baseline and hot: open loop. Unless set, the rates are a share of what
	// the bulk phase accepted per second: offering more than the machine
	// takes measures its backlog, not one customer's effect on others.
	if os.Getenv("RAZORBILL_BENCH_USAGE_HOT_RATE") == "" {
		cfg.HotRate, b.res.Settings.HotRateAuto = max(10, int(all.PerSec*3/10)), true
	}
	if os.Getenv("RAZORBILL_BENCH_USAGE_OTHERS_RATE") == "" {
		cfg.OthersRate, b.res.Settings.OthersRateAuto = max(10, int(all.PerSec*15/100)), true
	}
	b.res.Settings.HotRate, b.res.Settings.OthersRate = cfg.HotRate, cfg.OthersRate
	b.cfg = cfg
	// baseline: the hot phase's load, its HotRate share spread over the
	// other customers; hot: the same rates, HotRate from one customer.
	others := &usageGroup{Name: "others", Rate: cfg.OthersRate}
	spread := &usageGroup{Name: "spread over the others", Rate: cfg.HotRate}
	b.phase("baseline", func() {
		var wg sync.WaitGroup
		b.openLoop(&wg, others, func(j int) int { return 1 + j%cfg.Customers })
		b.openLoop(&wg, spread, func(j int) int { return 1 + (j+7)%cfg.Customers })
		wg.Wait()
	}, others, spread)
	others2 := &usageGroup{Name: "others", Rate: cfg.OthersRate}
	hot := &usageGroup{Name: "hot customer", Rate: cfg.HotRate}
	b.phase("hot", func() {
		var wg sync.WaitGroup
		b.openLoop(&wg, others2, func(j int) int { return 1 + j%cfg.Customers })
		b.openLoop(&wg, hot, func(int) int { return 0 })
		wg.Wait()
	}, others2, hot)

	// Exactness check: every accepted api_call of the hot customer is in
	// its COUNT (GET /api/v1/usage).
	hour := b.baseTime.Truncate(time.Hour)
	var u struct{ Total string }
	b.api("GET", fmt.Sprintf("/api/v1/usage?meter_id=%s&customer_id=%s&start=%s&end=%s", countMeter, hotID,
		hour.Add(-time.Hour).Format(time.RFC3339), time.Now().UTC().Truncate(time.Hour).Add(time.Hour).Format(time.RFC3339)), nil, 200, &u)
	want := b.apiCalls(hot)
	check := fmt.Sprintf("the hot customer's COUNT meter via GET /api/v1/usage: %s; api_call events accepted for it: %d", u.Total, want)
	b.res.Checks = append(b.res.Checks, check)
	if u.Total != fmt.Sprint(want) {
		t.Errorf("%s", check)
	}
	if b.ddbPID == 0 {
		b.res.Checks = append(b.res.Checks, "DynamoDB Local's process was not found: its CPU time is not measured")
	}
	if b.watch.errs > 0 {
		b.res.Checks = append(b.res.Checks, fmt.Sprintf("watcher reads that failed (retried at the next tick): %d", b.watch.errs))
	}
	b.res.Took = ms(time.Since(start))
	writeResult(t, "usage.json", b.res)
	if err := os.WriteFile(filepath.Join(resultsDir, "usage.md"), []byte(usageSection(b.res)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", filepath.Join(resultsDir, "usage.md"))
}

// listener finds the java process serving endpoint (DynamoDB Local is
// started with -port N).
func listener(endpoint string) int {
	port := endpoint[strings.LastIndexByte(endpoint, ':')+1:]
	return findProcess("cmdline", func(args []string) bool {
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-port" && args[i+1] == port && slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, "DynamoDBLocal") }) {
				return true
			}
		}
		return false
	})
}

// findProcess is the first process whose /proc/<pid>/<file> (cmdline or
// environ: NUL-separated) is, split, what match wants; else 0.
func findProcess(file string, match func(fields []string) bool) int {
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile("/proc/" + d.Name() + "/" + file)
		if match(strings.Split(string(b), "\x00")) {
			return pid
		}
	}
	return 0
}

// procCPU is a process's user+sys CPU time so far (0 when unknown).
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// closedLoop sends n events by Senders senders, each posting its next
// call when the last was answered.
func (b *usageBench) closedLoop(name string, g *usageGroup, n int) {
	calls := n / b.cfg.Bulk
	b.phase(name, func() {
		next := make(chan int)
		var wg sync.WaitGroup
		lats := make([]time.Duration, calls)
		t0 := time.Now()
		var last atomic.Int64
		for range b.cfg.Senders {
			wg.Go(func() {
				for i := range next {
					lats[i] = b.post(g, b.events(i, func(j int) int { return 1 + (i*b.cfg.Bulk+j)%b.cfg.Customers }), 1)
					last.Store(int64(time.Since(t0)))
				}
			})
		}
		for i := range calls {
			next <- i
		}
		close(next)
		wg.Wait()
		g.Requests = calls
		g.Ack = distOf(lats)
		g.Wall = ms(time.Duration(last.Load()))
	}, g)
}

func custName(i int) string {
	if i == 0 {
		return "usage-hot"
	}
	return fmt.Sprintf("usage-%02d", i)
}

// eventKind: 4 of 5 events are api_call (three meters count them, one
// filtered by region), 1 of 5 storage (MAX).
func eventKind(n int64) string {
	if n%5 == 4 {
		return "storage"
	}
	return "api_call"
}

// events builds one bulk call's events; cust picks each event's customer.
func (b *usageBench) events(call int, cust func(j int) int) []map[string]any {
	evs := make([]map[string]any, b.cfg.Bulk)
	ts := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	for j := range evs {
		n := b.seq.Add(1)
		e := map[string]any{"event_id": fmt.Sprintf("ev-%d", n), "event_name": eventKind(n), "customer_external_id": custName(cust(j)), "timestamp": ts}
		if eventKind(n) == "storage" {
			e["properties"] = map[string]any{"gb": json.Number(fmt.Sprintf("%d.%02d", n%500, n%100))}
		} else {
			region := "ap-south-1"
			if n%3 == 0 {
				region = "us-east-1"
			}
			e["properties"] = map[string]any{"tokens": json.Number(fmt.Sprintf("%d.%d", 100+n%900, n%10)), "region": region, "user": fmt.Sprintf("user-%d", n%200)}
		}
		evs[j] = e
	}
	return evs
}

// apiCalls counts the api_call events the group's accepted calls carried
// (every call of the group was accepted whole, or the test failed).
func (b *usageBench) apiCalls(g *usageGroup) int {
	b.watch.mu.Lock()
	defer b.watch.mu.Unlock()
	return g.apiCalls
}

// post sends one bulk call and registers samples of its events (evenly
// spaced, the first included) with the watcher.
func (b *usageBench) post(g *usageGroup, evs []map[string]any, samples int) time.Duration {
	body, _ := json.Marshal(map[string]any{"events": evs})
	req, _ := http.NewRequest("POST", b.st.APIURL+"/api/v1/events/bulk", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+b.dev.APIKey)
	req.Header.Set("X-Environment-ID", b.dev.EnvironmentID)
	req.Header.Set("Content-Type", "application/json")
	t0 := time.Now()
	resp, err := b.client.Do(req)
	status := 0
	var out struct {
		Accepted   int `json:"accepted"`
		Duplicates int `json:"duplicates"`
		Rejected   []json.RawMessage
	}
	if err == nil {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
		if status == 202 {
			_ = json.Unmarshal(raw, &out)
		} else {
			b.t.Logf("bulk call: %d %.300s", status, raw)
		}
	} else {
		b.t.Logf("bulk call: %v", err)
	}
	at := time.Now()
	lat := at.Sub(t0)
	nAPI := 0
	for _, e := range evs {
		if e["event_name"] == "api_call" {
			nAPI++
		}
	}
	b.watch.mu.Lock()
	g.Events += len(evs)
	if status == 202 && out.Accepted == len(evs) {
		g.Accepted += out.Accepted
		g.apiCalls += nAPI
	} else {
		g.Failed++
		if status != 202 || len(out.Rejected) > 0 {
			g.Statuses = appendUnique(g.Statuses, status)
		}
	}
	b.watch.mu.Unlock()
	if status == 202 && out.Accepted == len(evs) {
		for k := range samples {
			e := evs[k*len(evs)/samples]
			ts, _ := time.Parse(time.RFC3339, e["timestamp"].(string))
			b.watch.add(sample{ev: usage.Event{ID: e["event_id"].(string), CustomerExternalID: e["customer_external_id"].(string), Timestamp: ts},
				group: g, at: at})
		}
	}
	return lat
}

func appendUnique(s []int, v int) []int {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// openLoop sends g.Rate events/s as calls of Bulk events at fixed slots for
// HotSeconds, each call on its own goroutine (a slow answer does not delay
// the next call).
func (b *usageBench) openLoop(wg *sync.WaitGroup, g *usageGroup, cust func(j int) int) {
	calls := g.Rate * b.cfg.HotSeconds / b.cfg.Bulk
	every := time.Duration(int64(time.Second) * int64(b.cfg.Bulk) / int64(g.Rate))
	lats := make([]time.Duration, calls)
	g.Requests = calls
	t0 := time.Now()
	var last atomic.Int64
	var late atomic.Int64
	var inner sync.WaitGroup
	wg.Go(func() {
		for i := range calls {
			slot := t0.Add(time.Duration(i) * every)
			time.Sleep(time.Until(slot))
			if time.Since(slot) > 50*time.Millisecond {
				late.Add(1)
			}
			inner.Go(func() {
				lats[i] = b.post(g, b.events(i, func(j int) int { return cust(i*b.cfg.Bulk + j) }), 10)
				last.Store(int64(time.Since(t0)))
			})
		}
		inner.Wait()
		g.Ack = distOf(lats)
		g.Wall = ms(time.Duration(last.Load()))
		g.LateStarts = int(late.Load())
	})
}

func (b *usageBench) settle() {
	deadline := time.Now().Add(3 * time.Minute)
	for b.meter.idleFor() < 2*time.Second {
		if time.Now().After(deadline) {
			b.t.Fatal("the stack did not settle within 3 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// phase runs send, waits until every sample is counted, and records.
func (b *usageBench) phase(name string, send func(), groups ...*usageGroup) {
	b.t.Helper()
	p := &usagePhase{Name: name, LoadStart: thisMachine().LoadAvg, Groups: groups}
	b.fns.count.Store(true)
	ddb0, go0 := procCPU(b.ddbPID), selfCPU()
	if f := os.Getenv("RAZORBILL_BENCH_USAGE_CPUPROFILE"); f != "" && name == "bulk" {
		out, err := os.Create(f)
		if err != nil {
			b.t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			b.t.Fatal(err)
		}
		defer out.Close()
		defer pprof.StopCPUProfile()
	}
	t0 := time.Now()
	send()
	sent := time.Now()
	deadline := time.Now().Add(10 * time.Minute)
	for b.watch.left() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	p.Counted = ms(time.Since(t0))
	p.CPUDynamoDB, p.CPUGo = ms(procCPU(b.ddbPID)-ddb0), ms(selfCPU()-go0)
	b.settle()
	b.fns.count.Store(false)
	p.LoadEnd = thisMachine().LoadAvg
	p.Counts, _ = b.meter.take()
	var pk map[string]map[int64]int
	var tx map[string]bool
	p.ByFunction, pk, tx = b.fns.take()
	p.TopKeys = topKeys(pk, tx, b.prefix, 8)
	var during, after int
	lastSec := sent.Unix()
	for k, secs := range pk {
		if keyKind(k) != "timeline" {
			continue
		}
		for sec, n := range secs {
			if sec < sent.Unix() {
				during += n
			} else {
				after += n
				lastSec = max(lastSec, sec)
			}
		}
	}
	p.AggWhileSending = float64(during) / max(1, float64(sent.Unix()-t0.Unix()))
	p.AggAfter = float64(after) / float64(lastSec-sent.Unix()+1)
	p.LogBytes = b.logs.n.Swap(0)
	ev := float64(max(1, b.acceptedIn(groups)))
	b.t.Logf("%s: CPU per accepted event: DynamoDB Local %.2f ms, this process (stack, proxy, senders) %.2f ms; counted %.0f events/s while sending, %.0f/s after",
		name, p.CPUDynamoDB/ev, p.CPUGo/ev, p.AggWhileSending, p.AggAfter)
	b.watch.mu.Lock()
	for _, g := range groups {
		g.Queryable = distOf(b.watch.lats[g])
		g.Unsettled = 0
		for _, s := range b.watch.pending {
			if s.group == g {
				g.Unsettled++
			}
		}
		if g.Wall > 0 {
			g.PerSec = float64(g.Accepted) / (g.Wall / 1000)
		}
		p.Events += g.Accepted
	}
	b.watch.pending = nil
	b.watch.mu.Unlock()
	b.res.Phases = append(b.res.Phases, p)
	for _, g := range groups {
		b.t.Logf("%s/%s: %d of %d events accepted in %.1f s (%.0f/s), ack p50 %.0f ms p99 %.0f ms, queryable p50 %.0f ms p99 %.0f ms (%d samples, %d never counted), %d failed calls; load %s → %s",
			name, g.Name, g.Accepted, g.Events, g.Wall/1000, g.PerSec, g.Ack.P50, g.Ack.P99, g.Queryable.P50, g.Queryable.P99, g.Queryable.N, g.Unsettled, g.Failed, p.LoadStart, p.LoadEnd)
		if g.Unsettled > 0 || g.Failed > 0 {
			b.t.Errorf("%s/%s: %d samples never counted, %d calls failed", name, g.Name, g.Unsettled, g.Failed)
		}
	}
}

func (b *usageBench) acceptedIn(groups []*usageGroup) int {
	b.watch.mu.Lock()
	defer b.watch.mu.Unlock()
	n := 0
	for _, g := range groups {
		n += g.Accepted
	}
	return n
}

func (b *usageBench) api(method, path string, body any, want int, out any) {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, b.st.APIURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+b.dev.APIKey)
	req.Header.Set("X-Environment-ID", b.dev.EnvironmentID)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatal(err)
		}
	}
}
