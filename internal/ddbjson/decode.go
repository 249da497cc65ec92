package ddbjson

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// wireAV is an attribute value as DynamoDB writes it: exactly one member.
type wireAV struct {
	S    *string            `json:"S"`
	N    *string            `json:"N"`
	B    *[]byte            `json:"B"`
	BOOL *bool              `json:"BOOL"`
	NULL *bool              `json:"NULL"`
	M    *map[string]wireAV `json:"M"`
	L    *[]wireAV          `json:"L"`
	SS   *[]string          `json:"SS"`
	NS   *[]string          `json:"NS"`
	BS   *[][]byte          `json:"BS"`
}

var errNoMember = errors.New("ddbjson: an attribute value with no member")

func (w *wireAV) value() (types.AttributeValue, error) {
	switch {
	case w.S != nil:
		return &types.AttributeValueMemberS{Value: *w.S}, nil
	case w.N != nil:
		return &types.AttributeValueMemberN{Value: *w.N}, nil
	case w.B != nil:
		return &types.AttributeValueMemberB{Value: *w.B}, nil
	case w.BOOL != nil:
		return &types.AttributeValueMemberBOOL{Value: *w.BOOL}, nil
	case w.NULL != nil:
		return &types.AttributeValueMemberNULL{Value: *w.NULL}, nil
	case w.M != nil:
		m, err := item(*w.M)
		return &types.AttributeValueMemberM{Value: m}, err
	case w.L != nil:
		l := make([]types.AttributeValue, len(*w.L))
		for i := range *w.L {
			v, err := (*w.L)[i].value()
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case w.SS != nil:
		return &types.AttributeValueMemberSS{Value: *w.SS}, nil
	case w.NS != nil:
		return &types.AttributeValueMemberNS{Value: *w.NS}, nil
	case w.BS != nil:
		return &types.AttributeValueMemberBS{Value: *w.BS}, nil
	}
	return nil, errNoMember
}

// item converts a decoded item (nil stays nil).
func item(m map[string]wireAV) (map[string]types.AttributeValue, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, w := range m {
		v, err := w.value()
		if err != nil {
			return nil, fmt.Errorf("%w (attribute %q)", err, k)
		}
		out[k] = v
	}
	return out, nil
}

func items(ms []map[string]wireAV) ([]map[string]types.AttributeValue, error) {
	if ms == nil {
		return nil, nil
	}
	out := make([]map[string]types.AttributeValue, len(ms))
	for i, m := range ms {
		it, err := item(m)
		if err != nil {
			return nil, err
		}
		out[i] = it
	}
	return out, nil
}

type wireKeysAndAttributes struct {
	AttributesToGet          []string
	ConsistentRead           *bool
	ExpressionAttributeNames map[string]string
	Keys                     []map[string]wireAV
	ProjectionExpression     *string
}

func (w wireKeysAndAttributes) value() (types.KeysAndAttributes, error) {
	keys, err := items(w.Keys)
	return types.KeysAndAttributes{AttributesToGet: w.AttributesToGet, ConsistentRead: w.ConsistentRead,
		ExpressionAttributeNames: w.ExpressionAttributeNames, Keys: keys, ProjectionExpression: w.ProjectionExpression}, err
}

// The answers' wire shapes. ConsumedCapacity is the SDK's type: plain
// fields that encoding/json reads as they are.

type wireAttributes struct {
	Attributes       map[string]wireAV
	ConsumedCapacity *types.ConsumedCapacity
}

type wireGetItem struct {
	Item             map[string]wireAV
	ConsumedCapacity *types.ConsumedCapacity
}

type wireQuery struct {
	Items            []map[string]wireAV
	Count            int32
	ScannedCount     int32
	LastEvaluatedKey map[string]wireAV
	ConsumedCapacity *types.ConsumedCapacity
}

type wireTransactWrite struct {
	ConsumedCapacity []types.ConsumedCapacity
}

type wireBatchGet struct {
	Responses        map[string][]map[string]wireAV
	UnprocessedKeys  map[string]wireKeysAndAttributes
	ConsumedCapacity []types.ConsumedCapacity
}

func (w *wireBatchGet) value() (*BatchGetItemOutput, error) {
	out := &BatchGetItemOutput{ConsumedCapacity: w.ConsumedCapacity}
	if w.Responses != nil {
		out.Responses = make(map[string][]map[string]types.AttributeValue, len(w.Responses))
		for table, ms := range w.Responses {
			its, err := items(ms)
			if err != nil {
				return nil, err
			}
			out.Responses[table] = its
		}
	}
	if w.UnprocessedKeys != nil {
		out.UnprocessedKeys = make(map[string]types.KeysAndAttributes, len(w.UnprocessedKeys))
		for table, ka := range w.UnprocessedKeys {
			v, err := ka.value()
			if err != nil {
				return nil, err
			}
			out.UnprocessedKeys[table] = v
		}
	}
	return out, nil
}

// The error answers this client reads beyond their code and message: the
// SDK's exception types, so that callers' errors.As checks find them.

type wireConditionalCheckFailed struct {
	Item map[string]wireAV
}

type wireTransactionCanceled struct {
	CancellationReasons []struct {
		Code    *string
		Message *string
		Item    map[string]wireAV
	}
}

// exception is the SDK's typed exception for an error answer of these two
// codes (nil for any other code, or a body that does not decode).
func exception(code, message string, body []byte) error {
	switch code {
	case "ConditionalCheckFailedException":
		var w wireConditionalCheckFailed
		if json.Unmarshal(body, &w) != nil {
			return nil
		}
		it, err := item(w.Item)
		if err != nil {
			return nil
		}
		return &types.ConditionalCheckFailedException{Message: &message, Item: it}
	case "TransactionCanceledException":
		var w wireTransactionCanceled
		if json.Unmarshal(body, &w) != nil {
			return nil
		}
		e := &types.TransactionCanceledException{Message: &message}
		for _, r := range w.CancellationReasons {
			it, err := item(r.Item)
			if err != nil {
				return nil
			}
			e.CancellationReasons = append(e.CancellationReasons, types.CancellationReason{Code: r.Code, Message: r.Message, Item: it})
		}
		return e
	}
	return nil
}
