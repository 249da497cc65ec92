package localstack_test

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/localstack"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// grantedActions is what each function's IAM role allows on the table and
// the queues (infra/cdk: minimumTableActions and TestFunctionPermissions,
// written out there too). Every local stack test records the DynamoDB and
// SQS calls each function makes and fails if one is not granted here: the
// minimum in the template is also enough for the code.
var grantedActions = map[string][]string{
	"api":                  {"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem", "sqs:SendMessage"},
	"payment-link-creator": {"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
	"webhook-receiver":     {"dynamodb:GetItem", "sqs:SendMessage"},
	"payment-reconciler":   {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
	"customer-syncer":      {"dynamodb:GetItem", "dynamodb:PutItem"},
	"invoice-syncer":       {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
	"stream-relay":         {"sqs:SendMessage"},
	"gateway-sweeper":      {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem", "sqs:SendMessage"},
	"usage-ingest":         {"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
	"usage-aggregator":     {"dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:Query"},
	"period-close":         {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
}

// callRecorder notes, per function (from the invocation's lambdacontext),
// the IAM action of every DynamoDB and SQS call: a transaction counts as
// the action of each of its parts, a batch send as SendMessage.
type callRecorder struct {
	mu   sync.Mutex
	seen map[string]map[string]bool
}

func newCallRecorder() *callRecorder { return &callRecorder{seen: map[string]map[string]bool{}} }

func (r *callRecorder) note(fn string, actions ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[fn] == nil {
		r.seen[fn] = map[string]bool{}
	}
	for _, a := range actions {
		r.seen[fn][a] = true
	}
}

// wrap records every SQS call a function makes, from the request's
// X-Amz-Target at the HTTP client: the SDK client's and the webhook
// receiver's internal/sqsjson send, which no SDK middleware sees.
func (r *callRecorder) wrap(next aws.HTTPClient) aws.HTTPClient {
	return recordingClient{next: next, r: r}
}

type recordingClient struct {
	next aws.HTTPClient
	r    *callRecorder
}

func (c recordingClient) Do(req *http.Request) (*http.Response, error) {
	if op, ok := strings.CutPrefix(req.Header.Get("X-Amz-Target"), "AmazonSQS."); ok {
		if lc, ok := lambdacontext.FromContext(req.Context()); ok {
			_, fn, _ := strings.Cut(lc.InvokedFunctionArn, ":function:")
			c.r.note(fn, "sqs:"+strings.TrimSuffix(op, "Batch"))
		}
	}
	return c.next.Do(req)
}

func (r *callRecorder) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("RecordFunctionCalls", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		lc, ok := lambdacontext.FromContext(ctx)
		if !ok {
			return next.HandleInitialize(ctx, in) // the local pollers themselves
		}
		_, fn, _ := strings.Cut(lc.InvokedFunctionArn, ":function:")
		svc, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
		switch {
		case svc == "DynamoDB" && op == "TransactWriteItems":
			if tx, ok := in.Parameters.(*ddbjson.TransactWriteItemsInput); ok {
				for _, it := range tx.TransactItems {
					switch {
					case it.Put != nil:
						r.note(fn, "dynamodb:PutItem")
					case it.Update != nil:
						r.note(fn, "dynamodb:UpdateItem")
					case it.Delete != nil:
						r.note(fn, "dynamodb:DeleteItem")
					case it.ConditionCheck != nil:
						r.note(fn, "dynamodb:ConditionCheckItem")
					}
				}
			}
		case svc == "DynamoDB":
			r.note(fn, "dynamodb:"+op)
		}
		return next.HandleInitialize(ctx, in)
	}), middleware.After)
}

// check fails t for any call a function's role would refuse.
func (r *callRecorder) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for fn, acts := range r.seen {
		granted, ok := grantedActions[fn]
		if !ok {
			t.Errorf("function %q made AWS calls but has no entry in grantedActions", fn)
			continue
		}
		var denied []string
		for a := range acts {
			if !slices.Contains(granted, a) {
				denied = append(denied, a)
			}
		}
		sort.Strings(denied)
		if len(denied) > 0 {
			t.Errorf("%s called %v, which its IAM role does not allow", fn, denied)
		}
	}
}

// TestTheRecorderSeesEachFunctionsCalls: an end-to-end payment exercises
// the api, the payment-link-creator, the receiver and the reconciler, and
// the recorder attributes each call to its function.
func TestTheRecorderSeesEachFunctionsCalls(t *testing.T) {
	t.Parallel()
	rec := newCallRecorder()
	s := start(t, func(o *localstack.Options) {
		o.APIOptions = append(o.APIOptions, rec.middleware)
		outer := o.WrapHTTP // start's recorder, which checks every test's calls
		o.WrapHTTP = func(c aws.HTTPClient) aws.HTTPClient { return rec.wrap(outer(c)) }
	})
	inv := s.finalized(s.customer("acct-rec", "rec@example.com"), "inr")
	p := s.must(s.call("POST", "/api/v1/payments", payReq(inv, 100)), 201)
	if _, err := s.st.Sim.PayPaymentLink(p.s("gateway_tracking_id"), razorpaysim.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	s.eventually("payment SUCCEEDED", func() bool {
		return s.call("GET", "/api/v1/payments/"+p.s("id"), nil).s("payment_status") == "SUCCEEDED"
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for fn, want := range map[string]string{"api": "dynamodb:PutItem", "payment-link-creator": "dynamodb:Query", "webhook-receiver": "dynamodb:GetItem", "payment-reconciler": "dynamodb:PutItem"} {
		if !rec.seen[fn][want] {
			t.Errorf("%s: %s not recorded (seen %v)", fn, want, rec.seen[fn])
		}
	}
	if !rec.seen["payment-reconciler"]["dynamodb:BatchGetItem"] { // a capture's reads (reconcile.prefetch)
		t.Errorf("payment-reconciler: BatchGetItem not recorded (seen %v)", rec.seen["payment-reconciler"])
	}
	if rec.seen["webhook-receiver"]["sqs:SendMessage"] != true {
		t.Errorf("webhook-receiver: SendMessage not recorded (seen %v)", rec.seen["webhook-receiver"])
	}
}
