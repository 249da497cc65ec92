package webhook_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/razorbill/razorbill/internal/awsjson"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/lambdaenv"
	"github.com/razorbill/razorbill/internal/queue"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/webhook"
	"github.com/razorbill/razorbill/internal/wire/webhookreceiver"
)

// memAWS is an http.RoundTripper that answers the JSON-protocol calls the
// webhook receiver's AWS clients make (internal/ddbjson, internal/sqsjson,
// awsjson's KMS; the SDK's clients in the *SDKClient benchmarks), in the
// services' wire shapes, with no network: DynamoDB PutItem/GetItem (an item
// is kept exactly as the client serialized it, and GetItem returns it, or
// the top-level attributes its ProjectionExpression names, as DynamoDB
// does, with the X-Amz-Crc32 header the clients check), SQS SendMessage
// (MD5OfMessageBody of the body sent, which the clients check, a MessageId and, on a FIFO queue, a
// SequenceNumber) and KMS Encrypt/Decrypt (the "ciphertext" is the data
// key itself: this is about CPU, not secrecy). An answer is kept for the
// last request of each operation, so a repeated identical request costs a
// byte comparison, not a JSON decode: what is measured is the client's
// work, not this stand-in's.
type memAWS struct {
	mu      sync.Mutex
	scratch []byte                     // the last request's body
	items   map[string]json.RawMessage // PK/SK → item
	last    map[string]memAnswer       // operation → last request and its answer
	calls   map[string]int
}

type memAnswer struct {
	req, resp []byte
	crc       string
}

func newMemAWS() *memAWS {
	return &memAWS{items: map[string]json.RawMessage{}, last: map[string]memAnswer{}, calls: map[string]int{}}
}

func (m *memAWS) RoundTrip(r *http.Request) (*http.Response, error) {
	op := r.Header.Get("X-Amz-Target")
	m.mu.Lock()
	defer m.mu.Unlock()
	// The request is read into one buffer kept across calls, as a socket
	// write would not allocate; it is copied only when kept below.
	body := m.scratch[:0]
	if r.Body != nil {
		var err error
		if r.ContentLength > 0 { // one read into a buffer of the right size
			body = slices.Grow(body, int(r.ContentLength))[:r.ContentLength]
			_, err = io.ReadFull(r.Body, body)
		} else {
			body, err = io.ReadAll(r.Body)
		}
		if err != nil {
			return nil, err
		}
		r.Body.Close()
	}
	m.scratch = body
	if r.Header.Get("Authorization") == "" {
		return m.reply(r, 400, []byte(`{"__type":"MissingAuthenticationTokenException","message":"unsigned"}`), ""), nil
	}
	m.calls[op]++
	if a, ok := m.last[op]; ok && bytes.Equal(a.req, body) {
		return m.reply(r, 200, a.resp, a.crc), nil
	}
	body = bytes.Clone(body)
	resp, err := m.answer(op, body)
	if err != nil {
		return m.reply(r, 400, []byte(fmt.Sprintf(`{"__type":"ValidationException","message":%q}`, err.Error())), ""), nil
	}
	a := memAnswer{req: body, resp: resp}
	if op == "DynamoDB_20120810.GetItem" || op == "DynamoDB_20120810.PutItem" {
		a.crc = strconv.FormatUint(uint64(crc32.ChecksumIEEE(resp)), 10)
	}
	if op != "DynamoDB_20120810.PutItem" {
		m.last[op] = a
	}
	return m.reply(r, 200, resp, a.crc), nil
}

