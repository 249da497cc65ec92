package chaos_test

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/schema"
)

// faults decides, with a seeded generator, which calls fail, and counts
// what it did. Nothing is injected while it is off.
type faults struct {
	rate float64
	on   atomic.Bool

	mu     sync.Mutex
	rnd    *rand.Rand
	ops    map[string]int // calls seen while on, by operation
	counts map[string]int // faults injected, by kind
	// commits counts committed transactions that wrote each applied
	// marker (by the marker's PK): the number of times money was counted.
	commits map[string]int
}

func newFaults(rate float64, seed uint64) *faults {
	return &faults{rate: rate, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ops: map[string]int{}, counts: map[string]int{}, commits: map[string]int{}}
}

// roll counts a call of op and reports whether it should fail (probability p).
func (f *faults) roll(op string, p float64) bool {
	if !f.on.Load() {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops[op]++
	return f.rnd.Float64() < p
}

func (f *faults) intn(n int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rnd.IntN(n)
}

func (f *faults) float() float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rnd.Float64()
}

func (f *faults) count(kind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[kind]++
}

type countRow struct {
	Name  string
	Count int
}

func sortedCounts(m map[string]int) []countRow {
	var out []countRow
	for k, v := range m {
		out = append(out, countRow{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (f *faults) committed(in *ddbjson.TransactWriteItemsInput) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range in.TransactItems {
		if it.Put == nil {
			continue
		}
		if pk, _ := it.Put.Item[schema.AttrPK].(*types.AttributeValueMemberS); pk != nil && strings.Contains(pk.Value, "#APPLIED#") {
			f.commits[pk.Value]++
		}
	}
}

func (f *faults) commitsOf(pk string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.commits[pk]
}

func (f *faults) snapshot() (ops, counts []countRow) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sortedCounts(f.ops), sortedCounts(f.counts)
}

// faultyDDB is the store's DynamoDB API with faults: before a call,
// throttling or a 500 (rate/5 of every call); on TransactWriteItems also
// (rate) a TransactionConflict cancellation, a racing writer that bumps the
// invoice's version just before the transaction (a real conditional race),
// or a 500 after the transaction committed (an ambiguous answer); on
// PutItem, a 500 after the write (rate/5).
type faultyDDB struct {
	inner dynamo.API
	table string
	f     *faults
}

var _ dynamo.API = (*faultyDDB)(nil)

func (d *faultyDDB) before(op string) error {
	if !d.f.roll("dynamodb "+op, d.f.rate/5) {
		return nil
	}
	switch d.f.intn(3) {
	case 0:
		d.f.count("dynamodb: ThrottlingException")
		return &types.ThrottlingException{Message: aws.String("Rate of requests exceeds the allowed throughput.")}
	case 1:
		d.f.count("dynamodb: ProvisionedThroughputExceededException")
		return &types.ProvisionedThroughputExceededException{Message: aws.String("The level of configured provisioned throughput for the table was exceeded.")}
	default:
		d.f.count("dynamodb: InternalServerError (before the call)")
		return &types.InternalServerError{Message: aws.String("Internal server error")}
	}
}

func (d *faultyDDB) GetItem(ctx context.Context, in *ddbjson.GetItemInput) (*ddbjson.GetItemOutput, error) {
	if err := d.before("GetItem"); err != nil {
		return nil, err
	}
	return d.inner.GetItem(ctx, in)
}

func (d *faultyDDB) PutItem(ctx context.Context, in *ddbjson.PutItemInput) (*ddbjson.PutItemOutput, error) {
	if err := d.before("PutItem"); err != nil {
		return nil, err
	}
	out, err := d.inner.PutItem(ctx, in)
	if err == nil && d.f.roll("dynamodb PutItem (after)", d.f.rate/5) {
		d.f.count("dynamodb: InternalServerError after PutItem was written")
		return nil, &types.InternalServerError{Message: aws.String("Internal server error")}
	}
	return out, err
}

func (d *faultyDDB) UpdateItem(ctx context.Context, in *ddbjson.UpdateItemInput) (*ddbjson.UpdateItemOutput, error) {
	if err := d.before("UpdateItem"); err != nil {
		return nil, err
	}
	return d.inner.UpdateItem(ctx, in)
}

func (d *faultyDDB) DeleteItem(ctx context.Context, in *ddbjson.DeleteItemInput) (*ddbjson.DeleteItemOutput, error) {
	if err := d.before("DeleteItem"); err != nil {
		return nil, err
	}
	return d.inner.DeleteItem(ctx, in)
}

func (d *faultyDDB) Query(ctx context.Context, in *ddbjson.QueryInput) (*ddbjson.QueryOutput, error) {
	if err := d.before("Query"); err != nil {
		return nil, err
	}
	return d.inner.Query(ctx, in)
}

func (d *faultyDDB) BatchGetItem(ctx context.Context, in *ddbjson.BatchGetItemInput) (*ddbjson.BatchGetItemOutput, error) {
	if err := d.before("BatchGetItem"); err != nil {
		return nil, err
	}
	return d.inner.BatchGetItem(ctx, in)
}

func (d *faultyDDB) TransactWriteItems(ctx context.Context, in *ddbjson.TransactWriteItemsInput) (*ddbjson.TransactWriteItemsOutput, error) {
	if err := d.before("TransactWriteItems"); err != nil {
		return nil, err
	}
	if !d.f.roll("dynamodb TransactWriteItems (race/ambiguous)", d.f.rate) {
		return d.transact(ctx, in)
	}
	switch d.f.intn(3) {
	case 0:
		d.f.count("dynamodb: TransactionCanceledException (TransactionConflict)")
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i] = types.CancellationReason{Code: aws.String("None")}
		}
		reasons[len(reasons)-1] = types.CancellationReason{Code: aws.String("TransactionConflict"), Message: aws.String("Transaction is ongoing for the item")}
		return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]"), CancellationReasons: reasons}
	case 1:
		if d.raceInvoice(ctx, in) {
			d.f.count("dynamodb: racing writer bumped the invoice's version before the transaction")
		}
		return d.transact(ctx, in)
	default:
		out, err := d.transact(ctx, in)
		if err != nil {
			return out, err
		}
		d.f.count("dynamodb: InternalServerError after TransactWriteItems committed")
		return nil, &types.InternalServerError{Message: aws.String("Internal server error")}
	}
}

