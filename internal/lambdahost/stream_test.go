package lambdahost

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/testenv"
)

func put(t *testing.T, env *testenv.Env, id string, attrs map[string]string) {
	t.Helper()
	putFlags(t, env, id, attrs, nil)
}

// putFlags is put with BOOL attributes too.
func putFlags(t *testing.T, env *testenv.Env, id string, attrs map[string]string, flags map[string]bool) {
	t.Helper()
	item := map[string]ddbtypes.AttributeValue{
		schema.AttrPK: &ddbtypes.AttributeValueMemberS{Value: "TENANT#t1#ENV#e1"},
		schema.AttrSK: &ddbtypes.AttributeValueMemberS{Value: id},
		"amount_due":  &ddbtypes.AttributeValueMemberN{Value: "10000"},
	}
	for k, v := range attrs {
		item[k] = &ddbtypes.AttributeValueMemberS{Value: v}
	}
	for k, v := range flags {
		item[k] = &ddbtypes.AttributeValueMemberBOOL{Value: v}
	}
	if _, err := env.DynamoDB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(env.Table()), Item: item}); err != nil {
		t.Fatal(err)
	}
}

func pollStream(t *testing.T, env *testenv.Env, h DynamoDBHandler, opts StreamOptions) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- PollStream(ctx, env.Streams, env.StreamARN(), h, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("PollStream: %v", err)
		}
	})
}

type streamLog struct {
	mu      sync.Mutex
	records []events.DynamoDBEventRecord
}

func (l *streamLog) snapshot() []events.DynamoDBEventRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]events.DynamoDBEventRecord(nil), l.records...)
}

func sk(r events.DynamoDBEventRecord) string { return r.Change.Keys[schema.AttrSK].String() }

func TestPollStreamFiltersBeforeInvoking(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	var filters []string
	for _, f := range schema.StreamFilters {
		filters = append(filters, f.Pattern)
	}
	var log streamLog
	pollStream(t, env, func(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		log.mu.Lock()
		defer log.mu.Unlock()
		log.records = append(log.records, e.Records...)
		return events.DynamoDBEventResponse{}, nil
	}, StreamOptions{Filters: filters, FunctionName: "stream-relay"})

	onCreate := map[string]bool{schema.AttrSyncOnCreate: true}
	onFinalize := map[string]bool{schema.AttrSyncOnFinalize: true}
	put(t, env, "CUSTOMER#cus_0", map[string]string{"entity": "customer", "sync_status": "NOT_SYNCED"})                  // INSERT customer, no sync on create: out
	putFlags(t, env, "CUSTOMER#cus_1", map[string]string{"entity": "customer", "sync_status": "NOT_SYNCED"}, onCreate)   // INSERT customer to sync: in
	put(t, env, "INVOICE#inv_0", map[string]string{"entity": "invoice", "invoice_status": "DRAFT"})                      // INSERT draft: out
	put(t, env, "INVOICE#inv_0", map[string]string{"entity": "invoice", "invoice_status": "FINALIZED"})                  // DRAFT→FINALIZED, outbound sync off: out
	put(t, env, "INVOICE#inv_1", map[string]string{"entity": "invoice", "invoice_status": "DRAFT"})                      // INSERT draft: out
	put(t, env, "INVOICE#inv_1", map[string]string{"entity": "invoice", "invoice_status": "DRAFT", "memo": "edited"})    // DRAFT→DRAFT: out
	put(t, env, "PAYMENT#pay_1", map[string]string{"entity": "payment"})                                                 // payment: out
	putFlags(t, env, "INVOICE#inv_1", map[string]string{"entity": "invoice", "invoice_status": "FINALIZED"}, onFinalize) // DRAFT→FINALIZED to sync: in
	put(t, env, "INVOICE#inv_1", map[string]string{"entity": "invoice", "invoice_status": "VOIDED"})                     // FINALIZED→VOIDED: out
	put(t, env, "CUSTOMER#cus_1", map[string]string{"entity": "customer", "sync_status": "SYNCED"})                      // customer synced: in
	put(t, env, "ZZZ#last", map[string]string{"entity": "marker"})                                                       // out

	eventually(t, 20*time.Second, "three records", func() bool { return len(log.snapshot()) >= 3 })
	time.Sleep(time.Second) // nothing else may follow
	got := log.snapshot()
	if len(got) != 3 {
		var names []string
		for _, r := range got {
			names = append(names, r.EventName+" "+sk(r))
		}
		t.Fatalf("delivered %v, want exactly the customer INSERT, the invoice DRAFT→FINALIZED and the customer SYNCED", names)
	}
	want := []struct{ name, sk string }{{"INSERT", "CUSTOMER#cus_1"}, {"MODIFY", "INVOICE#inv_1"}, {"MODIFY", "CUSTOMER#cus_1"}}
	for i, w := range want {
		if got[i].EventName != w.name || sk(got[i]) != w.sk {
			t.Errorf("record %d = %s %s, want %s %s", i, got[i].EventName, sk(got[i]), w.name, w.sk)
		}
	}
	fin := got[1]
	if fin.Change.OldImage["invoice_status"].String() != "DRAFT" || fin.Change.NewImage["invoice_status"].String() != "FINALIZED" {
		t.Errorf("images = %v → %v", fin.Change.OldImage, fin.Change.NewImage)
	}
	if n, _ := fin.Change.NewImage["amount_due"].Int64(); n != 10000 {
		t.Errorf("amount_due = %v", fin.Change.NewImage["amount_due"])
	}
	ins := got[0]
	if ins.EventSource != "aws:dynamodb" || ins.EventSourceArn != env.StreamARN() || ins.EventID == "" || ins.EventVersion == "" || ins.AWSRegion == "" {
		t.Errorf("record = %+v", ins)
	}
	if ins.Change.StreamViewType != "NEW_AND_OLD_IMAGES" || ins.Change.SequenceNumber == "" || ins.Change.OldImage != nil || ins.Change.SizeBytes == 0 || ins.Change.ApproximateCreationDateTime.IsZero() {
		t.Errorf("stream record = %+v", ins.Change)
	}
	if ins.Change.Keys[schema.AttrPK].String() != "TENANT#t1#ENV#e1" {
		t.Errorf("keys = %v", ins.Change.Keys)
	}
	if !(seqLess(got[0].Change.SequenceNumber, got[1].Change.SequenceNumber) && seqLess(got[1].Change.SequenceNumber, got[2].Change.SequenceNumber)) {
		t.Errorf("sequence numbers out of order: %s %s %s", got[0].Change.SequenceNumber, got[1].Change.SequenceNumber, got[2].Change.SequenceNumber)
	}
}

