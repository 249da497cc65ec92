package usagedb

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/ttlmap"
	"github.com/razorbill/razorbill/internal/usage"
)

// maxTxItems is DynamoDB's limit of items in one transaction.
const maxTxItems = 100

// maxTries bounds the tries of one chunk whose buckets other writers keep
// changing; the caller then reports the records failed and they come back.
const maxTries = 12

// Applied says what Apply did with a batch.
type Applied struct {
	Counted    int // events newly counted (timeline item written)
	Duplicates int // events already counted before (a redelivery)
}

type contribution struct {
	meter usage.Meter
	key   BucketKey // its Shard is chosen per transaction (Apply)
	item  string    // what it writes: the bucket (any shard), or UNIQUE_COUNT's value item
	// UNIQUE_COUNT's value item key
	upk, usk string
}

// Apply counts each event once: for every event it writes the timeline
// item (only if absent) and folds the event into the buckets of every
// meter that counts it, in transactions of at most 100 items whose bucket
// writes are conditional on the version read. An event whose timeline
// item exists was counted before and changes nothing. meters are the
// environment's meters (usage.Meter.Counts decides per event).
//
// The batch's events are ordered by customer and hour (stably, after
// repeats are dropped), so a customer's events share transactions, and
// one transaction writes one bucket per customer, meter and hour: in the
// shard of that bucket's first event in the transaction. Any shard is
// right (a usage answer merges all of them, and every fold is order-free:
// COUNT and SUM add, MAX and LATEST keep the greatest value or key,
// usage.Fold); the timeline item, not the bucket, says an event was
// counted. A busy customer's transactions so write each bucket shard in
// about one transaction in usage.Shards, instead of every shard in every
// transaction.
func (s *Store) Apply(ctx context.Context, sc billing.Scope, meters []usage.Meter, evs []usage.Event) (Applied, error) {
	var total Applied
	evs = byCustomerAndHour(distinct(evs))
	contrib := make([][]contribution, len(evs))
	for i, e := range evs {
		for _, m := range meters {
			if m.Counts(e) {
				c := contribution{meter: m, key: BucketKey{Cust: e.CustomerKey(), Meter: m.ID, Hour: e.Hour()}}
				c.item = fmt.Sprintf("%s\x00%s\x00%s", c.key.Cust, c.key.Meter, usage.HourKey(c.key.Hour))
				if m.Aggregation == usage.UniqueCount {
					v := e.Properties[m.Property]
					c.upk, c.usk = uniquePK(sc, c.key.Cust, m.ID, c.key.Hour.Format("2006-01"), valueShard(v)), usage.HourKey(c.key.Hour)+"#"+v
					c.item = c.upk + "\x00" + c.usk
				}
				contrib[i] = append(contrib[i], c)
			}
		}
	}
	// A redelivered batch is rare: the timeline items are looked for only
	// once a transaction was cancelled (applyChunk).
	var check bool
	for start := 0; start < len(evs); {
		end, items := start, 0
		written := map[string]bool{}
		for end < len(evs) {
			add := 1
			for _, c := range contrib[end] {
				if !written[c.item] {
					add++
					written[c.item] = true // a later event sharing it adds nothing
				}
			}
			if items+add > maxTxItems && end > start {
				break
			}
			items += add
			end++
		}
		shard := map[string]int{}
		for i := start; i < end; i++ {
			for j := range contrib[i] {
				c := &contrib[i][j]
				if c.upk != "" {
					continue
				}
				k, ok := shard[c.item]
				if !ok {
					k = evs[i].Shard()
					shard[c.item] = k
				}
				c.key.Shard = k
			}
		}
		a, err := s.applyChunk(ctx, sc, evs[start:end], contrib[start:end], &check)
		total.Counted += a.Counted
		total.Duplicates += a.Duplicates
		if err != nil {
			return total, err
		}
		start = end
	}
	return total, nil
}

// byCustomerAndHour orders evs by customer key, then hour, keeping the
// order of events that share both.
func byCustomerAndHour(evs []usage.Event) []usage.Event {
	type keyed struct {
		cust string
		hour time.Time
		e    usage.Event
	}
	ks := make([]keyed, len(evs))
	for i, e := range evs {
		ks[i] = keyed{e.CustomerKey(), e.Hour(), e}
	}
	sort.SliceStable(ks, func(i, j int) bool {
		if ks[i].cust != ks[j].cust {
			return ks[i].cust < ks[j].cust
		}
		return ks[i].hour.Before(ks[j].hour)
	})
	out := make([]usage.Event, len(ks))
	for i, k := range ks {
		out[i] = k.e
	}
	return out
}

