package usagedb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
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
	Counted    int // events newly counted (their chunk committed)
	Duplicates int // events already counted before (a redelivery)
}

type contribution struct {
	meter usage.Meter
	key   BucketKey // its Shard is chosen per transaction (Apply)
	item  string    // what it writes: the bucket (any shard), or UNIQUE_COUNT's value item
	// UNIQUE_COUNT's value item key
	upk, usk string
}

// maxChunkEvents bounds the events one chunk claims.
const maxChunkEvents = 500

// ClaimWorkers is how many claims of one chunk are written at once.
const ClaimWorkers = 8

// Apply counts each event once, in chunks. For a chunk it claims every
// event: it writes the event's timeline item, only if absent, naming the
// chunk (a plain conditional PutItem). Then one transaction folds the
// claimed events into the buckets of every meter that counts them (each
// bucket write conditional on the version read), writes UNIQUE_COUNT's new
// value items, and writes the chunk's marker, only if absent, as applied.
// An event counts once its claiming chunk's marker says applied.
//
// An event whose timeline item exists was claimed before: by a chunk whose
// marker says applied (a duplicate: nothing changes), or by one whose
// marker says aborted, or by one with no marker. A chunk without a marker
// whose claims are older than the store's orphan age is aborted (its
// marker written as aborted, only if absent: the owner's transaction and
// the abort write the same item, so exactly one of them wins), and its
// events are claimed again by a new chunk (conditional on the old claim).
// A younger one may still be committing: those events are looked at
// again after short pauses (about 3 s in all), then left for the stream's
// next delivery (a transient error). So each event costs one plain write
// (1 WRU up to 1 KB), not a transactional one (2 WRU per KB); the
// transaction holds only the buckets, the value items and one marker.
//
// The batch's events are ordered by customer and hour (stably, after
// repeats are dropped), so a customer's events share chunks, and one
// transaction writes one bucket per customer, meter and hour: in the shard
// of that bucket's first event in the chunk. Any shard is right (a usage
// answer merges all of them, and every fold is order-free: COUNT and SUM
// add, MAX and LATEST keep the greatest value or key, usage.Fold); the
// marker, not the bucket, says an event was counted. A busy customer's
// chunks so write each bucket shard in about one transaction in
// usage.Shards, instead of every shard in every transaction.
// meters are the environment's meters (usage.Meter.Counts decides per event).
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
	// A redelivered batch is rare: the timeline items are read before they
	// are claimed only once a claim of this batch failed (claim).
	var check bool
	var inFlight error
	for start := 0; start < len(evs); {
		// The transaction holds the chunk's marker and its distinct buckets
		// and value items: at most maxTxItems-1 of those.
		end, items := start, 0
		written := map[string]bool{}
		for end < len(evs) && end-start < maxChunkEvents {
			add := 0
			for _, c := range contrib[end] {
				if !written[c.item] {
					add++
					written[c.item] = true // a later event sharing it adds nothing
				}
			}
			if items+add > maxTxItems-1 && end > start {
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
		if errors.Is(err, errInFlight) {
			inFlight = err // the other chunks go on
		} else if err != nil {
			return total, err
		}
		start = end
	}
	return total, inFlight
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

// errInFlight: some events are claimed by a chunk that may still commit.
var errInFlight = errors.New("claimed by a chunk that may still commit")

// Events' states within applyChunk.
const (
	pending = iota // to claim (again)
	mine           // claimed by the current chunk
	settled        // counted: by this call (Counted) or before (Duplicates)
	waiting        // claimed by a chunk younger than the orphan age, without a marker
)

// applyChunk claims and counts one chunk's events (see Apply). It tries
// again, with a new chunk, when another delivery aborted its chunk before
// it committed.
func (s *Store) applyChunk(ctx context.Context, sc billing.Scope, evs []usage.Event, contrib [][]contribution, check *bool) (Applied, error) {
	var res Applied
	state := make([]int, len(evs))
	for round := 0; ; round++ {
		todo := inState(state, pending)
		if len(todo) == 0 {
			// Events claimed by a chunk that may still commit are looked at
			// again after the pause (their owner usually commits within
			// milliseconds); once the tries are spent they are left for the
			// stream's next delivery.
			todo = inState(state, waiting)
			if len(todo) == 0 || round >= maxTries {
				break
			}
			for _, i := range todo {
				state[i] = pending
			}
		}
		if round >= maxTries {
			return res, apperr.E(apperr.Transient, "usage_contention", "usage chunks kept being aborted under %d tries; the records will be retried", maxTries)
		}
		if round > 0 {
			s.pause(round)
		}
		chunk, err := newChunkID()
		if err != nil {
			return res, err
		}
		at := time.Now()
		claimedBy, err := s.claim(ctx, sc, evs, todo, chunk, at, check)
		if err != nil {
			s.abandon(ctx, sc, chunk)
			return res, err
		}
		for i, c := range claimedBy {
			if c.chunk == chunk {
				state[i] = mine
			}
		}
		if err := s.resolve(ctx, sc, evs, claimedBy, chunk, at, state, &res); err != nil {
			s.abandon(ctx, sc, chunk)
			return res, err
		}
		own := inState(state, mine)
		if len(own) == 0 {
			continue
		}
		committed, err := s.commit(ctx, sc, evs, contrib, own, chunk, at)
		if err != nil {
			s.abandon(ctx, sc, chunk)
			return res, err
		}
		for _, i := range own {
			if committed {
				state[i] = settled
			} else {
				state[i] = pending // the chunk was aborted: claimed by its aborter, or to claim again
			}
		}
		if committed {
			res.Counted += len(own)
		}
	}
	for i := range evs {
		if state[i] == waiting {
			return res, apperr.Wrap(errInFlight, apperr.Transient, "usage_in_flight",
				"some usage events are claimed by a chunk that may still commit; the records will be retried")
		}
	}
	return res, nil
}

// abandon marks chunk aborted, if it has no marker, when this delivery
// fails after claiming: the next delivery (Lambda never hands one record
// to two at once) then claims its events at once instead of waiting for
// the orphan age. Best effort, on a context the caller's deadline does not
// end: a chunk left without a marker is still aborted once old. When the
// chunk's transaction committed after all (its answer was lost), the
// marker exists and this changes nothing.
func (s *Store) abandon(ctx context.Context, sc billing.Scope, chunk string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abandonTimeout)
	defer cancel()
	_, _ = s.putMarker(ctx, sc, chunk, chunkAborted, s.abortedTTL())
}

// abandonTimeout bounds abandon's write.
const abandonTimeout = 2 * time.Second

// inState lists the events (indexes) in state want.
func inState(state []int, want int) []int {
	var out []int
	for i, st := range state {
		if st == want {
			out = append(out, i)
		}
	}
	return out
}

// claimInfo is who claimed an event's timeline item, and when.
type claimInfo struct {
	chunk string // "" for an item written before chunks: counted
	at    int64  // unix milliseconds
}

// young reports whether a claim made at claimedAt (unix milliseconds) is,
// at now, younger than the orphan age: its chunk may still commit.
func (s *Store) young(now time.Time, claimedAt int64) bool {
	return now.Sub(time.UnixMilli(claimedAt)) < s.orphanAfter
}

// chunkIDs lists the distinct chunks that made claims, leaving out items
// written before chunks.
func chunkIDs(claims map[int]claimInfo) []string {
	var ids []string
	seen := map[string]bool{}
	for _, c := range claims {
		if c.chunk != "" && !seen[c.chunk] {
			seen[c.chunk] = true
			ids = append(ids, c.chunk)
		}
	}
	return ids
}

// claim writes the timeline items of evs[todo] naming chunk, each only if
// absent, and returns the claim every one of them holds now (chunk for those
// written). Once *check is set (a claim of this batch failed: a
// redelivery), the items are first read with one consistent batch read, so
// that counted events cost a read unit instead of a failed write.
func (s *Store) claim(ctx context.Context, sc billing.Scope, evs []usage.Event, todo []int, chunk string, at time.Time, check *bool) (map[int]claimInfo, error) {
	out := map[int]claimInfo{}
	if *check {
		found, err := s.claims(ctx, sc, evs, todo)
		if err != nil {
			return nil, err
		}
		rest := todo[:0:0]
		for _, i := range todo {
			if c, ok := found[i]; ok {
				out[i] = c
			} else {
				rest = append(rest, i)
			}
		}
		todo = rest
	}
	if !*check && len(todo) > 1 {
		// The first claim alone: when it fails, the batch is most likely
		// a redelivery, and the rest is read first instead.
		c, err := s.claimOne(ctx, sc, evs[todo[0]], chunk, at, "")
		if err != nil {
			return nil, err
		}
		out[todo[0]] = c
		if c.chunk != chunk {
			*check = true
			rest, err := s.claim(ctx, sc, evs, todo[1:], chunk, at, check)
			for i, c := range rest {
				out[i] = c
			}
			return out, err
		}
		todo = todo[1:]
	}
	var (
		mu      sync.Mutex
		first   error
		failed  bool
		next    = make(chan int)
		workers sync.WaitGroup
	)
	for range min(ClaimWorkers, len(todo)) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range next {
				mu.Lock()
				stop := first != nil
				mu.Unlock()
				if stop {
					continue // after an error nothing more is claimed
				}
				c, err := s.claimOne(ctx, sc, evs[i], chunk, at, "")
				mu.Lock()
				if err != nil && first == nil {
					first = err
				} else if err == nil {
					out[i] = c
					failed = failed || c.chunk != chunk
				}
				mu.Unlock()
			}
		}()
	}
	for _, i := range todo {
		next <- i
	}
	close(next)
	workers.Wait()
	if failed {
		*check = true
	}
	return out, first
}

