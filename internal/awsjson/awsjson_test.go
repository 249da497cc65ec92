package awsjson_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/razorbill/razorbill/internal/awsjson"
)

// recorder answers every request with the next of its answers (the last
// one again when they run out) and keeps the requests with their bodies.
type recorder struct {
	mu      sync.Mutex
	answers []answer
	reqs    []*http.Request
	bodies  [][]byte
}

type answer struct {
	status int
	body   string
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
	return &http.Response{StatusCode: a.status, Header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}}, Body: io.NopCloser(strings.NewReader(a.body))}, nil
}

func (r *recorder) last() (*http.Request, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1], r.bodies[len(r.bodies)-1]
}

const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

func cfgWith(d aws.HTTPClient, region string) aws.Config {
	return aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", secret, "session-token"), HTTPClient: d}
}

// sameJSON reports whether two JSON documents hold the same values.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return reflect.DeepEqual(x, y)
}

// checkSignature: the SDK's own SigV4 signer, given the request awsjson
// sent, computes the same Authorization header.
func checkSignature(t *testing.T, req *http.Request, body []byte, service, region string, at time.Time) {
	t.Helper()
	again, err := http.NewRequest(http.MethodPost, req.URL.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range req.Header {
		if k != "Authorization" && k != "X-Amz-Date" {
			again.Header[k] = v
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: secret, SessionToken: "session-token"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), service, region, at); err != nil {
		t.Fatal(err)
	}
	if got, want := req.Header.Get("Authorization"), again.Header.Get("Authorization"); got != want {
		t.Fatalf("Authorization\n got  %s\n want %s (the SDK's signer)", got, want)
	}
}

// sameRequest: awsjson's request and the SDK client's go to the same host
// and operation with the same content type and the same body values.
func sameRequest(t *testing.T, ours, sdk *recorder) {
	t.Helper()
	a, ab := ours.last()
	b, bb := sdk.last()
	if a.URL.Host != b.URL.Host || a.URL.Path != "/" || b.URL.Path != "/" {
		t.Fatalf("sent to %s%s, the SDK to %s%s", a.URL.Host, a.URL.Path, b.URL.Host, b.URL.Path)
	}
	for _, h := range []string{"X-Amz-Target", "Content-Type", "X-Amz-Security-Token"} {
		if a.Header.Get(h) != b.Header.Get(h) {
			t.Fatalf("%s %q, the SDK sends %q", h, a.Header.Get(h), b.Header.Get(h))
		}
	}
	if !sameJSON(t, ab, bb) {
		t.Fatalf("body\n ours %s\n sdk  %s", ab, bb)
	}
}

const keyARN = "arn:aws:kms:ap-south-1:123456789012:key/00000000-0000-0000-0000-000000000000"

// TestKMSIsWhatTheSDKClientDoes: Encrypt and Decrypt send what the SDK's
// KMS client sends (host, operation, body; signed as the SDK signs) and
// read the same values from the same answer.
func TestKMSIsWhatTheSDKClientDoes(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	blob := []byte{0x01, 0x02, 0x03, 0xfe, 0xff, 0x00, 'k', 'm', 's'}
	plain := bytes.Repeat([]byte{0xab, 0x00, 0x7f}, 11) // a 33-byte data key
	encCtx := map[string]string{"record": "ten_1/env_1/connection/razorpay", "quote": `a "b" \ c`}
	for _, region := range []string{"ap-south-1", "us-east-1", "cn-north-1"} {
		encAnswer := answer{200, `{"CiphertextBlob":"` + b64(blob) + `","EncryptionAlgorithm":"SYMMETRIC_DEFAULT","KeyId":"` + keyARN + `"}`}
		decAnswer := answer{200, `{"EncryptionAlgorithm":"SYMMETRIC_DEFAULT","KeyId":"` + keyARN + `","Plaintext":"` + b64(plain) + `"}`}

		ours, sdk := &recorder{answers: []answer{encAnswer}}, &recorder{answers: []answer{encAnswer}}
		k, err := awsjson.NewKMS(cfgWith(ours, region))
		if err != nil {
			t.Fatal(err)
		}
		k.Client().Now = func() time.Time { return at }
		got, err := k.Encrypt(ctx, keyARN, plain, encCtx)
		if err != nil {
			t.Fatal(err)
		}
		want, err := kms.NewFromConfig(cfgWith(sdk, region)).Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(keyARN), Plaintext: plain, EncryptionContext: encCtx})
		if err != nil {
			t.Fatal(err)
		}
		sameRequest(t, ours, sdk)
		req, body := ours.last()
		checkSignature(t, req, body, "kms", region, at)
		if !bytes.Equal(got, want.CiphertextBlob) {
			t.Fatalf("%s Encrypt: %x, the SDK read %x", region, got, want.CiphertextBlob)
		}

		ours.answers, sdk.answers = []answer{decAnswer}, []answer{decAnswer}
		pt, err := k.Decrypt(ctx, keyARN, blob, encCtx)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := kms.NewFromConfig(cfgWith(sdk, region)).Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(keyARN), CiphertextBlob: blob, EncryptionContext: encCtx})
		if err != nil {
			t.Fatal(err)
		}
		sameRequest(t, ours, sdk)
		req, body = ours.last()
		checkSignature(t, req, body, "kms", region, at)
		if !bytes.Equal(pt, dec.Plaintext) || !bytes.Equal(pt, plain) {
			t.Fatalf("%s Decrypt: %x, the SDK read %x", region, pt, dec.Plaintext)
		}
	}
}

