// Package sweep is the gateway-sweeper: webhooks are the fast path, this is
// the pull side. On a schedule it fans out one message per environment with
// an ACTIVE connection onto the gateway-sweep queue (so one slow Razorpay
// account cannot hold the others back); for each environment it reads the
// open-instruments index (links that may take money, unpaid Razorpay
// invoices, pending refunds — never every invoice) and pulls each one from
// Razorpay (payments.Service.RefreshOpen), which applies what it finds
// through the reconciler's exactly-once path. Effects no webhook had
// applied are counted as missed: recorded on the connection (its webhook
// status becomes SILENT) and logged as a CloudWatch embedded metric.
package sweep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/queue"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/schema"
)

// Store is what the sweeper reads and writes.
type Store interface {
	ActiveConnections(ctx context.Context) ([]billing.Scope, error)
	OpenItems(ctx context.Context, sc billing.Scope, startAfter string, limit int) ([]string, string, error)
	RecordMissedWebhooks(ctx context.Context, sc billing.Scope, at []time.Time, now time.Time) error
	// GetSweepCursor and PutSweepCursor keep where an environment's sweep
	// stands (PutSweepCursor never replaces a cursor written later).
	GetSweepCursor(ctx context.Context, sc billing.Scope) (billing.SweepCursor, error)
	PutSweepCursor(ctx context.Context, sc billing.Scope, c billing.SweepCursor) error
}

// chainStale is how long an environment's sweep may stay "running"
// without writing its cursor before the schedule stops waiting for it and
// queues the environment again (from the cursor): longer than a message's
// redelivery after a failed invocation (gateway-sweep's visibility
// timeout, 9 minutes) plus an invocation.
const chainStale = 15 * time.Minute

// Refresher binds an environment's Razorpay key once
// (payments.Service.OpenRefresher); the function it returns pulls one open
// instrument and applies what Razorpay shows, answering how many effects
// no webhook had applied.
type Refresher interface {
	OpenRefresher(ctx context.Context, sc billing.Scope) (func(ctx context.Context, id string) (int, error), error)
}

// Sender enqueues one environment's sweep.
type Sender interface {
	Send(ctx context.Context, m queue.Message) error
}

// Sweeper sweeps environments.
type Sweeper struct {
	Store     Store
	Refresher Refresher
	// Queue receives one message per environment; nil sweeps every
	// environment in the scheduled call itself (the local stack).
	Queue Sender
	Log   *slog.Logger
	// Metrics receives the embedded-metric-format lines (Lambda: stdout).
	Metrics io.Writer
	Now     func() time.Time
}

// The CloudWatch metrics (schema's names; the SILENT alarm watches MetricMissed).
const (
	MetricNamespace = schema.MetricNamespace
	MetricMissed    = schema.MetricMissedWebhooks
	MetricSwept     = schema.MetricSwept
)

// Message is one environment to sweep. After, when set, continues a
// sweep that ran out of time: the open instruments after that id.
type Message struct {
	TenantID      string `json:"tenant_id"`
	EnvironmentID string `json:"environment_id"`
	After         string `json:"after,omitempty"`
}

// Result is one environment's sweep.
type Result struct {
	Swept     int  // open instruments pulled
	Missed    int  // effects applied that no webhook had applied
	Throttled bool // Razorpay answered 429: the rest waits for the next run
	Failed    int  // instruments whose pull failed (retried next run)
	// ResumeAfter is where the sweep stopped before the last open
	// instrument: the invocation's time ran out (HandleSQS queues a
	// continuation after this id, so an environment with more open
	// instruments than one invocation can pull is still swept whole), or
	// Razorpay throttled it (the next scheduled run goes on from here; ""
	// when that was the first group).
	ResumeAfter string
}

