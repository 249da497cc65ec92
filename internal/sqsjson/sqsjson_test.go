package sqsjson_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/sqsjson"
	"github.com/razorbill/razorbill/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const fifoURL = "https://sqs.ap-south-1.amazonaws.com/123456789012/razorbill-razorpay-events.fifo"

// capture answers every request as SQS would (the MD5 of the body sent),
// safely from many goroutines, counts them and keeps the last one with its
// body, and every message body sent. It closes each request's body once
// read, as net/http's transport does once it has written it.
type capture struct {
	mu       sync.Mutex
	req      *http.Request
	body     []byte
	messages []string
	n        atomic.Int32
}

func (c *capture) Do(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body.Close()
	var in struct{ MessageBody string }
	_ = json.Unmarshal(b, &in)
	c.mu.Lock()
	c.req, c.body = r, b
	c.messages = append(c.messages, in.MessageBody)
	c.mu.Unlock()
	out, err := sqsAnswer(b)
	if err != nil {
		return nil, err
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}}, Body: io.NopCloser(strings.NewReader(out))}, nil
}

// sqsAnswer is SQS's answer to a SendMessage request body: the MD5 of the
// message body and a message id.
func sqsAnswer(reqBody []byte) (string, error) {
	var in struct{ MessageBody string }
	if err := json.Unmarshal(reqBody, &in); err != nil {
		return "", err
	}
	sum := md5.Sum([]byte(in.MessageBody))
	return `{"MD5OfMessageBody":"` + hex.EncodeToString(sum[:]) + `","MessageId":"m-1","SequenceNumber":"1"}`, nil
}

func config(token string, doer aws.HTTPClient) aws.Config {
	return aws.Config{Region: "ap-south-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token), HTTPClient: doer}
}

// TestSignedAsTheSDKSignsIt: for the request Send builds, the SDK's own
// SigV4 signer (given the same credentials, time, region, service and
// payload hash) computes the same Authorization header, with and without
// a session token. One Sender makes every request, so its kept signing key
// is used again within a day and derived anew across midnight and after
// the secret changes.
func TestSignedAsTheSDKSignsIt(t *testing.T) {
	ctx := context.Background()
	c := &capture{}
	var current aws.Credentials
	cfg := config("", c)
	cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return current, nil })
	s, err := sqsjson.New(cfg, fifoURL)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	for _, tc := range []struct {
		name, token, secret string
		at                  time.Time
	}{
		{"session token", "IQoJb3JpZ2luX2VjEXAMPLE//token+with/slashes=", secret, time.Date(2026, 12, 6, 23, 59, 58, 0, time.UTC)},
		{"the same day's key again", "IQoJb3JpZ2luX2VjEXAMPLE//token+with/slashes=", secret, time.Date(2026, 12, 6, 23, 59, 59, 0, time.UTC)},
		{"next day", "IQoJb3JpZ2luX2VjEXAMPLE//token+with/slashes=", secret, time.Date(2026, 12, 7, 0, 0, 1, 0, time.UTC)},
		{"no token", "", secret, time.Date(2026, 12, 7, 0, 0, 2, 0, time.UTC)},
		{"rotated secret", "another", "bWFkZS11cC1zZWNyZXQtZm9yLXRoZS10ZXN0", time.Date(2026, 12, 7, 0, 0, 3, 0, time.UTC)},
		{"back to the first secret", "", secret, time.Date(2026, 12, 7, 0, 0, 4, 0, time.UTC)},
	} {
		current = aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: tc.secret, SessionToken: tc.token}
		s.Now = func() time.Time { return tc.at }
		if err := s.Send(ctx, sqsjson.Message{Body: `{"event":"payment.captured","note":"quote \" and \\ backslash"}`, GroupID: "ten/env/inv_1", DedupID: "d1"}); err != nil {
			t.Fatal(tc.name, err)
		}
		got := c.req.Header.Get("Authorization")
		if got == "" || c.req.Header.Get("X-Amz-Date") != tc.at.Format("20060102T150405Z") {
			t.Fatalf("%s: headers %v", tc.name, c.req.Header)
		}
		if tok := c.req.Header.Get("X-Amz-Security-Token"); tok != tc.token {
			t.Fatalf("%s: security token %q, want %q", tc.name, tok, tc.token)
		}
		// The same request, signed by the SDK.
		again, err := http.NewRequest(http.MethodPost, "https://sqs.ap-south-1.amazonaws.com/", bytes.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c.req.Header {
			if k != "Authorization" && k != "X-Amz-Date" && k != "X-Amz-Security-Token" {
				again.Header[k] = v
			}
		}
		if err := v4.NewSigner().SignHTTP(ctx, current, again, sha256hex(c.body), "sqs", "ap-south-1", tc.at); err != nil {
			t.Fatal(err)
		}
		if want := again.Header.Get("Authorization"); got != want {
			t.Fatalf("%s: Authorization\n got  %s\n want %s (the SDK's signer)", tc.name, got, want)
		}
	}
}

