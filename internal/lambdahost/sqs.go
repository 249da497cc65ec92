package lambdahost

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSHandler is a function behind an SQS event source mapping with
// ReportBatchItemFailures.
type SQSHandler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// SQSAPI is the part of the SQS client the poller uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// SQSOptions configure PollSQS. Zero values mean the defaults.
type SQSOptions struct {
	// BatchSize is the most messages per invocation, 1–10 (default 10).
	BatchSize int
	// WaitSeconds is the long-poll wait of each receive, 0–20 (default 1),
	// kept below the visibility timeout. The local emulator holds a long
	// poll open for the whole wait unless the batch fills, so it is also
	// the batching window.
	WaitSeconds int
	// VisibilityTimeout in seconds for received messages (default: the
	// queue's). A failed message is received again once it runs out.
	VisibilityTimeout int
	// Concurrency is how many batches run at once (default 1). On a FIFO
	// queue it is the most: like Lambda's event source mapping, which runs
	// at most as many batches as there are active message groups (or its
	// maximum concurrency, whichever is lower), the poller never has two
	// batches holding messages of one group, so a group is processed one
	// message after another, in order, while other groups run beside it.
	Concurrency int
	// FunctionTimeout is the handler's deadline (default 30 s).
	FunctionTimeout time.Duration
	// FunctionName appears in lambdacontext and logs.
	FunctionName string
	Logger       *slog.Logger
}

// PollSQS delivers the queue's messages to handler as events.SQSEvent
// batches until ctx is cancelled, then lets running batches finish and
// returns nil. Like Lambda's event source mapping with
// ReportBatchItemFailures it deletes exactly the messages that succeeded:
// all of them when the handler returns no failures, none when it returns an
// error (or an unknown or empty itemIdentifier), all but the listed ones
// otherwise — and, on FIFO queues, keeps every later message of a group
// that had a failure, so the group is retried in order. Failed messages
// become visible again after the visibility timeout; the queue's
// RedrivePolicy moves them to the DLQ after maxReceiveCount receives.
func PollSQS(ctx context.Context, client SQSAPI, queueURL string, handler SQSHandler, opts SQSOptions) error {
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("lambdahost: queue %s: %w", queueURL, err)
	}
	p := &sqsPoller{
		client:  client,
		url:     queueURL,
		handler: handler,
		arn:     attrs.Attributes["QueueArn"],
		fifo:    attrs.Attributes["FifoQueue"] == "true" || strings.HasSuffix(queueURL, ".fifo"),
		batch:   min(max(orDefault(opts.BatchSize, 10), 1), 10),
		wait:    min(max(orDefault(opts.WaitSeconds, 1), 0), 20),
		timeout: orDefault(opts.FunctionTimeout, 30*time.Second),
		fn:      opts.FunctionName,
		blocked: map[string]time.Time{},
	}
	p.visibility = opts.VisibilityTimeout
	if p.visibility == 0 {
		p.visibility, _ = strconv.Atoi(attrs.Attributes["VisibilityTimeout"])
	}
	if p.visibility > 0 && p.wait >= p.visibility {
		// A message must not become visible again within one long poll.
		p.wait = p.visibility - 1
	}
	p.region = LocalRegion
	if parts := strings.Split(p.arn, ":"); len(parts) > 3 && parts[3] != "" {
		p.region = parts[3]
	}
	p.log = loggerOr(opts.Logger).With("function", opts.FunctionName, "queue", queueURL)
	workers := max(orDefault(opts.Concurrency, 1), 1)
	if p.fifo {
		p.runFIFO(ctx, workers)
		return nil
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.run(ctx)
		}()
	}
	wg.Wait()
	return nil
}

type sqsPoller struct {
	client     SQSAPI
	url, arn   string
	region     string
	fifo       bool
	batch      int
	wait       int
	visibility int
	timeout    time.Duration
	fn         string
	handler    SQSHandler
	log        *slog.Logger

	mu      sync.Mutex
	blocked map[string]time.Time // FIFO group → until when its failed messages stay invisible
}

func (p *sqsPoller) run(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		msgs, received, ok := p.receive(ctx, &backoff)
		if !ok {
			return
		}
		if len(msgs) > 0 {
			p.process(ctx, msgs, received)
		}
	}
}

// receive is one ReceiveMessage call: its distinct messages and when it
// was made. After a failed call it sleeps (backoff, doubling up to 30 s)
// and returns no messages; ok is false once ctx is done.
func (p *sqsPoller) receive(ctx context.Context, backoff *time.Duration) ([]sqstypes.Message, time.Time, bool) {
	in := &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(p.url),
		MaxNumberOfMessages: int32(p.batch),
		WaitTimeSeconds:     int32(p.wait),
		// Both spellings: SQS reads MessageSystemAttributeNames, the
		// local emulator only the older AttributeNames.
		AttributeNames:              []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	}
	if p.visibility > 0 {
		in.VisibilityTimeout = int32(p.visibility)
	}
	received := time.Now()
	out, err := p.client.ReceiveMessage(ctx, in)
	if err != nil {
		if ctx.Err() != nil {
			return nil, received, false
		}
		p.log.Warn("receive failed; retrying", "error", err, "retry_in", *backoff)
		if !sleepCtx(ctx, *backoff) {
			return nil, received, false
		}
		*backoff = min(*backoff*2, 30*time.Second)
		return nil, received, true
	}
	*backoff = time.Second
	msgs := uniqueMessages(out.Messages)
	if len(msgs) == 0 && p.wait == 0 && !sleepCtx(ctx, 200*time.Millisecond) {
		return nil, received, false
	}
	return msgs, received, true
}

