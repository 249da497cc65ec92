// Package awsjson calls AWS services that speak the AWS JSON protocol
// (SQS, KMS, SSM, DynamoDB) with requests signed by Signature Version 4,
// without the SDK's service clients.
//
// It exists for the functions' start (issue 17): linking an SDK service
// client runs its package init, which builds the service's endpoint tables
// (about 80–90 KB in some 700 allocations each: 0.3–0.6 ms of every cold
// start per client, docs/benchmarks.md §4), and builds its client (middleware
// stack, endpoint rules) in the function's wiring. Razorbill calls few
// operations of these services: SQS SendMessage (internal/sqsjson), KMS
// Encrypt and Decrypt (KMS), SSM GetParameter (SSM) and DynamoDB's seven
// item operations (internal/ddbjson). No function links an SDK
// service client (internal/wire's TestEachFunctionLinksOnlyItsAdapters).
//
// The wire shapes and the signing follow AWS's references: the JSON
// protocol (https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html,
// aws-json-1_1-protocol.html: POST /, X-Amz-Target "<prefix>.<operation>",
// Content-Type application/x-amz-json-1.0 or 1.1, errors as {"__type":
// "…#Code", "message": …}) and Signature Version 4
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
// The tests hold every call to the SDK: the SDK's own signer computes the
// same Authorization header, the SDK's client sends the same body to the
// same operation, and reads the same answer the same way.
//
// A request goes where the SDK's client would send it: the config's
// BaseEndpoint, else the endpoint a config source names for the service
// (AWS_ENDPOINT_URL_<SERVICE>; the local stack), else the caller's
// fallback (internal/sqsjson: the queue URL's host), else the service's
// regional endpoint, https://<service>.<region>.amazonaws.com (.com.cn in
// the China regions).
package awsjson

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Service is one AWS service's JSON protocol.
type Service struct {
	// Name is its signing name and endpoint prefix (sqs, kms, ssm).
	Name string
	// SDKID is its SDK id, as config sources name its endpoint
	// (AWS_ENDPOINT_URL_<SDKID>).
	SDKID string
	// TargetPrefix is the X-Amz-Target prefix before ".<operation>".
	TargetPrefix string
	// ContentType is application/x-amz-json-1.0 or -1.1.
	ContentType string
}

// The services Razorbill calls.
var (
	SQS = Service{Name: "sqs", SDKID: "SQS", TargetPrefix: "AmazonSQS", ContentType: "application/x-amz-json-1.0"}
	KMS = Service{Name: "kms", SDKID: "KMS", TargetPrefix: "TrentService", ContentType: "application/x-amz-json-1.1"}
	SSM = Service{Name: "ssm", SDKID: "SSM", TargetPrefix: "AmazonSSM", ContentType: "application/x-amz-json-1.1"}
	// DynamoDB is called through internal/ddbjson.
	DynamoDB = Service{Name: "dynamodb", SDKID: "DynamoDB", TargetPrefix: "DynamoDB_20120810", ContentType: "application/x-amz-json-1.0"}
)

// Doer sends an HTTP request (aws.HTTPClient; *http.Client is one).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Client calls one service in one region.
type Client struct {
	svc      Service
	endpoint *url.URL // scheme and host, path "/"
	region   string
	creds    aws.CredentialsProvider
	http     Doer
	// rt is http's transport when http is a plain *http.Client (see
	// transportOf), called directly; nil otherwise.
	rt http.RoundTripper
	// Now is the clock requests are signed with.
	Now func() time.Time
	// Attempts is how many times one Call tries (a network error, a try
	// out of time, a 5xx or a throttling answer is tried again); at least 1.
	Attempts int
	// AttemptTimeout bounds one try (within the caller's deadline), so a
	// stuck connection becomes another try.
	AttemptTimeout time.Duration
	// Backoff is the longest pause before the second try (at least half
	// of it, the rest random), doubled before each further one.
	Backoff time.Duration
	// MaxAnswer is the most bytes of an answer read (1 MiB by default).
	MaxAnswer int64
	// Verify, when set, checks every 200 answer's headers and body before it
	// is read (DynamoDB's X-Amz-Crc32); an answer it refuses is an error,
	// not tried again.
	Verify func(h http.Header, body []byte) error
	// AcceptIdentity asks for answers uncompressed (Accept-Encoding:
	// identity): net/http would otherwise ask for gzip and decompress, and
	// a checksum of the body as sent could not be checked.
	AcceptIdentity bool

	contentType []string // the header value, shared by every request
	targets     sync.Map // operation → its X-Amz-Target header value

	mu  sync.Mutex
	key signingKey // the last derived signing key, as an HMAC
	sts []byte     // scratch: the string to sign
	sig [sha256.Size]byte
}