// applyChunk writes one transaction's events. The transaction's condition
// on each timeline item decides whether an event was counted before; once
// *check is set (a transaction of this batch was cancelled: a redelivery,
// or other writers on the buckets), the events' timeline items are first
// looked for with one consistent batch read, so that further counted
// events are left out instead of cancelling another transaction.
//
// Why not read first always: a strongly consistent read of an item up to
// 4 KB takes 1 RRU, and BatchGetItem reads each key as a GetItem
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html),
// so reading first costs 1 RRU per event, $0.125 per million at on-demand
// prices, on every batch. DynamoDB does two underlying writes of every
// transaction item, one to prepare and one to commit
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling);
// the page does not say what a cancelled transaction is charged, so take
// the whole 2 WRU per item: at most 200 WRU ($0.000125) for a cancelled
// transaction of 100 items, once per redelivered batch, against 500 RRU
// ($0.0000625) that reading first costs a batch of 500. Reading only after
// a cancellation is cheaper while fewer than one batch in three is
// delivered again.
func (s *Store) applyChunk(ctx context.Context, sc billing.Scope, evs []usage.Event, contrib [][]contribution, check *bool) (Applied, error) {
	var res Applied
	done := make([]bool, len(evs)) // counted before: left out
	checked := false
	for try := 0; ; try++ {
		if try >= maxTries {
			return res, apperr.E(apperr.Transient, "usage_contention", "buckets kept changing under %d tries; the records will be retried", maxTries)
		}
		if try > 0 {
			s.pause(try)
		}
		if *check && !checked {
			seen, err := s.counted(ctx, sc, evs)
			if err != nil {
				return res, err
			}
			for i := range evs {
				if seen[i] && !done[i] {
					done[i] = true
					res.Duplicates++
				}
			}
			checked = true
		}
		// The buckets this chunk changes, read consistently.
		meterOf := map[BucketKey]usage.Meter{}
		var keys []BucketKey
		for i := range evs {
			if done[i] {
				continue
			}
			for _, c := range contrib[i] {
				if _, ok := meterOf[c.key]; !ok && c.meter.Aggregation != usage.UniqueCount {
					meterOf[c.key] = c.meter
					keys = append(keys, c.key)
				}
			}
		}
		stored, versions, err := s.readBuckets(ctx, sc, keys)
		if err != nil {
			return res, err
		}
		// UNIQUE_COUNT values already seen that hour are not written again
		// (those this store knows of are not read either).
		var ukeys []map[string]types.AttributeValue
		asked := map[string]bool{}
		seenU := map[string]bool{}
		for i := range evs {
			for _, c := range contrib[i] {
				if !done[i] && c.upk != "" && !asked[c.item] {
					asked[c.item] = true
					if s.known.has(c.item) {
						seenU[c.item] = true
						continue
					}
					ukeys = append(ukeys, keyAV(c.upk, c.usk))
				}
			}
		}
		if err := s.batchGet(ctx, ukeys, aws.String("#pk, #sk"), func(pk, sk string, _ map[string]types.AttributeValue) error {
			seenU[pk+"\x00"+sk] = true
			s.known.add(pk + "\x00" + sk)
			return nil
		}); err != nil {
			return res, err
		}
		next := map[BucketKey]usage.Bucket{}
		for k, b := range stored {
			next[k] = b
		}
		var tx []types.TransactWriteItem
		var txEvent []int // the event index of each timeline item, -1 for others
		uniques := map[string]bool{}
		for i, e := range evs {
			if done[i] {
				continue
			}
			it, err := s.timelineItem(sc, e)
			if err != nil {
				return res, err
			}
			tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it,
				ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": schema.AttrPK}}})
			txEvent = append(txEvent, i)
			for _, c := range contrib[i] {
				if c.meter.Aggregation == usage.UniqueCount {
					if uniques[c.item] || seenU[c.item] {
						continue
					}
					uniques[c.item] = true
					u := keyAV(c.upk, c.usk)
					u[schema.AttrEntity] = str(EntityUnique)
					tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: u}})
					txEvent = append(txEvent, -1)
					continue
				}
				b := next[c.key]
				if err := usage.Fold(c.meter, &b, e); err != nil {
					return res, apperr.Wrap(err, apperr.Internal, "", "fold event")
				}
				next[c.key] = b
			}
		}
		for _, k := range keys {
			b := next[k]
			bi := bucketItem{N: b.N, LatestKey: b.LatestKey, Version: versions[k] + 1}
			if b.HasValue {
				bi.Value = b.Value.String()
			}
			it, err := attributevalue.MarshalMap(bi)
			if err != nil {
				return res, apperr.Wrap(err, apperr.Internal, "", "encode bucket")
			}
			for name, v := range k.av(sc) {
				it[name] = v
			}
			it[schema.AttrEntity] = str(EntityBucket)
			put := &types.Put{TableName: &s.table, Item: it}
			if versions[k] == 0 {
				put.ConditionExpression = aws.String("attribute_not_exists(#pk)")
				put.ExpressionAttributeNames = map[string]string{"#pk": schema.AttrPK}
			} else {
				put.ConditionExpression = aws.String("ver = :ver")
				put.ExpressionAttributeValues = map[string]types.AttributeValue{":ver": &types.AttributeValueMemberN{Value: strconv.FormatInt(versions[k], 10)}}
			}
			tx = append(tx, types.TransactWriteItem{Put: put})
			txEvent = append(txEvent, -1)
		}
		if len(tx) == 0 {
			return res, nil
		}
		_, err = s.db.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{TransactItems: tx})
		if err == nil {
			for _, i := range txEvent {
				if i >= 0 {
					res.Counted++
				}
			}
			for item := range uniques {
				s.known.add(item)
			}
			return res, nil
		}
		var tc *types.TransactionCanceledException
		if !errors.As(err, &tc) {
			return res, dynamo.StorageError(err, "count usage")
		}
		*check = true
		for j, r := range tc.CancellationReasons {
			if j < len(txEvent) && txEvent[j] >= 0 && aws.ToString(r.Code) == "ConditionalCheckFailed" {
				done[txEvent[j]] = true // counted by an earlier delivery
				res.Duplicates++
			}
		}
		// Bucket versions that moved, or a conflicting transaction: read and try again.
	}
}