// uniqueMessages drops repeats of a message within one answer (the local
// emulator can hand a message out twice in one long poll when its
// visibility timeout is shorter than the wait), keeping the latest receipt.
func uniqueMessages(in []sqstypes.Message) []sqstypes.Message {
	idx := map[string]int{}
	out := make([]sqstypes.Message, 0, len(in))
	for _, m := range in {
		id := aws.ToString(m.MessageId)
		if i, ok := idx[id]; ok {
			out[i] = m
			continue
		}
		idx[id] = len(out)
		out = append(out, m)
	}
	return out
}

func (p *sqsPoller) process(ctx context.Context, msgs []sqstypes.Message, received time.Time) {
	// FIFO: SQS does not hand out messages of a group whose earlier message
	// is still in flight; the emulator does, so hold them back here.
	var invoke, held []sqstypes.Message
	if p.fifo {
		p.mu.Lock()
		now := time.Now()
		for _, m := range msgs {
			if until, ok := p.blocked[m.Attributes["MessageGroupId"]]; ok && now.Before(until) {
				held = append(held, m)
				continue
			}
			invoke = append(invoke, m)
		}
		p.mu.Unlock()
		if len(held) > 0 {
			p.log.Info("holding back messages of a group with a failed message", "count", len(held))
		}
	} else {
		invoke = msgs
	}
	if len(invoke) == 0 {
		return
	}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(invoke))}
	for i, m := range invoke {
		ev.Records[i] = p.record(m)
	}
	resp, reqID, err := invokeSQS(ctx, p, ev)
	failed := map[string]bool{}
	switch {
	case err != nil:
		p.log.Error("batch failed; no message is deleted", "request_id", reqID, "messages", len(invoke), "error", err)
		for _, m := range invoke {
			failed[aws.ToString(m.MessageId)] = true
		}
	case len(resp.BatchItemFailures) > 0:
		known := map[string]bool{}
		for _, m := range invoke {
			known[aws.ToString(m.MessageId)] = true
		}
		valid := true
		for _, f := range resp.BatchItemFailures {
			if f.ItemIdentifier == "" || !known[f.ItemIdentifier] {
				valid = false
				break
			}
			failed[f.ItemIdentifier] = true
		}
		if !valid { // Lambda treats a malformed response as a failure of the whole batch
			p.log.Error("batchItemFailures names an unknown or empty itemIdentifier; the whole batch failed", "request_id", reqID)
			for _, m := range invoke {
				failed[aws.ToString(m.MessageId)] = true
			}
		} else {
			p.log.Warn("partial batch failure", "request_id", reqID, "failed", len(resp.BatchItemFailures), "messages", len(invoke))
		}
	}
	if p.fifo && len(failed) > 0 {
		groupFailed := map[string]bool{}
		for _, m := range invoke {
			g := m.Attributes["MessageGroupId"]
			if groupFailed[g] {
				failed[aws.ToString(m.MessageId)] = true
			} else if failed[aws.ToString(m.MessageId)] {
				groupFailed[g] = true
			}
		}
		until := received.Add(time.Duration(p.visibility) * time.Second)
		p.mu.Lock()
		for g := range groupFailed {
			p.blocked[g] = until
		}
		for g, t := range p.blocked {
			if time.Now().After(t) {
				delete(p.blocked, g)
			}
		}
		p.mu.Unlock()
	}
	var done []sqstypes.Message
	for _, m := range invoke {
		if !failed[aws.ToString(m.MessageId)] {
			done = append(done, m)
		}
	}
	p.delete(done)
}

func invokeSQS(ctx context.Context, p *sqsPoller, ev events.SQSEvent) (events.SQSEventResponse, string, error) {
	return invoke(ctx, p.log, p.fn, p.timeout, func(ctx context.Context) (events.SQSEventResponse, error) {
		return p.handler(ctx, ev)
	})
}

// delete removes processed messages, ten per call. It does not use the
// poller's context: a batch that ran is settled even during shutdown.
func (p *sqsPoller) delete(msgs []sqstypes.Message) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for start := 0; start < len(msgs); start += 10 {
		chunk := msgs[start:min(start+10, len(msgs))]
		in := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.url)}
		for i, m := range chunk {
			in.Entries = append(in.Entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		out, err := p.client.DeleteMessageBatch(ctx, in)
		if err != nil {
			p.log.Error("delete failed; the messages will be delivered again", "error", err, "messages", len(chunk))
			continue
		}
		for _, f := range out.Failed {
			p.log.Error("delete failed; the message will be delivered again", "code", aws.ToString(f.Code), "message", aws.ToString(f.Message))
		}
	}
}

// record is m as Lambda puts it in an SQS event.
func (p *sqsPoller) record(m sqstypes.Message) events.SQSMessage {
	r := events.SQSMessage{
		MessageId:              aws.ToString(m.MessageId),
		ReceiptHandle:          aws.ToString(m.ReceiptHandle),
		Body:                   aws.ToString(m.Body),
		Md5OfBody:              aws.ToString(m.MD5OfBody),
		Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
		Attributes:             map[string]string{},
		MessageAttributes:      map[string]events.SQSMessageAttribute{},
		EventSourceARN:         p.arn,
		EventSource:            "aws:sqs",
		AWSRegion:              p.region,
	}
	for k, v := range m.Attributes {
		r.Attributes[k] = v
	}
	for k, v := range m.MessageAttributes {
		r.MessageAttributes[k] = events.SQSMessageAttribute{
			StringValue:      v.StringValue,
			BinaryValue:      v.BinaryValue,
			StringListValues: orEmpty(v.StringListValues),
			BinaryListValues: orEmptyBytes(v.BinaryListValues),
			DataType:         aws.ToString(v.DataType),
		}
	}
	return r
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orEmptyBytes(s [][]byte) [][]byte {
	if s == nil {
		return [][]byte{}
	}
	return s
}
