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
	mu      sync.Mutex
	scopes  []billing.Scope
	open    []string
	missed  []time.Time
	err     error
	cursors map[billing.Scope]billing.SweepCursor
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

func (f *fakeStore) GetSweepCursor(_ context.Context, sc billing.Scope) (billing.SweepCursor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursors[sc], nil
}

// PutSweepCursor keeps a cursor written later, as the store does.
func (f *fakeStore) PutSweepCursor(_ context.Context, sc billing.Scope, c billing.SweepCursor) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cursors == nil {
		f.cursors = map[billing.Scope]billing.SweepCursor{}
	}
	if old, ok := f.cursors[sc]; !ok || !old.At.After(c.At) {
		f.cursors[sc] = c
	}
	return nil
}

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
// the sweep stops 5 s before the invocation's deadline, records its place
// (running) and queues a continuation after the last instrument it pulled,
// which sweeps the rest and marks the cursor done; every instrument is
// pulled once. (It used to stop there, and the next run started again
// from the first, so the tail was never pulled.)
func TestASweepOutOfTimeIsContinuedWhereItStopped(t *testing.T) {
	st := &fakeStore{}
	for i := 0; i < 250; i++ {
		st.open = append(st.open, fmt.Sprintf("pay_%04d", i))
	}
	t0 := time.Now().Add(time.Hour)
	clock := &fakeClock{now: t0}
	rf := &clockRefresher{fakeRefresher: fakeRefresher{missed: map[string]int{"pay_0010": 1, "pay_0100": 1}}, clock: clock}
	q := &fakeQueue{}
	s := &Sweeper{Store: st, Refresher: rf, Queue: q, Log: quiet(), Now: clock.Now}
	sc := billing.Scope{TenantID: "tnt_1", EnvironmentID: "env_1"}
	// handle is one invocation starting at start with budget to its deadline.
	handle := func(id, body string, start time.Time, budget time.Duration) {
		t.Helper()
		clock.set(start)
		rf.mu.Lock()
		rf.seen = nil
		rf.mu.Unlock()
		ctx, cancel := context.WithDeadline(context.Background(), start.Add(budget))
		defer cancel()
		resp, err := s.HandleSQS(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: id, Body: body}}})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%+v %v", resp, err)
		}
	}
	first := `{"tenant_id":"tnt_1","environment_id":"env_1"}`
	// 60 s to the deadline, a second per pull, four pulls at once: the 15th
	// group of four would start 4 s before it
	handle("m1", first, t0, 60*time.Second)
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
	if c := st.cursors[sc]; c.After != "pay_0055" || c.State != billing.SweepRunning || !c.At.Equal(clock.Now()) {
		t.Fatalf("cursor %+v: want running after pay_0055, written when the continuation was queued", c)
	}
	if len(st.missed) != 1 {
		t.Fatalf("missed events recorded before stopping: %d, want 1", len(st.missed))
	}

	// The same message redelivered (same message id) stops at the same
	// place: the same deduplication id, so SQS keeps one continuation.
	// Another sweep stopping there has its own: SQS would otherwise drop
	// it as a duplicate of the first.
	handle("m1", first, t0.Add(time.Minute), 60*time.Second)
	handle("m2", first, t0.Add(2*time.Minute), 60*time.Second)
	if len(q.sent) != 3 || q.sent[1].DedupID != q.sent[0].DedupID || q.sent[2].DedupID == q.sent[0].DedupID {
		t.Fatalf("dedup ids: redelivery %q, another sweep %q, first %q", q.sent[1].DedupID, q.sent[2].DedupID, q.sent[0].DedupID)
	}

	// The continuation, in an invocation of its own, pulls the rest.
	handle("m3", q.sent[0].Body, t0.Add(3*time.Minute), 10*time.Minute)
	if seen := rf.pulled(); len(seen) != 194 || seen[0] != "pay_0056" || seen[193] != "pay_0249" || len(q.sent) != 3 {
		t.Fatalf("continuation pulled %d (%v … %v), queued %d", len(seen), seen[:1], seen[len(seen)-1:], len(q.sent))
	}
	if len(st.missed) != 2 {
		t.Fatalf("missed events recorded: %d, want 2", len(st.missed))
	}
	if c := st.cursors[sc]; c.State != billing.SweepDone || c.After != "" {
		t.Fatalf("cursor after the continued sweep reached the end: %+v, want done", c)
	}

	// No time for even one pull: nothing is queued, so a sweep never
	// queues itself without progress; the cursor says done (the next
	// scheduled run starts again).
	handle("m4", first, t0.Add(20*time.Minute), 4*time.Second)
	if len(rf.seen) != 0 || len(q.sent) != 3 || st.cursors[sc].State != billing.SweepDone {
		t.Fatalf("without time: pulled %d, queued %d, cursor %+v", len(rf.seen), len(q.sent), st.cursors[sc])
	}
}

