package metering_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/testenv"
	"github.com/razorbill/razorbill/internal/usage"
)

// TestAggregatorItemsPerEvent measures the aggregator's DynamoDB work per
// event for batches like docs/benchmarks.md §7's: stream batches of 500
// records from 20 customers in arrival order, the four meters of §7
// (COUNT api_call; SUM tokens filtered region ap-south-1; UNIQUE_COUNT user,
// one of 200; MAX gb on storage), 4 in 5 events api_call, 4 batches in one
// hour. Each event needs its timeline item, its claim (1 PutItem per
// event, outside any transaction); what this bounds is the rest: chunk
// markers, bucket items written, and keys read.
//
// Measured on DynamoDB Local (2,000 events), per event:
//
//	before (transactions filled in arrival order, a bucket per event
//	        shard, the timeline items read before every transaction):
//	  timeline 1.00, bucket 1.34, unique 0.65 items written; 3.16 keys read
//	then (ordered by customer and hour, one bucket per customer, meter
//	       and hour in a transaction, the timeline read only after a
//	       cancelled transaction, UNIQUE_COUNT items the store knows exist
//	       not read again):
//	  timeline 1.00, bucket 0.16, unique 0.65 items written; 0.82 keys read
//	now (the timeline item a claim by PutItem, one marker per chunk in the
//	     transaction, 2026-12-06):
//	  timeline 1.00 by PutItem; marker 0.010, bucket 0.14, unique 0.65 in
//	  transactions; 0.79 keys read
//
// (UNIQUE_COUNT items are the values new in their hour: many here, where
// each customer sends 100 events in the hour; the same either way.) The
// bounds: one claim per event and no timeline item in a transaction,
// markers ≤ 0.01, bucket items ≤ 0.25 per event, keys read ≤ 1.5 per
// event. A fifth batch names only users seen that hour: keys read per event
// ≤ 0.3 (0.14). Then that batch is delivered again: it writes nothing, and
// costs one failed claim (the rest is read first) and about a read per
// event.
func TestAggregatorItemsPerEvent(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	r := newRigEnv(env)
	ctx := context.Background()
	counter := newTxCounter(env.DDB)
	store := usagedb.New(counter, env.Table(), 0)
	r.store, r.svc.Store = store, store
	calls := r.meter(t, usage.Meter{Name: "API calls", EventName: "api_call", Aggregation: usage.Count})
	r.meter(t, usage.Meter{Name: "Tokens in Mumbai", EventName: "api_call", Aggregation: usage.Sum, Property: "tokens",
		Filters: map[string][]string{"region": {"ap-south-1"}}})
	r.meter(t, usage.Meter{Name: "Active users", EventName: "api_call", Aggregation: usage.UniqueCount, Property: "user"})
	r.meter(t, usage.Meter{Name: "Peak storage", EventName: "storage", Aggregation: usage.Max, Property: "gb"})
	r.now = r.now.Add(time.Minute)
	hour := r.now.Truncate(time.Hour)
	ms, err := store.Meters(ctx, r.sc)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(18, 7))
	const batches, perBatch, customers = 4, 500, 20
	apiCalls := map[string]int{}
	sent := map[string][]string{} // customer → users its events named
	n := 0
	// batch makes perBatch events in arrival order; user picks an api_call's
	// user for a customer.
	batch := func(user func(cust string) string) []usage.Event {
		var evs []usage.Event
		for range perBatch {
			cust := fmt.Sprintf("cost-cust-%02d", rng.IntN(customers))
			e := usage.Event{ID: fmt.Sprintf("cost-%05d", n), CustomerExternalID: cust,
				Timestamp: hour.Add(time.Duration(n) * time.Second), AcceptedAt: r.now}
			n++
			if rng.IntN(5) < 4 {
				region := "us-east-1"
				if rng.IntN(2) == 0 {
					region = "ap-south-1"
				}
				e.Name = "api_call"
				e.Properties = map[string]string{"tokens": fmt.Sprintf("%d.%03d", rng.IntN(5000), rng.IntN(1000)), "region": region,
					"user": user(cust)}
				apiCalls[cust]++
				sent[cust] = append(sent[cust], e.Properties["user"])
			} else {
				e.Name = "storage"
				e.Properties = map[string]string{"gb": fmt.Sprintf("%d.%02d", rng.IntN(900), rng.IntN(100))}
			}
			evs = append(evs, e)
		}
		return evs
	}
	apply := func(evs []usage.Event) {
		t.Helper()
		res, err := store.Apply(ctx, r.sc, ms, evs)
		if err != nil {
			t.Fatal(err)
		}
		if res.Counted != len(evs) || res.Duplicates != 0 {
			t.Fatalf("batch: %+v, want %d counted", res, len(evs))
		}
	}
	for range batches {
		apply(batch(func(string) string { return fmt.Sprintf("user-%03d", rng.IntN(200)) }))
	}
	events := float64(batches * perBatch)
	claims := float64(counter.wrote(usagedb.EntityTimeline)) / events
	markers := float64(counter.written(usagedb.EntityChunk)) / events
	bucket := float64(counter.written(usagedb.EntityBucket)) / events
	unique := float64(counter.written(usagedb.EntityUnique)) / events
	reads := float64(counter.readKeys) / events
	// §7's prices: $0.625 per million WRU, $0.125 per million RRU; every item
	// here is under 1 KB: 1 WRU by PutItem, 2 WRU in a transaction; plus
	// usage-ingest's guard PutItem (1 WRU per event). A PutItem that failed
	// its condition is charged 1 WRU.
	wru := 1 + claims + 2*(markers+bucket+unique) + 2*float64(counter.cancelled)/events + float64(counter.failedPuts)/events
	t.Logf("per event: timeline %.2f (PutItem), chunk marker %.3f, bucket %.2f, unique %.2f items written (transactions); %.2f cancelled items, "+
		"%.2f failed PutItems; %.2f keys read; %.2f WRU (with the guard), %.2f RRU: $%.2f per million events",
		claims, markers, bucket, unique, float64(counter.cancelled)/events, float64(counter.failedPuts)/events, reads, wru, reads, wru*0.625+reads*0.125)
	if claims != 1 || counter.written(usagedb.EntityTimeline) != 0 {
		t.Fatalf("timeline items per event %.2f by PutItem and %d in transactions, want 1 and none", claims, counter.written(usagedb.EntityTimeline))
	}
	if markers > 0.01 {
		t.Errorf("chunk markers per event %.3f, want ≤ 0.01", markers)
	}
	if bucket > 0.25 {
		t.Errorf("bucket items per event %.2f, want ≤ 0.25", bucket)
	}
	if reads > 1.5 {
		t.Errorf("keys read per event %.2f, want ≤ 1.5", reads)
	}
	// A batch whose users were all seen that hour (as most are once a
	// customer has sent a few hundred events in it): no UNIQUE_COUNT item
	// written, and none read (the store wrote them).
	readKeys, uniq := counter.readKeys, counter.written(usagedb.EntityUnique)
	evs := batch(func(cust string) string {
		if len(sent[cust]) == 0 {
			t.Fatalf("%s sent no api_call before", cust)
		}
		return sent[cust][rng.IntN(len(sent[cust]))]
	})
	apply(evs)
	steadyReads := float64(counter.readKeys-readKeys) / perBatch
	t.Logf("a batch of users seen before: %.2f keys read per event, %d UNIQUE_COUNT items written", steadyReads, counter.written(usagedb.EntityUnique)-uniq)
	if steadyReads > 0.3 {
		t.Errorf("a batch of users seen before read %.2f keys per event, want ≤ 0.3", steadyReads)
	}
	// That batch delivered again: its first claim fails, the rest is read
	// first and left out; nothing is written.
	written := counter.written(usagedb.EntityChunk) + counter.written(usagedb.EntityBucket) + counter.written(usagedb.EntityUnique) + counter.wrote(usagedb.EntityTimeline)
	cancelled, failedPuts, readKeys := counter.cancelled, counter.failedPuts, counter.readKeys
	res, err := store.Apply(ctx, r.sc, ms, evs)
	if err != nil || res.Counted != 0 || res.Duplicates != perBatch {
		t.Fatalf("redelivered batch: %+v %v, want %d duplicates", res, err, perBatch)
	}
	if w := counter.written(usagedb.EntityChunk) + counter.written(usagedb.EntityBucket) + counter.written(usagedb.EntityUnique) + counter.wrote(usagedb.EntityTimeline) - written; w != 0 {
		t.Fatalf("a redelivered batch wrote %d items", w)
	}
	if c, f := counter.cancelled-cancelled, counter.failedPuts-failedPuts; c != 0 || f != 1 {
		t.Errorf("a redelivered batch cancelled transactions of %d items and failed %d PutItems, want none and one", c, f)
	}
	if k := counter.readKeys - readKeys; float64(k) > 1.5*perBatch {
		t.Errorf("a redelivered batch read %d keys, want ≤ %d", k, 3*perBatch/2)
	}
	t.Logf("redelivered batch of %d: %d failed PutItems, %d keys read", perBatch, counter.failedPuts-failedPuts, counter.readKeys-readKeys)
	// The buckets still add up: one customer's COUNT equals its api_call events.
	got, err := store.Usage(ctx, r.sc, calls, []string{"x:cost-cust-03"}, hour, hour.Add(time.Hour))
	if err != nil || got[hour].N != int64(apiCalls["cost-cust-03"]) {
		t.Fatalf("COUNT for cost-cust-03: %+v %v, want %d", got[hour], err, apiCalls["cost-cust-03"])
	}
}
