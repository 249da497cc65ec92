package lambdahost

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// fakeStream is a stream with fixed shards, for lineage and iterator
// cases DynamoDB Local does not produce on demand.
type fakeStream struct {
	mu      sync.Mutex
	shards  []types.Shard
	records map[string][]types.Record // by shard
	closed  map[string]bool
	expire  map[string]int // shard → GetRecords calls to fail with ExpiredIterator after the first
	calls   map[string]int
}

func (f *fakeStream) DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: &types.StreamDescription{Shards: f.shards, StreamArn: in.StreamArn}}, nil
}

func (f *fakeStream) GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	shard := aws.ToString(in.ShardId)
	idx := 0
	switch in.ShardIteratorType {
	case types.ShardIteratorTypeLatest:
		idx = len(f.records[shard])
	case types.ShardIteratorTypeAfterSequenceNumber:
		for i, r := range f.records[shard] {
			if aws.ToString(r.Dynamodb.SequenceNumber) == aws.ToString(in.SequenceNumber) {
				idx = i + 1
			}
		}
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(shard + "|" + strconv.Itoa(idx))}, nil
}

func (f *fakeStream) GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	shard, pos, _ := strings.Cut(aws.ToString(in.ShardIterator), "|")
	idx, _ := strconv.Atoi(pos)
	f.calls[shard]++
	if f.calls[shard] > 1 && f.expire[shard] > 0 {
		f.expire[shard]--
		return nil, &types.ExpiredIteratorException{Message: aws.String("Iterator expired")}
	}
	recs := f.records[shard]
	end := min(idx+int(aws.ToInt32(in.Limit)), len(recs))
	out := &dynamodbstreams.GetRecordsOutput{Records: recs[idx:end]}
	if !(f.closed[shard] && end == len(recs)) {
		out.NextShardIterator = aws.String(shard + "|" + strconv.Itoa(end))
	}
	return out, nil
}

func fakeRecords(shard string, from, n int) []types.Record {
	var out []types.Record
	for i := from; i < from+n; i++ {
		out = append(out, types.Record{
			EventID: aws.String(fmt.Sprintf("%s-%d", shard, i)), EventName: types.OperationTypeInsert,
			Dynamodb: &types.StreamRecord{
				SequenceNumber: aws.String(fmt.Sprintf("%021d", i)),
				Keys:           map[string]types.AttributeValue{"SK": &types.AttributeValueMemberS{Value: fmt.Sprintf("%s-%d", shard, i)}},
				NewImage: map[string]types.AttributeValue{
					"SK": &types.AttributeValueMemberS{Value: fmt.Sprintf("%s-%d", shard, i)},
					"m":  &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "1"}, &types.AttributeValueMemberNULL{Value: true}}}}},
					"ss": &types.AttributeValueMemberSS{Value: []string{"a"}},
					"b":  &types.AttributeValueMemberBOOL{Value: true},
				},
				StreamViewType: types.StreamViewTypeNewAndOldImages,
			},
		})
	}
	return out
}

func TestPollStreamReadsAParentShardBeforeItsChildAndSurvivesExpiredIterators(t *testing.T) {
	t.Parallel()
	f := &fakeStream{
		// The child is listed first: order must come from lineage, not listing.
		shards: []types.Shard{
			{ShardId: aws.String("child"), ParentShardId: aws.String("parent")},
			{ShardId: aws.String("parent"), SequenceNumberRange: &types.SequenceNumberRange{EndingSequenceNumber: aws.String("x")}},
		},
		records: map[string][]types.Record{"parent": fakeRecords("parent", 0, 5), "child": fakeRecords("child", 5, 5)},
		closed:  map[string]bool{"parent": true},
		expire:  map[string]int{"child": 2},
		calls:   map[string]int{},
	}
	var mu sync.Mutex
	var got []string
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- PollStream(ctx, f, "arn:stream", func(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range e.Records {
				got = append(got, r.EventID)
				if !r.Change.NewImage["m"].Map()["l"].List()[1].IsNull() || r.Change.NewImage["ss"].StringSet()[0] != "a" || !r.Change.NewImage["b"].Boolean() {
					t.Errorf("attribute conversion: %+v", r.Change.NewImage)
				}
			}
			return events.DynamoDBEventResponse{}, nil
		}, StreamOptions{BatchSize: 2, PollInterval: 10 * time.Millisecond, ShardRefresh: 20 * time.Millisecond})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 10 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := "parent-0 parent-1 parent-2 parent-3 parent-4 child-5 child-6 child-7 child-8 child-9"
	if strings.Join(got, " ") != want {
		t.Fatalf("delivered %v\nwant      %s", got, want)
	}
}
