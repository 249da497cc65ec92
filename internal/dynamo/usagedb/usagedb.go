// Package usagedb stores metering records in Razorbill's table (internal/schema):
// meters, raw usage events and the per-(customer, meter, hour) buckets the
// usage-aggregator keeps.
//
// Keys (S = "S#<tenant>#<environment>", C = the event's customer key,
// "c:<cus_id>" or "x:<external id>", k = the event's shard 0..7):
//
//	S#MTR / <mtr_id>                          meter
//	S#EV#<event_id> / E                       usage event, written once (its id's
//	                                          guard, kept without TTL); its stream
//	                                          INSERT feeds the usage-aggregator
//	S#UE#C#<yyyy-mm-dd>#k / <ts>#<event_id>   the event on its customer's timeline
//	                                          (ttl): the aggregator's claim (the
//	                                          chunk counting it), and what
//	                                          GET /api/v1/events reads
//	S#UC#<chunk> / M                          a chunk's marker: applied (its
//	                                          events are counted) or aborted (ttl)
//	S#UB#C#<mtr_id>#<yyyy-mm>#k / <hour>      bucket: COUNT/SUM/MAX/LATEST state
//	                                          (k: the shard of the first event
//	                                          for C, meter and hour in the
//	                                          transaction that wrote it; a
//	                                          usage answer merges all 8)
//	S#UU#C#<mtr_id>#<yyyy-mm>#j / <hour>#<v>  UNIQUE_COUNT: value v seen that hour
//	                                          (j = a hash of v; written once per hour)
//
// The components before a fixed-width suffix (a date, a shard digit, a
// 26-character id) can hold any characters without two keys colliding.
//
// Exactly once: the event item is written only if absent (a repeated
// event_id is a duplicate, forever). The aggregator claims an event by
// writing its timeline item, only if absent, naming a chunk, and counts the
// chunk's claimed events in one transaction that writes the buckets they
// change (each conditional on the version read) and the chunk's marker,
// only if absent; a chunk that never committed is aborted (its marker
// written first) before its events are claimed again (Store.Apply). So a
// redelivered stream record changes nothing.
package usagedb

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/shopspring/decimal"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/usage"
)

// Entity names (the stream filter keys on EntityEvent).
const (
	EntityMeter    = "meter"
	EntityEvent    = "usage_event"
	EntityTimeline = "usage_line"
	EntityBucket   = "usage_bucket"
	EntityUnique   = "usage_unique"
	EntityChunk    = "usage_chunk"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(ctx context.Context, in *ddbjson.GetItemInput) (*ddbjson.GetItemOutput, error)
	PutItem(ctx context.Context, in *ddbjson.PutItemInput) (*ddbjson.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *ddbjson.UpdateItemInput) (*ddbjson.UpdateItemOutput, error)
	Query(ctx context.Context, in *ddbjson.QueryInput) (*ddbjson.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *ddbjson.BatchGetItemInput) (*ddbjson.BatchGetItemOutput, error)
	TransactWriteItems(ctx context.Context, in *ddbjson.TransactWriteItemsInput) (*ddbjson.TransactWriteItemsOutput, error)
}

// Store is the metering part of the table.
type Store struct {
	db        API
	table     string
	retention time.Duration
	// pause is the back-off between tries of a conflicting transaction.
	pause func(try int)
	known *knownUniques
	// orphanAfter is how old a chunk's claims must be before another
	// delivery may abort it when it has no marker (longer than the
	// aggregator runs).
	orphanAfter time.Duration
}

// DefaultOrphanAfter is twice the usage-aggregator's 60 s timeout: a chunk
// that old without a marker has no live owner left to commit it (aborting a
// live one is safe too, it only costs that owner a retry).
const DefaultOrphanAfter = 2 * time.Minute

// SetOrphanAfter sets how old a chunk's claims must be before another
// delivery may abort the chunk (DefaultOrphanAfter unless set).
func (s *Store) SetOrphanAfter(d time.Duration) { s.orphanAfter = d }

