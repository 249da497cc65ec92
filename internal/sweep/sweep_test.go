package sweep

// Unit tests of the sweeper's own logic (paging, fan-out, 429, metrics)
// with hand-written fakes; the real path (DynamoDB Local, SQS emulator,
// the Razorpay simulator) is tested in internal/localstack (sweep_test.go).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/queue"
	"github.com/razorbill/razorbill/internal/razorpay"
)

type fakeStore struct {
	scopes  []billing.Scope
	open    []string
	missed  []time.Time
	err     error
	cursors map[billing.Scope]cursor
}

type cursor struct {
	after string
	at    time.Time
}

func (f *fakeStore) GetSweepCursor(_ context.Context, sc billing.Scope) (string, time.Time, error) {
	c := f.cursors[sc]
	return c.after, c.at, nil
}

func (f *fakeStore) PutSweepCursor(_ context.Context, sc billing.Scope, after string, at time.Time) error {
	if f.cursors == nil {
		f.cursors = map[billing.Scope]cursor{}
	}
	f.cursors[sc] = cursor{after, at}
	return nil
}

func (f *fakeStore) ActiveConnections(context.Context) ([]billing.Scope, error) { return f.scopes, nil }

func (f *fakeStore) OpenItems(_ context.Context, _ billing.Scope, after string, limit int) ([]string, string, error) {
	if f.err != nil {
		return nil, "", f.err
	}
	i := 0
	for after != "" && i < len(f.open) && f.open[i] <= after {
		i++
	}
	end := min(i+limit, len(f.open))
	next := ""
	if end < len(f.open) {
		next = f.open[end-1]
	}
	return f.open[i:end], next, nil
}

func (f *fakeStore) RecordMissedWebhooks(_ context.Context, _ billing.Scope, at []time.Time, _ time.Time) error {
	f.missed = append(f.missed, at...)
	return nil
}

// fakeRefresher records the ids it pulled, in the order pulls began (a
// sweep pulls a few at once).
type fakeRefresher struct {
	mu      sync.Mutex
	opened  int
	seen    []string
	missed  map[string]int
	errorOn map[string]error
}

// pulled is seen in id order (pulls of one group may begin in any order).
func (f *fakeRefresher) pulled() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(slices.Values(f.seen))
}

func (f *fakeRefresher) OpenRefresher(context.Context, billing.Scope) (func(context.Context, string) (int, error), error) {
	f.opened++
	return func(_ context.Context, id string) (int, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.seen = append(f.seen, id)
		n := f.missed[id]
		delete(f.missed, id) // applied now: a second pull finds nothing missed, as the real one does
		return n, f.errorOn[id]
	}, nil
}

type fakeQueue struct{ sent []queue.Message }

