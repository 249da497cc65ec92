package webhook_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/queue"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/testenv"
	"github.com/razorbill/razorbill/internal/webhook"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const secret = "whsec_test_secret_0001"

type fixture struct {
	t     *testing.T
	env   *testenv.Env
	store *dynamo.Store
	box   *secrets.Box
	recv  *webhook.Receiver
	sc    billing.Scope
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := testenv.AWS(t)
	store := dynamo.New(env.DDB, env.Table())
	kek, _ := secrets.NewLocalKEK([]byte("0123456789abcdef0123456789abcdef"))
	box := secrets.NewBox(kek)
	f := &fixture{t: t, env: env, store: store, box: box, sc: billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)}}
	f.recv = &webhook.Receiver{Store: dynamo.WebhookTrust{Store: store}, Secrets: box, Queue: env.Sender(schema.RazorpayEvents), Log: logx.New(io.Discard, "error")}
	f.connect(secret, "")
	return f
}

func (f *fixture) connect(current, previous string) {
	f.t.Helper()
	aad := f.sc.TenantID + "/" + f.sc.EnvironmentID + "/webhook_secret"
	sealed, err := f.box.Seal(context.Background(), current, aad)
	if err != nil {
		f.t.Fatal(err)
	}
	c := billing.Connection{TenantID: f.sc.TenantID, EnvironmentID: f.sc.EnvironmentID, KeyID: "rzp_test_x", WebhookSecretSealed: sealed, Status: billing.ConnectionActive}
	if previous != "" {
		prev, _ := f.box.Seal(context.Background(), previous, aad)
		until := time.Now().Add(time.Hour)
		c.PrevWebhookSecretSealed, c.PrevWebhookSecretUntil = prev, &until
	}
	if err := f.store.PutConnection(context.Background(), c); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) path() string { return webhook.PathPrefix + f.sc.TenantID + "/" + f.sc.EnvironmentID }

func (f *fixture) post(path, body string, headers map[string]string) events.LambdaFunctionURLResponse {
	f.t.Helper()
	req := events.LambdaFunctionURLRequest{RawPath: path, Body: body, Headers: headers}
	req.RequestContext.HTTP.Method = "POST"
	resp, err := f.recv.Handle(context.Background(), req)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp
}

func (f *fixture) queued() []billing.EventMessage {
	f.t.Helper()
	var msgs []billing.EventMessage
	for _, raw := range f.queuedRaw() {
		var em billing.EventMessage
		if err := json.Unmarshal([]byte(raw), &em); err != nil {
			f.t.Fatal(err)
		}
		msgs = append(msgs, em)
	}
	return msgs
}

// queuedRaw receives (and deletes) the queued messages' bodies as SQS
// holds them.
func (f *fixture) queuedRaw() []string {
	f.t.Helper()
	out, err := f.env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.env.QueueURL(schema.RazorpayEvents)), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		f.t.Fatal(err)
	}
	var raws []string
	for _, m := range out.Messages {
		raws = append(raws, aws.ToString(m.Body))
		// Deleted, so the FIFO group's next message can be received.
		if _, err := f.env.SQS.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(f.env.QueueURL(schema.RazorpayEvents)), ReceiptHandle: m.ReceiptHandle}); err != nil {
			f.t.Fatal(err)
		}
	}
	return raws
}

const body = `{"entity":"event","account_id":"acc_x","event":"payment.captured","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_1","amount":10000,"currency":"INR","status":"captured","order_id":"order_1","notes":{"razorbill_invoice_id":"inv_1"}}}},"created_at":1795400000}`

func signed(b, s string) map[string]string {
	return map[string]string{"X-Razorpay-Signature": razorpay.Sign([]byte(b), s), "X-Razorpay-Event-Id": "evt_1", "Content-Type": "application/json"}
}

func TestVerifiedEventIsQueuedWhole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	resp := f.post(f.path(), body, signed(body, secret))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Body)
	}
	// a duplicate delivery is acknowledged and deduplicated by the FIFO queue
	if resp := f.post(f.path(), body, signed(body, secret)); resp.StatusCode != 200 {
		t.Fatalf("duplicate: %d", resp.StatusCode)
	}
	msgs := f.queued()
	if len(msgs) != 1 || msgs[0].Body != body || msgs[0].Event != "payment.captured" || msgs[0].EventID != "evt_1" || msgs[0].TenantID != f.sc.TenantID {
		t.Fatalf("queued: %+v", msgs)
	}
}

// TestTheBodyTravelsAsItsJSONObject: the queued message holds the webhook's
// body as its JSON object (not a string of it, escaped a second time by the
// SendMessage), byte for byte as received, spacing included; a body with
// whitespace around its object travels as a string. Both read back whole.
func TestTheBodyTravelsAsItsJSONObject(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	spaced := strings.Replace(body, `"event":"payment.captured"`, `"event" :  "payment.captured"`, 1)
	for _, c := range []struct{ body, form, event string }{{spaced, `"body":{`, "evt_obj"}, {"\n " + body + "\n", `"body":"\n `, "evt_str"}} {
		h := signed(c.body, secret)
		h["X-Razorpay-Event-Id"] = c.event
		if resp := f.post(f.path(), c.body, h); resp.StatusCode != 200 {
			t.Fatalf("status %d %s", resp.StatusCode, resp.Body)
		}
		raws := f.queuedRaw()
		if len(raws) != 1 || !strings.Contains(raws[0], c.form) {
			t.Fatalf("queued %q, want a message with %s", raws, c.form)
		}
		var em billing.EventMessage
		if err := json.Unmarshal([]byte(raws[0]), &em); err != nil || em.Body != c.body || em.EventID != c.event {
			t.Fatalf("read back %+v (%v), want the body %q", em, err, c.body)
		}
		if c.form == `"body":{` && !strings.Contains(raws[0], spaced) {
			t.Fatalf("the body is not in the message byte for byte: %s", raws[0])
		}
	}
}