func (s *Store) timelineItem(sc billing.Scope, e usage.Event) (map[string]types.AttributeValue, error) {
	it, err := attributevalue.MarshalMap(eventItem{Event: e, TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID,
		TTL: e.Timestamp.Add(s.retention).Unix()})
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "", "encode event")
	}
	it[schema.AttrPK] = str(timelinePK(sc, e.CustomerKey(), e.Timestamp.UTC().Format("2006-01-02"), e.Shard()))
	it[schema.AttrSK] = str(timelineSK(e))
	it[schema.AttrEntity] = str(EntityTimeline)
	return it, nil
}

// Counted reports, by index, which of evs the aggregator has counted: their
// timeline items exist (written in the transaction that changed their
// buckets, so a usage query already reflects them). A consistent batch read;
// evs need ID, Timestamp and the customer as accepted.
func (s *Store) Counted(ctx context.Context, sc billing.Scope, evs []usage.Event) (map[int]bool, error) {
	return s.counted(ctx, sc, evs)
}

// counted reports which events already have their timeline item.
func (s *Store) counted(ctx context.Context, sc billing.Scope, evs []usage.Event) (map[int]bool, error) {
	keys := make([]map[string]types.AttributeValue, len(evs))
	index := map[string]int{}
	for i, e := range evs {
		pk := timelinePK(sc, e.CustomerKey(), e.Timestamp.UTC().Format("2006-01-02"), e.Shard())
		keys[i] = keyAV(pk, timelineSK(e))
		index[pk+"\x00"+timelineSK(e)] = i
	}
	out := map[int]bool{}
	err := s.batchGet(ctx, keys, aws.String("#pk, #sk"), func(pk, sk string, _ map[string]types.AttributeValue) error {
		if i, ok := index[pk+"\x00"+sk]; ok {
			out[i] = true
		}
		return nil
	})
	return out, err
}