// claimOne writes e's timeline item naming chunk: only if absent, or, when
// from is set, only if the item names from (an aborted chunk's event taken
// over). When the condition fails it returns the claim the item holds.
func (s *Store) claimOne(ctx context.Context, sc billing.Scope, e usage.Event, chunk string, at time.Time, from string) (claimInfo, error) {
	it, err := s.timelineItem(sc, e, at)
	if err != nil {
		return claimInfo{}, err
	}
	it[attrClaim] = str(chunk)
	it[attrClaimedAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(at.UnixMilli(), 10)}
	in := &ddbjson.PutItemInput{TableName: &s.table, Item: it,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": schema.AttrPK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
	if from != "" {
		in.ConditionExpression = aws.String("#claim = :from")
		in.ExpressionAttributeNames = map[string]string{"#claim": attrClaim}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":from": str(from)}
	}
	// Sent again, a claim that was written fails its condition and its
	// item names this chunk: it is ours.
	ccf, err := s.conditionalPut(ctx, in, "claim usage event")
	if err != nil {
		return claimInfo{}, err
	}
	if ccf == nil {
		return claimInfo{chunk: chunk, at: at.UnixMilli()}, nil
	}
	if len(ccf.Item) > 0 {
		return claimOf(ccf.Item), nil
	}
	// An answer without the item: read it (a batch read, the function's
	// one read of single items).
	found, err := s.claims(ctx, sc, []usage.Event{e}, []int{0})
	if err != nil {
		return claimInfo{}, err
	}
	c, ok := found[0]
	if !ok {
		return claimInfo{}, apperr.E(apperr.Transient, "usage_claim_vanished", "a usage event's timeline item changed while it was claimed; retry")
	}
	return c, nil
}