func TestBase64BodyFromTheFunctionURL(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	req := events.LambdaFunctionURLRequest{RawPath: f.path(), Body: base64.StdEncoding.EncodeToString([]byte(body)), IsBase64Encoded: true, Headers: signed(body, secret)}
	req.RequestContext.HTTP.Method = "POST"
	resp, _ := f.recv.Handle(context.Background(), req)
	if resp.StatusCode != 200 || len(f.queued()) != 1 {
		t.Fatalf("base64 body: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestRejectionsQueueNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)}
	big := `{"event":"payment.captured","pad":"` + strings.Repeat("x", webhook.MaxBody) + `"}`
	truncated := body[:len(body)-10]
	for name, tc := range map[string]struct {
		path, body string
		headers    map[string]string
		status     int
	}{
		"bad signature":       {f.path(), body, map[string]string{"X-Razorpay-Signature": strings.Repeat("ab", 32)}, 401},
		"missing signature":   {f.path(), body, nil, 401},
		"odd signature":       {f.path(), body, map[string]string{"X-Razorpay-Signature": "abc"}, 401},
		"another secret":      {f.path(), body, signed(body, "whsec_another_tenant"), 401},
		"signed other body":   {f.path(), body + " ", signed(body, secret), 401},
		"unknown environment": {webhook.PathPrefix + other.TenantID + "/" + other.EnvironmentID, body, signed(body, secret), 404},
		"bad path":            {"/api/v1/webhooks/razorpay/nope", body, signed(body, secret), 404},
		"too large":           {f.path(), big, signed(big, secret), 413},
		"truncated json":      {f.path(), truncated, signed(truncated, secret), 400},
		"not an event":        {f.path(), `{"hello":"world"}`, signed(`{"hello":"world"}`, secret), 400},
	} {
		resp := f.post(tc.path, tc.body, tc.headers)
		var env struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal([]byte(resp.Body), &env)
		if resp.StatusCode != tc.status || env.Error.Code == "" {
			t.Errorf("%s: got %d %s, want %d", name, resp.StatusCode, resp.Body, tc.status)
		}
	}
	if msgs := f.queued(); len(msgs) != 0 {
		t.Fatalf("rejected requests queued %d messages", len(msgs))
	}
}

func TestPreviousSecretVerifiesDuringRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.connect("whsec_new_secret_0002", secret)
	if resp := f.post(f.path(), body, signed(body, secret)); resp.StatusCode != 200 {
		t.Fatalf("old secret during rotation: %d", resp.StatusCode)
	}
	if resp := f.post(f.path(), body, map[string]string{"X-Razorpay-Signature": razorpay.Sign([]byte(body), "whsec_new_secret_0002"), "X-Razorpay-Event-Id": "evt_2"}); resp.StatusCode != 200 {
		t.Fatalf("new secret: %d", resp.StatusCode)
	}
}

type refusingQueue struct{}

func (refusingQueue) Send(context.Context, queue.Message) error {
	return apperr.Wrap(errors.New("sqs: 500"), apperr.Transient, "queue_unavailable", "the message could not be queued; retry")
}

func TestQueueRefusalIs5xxSoRazorpayRetries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	good := f.recv.Queue
	f.recv.Queue = refusingQueue{}
	resp := f.post(f.path(), body, signed(body, secret))
	if resp.StatusCode < 500 {
		t.Fatalf("a webhook that was not queued was answered %d", resp.StatusCode)
	}
	// Razorpay's retry, once the queue is back, lands the event.
	f.recv.Queue = good
	if resp := f.post(f.path(), body, signed(body, secret)); resp.StatusCode != 200 {
		t.Fatalf("retry: %d", resp.StatusCode)
	}
	if msgs := f.queued(); len(msgs) != 1 {
		t.Fatalf("after the retry %d messages are queued", len(msgs))
	}
}

func TestSampleFunctionURLEvent(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "functionurl", "webhook-payment-captured.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.LambdaFunctionURLRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	sec, err := os.ReadFile(filepath.Join("..", "..", "events", "functionurl", "webhook-secret.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := webhook.Scope(ev.RawPath)
	if !ok {
		t.Fatalf("sample path %q", ev.RawPath)
	}
	f := newFixture(t)
	f.sc = sc
	f.connect(strings.TrimSpace(string(sec)), "")
	resp, err := f.recv.Handle(context.Background(), ev)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("sample event: %d %s %v", resp.StatusCode, resp.Body, err)
	}
	msgs := f.queued()
	if len(msgs) != 1 || msgs[0].Event != "payment.captured" || msgs[0].EventID != ev.Headers["x-razorpay-event-id"] || msgs[0].Body != ev.Body {
		t.Fatalf("queued: %+v", msgs)
	}
}