// TestTheBodyIsWhatTheSDKClientSends: the SDK's SQS client and Send put the
// same fields in the request body (decoded: key order and escaping may
// differ), to the same operation, for a FIFO and a standard queue, and
// for bodies with quotes, backslashes, control characters, non-ASCII text
// and HTML-like characters.
func TestTheBodyIsWhatTheSDKClientSends(t *testing.T) {
	ctx := context.Background()
	bodies := []string{
		`{"event":"payment.captured","body":"{\"a\":\"b\\\\c\"}"}`,
		"tab\there, newline\nthere, bell\x07, nul\x00, del\x7f",
		"₹250 — नमस्ते, emoji 🙂, line sep \u2028 para sep \u2029",
		"<script>&amp;</script>",
		strings.Repeat("0123456789abcdef", 300),
	}
	for _, url := range []string{fifoURL, strings.TrimSuffix(fifoURL, ".fifo")} {
		for _, body := range bodies {
			ours, sdk := &capture{}, &capture{}
			s, err := sqsjson.New(config("tok", ours), url)
			if err != nil {
				t.Fatal(err)
			}
			m := sqsjson.Message{Body: body, GroupID: "ten/env/inv_01", DedupID: "dedup-1"}
			if err := s.Send(ctx, m); err != nil {
				t.Fatal(err)
			}
			in := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}
			if strings.HasSuffix(url, ".fifo") {
				in.MessageGroupId, in.MessageDeduplicationId = aws.String(m.GroupID), aws.String(m.DedupID)
			}
			cfg := config("tok", sdk)
			cfg.BaseEndpoint = aws.String("https://sqs.ap-south-1.amazonaws.com")
			if _, err := sqs.NewFromConfig(cfg).SendMessage(ctx, in); err != nil {
				t.Fatal(err)
			}
			var a, b map[string]any
			if err := json.Unmarshal(ours.body, &a); err != nil {
				t.Fatalf("our body is not JSON: %v\n%s", err, ours.body)
			}
			if err := json.Unmarshal(sdk.body, &b); err != nil {
				t.Fatal(err)
			}
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if !bytes.Equal(ja, jb) {
				t.Fatalf("%s, body %.40q:\n ours %s\n sdk  %s", url, body, ja, jb)
			}
			for _, h := range []string{"X-Amz-Target", "Content-Type"} {
				if ours.req.Header.Get(h) != sdk.req.Header.Get(h) {
					t.Fatalf("%s: %q, the SDK sends %q", h, ours.req.Header.Get(h), sdk.req.Header.Get(h))
				}
			}
		}
	}
}

