// Package ddbjson calls DynamoDB's item operations — GetItem, PutItem,
// UpdateItem, DeleteItem, Query, TransactWriteItems and BatchGetItem — over
// its JSON protocol (AWS JSON 1.0, `X-Amz-Target: DynamoDB_20120810.<op>`),
// signed with Signature Version 4 by internal/awsjson, without the SDK's
// DynamoDB client.
//
// It exists for the functions' start and CPU (issue 17): linking the SDK's
// DynamoDB client runs its package init, which builds its endpoint tables
// (82 KB in 680 allocations, 0.4–0.7 ms of a function's start measured with
// GODEBUG=inittrace=1, docs/benchmarks.md §4), and each of its calls runs
// its middleware stack (a GetItem: 66.9 µs of CPU and 407 allocations,
// docs/benchmarks.md §1).
//
// Inputs and outputs have the SDK's field names and member types
// (service/dynamodb/types: AttributeValue, TransactWriteItem,
// ConsumedCapacity, …), so a caller moves from the SDK's client by changing
// the package of its input types. The wire shapes follow the DynamoDB API
// reference (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/,
// "Data Types" › AttributeValue; each operation's request and response
// syntax; "Common Errors"). As the SDK's client does:
//   - a TransactWriteItems without a ClientRequestToken gets a random one,
//     the same for each try, so a try after one that committed succeeds;
//   - answers are asked for uncompressed (Accept-Encoding: identity) and a
//     200's X-Amz-Crc32 (the CRC-32 of the body) is checked; unlike the SDK,
//     which logs a mismatch and uses the answer, a damaged answer is an
//     error — not tried again: the write it answers happened;
//   - a try has no time limit of its own (a write that committed and was
//     tried again would fail its condition and be misreported);
//   - ConditionalCheckFailedException and TransactionCanceledException come
//     back as the SDK's exception types (with the item and the
//     cancellation reasons), wrapped in an *awsjson.Error; every error
//     answer is an *awsjson.Error, a smithy.APIError with DynamoDB's code.
//
// Unlike the SDK's client: a call is tried at most cfg.RetryMaxAttempts
// times (3 by default) with pauses of 25–50 ms and 50–100 ms (the SDK's
// standard retryer pauses longer, at random, and keeps a retry quota;
// cfg.Retryer and the retry mode are not read); an attribute member this
// client does not know in an answer is an error (the SDK returns
// types.UnknownUnionMember); there are no FIPS or dual-stack endpoints.
//
// Its tests hold it to the SDK's client: the same operation, target and
// body for the same input, the same output for the same answer, and both
// against DynamoDB Local.
package ddbjson

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/razorbill/razorbill/internal/awsjson"
)

// Client calls DynamoDB in one region.
type Client struct {
	*awsjson.Client // Now, Attempts and Backoff are its
	region          string
	apiOptions      []func(*middleware.Stack) error
}

// New returns a client signing with cfg's region and credentials, sending
// through cfg.HTTPClient (when set) to cfg's DynamoDB endpoint (BaseEndpoint,
// AWS_ENDPOINT_URL_DYNAMODB, else https://dynamodb.<region>.amazonaws.com)
// and trying cfg.RetryMaxAttempts times (when set; else 3, the SDK's
// default).
func New(cfg aws.Config) (*Client, error) {
	c, err := awsjson.New(cfg, awsjson.DynamoDB, nil)
	if err != nil {
		return nil, fmt.Errorf("ddbjson: %w", err)
	}
	c.AttemptTimeout = 0
	c.MaxAnswer = 64 << 20 // a BatchGetItem returns up to 16 MB of items, more in JSON
	c.AcceptIdentity = true
	c.Verify = checkCRC32
	return &Client{Client: c, region: cfg.Region, apiOptions: cfg.APIOptions}, nil
}

// observe calls call, through a middleware stack of cfg.APIOptions when the
// config has any. The tests and benchmarks watch calls that way (operation,
// input, output; the local stack's recorder, the benchmarks' meters), as
// they watch the SDK's clients: the stack's Initialize step sees the
// operation's input as Parameters and its output as Result, with the
// service id and operation name in the context. Without APIOptions (the
// deployed functions) there is no stack.
func (c *Client) observe(ctx context.Context, op string, in any, call func(context.Context) (any, error)) (any, error) {
	if len(c.apiOptions) == 0 {
		return call(ctx)
	}
	stack := middleware.NewStack(op, func() any { return nil })
	if err := stack.Initialize.Add(&awsmiddleware.RegisterServiceMetadata{ServiceID: "DynamoDB", SigningName: "dynamodb", Region: c.region, OperationName: op}, middleware.Before); err != nil {
		return nil, err
	}
	// The handler's output reaches the Deserialize step as the raw
	// response: it is the operation's result (the SDK's deserializer's job).
	if err := stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("ddbjsonResult", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleDeserialize(ctx, in)
		out.Result = out.RawResponse
		return out, md, err
	}), middleware.After); err != nil {
		return nil, err
	}
	for _, f := range c.apiOptions {
		if err := f(stack); err != nil {
			return nil, err
		}
	}
	out, _, err := stack.HandleMiddleware(ctx, in, middleware.HandlerFunc(func(ctx context.Context, _ any) (any, middleware.Metadata, error) {
		out, err := call(ctx)
		return out, middleware.Metadata{}, err
	}))
	return out, err
}

