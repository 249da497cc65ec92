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
// and the signing process (internal/awsjson, which signs and sends).
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
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/awsjson"
	"github.com/razorbill/razorbill/internal/jsonw"
)

// Message is one message. GroupID and DedupID are required on FIFO queues
// and ignored on standard ones.
type Message struct {
	Body    string
	GroupID string
	DedupID string
}

// Sender sends to one queue.
type Sender struct {
	*awsjson.Client // Now, Attempts, AttemptTimeout and Backoff are its
	queueURL        string
	fifo            bool
}

// Error is SQS's answer to a request it refused, or the reason no answer
// was usable.
type Error = awsjson.Error

// New returns a sender for the queue at queueURL, signing with cfg's region
// and credentials, sending through cfg.HTTPClient (when set) and trying
// cfg.RetryMaxAttempts times (when set; else 3, the SDK's default).
func New(cfg aws.Config, queueURL string) (*Sender, error) {
	u, err := url.Parse(queueURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("sqsjson: queue URL %q is not an http(s) URL", queueURL)
	}
	c, err := awsjson.New(cfg, awsjson.SQS, &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"})
	if err != nil {
		return nil, fmt.Errorf("sqsjson: %w", err)
	}
	if r := hostRegion(u.Host); r != "" && r != cfg.Region && c.Endpoint() == u.Scheme+"://"+u.Host {
		// Signed for one region and sent to another, every send would be
		// refused (403), and the webhooks redelivered until Razorpay gives up.
		return nil, fmt.Errorf("sqsjson: queue URL %q is in region %s, the AWS config's region is %s", queueURL, r, cfg.Region)
	}
	return &Sender{Client: c, queueURL: queueURL, fifo: strings.HasSuffix(u.Path, ".fifo")}, nil
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

const sendMessage = "SendMessage"

// send sends m (tried again by the client) and returns SQS's message id.
func (s *Sender) send(ctx context.Context, m Message) (string, error) {
	// The request's buffer is not reused: net/http may read a body after
	// RoundTrip returned, and a reader of its own (to learn when it is
	// done) would cost every request a second socket write (net/http
	// sends the headers first for a body it does not know to be in memory).
	raw, err := s.Call(ctx, sendMessage, s.encode(m))
	if err != nil {
		return "", err
	}
	// A 200 means SQS stored a message: what is wrong with its answer is not
	// tried again (the SDK checks the MD5 once, after its retries, too).
	// The answer is a flat object; its two members are read by a scan.
	var id, md5Sum string
	if json.Valid(raw) {
		id, md5Sum = jsonw.StringMember(raw, "MessageId"), jsonw.StringMember(raw, "MD5OfMessageBody")
	}
	if id == "" {
		return "", s.Unreadable(sendMessage, raw, nil)
	}
	// SQS returns the MD5 of the body it stored.
	sum := md5.Sum(unsafe.Slice(unsafe.StringData(m.Body), len(m.Body))) // read only
	var hexSum [2 * md5.Size]byte
	hex.Encode(hexSum[:], sum[:])
	if !strings.EqualFold(md5Sum, string(hexSum[:])) {
		return "", &Error{Service: "sqs", Op: sendMessage, Status: http.StatusOK, Message: fmt.Sprintf("MD5OfMessageBody %q does not match the body sent", md5Sum)}
	}
	return id, nil
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
	b = jsonw.AppendString(b, m.Body)
	if s.fifo {
		b = append(b, `,"MessageDeduplicationId":`...)
		b = jsonw.AppendString(b, m.DedupID)
		b = append(b, `,"MessageGroupId":`...)
		b = jsonw.AppendString(b, m.GroupID)
	}
	b = append(b, `,"QueueUrl":`...)
	b = jsonw.AppendString(b, s.queueURL)
	return append(b, '}')
}