type signingKey struct {
	day, secret string
	mac         hash.Hash // HMAC-SHA256 keyed with the derived key
}

var identity = []string{"identity"}

// defaultHTTP is the client used when the aws.Config carries none (the
// deployed functions): the SDK's default transport (awshttp's
// BuildableClient: 10 idle connections kept per host, where
// http.DefaultTransport keeps 2 — usage-ingest sends 16 PutItems at once —
// TLS 1.2 or later, its dial and handshake timeouts), called directly
// (transportOf). Each try's deadline is its context's.
var defaultHTTP = &http.Client{Transport: awshttp.NewBuildableClient().GetTransport()}

// New returns a client of svc signing with cfg's region and credentials,
// sending through cfg.HTTPClient (when set) and trying cfg.RetryMaxAttempts
// times (when set; else 3, the SDK's default). fallback (nil: the regional
// endpoint) is where requests go when cfg names no endpoint for svc.
func New(cfg aws.Config, svc Service, fallback *url.URL) (*Client, error) {
	if cfg.Region == "" {
		return nil, fmt.Errorf("%s: the AWS config has no region", svc.Name)
	}
	var doer Doer = defaultHTTP
	if cfg.HTTPClient != nil {
		doer = cfg.HTTPClient
	}
	endpoint, err := configuredEndpoint(cfg, svc)
	if err != nil {
		return nil, err
	}
	if endpoint == nil {
		endpoint = fallback
	}
	if endpoint == nil {
		endpoint = &url.URL{Scheme: "https", Host: svc.Name + "." + cfg.Region + dnsSuffix(cfg.Region), Path: "/"}
	}
	attempts := 3
	if cfg.RetryMaxAttempts > 0 {
		attempts = cfg.RetryMaxAttempts
	}
	return &Client{
		svc:            svc,
		endpoint:       endpoint,
		region:         cfg.Region,
		creds:          cfg.Credentials,
		http:           doer,
		rt:             transportOf(doer),
		Now:            time.Now,
		Attempts:       attempts,
		AttemptTimeout: 1500 * time.Millisecond,
		Backoff:        50 * time.Millisecond,
		MaxAnswer:      1 << 20,
		contentType:    []string{svc.ContentType},
	}, nil
}

// transportOf is the transport of a *http.Client that adds nothing to it —
// no Timeout, cookie Jar or CheckRedirect — else nil. Client.Do would only
// add its redirect bookkeeping, which copies every request's headers in
// case a redirect comes; an AWS JSON-protocol service answers a POST with
// 200 or an error, never a redirect (a 3xx would be an error answer here,
// not followed). The Lambda functions' client is such a client.
func transportOf(d Doer) http.RoundTripper {
	hc, ok := d.(*http.Client)
	if !ok || hc.Timeout != 0 || hc.Jar != nil || hc.CheckRedirect != nil {
		return nil
	}
	if hc.Transport == nil {
		return http.DefaultTransport
	}
	return hc.Transport
}

// Endpoint is where the client sends (scheme and host).
func (c *Client) Endpoint() string { return c.endpoint.Scheme + "://" + c.endpoint.Host }

// partitionSuffixes are the DNS suffixes of the partitions whose regions
// do not use .amazonaws.com, by region prefix (the SDK's partitions.json:
// aws-cn, aws-eusc, aws-iso-b, aws-iso-f, aws-iso, aws-iso-e; "us-isob-"
// and "us-isof-" before "us-iso-"). GovCloud's regions use .amazonaws.com.
var partitionSuffixes = []struct{ prefix, suffix string }{
	{"cn-", ".amazonaws.com.cn"},
	{"eusc-", ".amazonaws.eu"},
	{"us-isob-", ".sc2s.sgov.gov"},
	{"us-isof-", ".csp.hci.ic.gov"},
	{"us-iso-", ".c2s.ic.gov"},
	{"eu-isoe-", ".cloud.adc-e.uk"},
}

// dnsSuffix is the DNS suffix of a region's partition.
func dnsSuffix(region string) string {
	for _, p := range partitionSuffixes {
		if strings.HasPrefix(region, p.prefix) {
			return p.suffix
		}
	}
	return ".amazonaws.com"
}

// serviceEndpoints is what the SDK asks a config source for a service's
// endpoint (AWS_ENDPOINT_URL_<SERVICE>; the local stack's emulators).
type serviceEndpoints interface {
	GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
}