// readBuckets reads keys consistently (BatchGetItem, 100 at a time).
func (s *Store) readBuckets(ctx context.Context, sc billing.Scope, keys []BucketKey) (map[BucketKey]usage.Bucket, map[BucketKey]int64, error) {
	out, vers := map[BucketKey]usage.Bucket{}, map[BucketKey]int64{}
	byKey := map[string]BucketKey{}
	req := make([]map[string]types.AttributeValue, 0, len(keys))
	for _, k := range keys {
		av := k.av(sc)
		byKey[av[schema.AttrPK].(*types.AttributeValueMemberS).Value+"\x00"+av[schema.AttrSK].(*types.AttributeValueMemberS).Value] = k
		req = append(req, av)
	}
	err := s.batchGet(ctx, req, nil, func(pk, sk string, it map[string]types.AttributeValue) error {
		k, ok := byKey[pk+"\x00"+sk]
		if !ok {
			return nil
		}
		var bi bucketItem
		if err := attributevalue.UnmarshalMap(it, &bi); err != nil {
			return apperr.Wrap(err, apperr.Internal, "", "decode bucket")
		}
		b, err := bi.bucket()
		if err != nil {
			return apperr.Wrap(err, apperr.Internal, "", "decode bucket")
		}
		out[k], vers[k] = b, bi.Version
		return nil
	})
	return out, vers, err
}

// batchGet reads keys consistently, 100 at a time, until none is left
// unprocessed, and calls each with every item found.
func (s *Store) batchGet(ctx context.Context, req []map[string]types.AttributeValue, projection *string, each func(pk, sk string, it map[string]types.AttributeValue) error) error {
	for len(req) > 0 {
		n := min(len(req), 100)
		pending := req[:n]
		req = req[n:]
		for try := 0; len(pending) > 0; try++ {
			if try > 0 {
				s.pause(try)
			}
			if try > 20 {
				return apperr.E(apperr.Transient, "storage_unavailable", "storage kept leaving reads unprocessed; retry")
			}
			ka := types.KeysAndAttributes{Keys: pending, ConsistentRead: aws.Bool(true)}
			if projection != nil {
				ka.ProjectionExpression = projection
				ka.ExpressionAttributeNames = map[string]string{"#pk": schema.AttrPK, "#sk": schema.AttrSK}
			}
			res, err := s.db.BatchGetItem(ctx, &ddbjson.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{s.table: ka}})
			if err != nil {
				return dynamo.StorageError(err, "batch read")
			}
			for _, it := range res.Responses[s.table] {
				pk, _ := it[schema.AttrPK].(*types.AttributeValueMemberS)
				sk, _ := it[schema.AttrSK].(*types.AttributeValueMemberS)
				if pk == nil || sk == nil {
					continue
				}
				if err := each(pk.Value, sk.Value, it); err != nil {
					return err
				}
			}
			pending = res.UnprocessedKeys[s.table].Keys
		}
	}
	return nil
}

// distinct drops repeats of an event id within one batch (one transaction
// may not write an item twice).
func distinct(evs []usage.Event) []usage.Event {
	seen := make(map[string]bool, len(evs))
	out := evs[:0:0]
	for _, e := range evs {
		if !seen[e.ID] {
			seen[e.ID] = true
			out = append(out, e)
		}
	}
	return out
}

// knownUniques remembers UNIQUE_COUNT value items a store knows exist: a
// transaction of its own wrote them, or its read found them. Such an item
// is never deleted, so one remembered is neither read nor written again;
// one not remembered is read as before. Bounded: a ttlmap whose entries
// never expire, so when full it starts over.
type knownUniques struct{ m ttlmap.Map[string, struct{}] }

// maxKnownUniques bounds the items remembered (a few MB of keys).
const maxKnownUniques = 1 << 16

// rememberedUntil is every entry's expiry, and the zero time the "now" it
// is compared with: a remembered item does not expire.
var rememberedUntil = time.Unix(1<<40, 0)

func (k *knownUniques) has(item string) bool {
	_, ok := k.m.Get(item, time.Time{})
	return ok
}

func (k *knownUniques) add(item string) {
	k.m.Put(item, struct{}{}, rememberedUntil, time.Time{}, maxKnownUniques)
}