func claimOf(it map[string]types.AttributeValue) claimInfo {
	var c claimInfo
	if v, ok := it[attrClaim].(*types.AttributeValueMemberS); ok {
		c.chunk = v.Value
	}
	if v, ok := it[attrClaimedAt].(*types.AttributeValueMemberN); ok {
		c.at, _ = strconv.ParseInt(v.Value, 10, 64)
	}
	return c
}

// claims reads the timeline items of evs[idx] consistently: the claim of
// each one that exists.
func (s *Store) claims(ctx context.Context, sc billing.Scope, evs []usage.Event, idx []int) (map[int]claimInfo, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(idx))
	index := map[string]int{}
	for _, i := range idx {
		pk, sk := timelineKey(sc, evs[i])
		keys = append(keys, keyAV(pk, sk))
		index[pk+"\x00"+sk] = i
	}
	out := map[int]claimInfo{}
	err := s.batchGet(ctx, keys, aws.String("#pk, #sk, #claim, #at"), map[string]string{"#claim": attrClaim, "#at": attrClaimedAt},
		func(pk, sk string, it map[string]types.AttributeValue) error {
			if i, ok := index[pk+"\x00"+sk]; ok {
				out[i] = claimOf(it)
			}
			return nil
		})
	return out, err
}

// resolve settles the events of claimedBy that another chunk claimed: a
// duplicate when that chunk is applied (or the item predates chunks);
// claimed again for chunk when it is aborted, or when it has no marker and
// its claim is older than the orphan age (it is aborted first); waiting
// otherwise.
func (s *Store) resolve(ctx context.Context, sc billing.Scope, evs []usage.Event, claimedBy map[int]claimInfo, chunk string, at time.Time, state []int, res *Applied) error {
	others := map[int]claimInfo{}
	for i, c := range claimedBy {
		switch c.chunk {
		case chunk: // ours
		case "": // written before chunks: counted
			state[i] = settled
			res.Duplicates++
		default:
			others[i] = c
		}
	}
	for try := 0; len(others) > 0; try++ {
		if try >= maxTries {
			for i := range others {
				state[i] = waiting
			}
			return nil
		}
		ids := chunkIDs(others)
		marks, err := s.markers(ctx, sc, ids)
		if err != nil {
			return err
		}
		// Chunks without a marker whose claims are old enough: abort them.
		for _, id := range ids {
			if _, ok := marks[id]; ok {
				continue
			}
			var newest int64
			for _, c := range others {
				if c.chunk == id {
					newest = max(newest, c.at)
				}
			}
			if s.young(at, newest) {
				continue
			}
			aborted, err := s.putMarker(ctx, sc, id, chunkAborted, s.abortedTTL())
			if err != nil {
				return err
			}
			if aborted {
				marks[id] = chunkAborted
			} // else: it has a marker now; read again next time round
		}
		next := map[int]claimInfo{}
		for i, c := range others {
			switch marks[c.chunk] {
			case chunkApplied:
				state[i] = settled
				res.Duplicates++
			case chunkAborted:
				got, err := s.claimOne(ctx, sc, evs[i], chunk, at, c.chunk)
				if err != nil {
					return err
				}
				if got.chunk == chunk {
					state[i] = mine
				} else {
					next[i] = got // another delivery took it over first
				}
			default:
				if _, ok := marks[c.chunk]; !ok && s.young(at, c.at) {
					state[i] = waiting
				} else {
					next[i] = c // its marker was written meanwhile: read it
				}
			}
		}
		others = next
	}
	return nil
}

