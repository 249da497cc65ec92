package ddbjson

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/jsonw"
)

// enc writes one request body. Fields are written as the SDK's serializer
// writes them: a nil pointer, nil map or empty enum is left out; an
// attribute value's set, list or map is written even when empty.
type enc struct {
	b     []byte
	err   error
	first bool // no field written yet in the object being written
}

func (e *enc) open()  { e.b = append(e.b, '{'); e.first = true }
func (e *enc) close() { e.b = append(e.b, '}'); e.first = false }

// key writes the next member's name (escaped: a map's keys are data).
func (e *enc) key(name string) {
	if !e.first {
		e.b = append(e.b, ',')
	}
	e.first = false
	e.b = jsonw.AppendString(e.b, name)
	e.b = append(e.b, ':')
}

func (e *enc) str(name string, v *string) {
	if v != nil {
		e.key(name)
		e.b = jsonw.AppendString(e.b, *v)
	}
}

func (e *enc) enum(name, v string) {
	if v != "" {
		e.key(name)
		e.b = jsonw.AppendString(e.b, v)
	}
}

func (e *enc) boolean(name string, v *bool) {
	if v != nil {
		e.key(name)
		e.b = strconv.AppendBool(e.b, *v)
	}
}

func (e *enc) int32(name string, v *int32) {
	if v != nil {
		e.key(name)
		e.b = strconv.AppendInt(e.b, int64(*v), 10)
	}
}

func (e *enc) names(name string, m map[string]string) {
	if m == nil {
		return
	}
	e.key(name)
	e.open()
	for k, v := range m {
		e.key(k)
		e.b = jsonw.AppendString(e.b, v)
	}
	e.close()
}

func (e *enc) item(name string, m map[string]types.AttributeValue) {
	if m == nil {
		return
	}
	e.key(name)
	e.avMap(m)
}

func (e *enc) avMap(m map[string]types.AttributeValue) {
	e.open()
	for k, v := range m {
		e.key(k)
		e.av(v)
	}
	e.close()
}

func (e *enc) strings(vs []string) {
	e.b = append(e.b, '[')
	for i, v := range vs {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = jsonw.AppendString(e.b, v)
	}
	e.b = append(e.b, ']')
}

func (e *enc) blob(v []byte) {
	e.b = append(e.b, '"')
	e.b = base64.StdEncoding.AppendEncode(e.b, v)
	e.b = append(e.b, '"')
}

// av writes one attribute value ({"S": …}, {"M": {…}}, …).
func (e *enc) av(v types.AttributeValue) {
	e.open()
	switch t := v.(type) {
	case *types.AttributeValueMemberS:
		e.key("S")
		e.b = jsonw.AppendString(e.b, t.Value)
	case *types.AttributeValueMemberN:
		e.key("N")
		e.b = jsonw.AppendString(e.b, t.Value)
	case *types.AttributeValueMemberB:
		e.key("B")
		e.blob(t.Value)
	case *types.AttributeValueMemberBOOL:
		e.key("BOOL")
		e.b = strconv.AppendBool(e.b, t.Value)
	case *types.AttributeValueMemberNULL:
		e.key("NULL")
		e.b = strconv.AppendBool(e.b, t.Value)
	case *types.AttributeValueMemberM:
		e.key("M")
		e.avMap(t.Value)
	case *types.AttributeValueMemberL:
		e.key("L")
		e.b = append(e.b, '[')
		for i, x := range t.Value {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.av(x)
		}
		e.b = append(e.b, ']')
	case *types.AttributeValueMemberSS:
		e.key("SS")
		e.strings(t.Value)
	case *types.AttributeValueMemberNS:
		e.key("NS")
		e.strings(t.Value)
	case *types.AttributeValueMemberBS:
		e.key("BS")
		e.b = append(e.b, '[')
		for i, x := range t.Value {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.blob(x)
		}
		e.b = append(e.b, ']')
	default:
		// nil, or a member this client does not know (the SDK refuses
		// them as well: "unknown member type").
		if e.err == nil {
			e.err = fmt.Errorf("ddbjson: attribute value of type %T", v)
		}
	}
	e.close()
}