// New returns a store over the named table; retention is how long raw
// events stay on their customer's timeline (0: usage.DefaultRetention).
func New(db API, table string, retention time.Duration) *Store {
	if retention <= 0 {
		retention = usage.DefaultRetention
	}
	return &Store{db: db, table: table, retention: retention, known: &knownUniques{}, orphanAfter: DefaultOrphanAfter, pause: func(try int) {
		time.Sleep(time.Duration(try*try) * 5 * time.Millisecond)
	}}
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func keyAV(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{schema.AttrPK: str(pk), schema.AttrSK: str(sk)}
}

func meterPK(sc billing.Scope) string { return dynamo.ScopeKey(sc) + "#MTR" }

func eventPK(sc billing.Scope, id string) string { return dynamo.ScopeKey(sc) + "#EV#" + id }

func timelinePK(sc billing.Scope, cust string, day string, shard int) string {
	return dynamo.ScopeKey(sc) + "#UE#" + cust + "#" + day + "#" + strconv.Itoa(shard)
}

const tsLayout = "2006-01-02T15:04:05.000000000Z"

func timelineSK(e usage.Event) string { return e.Timestamp.UTC().Format(tsLayout) + "#" + e.ID }

// The shard is in the partition key: one customer's writes spread over
// usage.Shards partitions, not only over items of one partition.
func bucketPK(sc billing.Scope, cust, meter, month string, shard int) string {
	return dynamo.ScopeKey(sc) + "#UB#" + cust + "#" + meter + "#" + month + "#" + strconv.Itoa(shard)
}

func uniquePK(sc billing.Scope, cust, meter, month string, shard int) string {
	return dynamo.ScopeKey(sc) + "#UU#" + cust + "#" + meter + "#" + month + "#" + strconv.Itoa(shard)
}

// valueShard spreads UNIQUE_COUNT values over usage.Shards partitions.
func valueShard(v string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(v))
	return int(h.Sum32() % usage.Shards)
}

// ---- meters

type meterItem struct {
	usage.Meter
	TenantID      string `dynamodbav:"tenant_id"`
	EnvironmentID string `dynamodbav:"environment_id"`
}

// CreateMeter stores a new meter.
func (s *Store) CreateMeter(ctx context.Context, sc billing.Scope, m usage.Meter) error {
	it, err := attributevalue.MarshalMap(meterItem{Meter: m, TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID})
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode meter")
	}
	it[schema.AttrPK], it[schema.AttrSK], it[schema.AttrEntity] = str(meterPK(sc)), str(m.ID), str(EntityMeter)
	_, err = s.db.PutItem(ctx, &ddbjson.PutItemInput{TableName: &s.table, Item: it,
		ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": schema.AttrPK}})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return apperr.E(apperr.Conflict, "meter_exists", "meter %s already exists", m.ID)
	}
	return dynamo.StorageError(err, "create meter")
}

// Meters lists an environment's meters, oldest first, read consistently
// (ingestion and aggregation decide on them).
func (s *Store) Meters(ctx context.Context, sc billing.Scope) ([]usage.Meter, error) {
	var out []usage.Meter
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, &ddbjson.QueryInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
			KeyConditionExpression: aws.String("#pk = :pk"), ExpressionAttributeNames: map[string]string{"#pk": schema.AttrPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(meterPK(sc))}, ExclusiveStartKey: start})
		if err != nil {
			return nil, dynamo.StorageError(err, "list meters")
		}
		for _, it := range res.Items {
			var m usage.Meter
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				return nil, apperr.Wrap(err, apperr.Internal, "", "decode meter")
			}
			out = append(out, m)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

