// Package sqsjson sends one SQS message per call over SQS's JSON protocol
// (AWS JSON 1.0, `X-Amz-Target: AmazonSQS.SendMessage`), signed with
// Signature Version 4, without the SDK's SQS client.
//
// It exists for the webhook receiver, whose only AWS call on every event is
// this send: the SDK client's per-call work (its middleware stack, endpoint
// rules, signer) was 92 % of the receiver's CPU per event
// (docs/benchmarks.md §1). It implements exactly SendMessage with a body,
// and on FIFO queues a group and a deduplication id; nothing else.
//
// The wire shapes follow the SQS API reference
// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html,
// "Making query API requests using AWS JSON protocol":
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-making-api-requests-json.html)
// and the signing process
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
// Its tests hold it to the SDK: the same request signed by the SDK's own
// SigV4 signer gets the same Authorization header, the body decodes to the
// same fields the SDK client sends, and it talks to the SQS emulator.
//
// The request goes where the SDK's SQS client would send it: the config's
// BaseEndpoint, else an SQS endpoint one of its ConfigSources names (the
// local stack's emulator or a metering proxy), else the queue URL's scheme
// and host (https://sqs.<region>.amazonaws.com for a queue in AWS).
package sqsjson

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/razorbill/razorbill/internal/apperr"
)

// Message is one message. GroupID and DedupID are required on FIFO queues
// and ignored on standard ones.
type Message struct {
	Body    string
	GroupID string
	DedupID string
}

// Doer sends an HTTP request (aws.HTTPClient; *http.Client is one).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Sender sends to one queue.
type Sender struct {
	queueURL string
	endpoint *url.URL // the queue URL's scheme and host, path "/"
	fifo     bool
	region   string
	creds    aws.CredentialsProvider
	http     Doer
	// Now is the clock requests are signed with.
	Now func() time.Time
	// Attempts is how many times one Send tries (a network error, a try
	// out of time, a 5xx or a throttling answer is tried again); at least 1.
	Attempts int
	// AttemptTimeout bounds one try (within the caller's deadline), so a
	// stuck connection becomes another try before the webhook receiver's
	// 5 s run out.
	AttemptTimeout time.Duration
	// Backoff is the pause before the second try, doubled before each
	// further one.
	Backoff time.Duration

	mu  sync.Mutex
	key signingKey // the last derived signing key, as an HMAC
}

type signingKey struct {
	day, secret string
	mac         hash.Hash // HMAC-SHA256 keyed with the derived key
}

// defaultHTTP is the client used when the aws.Config carries none (each
// try's deadline is AttemptTimeout's context).
var defaultHTTP = &http.Client{}

// New returns a sender for the queue at queueURL, signing with cfg's region
// and credentials, sending through cfg.HTTPClient (when set) and trying
// cfg.RetryMaxAttempts times (when set; else 3, the SDK's default).
func New(cfg aws.Config, queueURL string) (*Sender, error) {
	u, err := url.Parse(queueURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("sqsjson: queue URL %q is not an http(s) URL", queueURL)
	}
	if cfg.Region == "" {
		return nil, errors.New("sqsjson: the AWS config has no region")
	}
	var doer Doer = defaultHTTP
	if cfg.HTTPClient != nil {
		doer = cfg.HTTPClient
	}
	endpoint := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}
	if base, err := configuredEndpoint(cfg); err != nil {
		return nil, err
	} else if base != nil {
		endpoint = base
	} else if r := hostRegion(u.Host); r != "" && r != cfg.Region {
		// Signed for one region and sent to another, every send would be
		// refused (403), and the webhooks redelivered until Razorpay gives up.
		return nil, fmt.Errorf("sqsjson: queue URL %q is in region %s, the AWS config's region is %s", queueURL, r, cfg.Region)
	}
	attempts := 3
	if cfg.RetryMaxAttempts > 0 {
		attempts = cfg.RetryMaxAttempts
	}
	return &Sender{
		queueURL:       queueURL,
		endpoint:       endpoint,
		fifo:           strings.HasSuffix(u.Path, ".fifo"),
		region:         cfg.Region,
		creds:          cfg.Credentials,
		http:           doer,
		Now:            time.Now,
		Attempts:       attempts,
		AttemptTimeout: 1500 * time.Millisecond,
		Backoff:        50 * time.Millisecond,
	}, nil
}

