package reconcile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/reconcile"
)

// countingTouch counts the connection writes of last_webhook_at.
type countingTouch struct {
	*dynamo.Store
	touches atomic.Int32
}

func (s *countingTouch) TouchConnectionWebhook(ctx context.Context, sc billing.Scope, at time.Time) error {
	s.touches.Add(1)
	return s.Store.TouchConnectionWebhook(ctx, sc, at)
}

// deliver hands the reconciler one queued webhook received at at.
func (f *fixture) deliver(at time.Time, body string) {
	f.t.Helper()
	var env struct {
		Event string `json:"event"`
	}
	_ = json.Unmarshal([]byte(body), &env)
	m, _ := json.Marshal(billing.EventMessage{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, EventID: "evt_" + ids.New(""), Event: env.Event, ReceivedAt: at, Body: body})
	resp, err := f.rec.HandleSQS(f.ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: fmt.Sprint("m", at.UnixNano()), Body: string(m)}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		f.t.Fatalf("deliver: %+v %v", resp, err)
	}
}

func (f *fixture) webhookHealth() billing.WebhookHealth {
	f.t.Helper()
	c, ok, err := f.store.Connection(f.ctx, f.sc)
	if err != nil || !ok {
		f.t.Fatalf("connection: %v %v", ok, err)
	}
	return c.Webhook(time.Now())
}

// TestTheConnectionIsTouchedAtMostOnceAMinute: applied webhooks write the
// connection's last_webhook_at at most once per reconcile.TouchEvery while
// its webhook is HEALTHY (the stored time stays within a minute of the
// newest webhook), but always when it is NEVER_RECEIVED or SILENT, so the
// first webhook after a miss the sweeper found makes it HEALTHY again.
func TestTheConnectionIsTouchedAtMostOnceAMinute(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	counting := &countingTouch{Store: f.store}
	f.rec.Store = counting
	_, pay, plink := f.invoice("INR", 10000)
	n := notesOf(pay)
	rp := f.rzPaid(10000, "INR", n)
	t0 := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	want := func(touches int32, last time.Time, status string) {
		t.Helper()
		if got := counting.touches.Load(); got != touches {
			t.Fatalf("%d connection writes, want %d", got, touches)
		}
		h := f.webhookHealth()
		if h.LastReceivedAt == nil || !h.LastReceivedAt.Equal(last) || h.Status != status {
			t.Fatalf("webhook health %+v (last %v), want last %v, %s", h, h.LastReceivedAt, last, status)
		}
	}

	f.deliver(t0, captured(rp, 10000, "INR", n)) // NEVER_RECEIVED: written
	want(1, t0, billing.WebhookHealthy)
	f.deliver(t0.Add(10*time.Second), linkPaid(plink, rp, 10000, "INR", n))
	f.deliver(t0.Add(59*time.Second), captured(rp, 10000, "INR", n))
	want(1, t0, billing.WebhookHealthy)
	f.deliver(t0.Add(reconcile.TouchEvery), captured(rp, 10000, "INR", n))
	want(2, t0.Add(time.Minute), billing.WebhookHealthy)
	f.deliver(t0.Add(90*time.Second), linkPaid(plink, rp, 10000, "INR", n))
	want(2, t0.Add(time.Minute), billing.WebhookHealthy)

	// The sweeper finds an event no webhook announced: SILENT. The next
	// webhook is written although the last write is under a minute old.
	miss := t0.Add(100 * time.Second)
	if err := f.store.RecordMissedWebhooks(f.ctx, f.sc, []time.Time{miss}, time.Now()); err != nil {
		t.Fatal(err)
	}
	want(2, t0.Add(time.Minute), billing.WebhookSilent)
	f.deliver(t0.Add(110*time.Second), captured(rp, 10000, "INR", n))
	want(3, t0.Add(110*time.Second), billing.WebhookHealthy)
	f.deliver(t0.Add(120*time.Second), captured(rp, 10000, "INR", n))
	want(3, t0.Add(110*time.Second), billing.WebhookHealthy)
}