// configuredEndpoint is the endpoint cfg sets for svc, if any, chosen as
// the SDK's clients choose (service/<name> resolveBaseEndpoint):
// BaseEndpoint, replaced by the first config source that names one for the
// service unless AWS_ENDPOINT_URL is set and AWS_ENDPOINT_URL_<SDKID> is not.
func configuredEndpoint(cfg aws.Config, svc Service) (*url.URL, error) {
	raw := aws.ToString(cfg.BaseEndpoint)
	_, global := os.LookupEnv("AWS_ENDPOINT_URL")
	_, service := os.LookupEnv("AWS_ENDPOINT_URL_" + svc.SDKID)
	if !global || service {
		for _, src := range cfg.ConfigSources {
			p, ok := src.(serviceEndpoints)
			if !ok {
				continue
			}
			v, found, err := p.GetServiceBaseEndpoint(context.Background(), svc.SDKID)
			if err != nil {
				return nil, fmt.Errorf("%s endpoint: %w", svc.Name, err)
			}
			if found && v != "" {
				raw = v
				break
			}
		}
	}
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%s endpoint %q is not an http(s) URL", svc.Name, raw)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("%s endpoint %q has a path; only scheme and host are used", svc.Name, raw)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}, nil
}

// Error is a service's answer to a request it refused, or the reason no
// answer was usable.
type Error struct {
	Service, Op string
	Status      int    // HTTP status; 0 when no answer came
	Code        string // the error code (the part of __type after '#'), if any
	Message     string
	Retry       bool // worth another try: a network error, a 5xx, throttling
	Err         error
	// Body is the error answer as the service sent it (nil when none came).
	Body []byte
}

// ErrorCode is the service's error code (smithy.APIError).
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage is the service's message (smithy.APIError).
func (e *Error) ErrorMessage() string { return e.Message }

// ErrorFault is the side at fault (smithy.APIError): the server for a 5xx,
// else the client (0 when unknown: no answer).
func (e *Error) ErrorFault() smithy.ErrorFault {
	switch {
	case e.Status >= 500:
		return smithy.FaultServer
	case e.Status >= 400:
		return smithy.FaultClient
	}
	return smithy.FaultUnknown
}

