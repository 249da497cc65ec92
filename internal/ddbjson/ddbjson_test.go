package ddbjson_test

import (
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/razorbill/razorbill/internal/awsjson"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// recorder answers every request with the next of its answers (the last
// one again when they run out; with DynamoDB's X-Amz-Crc32 unless the
// answer sets its own) and keeps the requests and their bodies.
type recorder struct {
	mu      sync.Mutex
	answers []answer
	reqs    []*http.Request
	bodies  [][]byte
}

type answer struct {
	status int
	body   string
	crc    string // "" : the body's CRC-32
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs, r.bodies = append(r.reqs, req), append(r.bodies, b)
	a := r.answers[min(len(r.reqs), len(r.answers))-1]
	crc := a.crc
	if crc == "" {
		crc = strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(a.body))), 10)
	}
	return &http.Response{StatusCode: a.status, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amz-Crc32": {crc}},
		Body: io.NopCloser(strings.NewReader(a.body)), ContentLength: int64(len(a.body)), Request: req}, nil
}

func (r *recorder) last() (*http.Request, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1], r.bodies[len(r.bodies)-1]
}

func config(d aws.HTTPClient) aws.Config {
	return aws.Config{Region: "ap-south-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "session-token"),
		HTTPClient: d, Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
}

// copyFields sets each field of dst (a pointer to a struct) from the field
// of src (a struct or a pointer to one) with the same name; it fails when
// dst has no such field or its type differs — so the inputs and outputs
// here keep the SDK's names and types. Fields named in skip are left.
func copyFields(t *testing.T, dst, src any, skip ...string) {
	t.Helper()
	d, s := reflect.ValueOf(dst).Elem(), reflect.Indirect(reflect.ValueOf(src))
	for i := range s.NumField() {
		f := s.Type().Field(i)
		if !f.IsExported() || slices.Contains(skip, f.Name) {
			continue
		}
		df := d.FieldByName(f.Name)
		if !df.IsValid() || df.Type() != f.Type {
			t.Fatalf("%s.%s (%s): the other side has %v", s.Type(), f.Name, f.Type, df)
		}
		df.Set(s.Field(i))
	}
}

// sameJSON reports whether two JSON documents hold the same values.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// every member type, nested and empty.
func everyKind() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "T#1"}, "SK": &types.AttributeValueMemberS{Value: "E#\"quoted\" \\ é \x01"},
		"n": &types.AttributeValueMemberN{Value: "1234.5600"}, "b": &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}},
		"t": &types.AttributeValueMemberBOOL{Value: true}, "f": &types.AttributeValueMemberBOOL{Value: false}, "z": &types.AttributeValueMemberNULL{Value: true},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": &types.AttributeValueMemberS{Value: "y"},
			"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "1"}, &types.AttributeValueMemberS{Value: "two"}}}}},
		"ss": &types.AttributeValueMemberSS{Value: []string{"a", "b"}}, "ns": &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
		"bs": &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}}, "e": &types.AttributeValueMemberS{Value: ""},
		"el": &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, "em": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
	}
}

func key() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "T#1"}, "SK": &types.AttributeValueMemberS{Value: "E#1"}}
}

func vals() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: "2"}, ":s": &types.AttributeValueMemberS{Value: "PAID"}}
}

