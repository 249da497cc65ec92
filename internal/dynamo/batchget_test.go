package dynamo

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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

func (d *unprocessingDB) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	var asked []string
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}, UnprocessedKeys: map[string]types.KeysAndAttributes{}}
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
