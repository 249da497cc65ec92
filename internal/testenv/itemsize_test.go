package testenv

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The same item sized from the SDK's types and from its wire form agrees,
// and matches the size worked by hand.
func TestItemSizeAndWireItemSizeAgree(t *testing.T) {
	it := map[string]types.AttributeValue{
		"PK":   &types.AttributeValueMemberS{Value: "S#tnt#env#pay_1"},                                                               // 2 + 15
		"n":    &types.AttributeValueMemberN{Value: "-0012345"},                                                                      // 1 + (5+1)/2+1
		"ok":   &types.AttributeValueMemberBOOL{Value: true},                                                                         // 2 + 1
		"meta": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: "vv"}}}, // 4 + 3 + 1+1+2
		"l":    &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberNULL{Value: true}}},            // 1 + 3 + 1+1
		"b":    &types.AttributeValueMemberB{Value: []byte{1, 2, 3}},                                                                 // 1 + 3
	}
	wire := `{"PK":{"S":"S#tnt#env#pay_1"},"n":{"N":"-0012345"},"ok":{"BOOL":true},"meta":{"M":{"k":{"S":"vv"}}},"l":{"L":[{"NULL":true}]},"b":{"B":"AQID"}}`
	var w map[string]json.RawMessage
	if err := json.Unmarshal([]byte(wire), &w); err != nil {
		t.Fatal(err)
	}
	const want = 17 + 5 + 3 + 11 + 6 + 4
	if got := ItemSize(it); got != want {
		t.Errorf("ItemSize = %d, want %d", got, want)
	}
	if got := WireItemSize(w); got != want {
		t.Errorf("WireItemSize = %d, want %d", got, want)
	}
}
