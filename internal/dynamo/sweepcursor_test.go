package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/testenv"
)

// The sweep cursor of an environment on DynamoDB Local: none at first;
// then what each write says, except that a write older than the stored
// cursor changes nothing (the schedule's "running" mark landing after the
// sweep it queued had written "done"); one environment's cursor is not
// another's.
func TestSweepCursorPerEnvironment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.AWS(t)
	store := dynamo.New(env.DDB, env.Table())
	a := billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)}
	b := billing.Scope{TenantID: a.TenantID, EnvironmentID: ids.New(ids.Environment)}
	get := func(sc billing.Scope) billing.SweepCursor {
		t.Helper()
		c, err := store.GetSweepCursor(ctx, sc)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	put := func(sc billing.Scope, c billing.SweepCursor) {
		t.Helper()
		if err := store.PutSweepCursor(ctx, sc, c); err != nil {
			t.Fatal(err)
		}
	}
	if c := get(a); c != (billing.SweepCursor{}) {
		t.Fatalf("before any sweep: %+v", c)
	}
	t1 := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	put(a, billing.SweepCursor{After: "pay_0055", State: billing.SweepRunning, At: t1})
	if c := get(a); c.After != "pay_0055" || c.State != billing.SweepRunning || !c.At.Equal(t1) {
		t.Fatalf("after a continuation: %+v", c)
	}
	if c := get(b); c != (billing.SweepCursor{}) {
		t.Fatalf("another environment: %+v", c)
	}
	put(a, billing.SweepCursor{State: billing.SweepDone, At: t1.Add(time.Minute)})
	put(a, billing.SweepCursor{State: billing.SweepRunning, At: t1.Add(30 * time.Second)}) // older: kept out
	if c := get(a); c.State != billing.SweepDone || c.After != "" || !c.At.Equal(t1.Add(time.Minute)) {
		t.Fatalf("after the end and an older write: %+v", c)
	}
}
