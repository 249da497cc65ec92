package metering_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/testenv"
	"github.com/razorbill/razorbill/internal/usage"
)

// txHook steps into the store's TransactWriteItems and PutItem calls; the
// rest goes to DynamoDB.
type txHook struct {
	usagedb.API
	mu    sync.Mutex
	calls int // TransactWriteItems
	puts  int // PutItems
	// before runs before transaction n (1-based) reaches DynamoDB.
	before     func(n int)
	loseBefore int    // this transaction fails without reaching DynamoDB
	loseAfter  int    // this transaction commits, and its answer is lost
	failPut    int    // this PutItem fails without reaching DynamoDB
	failKey    string // every PutItem of an item whose sort key holds this fails
	crash      bool   // after loseBefore or failPut, every call fails (the process died)
	dead       bool
	// markerReads counts the answered BatchGetItems that read a chunk marker.
	markerReads atomic.Int32
}

func (h *txHook) BatchGetItem(ctx context.Context, in *ddbjson.BatchGetItemInput) (*ddbjson.BatchGetItemOutput, error) {
	for _, ka := range in.RequestItems {
		for _, k := range ka.Keys {
			if pk, ok := k[schema.AttrPK].(*types.AttributeValueMemberS); ok && strings.Contains(pk.Value, "#UC#") {
				out, err := h.API.BatchGetItem(ctx, in)
				h.markerReads.Add(1) // counted once answered
				return out, err
			}
		}
	}
	return h.API.BatchGetItem(ctx, in)
}

var errLost = errors.New("connection reset")

func (h *txHook) PutItem(ctx context.Context, in *ddbjson.PutItemInput) (*ddbjson.PutItemOutput, error) {
	h.mu.Lock()
	h.puts++
	fail := h.dead || h.puts == h.failPut
	h.dead = h.dead || (fail && h.crash)
	if sk, ok := in.Item[schema.AttrSK].(*types.AttributeValueMemberS); ok && h.failKey != "" && strings.Contains(sk.Value, h.failKey) {
		fail = true
	}
	h.mu.Unlock()
	if fail {
		return nil, errLost
	}
	return h.API.PutItem(ctx, in)
}

func (h *txHook) TransactWriteItems(ctx context.Context, in *ddbjson.TransactWriteItemsInput) (*ddbjson.TransactWriteItemsOutput, error) {
	h.mu.Lock()
	h.calls++
	n := h.calls
	dead := h.dead
	h.dead = h.dead || (n == h.loseBefore && h.crash)
	h.mu.Unlock()
	if h.before != nil {
		h.before(n)
	}
	if n == h.loseBefore || dead {
		return nil, errLost
	}
	out, err := h.API.TransactWriteItems(ctx, in)
	if n == h.loseAfter && err == nil {
		return nil, errLost
	}
	return out, err
}

