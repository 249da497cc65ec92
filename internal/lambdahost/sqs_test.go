package lambdahost

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/testenv"
)

// deliveries records what a handler was given, batch by batch.
type deliveries struct {
	mu      sync.Mutex
	batches [][]events.SQSMessage
}

func (d *deliveries) add(e events.SQSEvent) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.batches = append(d.batches, e.Records)
	return len(d.batches)
}

// bodies is every delivered body in order.
func (d *deliveries) bodies() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, b := range d.batches {
		for _, r := range b {
			out = append(out, r.Body)
		}
	}
	return out
}

func (d *deliveries) count(body string) int {
	n := 0
	for _, b := range d.bodies() {
		if b == body {
			n++
		}
	}
	return n
}

func send(t *testing.T, env *testenv.Env, q schema.Queue, body, group string) string {
	t.Helper()
	in := &sqs.SendMessageInput{
		QueueUrl: aws.String(env.QueueURL(q)), MessageBody: aws.String(body),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("test")}},
	}
	if q.FIFO {
		in.MessageGroupId, in.MessageDeduplicationId = aws.String(group), aws.String(body)
	}
	out, err := env.SQS.SendMessage(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

// poll runs PollSQS until the test ends.
func poll(t *testing.T, env *testenv.Env, q schema.Queue, h SQSHandler, opts SQSOptions) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- PollSQS(ctx, env.SQS, env.QueueURL(q), h, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("PollSQS: %v", err)
		}
	})
}

func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func queueDepth(t *testing.T, env *testenv.Env, url string) int {
	t.Helper()
	a, err := env.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"} {
		if a.Attributes[k] != "" && a.Attributes[k] != "0" {
			n++
		}
	}
	return n
}

func TestPollSQSDeletesOnlySucceededMessages(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	q := schema.CustomerSync
	for _, b := range []string{"a", "b", "c"} {
		send(t, env, q, b, "")
	}
	var d deliveries
	poll(t, env, q, func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
		d.add(e)
		if _, ok := ctx.Deadline(); !ok {
			t.Error("handler context has no deadline")
		}
		var resp events.SQSEventResponse
		for _, r := range e.Records {
			if r.Body == "b" && r.Attributes["ApproximateReceiveCount"] == "1" {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		return resp, nil
	}, SQSOptions{VisibilityTimeout: 1, FunctionName: "customer-syncer"})

	eventually(t, 15*time.Second, "b to be redelivered", func() bool { return d.count("b") == 2 })
	eventually(t, 5*time.Second, "the queue to drain", func() bool { return queueDepth(t, env, env.QueueURL(q)) == 0 })
	time.Sleep(1500 * time.Millisecond) // a deleted message would be back by now
	if d.count("a") != 1 || d.count("c") != 1 || d.count("b") != 2 {
		t.Fatalf("deliveries %v: want a and c once, b twice", d.bodies())
	}

	// The records look like Lambda's.
	r := d.batches[0][0]
	sum := md5.Sum([]byte(r.Body))
	if r.EventSource != "aws:sqs" || r.EventSourceARN != env.Resources.Queue(q).ARN || r.AWSRegion != "us-east-1" ||
		r.Md5OfBody != hex.EncodeToString(sum[:]) || r.ReceiptHandle == "" || r.MessageId == "" {
		t.Errorf("record = %+v", r)
	}
	if r.Attributes["SentTimestamp"] == "" || r.Attributes["ApproximateReceiveCount"] == "" || r.Attributes["ApproximateFirstReceiveTimestamp"] == "" {
		t.Errorf("attributes = %v", r.Attributes)
	}
	if a := r.MessageAttributes["kind"]; a.DataType != "String" || aws.ToString(a.StringValue) != "test" {
		t.Errorf("messageAttributes = %+v", r.MessageAttributes)
	}
}

func TestPollSQSHandlerErrorKeepsTheWholeBatch(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	q := schema.InvoiceSync
	send(t, env, q, "x", "")
	send(t, env, q, "y", "")
	var d deliveries
	poll(t, env, q, func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
		if d.add(e) == 1 {
			return events.SQSEventResponse{}, errors.New("downstream unavailable")
		}
		return events.SQSEventResponse{}, nil
	}, SQSOptions{VisibilityTimeout: 1})
	eventually(t, 15*time.Second, "x and y to be delivered twice", func() bool { return d.count("x") == 2 && d.count("y") == 2 })
	eventually(t, 5*time.Second, "the queue to drain", func() bool { return queueDepth(t, env, env.QueueURL(q)) == 0 })
}

