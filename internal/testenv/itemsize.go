package testenv

import (
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ItemSize is an item's size as DynamoDB bills it: each attribute's name
// plus its value — strings their UTF-8 bytes, binaries their bytes,
// numbers about 1 byte per 2 significant digits plus 1, booleans and nulls
// 1, lists and maps 3 plus 1 per element plus their elements (and, in maps,
// the keys), sets the sum of their members. Tests that price writes from
// item sizes use it (DynamoDB Local's reported capacity does not follow
// them for transactions).
func ItemSize(it map[string]types.AttributeValue) int {
	n := 0
	for k, v := range it {
		n += len(k) + ValueSize(v)
	}
	return n
}

// ValueSize is one attribute value's part of ItemSize.
func ValueSize(v types.AttributeValue) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		return numberSize(x.Value)
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range x.Value {
			n += 1 + len(k) + ValueSize(e)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range x.Value {
			n += 1 + ValueSize(e)
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 0
		for _, e := range x.Value {
			n += len(e)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, e := range x.Value {
			n += numberSize(e)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, e := range x.Value {
			n += len(e)
		}
		return n
	}
	return 0
}

// WireItemSize is ItemSize of an item in DynamoDB's JSON wire form (what a
// proxy between a client and DynamoDB sees).
func WireItemSize(item map[string]json.RawMessage) int {
	n := 0
	for name, v := range item {
		n += len(name) + ValueSize(wireValue(v))
	}
	return n
}

// wireValue decodes one wire-form attribute value ({"S": …}, {"N": …}, …);
// an unreadable one is nil (size 0).
func wireValue(raw json.RawMessage) types.AttributeValue {
	var v map[string]json.RawMessage
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	for typ, val := range v {
		switch typ {
		case "S":
			var s string
			_ = json.Unmarshal(val, &s)
			return &types.AttributeValueMemberS{Value: s}
		case "N":
			var s string
			_ = json.Unmarshal(val, &s)
			return &types.AttributeValueMemberN{Value: s}
		case "B":
			var b []byte // base64 on the wire
			_ = json.Unmarshal(val, &b)
			return &types.AttributeValueMemberB{Value: b}
		case "BOOL":
			return &types.AttributeValueMemberBOOL{}
		case "NULL":
			return &types.AttributeValueMemberNULL{}
		case "SS":
			var ss []string
			_ = json.Unmarshal(val, &ss)
			return &types.AttributeValueMemberSS{Value: ss}
		case "NS":
			var ss []string
			_ = json.Unmarshal(val, &ss)
			return &types.AttributeValueMemberNS{Value: ss}
		case "BS":
			var bs [][]byte
			_ = json.Unmarshal(val, &bs)
			return &types.AttributeValueMemberBS{Value: bs}
		case "L":
			var l []json.RawMessage
			_ = json.Unmarshal(val, &l)
			out := &types.AttributeValueMemberL{Value: make([]types.AttributeValue, 0, len(l))}
			for _, e := range l {
				out.Value = append(out.Value, wireValue(e))
			}
			return out
		case "M":
			var m map[string]json.RawMessage
			_ = json.Unmarshal(val, &m)
			out := &types.AttributeValueMemberM{Value: make(map[string]types.AttributeValue, len(m))}
			for k, e := range m {
				out.Value[k] = wireValue(e)
			}
			return out
		}
	}
	return nil
}

// numberSize: about 1 byte per 2 significant digits, plus 1.
func numberSize(s string) int {
	digits := 0
	for _, r := range strings.TrimLeft(strings.TrimLeft(s, "-"), "0.") {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return (digits+1)/2 + 1
}
