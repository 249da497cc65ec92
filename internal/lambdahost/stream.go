package lambdahost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// DynamoDBHandler is a function behind a DynamoDB stream event source
// mapping with ReportBatchItemFailures.
type DynamoDBHandler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// StreamsAPI is the part of the DynamoDB Streams client the poller uses.
type StreamsAPI interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// Starting positions.
const (
	TrimHorizon = "TRIM_HORIZON"
	Latest      = "LATEST"
)

// DefaultStreamMaxRetries is how often a failing batch is retried before it
// goes to OnFailure when StreamOptions.MaxRetries is 0.
const DefaultStreamMaxRetries = 3

// StreamOptions configure PollStream. Zero values mean the defaults.
type StreamOptions struct {
	// BatchSize is the most records read (and so delivered) at once,
	// 1–1000 (default 100).
	BatchSize int
	// StartingPosition is TrimHorizon (default) or Latest; it applies to
	// the shards open when polling starts. Shards that appear later are
	// always read from their start.
	StartingPosition string
	// Filters are Lambda filter patterns; a record reaches the handler only
	// if it matches at least one. None means every record.
	Filters []string
	// MaxRetries is how often a failed batch is retried (from the first
	// failed sequence number) before OnFailure gets it and the shard moves
	// on: 0 means DefaultStreamMaxRetries, a negative value no retries.
	MaxRetries int
	// OnFailure is the on-failure destination: it gets the records given up
	// on. Nil logs them at error level.
	OnFailure func(ctx context.Context, records []events.DynamoDBEventRecord)
	// FunctionTimeout is the handler's deadline (default 30 s).
	FunctionTimeout time.Duration
	FunctionName    string
	// PollInterval is the pause after an empty read (default 250 ms, as Lambda polls 4 times a second).
	PollInterval time.Duration
	// ShardRefresh is how often new shards are looked for (default 1 s).
	ShardRefresh time.Duration
	Logger       *slog.Logger
}

// PollStream delivers the stream's records to handler as events.DynamoDBEvent
// batches until ctx is cancelled, then returns nil once running batches end.
// It reads every shard in order, a child shard only after its parent is
// drained, drops records that match none of the filters before invoking (as
// Lambda event filtering does), and honours BatchItemFailures by
// SequenceNumber: the records before the first failure are done, the batch
// is retried from it, and after MaxRetries the rest of the batch goes to
// OnFailure and the shard moves on. An error (or an unknown itemIdentifier)
// fails the whole batch. Records within a shard are never reordered.
func PollStream(ctx context.Context, client StreamsAPI, streamARN string, handler DynamoDBHandler, opts StreamOptions) error {
	filters, err := CompileFilters(opts.Filters)
	if err != nil {
		return fmt.Errorf("lambdahost: %w", err)
	}
	pos := orDefault(opts.StartingPosition, TrimHorizon)
	if pos != TrimHorizon && pos != Latest {
		return fmt.Errorf("lambdahost: StartingPosition %q: want %s or %s", pos, TrimHorizon, Latest)
	}
	retries := opts.MaxRetries
	if retries == 0 {
		retries = DefaultStreamMaxRetries
	} else if retries < 0 {
		retries = 0
	}
	s := &streamPoller{
		client:    client,
		arn:       streamARN,
		handler:   handler,
		filters:   filters,
		batch:     min(max(orDefault(opts.BatchSize, 100), 1), 1000),
		retries:   retries,
		onFailure: opts.OnFailure,
		timeout:   orDefault(opts.FunctionTimeout, 30*time.Second),
		fn:        opts.FunctionName,
		interval:  orDefault(opts.PollInterval, 250*time.Millisecond),
		log:       loggerOr(opts.Logger).With("function", opts.FunctionName, "stream", streamARN),
	}
	return s.run(ctx, pos, orDefault(opts.ShardRefresh, time.Second))
}

type streamPoller struct {
	client    StreamsAPI
	arn       string
	handler   DynamoDBHandler
	filters   []*Filter
	batch     int
	retries   int
	onFailure func(context.Context, []events.DynamoDBEventRecord)
	timeout   time.Duration
	fn        string
	interval  time.Duration
	log       *slog.Logger
}

type shardState int

const (
	shardWaiting shardState = iota
	shardReading
	shardDone
)