func TestPollSQSFIFOKeepsTheRestOfAFailedGroup(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	q := schema.RazorpayEvents
	for _, b := range []string{"g1-m1", "g1-m2", "g1-m3"} {
		send(t, env, q, b, "g1")
	}
	send(t, env, q, "g2-n1", "g2")
	var d deliveries
	poll(t, env, q, func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
		d.add(e)
		for _, r := range e.Records {
			if r.Attributes["MessageGroupId"] == "" || r.Attributes["SequenceNumber"] == "" || r.Attributes["MessageDeduplicationId"] != r.Body {
				t.Errorf("FIFO attributes missing: %v", r.Attributes)
			}
		}
		// Fail g1-m1 the first time and (wrongly) report only it: the
		// poller must still keep m2 and m3 of the same group.
		for _, r := range e.Records {
			if r.Body == "g1-m1" && r.Attributes["ApproximateReceiveCount"] == "1" {
				return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: r.MessageId}}}, nil
			}
		}
		return events.SQSEventResponse{}, nil
	}, SQSOptions{VisibilityTimeout: 1, Concurrency: 4})

	eventually(t, 15*time.Second, "g1 to be retried", func() bool { return d.count("g1-m3") == 2 })
	eventually(t, 5*time.Second, "the queue to drain", func() bool { return queueDepth(t, env, env.QueueURL(q)) == 0 })
	time.Sleep(1500 * time.Millisecond)
	if d.count("g2-n1") != 1 || d.count("g1-m1") != 2 || d.count("g1-m2") != 2 {
		t.Fatalf("deliveries %v", d.bodies())
	}
	// Group g1 is delivered in order both times.
	var g1 []string
	for _, b := range d.bodies() {
		if b != "g2-n1" {
			g1 = append(g1, b)
		}
	}
	want := []string{"g1-m1", "g1-m2", "g1-m3", "g1-m1", "g1-m2", "g1-m3"}
	for i := range want {
		if i >= len(g1) || g1[i] != want[i] {
			t.Fatalf("group g1 delivered as %v, want %v", g1, want)
		}
	}
}

func TestPollSQSFailingMessageEndsInDLQ(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	q := schema.CustomerSync
	send(t, env, q, "poison", "")
	var d deliveries
	poll(t, env, q, func(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
		d.add(e)
		var resp events.SQSEventResponse
		for _, r := range e.Records {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
		return resp, nil
	}, SQSOptions{VisibilityTimeout: 1, WaitSeconds: 1})

	var dlq []sqstypes.Message
	eventually(t, 30*time.Second, "the message in the DLQ", func() bool {
		out, err := env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(env.DLQURL(q)), MaxNumberOfMessages: 10, VisibilityTimeout: 30})
		if err != nil {
			t.Fatal(err)
		}
		dlq = out.Messages
		return len(dlq) > 0
	})
	if len(dlq) != 1 || aws.ToString(dlq[0].Body) != "poison" {
		t.Fatalf("DLQ holds %v", dlq)
	}
	if n := d.count("poison"); n != q.MaxReceiveCount {
		t.Errorf("the handler saw the message %d times, want maxReceiveCount = %d", n, q.MaxReceiveCount)
	}
}