func (q *fakeQueue) Send(_ context.Context, m queue.Message) error {
	q.sent = append(q.sent, m)
	return nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestSweepPagesThroughEveryOpenItem(t *testing.T) {
	st := &fakeStore{}
	for i := 0; i < 250; i++ {
		st.open = append(st.open, fmt.Sprintf("pay_%04d", i))
	}
	rf := &fakeRefresher{missed: map[string]int{"pay_0007": 1, "pay_0199": 2}, errorOn: map[string]error{"pay_0100": errors.New("boom")}}
	var metrics bytes.Buffer
	s := &Sweeper{Store: st, Refresher: rf, Log: quiet(), Metrics: &metrics}
	res, err := s.SweepEnvironment(context.Background(), billing.Scope{TenantID: "tnt_1", EnvironmentID: "env_1"})
	if err != nil || res.Swept != 250 || res.Missed != 3 || res.Failed != 1 || res.Throttled {
		t.Fatalf("%+v %v", res, err)
	}
	if seen := rf.pulled(); len(seen) != 250 || seen[249] != "pay_0249" || len(st.missed) != 3 || rf.opened != 1 {
		t.Fatalf("seen %d, missed recorded %d", len(rf.seen), len(st.missed))
	}
	var line map[string]any
	if err := json.Unmarshal(metrics.Bytes(), &line); err != nil || line[MetricMissed] != float64(3) || line[MetricSwept] != float64(250) || line["_aws"] == nil {
		t.Fatalf("metric line %s: %v", metrics.String(), err)
	}
}

// A 429 stops the sweep after the group of pulls it came in (they run
// side by side): no further group starts.
func TestSweepStopsAt429(t *testing.T) {
	st := &fakeStore{}
	for i := 1; i <= 10; i++ {
		st.open = append(st.open, fmt.Sprintf("pay_%02d", i))
	}
	throttled := apperr.E(apperr.Throttled, razorpay.CodeThrottled, "Razorpay is rate limiting requests")
	rf := &fakeRefresher{missed: map[string]int{"pay_01": 1}, errorOn: map[string]error{"pay_02": throttled}}
	s := &Sweeper{Store: st, Refresher: rf, Log: quiet()}
	res, err := s.SweepEnvironment(context.Background(), billing.Scope{TenantID: "t", EnvironmentID: "e"})
	if seen := rf.pulled(); err != nil || !res.Throttled || res.Swept != pullsAtOnce || len(seen) != pullsAtOnce || seen[pullsAtOnce-1] != "pay_04" {
		t.Fatalf("%+v %v seen %v", res, err, seen)
	}
	if len(st.missed) != 1 {
		t.Fatal("what was applied before the 429 must still be recorded")
	}
}

func TestFanOutOneMessagePerEnvironment(t *testing.T) {
	st := &fakeStore{scopes: []billing.Scope{{TenantID: "tnt_a", EnvironmentID: "env_a"}, {TenantID: "tnt_b", EnvironmentID: "env_b"}}}
	q := &fakeQueue{}
	s := &Sweeper{Store: st, Refresher: &fakeRefresher{}, Queue: q, Log: quiet()}
	out, err := s.Handle(context.Background(), json.RawMessage(`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`))
	if err != nil || len(q.sent) != 2 || out.(map[string]int)["environments"] != 2 {
		t.Fatalf("%v %v %+v", out, err, q.sent)
	}
	if q.sent[0].GroupID == q.sent[1].GroupID || q.sent[0].DedupID == "" || !strings.Contains(q.sent[1].Body, `"env_b"`) {
		t.Fatalf("messages: %+v", q.sent)
	}
}

func TestHandleSQSReportsFailedEnvironments(t *testing.T) {
	st := &fakeStore{err: apperr.E(apperr.Transient, "storage_unavailable", "busy")}
	s := &Sweeper{Store: st, Refresher: &fakeRefresher{}, Log: quiet()}
	raw, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: `{"tenant_id":"t","environment_id":"e"}`},
		{MessageId: "m2", Body: `not json`},
	}})
	out, err := s.Handle(context.Background(), raw)
	resp, ok := out.(events.SQSEventResponse)
	if err != nil || !ok || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m1" {
		t.Fatalf("%+v %v", out, err)
	}
}

// clockRefresher is a refresher whose every pull takes a second of the
// sweeper's clock.
type clockRefresher struct {
	fakeRefresher
	clock *fakeClock
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *clockRefresher) OpenRefresher(ctx context.Context, sc billing.Scope) (func(context.Context, string) (int, error), error) {
	pull, _ := c.fakeRefresher.OpenRefresher(ctx, sc)
	return func(ctx context.Context, id string) (int, error) {
		c.clock.advance(time.Second)
		return pull(ctx, id)
	}, nil
}

