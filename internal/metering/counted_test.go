package metering_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/usage"
)

// TestCountedSeesOnlyAppliedEvents: usagedb.Store.Counted (what the usage
// benchmark polls) reports an event once the aggregator has counted it, not
// when it is merely stored, and matches each event by index.
func TestCountedSeesOnlyAppliedEvents(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	c := r.customer(t, "acct-counted")
	r.meter(t, usage.Meter{Name: "calls", EventName: "call", Aggregation: usage.Count})
	r.now = r.now.Add(time.Minute)
	var evs []usage.Event
	for i := range 3 {
		e := usage.Event{ID: fmt.Sprintf("cnt-%d", i), Name: "call", CustomerExternalID: c.ExternalID,
			Timestamp: r.now.Add(-time.Duration(i) * time.Second), AcceptedAt: r.now}
		if _, err := r.store.PutEvent(ctx, r.sc, e); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	got, err := r.store.Counted(ctx, r.sc, evs)
	if err != nil || len(got) != 0 {
		t.Fatalf("before the aggregator: %v, %v; want none counted", got, err)
	}
	ms, err := r.store.Meters(ctx, r.sc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.store.Apply(ctx, r.sc, ms, evs[1:2]); err != nil {
		t.Fatal(err)
	}
	got, err = r.store.Counted(ctx, r.sc, evs)
	if err != nil || len(got) != 1 || !got[1] {
		t.Fatalf("after counting event 1: %v, %v; want only index 1", got, err)
	}
}