func (s *Sweeper) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Handle is the Lambda handler: an SQS event sweeps the environments it
// carries (partial batch failures); anything else (the EventBridge
// schedule) fans out.
func (s *Sweeper) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Records []events.SQSMessage `json:"Records"`
	}
	if err := json.Unmarshal(raw, &probe); err == nil && len(probe.Records) > 0 {
		return s.HandleSQS(ctx, events.SQSEvent{Records: probe.Records})
	}
	n, err := s.FanOut(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]int{"environments": n}, nil
}

// FanOut enqueues a sweep of every environment with an ACTIVE connection
// whose last sweep is not still continuing (or, without a queue, sweeps
// each in turn). It answers how many.
func (s *Sweeper) FanOut(ctx context.Context) (int, error) {
	scopes, err := s.Store.ActiveConnections(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sc := range scopes {
		if s.Queue == nil {
			n++
			if _, err := s.SweepEnvironment(ctx, sc); err != nil {
				s.Log.ErrorContext(ctx, "sweep failed", "tenant_id", sc.TenantID, "environment_id", sc.EnvironmentID, "error", err.Error())
			}
			continue
		}
		from, ok := s.startAt(ctx, sc)
		if !ok {
			continue
		}
		n++
		now := s.now()
		m := sweepMessage(sc, from, fmt.Sprintf("%s.%d", groupID(sc), now.UnixMilli()))
		if err := s.Queue.Send(ctx, m); err != nil {
			return n, err
		}
		// Queued: running from now (unless the sweep already wrote since).
		if err := s.Store.PutSweepCursor(ctx, sc, billing.SweepCursor{After: from, State: billing.SweepRunning, At: now}); err != nil {
			s.Log.WarnContext(ctx, "sweep cursor not written; the next run may queue the environment again", "tenant_id", sc.TenantID, "environment_id", sc.EnvironmentID, "error", err.Error())
		}
	}
	return n, nil
}

// startAt is where the schedule's sweep of an environment starts: not
// queued at all while a sweep of it is running (queued or continuing, its
// cursor fresh) — a second sweep would share its FIFO group and, where a
// sweep outlasts the schedule's interval, the queue would only grow; after
// a 429 (or a running sweep gone quiet) from its cursor; else from the
// first open instrument. A cursor that cannot be read does not hold the
// environment back.
func (s *Sweeper) startAt(ctx context.Context, sc billing.Scope) (string, bool) {
	c, err := s.Store.GetSweepCursor(ctx, sc)
	switch {
	case err != nil:
		s.Log.WarnContext(ctx, "sweep cursor not read; sweeping from the first instrument", "tenant_id", sc.TenantID, "environment_id", sc.EnvironmentID, "error", err.Error())
		return "", true
	case c.State == billing.SweepRunning && s.now().Sub(c.At) < chainStale:
		s.Log.InfoContext(ctx, "environment not queued: its sweep is still running", "tenant_id", sc.TenantID, "environment_id", sc.EnvironmentID, "after", c.After)
		return "", false
	case c.State == billing.SweepRunning || c.State == billing.SweepWaiting:
		return c.After, true
	}
	return "", true
}

// HandleSQS sweeps each message's environment; a message whose sweep
// failed (storage) is reported failed and redelivered. It leaves the
// environment's cursor running with a continuation queued when the
// invocation ran out of time, waiting where Razorpay throttled it, or
// done.
func (s *Sweeper) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		var m Message
		if err := json.Unmarshal([]byte(rec.Body), &m); err != nil || m.TenantID == "" || m.EnvironmentID == "" {
			s.Log.ErrorContext(ctx, "not a sweep message; dropped", "message_id", rec.MessageId)
			continue
		}
		sc := billing.Scope{TenantID: m.TenantID, EnvironmentID: m.EnvironmentID}
		res, err := s.sweep(ctx, sc, m.After)
		if err == nil {
			err = s.afterSweep(ctx, sc, rec.MessageId, res)
		}
		if err != nil {
			s.Log.ErrorContext(ctx, "sweep failed; it will be retried", "message_id", rec.MessageId, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// afterSweep records where the sweep of message messageID stopped and
// queues its continuation when it ran out of time.
func (s *Sweeper) afterSweep(ctx context.Context, sc billing.Scope, messageID string, res Result) error {
	now := s.now()
	switch {
	case res.Throttled:
		return s.Store.PutSweepCursor(ctx, sc, billing.SweepCursor{After: res.ResumeAfter, State: billing.SweepWaiting, At: now})
	case res.ResumeAfter != "" && s.Queue != nil:
		// the cursor first: the schedule does not queue the environment while it is fresh
		if err := s.Store.PutSweepCursor(ctx, sc, billing.SweepCursor{After: res.ResumeAfter, State: billing.SweepRunning, At: now}); err != nil {
			return err
		}
		if err := s.Queue.Send(ctx, continuation(sc, messageID, res.ResumeAfter)); err != nil {
			return err
		}
		s.Log.WarnContext(ctx, "the sweep ran out of time; it continues in another invocation", "tenant_id", sc.TenantID, "environment_id", sc.EnvironmentID, "swept", res.Swept, "after", res.ResumeAfter)
		return nil
	}
	return s.Store.PutSweepCursor(ctx, sc, billing.SweepCursor{State: billing.SweepDone, At: now})
}

// continuation is the message that sweeps an environment's open
// instruments after the id after, queued by the sweep of message
// messageID. Its deduplication id is that message's and the place's: a
// redelivery of the message that stops at the same place queues it once;
// another sweep that happens to stop there queues its own.
func continuation(sc billing.Scope, messageID, after string) queue.Message {
	sum := sha256.Sum256([]byte(messageID + "\x00" + after))
	return sweepMessage(sc, after, hex.EncodeToString(sum[:]))
}

// sweepMessage is the gateway-sweep message that sweeps an environment
// from after, in the environment's FIFO group (its sweeps never overlap).
func sweepMessage(sc billing.Scope, after, dedupID string) queue.Message {
	body, _ := json.Marshal(Message{TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID, After: after})
	return queue.Message{Body: string(body), GroupID: groupID(sc), DedupID: dedupID}
}

func groupID(sc billing.Scope) string { return sc.TenantID + "." + sc.EnvironmentID }

// pageSize is how many open ids are read per index query.
const pageSize = 100

// SweepEnvironment pulls every open instrument of one environment. A 429
// from Razorpay (after the client's own backoff) ends the sweep for this
// run; another instrument's failure is logged and the sweep goes on. Near
// the invocation's deadline it stops with Result.ResumeAfter set (HandleSQS
// queues the rest; called directly, the rest waits for the next run).
func (s *Sweeper) SweepEnvironment(ctx context.Context, sc billing.Scope) (Result, error) {
	return s.sweep(ctx, sc, "")
}

// sweep pulls the open instruments of one environment after the id after
// ("" from the first). When the invocation's deadline is near it stops and
// sets ResumeAfter to the last instrument it pulled.
func (s *Sweeper) sweep(ctx context.Context, sc billing.Scope, after string) (Result, error) {
	var res Result
	var missed []time.Time
	defer func() { s.emit(sc, res) }()
	var refresh func(ctx context.Context, id string) (int, error)
	for {
		ids, next, err := s.Store.OpenItems(ctx, sc, after, pageSize)
		if err != nil {
			return res, err
		}
		for at := 0; at < len(ids); at += pullsAtOnce {
			before := after // the last id before this group
			if at > 0 {
				before = ids[at-1]
			}
			if s.deadlineNear(ctx) {
				if res.Swept > 0 { // (no progress at all: the next scheduled run starts again)
					res.ResumeAfter = before
				}
				return res, s.record(ctx, sc, missed)
			}
			if refresh == nil {
				var err error
				if refresh, err = s.Refresher.OpenRefresher(ctx, sc); err != nil {
					if apperr.Retryable(err) {
						return res, err
					}
					s.Log.WarnContext(ctx, "environment not swept", "tenant_id", sc.TenantID, "environment_id", sc.EnvironmentID, "error", apperr.PublicMessage(err))
					return res, nil
				}
			}
			chunk := ids[at:min(at+pullsAtOnce, len(ids))]
			pulls := pullAll(ctx, refresh, chunk)
			stop := false
			for i, pl := range pulls {
				res.Swept++
				for range pl.missed {
					missed = append(missed, s.now())
				}
				res.Missed += pl.missed
				switch {
				case pl.err == nil:
				case apperr.HasCode(pl.err, razorpay.CodeThrottled):
					if !res.Throttled {
						s.Log.WarnContext(ctx, "Razorpay is throttling this account; the sweep continues next run", "tenant_id", sc.TenantID, "environment_id", sc.EnvironmentID)
					}
					res.Throttled, stop = true, true
				case apperr.Is(pl.err, apperr.Unauthorized):
					s.Log.WarnContext(ctx, "Razorpay refused the connection's key; environment not swept", "tenant_id", sc.TenantID, "environment_id", sc.EnvironmentID, "error", apperr.PublicMessage(pl.err))
					stop = true
				default:
					res.Failed++
					s.Log.WarnContext(ctx, "open instrument not refreshed; retried next run", "id", chunk[i], "error", pl.err.Error())
				}
			}
			if stop {
				if res.Throttled { // the next run goes on from this group
					res.ResumeAfter = before
				}
				return res, s.record(ctx, sc, missed)
			}
		}
		if next == "" {
			return res, s.record(ctx, sc, missed)
		}
		after = next
	}
}

// pullsAtOnce is how many open instruments a sweep pulls side by side:
// each pull waits on Razorpay (a few hundred ms), so an invocation pulls
// about this many times more of them; the next few start only when these
// ended, so a 429 or the deadline stops the sweep between two groups.
const pullsAtOnce = 4

type pull struct {
	missed int
	err    error
}

// pullAll refreshes ids side by side and answers each one's result, in order.
func pullAll(ctx context.Context, refresh func(context.Context, string) (int, error), ids []string) []pull {
	out := make([]pull, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			n, err := refresh(ctx, id)
			out[i] = pull{n, err}
		})
	}
	wg.Wait()
	return out
}

func (s *Sweeper) record(ctx context.Context, sc billing.Scope, missed []time.Time) error {
	if len(missed) == 0 {
		return nil
	}
	s.Log.WarnContext(ctx, "the sweeper applied events no webhook announced: check the webhook in Razorpay's dashboard", "tenant_id", sc.TenantID, "environment_id", sc.EnvironmentID, "missed_events", len(missed))
	return s.Store.RecordMissedWebhooks(ctx, sc, missed, s.now())
}

func (s *Sweeper) deadlineNear(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && d.Sub(s.now()) < 5*time.Second
}

// emit writes one CloudWatch embedded-metric-format line: the missed
// events (the SILENT alarm's metric) and the instruments swept.
func (s *Sweeper) emit(sc billing.Scope, r Result) {
	if s.Metrics == nil {
		return
	}
	line := map[string]any{
		"_aws": map[string]any{"Timestamp": s.now().UnixMilli(), "CloudWatchMetrics": []any{map[string]any{
			"Namespace": MetricNamespace, "Dimensions": [][]string{{}},
			"Metrics": []any{map[string]string{"Name": MetricMissed, "Unit": "Count"}, map[string]string{"Name": MetricSwept, "Unit": "Count"}},
		}}},
		MetricMissed: r.Missed, MetricSwept: r.Swept,
		"tenant_id": sc.TenantID, "environment_id": sc.EnvironmentID, "throttled": r.Throttled,
	}
	b, _ := json.Marshal(line)
	fmt.Fprintln(s.Metrics, string(b))
}