// condition writes a write's condition and the expression attributes its
// expressions use.
func (e *enc) condition(cond *string, names map[string]string, values map[string]types.AttributeValue) {
	e.str("ConditionExpression", cond)
	e.names("ExpressionAttributeNames", names)
	e.item("ExpressionAttributeValues", values)
}

// returns writes what a single-item write asks to get back.
func (e *enc) returns(rcc types.ReturnConsumedCapacity, rv types.ReturnValue, rvcf types.ReturnValuesOnConditionCheckFailure) {
	e.enum("ReturnConsumedCapacity", string(rcc))
	e.enum("ReturnValues", string(rv))
	e.enum("ReturnValuesOnConditionCheckFailure", string(rvcf))
}

func (e *enc) keysAndAttributes(v types.KeysAndAttributes) {
	e.open()
	if v.AttributesToGet != nil {
		e.key("AttributesToGet")
		e.strings(v.AttributesToGet)
	}
	e.boolean("ConsistentRead", v.ConsistentRead)
	e.names("ExpressionAttributeNames", v.ExpressionAttributeNames)
	if v.Keys != nil {
		e.key("Keys")
		e.b = append(e.b, '[')
		for i, k := range v.Keys {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.avMap(k)
		}
		e.b = append(e.b, ']')
	}
	e.str("ProjectionExpression", v.ProjectionExpression)
	e.close()
}

func (e *enc) transactItem(t types.TransactWriteItem) {
	e.open()
	if c := t.ConditionCheck; c != nil {
		e.key("ConditionCheck")
		e.open()
		e.condition(c.ConditionExpression, c.ExpressionAttributeNames, c.ExpressionAttributeValues)
		e.item("Key", c.Key)
		e.enum("ReturnValuesOnConditionCheckFailure", string(c.ReturnValuesOnConditionCheckFailure))
		e.str("TableName", c.TableName)
		e.close()
	}
	if d := t.Delete; d != nil {
		e.key("Delete")
		e.open()
		e.condition(d.ConditionExpression, d.ExpressionAttributeNames, d.ExpressionAttributeValues)
		e.item("Key", d.Key)
		e.enum("ReturnValuesOnConditionCheckFailure", string(d.ReturnValuesOnConditionCheckFailure))
		e.str("TableName", d.TableName)
		e.close()
	}
	if p := t.Put; p != nil {
		e.key("Put")
		e.open()
		e.condition(p.ConditionExpression, p.ExpressionAttributeNames, p.ExpressionAttributeValues)
		e.item("Item", p.Item)
		e.enum("ReturnValuesOnConditionCheckFailure", string(p.ReturnValuesOnConditionCheckFailure))
		e.str("TableName", p.TableName)
		e.close()
	}
	if u := t.Update; u != nil {
		e.key("Update")
		e.open()
		e.condition(u.ConditionExpression, u.ExpressionAttributeNames, u.ExpressionAttributeValues)
		e.item("Key", u.Key)
		e.enum("ReturnValuesOnConditionCheckFailure", string(u.ReturnValuesOnConditionCheckFailure))
		e.str("TableName", u.TableName)
		e.str("UpdateExpression", u.UpdateExpression)
		e.close()
	}
	e.close()
}

// The request bodies, one function per operation.

func encodeGetItem(in *GetItemInput) ([]byte, error) {
	e := &enc{b: make([]byte, 0, 256)}
	e.open()
	e.boolean("ConsistentRead", in.ConsistentRead)
	e.names("ExpressionAttributeNames", in.ExpressionAttributeNames)
	e.item("Key", in.Key)
	e.str("ProjectionExpression", in.ProjectionExpression)
	e.enum("ReturnConsumedCapacity", string(in.ReturnConsumedCapacity))
	e.str("TableName", in.TableName)
	e.close()
	return e.b, e.err
}