// Meter reads one meter.
func (s *Store) Meter(ctx context.Context, sc billing.Scope, id string) (usage.Meter, error) {
	var m usage.Meter
	res, err := s.db.GetItem(ctx, &ddbjson.GetItemInput{TableName: &s.table, Key: keyAV(meterPK(sc), id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return m, dynamo.StorageError(err, "read meter")
	}
	if len(res.Item) == 0 {
		return m, apperr.E(apperr.NotFound, "not_found", "no meter with id %q", id)
	}
	if err := attributevalue.UnmarshalMap(res.Item, &m); err != nil {
		return m, apperr.Wrap(err, apperr.Internal, "", "decode meter")
	}
	return m, nil
}

// ArchiveMeter marks an active meter archived at at: it counts no event
// accepted from then on. Archiving an archived meter changes nothing.
func (s *Store) ArchiveMeter(ctx context.Context, sc billing.Scope, id string, at time.Time) (usage.Meter, error) {
	res, err := s.db.UpdateItem(ctx, &ddbjson.UpdateItemInput{TableName: &s.table, Key: keyAV(meterPK(sc), id),
		UpdateExpression:         aws.String("SET #st = :arch, archived_at = :at"),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND #st = :active"),
		ExpressionAttributeNames: map[string]string{"#pk": schema.AttrPK, "#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":arch": str(usage.MeterArchived), ":active": str(usage.MeterActive),
			":at": str(at.UTC().Format(time.RFC3339Nano))},
		ReturnValues: types.ReturnValueAllNew})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return s.Meter(ctx, sc, id) // absent: 404; archived already: as it is
	}
	if err != nil {
		return usage.Meter{}, dynamo.StorageError(err, "archive meter")
	}
	var m usage.Meter
	if err := attributevalue.UnmarshalMap(res.Attributes, &m); err != nil {
		return m, apperr.Wrap(err, apperr.Internal, "", "decode meter")
	}
	return m, nil
}

// ---- events

type eventItem struct {
	usage.Event
	TenantID      string `dynamodbav:"tenant_id"`
	EnvironmentID string `dynamodbav:"environment_id"`
	TTL           int64  `dynamodbav:"ttl,omitempty"`
}

// PutEvent stores an accepted event once: duplicate is true (and nothing
// is written) when its event_id was stored before.
func (s *Store) PutEvent(ctx context.Context, sc billing.Scope, e usage.Event) (duplicate bool, err error) {
	it, err := attributevalue.MarshalMap(eventItem{Event: e, TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID})
	if err != nil {
		return false, apperr.Wrap(err, apperr.Internal, "", "encode event")
	}
	it[schema.AttrPK], it[schema.AttrSK], it[schema.AttrEntity] = str(eventPK(sc, e.ID)), str("E"), str(EntityEvent)
	_, err = s.db.PutItem(ctx, &ddbjson.PutItemInput{TableName: &s.table, Item: it,
		ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": schema.AttrPK}})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return true, nil
	}
	return false, dynamo.StorageError(err, "store event")
}

// DecodeEvent reads a usage-event item (a stream record's new image, or a
// stored item) back into its scope and event.
func DecodeEvent(it map[string]types.AttributeValue) (billing.Scope, usage.Event, error) {
	var v eventItem
	if err := attributevalue.UnmarshalMap(it, &v); err != nil {
		return billing.Scope{}, usage.Event{}, err
	}
	if v.TenantID == "" || v.EnvironmentID == "" || v.ID == "" {
		return billing.Scope{}, usage.Event{}, fmt.Errorf("usage event item without tenant, environment or id")
	}
	return billing.Scope{TenantID: v.TenantID, EnvironmentID: v.EnvironmentID}, v.Event, nil
}

// Event reads a stored event by id.
func (s *Store) Event(ctx context.Context, sc billing.Scope, id string) (usage.Event, bool, error) {
	res, err := s.db.GetItem(ctx, &ddbjson.GetItemInput{TableName: &s.table, Key: keyAV(eventPK(sc, id), "E")})
	if err != nil {
		return usage.Event{}, false, dynamo.StorageError(err, "read event")
	}
	if len(res.Item) == 0 {
		return usage.Event{}, false, nil
	}
	_, e, err := DecodeEvent(res.Item)
	if err != nil {
		return e, false, apperr.Wrap(err, apperr.Internal, "", "decode event")
	}
	return e, true, nil
}

// ListEvents pages through the events the aggregator took up (claimed;
// counted once their chunk commits, Counted) of the given customer keys
// with a timestamp in [start, end), newest first. after is the timeline
// position to continue below (an event's timestamp#id, "" for the first page).
func (s *Store) ListEvents(ctx context.Context, sc billing.Scope, custs []string, start, end time.Time, limit int, after string) ([]usage.Event, bool, error) {
	hi := end.UTC().Format(tsLayout) // exclusive
	if after != "" && after < hi {
		hi = after
	}
	lo := start.UTC().Format(tsLayout)
	var out []usage.Event
	for _, day := range usage.Days(start, end) {
		for _, cust := range custs {
			for k := 0; k < usage.Shards; k++ {
				evs, err := s.queryTimeline(ctx, timelinePK(sc, cust, day, k), lo, hi, limit+1)
				if err != nil {
					return nil, false, err
				}
				out = append(out, evs...)
			}
		}
		if len(out) > limit {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return timelineSK(out[i]) > timelineSK(out[j]) })
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// Cursor is the timeline position of e, for ListEvents' after.
func Cursor(e usage.Event) string { return timelineSK(e) }

func (s *Store) queryTimeline(ctx context.Context, pk, lo, hi string, limit int) ([]usage.Event, error) {
	res, err := s.db.Query(ctx, &ddbjson.QueryInput{TableName: &s.table,
		KeyConditionExpression:    aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames:  map[string]string{"#pk": schema.AttrPK, "#sk": schema.AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":lo": str(lo), ":hi": str(hi)},
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(limit + 1))})
	if err != nil {
		return nil, dynamo.StorageError(err, "list events")
	}
	var out []usage.Event
	for _, it := range res.Items {
		if sk, ok := it[schema.AttrSK].(*types.AttributeValueMemberS); ok && sk.Value >= hi {
			continue // BETWEEN is inclusive; hi is exclusive here
		}
		_, e, err := DecodeEvent(it)
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Internal, "", "decode event")
		}
		out = append(out, e)
	}
	return out, nil
}

