package dynamo

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/schema"
)

// Prefetch names items a handler is about to read one by one: the
// environment's Razorpay connection, the applied-money markers of Razorpay
// payment ids, and records by id (payments, invoices, …).
type Prefetch struct {
	Connection bool
	Markers    []string
	Entities   []string
}

// Prefetch reads the items p names in one BatchGetItem request (consistent
// reads, as every single read of the store is) and returns a context on
// which the first read of each of them — Connection, Applied, Ref of a
// Razorpay payment, Payment, Invoice, … — is answered from that request,
// absent items as absent, instead of a GetItem each. Only the first read
// of an item is answered so; a read after it goes to the table. The batch
// is as fresh as a read made when Prefetch ran: the context is for the
// reads that come right after it, before the caller's own writes of those
// items (the reconciler uses it for one attempt, not for a retry after a
// lost version race). Fewer than two items, a request that fails, and keys
// DynamoDB hands back unprocessed change nothing: those reads go to the
// table one by one.
func (s *Store) Prefetch(ctx context.Context, sc billing.Scope, p Prefetch) context.Context {
	var keys []key
	seen := map[key]bool{}
	add := func(k key) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if p.Connection {
		add(connKey(sc))
	}
	for _, id := range p.Markers {
		if id != "" {
			add(markerKey(sc, id))
		}
	}
	for _, id := range p.Entities {
		if id != "" {
			add(entityKey(sc, id))
		}
	}
	if len(keys) < 2 {
		return ctx
	}
	avs := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		avs[i] = k.av()
	}
	// One request, not batchGet's tries: a key DynamoDB hands back
	// unprocessed is read by its GetItem, without a wait here first.
	res, err := s.db.BatchGetItem(ctx, &ddbjson.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		s.table: {Keys: avs, ConsistentRead: aws.Bool(true)}}})
	if err != nil {
		return ctx
	}
	snap := &snapshot{table: s.table, items: make(map[key]map[string]types.AttributeValue, len(keys))}
	for _, k := range keys {
		snap.items[k] = nil // absent unless returned
	}
	for _, k := range res.UnprocessedKeys[s.table].Keys {
		delete(snap.items, keyOf(k))
	}
	for _, it := range res.Responses[s.table] {
		if k := keyOf(it); k != (key{}) {
			if _, asked := snap.items[k]; asked { // not handed back unprocessed
				snap.items[k] = it
			}
		}
	}
	if len(snap.items) == 0 {
		return ctx
	}
	snap.parent, _ = ctx.Value(snapshotKey{}).(*snapshot)
	return context.WithValue(ctx, snapshotKey{}, snap)
}

// keyOf is the table key of an item or key map.
func keyOf(it map[string]types.AttributeValue) key {
	pk, _ := it[schema.AttrPK].(*types.AttributeValueMemberS)
	sk, _ := it[schema.AttrSK].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return key{}
	}
	return key{pk.Value, sk.Value}
}

type snapshotKey struct{}

// snapshot is one Prefetch's items, each answered once; parent is an
// earlier Prefetch on the same context.
type snapshot struct {
	table  string
	parent *snapshot
	mu     sync.Mutex
	items  map[key]map[string]types.AttributeValue
}

// prefetched is k's item from a Prefetch on ctx, the first time it is asked
// for (ok; item nil when the item did not exist).
func (s *Store) prefetched(ctx context.Context, k key) (item map[string]types.AttributeValue, ok bool) {
	snap, _ := ctx.Value(snapshotKey{}).(*snapshot)
	for ; snap != nil; snap = snap.parent {
		if snap.table != s.table {
			continue
		}
		snap.mu.Lock()
		item, ok = snap.items[k]
		delete(snap.items, k)
		snap.mu.Unlock()
		if ok {
			return item, true
		}
	}
	return nil, false
}