// TestEscapingDecodesToTheSameString: whatever the body (invalid UTF-8
// included), the JSON Send writes decodes to what encoding/json's own
// encoding of it decodes to.
func TestEscapingDecodesToTheSameString(t *testing.T) {
	inputs := []string{"", "plain ascii only", "\xff\xfe invalid", "ok\xc3", "mixed \"q\" \\ \x01\x1f é \xed\xa0\x80 surrogate", strings.Repeat("ab\"", 100) + "\x80"}
	for i := range 256 {
		inputs = append(inputs, strings.Repeat("x", i%13)+string(rune(i))+string([]byte{byte(i)})+"tail")
	}
	for _, v := range inputs {
		c := &capture{}
		s, err := sqsjson.New(config("", c), strings.TrimSuffix(fifoURL, ".fifo"))
		if err != nil {
			t.Fatal(err)
		}
		s.Attempts = 1
		_ = s.Send(context.Background(), sqsjson.Message{Body: v}) // the MD5 differs for invalid UTF-8; the body is what is checked
		var got struct{ MessageBody string }
		if err := json.Unmarshal(c.body, &got); err != nil {
			t.Fatalf("%q: not JSON: %v", v, err)
		}
		ref, _ := json.Marshal(v)
		var want string
		_ = json.Unmarshal(ref, &want)
		if got.MessageBody != want {
			t.Fatalf("%q decodes to %q, encoding/json's to %q", v, got.MessageBody, want)
		}
	}
}

// answers is a test server answering each request with the next of its
// answers (status, body); the last one repeats. Status "drop" closes the
// connection without an answer, "slow" answers 200 after 2 s, "400T" is a
// 400 whose code is only in the X-Amzn-ErrorType header.
func answers(t *testing.T, list ...[2]string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		a := list[min(i, len(list)-1)]
		switch a[0] {
		case "drop":
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		case "slow":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
				return
			}
		case "400T":
			w.Header().Set("X-Amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/")
		}
		status := 200
		if a[0] != "200" && a[0] != "slow" {
			status = map[string]int{"500": 500, "503": 503, "400": 400, "400T": 400}[a[0]]
		}
		body := a[1]
		if status == 200 && body == "" {
			raw, _ := io.ReadAll(r.Body)
			body, _ = sqsAnswer(raw)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestWhatIsTriedAgain: a 5xx and a throttling answer are tried again (up
// to Attempts), a refusal is not, a wrong MD5 is an error; every failure
// is Transient queue_unavailable (the receiver answers 503 and Razorpay
// delivers again) and carries SQS's code.
func TestWhatIsTriedAgain(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		answers  [][2]string
		tries    int32
		ok       bool
		wantCode string
	}{
		{"a 500 then success", [][2]string{{"500", `{"__type":"com.amazonaws.sqs#InternalError","message":"x"}`}, {"200", ""}}, 2, true, ""},
		{"throttled three times", [][2]string{{"400", `{"__type":"com.amazonaws.sqs#ThrottlingException","message":"slow down"}`}}, 3, false, "ThrottlingException"},
		{"queue missing", [][2]string{{"400", `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}`}}, 1, false, "QueueDoesNotExist"},
		{"wrong MD5: stored, not sent again", [][2]string{{"200", `{"MD5OfMessageBody":"00000000000000000000000000000000","MessageId":"m"}`}}, 1, false, ""},
		{"unreadable 200: not sent again", [][2]string{{"200", `<html>proxy</html>`}}, 1, false, ""},
		{"a 200 without a message id: not sent again", [][2]string{{"200", `{"MD5OfMessageBody":"92eb5ffee6ae2fec3ad71c777531578f"}`}}, 1, false, ""},
		{"a cut-off 200: not sent again", [][2]string{{"200", `{"MD5OfMessageBody":"92eb5ffee6ae2fec3ad71c777531578f","MessageId":"m"`}}, 1, false, ""},
		{"an answer spaced, reordered, escaped, in capitals", [][2]string{{"200", ` { "SequenceNumber" : "1", "MessageId" : "m\u002d1" ,"MD5OfMessageBody":"92EB5FFEE6AE2FEC3AD71C777531578F" } `}}, 1, true, ""},
		{"a code named by X-Amzn-ErrorType", [][2]string{{"400T", `{"message":"x"}`}}, 3, false, "ThrottlingException"},
		{"a type with a suffix", [][2]string{{"400", `{"__type":"com.amazonaws.sqs#QueueDoesNotExist:http://internal.amazon.com/","message":"x"}`}}, 1, false, "QueueDoesNotExist"},
		{"a dropped connection then success", [][2]string{{"drop", ""}, {"200", ""}}, 2, true, ""},
		{"a try out of time then success", [][2]string{{"slow", ""}, {"200", ""}}, 2, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := answers(t, tc.answers...)
			s, err := sqsjson.New(config("", srv.Client()), srv.URL+"/000000000000/q.fifo")
			if err != nil {
				t.Fatal(err)
			}
			s.Backoff = time.Millisecond
			s.AttemptTimeout = 300 * time.Millisecond
			err = s.Send(ctx, sqsjson.Message{Body: "b", GroupID: "g", DedupID: "d"})
			if got := n.Load(); got != tc.tries {
				t.Fatalf("%d tries, want %d", got, tc.tries)
			}
			if tc.ok != (err == nil) {
				t.Fatalf("err %v", err)
			}
			if err == nil {
				return
			}
			if !apperr.Is(err, apperr.Transient) {
				t.Fatalf("%v is not Transient", err)
			}
			var e *sqsjson.Error
			if !errors.As(err, &e) || e.Code != tc.wantCode {
				t.Fatalf("%v: code %q, want %q", err, e.Code, tc.wantCode)
			}
		})
	}
	t.Run("a FIFO message without its ids", func(t *testing.T) {
		srv, n := answers(t, [2]string{"200", ""})
		s, _ := sqsjson.New(config("", srv.Client()), srv.URL+"/000000000000/q.fifo")
		if err := s.Send(ctx, sqsjson.Message{Body: "b"}); err == nil || n.Load() != 0 {
			t.Fatalf("err %v after %d requests", err, n.Load())
		}
	})
	t.Run("a request cancelled in flight is not tried again", func(t *testing.T) {
		srv, n := answers(t, [2]string{"slow", ""})
		s, _ := sqsjson.New(config("", srv.Client()), srv.URL+"/000000000000/q.fifo")
		s.AttemptTimeout = time.Minute
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(200*time.Millisecond, cancel)
		start := time.Now()
		err := s.Send(cctx, sqsjson.Message{Body: "b", GroupID: "g", DedupID: "d"})
		if err == nil || !errors.Is(err, context.Canceled) || n.Load() != 1 || time.Since(start) > 1500*time.Millisecond {
			t.Fatalf("err %v after %d requests in %v", err, n.Load(), time.Since(start))
		}
	})
	t.Run("the config's RetryMaxAttempts", func(t *testing.T) {
		srv, n := answers(t, [2]string{"503", `{"__type":"ServiceUnavailable","message":"x"}`})
		cfg := config("", srv.Client())
		cfg.RetryMaxAttempts = 5
		s, _ := sqsjson.New(cfg, srv.URL+"/000000000000/q.fifo")
		s.Backoff = time.Millisecond
		if err := s.Send(ctx, sqsjson.Message{Body: "b", GroupID: "g", DedupID: "d"}); err == nil || n.Load() != 5 {
			t.Fatalf("err %v after %d requests, want 5", err, n.Load())
		}
	})
}