// TestSSMIsWhatTheSDKClientDoes: GetParameter sends what the SDK's SSM
// client sends and reads the same value.
func TestSSMIsWhatTheSDKClientDoes(t *testing.T) {
	ctx := context.Background()
	ans := answer{200, `{"Parameter":{"ARN":"arn:aws:ssm:ap-south-1:123456789012:parameter/razorbill/admin-token","DataType":"text","LastModifiedDate":1.7650128E9,"Name":"/razorbill/admin-token","Type":"SecureString","Value":"tok \"en\" ₹","Version":3}}`}
	for _, decrypt := range []bool{true, false} {
		ours, sdk := &recorder{answers: []answer{ans}}, &recorder{answers: []answer{ans}}
		s, err := awsjson.NewSSM(cfgWith(ours, "ap-south-1"))
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 12, 6, 23, 59, 59, 0, time.UTC)
		s.Client().Now = func() time.Time { return at }
		got, err := s.GetParameter(ctx, "/razorbill/admin-token", decrypt)
		if err != nil {
			t.Fatal(err)
		}
		out, err := ssm.NewFromConfig(cfgWith(sdk, "ap-south-1")).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/razorbill/admin-token"), WithDecryption: aws.Bool(decrypt)})
		if err != nil {
			t.Fatal(err)
		}
		sameRequest(t, ours, sdk)
		req, body := ours.last()
		checkSignature(t, req, body, "ssm", "ap-south-1", at)
		if got != aws.ToString(out.Parameter.Value) {
			t.Fatalf("value %q, the SDK read %q", got, aws.ToString(out.Parameter.Value))
		}
	}
	r := &recorder{answers: []answer{{200, `{"Parameter":{"Name":"/x"}}`}}}
	s, _ := awsjson.NewSSM(cfgWith(r, "ap-south-1"))
	if _, err := s.GetParameter(ctx, "/x", true); !errors.Is(err, awsjson.ErrNoValue) {
		t.Fatalf("an answer without a value: %v", err)
	}
}