type shardInfo struct {
	parent  string
	state   shardState
	initial bool // open when polling started
}

func (s *streamPoller) run(ctx context.Context, pos string, refresh time.Duration) error {
	var (
		mu     sync.Mutex
		shards = map[string]*shardInfo{}
		wg     sync.WaitGroup
		wake   = make(chan struct{}, 1)
	)
	defer wg.Wait()
	first := true
	for {
		list, err := s.describe(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if first {
				return fmt.Errorf("lambdahost: describe stream %s: %w", s.arn, err)
			}
			s.log.Warn("describe stream failed; retrying", "error", err)
		}
		mu.Lock()
		for _, sh := range list {
			id := aws.ToString(sh.ShardId)
			if _, ok := shards[id]; ok {
				continue
			}
			closed := sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil
			info := &shardInfo{parent: aws.ToString(sh.ParentShardId), initial: first}
			if first && pos == Latest && closed {
				info.state = shardDone // LATEST skips what was written before
			}
			shards[id] = info
		}
		if err == nil {
			first = false
		}
		for id, info := range shards {
			if info.state != shardWaiting {
				continue
			}
			if p, ok := shards[info.parent]; ok && p.state != shardDone {
				continue
			}
			info.state = shardReading
			start := TrimHorizon
			if info.initial && pos == Latest {
				start = Latest
			}
			wg.Add(1)
			go func(id, start string) {
				defer wg.Done()
				drained := s.consume(ctx, id, start)
				mu.Lock()
				if drained {
					shards[id].state = shardDone
				}
				mu.Unlock()
				select {
				case wake <- struct{}{}:
				default:
				}
			}(id, start)
		}
		mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-time.After(refresh):
		}
	}
}

func (s *streamPoller) describe(ctx context.Context) ([]types.Shard, error) {
	var shards []types.Shard
	var start *string
	for {
		out, err := s.client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(s.arn), ExclusiveStartShardId: start})
		if err != nil {
			return shards, err
		}
		if out.StreamDescription == nil {
			return shards, nil
		}
		shards = append(shards, out.StreamDescription.Shards...)
		start = out.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return shards, nil
		}
	}
}

func (s *streamPoller) iterator(ctx context.Context, shard, typ, seq string) (string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(s.arn), ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorType(typ)}
	if seq != "" {
		in.SequenceNumber = aws.String(seq)
	}
	out, err := s.client.GetShardIterator(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ShardIterator), nil
}

// consume reads one shard until it is closed and drained (true) or ctx ends (false).
func (s *streamPoller) consume(ctx context.Context, shard, start string) bool {
	log := s.log.With("shard", shard)
	lastSeq := ""
	// resume gets an iterator just after the last record read.
	resume := func() (string, error) {
		if lastSeq != "" {
			return s.iterator(ctx, shard, string(types.ShardIteratorTypeAfterSequenceNumber), lastSeq)
		}
		return s.iterator(ctx, shard, start, "")
	}
	backoff := 500 * time.Millisecond
	it := ""
	for ctx.Err() == nil {
		if it == "" {
			var err error
			if it, err = resume(); err != nil {
				var nf *types.ResourceNotFoundException
				if errors.As(err, &nf) {
					log.Warn("shard is gone", "error", err)
					return true
				}
				if ctx.Err() == nil {
					log.Warn("get shard iterator failed; retrying", "error", err)
				}
				it = ""
				if !sleepCtx(ctx, backoff) {
					return false
				}
				continue
			}
		}
		out, err := s.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(int32(s.batch))})
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			var expired *types.ExpiredIteratorException
			var trimmed *types.TrimmedDataAccessException
			switch {
			case errors.As(err, &expired):
				it = "" // get a fresh one after lastSeq
				continue
			case errors.As(err, &trimmed):
				log.Error("records were trimmed before they were read; continuing from the oldest available", "after", lastSeq, "error", err)
				lastSeq, start, it = "", TrimHorizon, ""
				continue
			}
			log.Warn("get records failed; retrying", "error", err)
			if !sleepCtx(ctx, backoff) {
				return false
			}
			continue
		}
		if len(out.Records) > 0 {
			var batch []events.DynamoDBEventRecord
			for _, r := range out.Records {
				rec := convertStreamRecord(r, s.arn)
				ok, err := MatchAny(s.filters, rec)
				if err != nil {
					log.Error("cannot apply the filters; delivering the record", "error", err)
					ok = true
				}
				if ok {
					batch = append(batch, rec)
				}
			}
			if len(batch) > 0 && !s.deliver(ctx, log, batch) {
				return false
			}
			lastSeq = aws.ToString(out.Records[len(out.Records)-1].Dynamodb.SequenceNumber)
		}
		if out.NextShardIterator == nil {
			return true // closed and drained
		}
		it = aws.ToString(out.NextShardIterator)
		if len(out.Records) == 0 && !sleepCtx(ctx, s.interval) {
			return false
		}
	}
	return false
}