// chunkRig is a rig with one COUNT meter and n events stored for one
// customer, and a store over api.
func chunkRig(t *testing.T, n int, wrap func(usagedb.API) usagedb.API) (*rig, []usage.Meter, []usage.Event, func() *usagedb.Store) {
	t.Helper()
	env := testenv.AWS(t)
	r := newRigEnv(env)
	ctx := context.Background()
	c := r.customer(t, fmt.Sprintf("acct-chunk-%d", n))
	r.meter(t, usage.Meter{Name: "calls", EventName: "call", Aggregation: usage.Count})
	r.now = r.now.Add(time.Minute)
	var evs []usage.Event
	for i := range n {
		e := usage.Event{ID: fmt.Sprintf("chunk-%03d", i), Name: "call", CustomerExternalID: c.ExternalID,
			Timestamp: r.now.Add(-time.Duration(i) * time.Second), AcceptedAt: r.now}
		if _, err := r.store.PutEvent(ctx, r.sc, e); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	ms, err := r.store.Meters(ctx, r.sc)
	if err != nil {
		t.Fatal(err)
	}
	api := wrap(env.DDB)
	return r, ms, evs, func() *usagedb.Store { return usagedb.New(api, env.Table(), 0) }
}

// countIs checks the meter's COUNT over evs' hour and what Counted reports.
func countIs(t *testing.T, r *rig, m usage.Meter, evs []usage.Event, want int) {
	t.Helper()
	ctx := context.Background()
	hour := evs[0].Hour()
	got, err := r.store.Usage(ctx, r.sc, m, []string{evs[0].CustomerKey()}, hour.Add(-time.Hour), hour.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, b := range got {
		n += b.N
	}
	counted, err := r.store.Counted(ctx, r.sc, evs)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(want) || len(counted) != want {
		t.Fatalf("COUNT %d and %d events counted, want %d and %d", n, len(counted), want, want)
	}
}

// TestAnAbandonedChunkIsTakenOver: a delivery that claimed its events and
// died before its transaction (the transaction never reached DynamoDB, and
// nothing after it did) leaves claims without a marker. The next delivery waits while the claims
// are younger than the orphan age (a transient error: the stream delivers
// again), then aborts the chunk, claims the events again and counts each
// once; a further delivery finds them counted.
func TestAnAbandonedChunkIsTakenOver(t *testing.T) {
	t.Parallel()
	hook := &txHook{loseBefore: 1, crash: true}
	r, ms, evs, store := chunkRig(t, 40, func(api usagedb.API) usagedb.API { hook.API = api; return hook })
	ctx := context.Background()
	first := store()
	if _, err := first.Apply(ctx, r.sc, ms, evs); !errors.Is(err, errLost) {
		t.Fatalf("first delivery: %v, want the lost transaction", err)
	}
	countIs(t, r, ms[0], evs, 0)
	hook.mu.Lock()
	hook.dead = false // the next deliveries run in other instances
	hook.mu.Unlock()

	second := store() // another function instance
	res, err := second.Apply(ctx, r.sc, ms, evs)
	if !apperr.Is(err, apperr.Transient) || res.Counted != 0 || res.Duplicates != 0 {
		t.Fatalf("delivery while the claims are young: %+v %v, want a transient error and nothing counted", res, err)
	}
	countIs(t, r, ms[0], evs, 0)

	second.SetOrphanAfter(0)
	res, err = second.Apply(ctx, r.sc, ms, evs)
	if err != nil || res.Counted != len(evs) || res.Duplicates != 0 {
		t.Fatalf("delivery after the orphan age: %+v %v, want %d counted", res, err, len(evs))
	}
	countIs(t, r, ms[0], evs, len(evs))

	res, err = store().Apply(ctx, r.sc, ms, evs)
	if err != nil || res.Counted != 0 || res.Duplicates != len(evs) {
		t.Fatalf("a further delivery: %+v %v, want %d duplicates", res, err, len(evs))
	}
	countIs(t, r, ms[0], evs, len(evs))
}

// TestACommitWhoseAnswerWasLostCountsOnce: the transaction committed but
// its answer was lost, so the delivery failed. The next delivery, even one
// allowed to abort any chunk at once, finds the chunk applied: duplicates.
func TestACommitWhoseAnswerWasLostCountsOnce(t *testing.T) {
	t.Parallel()
	hook := &txHook{loseAfter: 1}
	r, ms, evs, store := chunkRig(t, 30, func(api usagedb.API) usagedb.API { hook.API = api; return hook })
	ctx := context.Background()
	if _, err := store().Apply(ctx, r.sc, ms, evs); !errors.Is(err, errLost) {
		t.Fatalf("first delivery: %v, want the lost answer", err)
	}
	countIs(t, r, ms[0], evs, len(evs))
	again := store()
	again.SetOrphanAfter(0)
	res, err := again.Apply(ctx, r.sc, ms, evs)
	if err != nil || res.Counted != 0 || res.Duplicates != len(evs) {
		t.Fatalf("redelivery: %+v %v, want %d duplicates", res, err, len(evs))
	}
	countIs(t, r, ms[0], evs, len(evs))
}

// TestALiveChunkAbortedByAnotherDeliveryCountsOnce: while one delivery is
// between its claims and its transaction, another delivery of the same
// events (allowed to abort any chunk at once) aborts its chunk and counts
// the events. The first delivery's transaction is then refused (the
// marker exists); it tries again, finds the events counted by the other
// chunk, and counts nothing.
func TestALiveChunkAbortedByAnotherDeliveryCountsOnce(t *testing.T) {
	t.Parallel()
	var (
		r     *rig
		ms    []usage.Meter
		evs   []usage.Event
		store func() *usagedb.Store
	)
	other := make(chan usagedb.Applied, 1)
	hook := &txHook{}
	hook.before = func(n int) {
		if n != 1 {
			return
		}
		// Call 1 is the slow delivery's: the other one runs to the end first.
		s := store()
		s.SetOrphanAfter(0)
		res, err := s.Apply(context.Background(), r.sc, ms, evs)
		if err != nil {
			t.Errorf("the other delivery: %v", err)
		}
		other <- res
	}
	r, ms, evs, store = chunkRig(t, 25, func(api usagedb.API) usagedb.API { hook.API = api; return hook })
	slow, err := store().Apply(context.Background(), r.sc, ms, evs)
	if err != nil {
		t.Fatal(err)
	}
	fast := <-other
	if fast.Counted != len(evs) || slow.Counted != 0 || slow.Duplicates != len(evs) {
		t.Fatalf("the other delivery %+v, the slow one %+v: want all counted by the other, all duplicates for the slow one", fast, slow)
	}
	countIs(t, r, ms[0], evs, len(evs))
}

// TestADeliveryThatFailsAfterClaimingAbandonsItsChunk: a delivery whose
// claim or transaction fails with an error (it is alive to see it) marks
// its chunk aborted, so the next delivery (Lambda hands a record to one
// invocation at a time) claims and counts the events at once, without
// waiting for the orphan age (the default 2 minutes here).
func TestADeliveryThatFailsAfterClaimingAbandonsItsChunk(t *testing.T) {
	t.Parallel()
	for name, hook := range map[string]*txHook{
		"a claim fails":         {failKey: "chunk-007"},
		"the transaction fails": {loseBefore: 1},
		"its answer is lost":    {loseAfter: 1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, ms, evs, store := chunkRig(t, 30, func(api usagedb.API) usagedb.API { hook.API = api; return hook })
			ctx := context.Background()
			if _, err := store().Apply(ctx, r.sc, ms, evs); !errors.Is(err, errLost) {
				t.Fatalf("first delivery: %v, want the failure", err)
			}
			hook.mu.Lock()
			hook.failKey = ""
			hook.mu.Unlock()
			res, err := store().Apply(ctx, r.sc, ms, evs)
			if err != nil || res.Counted+res.Duplicates != len(evs) {
				t.Fatalf("next delivery: %+v %v, want every event counted or a duplicate", res, err)
			}
			countIs(t, r, ms[0], evs, len(evs))
		})
	}
}

// TestADeliveryWaitsForALiveChunkToCommit: a delivery that finds the
// events claimed by a chunk without a marker, younger than the orphan age,
// looks again after short pauses; when that chunk commits meanwhile, the
// events are duplicates and the delivery succeeds, with no redelivery.
func TestADeliveryWaitsForALiveChunkToCommit(t *testing.T) {
	t.Parallel()
	var (
		r     *rig
		ms    []usage.Meter
		evs   []usage.Event
		store func() *usagedb.Store
	)
	type result struct {
		res usagedb.Applied
		err error
	}
	other := make(chan result, 1)
	hook := &txHook{}
	hook.before = func(n int) {
		if n != 1 {
			return
		}
		// The first delivery's transaction waits until another delivery
		// of the same events (the default orphan age) has read the chunk's
		// marker and found none: it then waits for the chunk.
		go func() {
			res, err := store().Apply(context.Background(), r.sc, ms, evs)
			other <- result{res, err}
		}()
		deadline := time.Now().Add(10 * time.Second)
		for hook.markerReads.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if hook.markerReads.Load() == 0 {
			t.Error("the other delivery never read the chunk's marker")
		}
	}
	r, ms, evs, store = chunkRig(t, 20, func(api usagedb.API) usagedb.API { hook.API = api; return hook })
	first, err := store().Apply(context.Background(), r.sc, ms, evs)
	if err != nil || first.Counted != len(evs) {
		t.Fatalf("first delivery: %+v %v, want %d counted", first, err, len(evs))
	}
	second := <-other
	if second.err != nil || second.res.Duplicates != len(evs) || second.res.Counted != 0 {
		t.Fatalf("the other delivery: %+v %v, want %d duplicates and no error", second.res, second.err, len(evs))
	}
	countIs(t, r, ms[0], evs, len(evs))
}
