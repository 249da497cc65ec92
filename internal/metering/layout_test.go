package metering_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/metering"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/testenv"
	"github.com/razorbill/razorbill/internal/usage"
)

// txCounter records what the store asks of DynamoDB: the partition key of
// every item its successful transactions put, by entity; the items of its
// cancelled transactions; the items its successful PutItems wrote, by
// entity, and its PutItems that failed their condition; and the keys of
// every BatchGetItem (each a strongly consistent read of an item under
// 4 KB: 1 RRU, found or not).
type txCounter struct {
	usagedb.API
	mu         sync.Mutex
	puts       map[string][]string // entity → partition keys written in transactions
	cancelled  int                 // items of cancelled transactions
	plain      map[string]int      // entity → items written by PutItem
	failedPuts int                 // PutItems that failed their condition
	readKeys   int
}

func newTxCounter(api usagedb.API) *txCounter {
	return &txCounter{API: api, puts: map[string][]string{}, plain: map[string]int{}}
}

func (c *txCounter) PutItem(ctx context.Context, in *ddbjson.PutItemInput) (*ddbjson.PutItemOutput, error) {
	out, err := c.API.PutItem(ctx, in)
	c.mu.Lock()
	defer c.mu.Unlock()
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		c.failedPuts++
	case err == nil:
		e, _ := in.Item[schema.AttrEntity].(*types.AttributeValueMemberS)
		if e != nil {
			c.plain[e.Value]++
		}
	}
	return out, err
}

// wrote is how many items of entity PutItem wrote.
func (c *txCounter) wrote(entity string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.plain[entity]
}

func (c *txCounter) TransactWriteItems(ctx context.Context, in *ddbjson.TransactWriteItemsInput) (*ddbjson.TransactWriteItemsOutput, error) {
	out, err := c.API.TransactWriteItems(ctx, in)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.cancelled += len(in.TransactItems)
		return out, err
	}
	for _, it := range in.TransactItems {
		if it.Put == nil {
			continue
		}
		e, _ := it.Put.Item[schema.AttrEntity].(*types.AttributeValueMemberS)
		pk, _ := it.Put.Item[schema.AttrPK].(*types.AttributeValueMemberS)
		if e != nil && pk != nil {
			c.puts[e.Value] = append(c.puts[e.Value], pk.Value)
		}
	}
	return out, err
}

func (c *txCounter) BatchGetItem(ctx context.Context, in *ddbjson.BatchGetItemInput) (*ddbjson.BatchGetItemOutput, error) {
	c.mu.Lock()
	for _, ka := range in.RequestItems {
		c.readKeys += len(ka.Keys)
	}
	c.mu.Unlock()
	return c.API.BatchGetItem(ctx, in)
}

// written is how many items of entity successful transactions put.
func (c *txCounter) written(entity string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.puts[entity])
}

// TestHotCustomerWritesSpreadOverPartitions: one customer's events in one
// hour, in 16 transactions, write their buckets under several partition
// keys (the shard is in the partition key; each transaction picks one,
// usagedb.Store.Apply), and no bucket partition key in more than half of
// the transactions (a partition's writes grow with the customer's
// transactions divided among the shards; when every transaction wrote
// every shard's bucket, the busiest key was written in 11 of the 16). A
// UNIQUE_COUNT value seen before that hour is not written again (so a busy
// customer's unique items are written once per value and hour, not per
// event).
func TestHotCustomerWritesSpreadOverPartitions(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	r := newRigEnv(env)
	ctx := context.Background()
	counter := newTxCounter(env.DDB)
	store := usagedb.New(counter, env.Table(), 0)
	r.store, r.svc.Store = store, store
	c := r.customer(t, "acct-hot")
	r.meter(t, usage.Meter{Name: "calls", EventName: "api_call", Aggregation: usage.Count})
	users := r.meter(t, usage.Meter{Name: "users", EventName: "api_call", Aggregation: usage.UniqueCount, Property: "user"})
	r.now = r.now.Add(time.Minute)
	hour := r.now.Truncate(time.Hour)
	batch := func(from, n int) []usage.Event {
		var evs []usage.Event
		for i := from; i < from+n; i++ {
			evs = append(evs, usage.Event{ID: fmt.Sprintf("hot-%d", i), Name: "api_call", CustomerID: c.ID, Timestamp: hour.Add(time.Duration(i) * time.Second),
				Properties: map[string]string{"user": fmt.Sprintf("u%d", i%3)}, AcceptedAt: r.now})
		}
		return evs
	}
	ms, err := store.Meters(ctx, r.sc)
	if err != nil {
		t.Fatal(err)
	}
	const txs = 16
	for b := range txs {
		if _, err := store.Apply(ctx, r.sc, ms, batch(b*5, 5)); err != nil {
			t.Fatal(err)
		}
	}
	partitions := map[string]int{}
	for _, pk := range counter.puts[usagedb.EntityBucket] {
		partitions[pk]++
	}
	if len(partitions) < 4 {
		t.Fatalf("80 events of one customer wrote buckets under %d partition keys: %v", len(partitions), partitions)
	}
	for pk, n := range partitions {
		if n > txs/2 {
			t.Fatalf("bucket partition key %s written in %d of %d transactions: %v", pk, n, txs, partitions)
		}
	}
	if n := len(counter.puts[usagedb.EntityUnique]); n != 3 {
		t.Fatalf("3 distinct users in one hour wrote %d UNIQUE_COUNT items, want 3 (once each)", n)
	}
	for _, pk := range counter.puts[usagedb.EntityUnique] {
		if !strings.Contains(pk, "#UU#") {
			t.Fatalf("unique item key %s", pk)
		}
	}
	_, total, err := r.svc.Usage(ctx, r.sc, metering.UsageQuery{MeterID: users.ID, CustomerID: c.ID, Start: hour, End: hour.Add(time.Hour)})
	if err != nil || total != "3" {
		t.Fatalf("unique users: %s %v", total, err)
	}
}