func TestNewRefusesWhatCannotWork(t *testing.T) {
	for _, u := range []string{"", "not a url", "ftp://host/q", "/relative/q"} {
		if _, err := sqsjson.New(config("", nil), u); err == nil {
			t.Errorf("queue URL %q accepted", u)
		}
	}
	if _, err := sqsjson.New(aws.Config{}, fifoURL); err == nil {
		t.Error("a config without a region accepted")
	}
	s, err := sqsjson.New(aws.Config{Region: "ap-south-1"}, fifoURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), sqsjson.Message{Body: "b", GroupID: "g", DedupID: "d"}); err == nil || !apperr.Is(err, apperr.Transient) {
		t.Errorf("a send without credentials: %v", err)
	}
}

// TestSendsToTheSQSEmulator: against the SQS emulator (the local stack's),
// a message sent reaches the FIFO queue with its body and group, a repeat
// of its deduplication id is dropped by SQS, and a queue that does not
// exist is SQS's QueueDoesNotExist, tried once.
func TestSendsToTheSQSEmulator(t *testing.T) {
	env := testenv.AWS(t)
	ctx := context.Background()
	url := env.QueueURL(schema.RazorpayEvents)
	s, err := sqsjson.New(env.Config, url)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"tenant_id":"ten_1","body":"{\"event\":\"payment.captured\",\"x\":\"₹ \\\" \\\\\"}"}` + "\t\x01"
	m := sqsjson.Message{Body: body, GroupID: "ten_1/env_1/inv_1", DedupID: "dedup-emulator-1"}
	for range 2 {
		if err := s.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && len(got) < 2 {
		out, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range out.Messages {
			got = append(got, aws.ToString(msg.Body))
			if g := msg.Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)]; g != m.GroupID {
				t.Fatalf("group %q, want %q", g, m.GroupID)
			}
			if _, err := env.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: msg.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
		if len(got) == 1 {
			deadline = minTime(deadline, time.Now().Add(2*time.Second)) // a second copy would come now
		}
	}
	if len(got) != 1 || got[0] != body {
		t.Fatalf("received %q, want the one body %q", got, body)
	}

	missing, err := sqsjson.New(env.Config, url[:strings.LastIndexByte(url, '/')+1]+"no-such-queue.fifo")
	if err != nil {
		t.Fatal(err)
	}
	err = missing.Send(ctx, m)
	var e *sqsjson.Error
	if !errors.As(err, &e) || e.Code != "QueueDoesNotExist" || e.Retry {
		t.Fatalf("a missing queue: %v (%+v)", err, e)
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

type endpointSource map[string]string

func (e endpointSource) GetServiceBaseEndpoint(_ context.Context, id string) (string, bool, error) {
	v, ok := e[id]
	return v, ok, nil
}

// TestItSendsWhereTheSDKClientWould: for each way a config can name the
// SQS endpoint, Send's request goes to the host the SDK's SQS client sends
// the same message to (a config source's SQS endpoint over BaseEndpoint,
// unless only AWS_ENDPOINT_URL is set; else the queue URL's own host in
// the config's region), signed for that host.
func TestItSendsWhereTheSDKClientWould(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		edit   func(*aws.Config)
		global bool // AWS_ENDPOINT_URL set, AWS_ENDPOINT_URL_SQS not
		host   string
	}{
		{"nothing configured", func(*aws.Config) {}, false, "sqs.ap-south-1.amazonaws.com"},
		{"BaseEndpoint", func(c *aws.Config) { c.BaseEndpoint = aws.String("http://127.0.0.1:4566") }, false, "127.0.0.1:4566"},
		{"a config source over BaseEndpoint", func(c *aws.Config) {
			c.BaseEndpoint = aws.String("http://127.0.0.1:4566")
			c.ConfigSources = []any{"not a source", endpointSource{"DynamoDB": "http://ddb:1"}, endpointSource{"SQS": "http://proxy:9324"}}
		}, false, "proxy:9324"},
		{"AWS_ENDPOINT_URL alone keeps BaseEndpoint", func(c *aws.Config) {
			c.BaseEndpoint = aws.String("http://127.0.0.1:4566")
			c.ConfigSources = []any{endpointSource{"SQS": "http://proxy:9324"}}
		}, true, "127.0.0.1:4566"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.global {
				t.Setenv("AWS_ENDPOINT_URL", "http://global:1")
			}
			ours, sdk := &capture{}, &capture{}
			cfg := config("", ours)
			tc.edit(&cfg)
			s, err := sqsjson.New(cfg, fifoURL)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(ctx, sqsjson.Message{Body: "b", GroupID: "g", DedupID: "d"}); err != nil {
				t.Fatal(err)
			}
			cfg.HTTPClient = sdk
			if _, err := sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(fifoURL), MessageBody: aws.String("b"),
				MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d")}); err != nil {
				t.Fatal(err)
			}
			if sdk.req.URL.Host != tc.host {
				t.Fatalf("the SDK client sent to %s; this case expects %s", sdk.req.URL.Host, tc.host)
			}
			if ours.req.URL.Host != tc.host || ours.req.Host != tc.host || ours.req.URL.Path != "/" {
				t.Fatalf("sent to %s (Host %s), the SDK client to %s", ours.req.URL, ours.req.Host, sdk.req.URL)
			}
			if !strings.Contains(string(ours.body), `"QueueUrl":"`+fifoURL+`"`) {
				t.Fatalf("body %s does not name the queue", ours.body)
			}
		})
	}
	cfg := config("", nil)
	cfg.BaseEndpoint = aws.String("http://host:1/some/path")
	if _, err := sqsjson.New(cfg, fifoURL); err == nil {
		t.Fatal("an endpoint with a path accepted")
	}
	// A queue in another region than the one requests are signed for.
	for _, u := range []string{"https://sqs.us-east-1.amazonaws.com/1/q.fifo", "https://sqs.cn-north-1.amazonaws.com.cn/1/q.fifo", "https://eu-west-1.queue.amazonaws.com/1/q"} {
		if _, err := sqsjson.New(config("", nil), u); err == nil || !strings.Contains(err.Error(), "region") {
			t.Errorf("%s with region ap-south-1: %v", u, err)
		}
	}
}

// TestOneSenderServesConcurrentInvocations: the local stack shares one
// Sender between concurrent webhook invocations; under -race, sends from
// many goroutines (across a change of day, which derives a new signing
// key) all succeed.
func TestOneSenderServesConcurrentInvocations(t *testing.T) {
	c := &capture{}
	s, err := sqsjson.New(config("tok", c), fifoURL)
	if err != nil {
		t.Fatal(err)
	}
	var day atomic.Int64
	s.Now = func() time.Time {
		return time.Date(2026, 12, 6, 23, 59, 59, 0, time.UTC).Add(time.Duration(day.Load()) * time.Second)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*25)
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				if i == 12 {
					day.Store(2)
				}
				errs <- s.Send(context.Background(), sqsjson.Message{Body: fmt.Sprintf("event %d/%d", g, i), GroupID: "g", DedupID: fmt.Sprint(g, "-", i)})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.n.Load() != 8*25 {
		t.Fatalf("%d requests, want %d", c.n.Load(), 8*25)
	}
	// Each request carried its own message (request buffers are reused
	// between sends).
	var want []string
	for g := range 8 {
		for i := range 25 {
			want = append(want, fmt.Sprintf("event %d/%d", g, i))
		}
	}
	slices.Sort(want)
	slices.Sort(c.messages)
	if !slices.Equal(c.messages, want) {
		t.Fatalf("the messages sent are not the messages given: %q", c.messages)
	}
}

// doerFunc is an aws.HTTPClient.
type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// TestABodyTheTransportStillHoldsIsNotWrittenAgain: a transport may read a
// request's body after the send returned, until it closes it
// (http.RoundTripper's contract); the next send's request is not written
// into that body's bytes.
func TestABodyTheTransportStillHoldsIsNotWrittenAgain(t *testing.T) {
	var held []io.ReadCloser
	next := "" // the message the next answer's MD5 is of
	d := doerFunc(func(r *http.Request) (*http.Response, error) {
		held = append(held, r.Body) // read and closed below, after both sends
		sum := md5.Sum([]byte(next))
		return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r,
			Body: io.NopCloser(strings.NewReader(`{"MD5OfMessageBody":"` + hex.EncodeToString(sum[:]) + `","MessageId":"m"}`))}, nil
	})
	s, err := sqsjson.New(config("", d), fifoURL)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []string{"the first message, the longer of the two", "the second"}
	for i, m := range msgs {
		next = m
		if err := s.Send(context.Background(), sqsjson.Message{Body: m, GroupID: "g", DedupID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, b := range held {
		raw, err := io.ReadAll(b)
		b.Close()
		var in struct{ MessageBody string }
		if err != nil || json.Unmarshal(raw, &in) != nil || in.MessageBody != msgs[i] {
			t.Fatalf("request %d's body reads %q (%v), want the message %q", i, raw, err, msgs[i])
		}
	}
}
