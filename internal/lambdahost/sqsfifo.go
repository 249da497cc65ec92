package lambdahost

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// fifoDispatch runs a FIFO queue's batches the way Lambda's event source
// mapping does: up to max batches at once, never two holding messages of
// one message group, each group's messages in the order SQS handed them
// out. The SQS emulator does not keep a group's later messages back while
// an earlier one is in flight (SQS does), so one receiver loop takes the
// messages and queues them per group here, and a batch is made only of
// groups that have nothing in flight.
type fifoDispatch struct {
	p   *sqsPoller
	max int

	mu       sync.Mutex
	pending  map[string][]fifoItem // group → received messages not yet in a batch, in order
	ready    []string              // groups with pending messages and no batch in flight, oldest first
	busy     map[string]bool       // groups with a batch in flight
	known    map[string]bool       // message ids pending or in flight
	buffered int                   // pending messages
	wake     chan struct{}         // to the dispatcher: a batch ended or messages came
	room     chan struct{}         // to the receiver: pending messages were taken
}

type fifoItem struct {
	m        sqstypes.Message
	received time.Time
}

func (p *sqsPoller) runFIFO(ctx context.Context, maxBatches int) {
	d := &fifoDispatch{p: p, max: maxBatches, pending: map[string][]fifoItem{}, busy: map[string]bool{}, known: map[string]bool{},
		wake: make(chan struct{}, 1), room: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	wg.Go(func() { d.receive(ctx) })
	running := 0
	done := make(chan struct{}, maxBatches)
	for ctx.Err() == nil {
		for running < d.max {
			batch := d.take()
			if len(batch) == 0 {
				break
			}
			running++
			wg.Go(func() {
				d.run(ctx, batch)
				done <- struct{}{}
			})
		}
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-done:
			running--
		}
	}
	wg.Wait()
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// receive keeps at most two full rounds of batches waiting locally, so
// that no message sits here long enough for its visibility timeout to end.
func (d *fifoDispatch) receive(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		d.mu.Lock()
		full := d.buffered >= 2*d.max*d.p.batch
		d.mu.Unlock()
		if full {
			select {
			case <-ctx.Done():
				return
			case <-d.room:
			}
			continue
		}
		msgs, received, ok := d.p.receive(ctx, &backoff)
		if !ok {
			return
		}
		if len(msgs) > 0 {
			d.add(msgs, received)
		}
	}
}

// add queues received messages behind their group's. A message already
// here (the emulator handing it out again) only gets its new receipt
// handle; a message of a group that failed stays unprocessed until its
// visibility timeout ends, like the rest of that group in SQS.
func (d *fifoDispatch) add(msgs []sqstypes.Message, received time.Time) {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	held := 0
	for _, m := range msgs {
		id, g := aws.ToString(m.MessageId), m.Attributes["MessageGroupId"]
		if d.known[id] {
			for i, it := range d.pending[g] {
				if aws.ToString(it.m.MessageId) == id {
					d.pending[g][i] = fifoItem{m: m, received: received}
				}
			}
			continue
		}
		if d.p.isBlocked(g, now) {
			held++
			continue
		}
		d.known[id] = true
		d.pending[g] = append(d.pending[g], fifoItem{m: m, received: received})
		d.buffered++
		if !d.busy[g] && len(d.pending[g]) == 1 {
			d.ready = append(d.ready, g)
		}
	}
	if held > 0 {
		d.p.log.Info("holding back messages of a group with a failed message", "count", held)
	}
	signal(d.wake)
}

// take makes the next batch: the pending messages of the oldest ready
// groups, up to the batch size; it marks those groups busy.
func (d *fifoDispatch) take() []fifoItem {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	var batch []fifoItem
	for len(d.ready) > 0 && len(batch) < d.p.batch {
		g := d.ready[0]
		d.ready = d.ready[1:]
		items := d.pending[g]
		if d.p.isBlocked(g, now) {
			// An earlier message of the group failed: these come back
			// after it, once their visibility timeout ends.
			for _, it := range items {
				delete(d.known, aws.ToString(it.m.MessageId))
			}
			d.buffered -= len(items)
			delete(d.pending, g)
			continue
		}
		n := min(len(items), d.p.batch-len(batch))
		batch = append(batch, items[:n]...)
		if n < len(items) {
			d.pending[g] = items[n:]
		} else {
			delete(d.pending, g)
		}
		d.busy[g] = true
		d.buffered -= n
	}
	if len(batch) > 0 {
		signal(d.room)
	}
	return batch
}

// run invokes the function with one batch and settles it (process), then
// lets the batch's groups go on.
func (d *fifoDispatch) run(ctx context.Context, batch []fifoItem) {
	msgs := make([]sqstypes.Message, len(batch))
	received := batch[0].received
	for i, it := range batch {
		msgs[i] = it.m
		if it.received.Before(received) {
			received = it.received
		}
	}
	d.p.process(ctx, msgs, received)
	d.mu.Lock()
	for _, it := range batch {
		delete(d.known, aws.ToString(it.m.MessageId))
		g := it.m.Attributes["MessageGroupId"]
		if d.busy[g] {
			delete(d.busy, g)
			if len(d.pending[g]) > 0 {
				d.ready = append(d.ready, g)
			}
		}
	}
	d.mu.Unlock()
}

// isBlocked reports whether group g had a failed message whose visibility
// timeout has not ended.
func (p *sqsPoller) isBlocked(g string, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	until, ok := p.blocked[g]
	return ok && now.Before(until)
}