// Chunk marker states.
const (
	chunkApplied = "applied"
	chunkAborted = "aborted"
)

// Timeline item attributes naming the chunk that claimed it, and when.
const (
	attrClaim     = "claim"
	attrClaimedAt = "claimed_at"
)

func chunkPK(sc billing.Scope, id string) string { return dynamo.ScopeKey(sc) + "#UC#" + id }

const chunkSK = "M"

func newChunkID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", apperr.Wrap(err, apperr.Internal, "", "chunk id")
	}
	return hex.EncodeToString(b[:]), nil
}

// markers reads the markers of the chunks ids consistently: id → state,
// absent for a chunk without one.
func (s *Store) markers(ctx context.Context, sc billing.Scope, ids []string) (map[string]string, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, keyAV(chunkPK(sc, id), chunkSK))
	}
	prefix := chunkPK(sc, "")
	out := map[string]string{}
	err := s.batchGet(ctx, keys, aws.String("#pk, #sk, #state"), map[string]string{"#state": attrChunkState}, func(pk, _ string, it map[string]types.AttributeValue) error {
		if v, ok := it[attrChunkState].(*types.AttributeValueMemberS); ok {
			out[strings.TrimPrefix(pk, prefix)] = v.Value
		}
		return nil
	})
	return out, err
}

const attrChunkState = "state"

// markerItem is a chunk's marker; ttl 0 writes none.
func (s *Store) markerItem(sc billing.Scope, id, state string, ttl int64) map[string]types.AttributeValue {
	it := keyAV(chunkPK(sc, id), chunkSK)
	it[schema.AttrEntity] = str(EntityChunk)
	it[attrChunkState] = str(state)
	if ttl > 0 {
		it["ttl"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(ttl, 10)}
	}
	return it
}