// deliver invokes the handler until the batch is done or given up on; it
// returns false only if ctx ended first (the batch is then not done).
func (s *streamPoller) deliver(ctx context.Context, log *slog.Logger, batch []events.DynamoDBEventRecord) bool {
	for attempt := 1; ; attempt++ {
		ev := events.DynamoDBEvent{Records: batch}
		resp, reqID, err := invoke(ctx, log, s.fn, s.timeout, func(ctx context.Context) (events.DynamoDBEventResponse, error) {
			return s.handler(ctx, ev)
		})
		if err == nil && len(resp.BatchItemFailures) == 0 {
			return true
		}
		from := 0
		if err == nil {
			from = len(batch)
			index := make(map[string]int, len(batch))
			for i, r := range batch {
				index[r.Change.SequenceNumber] = i
			}
			for _, f := range resp.BatchItemFailures {
				i, ok := index[f.ItemIdentifier]
				if !ok || f.ItemIdentifier == "" {
					err = fmt.Errorf("batchItemFailures names %q, which is not a SequenceNumber of the batch", f.ItemIdentifier)
					from = 0
					break
				}
				from = min(from, i)
			}
		}
		batch = batch[from:]
		args := []any{"request_id", reqID, "attempt", attempt, "retry_from", batch[0].Change.SequenceNumber, "records", len(batch)}
		if err != nil {
			args = append(args, "error", err)
		} else {
			args = append(args, "batch_item_failures", len(resp.BatchItemFailures))
		}
		log.Warn("stream batch failed", args...)
		if attempt > s.retries {
			s.giveUp(ctx, log, batch)
			return true
		}
		if !sleepCtx(ctx, min(time.Duration(attempt)*200*time.Millisecond, 5*time.Second)) {
			return false
		}
	}
}

func (s *streamPoller) giveUp(ctx context.Context, log *slog.Logger, records []events.DynamoDBEventRecord) {
	if s.onFailure != nil {
		s.onFailure(context.WithoutCancel(ctx), records)
		return
	}
	for _, r := range records {
		log.Error("stream record given up after retries", "event_id", r.EventID, "event_name", r.EventName, "sequence_number", r.Change.SequenceNumber)
	}
}

// convertStreamRecord is r as Lambda puts it in a DynamoDB event.
func convertStreamRecord(r types.Record, streamARN string) events.DynamoDBEventRecord {
	out := events.DynamoDBEventRecord{
		AWSRegion:      orDefault(aws.ToString(r.AwsRegion), LocalRegion),
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    orDefault(aws.ToString(r.EventSource), "aws:dynamodb"),
		EventVersion:   orDefault(aws.ToString(r.EventVersion), "1.1"),
		EventSourceArn: streamARN,
	}
	if r.UserIdentity != nil {
		out.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(r.UserIdentity.Type), PrincipalID: aws.ToString(r.UserIdentity.PrincipalId)}
	}
	if d := r.Dynamodb; d != nil {
		out.Change = events.DynamoDBStreamRecord{
			Keys:           convertImage(d.Keys),
			NewImage:       convertImage(d.NewImage),
			OldImage:       convertImage(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		}
		if d.ApproximateCreationDateTime != nil {
			out.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
		}
	}
	return out
}

func convertImage(m map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = convertAttr(v)
	}
	return out
}

func convertAttr(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *types.AttributeValueMemberNULL:
		return events.NewNullAttribute()
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value)
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = convertAttr(e)
		}
		return events.NewListAttribute(l)
	case *types.AttributeValueMemberM:
		return events.NewMapAttribute(convertImage(v.Value))
	}
	return events.NewNullAttribute()
}
