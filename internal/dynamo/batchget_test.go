package dynamo

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/schema"
)

// unprocessingDB answers BatchGetItem like DynamoDB under load: each call
// returns only its first two keys' items (those that exist) and hands the
// rest back as UnprocessedKeys. Only BatchGetItem is implemented: a pure
// unit test of batchGet's retry and ordering.
type unprocessingDB struct {
	API
	items map[string]map[string]types.AttributeValue // by PK
	calls [][]string                                 // the PKs asked for, per call
}

func (d *unprocessingDB) BatchGetItem(_ context.Context, in *ddbjson.BatchGetItemInput) (*ddbjson.BatchGetItemOutput, error) {
	var asked []string
	out := &ddbjson.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}, UnprocessedKeys: map[string]types.KeysAndAttributes{}}
	for table, ka := range in.RequestItems {
		if len(ka.Keys) > batchGetMax {
			return nil, fmt.Errorf("%d keys in one request", len(ka.Keys))
		}
		for i, k := range ka.Keys {
			pk := k[schema.AttrPK].(*types.AttributeValueMemberS).Value
			asked = append(asked, pk)
			if i >= 2 {
				u := out.UnprocessedKeys[table]
				u.Keys = append(u.Keys, k)
				out.UnprocessedKeys[table] = u
			} else if it, ok := d.items[pk]; ok {
				out.Responses[table] = append(out.Responses[table], it)
			}
		}
	}
	d.calls = append(d.calls, asked)
	return out, nil
}

func TestBatchGetAsksAgainForUnprocessedKeysAndKeepsOrder(t *testing.T) {
	db := &unprocessingDB{items: map[string]map[string]types.AttributeValue{}}
	var keys []map[string]types.AttributeValue
	for i := 0; i < 6; i++ {
		k := key{fmt.Sprint("pk", i), "A"}
		keys = append(keys, k.av())
		if i != 3 { // pk3 was deleted since the index listed it
			it := k.av()
			it["n"] = n(int64(i))
			db.items[k.pk] = it
		}
	}
	s := New(db, "t")
	got, err := s.batchGet(context.Background(), keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("%d items, want 6 (one per key)", len(got))
	}
	for i, it := range got {
		if i == 3 {
			if it != nil {
				t.Errorf("pk3 does not exist, got %v", it)
			}
			continue
		}
		if v, ok := it["n"].(*types.AttributeValueMemberN); !ok || v.Value != fmt.Sprint(i) {
			t.Errorf("item %d = %v, want pk%d's", i, it, i)
		}
	}
	if len(db.calls) != 3 {
		t.Errorf("%d BatchGetItem calls %v, want 3 (two keys answered per call)", len(db.calls), db.calls)
	}
}

// TestPrefetchLeavesUnprocessedKeysToTheirGetItem: Prefetch makes one
// BatchGetItem request and does not ask again; the key DynamoDB handed back
// unprocessed is read with its own GetItem when asked for, the keys it
// answered (present or absent) are not.
func TestPrefetchLeavesUnprocessedKeysToTheirGetItem(t *testing.T) {
	sc := billing.Scope{TenantID: "tnt_1", EnvironmentID: "env_1"}
	db := &unprocessingDB{items: map[string]map[string]types.AttributeValue{}}
	conn := connKey(sc).av()
	conn["key_id"] = str("rzp_test_x")
	db.items[connKey(sc).pk] = conn
	gets := &countingGets{unprocessingDB: db}
	s := New(gets, "t")
	// Asked in this order: connection (answered), marker (answered: absent),
	// payment (the third key: handed back unprocessed).
	ctx := s.Prefetch(context.Background(), sc, Prefetch{Connection: true, Markers: []string{"pay_A"}, Entities: []string{"pay_01"}})
	if len(db.calls) != 1 {
		t.Fatalf("%d BatchGetItem requests, want 1", len(db.calls))
	}
	if c, ok, err := s.Connection(ctx, sc); err != nil || !ok || c.KeyID != "rzp_test_x" {
		t.Fatalf("Connection = %+v %v %v", c, ok, err)
	}
	if _, ok, err := s.Applied(ctx, sc, "pay_A"); err != nil || ok {
		t.Fatalf("Applied = %v %v", ok, err)
	}
	if gets.n != 0 {
		t.Fatalf("%d GetItems for answered keys", gets.n)
	}
	if _, err := s.Payment(ctx, sc, "pay_01"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("Payment: %v", err)
	}
	if gets.n != 1 {
		t.Fatalf("the unprocessed key was read with %d GetItems, want 1", gets.n)
	}
}

// countingGets answers GetItem from unprocessingDB's items and counts them.
type countingGets struct {
	*unprocessingDB
	n int
}

func (c *countingGets) GetItem(_ context.Context, in *ddbjson.GetItemInput) (*ddbjson.GetItemOutput, error) {
	c.n++
	return &ddbjson.GetItemOutput{Item: c.items[in.Key[schema.AttrPK].(*types.AttributeValueMemberS).Value]}, nil
}