// TestErrorsAreTriedAgainAsTheSDKWould: throttling and 5xx are tried again
// (up to the config's attempts), a refusal is not, and each comes back
// with KMS's code.
func TestErrorsAreTriedAgainAsTheSDKWould(t *testing.T) {
	ctx := context.Background()
	ok := answer{200, `{"Plaintext":"` + b64([]byte("k")) + `"}`}
	for _, tc := range []struct {
		name    string
		answers []answer
		tries   int
		code    string
	}{
		{"throttled, then ok", []answer{{400, `{"__type":"ThrottlingException","message":"Rate exceeded"}`}, ok}, 2, ""},
		{"KMS internal error three times", []answer{{500, `{"__type":"KMSInternalException","message":"x"}`}}, 3, "KMSInternalException"},
		{"dependency timeout, then ok", []answer{{503, `{"__type":"DependencyTimeoutException","message":"x"}`}, ok}, 2, ""},
		{"a ciphertext of another context: not tried again", []answer{{400, `{"__type":"InvalidCiphertextException","message":null}`}}, 1, "InvalidCiphertextException"},
		{"access denied: not tried again", []answer{{400, `{"__type":"AccessDeniedException","Message":"User is not authorized"}`}}, 1, "AccessDeniedException"},
		{"a disabled key: not tried again", []answer{{400, `{"__type":"com.amazonaws.kms#DisabledException","message":"x"}`}}, 1, "DisabledException"},
		{"an unreadable 200: not tried again", []answer{{200, `<html>`}}, 1, ""},
		{"a gateway timeout, then ok", []answer{{504, `<html>gateway</html>`}, ok}, 2, ""},
		{"a 501: not tried again, as the SDK does not", []answer{{501, `{"__type":"NotImplemented","message":"x"}`}}, 1, "NotImplemented"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{answers: tc.answers}
			k, err := awsjson.NewKMS(cfgWith(r, "ap-south-1"))
			if err != nil {
				t.Fatal(err)
			}
			k.Client().Backoff = time.Millisecond
			_, err = k.Decrypt(ctx, keyARN, []byte("blob"), nil)
			if len(r.reqs) != tc.tries {
				t.Fatalf("%d tries, want %d (%v)", len(r.reqs), tc.tries, err)
			}
			last := tc.answers[len(tc.answers)-1]
			if (err == nil) != (last.status == 200 && last.body != `<html>`) {
				t.Fatalf("err %v", err)
			}
			var e *awsjson.Error
			if err != nil && (!errors.As(err, &e) || e.Code != tc.code) {
				t.Fatalf("%v: want code %q", err, tc.code)
			}
		})
	}
}

// TestItSendsWhereTheSDKClientWould: with no endpoint configured, the
// regional one; with BaseEndpoint or AWS_ENDPOINT_URL_KMS, that one — the
// SDK's client sends to the same host.
func TestItSendsWhereTheSDKClientWould(t *testing.T) {
	ctx := context.Background()
	ok := answer{200, `{"CiphertextBlob":"` + b64([]byte("c")) + `"}`}
	type endpointCase struct {
		name, region string
		setup        func(*aws.Config)
		want         string
	}
	cases := []endpointCase{
		{"regional", "ap-south-1", func(*aws.Config) {}, "kms.ap-south-1.amazonaws.com"},
		{"BaseEndpoint", "ap-south-1", func(c *aws.Config) { c.BaseEndpoint = aws.String("http://127.0.0.1:4566") }, "127.0.0.1:4566"},
	}
	// every partition's regional endpoint (the SDK's partitions.json)
	for region, want := range map[string]string{"us-east-1": "kms.us-east-1.amazonaws.com", "cn-north-1": "kms.cn-north-1.amazonaws.com.cn",
		"us-gov-west-1": "kms.us-gov-west-1.amazonaws.com", "us-iso-east-1": "kms.us-iso-east-1.c2s.ic.gov",
		"us-isob-east-1": "kms.us-isob-east-1.sc2s.sgov.gov", "eu-isoe-west-1": "kms.eu-isoe-west-1.cloud.adc-e.uk",
		"us-isof-south-1": "kms.us-isof-south-1.csp.hci.ic.gov", "eusc-de-east-1": "kms.eusc-de-east-1.amazonaws.eu"} {
		cases = append(cases, endpointCase{region, region, func(*aws.Config) {}, want})
	}
	for _, tc := range cases {
		ours, sdk := &recorder{answers: []answer{ok}}, &recorder{answers: []answer{ok}}
		c1, c2 := cfgWith(ours, tc.region), cfgWith(sdk, tc.region)
		tc.setup(&c1)
		tc.setup(&c2)
		k, err := awsjson.NewKMS(c1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Encrypt(ctx, keyARN, []byte("p"), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := kms.NewFromConfig(c2).Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(keyARN), Plaintext: []byte("p")}); err != nil {
			t.Fatal(err)
		}
		a, _ := ours.last()
		b, _ := sdk.last()
		if a.URL.Host != tc.want || b.URL.Host != tc.want {
			t.Fatalf("%s: sent to %s, the SDK to %s, want %s", tc.name, a.URL.Host, b.URL.Host, tc.want)
		}
	}
	if _, err := awsjson.NewKMS(aws.Config{}); err == nil {
		t.Fatal("a config without a region accepted")
	}
	bad := cfgWith(nil, "ap-south-1")
	bad.BaseEndpoint = aws.String("ftp://x")
	if _, err := awsjson.NewKMS(bad); err == nil {
		t.Fatal("an ftp endpoint accepted")
	}
}

