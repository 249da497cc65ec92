package lambdahost

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/testenv"
)

// TestPollSQSFIFORunsMessageGroupsSideBySide: like Lambda, which runs as
// many batches of a FIFO queue at once as there are active message groups
// (up to its maximum concurrency), the poller runs two groups' batches at
// the same time. Each batch waits for the other group's to start; run one
// at a time, neither would ever see the other.
func TestPollSQSFIFORunsMessageGroupsSideBySide(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	q := schema.RazorpayEvents
	send(t, env, q, "a-1", "a")
	send(t, env, q, "b-1", "b")
	var mu sync.Mutex
	started := map[string]bool{}
	both := make(chan struct{})
	var d deliveries
	poll(t, env, q, func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
		d.add(e)
		mu.Lock()
		for _, r := range e.Records {
			started[r.Attributes["MessageGroupId"]] = true
		}
		if started["a"] && started["b"] {
			select {
			case <-both:
			default:
				close(both)
			}
		}
		mu.Unlock()
		select {
		case <-both:
			return events.SQSEventResponse{}, nil
		case <-time.After(3 * time.Second):
			return events.SQSEventResponse{}, fmt.Errorf("group a and group b never ran at the same time")
		}
	}, SQSOptions{BatchSize: 1, Concurrency: 2, VisibilityTimeout: 30})
	select {
	case <-both:
	case <-time.After(10 * time.Second):
		t.Fatalf("the two groups' batches never ran at the same time (deliveries %v)", d.bodies())
	}
	eventually(t, 10*time.Second, "the queue to drain", func() bool { return queueDepth(t, env, env.QueueURL(q)) == 0 })
}

// TestPollSQSFIFOKeepsEachGroupInOrderWhileGroupsRunTogether: with four
// batches allowed at once and batches of one, three groups of ten messages
// each are handled with no two messages of a group in flight together and
// each group in the order it was sent, while more than one group does run
// at a time.
func TestPollSQSFIFOKeepsEachGroupInOrderWhileGroupsRunTogether(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	q := schema.RazorpayEvents
	groups := []string{"x", "y", "z"}
	const per = 10
	for i := range per {
		for _, g := range groups {
			send(t, env, q, fmt.Sprintf("%s-%02d", g, i), g)
		}
	}
	var mu sync.Mutex
	inFlight := map[string]int{}
	running, most := 0, 0
	seen := map[string][]string{}
	var problems []string
	poll(t, env, q, func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
		mu.Lock()
		running++
		most = max(most, running)
		for _, r := range e.Records {
			g := r.Attributes["MessageGroupId"]
			inFlight[g]++
			if inFlight[g] > 1 {
				problems = append(problems, "two messages of group "+g+" in flight at once")
			}
			seen[g] = append(seen[g], r.Body)
		}
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		running--
		for _, r := range e.Records {
			inFlight[r.Attributes["MessageGroupId"]]--
		}
		mu.Unlock()
		return events.SQSEventResponse{}, nil
	}, SQSOptions{BatchSize: 1, Concurrency: 4, VisibilityTimeout: 30})
	eventually(t, 30*time.Second, "every message handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, s := range seen {
			n += len(s)
		}
		return n >= per*len(groups)
	})
	eventually(t, 10*time.Second, "the queue to drain", func() bool { return queueDepth(t, env, env.QueueURL(q)) == 0 })
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
	for _, g := range groups {
		if len(seen[g]) != per {
			t.Errorf("group %s: %d deliveries %v, want %d", g, len(seen[g]), seen[g], per)
			continue
		}
		for i, b := range seen[g] {
			if want := fmt.Sprintf("%s-%02d", g, i); b != want {
				t.Errorf("group %s delivered as %v: out of order at %d", g, seen[g], i)
				break
			}
		}
	}
	if most < 2 {
		t.Errorf("at most %d batch ran at a time; three groups were active and four batches allowed", most)
	}
}
