package bench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/testenv"
	"github.com/razorbill/razorbill/internal/usage"
)

// ceilingPhase is one concurrency level of TestDynamoDBLocalCeiling.
type ceilingPhase struct {
	InFlight      int     `json:"in_flight"`
	Seconds       float64 `json:"seconds"`
	Puts          int64   `json:"puts"`
	Errors        int64   `json:"errors"`
	PutsPerSecond float64 `json:"puts_per_second"`
	// CPU per accepted put: DynamoDB Local's JVM, and this test process (the
	// SDK client and the store's encoding).
	JVMCPUPerPutMS  float64 `json:"jvm_cpu_per_put_ms"`
	SelfCPUPerPutMS float64 `json:"self_cpu_per_put_ms"`
	// The bound 2 CPUs put on puts per second at the JVM's CPU per put,
	// with nothing else running.
	JVMBoundPerSecond float64 `json:"jvm_bound_per_second"`
	LoadAvg           string  `json:"loadavg"`
}

// TestDynamoDBLocalCeiling measures how many usage events per second
// DynamoDB Local on this machine can take when each is one conditional
// PutItem of its id's guard item, written by the real usage store
// (usagedb.Store.PutEvent: the one write per event issue 18 asks the ingest
// function to make) on Razorbill's table with its stream, and nothing else
// runs: no API, no aggregator. Whatever the rest of the pipeline costs,
// the metering goal (5,000 events/s accepted) is above what this shows.
// Results: .razorbill/bench/ceiling.json, and docs/benchmarks.md §7
// (hand-written).
func TestDynamoDBLocalCeiling(t *testing.T) {
	gate(t)
	env := testenv.AWS(t)
	store := usagedb.New(env.DynamoDB, env.Table(), 400*24*time.Hour)
	pid := listener(env.Endpoints.DynamoDB)
	if pid == 0 {
		t.Fatalf("no DynamoDB Local process listens at %s", env.Endpoints.DynamoDB)
	}
	sc := billing.Scope{TenantID: "tnt_01m900000000000000000000aa", EnvironmentID: "env_01m900000000000000000000aa"}
	secs := envInt(t, "RAZORBILL_BENCH_CEILING_SECONDS", 15)
	var seq atomic.Int64
	event := func() usage.Event {
		n := seq.Add(1)
		now := time.Now().UTC()
		// The shape of the bench's api_call events (§7): a customer's
		// external id, a decimal and two strings.
		return usage.Event{ID: fmt.Sprintf("ceiling-%012d", n), Name: "api_call", CustomerExternalID: custName(int(n % 20)),
			Timestamp: now, AcceptedAt: now, Properties: map[string]string{"tokens": "1234.5", "region": "ap-south-1", "user": fmt.Sprintf("user-%03d", n%200)}}
	}
	// Warm the JVM before measuring.
	run := func(inFlight int, d time.Duration) (puts, errs int64) {
		ctx := context.Background()
		deadline := time.Now().Add(d)
		var wg sync.WaitGroup
		var p, e atomic.Int64
		for range inFlight {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					if dup, err := store.PutEvent(ctx, sc, event()); err != nil || dup {
						e.Add(1)
						continue
					}
					p.Add(1)
				}
			})
		}
		wg.Wait()
		return p.Load(), e.Load()
	}
	run(16, 10*time.Second)

	var phases []ceilingPhase
	for _, inFlight := range []int{1, 8, 32, 128} {
		load, _ := os.ReadFile("/proc/loadavg")
		jvm0, self0, t0 := procCPU(pid), selfCPU(), time.Now()
		puts, errs := run(inFlight, time.Duration(secs)*time.Second)
		el := time.Since(t0).Seconds()
		ph := ceilingPhase{InFlight: inFlight, Seconds: el, Puts: puts, Errors: errs, PutsPerSecond: float64(puts) / el, LoadAvg: string(load)}
		if puts > 0 {
			ph.JVMCPUPerPutMS = float64(procCPU(pid)-jvm0) / float64(time.Millisecond) / float64(puts)
			ph.SelfCPUPerPutMS = float64(selfCPU()-self0) / float64(time.Millisecond) / float64(puts)
		}
		if ph.JVMCPUPerPutMS > 0 {
			ph.JVMBoundPerSecond = 2000 / ph.JVMCPUPerPutMS
		}
		t.Logf("%3d in flight: %6d puts in %.1f s = %6.0f/s, %d errors; DynamoDB Local %.3f ms CPU/put (2 CPUs: ≤ %.0f/s), this process %.3f ms CPU/put",
			inFlight, puts, el, ph.PutsPerSecond, errs, ph.JVMCPUPerPutMS, ph.JVMBoundPerSecond, ph.SelfCPUPerPutMS)
		phases = append(phases, ph)
	}
	out, err := json.MarshalIndent(map[string]any{"machine": thisMachine(), "at": time.Now().UTC().Format(time.RFC3339), "phases": phases}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(resultsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(resultsDir, "ceiling.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ph := range phases {
		if ph.Puts == 0 || ph.Errors > ph.Puts/100 {
			t.Errorf("%d in flight: %d puts, %d errors: not a measurement of accepted writes", ph.InFlight, ph.Puts, ph.Errors)
		}
	}
}