// A 429 inside a continued sweep keeps its place: the cursor waits at the
// group before the throttled one, and the next scheduled run goes on from
// there rather than from the first instrument (which would leave the
// tail of a large environment unswept whenever Razorpay throttles at
// about the same depth).
func TestAThrottledSweepGoesOnFromWhereItStopped(t *testing.T) {
	st := &fakeStore{}
	for i := 0; i < 40; i++ {
		st.open = append(st.open, fmt.Sprintf("pay_%04d", i))
	}
	sc := billing.Scope{TenantID: "tnt_1", EnvironmentID: "env_1"}
	st.scopes = []billing.Scope{sc}
	throttled := apperr.E(apperr.Throttled, razorpay.CodeThrottled, "Razorpay is rate limiting requests")
	rf := &fakeRefresher{errorOn: map[string]error{"pay_0026": throttled}}
	q := &fakeQueue{}
	clock := &fakeClock{now: time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)}
	s := &Sweeper{Store: st, Refresher: rf, Queue: q, Log: quiet(), Now: clock.Now}
	// a continuation after pay_0009: groups 0010–13, …, 0022–25, then
	// 0026–29 meets the 429
	resp, err := s.HandleSQS(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: `{"tenant_id":"tnt_1","environment_id":"env_1","after":"pay_0009"}`}}})
	if err != nil || len(resp.BatchItemFailures) != 0 || len(q.sent) != 0 {
		t.Fatalf("%+v %v, queued %d", resp, err, len(q.sent))
	}
	if c := st.cursors[sc]; c.State != billing.SweepWaiting || c.After != "pay_0025" {
		t.Fatalf("cursor %+v: want waiting after pay_0025", c)
	}
	// The next scheduled run queues the environment from there.
	delete(rf.errorOn, "pay_0026")
	clock.set(clock.Now().Add(5 * time.Minute))
	if n, err := s.FanOut(context.Background()); err != nil || n != 1 || len(q.sent) != 1 {
		t.Fatalf("fan-out: %d %v, queued %d", n, err, len(q.sent))
	}
	var m Message
	if err := json.Unmarshal([]byte(q.sent[0].Body), &m); err != nil || m.After != "pay_0025" {
		t.Fatalf("scheduled sweep %s: want it to start after pay_0025", q.sent[0].Body)
	}
	if c := st.cursors[sc]; c.State != billing.SweepRunning || c.After != "pay_0025" {
		t.Fatalf("cursor after queueing: %+v, want running", c)
	}
}

// While an environment's sweep is running (queued or continuing, its
// cursor written within chainStale), the schedule does not queue it again:
// a second sweep from the first instrument would share the FIFO group and,
// where a sweep outlasts the interval, the queue would only grow. A
// running sweep gone quiet (its message lost) no longer holds it back and
// is taken up from its cursor; a finished one starts from the first
// instrument; and the schedule marks what it queued running.
func TestFanOutSkipsAnEnvironmentWhoseSweepIsRunning(t *testing.T) {
	now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	busy, stale, done, fresh := billing.Scope{TenantID: "t", EnvironmentID: "busy"}, billing.Scope{TenantID: "t", EnvironmentID: "stale"},
		billing.Scope{TenantID: "t", EnvironmentID: "done"}, billing.Scope{TenantID: "t", EnvironmentID: "fresh"}
	st := &fakeStore{scopes: []billing.Scope{busy, stale, done, fresh}, cursors: map[billing.Scope]billing.SweepCursor{
		busy:  {After: "pay_0100", State: billing.SweepRunning, At: now.Add(-2 * time.Minute)},
		stale: {After: "pay_0200", State: billing.SweepRunning, At: now.Add(-chainStale - time.Second)},
		done:  {State: billing.SweepDone, At: now.Add(-time.Minute)},
	}}
	q := &fakeQueue{}
	s := &Sweeper{Store: st, Refresher: &fakeRefresher{}, Queue: q, Log: quiet(), Now: func() time.Time { return now }}
	n, err := s.FanOut(context.Background())
	if err != nil || n != 3 || len(q.sent) != 3 {
		t.Fatalf("queued %d (%d sent), %v; want 3", n, len(q.sent), err)
	}
	for _, m := range q.sent {
		var msg Message
		if err := json.Unmarshal([]byte(m.Body), &msg); err != nil {
			t.Fatal(err)
		}
		switch msg.EnvironmentID {
		case "busy":
			t.Fatalf("queued the environment whose sweep is running: %s", m.Body)
		case "stale":
			if msg.After != "pay_0200" {
				t.Fatalf("the quiet sweep is not taken up from its cursor: %s", m.Body)
			}
		default:
			if msg.After != "" {
				t.Fatalf("a new sweep starts from the first instrument: %s", m.Body)
			}
		}
	}
	for _, sc := range []billing.Scope{stale, done, fresh} {
		if c := st.cursors[sc]; c.State != billing.SweepRunning || !c.At.Equal(now) {
			t.Fatalf("%s: cursor %+v, want running from now", sc.EnvironmentID, c)
		}
	}
	// a second tick a minute later queues none of them
	now = now.Add(time.Minute)
	if n, err := s.FanOut(context.Background()); err != nil || n != 0 || len(q.sent) != 3 {
		t.Fatalf("second tick: queued %d, %v", n, err)
	}
}
