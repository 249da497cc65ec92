package bench_test

import (
	"strings"
	"testing"
)

// wireItem is an item in DynamoDB's JSON wire form: its key and one string
// attribute "d" of pad bytes.
func wireItem(pk string, pad int) string {
	return `{"PK":{"S":"` + pk + `"},"SK":{"S":"A"},"d":{"S":"` + strings.Repeat("x", pad) + `"}}`
}

// TestWritesArePricedFromTheLargerOfBeforeAndAfter: DynamoDB bills a
// write by the larger of the item it replaces and the item it leaves; the
// proxy remembers the sizes it saw so a write that shrinks an item is not
// under-priced. Sizes: "PK"+"p1"+"SK"+"A"+"d" = 8 bytes of names and
// short values, so pad 1500 is a 1,508-byte item (2 KB) and pad 100 a
// 108-byte one (1 KB).
func TestWritesArePricedFromTheLargerOfBeforeAndAfter(t *testing.T) {
	sizes := itemSizes{}
	noIndexes := []byte(`{"ConsumedCapacity":[{"TableName":"t","CapacityUnits":4}]}`)
	put := func(pad int) []byte {
		return []byte(`{"TableName":"t","Item":` + wireItem("p1", pad) + `}`)
	}
	tx := func(pad int) []byte {
		return []byte(`{"TransactItems":[{"Put":{"TableName":"t","Item":` + wireItem("p1", pad) + `}},` +
			`{"ConditionCheck":{"TableName":"t","Key":{"PK":{"S":"p1"},"SK":{"S":"A"}}}}]}`)
	}

	// Nothing known before: the item as sent (2 KB → 2 units).
	if got := putUnits(put(1500), []byte(`{"ConsumedCapacity":{"TableName":"t","CapacityUnits":2}}`), sizes); got != 2 {
		t.Errorf("a 1.5 KB put: %v units, want 2", got)
	}
	sizes.learn("PutItem", put(1500), nil, 200)
	// Shrinking it to 108 bytes is billed at the 1.5 KB it replaced.
	if got := putUnits(put(100), nil, sizes); got != 2 {
		t.Errorf("a put shrinking a 1.5 KB item: %v units, want 2", got)
	}
	sizes.learn("PutItem", put(100), nil, 200)
	// In a transaction: the Put at 1 KB (both sizes under it) and the
	// ConditionCheck on the same, now 108-byte, item: 2 + 2.
	if got := txUnits(tx(100), noIndexes, sizes); got != 4 {
		t.Errorf("transaction on a small item: %v units, want 4", got)
	}
	// Growing it to 1.5 KB in a transaction: the Put at 2 KB (4 units),
	// the ConditionCheck at the size before (1 KB, 2 units).
	if got := txUnits(tx(1500), noIndexes, sizes); got != 6 {
		t.Errorf("transaction growing the item: %v units, want 6", got)
	}
	sizes.learn("TransactWriteItems", tx(1500), nil, 200)
	// Shrinking it back in a transaction: both priced at the 1.5 KB before.
	if got := txUnits(tx(100), noIndexes, sizes); got != 8 {
		t.Errorf("transaction shrinking the item: %v units, want 8", got)
	}
	// The indexes' units are added as reported.
	withIndex := []byte(`{"ConsumedCapacity":[{"TableName":"t","GlobalSecondaryIndexes":{"GSI1":{"CapacityUnits":1}}}]}`)
	if got := txUnits(tx(1500), withIndex, sizes); got != 9 {
		t.Errorf("with an index write: %v units, want 9", got)
	}
	// An UpdateItem changes the item in a way the proxy cannot size: it is
	// forgotten; a GetItem of it whole brings its size back; a failed call
	// teaches nothing.
	key := []byte(`{"TableName":"t","Key":{"PK":{"S":"p1"},"SK":{"S":"A"}}}`)
	sizes.learn("UpdateItem", key, nil, 200)
	if got := putUnits(put(100), nil, sizes); got != 1 {
		t.Errorf("after an UpdateItem: %v units, want 1 (the size before is unknown)", got)
	}
	sizes.learn("GetItem", key, []byte(`{"Item":`+wireItem("p1", 1500)+`}`), 200)
	sizes.learn("PutItem", put(100), nil, 400)
	if got := putUnits(put(100), nil, sizes); got != 2 {
		t.Errorf("after a GetItem of the 1.5 KB item: %v units, want 2", got)
	}
	// A BatchGetItem of it whole does too (the reconciler's Prefetch).
	sizes.learn("UpdateItem", key, nil, 200)
	sizes.learn("BatchGetItem", []byte(`{"RequestItems":{"t":{"Keys":[{"PK":{"S":"p1"},"SK":{"S":"A"}}],"ConsistentRead":true}}}`),
		[]byte(`{"Responses":{"t":[`+wireItem("p1", 1500)+`]},"UnprocessedKeys":{}}`), 200)
	if got := putUnits(put(100), nil, sizes); got != 2 {
		t.Errorf("after a BatchGetItem of the 1.5 KB item: %v units, want 2", got)
	}
	// A projected read is not the whole item: ignored.
	sizes.learn("GetItem", []byte(`{"TableName":"t","Key":{"PK":{"S":"p1"},"SK":{"S":"A"}},"ProjectionExpression":"PK"}`), []byte(`{"Item":{"PK":{"S":"p1"}}}`), 200)
	if got := putUnits(put(100), nil, sizes); got != 2 {
		t.Errorf("after a projected GetItem: %v units, want 2", got)
	}
}

// TestBatchGetsArePricedPerItem: a BatchGetItem costs what the keys would
// cost read one by one — per started 4 KB of each item, 1 for a key with
// no item, half for eventually consistent reads, nothing for a key handed
// back unprocessed.
func TestBatchGetsArePricedPerItem(t *testing.T) {
	req := func(consistent bool, pks ...string) []byte {
		keys := ""
		for i, pk := range pks {
			if i > 0 {
				keys += ","
			}
			keys += `{"PK":{"S":"` + pk + `"},"SK":{"S":"A"}}`
		}
		c := "false"
		if consistent {
			c = "true"
		}
		return []byte(`{"RequestItems":{"t":{"Keys":[` + keys + `],"ConsistentRead":` + c + `}},"ReturnConsumedCapacity":"TOTAL"}`)
	}
	resp := `{"Responses":{"t":[` + wireItem("p1", 900) + `,` + wireItem("p2", 5000) + `]},"UnprocessedKeys":{},"ConsumedCapacity":[{"TableName":"t","CapacityUnits":2.5}]}`
	// p1 (1 unit), p2 (over 4 KB: 2 units), p3 absent (1 unit).
	if got := batchGetUnits(req(true, "p1", "p2", "p3"), []byte(resp)); got != 4 {
		t.Errorf("consistent: %v units, want 4", got)
	}
	if got := batchGetUnits(req(false, "p1", "p2", "p3"), []byte(resp)); got != 2 {
		t.Errorf("eventually consistent: %v units, want 2", got)
	}
	unprocessed := `{"Responses":{"t":[` + wireItem("p1", 900) + `]},"UnprocessedKeys":{"t":{"Keys":[{"PK":{"S":"p2"},"SK":{"S":"A"}}]}}}`
	if got := batchGetUnits(req(true, "p1", "p2"), []byte(unprocessed)); got != 1 {
		t.Errorf("one key unprocessed: %v units, want 1", got)
	}
}