// putMarker writes a chunk's marker only if it has none; false when it had
// (or, after a try whose answer was lost, when that try wrote it: the
// caller reads the marker again either way).
func (s *Store) putMarker(ctx context.Context, sc billing.Scope, id, state string, ttl int64) (bool, error) {
	ccf, err := s.conditionalPut(ctx, &ddbjson.PutItemInput{TableName: &s.table, Item: s.markerItem(sc, id, state, ttl),
		ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": schema.AttrPK}}, "write usage chunk marker")
	return err == nil && ccf == nil, err
}

// conditionalPut writes in, trying again on transient errors (callTries in
// all); a failed condition is not an error: it returns its exception.
func (s *Store) conditionalPut(ctx context.Context, in *ddbjson.PutItemInput, what string) (*types.ConditionalCheckFailedException, error) {
	for try := 0; ; try++ {
		_, err := s.db.PutItem(ctx, in)
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return ccf, nil
		}
		if err == nil {
			return nil, nil
		}
		if err = dynamo.StorageError(err, what); !s.again(ctx, try, err) {
			return nil, err
		}
	}
}

// callTries bounds the tries of one claim, marker write or batch read that
// failed transiently (throttled, a 5xx, no answer); each is safe to send
// again.
const callTries = 6

// again reports whether a call that failed with err on try (from 0) is
// tried again, after a pause.
func (s *Store) again(ctx context.Context, try int, err error) bool {
	if try+1 >= callTries || ctx.Err() != nil || !apperr.Is(err, apperr.Transient) {
		return false
	}
	s.pause(try + 1)
	return true
}

// commit folds the events evs[own], claimed by chunk, into their buckets
// and writes chunk's marker as applied, in one transaction; false when the
// chunk was aborted first (its marker exists). Bucket versions that moved,
// or a conflicting transaction, make it read and try again; after maxTries
// it returns a transient error (applyChunk then abandons the chunk, so
// that the next delivery claims its events at once).
func (s *Store) commit(ctx context.Context, sc billing.Scope, evs []usage.Event, contrib [][]contribution, own []int, chunk string, at time.Time) (bool, error) {
	var ttl int64
	for _, i := range own {
		ttl = max(ttl, s.timelineTTL(evs[i], at)) // the events' timeline items, claimed at
	}
	ttl += int64(markerMargin / time.Second)
	for try := 0; ; try++ {
		if try >= maxTries {
			return false, apperr.E(apperr.Transient, "usage_contention", "buckets kept changing under %d tries; the records will be retried", maxTries)
		}
		if try > 0 {
			s.pause(try)
		}
		// The buckets this chunk changes, read consistently.
		meterOf := map[BucketKey]usage.Meter{}
		var keys []BucketKey
		for _, i := range own {
			for _, c := range contrib[i] {
				if _, ok := meterOf[c.key]; !ok && c.meter.Aggregation != usage.UniqueCount {
					meterOf[c.key] = c.meter
					keys = append(keys, c.key)
				}
			}
		}
		stored, versions, err := s.readBuckets(ctx, sc, keys)
		if err != nil {
			return false, err
		}
		// UNIQUE_COUNT values already seen that hour are not written again
		// (those this store knows of are not read either).
		var ukeys []map[string]types.AttributeValue
		asked := map[string]bool{}
		seenU := map[string]bool{}
		for _, i := range own {
			for _, c := range contrib[i] {
				if c.upk != "" && !asked[c.item] {
					asked[c.item] = true
					if s.known.has(c.item) {
						seenU[c.item] = true
						continue
					}
					ukeys = append(ukeys, keyAV(c.upk, c.usk))
				}
			}
		}
		if err := s.batchGet(ctx, ukeys, aws.String("#pk, #sk"), nil, func(pk, sk string, _ map[string]types.AttributeValue) error {
			seenU[pk+"\x00"+sk] = true
			s.known.add(pk + "\x00" + sk)
			return nil
		}); err != nil {
			return false, err
		}
		next := map[BucketKey]usage.Bucket{}
		for k, b := range stored {
			next[k] = b
		}
		tx := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: s.markerItem(sc, chunk, chunkApplied, ttl),
			ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": schema.AttrPK}}}}
		uniques := map[string]bool{}
		for _, i := range own {
			e := evs[i]
			for _, c := range contrib[i] {
				if c.meter.Aggregation == usage.UniqueCount {
					if uniques[c.item] || seenU[c.item] {
						continue
					}
					uniques[c.item] = true
					u := keyAV(c.upk, c.usk)
					u[schema.AttrEntity] = str(EntityUnique)
					tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: u}})
					continue
				}
				b := next[c.key]
				if err := usage.Fold(c.meter, &b, e); err != nil {
					return false, apperr.Wrap(err, apperr.Internal, "", "fold event")
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
				return false, apperr.Wrap(err, apperr.Internal, "", "encode bucket")
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
		}
		_, err = s.db.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{TransactItems: tx})
		if err == nil {
			for item := range uniques {
				s.known.add(item)
			}
			return true, nil
		}
		var tc *types.TransactionCanceledException
		if !errors.As(err, &tc) {
			// Committed or not is unknown: the marker says, and the next
			// delivery reads it (a chunk without one is aborted once old).
			return false, dynamo.StorageError(err, "count usage")
		}
		if len(tc.CancellationReasons) > 0 && aws.ToString(tc.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
			return false, nil // the chunk was aborted by another delivery
		}
		// Bucket versions that moved, or a conflicting transaction: read and try again.
	}
}