// hostRegion is the region of an SQS host in AWS (sqs.<region>.amazonaws.com,
// .amazonaws.com.cn, or the legacy <region>.queue.amazonaws.com), else "".
func hostRegion(host string) string {
	if r, ok := strings.CutPrefix(host, "sqs."); ok {
		for _, suffix := range []string{".amazonaws.com", ".amazonaws.com.cn"} {
			if r, ok := strings.CutSuffix(r, suffix); ok && r != "" && !strings.Contains(r, ".") {
				return r
			}
		}
	}
	if r, ok := strings.CutSuffix(host, ".queue.amazonaws.com"); ok && r != "" && !strings.Contains(r, ".") {
		return r
	}
	return ""
}

// serviceEndpoints is what the SDK asks a config source for a service's
// endpoint (AWS_ENDPOINT_URL_<SERVICE>; the local stack's emulators).
type serviceEndpoints interface {
	GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
}

// configuredEndpoint is the SQS endpoint cfg sets, if any, chosen as the
// SDK's SQS client chooses (service/sqs resolveBaseEndpoint): BaseEndpoint,
// replaced by the first config source that names one for "SQS" unless
// AWS_ENDPOINT_URL is set and AWS_ENDPOINT_URL_SQS is not.
func configuredEndpoint(cfg aws.Config) (*url.URL, error) {
	raw := aws.ToString(cfg.BaseEndpoint)
	_, global := os.LookupEnv("AWS_ENDPOINT_URL")
	_, service := os.LookupEnv("AWS_ENDPOINT_URL_SQS")
	if !global || service {
		for _, src := range cfg.ConfigSources {
			p, ok := src.(serviceEndpoints)
			if !ok {
				continue
			}
			v, found, err := p.GetServiceBaseEndpoint(context.Background(), "SQS")
			if err != nil {
				return nil, fmt.Errorf("sqsjson: SQS endpoint: %w", err)
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
		return nil, fmt.Errorf("sqsjson: SQS endpoint %q is not an http(s) URL", raw)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("sqsjson: SQS endpoint %q has a path; only scheme and host are used", raw)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}, nil
}

// Error is SQS's answer to a request it refused, or the reason no answer
// was usable.
type Error struct {
	Status  int    // HTTP status; 0 when no answer came
	Code    string // SQS's error code (the part of __type after '#'), if any
	Message string
	Retry   bool // worth another try: a network error, a 5xx, throttling
	Err     error
}

func (e *Error) Error() string {
	switch {
	case e.Status == 0:
		return fmt.Sprintf("sqs SendMessage: %s", e.Message)
	case e.Code != "":
		return fmt.Sprintf("sqs SendMessage: %d %s: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("sqs SendMessage: %d: %s", e.Status, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Send enqueues m, trying again (up to Attempts) on a network error, a 5xx
// or a throttling answer. A failure is SendFailed's: the receiver answers
// 5xx and Razorpay delivers again; the *Error is wrapped.
func (s *Sender) Send(ctx context.Context, m Message) error {
	if err := CheckFIFO(s.fifo, m); err != nil {
		return err
	}
	if _, err := s.send(ctx, m); err != nil {
		return SendFailed(err)
	}
	return nil
}

// CheckFIFO refuses a message for a FIFO queue without its group or
// deduplication id (a bug in the caller, never sent).
func CheckFIFO(fifo bool, m Message) error {
	if fifo && (m.GroupID == "" || m.DedupID == "") {
		return apperr.E(apperr.Internal, "", "FIFO message needs a group and a deduplication id")
	}
	return nil
}

// SendFailed is the error of a send that failed, whichever client made it:
// Transient queue_unavailable, so the caller answers 5xx (a webhook is then
// redelivered by Razorpay) or returns the record as a batch failure.
func SendFailed(err error) error {
	if errors.Is(err, context.Canceled) {
		return apperr.Wrap(err, apperr.Transient, "queue_unavailable", "the request was cancelled before the message was queued")
	}
	return apperr.Wrap(err, apperr.Transient, "queue_unavailable", "the message could not be queued; retry")
}

// send tries m up to Attempts times and returns SQS's message id.
func (s *Sender) send(ctx context.Context, m Message) (string, error) {
	body := s.encode(m)
	sum := md5.Sum(unsafe.Slice(unsafe.StringData(m.Body), len(m.Body))) // read only
	bodyMD5 := hex.EncodeToString(sum[:])
	pause := s.Backoff
	for try := 1; ; try++ {
		id, err := s.sendOnce(ctx, body, bodyMD5)
		if err == nil {
			return id, nil
		}
		// ctx done: no further try (a try's own timeout is not ctx's).
		var e *Error
		if !errors.As(err, &e) || !e.Retry || try >= s.Attempts || ctx.Err() != nil {
			return "", err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", err
		case <-t.C:
		}
		pause *= 2
	}
}

// encode writes the SendMessage request body.
func (s *Sender) encode(m Message) []byte {
	n := 96 // the field names and punctuation
	for _, v := range [...]string{m.Body, s.queueURL, m.GroupID, m.DedupID} {
		// Quotes and backslashes take one byte more; anything else escaped
		// (control characters, invalid UTF-8) may grow the slice once.
		n += len(v) + strings.Count(v, `"`) + strings.Count(v, `\`)
	}
	b := make([]byte, 0, n)
	b = append(b, `{"MessageBody":`...)
	b = appendString(b, m.Body)
	if s.fifo {
		b = append(b, `,"MessageDeduplicationId":`...)
		b = appendString(b, m.DedupID)
		b = append(b, `,"MessageGroupId":`...)
		b = appendString(b, m.GroupID)
	}
	b = append(b, `,"QueueUrl":`...)
	b = appendString(b, s.queueURL)
	return append(b, '}')
}

const (
	amzTarget   = "AmazonSQS.SendMessage"
	contentType = "application/x-amz-json-1.0"
	service     = "sqs"
)

// Header values every request carries; net/http only reads a request's
// headers, so one slice serves every request.
var (
	contentTypeValue = []string{contentType}
	amzTargetValue   = []string{amzTarget}
)

func (s *Sender) sendOnce(ctx context.Context, body []byte, bodyMD5 string) (string, error) {
	if s.AttemptTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.AttemptTimeout)
		defer cancel()
	}
	if s.creds == nil {
		return "", &Error{Message: "no credentials in the AWS config"}
	}
	creds, err := s.creds.Retrieve(ctx)
	if err != nil {
		return "", &Error{Message: "no credentials: " + err.Error(), Err: err}
	}
	now := s.Now().UTC()
	h := make(http.Header, 5)
	amzDate := now.Format(amzDateLayout)
	h["Authorization"] = []string{s.authorization(creds, amzDate, body)}
	h["Content-Type"] = contentTypeValue
	h["X-Amz-Date"] = []string{amzDate}
	h["X-Amz-Target"] = amzTargetValue
	if creds.SessionToken != "" {
		h["X-Amz-Security-Token"] = []string{creds.SessionToken}
	}
	u := *s.endpoint // a Doer may change the request's URL; s.endpoint stays
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
	resp, err := s.http.Do(req)
	if err != nil {
		// Any transport error, this try's timeout included, is worth another
		// try; send stops when the caller's context is done.
		return "", &Error{Message: err.Error(), Retry: true, Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", &Error{Status: resp.StatusCode, Message: "reading the answer: " + err.Error(), Retry: true, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return "", answerError(resp, raw)
	}
	var out struct {
		MD5OfMessageBody string
		MessageID        string `json:"MessageId"`
	}
	// A 200 means SQS stored a message: what is wrong with its answer is not
	// tried again (the SDK checks the MD5 once, after its retries, too).
	if err := json.Unmarshal(raw, &out); err != nil || out.MessageID == "" {
		return "", &Error{Status: resp.StatusCode, Message: fmt.Sprintf("unreadable answer %.200q", raw)}
	}
	// SQS returns the MD5 of the body it stored.
	if !strings.EqualFold(out.MD5OfMessageBody, bodyMD5) {
		return "", &Error{Status: resp.StatusCode, Message: fmt.Sprintf("MD5OfMessageBody %q does not match the body sent", out.MD5OfMessageBody)}
	}
	return out.MessageID, nil
}

// answerError reads SQS's error answer: {"__type": "com.amazonaws.sqs#Code",
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
	retry := resp.StatusCode >= 500 || retryableCodes[code]

	return &Error{Status: resp.StatusCode, Code: code, Message: msg, Retry: retry}
}

// retryableCodes are the SDK's retryable and throttling error codes
// (aws/retry) and SQS's own throttling and unavailability codes.
var retryableCodes = map[string]bool{
	"RequestTimeout": true, "RequestTimeoutException": true, "Throttling": true, "ThrottlingException": true,
	"ThrottledException": true, "RequestThrottledException": true, "TooManyRequestsException": true,
	"ProvisionedThroughputExceededException": true, "TransactionInProgressException": true, "RequestLimitExceeded": true,
	"BandwidthLimitExceeded": true, "LimitExceededException": true, "RequestThrottled": true, "SlowDown": true,
	"PriorRequestNotComplete": true, "EC2ThrottledException": true, "ServiceUnavailable": true, "InternalError": true,
	"InternalFailure": true, "KmsThrottled": true, "AWS.SimpleQueueService.ServiceUnavailable": true,
}

const amzDateLayout = "20060102T150405Z"

// authorization is the SigV4 Authorization header of the request sendOnce
// builds: signed headers content-length, content-type, host, x-amz-date,
// x-amz-security-token (with a session token) and x-amz-target, path "/",
// no query.
func (s *Sender) authorization(c aws.Credentials, amzDate string, body []byte) string {
	day := amzDate[:8]
	payload := sha256.Sum256(body)
	signed := "content-length;content-type;host;x-amz-date;x-amz-target"
	if c.SessionToken != "" {
		signed = "content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
	}

	cr := make([]byte, 0, 512)
	cr = append(cr, "POST\n/\n\ncontent-length:"...)
	cr = strconv.AppendInt(cr, int64(len(body)), 10)
	cr = append(cr, "\ncontent-type:"+contentType+"\nhost:"...)
	cr = append(cr, s.endpoint.Host...)
	cr = append(cr, "\nx-amz-date:"...)
	cr = append(cr, amzDate...)
	if c.SessionToken != "" {
		cr = append(cr, "\nx-amz-security-token:"...)
		cr = append(cr, strings.TrimSpace(c.SessionToken)...)
	}
	cr = append(cr, "\nx-amz-target:"+amzTarget+"\n\n"...)
	cr = append(cr, signed...)
	cr = append(cr, '\n')
	cr = hex.AppendEncode(cr, payload[:])
	crHash := sha256.Sum256(cr)

	scope := day + "/" + s.region + "/" + service + "/aws4_request"
	sts := make([]byte, 0, 160)
	sts = append(sts, "AWS4-HMAC-SHA256\n"...)
	sts = append(sts, amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, scope...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, crHash[:])

	var sig [sha256.Size]byte
	s.mu.Lock()
	mac := s.mac(c.SecretAccessKey, day)
	mac.Reset()
	mac.Write(sts)
	mac.Sum(sig[:0])
	s.mu.Unlock()

	out := make([]byte, 0, 128+len(c.AccessKeyID)+len(scope)+len(signed))
	out = append(out, "AWS4-HMAC-SHA256 Credential="...)
	out = append(out, c.AccessKeyID...)
	out = append(out, '/')
	out = append(out, scope...)
	out = append(out, ", SignedHeaders="...)
	out = append(out, signed...)
	out = append(out, ", Signature="...)
	out = hex.AppendEncode(out, sig[:])
	return string(out)
}

// mac is the HMAC keyed with the SigV4 signing key of the day and secret
// (HMAC chain over the date, region, service and "aws4_request"), derived
// once per day and secret. s.mu is held.
func (s *Sender) mac(secret, day string) hash.Hash {
	if s.key.mac != nil && s.key.day == day && s.key.secret == secret {
		return s.key.mac
	}
	k := hmacSum([]byte("AWS4"+secret), day)
	k = hmacSum(k, s.region)
	k = hmacSum(k, service)
	k = hmacSum(k, "aws4_request")
	s.key = signingKey{day: day, secret: secret, mac: hmac.New(sha256.New, k)}
	return s.key.mac
}

func hmacSum(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// appendString appends v as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, as encoding/json
// does (without its HTML escaping, which JSON does not need).
func appendString(b []byte, v string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(v); {
		// Eight bytes at a time while none needs a look: no control
		// character, quote, backslash or byte of a multi-byte rune.
		for i+8 <= len(v) && plain8(v[i:i+8]) {
			i += 8
		}
		if i >= len(v) {
			break
		}
		c := v[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, v[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, v[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, v[start:]...)
	return append(b, '"')
}

// plain8 reports whether none of the 8 bytes of w is below 0x20, a quote, a
// backslash or above 0x7f (the usual "has a byte less than / equal to"
// word tricks).
func plain8(w string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(w), 8))
	less := (x - ones*0x20) & ^x & highs
	q := x ^ (ones * '"')
	quote := (q - ones) & ^q & highs
	bs := x ^ (ones * '\\')
	backslash := (bs - ones) & ^bs & highs
	return (less | quote | backslash | x&highs) == 0
}