// ---- buckets

// BucketKey names one bucket.
type BucketKey struct {
	Cust, Meter string
	Hour        time.Time
	Shard       int
}

func (k BucketKey) av(sc billing.Scope) map[string]types.AttributeValue {
	return keyAV(bucketPK(sc, k.Cust, k.Meter, k.Hour.Format("2006-01"), k.Shard), usage.HourKey(k.Hour))
}

type bucketItem struct {
	N         int64  `dynamodbav:"n"`
	Value     string `dynamodbav:"v,omitempty"`
	LatestKey string `dynamodbav:"lk,omitempty"`
	Version   int64  `dynamodbav:"ver"`
}

func (b bucketItem) bucket() (usage.Bucket, error) {
	out := usage.Bucket{N: b.N, LatestKey: b.LatestKey}
	if b.Value != "" {
		v, err := decimal.NewFromString(b.Value)
		if err != nil {
			return out, err
		}
		out.Value, out.HasValue = v, true
	}
	return out, nil
}

// HourUsage is one hour's merged bucket for a meter.
type HourUsage map[time.Time]usage.Bucket

// Usage reads meter m's buckets for the customer keys over the whole hours
// in [start, end), merged per hour (all shards, all keys).
func (s *Store) Usage(ctx context.Context, sc billing.Scope, m usage.Meter, custs []string, start, end time.Time) (HourUsage, error) {
	out := HourUsage{}
	lo, hi := usage.HourKey(start), usage.HourKey(end.Add(-time.Hour))+"#~"
	var pks []string
	for _, cust := range custs {
		for _, month := range usage.Months(start, end) {
			for k := 0; k < usage.Shards; k++ {
				pk := bucketPK(sc, cust, m.ID, month, k)
				if m.Aggregation == usage.UniqueCount {
					pk = uniquePK(sc, cust, m.ID, month, k)
				}
				pks = append(pks, pk)
			}
		}
	}
	// The partitions are read concurrently (a few at a time); merging is
	// order-free (usage.Merge is commutative), under one lock.
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(pks))
	sem := make(chan struct{}, usageReadConcurrency)
	for i, pk := range pks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = s.queryAll(ctx, pk, lo, hi, func(sk string, it map[string]types.AttributeValue) error {
				hourText, rest, _ := strings.Cut(sk, "#")
				hour, err := usage.ParseHourKey(hourText)
				if err != nil {
					return err
				}
				var b usage.Bucket
				if m.Aggregation == usage.UniqueCount {
					b = usage.Bucket{N: 1, Uniques: map[string]struct{}{rest: {}}}
				} else {
					var bi bucketItem
					if err := attributevalue.UnmarshalMap(it, &bi); err != nil {
						return err
					}
					if b, err = bi.bucket(); err != nil {
						return err
					}
				}
				mu.Lock()
				out[hour] = usage.Merge(m.Aggregation, out[hour], b)
				mu.Unlock()
				return nil
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// usageReadConcurrency is how many bucket partitions one usage answer
// reads at once.
const usageReadConcurrency = 8

func (s *Store) queryAll(ctx context.Context, pk, lo, hi string, each func(sk string, it map[string]types.AttributeValue) error) error {
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, &ddbjson.QueryInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
			ExpressionAttributeNames:  map[string]string{"#pk": schema.AttrPK, "#sk": schema.AttrSK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":lo": str(lo), ":hi": str(hi)},
			ExclusiveStartKey:         start})
		if err != nil {
			return dynamo.StorageError(err, "read usage")
		}
		for _, it := range res.Items {
			sk, _ := it[schema.AttrSK].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			if err := each(sk.Value, it); err != nil {
				return apperr.Wrap(err, apperr.Internal, "", "decode usage")
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return nil
		}
		start = res.LastEvaluatedKey
	}
}