// seqLess compares stream sequence numbers (decimal strings).
func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func TestPollStreamRetriesFromTheFailedSequenceNumber(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	for _, id := range []string{"R#1", "R#2", "R#3", "R#4"} {
		put(t, env, id, map[string]string{"entity": "row"})
	}
	var (
		mu        sync.Mutex
		processed []string
		seen      = map[string]int{}
		failed    []events.DynamoDBEventRecord
	)
	onFailure := func(ctx context.Context, recs []events.DynamoDBEventRecord) {
		mu.Lock()
		defer mu.Unlock()
		failed = append(failed, recs...)
	}
	pollStream(t, env, func(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range e.Records {
			id := sk(r)
			seen[id]++
			// R#3 fails once; POISON always. A handler stops at its first failure.
			if (id == "R#3" && seen[id] == 1) || id == "POISON" {
				return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: r.Change.SequenceNumber}}}, nil
			}
			processed = append(processed, id)
		}
		return events.DynamoDBEventResponse{}, nil
	}, StreamOptions{MaxRetries: 2, OnFailure: onFailure})

	state := func() ([]string, map[string]int, int) {
		mu.Lock()
		defer mu.Unlock()
		s := map[string]int{}
		for k, v := range seen {
			s[k] = v
		}
		return append([]string(nil), processed...), s, len(failed)
	}
	eventually(t, 20*time.Second, "R#1..R#4 processed", func() bool { p, _, _ := state(); return len(p) >= 4 })
	p, s, _ := state()
	if strings.Join(p, ",") != "R#1,R#2,R#3,R#4" || s["R#1"] != 1 || s["R#2"] != 1 || s["R#3"] != 2 {
		t.Fatalf("processed %v, seen %v: want each once in order, R#3 retried once and nothing before it redelivered", p, s)
	}

	// A record that always fails goes to OnFailure after 1 + MaxRetries
	// attempts, and the shard moves on.
	put(t, env, "POISON", map[string]string{"entity": "row"})
	eventually(t, 20*time.Second, "POISON given up", func() bool { _, _, f := state(); return f > 0 })
	put(t, env, "R#5", map[string]string{"entity": "row"})
	eventually(t, 20*time.Second, "R#5 processed after POISON", func() bool { p, _, _ := state(); return len(p) == 5 })
	p, s, _ = state()
	mu.Lock()
	defer mu.Unlock()
	if len(failed) != 1 || sk(failed[0]) != "POISON" || s["POISON"] != 3 || p[4] != "R#5" {
		t.Fatalf("OnFailure got %d records (%v), POISON seen %d times (want 3), processed %v", len(failed), failed, s["POISON"], p)
	}
}

func TestPollStreamLatestSkipsOldRecords(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	put(t, env, "OLD", map[string]string{"entity": "row"})
	var log streamLog
	pollStream(t, env, func(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		log.mu.Lock()
		defer log.mu.Unlock()
		log.records = append(log.records, e.Records...)
		return events.DynamoDBEventResponse{}, nil
	}, StreamOptions{StartingPosition: Latest})
	time.Sleep(1500 * time.Millisecond) // let the poller take its LATEST iterators
	put(t, env, "NEW", map[string]string{"entity": "row"})
	eventually(t, 20*time.Second, "NEW delivered", func() bool { return len(log.snapshot()) >= 1 })
	time.Sleep(500 * time.Millisecond)
	if got := log.snapshot(); len(got) != 1 || sk(got[0]) != "NEW" {
		t.Fatalf("delivered %d records, first %q; want only NEW", len(got), sk(got[0]))
	}
}

func TestPollStreamRejectsBadOptions(t *testing.T) {
	t.Parallel()
	h := func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return events.DynamoDBEventResponse{}, nil
	}
	if err := PollStream(context.Background(), nil, "arn", h, StreamOptions{Filters: []string{`{"a":"b"}`}}); err == nil {
		t.Error("a malformed filter: want an error")
	}
	if err := PollStream(context.Background(), nil, "arn", h, StreamOptions{StartingPosition: "AT_TIMESTAMP"}); err == nil {
		t.Error("an unknown starting position: want an error")
	}
}