func b64(b []byte) string {
	out, _ := json.Marshal(b)
	return strings.Trim(string(out), `"`)
}

// transportFunc is an http.RoundTripper.
type transportFunc func(*http.Request) (*http.Response, error)

func (f transportFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestAPlainHTTPClientIsCalledThroughItsTransport: with an *http.Client that
// adds nothing (no Timeout, Jar or CheckRedirect) the request goes to its
// transport directly, and a redirect is an error answer, not followed;
// with a redirect policy set, Client.Do is used, and the policy is called.
func TestAPlainHTTPClientIsCalledThroughItsTransport(t *testing.T) {
	ctx := context.Background()
	var calls []string
	rt := transportFunc(func(r *http.Request) (*http.Response, error) {
		calls = append(calls, r.URL.Host)
		if r.URL.Host != "kms.ap-south-1.amazonaws.com" {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"Plaintext":"` + b64([]byte("k")) + `"}`)), Request: r}, nil
		}
		return &http.Response{StatusCode: http.StatusTemporaryRedirect, Header: http.Header{"Location": {"https://elsewhere.example/"}},
			Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})

	k, err := awsjson.NewKMS(cfgWith(&http.Client{Transport: rt}, "ap-south-1"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = k.Decrypt(ctx, keyARN, []byte("blob"), nil)
	var e *awsjson.Error
	if !errors.As(err, &e) || e.Status != http.StatusTemporaryRedirect || len(calls) != 1 {
		t.Fatalf("a plain client: %v after %v; want the 307 as an error, one call", err, calls)
	}

	calls = nil
	policy := 0
	hc := &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { policy++; return nil }}
	if k, err = awsjson.NewKMS(cfgWith(hc, "ap-south-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Decrypt(ctx, keyARN, []byte("blob"), nil); err != nil || policy != 1 || len(calls) != 2 {
		t.Fatalf("a client with a redirect policy: %v, policy called %d times, calls %v; want Client.Do to follow it", err, policy, calls)
	}
}

// TestAnAnswerPastMaxAnswerIsAnError: an answer longer than MaxAnswer is an
// error (not a truncated body read as the answer), and a 200 is not tried
// again.
func TestAnAnswerPastMaxAnswerIsAnError(t *testing.T) {
	r := &recorder{answers: []answer{{200, `{"Plaintext":"` + b64([]byte("a longer key than allowed")) + `"}`}}}
	k, err := awsjson.NewKMS(cfgWith(r, "ap-south-1"))
	if err != nil {
		t.Fatal(err)
	}
	k.Client().MaxAnswer = 16
	_, err = k.Decrypt(context.Background(), keyARN, []byte("blob"), nil)
	var e *awsjson.Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "longer than 16 bytes") || e.Retry || len(r.reqs) != 1 {
		t.Fatalf("%v after %d tries: want the length refused once", err, len(r.reqs))
	}
}