func (m *memAWS) answer(op string, body []byte) ([]byte, error) {
	switch op {
	case "DynamoDB_20120810.PutItem":
		var in struct{ Item map[string]json.RawMessage }
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		raw, _ := json.Marshal(in.Item)
		m.items[memKey(in.Item)] = raw
		clear(m.last)
		return []byte(`{}`), nil
	case "DynamoDB_20120810.GetItem":
		var in struct {
			Key                      map[string]json.RawMessage
			ProjectionExpression     string
			ExpressionAttributeNames map[string]string
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		it, ok := m.items[memKey(in.Key)]
		if !ok {
			return []byte(`{}`), nil
		}
		if in.ProjectionExpression != "" { // top-level attribute names only, as the store asks
			var all map[string]json.RawMessage
			if err := json.Unmarshal(it, &all); err != nil {
				return nil, err
			}
			proj := map[string]json.RawMessage{}
			for _, name := range strings.Split(in.ProjectionExpression, ",") {
				name = strings.TrimSpace(name)
				if n, ok := in.ExpressionAttributeNames[name]; ok {
					name = n
				}
				if v, ok := all[name]; ok {
					proj[name] = v
				}
			}
			it, _ = json.Marshal(proj)
		}
		return json.Marshal(map[string]json.RawMessage{"Item": it})
	case "AmazonSQS.SendMessage":
		var in struct{ MessageBody, MessageGroupId string }
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		sum := md5.Sum([]byte(in.MessageBody))
		out := map[string]string{"MD5OfMessageBody": hex.EncodeToString(sum[:]), "MessageId": "9a7f3b2c-5d1e-4f6a-8b9c-0d1e2f3a4b5c"}
		if in.MessageGroupId != "" {
			out["SequenceNumber"] = "18887745423372169216"
		}
		return json.Marshal(out)
	case "TrentService.Encrypt":
		var in struct {
			KeyID     string `json:"KeyId"`
			Plaintext []byte
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]any{"CiphertextBlob": in.Plaintext, "KeyId": in.KeyID, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"})
	case "TrentService.Decrypt":
		var in struct {
			KeyID          string `json:"KeyId"`
			CiphertextBlob []byte
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]any{"Plaintext": in.CiphertextBlob, "KeyId": in.KeyID, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"})
	}
	return nil, fmt.Errorf("operation %q is not answered here", op)
}

func memKey(k map[string]json.RawMessage) string { return string(k["PK"]) + "/" + string(k["SK"]) }

func (m *memAWS) reply(r *http.Request, status int, body []byte, crc string) *http.Response {
	h := http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"5f0e8d3c-2b1a-4c9d-8e7f-6a5b4c3d2e1f"},
		"Content-Length": {strconv.Itoa(len(body))}}
	if crc != "" {
		h.Set("X-Amz-Crc32", crc)
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r}
}

// sdkReceiver is the receiver exactly as the webhook-receiver Lambda wires
// it (webhookreceiver.New: the dynamo store over internal/ddbjson behind
// the trust cache, the
// KMS secrets box behind its warm cache, the events queue's sender:
// internal/sqsjson, a SendMessage signed with SigV4 over the same HTTP
// client) from a Lambda-like environment, with the HTTP client's
// transport replaced by memAWS, static credentials, a region, and
// retries off. The connection is stored through the same store (PutItem),
// so GetItem answers with the item as the store wrote it.
func sdkReceiver(tb testing.TB, secret string, sc billing.Scope) (*webhook.Receiver, *memAWS) {
	tb.Helper()
	vars := map[string]string{
		"AWS_REGION": "ap-south-1", "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEEXAMPLE", "AWS_SECRET_ACCESS_KEY": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0",
		"AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEXAMPLE", "RAZORBILL_TABLE": "razorbill", "RAZORBILL_KMS_KEY_ID": "alias/razorbill",
		"RAZORBILL_EVENTS_QUEUE_URL": "https://sqs.ap-south-1.amazonaws.com/123456789012/razorbill-razorpay-events.fifo",
		"RAZORBILL_LOG_LEVEL":        "info",
	}
	env, err := lambdaenv.Load(func(k string) string { return vars[k] }, io.Discard, webhookreceiver.Need)
	if err != nil {
		tb.Fatal(err)
	}
	mem := newMemAWS()
	env.AWS.HTTPClient = &http.Client{Transport: mem}
	env.AWS.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	r, err := webhookreceiver.New(env)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	k, err := awsjson.NewKMS(env.AWS)
	if err != nil {
		tb.Fatal(err)
	}
	box := secrets.NewBox(secrets.KMSKEK{Client: k, KeyID: env.Config.KMSKeyID})
	sealed, err := box.Seal(ctx, secret, sc.TenantID+"/"+sc.EnvironmentID+"/webhook_secret")
	if err != nil {
		tb.Fatal(err)
	}
	db, err := ddbjson.New(env.AWS)
	if err != nil {
		tb.Fatal(err)
	}
	store := dynamo.New(db, env.Config.Table)
	created := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := store.PutConnection(ctx, billing.Connection{TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID, Name: "Razorpay (test)",
		KeyID: "rzp_test_1DP5mmOlF5G5ag", KeySecretSealed: sealed, KeySecretHint: "…x9Qa", WebhookSecretSealed: sealed, WebhookSecretHint: "…t3st",
		CustomerSync: "ON_DEMAND", Status: billing.ConnectionActive, AccountID: "acc_BFQ7uQEaa7j2z7", CreatedAt: created, UpdatedAt: created}); err != nil {
		tb.Fatal(err)
	}
	// The queue message carries the time received; fixed, so that every
	// SendMessage is the same request and memAWS answers it from memory.
	r.Now = func() time.Time { return time.Date(2026, 11, 23, 6, 0, 1, 0, time.UTC) }
	return r, mem
}

// TestSDKReceiverGoesThroughTheSDK: the benchmark's receiver really reads
// the connection with GetItem once (then from the warm trust cache), opens
// the secret with KMS once (then from the warm secrets cache) and queues
// each event with SendMessage, each through its client and the in-memory
// transport; a wrong signature is still refused, after one more GetItem
// (the re-read before a 401).
func TestSDKReceiverGoesThroughTheSDK(t *testing.T) {
	ev, secret := sample(t)
	sc, _ := webhook.Scope(ev.RawPath)
	r, mem := sdkReceiver(t, secret, sc)
	for range 3 {
		if resp, err := r.Handle(context.Background(), ev); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %s %v", resp.StatusCode, resp.Body, err)
		}
	}
	want := map[string]int{"DynamoDB_20120810.PutItem": 1, "DynamoDB_20120810.GetItem": 1, "TrentService.Encrypt": 1, "TrentService.Decrypt": 1, "AmazonSQS.SendMessage": 3}
	for op, n := range want {
		if mem.calls[op] != n {
			t.Errorf("%s: %d calls, want %d (all: %v)", op, mem.calls[op], n, mem.calls)
		}
	}
	bad := ev
	bad.Headers = map[string]string{"x-razorpay-signature": "00" + ev.Headers["x-razorpay-signature"][2:], "x-razorpay-event-id": "x"}
	if resp, _ := r.Handle(context.Background(), bad); resp.StatusCode != 401 {
		t.Fatalf("a wrong signature: %d %s", resp.StatusCode, resp.Body)
	}
	if n := mem.calls["DynamoDB_20120810.GetItem"]; n != 2 {
		t.Fatalf("GetItem after a wrong signature: %d calls, want 2", n)
	}
}

