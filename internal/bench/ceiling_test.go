package bench_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
	store := usagedb.New(env.DDB, env.Table(), 400*24*time.Hour)
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
	writeResult(t, "ceiling.json", map[string]any{"machine": thisMachine(), "at": time.Now().UTC().Format(time.RFC3339), "phases": phases})
	for _, ph := range phases {
		if ph.Puts == 0 || ph.Errors > ph.Puts/100 {
			t.Errorf("%d in flight: %d puts, %d errors: not a measurement of accepted writes", ph.InFlight, ph.Puts, ph.Errors)
		}
	}
}

// TestDynamoDBLocalBatchReads measures what DynamoDB Local spends on reading
// two items in one BatchGetItem against two GetItems and one GetItem
// (consistent reads, as the store makes them) — the payment-reconciler reads
// a capture's items in pairs (dynamo.Store.Prefetch) — on a table of 20,000
// items of about 900 bytes, from 8 goroutines, 3,000 of each after a round
// of the same to warm the JVM. It logs the CPU per operation and writes
// batchreads.json.
func TestDynamoDBLocalBatchReads(t *testing.T) {
	gate(t)
	env := testenv.AWS(t)
	pid := listener(env.Endpoints.DynamoDB)
	if pid == 0 {
		t.Fatalf("no DynamoDB Local process listens at %s", env.Endpoints.DynamoDB)
	}
	ctx := context.Background()
	table := env.Table()
	const items, ops, workers = 20000, 3000, 8
	keyOf := func(i int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: fmt.Sprintf("S#tnt_bench#env_bench#pay_%06d", i%items)},
			"SK": &types.AttributeValueMemberS{Value: "A"}}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < items; i += workers {
				it := keyOf(i)
				it["pad"] = &types.AttributeValueMemberS{Value: strings.Repeat("x", 800)}
				if _, err := env.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	get := func(i int) error {
		_, err := env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: keyOf(i), ConsistentRead: aws.Bool(true)})
		return err
	}
	kinds := []struct {
		Name string
		do   func(i int) error
	}{
		{"two GetItems", func(i int) error {
			if err := get(i); err != nil {
				return err
			}
			return get(i + 1)
		}},
		{"one BatchGetItem of two", func(i int) error {
			_, err := env.DynamoDB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				table: {Keys: []map[string]types.AttributeValue{keyOf(i), keyOf(i + 1)}, ConsistentRead: aws.Bool(true)}}})
			return err
		}},
		{"one GetItem", get},
	}
	type result struct {
		Name         string  `json:"name"`
		Seconds      float64 `json:"seconds"`
		JVMCPUPerOp  float64 `json:"jvm_cpu_per_op_ms"`
		SelfCPUPerOp float64 `json:"self_cpu_per_op_ms"`
	}
	var results []result
	for round := range 2 {
		for _, k := range kinds {
			jvm0, self0, t0 := procCPU(pid), selfCPU(), time.Now()
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := w; i < ops; i += workers {
						if err := k.do(i * 7); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			r := result{Name: k.Name, Seconds: time.Since(t0).Seconds(),
				JVMCPUPerOp: float64(procCPU(pid)-jvm0) / float64(time.Millisecond) / ops, SelfCPUPerOp: float64(selfCPU()-self0) / float64(time.Millisecond) / ops}
			if round == 1 {
				results = append(results, r)
				t.Logf("%-24s %d in %.1f s: DynamoDB Local %.3f ms CPU each, this process %.3f ms", r.Name, ops, r.Seconds, r.JVMCPUPerOp, r.SelfCPUPerOp)
			}
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	writeResult(t, "batchreads.json", map[string]any{"machine": thisMachine(), "at": time.Now().UTC().Format(time.RFC3339), "loadavg": string(load), "results": results})
}