// TestRequestsAreWhatTheSDKClientSends: for each operation, with every
// field Razorbill uses set, the request goes to the same host and target
// with the same content type, session token and body values as the SDK
// client's for the same input, and it asks for an uncompressed answer.
func TestRequestsAreWhatTheSDKClientSends(t *testing.T) {
	ctx := context.Background()
	table, names := aws.String("razorbill"), map[string]string{"#s": "status", "#v": "version"}
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: table, Item: everyKind(), ConditionExpression: aws.String("attribute_not_exists(PK)"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
		{Update: &types.Update{TableName: table, Key: key(), UpdateExpression: aws.String("SET #s = :s ADD #v :v"), ConditionExpression: aws.String("#v < :v"),
			ExpressionAttributeNames: names, ExpressionAttributeValues: vals()}},
		{Delete: &types.Delete{TableName: table, Key: key(), ConditionExpression: aws.String("attribute_exists(PK)")}},
		{ConditionCheck: &types.ConditionCheck{TableName: table, Key: key(), ConditionExpression: aws.String("#s = :s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: "ACTIVE"}}}},
	}
	batch := map[string]types.KeysAndAttributes{"razorbill": {Keys: []map[string]types.AttributeValue{key(), everyKind()}, ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#s, PK"), ExpressionAttributeNames: map[string]string{"#s": "status"}}, "other": {Keys: []map[string]types.AttributeValue{key()}}}
	cases := []struct {
		op       string
		ours     any
		sdk      any
		callOurs func(c *ddbjson.Client, in any) error
		callSDK  func(c *dynamodb.Client, in any) error
	}{
		{"GetItem", &ddbjson.GetItemInput{TableName: table, Key: key(), ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("#s, PK"), ExpressionAttributeNames: map[string]string{"#s": "status"}, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes},
			&dynamodb.GetItemInput{},
			func(c *ddbjson.Client, in any) error {
				_, err := c.GetItem(ctx, in.(*ddbjson.GetItemInput))
				return err
			},
			func(c *dynamodb.Client, in any) error {
				_, err := c.GetItem(ctx, in.(*dynamodb.GetItemInput))
				return err
			}},
		{"PutItem", &ddbjson.PutItemInput{TableName: table, Item: everyKind(), ConditionExpression: aws.String("attribute_not_exists(PK) OR #v < :v"), ExpressionAttributeNames: map[string]string{"#v": "version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: "3"}}, ReturnValues: types.ReturnValueAllOld,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal},
			&dynamodb.PutItemInput{},
			func(c *ddbjson.Client, in any) error {
				_, err := c.PutItem(ctx, in.(*ddbjson.PutItemInput))
				return err
			},
			func(c *dynamodb.Client, in any) error {
				_, err := c.PutItem(ctx, in.(*dynamodb.PutItemInput))
				return err
			}},
		{"UpdateItem", &ddbjson.UpdateItemInput{TableName: table, Key: key(), UpdateExpression: aws.String("SET #s = :s ADD #v :v"), ConditionExpression: aws.String("#v < :v"),
			ExpressionAttributeNames: names, ExpressionAttributeValues: vals(), ReturnValues: types.ReturnValueUpdatedNew, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld},
			&dynamodb.UpdateItemInput{},
			func(c *ddbjson.Client, in any) error {
				_, err := c.UpdateItem(ctx, in.(*ddbjson.UpdateItemInput))
				return err
			},
			func(c *dynamodb.Client, in any) error {
				_, err := c.UpdateItem(ctx, in.(*dynamodb.UpdateItemInput))
				return err
			}},
		{"DeleteItem", &ddbjson.DeleteItemInput{TableName: table, Key: key(), ConditionExpression: aws.String("#s = :s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: "DRAFT"}}, ReturnValues: types.ReturnValueAllOld},
			&dynamodb.DeleteItemInput{},
			func(c *ddbjson.Client, in any) error {
				_, err := c.DeleteItem(ctx, in.(*ddbjson.DeleteItemInput))
				return err
			},
			func(c *dynamodb.Client, in any) error {
				_, err := c.DeleteItem(ctx, in.(*dynamodb.DeleteItemInput))
				return err
			}},
		{"Query", &ddbjson.QueryInput{TableName: table, IndexName: aws.String("GSI1"), KeyConditionExpression: aws.String("GSI1PK = :p AND begins_with(GSI1SK, :s)"),
			FilterExpression: aws.String("#s = :s"), ProjectionExpression: aws.String("PK, SK"), ExpressionAttributeNames: map[string]string{"#s": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "T#1#invoices"}, ":s": &types.AttributeValueMemberS{Value: "PAID"}},
			ExclusiveStartKey:         key(), Limit: aws.Int32(25), ScanIndexForward: aws.Bool(false), ConsistentRead: aws.Bool(false), Select: types.SelectSpecificAttributes},
			&dynamodb.QueryInput{},
			func(c *ddbjson.Client, in any) error { _, err := c.Query(ctx, in.(*ddbjson.QueryInput)); return err },
			func(c *dynamodb.Client, in any) error { _, err := c.Query(ctx, in.(*dynamodb.QueryInput)); return err }},
		{"TransactWriteItems", &ddbjson.TransactWriteItemsInput{TransactItems: tx, ClientRequestToken: aws.String("tok-1"), ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes},
			&dynamodb.TransactWriteItemsInput{},
			func(c *ddbjson.Client, in any) error {
				_, err := c.TransactWriteItems(ctx, in.(*ddbjson.TransactWriteItemsInput))
				return err
			},
			func(c *dynamodb.Client, in any) error {
				_, err := c.TransactWriteItems(ctx, in.(*dynamodb.TransactWriteItemsInput))
				return err
			}},
		{"BatchGetItem", &ddbjson.BatchGetItemInput{RequestItems: batch, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal},
			&dynamodb.BatchGetItemInput{},
			func(c *ddbjson.Client, in any) error {
				_, err := c.BatchGetItem(ctx, in.(*ddbjson.BatchGetItemInput))
				return err
			},
			func(c *dynamodb.Client, in any) error {
				_, err := c.BatchGetItem(ctx, in.(*dynamodb.BatchGetItemInput))
				return err
			}},
	}
	for _, tc := range cases {
		t.Run(tc.op, func(t *testing.T) {
			ours, sdk := &recorder{answers: []answer{{200, `{}`, ""}}}, &recorder{answers: []answer{{200, `{}`, ""}}}
			c, err := ddbjson.New(config(ours))
			if err != nil {
				t.Fatal(err)
			}
			copyFields(t, tc.sdk, tc.ours)
			if err := tc.callOurs(c, tc.ours); err != nil {
				t.Fatal(err)
			}
			if err := tc.callSDK(dynamodb.NewFromConfig(config(sdk)), tc.sdk); err != nil {
				t.Fatal(err)
			}
			a, ab := ours.last()
			b, bb := sdk.last()
			if a.URL.Host != b.URL.Host || a.URL.Host != "dynamodb.ap-south-1.amazonaws.com" {
				t.Fatalf("sent to %s, the SDK to %s", a.URL.Host, b.URL.Host)
			}
			for _, h := range []string{"X-Amz-Target", "Content-Type", "X-Amz-Security-Token", "Accept-Encoding"} {
				if a.Header.Get(h) != b.Header.Get(h) {
					t.Fatalf("%s %q, the SDK sends %q", h, a.Header.Get(h), b.Header.Get(h))
				}
			}
			if !sameJSON(t, ab, bb) {
				t.Fatalf("body\n ours %s\n sdk  %s", ab, bb)
			}
		})
	}
}

// sdkOnly are the SDK outputs' fields this client does not have: the
// middleware's metadata and the item collection metrics of tables with a
// local secondary index (Razorbill's have none, and never asks for them).
var sdkOnly = []string{"ResultMetadata", "ItemCollectionMetrics"}

// itemJSON is everyKind as DynamoDB writes it.
const itemJSON = `{"PK":{"S":"T#1"},"SK":{"S":"E#\"quoted\" \\ é \u0001"},"n":{"N":"1234.5600"},"b":{"B":"AAEC/w=="},"t":{"BOOL":true},"f":{"BOOL":false},"z":{"NULL":true},` +
	`"m":{"M":{"x":{"S":"y"},"l":{"L":[{"N":"1"},{"S":"two"}]}}},"ss":{"SS":["a","b"]},"ns":{"NS":["1","2.5"]},"bs":{"BS":["AQ==","AgM="]},"e":{"S":""},"el":{"L":[]},"em":{"M":{}}}`

const capacity = `{"TableName":"razorbill","CapacityUnits":3,"WriteCapacityUnits":3,"Table":{"CapacityUnits":1},"GlobalSecondaryIndexes":{"GSI1":{"CapacityUnits":2}}}`

// TestAnswersReadAsTheSDKClientReadsThem: the same answer gives the same
// output through both clients (every attribute member kind, nested; the
// consumed capacity; a page's last key; a batch's unprocessed keys).
func TestAnswersReadAsTheSDKClientReadsThem(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		op, answer string
		ours       func(c *ddbjson.Client) (any, error)
		sdk        func(c *dynamodb.Client) (any, error)
		out        any // a new output of ours, to copy the SDK's into
	}{
		{"GetItem", `{"Item":` + itemJSON + `,"ConsumedCapacity":` + capacity + `}`,
			func(c *ddbjson.Client) (any, error) {
				return c.GetItem(ctx, &ddbjson.GetItemInput{TableName: aws.String("t"), Key: key()})
			},
			func(c *dynamodb.Client) (any, error) {
				return c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key()})
			}, &ddbjson.GetItemOutput{}},
		{"GetItem, none", `{}`,
			func(c *ddbjson.Client) (any, error) {
				return c.GetItem(ctx, &ddbjson.GetItemInput{TableName: aws.String("t"), Key: key()})
			},
			func(c *dynamodb.Client) (any, error) {
				return c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key()})
			}, &ddbjson.GetItemOutput{}},
		{"PutItem", `{"Attributes":` + itemJSON + `}`,
			func(c *ddbjson.Client) (any, error) {
				return c.PutItem(ctx, &ddbjson.PutItemInput{TableName: aws.String("t"), Item: key()})
			},
			func(c *dynamodb.Client) (any, error) {
				return c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: key()})
			}, &ddbjson.PutItemOutput{}},
		{"UpdateItem", `{"Attributes":{"seq":{"N":"42"}},"ConsumedCapacity":` + capacity + `}`,
			func(c *ddbjson.Client) (any, error) {
				return c.UpdateItem(ctx, &ddbjson.UpdateItemInput{TableName: aws.String("t"), Key: key()})
			},
			func(c *dynamodb.Client) (any, error) {
				return c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("t"), Key: key()})
			}, &ddbjson.UpdateItemOutput{}},
		{"DeleteItem", `{"Attributes":` + itemJSON + `}`,
			func(c *ddbjson.Client) (any, error) {
				return c.DeleteItem(ctx, &ddbjson.DeleteItemInput{TableName: aws.String("t"), Key: key()})
			},
			func(c *dynamodb.Client) (any, error) {
				return c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("t"), Key: key()})
			}, &ddbjson.DeleteItemOutput{}},
		{"Query", `{"Items":[` + itemJSON + `,{"PK":{"S":"T#2"}}],"Count":2,"ScannedCount":5,"LastEvaluatedKey":{"PK":{"S":"T#2"},"SK":{"S":"x"}},"ConsumedCapacity":` + capacity + `}`,
			func(c *ddbjson.Client) (any, error) {
				return c.Query(ctx, &ddbjson.QueryInput{TableName: aws.String("t")})
			},
			func(c *dynamodb.Client) (any, error) {
				return c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("t")})
			}, &ddbjson.QueryOutput{}},
		{"Query, empty page", `{"Items":[],"Count":0,"ScannedCount":0}`,
			func(c *ddbjson.Client) (any, error) {
				return c.Query(ctx, &ddbjson.QueryInput{TableName: aws.String("t")})
			},
			func(c *dynamodb.Client) (any, error) {
				return c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("t")})
			}, &ddbjson.QueryOutput{}},
		{"TransactWriteItems", `{"ConsumedCapacity":[` + capacity + `]}`,
			func(c *ddbjson.Client) (any, error) {
				return c.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String("t"), Item: key()}}}})
			},
			func(c *dynamodb.Client) (any, error) {
				return c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String("t"), Item: key()}}}})
			}, &ddbjson.TransactWriteItemsOutput{}},
		{"BatchGetItem", `{"Responses":{"razorbill":[` + itemJSON + `],"other":[]},"UnprocessedKeys":{"razorbill":{"Keys":[{"PK":{"S":"T#3"},"SK":{"S":"y"}}],"ConsistentRead":true,"ProjectionExpression":"PK"}},"ConsumedCapacity":[` + capacity + `]}`,
			func(c *ddbjson.Client) (any, error) {
				return c.BatchGetItem(ctx, &ddbjson.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"t": {Keys: []map[string]types.AttributeValue{key()}}}})
			},
			func(c *dynamodb.Client) (any, error) {
				return c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"t": {Keys: []map[string]types.AttributeValue{key()}}}})
			}, &ddbjson.BatchGetItemOutput{}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			c, err := ddbjson.New(config(&recorder{answers: []answer{{200, tc.answer, ""}}}))
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.ours(c)
			if err != nil {
				t.Fatal(err)
			}
			sdkOut, err := tc.sdk(dynamodb.NewFromConfig(config(&recorder{answers: []answer{{200, tc.answer, ""}}})))
			if err != nil {
				t.Fatal(err)
			}
			// fails on a field ours lacks, but the two we never ask for
			copyFields(t, tc.out, reflect.ValueOf(sdkOut).Elem().Interface(), sdkOnly...)
			if !reflect.DeepEqual(got, tc.out) {
				t.Fatalf("read\n%#v\nthe SDK reads\n%#v", got, tc.out)
			}
		})
	}
}

