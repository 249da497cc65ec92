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

// The sweep cursor of an environment: none at first, then the place and
// time each continuation writes, cleared ("") when the continued sweep
// reaches the end; one environment's cursor is not another's.
func TestSweepCursorPerEnvironment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.AWS(t)
	store := dynamo.New(env.DynamoDB, env.Table())
	a := billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)}
	b := billing.Scope{TenantID: a.TenantID, EnvironmentID: ids.New(ids.Environment)}
	if after, at, err := store.GetSweepCursor(ctx, a); err != nil || after != "" || !at.IsZero() {
		t.Fatalf("before any sweep: %q %v %v", after, at, err)
	}
	t1 := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	if err := store.PutSweepCursor(ctx, a, "pay_0055", t1); err != nil {
		t.Fatal(err)
	}
	if after, at, err := store.GetSweepCursor(ctx, a); err != nil || after != "pay_0055" || !at.Equal(t1) {
		t.Fatalf("after a continuation: %q %v %v", after, at, err)
	}
	if after, _, err := store.GetSweepCursor(ctx, b); err != nil || after != "" {
		t.Fatalf("another environment: %q %v", after, err)
	}
	if err := store.PutSweepCursor(ctx, a, "", t1.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if after, at, err := store.GetSweepCursor(ctx, a); err != nil || after != "" || !at.Equal(t1.Add(time.Minute)) {
		t.Fatalf("after the end: %q %v %v", after, at, err)
	}
}