func encodePutItem(in *PutItemInput) ([]byte, error) {
	e := &enc{b: make([]byte, 0, 1024)}
	e.open()
	e.condition(in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	e.item("Item", in.Item)
	e.returns(in.ReturnConsumedCapacity, in.ReturnValues, in.ReturnValuesOnConditionCheckFailure)
	e.str("TableName", in.TableName)
	e.close()
	return e.b, e.err
}

func encodeUpdateItem(in *UpdateItemInput) ([]byte, error) {
	e := &enc{b: make([]byte, 0, 512)}
	e.open()
	e.condition(in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	e.item("Key", in.Key)
	e.returns(in.ReturnConsumedCapacity, in.ReturnValues, in.ReturnValuesOnConditionCheckFailure)
	e.str("TableName", in.TableName)
	e.str("UpdateExpression", in.UpdateExpression)
	e.close()
	return e.b, e.err
}

func encodeDeleteItem(in *DeleteItemInput) ([]byte, error) {
	e := &enc{b: make([]byte, 0, 256)}
	e.open()
	e.condition(in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	e.item("Key", in.Key)
	e.returns(in.ReturnConsumedCapacity, in.ReturnValues, in.ReturnValuesOnConditionCheckFailure)
	e.str("TableName", in.TableName)
	e.close()
	return e.b, e.err
}

func encodeQuery(in *QueryInput) ([]byte, error) {
	e := &enc{b: make([]byte, 0, 384)}
	e.open()
	e.boolean("ConsistentRead", in.ConsistentRead)
	e.item("ExclusiveStartKey", in.ExclusiveStartKey)
	e.names("ExpressionAttributeNames", in.ExpressionAttributeNames)
	e.item("ExpressionAttributeValues", in.ExpressionAttributeValues)
	e.str("FilterExpression", in.FilterExpression)
	e.str("IndexName", in.IndexName)
	e.str("KeyConditionExpression", in.KeyConditionExpression)
	e.int32("Limit", in.Limit)
	e.str("ProjectionExpression", in.ProjectionExpression)
	e.enum("ReturnConsumedCapacity", string(in.ReturnConsumedCapacity))
	e.boolean("ScanIndexForward", in.ScanIndexForward)
	e.enum("Select", string(in.Select))
	e.str("TableName", in.TableName)
	e.close()
	return e.b, e.err
}

// encodeTransactWriteItems writes the request with the caller's
// ClientRequestToken or, as the SDK's client does, a new random one: the
// same for every try of the call, so that DynamoDB answers a try after one
// that committed (its answer lost, or a 500) with success instead of
// evaluating the conditions again.
func encodeTransactWriteItems(in *TransactWriteItemsInput) ([]byte, error) {
	e := &enc{b: make([]byte, 0, 2048)}
	e.open()
	token := in.ClientRequestToken
	if token == nil {
		t := newToken()
		token = &t
	}
	e.str("ClientRequestToken", token)
	e.enum("ReturnConsumedCapacity", string(in.ReturnConsumedCapacity))
	if in.TransactItems != nil {
		e.key("TransactItems")
		e.b = append(e.b, '[')
		for i, t := range in.TransactItems {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.transactItem(t)
		}
		e.b = append(e.b, ']')
	}
	e.close()
	return e.b, e.err
}

func encodeBatchGetItem(in *BatchGetItemInput) ([]byte, error) {
	e := &enc{b: make([]byte, 0, 512)}
	e.open()
	if in.RequestItems != nil {
		e.key("RequestItems")
		e.open()
		for table, ka := range in.RequestItems {
			e.key(table)
			e.keysAndAttributes(ka)
		}
		e.close()
	}
	e.enum("ReturnConsumedCapacity", string(in.ReturnConsumedCapacity))
	e.close()
	return e.b, e.err
}

// newToken is a random (version 4) UUID, as the SDK's idempotency token
// provider makes them.
func newToken() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read does not fail
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