// BenchmarkReceiverSDK is the receiver per event with its real AWS calls,
// in a warm function: the connection from the trust cache (its GetItem —
// internal/ddbjson: serialize, sign, send, check the CRC32, decode,
// unmarshal the item — happens once a minute per environment, here before
// the timer; BenchmarkSDKCall/GetItem is its cost), the signature check,
// the envelope parse, the queue message and its SendMessage
// (internal/sqsjson: serialize, sign, check the MD5), the log line. Only the network is
// missing (memAWS). The KMS Decrypt happens once, before the timer: the
// warm function keeps the opened secret (secrets.Cache).
func BenchmarkReceiverSDK(b *testing.B) {
	ev, secret := sample(b)
	sc, _ := webhook.Scope(ev.RawPath)
	r, _ := sdkReceiver(b, secret, sc)
	ctx := context.Background()
	if resp, err := r.Handle(ctx, ev); err != nil || resp.StatusCode != 200 {
		b.Fatalf("sample event: %d %s %v", resp.StatusCode, resp.Body, err)
	}
	b.SetBytes(int64(len(ev.Body)))
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		resp, _ := r.Handle(ctx, ev)
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkSDKCall is each of the receiver's two SDK calls alone, as it
// makes them: the connection's GetItem and unmarshal (dynamo.WebhookTrust,
// the read behind the trust cache: once a minute per environment, and on
// a signature the cached trust refuses), and the SendMessage of the queue
// message the sample becomes (every event): SendMessage as the receiver
// sends it (internal/sqsjson), SendMessageSDKClient through the SDK's SQS
// client (what the functions used before internal/sqsjson), both over
// memAWS; GetItem through internal/ddbjson as the store reads,
// GetItemSDKClient the same request through the SDK's DynamoDB client.
func BenchmarkSDKCall(b *testing.B) {
	ev, secret := sample(b)
	sc, _ := webhook.Scope(ev.RawPath)
	r, mem := sdkReceiver(b, secret, sc)
	ctx := context.Background()
	b.Run("GetItem", func(b *testing.B) {
		trust := r.Store.(*webhook.TrustCache).Store // the read behind the trust cache: what a miss costs
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, ok, err := trust.Connection(ctx, sc); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("GetItemSDKClient", func(b *testing.B) {
		// The request the store made above (the connection's key and
		// projection), through the SDK's DynamoDB client, as the functions
		// read the table before internal/ddbjson; the item as the store
		// decodes it.
		var last struct {
			Key                      map[string]map[string]string
			ProjectionExpression     *string
			ExpressionAttributeNames map[string]string
			TableName                *string
			ConsistentRead           *bool
		}
		mem.mu.Lock()
		err := json.Unmarshal(mem.last["DynamoDB_20120810.GetItem"].req, &last)
		mem.mu.Unlock()
		if err != nil || len(last.Key) != 2 {
			b.Fatalf("the store's GetItem: %v %+v", err, last)
		}
		in := &dynamodb.GetItemInput{TableName: last.TableName, ProjectionExpression: last.ProjectionExpression, ExpressionAttributeNames: last.ExpressionAttributeNames,
			ConsistentRead: last.ConsistentRead, Key: map[string]types.AttributeValue{}}
		for k, v := range last.Key {
			in.Key[k] = &types.AttributeValueMemberS{Value: v["S"]}
		}
		cfg := aws.Config{Region: "ap-south-1", Credentials: credentials.NewStaticCredentialsProvider("ASIAEXAMPLEEXAMPLE", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "IQoJb3JpZ2luX2VjEXAMPLE"),
			HTTPClient: &http.Client{Transport: mem}, Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
		client := dynamodb.NewFromConfig(cfg)
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			out, err := client.GetItem(ctx, in)
			if err != nil || len(out.Item) == 0 {
				b.Fatal(err)
			}
			var c billing.Connection
			if err := attributevalue.UnmarshalMap(out.Item, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The queue message the sample becomes, as the receiver builds it.
	body := billing.EventMessage{TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID, EventID: ev.Headers["x-razorpay-event-id"],
		Event: "payment.captured", ReceivedAt: r.Now(), Body: ev.Body}.AppendJSON(nil, true)
	m := queue.Message{Body: string(body), GroupID: webhook.GroupID(sc, "inv_01jh0000000000000000000003"), DedupID: "3f1c0e5b7a9d2c4e6f8a0b1c3d5e7f9a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e"}
	sendLoop := func(b *testing.B, send func(context.Context, queue.Message) error) {
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for b.Loop() {
			if err := send(ctx, m); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("SendMessage", func(b *testing.B) { sendLoop(b, r.Queue.Send) })
	b.Run("SendMessageSDKClient", func(b *testing.B) {
		cfg := aws.Config{Region: "ap-south-1", Credentials: credentials.NewStaticCredentialsProvider("ASIAEXAMPLEEXAMPLE", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "IQoJb3JpZ2luX2VjEXAMPLE"),
			HTTPClient: &http.Client{Transport: newMemAWS()}, Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
		client, url := sqs.NewFromConfig(cfg), "https://sqs.ap-south-1.amazonaws.com/123456789012/razorbill-razorpay-events.fifo"
		sendLoop(b, func(ctx context.Context, m queue.Message) error {
			_, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &m.Body, MessageGroupId: &m.GroupID, MessageDeduplicationId: &m.DedupID})
			return err
		})
	})
}