// timelineTTL is when e's timeline item, claimed at, expires: after the
// retention, and not before the stream could deliver e's record again (an
// expired claim would let a redelivery count e a second time).
func (s *Store) timelineTTL(e usage.Event, at time.Time) int64 {
	return max(e.Timestamp.Add(s.retention).Unix(), at.Add(streamWindow).Unix())
}

// streamWindow bounds how long after it was claimed an event's stream
// record can come again: a stream keeps records 24 hours, and Lambda gives
// up on one after the mapping's MaximumRecordAge (23 hours).
const streamWindow = 48 * time.Hour

// markerMargin is how much longer than the timeline items that name it a
// chunk's marker is kept: TTL deletions come in no particular order, and a
// claim whose marker is gone would read as not counted.
const markerMargin = 7 * 24 * time.Hour

// abortedTTL is the expiry of an aborted marker written now: later than
// any claim that names the chunk (claimed before now, for an event at most
// minutes in the future) plus markerMargin.
func (s *Store) abortedTTL() int64 {
	return time.Now().Add(s.retention + streamWindow + markerMargin).Unix()
}

// timelineKey is e's timeline item's key.
func timelineKey(sc billing.Scope, e usage.Event) (pk, sk string) {
	return timelinePK(sc, e.CustomerKey(), e.Timestamp.UTC().Format("2006-01-02"), e.Shard()), timelineSK(e)
}

func (s *Store) timelineItem(sc billing.Scope, e usage.Event, at time.Time) (map[string]types.AttributeValue, error) {
	it, err := attributevalue.MarshalMap(eventItem{Event: e, TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID,
		TTL: s.timelineTTL(e, at)})
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "", "encode event")
	}
	pk, sk := timelineKey(sc, e)
	it[schema.AttrPK], it[schema.AttrSK], it[schema.AttrEntity] = str(pk), str(sk), str(EntityTimeline)
	return it, nil
}

// Counted reports, by index, which of evs the aggregator has counted: their
// timeline items exist and the chunk that claimed each one is applied
// (its transaction changed their buckets, so a usage query already
// reflects them). Consistent batch reads; evs need ID, Timestamp and the
// customer as accepted.
func (s *Store) Counted(ctx context.Context, sc billing.Scope, evs []usage.Event) (map[int]bool, error) {
	idx := make([]int, len(evs))
	for i := range idx {
		idx[i] = i
	}
	found, err := s.claims(ctx, sc, evs, idx)
	if err != nil {
		return nil, err
	}
	marks, err := s.markers(ctx, sc, chunkIDs(found))
	if err != nil {
		return nil, err
	}
	out := map[int]bool{}
	for i, c := range found {
		if c.chunk == "" || marks[c.chunk] == chunkApplied {
			out[i] = true
		}
	}
	return out, nil
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
	err := s.batchGet(ctx, req, nil, nil, func(pk, sk string, it map[string]types.AttributeValue) error {
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
func (s *Store) batchGet(ctx context.Context, req []map[string]types.AttributeValue, projection *string, names map[string]string, each func(pk, sk string, it map[string]types.AttributeValue) error) error {
	for len(req) > 0 {
		n := min(len(req), 100)
		pending := req[:n]
		req = req[n:]
		failed := 0
		for try := 0; len(pending) > 0; try++ {
			if try > 20 {
				return apperr.E(apperr.Transient, "storage_unavailable", "storage kept leaving reads unprocessed; retry")
			}
			if try > 0 {
				s.pause(try)
			}
			ka := types.KeysAndAttributes{Keys: pending, ConsistentRead: aws.Bool(true)}
			if projection != nil {
				ka.ProjectionExpression = projection
				ka.ExpressionAttributeNames = map[string]string{"#pk": schema.AttrPK, "#sk": schema.AttrSK}
				for k, v := range names {
					ka.ExpressionAttributeNames[k] = v
				}
			}
			res, err := s.db.BatchGetItem(ctx, &ddbjson.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{s.table: ka}})
			if err != nil {
				// Tried again after the loop's pause, as keys left unprocessed are.
				if err = dynamo.StorageError(err, "batch read"); failed+1 >= callTries || ctx.Err() != nil || !apperr.Is(err, apperr.Transient) {
					return err
				}
				failed++
				continue
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