// An environment with more open instruments than one invocation can pull:
// the sweep stops 5 s before the invocation's deadline and queues a
// continuation after the last instrument it pulled, which sweeps the rest;
// every instrument is pulled once. (It used to stop there, and the next
// run started again from the first, so the tail was never pulled.)
func TestASweepOutOfTimeIsContinuedWhereItStopped(t *testing.T) {
	st := &fakeStore{}
	for i := 0; i < 250; i++ {
		st.open = append(st.open, fmt.Sprintf("pay_%04d", i))
	}
	deadline := time.Now().Add(time.Hour)
	// 60 s left, a second per pull, four pulls at once: the 15th group of
	// four would start 4 s before it
	clock := &fakeClock{now: deadline.Add(-60 * time.Second)}
	rf := &clockRefresher{fakeRefresher: fakeRefresher{missed: map[string]int{"pay_0010": 1, "pay_0100": 1}}, clock: clock}
	q := &fakeQueue{}
	s := &Sweeper{Store: st, Refresher: rf, Queue: q, Log: quiet(), Now: clock.Now}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	handle := func(body string) {
		t.Helper()
		resp, err := s.HandleSQS(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: body}}})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%+v %v", resp, err)
		}
	}
	handle(`{"tenant_id":"tnt_1","environment_id":"env_1"}`)
	if seen := rf.pulled(); len(seen) != 56 || seen[0] != "pay_0000" || seen[55] != "pay_0055" || len(q.sent) != 1 {
		t.Fatalf("first invocation pulled %d (last %v), queued %d", len(seen), seen[len(seen)-1:], len(q.sent))
	}
	var m Message
	if err := json.Unmarshal([]byte(q.sent[0].Body), &m); err != nil || m != (Message{TenantID: "tnt_1", EnvironmentID: "env_1", After: "pay_0055"}) {
		t.Fatalf("continuation %s: %v", q.sent[0].Body, err)
	}
	if q.sent[0].GroupID != "tnt_1.env_1" || q.sent[0].DedupID == "" {
		t.Fatalf("continuation %+v: want the environment's group and a deduplication id", q.sent[0])
	}
	sc := billing.Scope{TenantID: "tnt_1", EnvironmentID: "env_1"}
	if c := st.cursors[sc]; c.after != "pay_0055" || !c.at.Equal(clock.Now()) {
		t.Fatalf("cursor %+v: want pay_0055 at the time the continuation was queued", c)
	}
	if len(st.missed) != 1 {
		t.Fatalf("missed events recorded before stopping: %d, want 1", len(st.missed))
	}

	// The same message redelivered stops at the same place: the same
	// deduplication id, so SQS keeps one continuation.
	clock.set(deadline.Add(-60 * time.Second))
	rf.seen = nil
	handle(`{"tenant_id":"tnt_1","environment_id":"env_1"}`)
	if len(q.sent) != 2 || q.sent[1].DedupID != q.sent[0].DedupID {
		t.Fatalf("redelivered: %+v", q.sent)
	}

	// The continuation, in an invocation of its own, pulls the rest.
	clock.set(deadline.Add(-10 * time.Minute))
	rf.seen = nil
	handle(q.sent[0].Body)
	if seen := rf.pulled(); len(seen) != 194 || seen[0] != "pay_0056" || seen[193] != "pay_0249" || len(q.sent) != 2 {
		t.Fatalf("continuation pulled %d (%v … %v), queued %d", len(seen), seen[:1], seen[len(seen)-1:], len(q.sent))
	}
	if len(st.missed) != 2 {
		t.Fatalf("missed events recorded: %d, want 2", len(st.missed))
	}
	if c := st.cursors[sc]; c.after != "" {
		t.Fatalf("cursor after the continued sweep reached the end: %+v, want cleared", c)
	}

	// No time for even one pull: nothing is queued (the next scheduled run
	// starts again), so a sweep never queues itself without progress.
	clock.set(deadline.Add(-4 * time.Second))
	rf.seen = nil
	handle(`{"tenant_id":"tnt_1","environment_id":"env_1"}`)
	if len(rf.seen) != 0 || len(q.sent) != 2 {
		t.Fatalf("without time: pulled %d, queued %d", len(rf.seen), len(q.sent))
	}
}

// While an environment's sweep goes on in continuations (its cursor was
// written within chainStale), the schedule does not queue it again: a
// second sweep from the first instrument would share the FIFO group and,
// where a sweep outlasts the interval, the queue would only grow. A chain
// that stopped writing its cursor (its continuation lost) no longer holds
// the schedule back, and neither does a finished one.
func TestFanOutSkipsAnEnvironmentWhoseSweepContinues(t *testing.T) {
	now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	busy, stale, done, fresh := billing.Scope{TenantID: "t", EnvironmentID: "busy"}, billing.Scope{TenantID: "t", EnvironmentID: "stale"},
		billing.Scope{TenantID: "t", EnvironmentID: "done"}, billing.Scope{TenantID: "t", EnvironmentID: "fresh"}
	st := &fakeStore{scopes: []billing.Scope{busy, stale, done, fresh}, cursors: map[billing.Scope]cursor{
		busy:  {"pay_0100", now.Add(-2 * time.Minute)},
		stale: {"pay_0100", now.Add(-chainStale - time.Second)},
		done:  {"", now.Add(-time.Minute)},
	}}
	q := &fakeQueue{}
	s := &Sweeper{Store: st, Refresher: &fakeRefresher{}, Queue: q, Log: quiet(), Now: func() time.Time { return now }}
	n, err := s.FanOut(context.Background())
	if err != nil || n != 3 || len(q.sent) != 3 {
		t.Fatalf("queued %d (%d sent), %v; want 3", n, len(q.sent), err)
	}
	for _, m := range q.sent {
		if strings.Contains(m.Body, `"busy"`) {
			t.Fatalf("queued the environment whose sweep continues: %s", m.Body)
		}
		if strings.Contains(m.Body, `"after"`) {
			t.Fatalf("a scheduled sweep starts from the first instrument: %s", m.Body)
		}
	}
}