// checkCRC32 checks the answer against its X-Amz-Crc32 header, if any.
func checkCRC32(h http.Header, body []byte) error {
	v := h.Get("X-Amz-Crc32")
	if v == "" {
		return nil
	}
	want, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return fmt.Errorf("X-Amz-Crc32 %q is not a number", v)
	}
	if got := crc32.ChecksumIEEE(body); got != uint32(want) {
		return fmt.Errorf("the body's CRC-32 is %d, X-Amz-Crc32 says %d", got, want)
	}
	return nil
}

// call sends op's body and decodes the answer into out. An error answer
// of the two codes callers look into is given the SDK's exception type.
func (c *Client) call(ctx context.Context, op string, body []byte, out any) error {
	raw, err := c.Call(ctx, op, body)
	if err != nil {
		var e *awsjson.Error
		if errors.As(err, &e) && e.Err == nil {
			if x := exception(e.Code, e.Message, e.Body); x != nil {
				e.Err = x
			}
		}
		return err
	}
	if len(raw) == 0 {
		raw = []byte("{}") // the SDK reads an empty body as no fields
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return c.Unreadable(op, raw, err)
	}
	return nil
}

// decodeErr is the error of an answer whose attribute values do not decode.
func decodeErr(op string, err error) error {
	return &awsjson.Error{Service: "dynamodb", Op: op, Status: http.StatusOK, Message: "unreadable answer: " + err.Error(), Err: err}
}

// run makes one call of op: the request encoded (after APIOptions'
// middleware has seen the input, as the SDK serializes after it), sent,
// and the answer's wire shape W converted to the output O.
func run[W, O any](c *Client, ctx context.Context, op string, in any, encode func() ([]byte, error), convert func(*W) (*O, error)) (*O, error) {
	out, err := c.observe(ctx, op, in, func(ctx context.Context) (any, error) {
		body, err := encode()
		if err != nil {
			return nil, c.EncodingFailed(op, err)
		}
		var w W
		if err := c.call(ctx, op, body, &w); err != nil {
			return nil, err
		}
		o, err := convert(&w)
		if err != nil {
			return nil, decodeErr(op, err)
		}
		return o, nil
	})
	if err != nil {
		return nil, err
	}
	return out.(*O), nil
}

// GetItem reads one item.
func (c *Client) GetItem(ctx context.Context, in *GetItemInput) (*GetItemOutput, error) {
	return run(c, ctx, "GetItem", in, func() ([]byte, error) { return encodeGetItem(in) }, func(w *wireGetItem) (*GetItemOutput, error) {
		it, err := item(w.Item)
		return &GetItemOutput{Item: it, ConsumedCapacity: w.ConsumedCapacity}, err
	})
}

// PutItem writes one item.
func (c *Client) PutItem(ctx context.Context, in *PutItemInput) (*PutItemOutput, error) {
	return run(c, ctx, "PutItem", in, func() ([]byte, error) { return encodePutItem(in) }, func(w *wireAttributes) (*PutItemOutput, error) {
		at, err := item(w.Attributes)
		return &PutItemOutput{Attributes: at, ConsumedCapacity: w.ConsumedCapacity}, err
	})
}

// UpdateItem changes one item.
func (c *Client) UpdateItem(ctx context.Context, in *UpdateItemInput) (*UpdateItemOutput, error) {
	return run(c, ctx, "UpdateItem", in, func() ([]byte, error) { return encodeUpdateItem(in) }, func(w *wireAttributes) (*UpdateItemOutput, error) {
		at, err := item(w.Attributes)
		return &UpdateItemOutput{Attributes: at, ConsumedCapacity: w.ConsumedCapacity}, err
	})
}

// DeleteItem deletes one item.
func (c *Client) DeleteItem(ctx context.Context, in *DeleteItemInput) (*DeleteItemOutput, error) {
	return run(c, ctx, "DeleteItem", in, func() ([]byte, error) { return encodeDeleteItem(in) }, func(w *wireAttributes) (*DeleteItemOutput, error) {
		at, err := item(w.Attributes)
		return &DeleteItemOutput{Attributes: at, ConsumedCapacity: w.ConsumedCapacity}, err
	})
}

// Query reads one page of a partition (of the table or an index).
func (c *Client) Query(ctx context.Context, in *QueryInput) (*QueryOutput, error) {
	return run(c, ctx, "Query", in, func() ([]byte, error) { return encodeQuery(in) }, func(w *wireQuery) (*QueryOutput, error) {
		its, err := items(w.Items)
		if err != nil {
			return nil, err
		}
		last, err := item(w.LastEvaluatedKey)
		return &QueryOutput{Items: its, Count: w.Count, ScannedCount: w.ScannedCount, LastEvaluatedKey: last, ConsumedCapacity: w.ConsumedCapacity}, err
	})
}

// TransactWriteItems writes up to 100 items, all or none.
func (c *Client) TransactWriteItems(ctx context.Context, in *TransactWriteItemsInput) (*TransactWriteItemsOutput, error) {
	return run(c, ctx, "TransactWriteItems", in, func() ([]byte, error) { return encodeTransactWriteItems(in) }, func(w *wireTransactWrite) (*TransactWriteItemsOutput, error) {
		return &TransactWriteItemsOutput{ConsumedCapacity: w.ConsumedCapacity}, nil
	})
}

// BatchGetItem reads up to 100 items in one request; the keys DynamoDB did
// not get to are in UnprocessedKeys.
func (c *Client) BatchGetItem(ctx context.Context, in *BatchGetItemInput) (*BatchGetItemOutput, error) {
	return run(c, ctx, "BatchGetItem", in, func() ([]byte, error) { return encodeBatchGetItem(in) }, (*wireBatchGet).value)
}
