package reconcile_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/reconcile"
	"github.com/razorbill/razorbill/internal/testenv"
)

// meetingStore is the real store (DynamoDB Local) whose Connection read
// of each scope waits, the first time, until the other scope's has begun
// (or 3 s): two groups processed one after the other never meet. It
// records each parked event's id per scope, in the order parked, and how
// many of a scope's reads overlapped.
type meetingStore struct {
	*dynamo.Store
	mu       sync.Mutex
	entered  map[billing.Scope]bool
	met      chan struct{}
	inFlight map[billing.Scope]int
	overlaps int
	parked   map[billing.Scope][]string
}

func (s *meetingStore) Connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error) {
	s.mu.Lock()
	first := !s.entered[sc]
	s.entered[sc] = true
	if len(s.entered) == 2 {
		select {
		case <-s.met:
		default:
			close(s.met)
		}
	}
	s.inFlight[sc]++
	if s.inFlight[sc] > 1 {
		s.overlaps++
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight[sc]--
		s.mu.Unlock()
	}()
	if first {
		select {
		case <-s.met:
		case <-time.After(3 * time.Second):
			return billing.Connection{}, false, errors.New("the other group never started while this one waited")
		}
	}
	time.Sleep(10 * time.Millisecond) // a read that takes a while, so overlaps would show
	return s.Store.Connection(ctx, sc)
}

func (s *meetingStore) ParkEvent(ctx context.Context, sc billing.Scope, e billing.GatewayEvent) (billing.GatewayEvent, error) {
	s.mu.Lock()
	s.parked[sc] = append(s.parked[sc], e.EventID)
	s.mu.Unlock()
	return s.Store.ParkEvent(ctx, sc, e)
}

// TestHandleSQSRunsGroupsSideBySideEachInOrder: a batch holding two
// message groups (of two environments without a connection, so each event
// is parked) processes the groups at the same time — each group's first
// read waits for the other's — while each group's own messages are handled
// one at a time, in order.
func TestHandleSQSRunsGroupsSideBySideEachInOrder(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	st := &meetingStore{Store: dynamo.New(env.DDB, env.Table()), entered: map[billing.Scope]bool{}, met: make(chan struct{}),
		inFlight: map[billing.Scope]int{}, parked: map[billing.Scope][]string{}}
	rec := &reconcile.Reconciler{Store: st, Log: logx.New(io.Discard, "error")}
	scopes := map[string]billing.Scope{
		"g1": {TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)},
		"g2": {TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)},
	}
	var ev events.SQSEvent
	for i := range 4 {
		for _, g := range []string{"g1", "g2"} {
			sc := scopes[g]
			body, _ := json.Marshal(billing.EventMessage{TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID, EventID: fmt.Sprintf("%s-%d", g, i),
				Event: "payment.captured", ReceivedAt: time.Now(), Body: envelope("payment.captured", map[string]any{"payment": entity(paymentEntity("pay_X"+g+fmt.Sprint(i), 100, "INR", "captured", nil))})})
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m-%s-%d", g, i), Body: string(body), Attributes: map[string]string{"MessageGroupId": g}})
		}
	}
	resp, err := rec.HandleSQS(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v: the two groups were not processed at the same time", resp.BatchItemFailures)
	}
	if st.overlaps != 0 {
		t.Errorf("%d reads of one group overlapped: a group's messages ran at the same time", st.overlaps)
	}
	for _, g := range []string{"g1", "g2"} {
		want := fmt.Sprint([]string{g + "-0", g + "-1", g + "-2", g + "-3"})
		if got := fmt.Sprint(st.parked[scopes[g]]); got != want {
			t.Errorf("group %s parked as %s, want %s (in order)", g, got, want)
		}
	}
}
