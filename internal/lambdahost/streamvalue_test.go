package lambdahost

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// TestStreamRecordValueIsItsJSON: what the filters see of a stream record,
// built directly from the struct, is exactly what encoding the record to
// JSON and decoding it (the path every other record takes) gives — for
// records with every attribute type, nesting, nil and empty values, and
// with and without images, user identity and creation time.
func TestStreamRecordValueIsItsJSON(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(17, 2026))
	for i := range 600 {
		rec := randomStreamRecord(rng)
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		want, err := decodeJSON(b)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		got, err := normalizeRecord(rec)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("record %d:\ndirect %#v\nJSON   %#v\n(%s)", i, got, want, b)
		}
		if p, err := normalizeRecord(&rec); err != nil || !reflect.DeepEqual(p, want) {
			t.Fatalf("record %d by pointer: %v", i, err)
		}
	}
}

func randomStreamRecord(rng *rand.Rand) events.DynamoDBEventRecord {
	names := []string{"INSERT", "MODIFY", "REMOVE", ""}
	rec := events.DynamoDBEventRecord{
		AWSRegion: pick(rng, "ap-south-1", "", "us-east-1"), EventID: fmt.Sprintf("ev-%d", rng.IntN(1e6)),
		EventName: names[rng.IntN(len(names))], EventSource: "aws:dynamodb", EventVersion: pick(rng, "1.1", ""),
		EventSourceArn: "arn:aws:dynamodb:ap-south-1:000000000000:table/t/stream/2026",
		Change: events.DynamoDBStreamRecord{
			SequenceNumber: fmt.Sprint(rng.Uint64()), SizeBytes: rng.Int64N(400_000) - 1, StreamViewType: pick(rng, "NEW_AND_OLD_IMAGES", "KEYS_ONLY", ""),
		},
	}
	switch rng.IntN(4) {
	case 0: // the zero time: what a record without one carries
	case 1:
		rec.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: time.Unix(1_733_472_000+rng.Int64N(1e8), 0)}
	default:
		rec.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9))}
	}
	if rng.IntN(5) == 0 {
		rec.UserIdentity = &events.DynamoDBUserIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}
	}
	rec.Change.Keys = randomImage(rng, 2)
	rec.Change.NewImage = randomImage(rng, 3)
	rec.Change.OldImage = randomImage(rng, 3)
	return rec
}

func randomImage(rng *rand.Rand, depth int) map[string]events.DynamoDBAttributeValue {
	switch rng.IntN(6) {
	case 0:
		return nil
	case 1:
		return map[string]events.DynamoDBAttributeValue{}
	}
	m := map[string]events.DynamoDBAttributeValue{}
	for range rng.IntN(8) {
		m[randomString(rng)] = randomAttr(rng, depth)
	}
	return m
}

func randomAttr(rng *rand.Rand, depth int) events.DynamoDBAttributeValue {
	kinds := 7
	if depth > 0 {
		kinds = 10
	}
	switch rng.IntN(kinds) {
	case 0:
		return events.NewStringAttribute(randomString(rng))
	case 1:
		return events.NewNumberAttribute(pick(rng, "0", "-12.5", "1e400", "123456789012345678901234567890", fmt.Sprint(rng.Int64())))
	case 2:
		return events.NewBooleanAttribute(rng.IntN(2) == 0)
	case 3:
		return events.NewNullAttribute()
	case 4:
		return events.NewBinaryAttribute(randomBytes(rng))
	case 5:
		return events.NewStringSetAttribute(randomStrings(rng))
	case 6:
		var bs [][]byte
		if rng.IntN(4) > 0 {
			bs = make([][]byte, rng.IntN(4))
			for i := range bs {
				bs[i] = randomBytes(rng)
			}
		}
		if rng.IntN(2) == 0 {
			return events.NewNumberSetAttribute(randomStrings(rng))
		}
		return events.NewBinarySetAttribute(bs)
	case 7, 8:
		if rng.IntN(2) == 0 {
			return events.NewMapAttribute(randomImage(rng, depth-1))
		}
		fallthrough
	default:
		var l []events.DynamoDBAttributeValue
		if rng.IntN(5) > 0 {
			l = make([]events.DynamoDBAttributeValue, rng.IntN(4))
			for i := range l {
				l[i] = randomAttr(rng, depth-1)
			}
		}
		return events.NewListAttribute(l)
	}
}

func randomString(rng *rand.Rand) string {
	return pick(rng, "", "PK", "entity", "payment", "a\"quote", "back\\slash", "tab\tnew\nline", "₹250 ✓", "<html>&", "\u2028", fmt.Sprintf("k%d", rng.IntN(100)))
}

func randomStrings(rng *rand.Rand) []string {
	if rng.IntN(5) == 0 {
		return nil
	}
	ss := make([]string, rng.IntN(4))
	for i := range ss {
		ss[i] = randomString(rng)
	}
	return ss
}

func randomBytes(rng *rand.Rand) []byte {
	switch rng.IntN(4) {
	case 0:
		return nil
	case 1:
		return []byte{}
	}
	b := make([]byte, 1+rng.IntN(40))
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return b
}

func pick(rng *rand.Rand, s ...string) string { return s[rng.IntN(len(s))] }

// BenchmarkNormalizeStreamRecord: a payment item's MODIFY record as the
// stream pollers filter it, directly and through JSON.
func BenchmarkNormalizeStreamRecord(b *testing.B) {
	img := map[string]events.DynamoDBAttributeValue{
		"PK": events.NewStringAttribute("T#ten_01/E#env_01"), "SK": events.NewStringAttribute("pay_01jh0000000000000000000001"),
		"entity": events.NewStringAttribute("payment"), "version": events.NewNumberAttribute("3"), "amount": events.NewNumberAttribute("25000"),
		"currency": events.NewStringAttribute("INR"), "payment_status": events.NewStringAttribute("SUCCEEDED"),
		"captures": events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{
			"razorpay_payment_id": events.NewStringAttribute("pay_P1x2y3z4"), "amount": events.NewNumberAttribute("25000")})}),
	}
	rec := events.DynamoDBEventRecord{AWSRegion: "ap-south-1", EventID: "1", EventName: "MODIFY", EventSource: "aws:dynamodb", EventVersion: "1.1",
		Change: events.DynamoDBStreamRecord{ApproximateCreationDateTime: events.SecondsEpochTime{Time: time.Unix(1_733_472_000, 0)},
			Keys: map[string]events.DynamoDBAttributeValue{"PK": img["PK"], "SK": img["SK"]}, NewImage: img, OldImage: img,
			SequenceNumber: "100", SizeBytes: 900, StreamViewType: "NEW_AND_OLD_IMAGES"}}
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := normalizeRecord(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			js, err := json.Marshal(rec)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := normalizeRecord(json.RawMessage(js)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