func (d *faultyDDB) transact(ctx context.Context, in *ddbjson.TransactWriteItemsInput) (*ddbjson.TransactWriteItemsOutput, error) {
	out, err := d.inner.TransactWriteItems(ctx, in)
	if err == nil {
		d.f.committed(in)
	}
	return out, err
}

// raceInvoice is another writer winning the race for the transaction's
// invoice: it moves the stored version on, so the transaction's version
// condition fails for real.
func (d *faultyDDB) raceInvoice(ctx context.Context, in *ddbjson.TransactWriteItemsInput) bool {
	for _, it := range in.TransactItems {
		p := it.Put
		// The store's versioned put: "#v = :v" (and "AND #e = :e", the entity check).
		if p == nil || p.ConditionExpression == nil || !strings.HasPrefix(*p.ConditionExpression, "#v = :v") {
			continue
		}
		ent, _ := p.Item[schema.AttrEntity].(*types.AttributeValueMemberS)
		if ent == nil || ent.Value != "invoice" {
			continue
		}
		_, err := d.inner.UpdateItem(ctx, &ddbjson.UpdateItemInput{
			TableName:                 aws.String(d.table),
			Key:                       map[string]types.AttributeValue{schema.AttrPK: p.Item[schema.AttrPK], schema.AttrSK: p.Item[schema.AttrSK]},
			UpdateExpression:          aws.String("SET #v = #v + :one"),
			ConditionExpression:       aws.String("#v = :v"),
			ExpressionAttributeNames:  map[string]string{"#v": "version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": p.ExpressionAttributeValues[":v"], ":one": &types.AttributeValueMemberN{Value: "1"}},
		})
		return err == nil
	}
	return false
}

// faultySQS is the HTTP client under the receiver's SQS sender
// (internal/sqsjson) with send failures: half refused with SQS's 503
// ServiceUnavailable before reaching the queue, half queued with the answer
// lost (a timeout). sqsjson tries both again, as it does in AWS; a message
// queued twice has one deduplication id, so SQS keeps one.
type faultySQS struct {
	inner aws.HTTPClient
	f     *faults
}

func (q *faultySQS) Do(req *http.Request) (*http.Response, error) {
	if req.Header.Get("X-Amz-Target") != "AmazonSQS.SendMessage" || !q.f.roll("sqs SendMessage", q.f.rate) {
		return q.inner.Do(req)
	}
	if q.f.intn(2) == 0 {
		q.f.count("sqs: SendMessage refused (ServiceUnavailable)")
		body := `{"__type":"com.amazonaws.sqs#ServiceUnavailable","message":"Service is unavailable"}`
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
	}
	resp, err := q.inner.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	q.f.count("sqs: SendMessage queued, answer lost (timeout)")
	return nil, &url.Error{Op: "Post", URL: req.URL.String(), Err: context.DeadlineExceeded}
}

// razorpayFaultKinds are the simulator faults armed before Razorpay calls.
var razorpayFaultKinds = []string{"500", "html_502", "429", "timeout", "crash_after_create", "drop"}

func faultPath(p string) string { return strings.TrimSuffix(p, "*") }