// TestErrorAnswers: a failed condition and a cancelled transaction come back
// as the SDK's exception types, with the old item and the reasons, and as
// smithy.APIErrors with DynamoDB's code; throttling and a damaged answer
// (its CRC-32 not the header's) are tried again, a validation error is not.
func TestErrorAnswers(t *testing.T) {
	ctx := context.Background()
	ok := answer{200, `{"Attributes":{"seq":{"N":"7"}}}`, ""}
	cases := []struct {
		name    string
		answers []answer
		tries   int
		check   func(t *testing.T, out *ddbjson.UpdateItemOutput, err error)
	}{
		{"a failed condition, with the item", []answer{{400, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed","Item":` + itemJSON + `}`, ""}}, 1,
			func(t *testing.T, _ *ddbjson.UpdateItemOutput, err error) {
				var ccf *types.ConditionalCheckFailedException
				if !errors.As(err, &ccf) || aws.ToString(ccf.Message) != "The conditional request failed" || !reflect.DeepEqual(ccf.Item, everyKind()) {
					t.Fatalf("%v: want a ConditionalCheckFailedException with the item (got %#v)", err, ccf)
				}
				var api smithy.APIError
				if !errors.As(err, &api) || api.ErrorCode() != "ConditionalCheckFailedException" || api.ErrorFault() != smithy.FaultClient {
					t.Fatalf("%v: not a client-fault APIError with the code", err)
				}
			}},
		{"a cancelled transaction, with its reasons", []answer{{400, `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]","CancellationReasons":[{"Code":"None"},{"Code":"ConditionalCheckFailed","Message":"The conditional request failed","Item":{"PK":{"S":"T#1"}}}]}`, ""}}, 1,
			func(t *testing.T, _ *ddbjson.UpdateItemOutput, err error) {
				var tc *types.TransactionCanceledException
				if !errors.As(err, &tc) || len(tc.CancellationReasons) != 2 || aws.ToString(tc.CancellationReasons[0].Code) != "None" ||
					aws.ToString(tc.CancellationReasons[1].Code) != "ConditionalCheckFailed" || tc.CancellationReasons[1].Item["PK"].(*types.AttributeValueMemberS).Value != "T#1" ||
					!strings.HasPrefix(tc.ErrorMessage(), "Transaction cancelled") {
					t.Fatalf("%v: want the reasons (got %#v)", err, tc)
				}
			}},
		{"throttled, then ok", []answer{{400, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`, ""}, ok}, 2,
			func(t *testing.T, out *ddbjson.UpdateItemOutput, err error) {
				if err != nil || out.Attributes["seq"].(*types.AttributeValueMemberN).Value != "7" {
					t.Fatalf("%v %#v", err, out)
				}
			}},
		{"a damaged answer: an error, not tried again (the write happened)", []answer{{200, ok.body, "12345"}, ok}, 1,
			func(t *testing.T, _ *ddbjson.UpdateItemOutput, err error) {
				var e *awsjson.Error
				if !errors.As(err, &e) || !strings.Contains(e.Message, "CRC-32") || e.Retry {
					t.Fatalf("%v: want the CRC-32 mismatch", err)
				}
			}},
		{"an empty 200: no attributes, as the SDK reads it", []answer{{200, "", ""}}, 1,
			func(t *testing.T, out *ddbjson.UpdateItemOutput, err error) {
				if err != nil || out.Attributes != nil {
					t.Fatalf("%v %#v", err, out)
				}
			}},
		{"a 500 after the write: tried again", []answer{{500, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}`, ""}, ok}, 2,
			func(t *testing.T, out *ddbjson.UpdateItemOutput, err error) {
				if err != nil || out.Attributes["seq"].(*types.AttributeValueMemberN).Value != "7" {
					t.Fatalf("%v %#v", err, out)
				}
			}},
		{"a validation error: not tried again", []answer{{400, `{"__type":"com.amazon.coral.validate#ValidationException","message":"One or more parameter values were invalid"}`, ""}}, 1,
			func(t *testing.T, _ *ddbjson.UpdateItemOutput, err error) {
				var api smithy.APIError
				if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" || api.ErrorMessage() != "One or more parameter values were invalid" {
					t.Fatalf("%v", err)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{answers: tc.answers}
			c, err := ddbjson.New(config(r))
			if err != nil {
				t.Fatal(err)
			}
			c.Backoff = time.Millisecond
			out, err := c.UpdateItem(ctx, &ddbjson.UpdateItemInput{TableName: aws.String("t"), Key: key(), UpdateExpression: aws.String("ADD seq :v"), ExpressionAttributeValues: vals()})
			if len(r.reqs) != tc.tries {
				t.Fatalf("%d tries, want %d (%v)", len(r.reqs), tc.tries, err)
			}
			tc.check(t, out, err)
		})
	}
	// An attribute value the client cannot write is refused before sending.
	r := &recorder{answers: []answer{ok}}
	c, _ := ddbjson.New(config(r))
	if _, err := c.PutItem(ctx, &ddbjson.PutItemInput{TableName: aws.String("t"), Item: map[string]types.AttributeValue{"x": nil}}); err == nil || len(r.reqs) != 0 {
		t.Fatalf("a nil attribute value: %v, %d requests", err, len(r.reqs))
	}
}

// TestAgainstDynamoDBLocal: what this client writes, DynamoDB Local stores
// as the SDK's client reads it back; what it reads equals what the SDK's
// client reads; conditions, transactions, pages and batches behave alike.
func TestAgainstDynamoDBLocal(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	ctx := context.Background()
	c, err := ddbjson.New(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	table := aws.String(env.Table())
	it := everyKind()
	if _, err := c.PutItem(ctx, &ddbjson.PutItemInput{TableName: table, Item: it, ConditionExpression: aws.String("attribute_not_exists(PK)")}); err != nil {
		t.Fatal(err)
	}
	k := map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]}
	ours, err := c.GetItem(ctx, &ddbjson.GetItemInput{TableName: table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	sdk, err := env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ours.Item) != len(it) || !reflect.DeepEqual(ours.Item, sdk.Item) {
		t.Fatalf("read back\n%#v\nthe SDK reads\n%#v", ours.Item, sdk.Item)
	}

	// The same condition fails again: the same exception as the SDK's.
	_, oursErr := c.PutItem(ctx, &ddbjson.PutItemInput{TableName: table, Item: it, ConditionExpression: aws.String("attribute_not_exists(PK)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	_, sdkErr := env.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: it, ConditionExpression: aws.String("attribute_not_exists(PK)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var a, b *types.ConditionalCheckFailedException
	if !errors.As(oursErr, &a) || !errors.As(sdkErr, &b) || !reflect.DeepEqual(a.Item, b.Item) {
		t.Fatalf("a failed condition: %v (%#v), the SDK: %v (%#v)", oursErr, a, sdkErr, b)
	}

	// Ten more items in the same partition, read in pages of four, newest first.
	for i := range 10 {
		if _, err := c.UpdateItem(ctx, &ddbjson.UpdateItemInput{TableName: table, Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "T#1"}, "SK": &types.AttributeValueMemberS{Value: "I#" + strconv.Itoa(i)}},
			UpdateExpression: aws.String("ADD #n :one"), ExpressionAttributeNames: map[string]string{"#n": "n"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	var start map[string]types.AttributeValue
	for page := 0; ; page++ {
		q := &ddbjson.QueryInput{TableName: table, KeyConditionExpression: aws.String("PK = :p AND begins_with(SK, :i)"), ExclusiveStartKey: start, Limit: aws.Int32(4), ScanIndexForward: aws.Bool(false),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "T#1"}, ":i": &types.AttributeValueMemberS{Value: "I#"}}}
		out, err := c.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var sq dynamodb.QueryInput
		copyFields(t, &sq, q)
		sout, err := env.DynamoDB.Query(ctx, &sq)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out.Items, sout.Items) || !reflect.DeepEqual(out.LastEvaluatedKey, sout.LastEvaluatedKey) || out.Count != sout.Count {
			t.Fatalf("page %d differs from the SDK's", page)
		}
		for _, i := range out.Items {
			seen = append(seen, i["SK"].(*types.AttributeValueMemberS).Value)
		}
		if start = out.LastEvaluatedKey; start == nil {
			break
		}
	}
	if strings.Join(seen, ",") != "I#9,I#8,I#7,I#6,I#5,I#4,I#3,I#2,I#1,I#0" {
		t.Fatalf("pages read %v", seen)
	}

	// A transaction whose second condition fails writes nothing and says why.
	tx := &ddbjson.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: table, Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "T#1"}, "SK": &types.AttributeValueMemberS{Value: "I#0"}},
			UpdateExpression: aws.String("SET #n = :v"), ExpressionAttributeNames: map[string]string{"#n": "n"}, ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: "100"}}}},
		{ConditionCheck: &types.ConditionCheck{TableName: table, Key: k, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}}
	_, err = c.TransactWriteItems(ctx, tx)
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) || len(tc.CancellationReasons) != 2 || aws.ToString(tc.CancellationReasons[1].Code) != "ConditionalCheckFailed" {
		t.Fatalf("a cancelled transaction: %v (%#v)", err, tc)
	}
	got, err := c.GetItem(ctx, &ddbjson.GetItemInput{TableName: table, Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "T#1"}, "SK": &types.AttributeValueMemberS{Value: "I#0"}}, ConsistentRead: aws.Bool(true)})
	if err != nil || got.Item["n"].(*types.AttributeValueMemberN).Value != "1" {
		t.Fatalf("after the cancelled transaction: %v %#v", err, got)
	}
	tx.TransactItems[1].ConditionCheck.ConditionExpression = aws.String("attribute_exists(PK)")
	if _, err := c.TransactWriteItems(ctx, tx); err != nil {
		t.Fatal(err)
	}

	// A batch of three keys, one absent; then the last, deleted.
	keys := []map[string]types.AttributeValue{k,
		{"PK": &types.AttributeValueMemberS{Value: "T#1"}, "SK": &types.AttributeValueMemberS{Value: "I#0"}},
		{"PK": &types.AttributeValueMemberS{Value: "T#1"}, "SK": &types.AttributeValueMemberS{Value: "absent"}}}
	bg, err := c.BatchGetItem(ctx, &ddbjson.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{env.Table(): {Keys: keys, ConsistentRead: aws.Bool(true)}}})
	if err != nil {
		t.Fatal(err)
	}
	if rs := bg.Responses[env.Table()]; len(rs) != 2 || len(bg.UnprocessedKeys) != 0 {
		t.Fatalf("batch: %d items, unprocessed %v", len(rs), bg.UnprocessedKeys)
	}
	for _, r := range bg.Responses[env.Table()] {
		if r["SK"].(*types.AttributeValueMemberS).Value == "I#0" && r["n"].(*types.AttributeValueMemberN).Value != "100" {
			t.Fatalf("the committed transaction's write: %#v", r)
		}
	}
	del, err := c.DeleteItem(ctx, &ddbjson.DeleteItemInput{TableName: table, Key: k, ReturnValues: types.ReturnValueAllOld})
	if err != nil || !reflect.DeepEqual(del.Attributes, ours.Item) {
		t.Fatalf("delete: %v, old item %#v", err, del)
	}
	if after, err := c.GetItem(ctx, &ddbjson.GetItemInput{TableName: table, Key: k, ConsistentRead: aws.Bool(true)}); err != nil || after.Item != nil {
		t.Fatalf("after the delete: %v %#v", err, after)
	}
}