func (e *Error) Error() string {
	switch {
	case e.Status == 0:
		return fmt.Sprintf("%s %s: %s", e.Service, e.Op, e.Message)
	case e.Code != "":
		return fmt.Sprintf("%s %s: %d %s: %s", e.Service, e.Op, e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("%s %s: %d: %s", e.Service, e.Op, e.Status, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Call sends body (the operation's JSON input) to op and returns the body
// of the 200 answer, trying again (up to Attempts) on a network error, a
// 5xx or a throttling answer. Any other outcome is an *Error.
func (c *Client) Call(ctx context.Context, op string, body []byte) ([]byte, error) {
	pause := c.Backoff
	for try := 1; ; try++ {
		out, err := c.callOnce(ctx, op, body)
		if err == nil {
			return out, nil
		}
		// ctx done: no further try (a try's own timeout is not ctx's).
		var e *Error
		if !errors.As(err, &e) || !e.Retry || try >= c.Attempts || ctx.Err() != nil {
			return nil, err
		}
		// Half the pause and a random share of the other half, so that
		// callers refused together do not all come back together.
		t := time.NewTimer(pause/2 + rand.N(pause/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		pause *= 2
	}
}

// CallJSON marshals in, calls op and decodes the answer into out. An
// answer that does not decode is an *Error, not tried again (the service
// acted on the request).
func (c *Client) CallJSON(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return c.EncodingFailed(op, err)
	}
	raw, err := c.Call(ctx, op, body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return c.Unreadable(op, raw, err)
	}
	return nil
}

// EncodingFailed is the error of a request of op that could not be
// written (nothing was sent).
func (c *Client) EncodingFailed(op string, err error) *Error {
	return &Error{Service: c.svc.Name, Op: op, Message: "encoding the request: " + err.Error(), Err: err}
}

// Unreadable is the error of a 200 answer to op that could not be read
// (err, when there is one, says why). It is not tried again: the service
// acted on the request.
func (c *Client) Unreadable(op string, raw []byte, err error) *Error {
	return &Error{Service: c.svc.Name, Op: op, Status: http.StatusOK, Message: fmt.Sprintf("unreadable answer %.200q", raw), Err: err}
}

// targetOf is op's X-Amz-Target value, built once (net/http only reads a
// request's headers, so one slice serves every request).
func (c *Client) targetOf(op string) []string {
	if v, ok := c.targets.Load(op); ok {
		return v.([]string)
	}
	v := []string{c.svc.TargetPrefix + "." + op}
	c.targets.Store(op, v)
	return v
}

func (c *Client) callOnce(ctx context.Context, op string, body []byte) ([]byte, error) {
	if c.AttemptTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.AttemptTimeout)
		defer cancel()
	}
	fail := func(status int, msg string, retry bool, err error) *Error {
		return &Error{Service: c.svc.Name, Op: op, Status: status, Message: msg, Retry: retry, Err: err}
	}
	if c.creds == nil {
		return nil, fail(0, "no credentials in the AWS config", false, nil)
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return nil, fail(0, "no credentials: "+err.Error(), false, err)
	}
	target := c.targetOf(op)
	now := c.Now().UTC()
	h := make(http.Header, 6)
	amzDate := now.Format(amzDateLayout)
	h["Authorization"] = []string{c.authorization(creds, amzDate, target[0], body)}
	h["Content-Type"] = c.contentType
	h["X-Amz-Date"] = []string{amzDate}
	h["X-Amz-Target"] = target
	if creds.SessionToken != "" {
		h["X-Amz-Security-Token"] = []string{creds.SessionToken}
	}
	if c.AcceptIdentity {
		h["Accept-Encoding"] = identity
	}
	u := *c.endpoint // a Doer may change the request's URL; c.endpoint stays
	req := (&http.Request{
		Method:        http.MethodPost,
		URL:           &u,
		Host:          u.Host,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		// net/http sends the request again on a pooled connection the server
		// had closed, if it can rewind the body.
		GetBody: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil },
	}).WithContext(ctx)
	var resp *http.Response
	if c.rt != nil {
		resp, err = c.rt.RoundTrip(req)
	} else {
		resp, err = c.http.Do(req)
	}
	if err != nil {
		// Any transport error, this try's timeout included, is worth another
		// try; Call stops when the caller's context is done.
		return nil, fail(0, err.Error(), true, err)
	}
	defer resp.Body.Close()
	// A 200 whose body cannot be read whole, or fails Verify, is an error
	// but not tried again: the service acted on the request (a write
	// happened; a conditional one sent again would fail its condition), as
	// the SDK does not try a response it could not deserialize again.
	ok := resp.StatusCode == http.StatusOK
	raw, err := readAnswer(resp, c.MaxAnswer)
	if err != nil {
		return nil, fail(resp.StatusCode, "reading the answer: "+err.Error(), !ok, err)
	}
	if c.Verify != nil && ok {
		if err := c.Verify(resp.Header, raw); err != nil {
			return nil, fail(resp.StatusCode, "the answer is damaged: "+err.Error(), false, err)
		}
	}
	if resp.StatusCode != http.StatusOK {
		e := answerError(resp, raw)
		e.Service, e.Op = c.svc.Name, op
		return nil, e
	}
	return raw, nil
}

// readAnswer reads resp's body, at most limit bytes: into one buffer of
// its length when the answer gives one (net/http's transport holds the body
// to it). A length of 0 is read to the end: a hand-made Response may leave
// it unset.
func readAnswer(resp *http.Response, limit int64) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= limit {
		raw := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, raw); err != nil {
			return nil, err
		}
		return raw, nil
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err == nil && int64(len(raw)) > limit {
		return nil, fmt.Errorf("the answer is longer than %d bytes", limit)
	}
	return raw, err
}

// answerError reads an error answer: {"__type": "com.amazonaws.sqs#Code",
// "message": "…"} (a ":…" suffix of the type dropped); the
// X-Amzn-Query-Error and X-Amzn-ErrorType headers name the code when the
// body does not.
func answerError(resp *http.Response, raw []byte) *Error {
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
		Upper   string `json:"Message"`
	}
	_ = json.Unmarshal(raw, &body)
	code := body.Type
	if code == "" {
		code = resp.Header.Get("X-Amzn-ErrorType")
	}
	code, _, _ = strings.Cut(code, ":")
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if q := resp.Header.Get("X-Amzn-Query-Error"); code == "" && q != "" {
		code, _, _ = strings.Cut(q, ";")
	}
	msg := body.Message
	if msg == "" {
		msg = body.Upper
	}
	if msg == "" {
		msg = fmt.Sprintf("%.200q", raw)
	}
	// the SDK's retryable statuses (aws/retry RetryableHTTPStatusCode)
	retry := retryableStatus[resp.StatusCode] || retryableCodes[code]
	return &Error{Status: resp.StatusCode, Code: code, Message: msg, Retry: retry, Body: raw}
}

var retryableStatus = map[int]bool{500: true, 502: true, 503: true, 504: true}

// retryableCodes are the SDK's retryable and throttling error codes
// (aws/retry), SQS's own throttling and unavailability codes and KMS's
// (KMSInternalException and DependencyTimeoutException are 5xx as well).
var retryableCodes = map[string]bool{
	"RequestTimeout": true, "RequestTimeoutException": true, "Throttling": true, "ThrottlingException": true,
	"ThrottledException": true, "RequestThrottledException": true, "TooManyRequestsException": true,
	"ProvisionedThroughputExceededException": true, "TransactionInProgressException": true, "RequestLimitExceeded": true,
	"BandwidthLimitExceeded": true, "LimitExceededException": true, "RequestThrottled": true, "SlowDown": true,
	"PriorRequestNotComplete": true, "EC2ThrottledException": true, "ServiceUnavailable": true, "InternalError": true,
	"InternalFailure": true, "KmsThrottled": true, "AWS.SimpleQueueService.ServiceUnavailable": true,
	"KMSInternalException": true, "DependencyTimeoutException": true,
}

const amzDateLayout = "20060102T150405Z"

// authorization is the SigV4 Authorization header of the request callOnce
// builds: signed headers content-length, content-type, host, x-amz-date,
// x-amz-security-token (with a session token) and x-amz-target, path "/",
// no query.
func (c *Client) authorization(cr aws.Credentials, amzDate, target string, body []byte) string {
	day := amzDate[:8]
	payload := sha256.Sum256(body)
	signed := "content-length;content-type;host;x-amz-date;x-amz-target"
	if cr.SessionToken != "" {
		signed = "content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
	}

	var buf [640]byte // the canonical request, on the stack unless a token is long
	b := append(buf[:0], "POST\n/\n\ncontent-length:"...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\ncontent-type:"...)
	b = append(b, c.svc.ContentType...)
	b = append(b, "\nhost:"...)
	b = append(b, c.endpoint.Host...)
	b = append(b, "\nx-amz-date:"...)
	b = append(b, amzDate...)
	if cr.SessionToken != "" {
		b = append(b, "\nx-amz-security-token:"...)
		b = append(b, strings.TrimSpace(cr.SessionToken)...)
	}
	b = append(b, "\nx-amz-target:"...)
	b = append(b, target...)
	b = append(b, "\n\n"...)
	b = append(b, signed...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, payload[:])
	crHash := sha256.Sum256(b)

	var scopeBuf [96]byte
	scope := append(append(append(append(append(append(scopeBuf[:0], day...), '/'), c.region...), '/'), c.svc.Name...), "/aws4_request"...)
	var outBuf [320]byte // the header, on the stack unless the key id is long
	out := append(outBuf[:0], "AWS4-HMAC-SHA256 Credential="...)
	out = append(out, cr.AccessKeyID...)
	out = append(out, '/')
	out = append(out, scope...)
	out = append(out, ", SignedHeaders="...)
	out = append(out, signed...)
	out = append(out, ", Signature="...)

	// The string to sign and the signature are written into the client's
	// scratch buffers while c.mu is held: the HMAC is an interface, so
	// buffers of this frame handed to it would be moved to the heap.
	c.mu.Lock()
	sts := append(c.sts[:0], "AWS4-HMAC-SHA256\n"...)
	sts = append(sts, amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, scope...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, crHash[:])
	c.sts = sts
	mac := c.mac(cr.SecretAccessKey, day)
	mac.Reset()
	mac.Write(sts)
	sig := mac.Sum(c.sig[:0])
	out = hex.AppendEncode(out, sig)
	c.mu.Unlock()
	return string(out)
}

// mac is the HMAC keyed with the SigV4 signing key of the day and secret
// (HMAC chain over the date, region, service and "aws4_request"), derived
// once per day and secret. c.mu is held.
func (c *Client) mac(secret, day string) hash.Hash {
	if c.key.mac != nil && c.key.day == day && c.key.secret == secret {
		return c.key.mac
	}
	k := hmacSum([]byte("AWS4"+secret), day)
	k = hmacSum(k, c.region)
	k = hmacSum(k, c.svc.Name)
	k = hmacSum(k, "aws4_request")
	c.key = signingKey{day: day, secret: secret, mac: hmac.New(sha256.New, k)}
	return c.key.mac
}

func hmacSum(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