// TestAPIOptionsSeeEveryCall: a middleware from the config's APIOptions
// (how the local stack and the benchmarks watch the functions' calls) sees
// each call's service, operation, input and output, as with the SDK's
// client; without APIOptions there is no stack to see.
func TestAPIOptionsSeeEveryCall(t *testing.T) {
	type seen struct {
		svc, op string
		in, out any
	}
	var got []seen
	cfg := config(&recorder{answers: []answer{{200, `{"Item":{"PK":{"S":"x"}}}`, ""}}})
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("watch", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			got = append(got, seen{awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), in.Parameters, out.Result})
			return out, md, err
		}), middleware.After)
	})
	c, err := ddbjson.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in := &ddbjson.GetItemInput{TableName: aws.String("t"), Key: key()}
	out, err := c.GetItem(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].svc != "DynamoDB" || got[0].op != "GetItem" || got[0].in != any(in) || got[0].out != any(out) {
		t.Fatalf("the middleware saw %+v", got)
	}
}

// TestATransactionWithoutATokenGetsOneForAllItsTries: a TransactWriteItems
// without a ClientRequestToken is sent with a random one, the same on each
// try of the call and another on the next call (the SDK's client does the
// same); with it, DynamoDB Local answers a transaction sent again after it
// committed with success, where without it the conditions fail.
func TestATransactionWithoutATokenGetsOneForAllItsTries(t *testing.T) {
	ctx := context.Background()
	r := &recorder{answers: []answer{{500, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"x"}`, ""}, {200, `{}`, ""}}}
	c, err := ddbjson.New(config(r))
	if err != nil {
		t.Fatal(err)
	}
	c.Backoff = time.Millisecond
	in := &ddbjson.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String("t"), Item: key()}}}}
	for range 2 {
		if _, err := c.TransactWriteItems(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	var tokens []string
	for _, b := range r.bodies {
		var body struct{ ClientRequestToken string }
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, body.ClientRequestToken)
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if len(tokens) != 3 || !uuid.MatchString(tokens[0]) || tokens[1] != tokens[0] || tokens[2] == tokens[0] || !uuid.MatchString(tokens[2]) || in.ClientRequestToken != nil {
		t.Fatalf("tokens %q (want one per call, the same on its two tries; the input left as it was)", tokens)
	}

	env := testenv.AWS(t)
	db, err := ddbjson.New(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	k := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "T#tok"}, "SK": &types.AttributeValueMemberS{Value: "A"}}
	tx := func(token *string) error {
		_, err := db.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{ClientRequestToken: token, TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(env.Table()), Item: k, ConditionExpression: aws.String("attribute_not_exists(PK)")}}}})
		return err
	}
	token := aws.String(tokens[0])
	if err := tx(token); err != nil {
		t.Fatal(err)
	}
	if err := tx(token); err != nil {
		t.Fatalf("the same transaction with the same token: %v, want success", err)
	}
	var tc *types.TransactionCanceledException
	if err := tx(nil); !errors.As(err, &tc) {
		t.Fatalf("the same transaction with a new token: %v, want its condition to fail", err)
	}
}

// BenchmarkQueryPage reads one Query answer of 100 items of every member
// kind (itemJSON, about 0.4 KB each) through this client and through the
// SDK's, over an in-memory transport: the decoding of a large page, which
// GetItem's one item does not show.
func BenchmarkQueryPage(b *testing.B) {
	page := `{"Count":100,"ScannedCount":100,"Items":[` + strings.Repeat(itemJSON+",", 99) + itemJSON + `]}`
	ctx := context.Background()
	b.Run("ddbjson", func(b *testing.B) {
		c, err := ddbjson.New(config(&fixed{body: page}))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			out, err := c.Query(ctx, &ddbjson.QueryInput{TableName: aws.String("t")})
			if err != nil || len(out.Items) != 100 {
				b.Fatal(err)
			}
		}
	})
	b.Run("SDKClient", func(b *testing.B) {
		c := dynamodb.NewFromConfig(config(&fixed{body: page}))
		b.ReportAllocs()
		for b.Loop() {
			out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("t")})
			if err != nil || len(out.Items) != 100 {
				b.Fatal(err)
			}
		}
	})
}

// fixed answers every request with body and its CRC-32, keeping nothing.
type fixed struct{ body string }

func (f *fixed) Do(req *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, req.Body)
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"},
		"X-Amz-Crc32": {strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(f.body))), 10)}},
		Body: io.NopCloser(strings.NewReader(f.body)), ContentLength: int64(len(f.body)), Request: req}, nil
}
