package razorpay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	rzp "github.com/razorpay/razorpay-go"
	"github.com/razorpay/razorpay-go/requests"

	"github.com/razorbill/razorbill/internal/apperr"
)

// DefaultBaseURL is Razorpay's API, without the /v1 suffix.
const DefaultBaseURL = "https://api.razorpay.com"

// Credentials are one tenant's Razorpay API key pair. They print and log
// without the secret.
type Credentials struct {
	KeyID     string
	KeySecret string
}

// Mode is "test" or "live" as the key id shows it, or "unknown".
func (c Credentials) Mode() string {
	switch {
	case strings.HasPrefix(c.KeyID, "rzp_test_"):
		return "test"
	case strings.HasPrefix(c.KeyID, "rzp_live_"):
		return "live"
	}
	return "unknown"
}

// String shows the key id and mode, never the secret.
func (c Credentials) String() string {
	return fmt.Sprintf("razorpay key %s (%s, secret redacted)", c.KeyID, c.Mode())
}

// GoString keeps %#v from printing the secret.
func (c Credentials) GoString() string {
	return fmt.Sprintf("razorpay.Credentials{KeyID:%q, KeySecret:\"[redacted]\"}", c.KeyID)
}

// LogValue logs the key id and mode, never the secret.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key_id", c.KeyID), slog.String("mode", c.Mode()))
}

// MarshalJSON keeps the secret out of anything that serialises credentials.
func (c Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"key_id": c.KeyID, "key_secret": "[redacted]"})
}

// Config configures a Client.
type Config struct {
	// BaseURL is Razorpay's API root without /v1 (DefaultBaseURL when
	// empty); a simulator's URL in tests and in the local stack.
	BaseURL string
	// HTTPClient supplies the transport (http.DefaultTransport when nil).
	// Its Timeout, when set, bounds each attempt.
	HTTPClient *http.Client
	// MaxRetries is how many times a retryable failure is retried: 0 means
	// DefaultMaxRetries, a negative number means never.
	MaxRetries int
	// Logger receives one debug line per attempt (never a secret).
	Logger *slog.Logger
	// AttemptTimeout bounds one HTTP exchange (default 10 s). The
	// caller's ctx deadline always bounds the whole call.
	AttemptTimeout time.Duration
	// DeadlineMargin is kept free before the caller's ctx deadline (default
	// 2 s; negative: none): every attempt ends that long before it, and no
	// attempt starts with less than MinAttempt left, so a Lambda function
	// still has time to answer (and release an idempotency claim) after a
	// slow Razorpay.
	DeadlineMargin time.Duration
	// MinAttempt is the least time worth starting an attempt with
	// (default 1 s, or AttemptTimeout when that is shorter).
	MinAttempt time.Duration
	// MinBackoff and MaxBackoff bound the jittered exponential backoff
	// between attempts (defaults 200 ms and 5 s).
	MinBackoff, MaxBackoff time.Duration
}

// DefaultMaxRetries is used when Config.MaxRetries is 0.
const DefaultMaxRetries = 3

// maxBody bounds how much of an answer is read.
const maxBody = 8 << 20

// Client calls Razorpay's API for many tenants. It holds no credentials and
// no per-call state, so one Client is safe for concurrent use by any number
// of tenants.
type Client struct {
	baseURL    string
	transport  http.RoundTripper
	redirect   func(*http.Request, []*http.Request) error
	attempt    time.Duration
	margin     time.Duration
	minAttempt time.Duration
	maxRetries int
	minBackoff time.Duration
	maxBackoff time.Duration
	log        *slog.Logger
}

// NewClient builds a Client. An unusable BaseURL is not an error here: every
// call then fails with an Internal error naming it.
func NewClient(cfg Config) *Client {
	c := &Client{baseURL: strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/"), attempt: cfg.AttemptTimeout,
		margin: cfg.DeadlineMargin, minAttempt: cfg.MinAttempt,
		maxRetries: cfg.MaxRetries, minBackoff: cfg.MinBackoff, maxBackoff: cfg.MaxBackoff, log: cfg.Logger}
	if c.baseURL == "" {
		c.baseURL = DefaultBaseURL
	}
	c.baseURL = strings.TrimSuffix(c.baseURL, "/v1")
	c.transport = http.DefaultTransport
	if cfg.HTTPClient != nil {
		if cfg.HTTPClient.Transport != nil {
			c.transport = cfg.HTTPClient.Transport
		}
		c.redirect = cfg.HTTPClient.CheckRedirect
		if t := cfg.HTTPClient.Timeout; t > 0 && (c.attempt == 0 || t < c.attempt) {
			c.attempt = t
		}
	}
	if c.attempt <= 0 {
		c.attempt = 10 * time.Second
	}
	switch {
	case c.margin == 0:
		c.margin = 2 * time.Second
	case c.margin < 0:
		c.margin = 0
	}
	if c.minAttempt <= 0 {
		c.minAttempt = time.Second
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.minBackoff <= 0 {
		c.minBackoff = 200 * time.Millisecond
	}
	if c.maxBackoff < c.minBackoff {
		c.maxBackoff = 5 * time.Second
		if c.maxBackoff < c.minBackoff {
			c.maxBackoff = c.minBackoff
		}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// BaseURL is the API root the client calls.
func (c *Client) BaseURL() string { return c.baseURL }

// exchange is what the recording transport saw of one attempt.
type exchange struct {
	status int
	body   []byte
	header http.Header
	err    error
	done   bool
}

// recorder is the per-attempt RoundTripper handed to the SDK: it gives the
// SDK's context-less request the attempt's context and keeps the status
// and raw body that the SDK throws away.
type recorder struct {
	ctx  context.Context
	base http.RoundTripper
	ex   *exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req.WithContext(r.ctx))
	if err != nil {
		r.ex.err, r.ex.done = err, true
		return nil, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	r.ex.status, r.ex.header, r.ex.body, r.ex.done = resp.StatusCode, resp.Header, body, true
	if rerr != nil {
		r.ex.err = rerr
		return nil, rerr
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// call describes one logical operation.
type call struct {
	op string
	// retry: repeating the request cannot create a second object.
	retry bool
	// heal runs before a retry that follows a failure of unknown outcome
	// (the first attempt may have created the object): found means the
	// object exists and has been stored into the call's output, and the
	// call succeeds without sending again.
	heal func(ctx context.Context) (found bool, err error)
	// onRefusal may turn a refusal seen after an earlier unknown outcome
	// into success (e.g. "reference id already exists").
	onRefusal func(ctx context.Context, err error) (found bool)
	send      func(r *requests.Request) (map[string]interface{}, error)
	out       any
	// uncertain, when set, is told whether any attempt had an unknown
	// outcome (the request may have been carried out).
	uncertain *bool
}

// sdkRequest is a fresh razorpay-go request object for one attempt: the
// tenant's key pair, a client whose transport carries ctx and records the
// answer. It is never shared and razorpay.NewClient (which writes the
// SDK's package-global Request) is never called.
func (c *Client) sdkRequest(ctx context.Context, cr Credentials, ex *exchange) *requests.Request {
	hc := &http.Client{Transport: &recorder{ctx: ctx, base: c.transport, ex: ex}, CheckRedirect: c.redirect}
	return &requests.Request{
		Auth:       requests.Auth{Key: cr.KeyID, Secret: cr.KeySecret},
		HTTPClient: hc,
		Headers:    map[string]string{},
		Version:    rzp.SDKVersion,
		SDKName:    "razorbill+" + rzp.SDKName,
		BaseURL:    c.baseURL,
	}
}

// do runs a call with retries. Only Transient and Throttled failures are
// retried, only when the call is safe to repeat, and never past ctx's
// deadline.
func (c *Client) do(ctx context.Context, cr Credentials, k call) error {
	if err := c.check(k.op, cr); err != nil {
		return err
	}
	var last error
	uncertain := false
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if !c.sleep(ctx, attempt, last) {
				return last
			}
			if uncertain && k.heal != nil {
				found, herr := k.heal(ctx)
				if herr == nil && found {
					c.log.InfoContext(ctx, "razorpay: found the object an unanswered attempt created", "op", k.op, "razorpay", cr)
					return nil
				}
				if herr != nil {
					// Still cannot tell whether it exists: do not send
					// again; try the lookup on the next round.
					last = herr
					if attempt >= c.maxRetries || !apperr.Retryable(herr) {
						return last
					}
					continue
				}
			}
		}
		if err := c.timeLeft(ctx, k.op); err != nil {
			if last != nil {
				return last
			}
			return err
		}
		err := c.once(ctx, cr, k, attempt)
		if err == nil {
			return nil
		}
		if uncertain && k.onRefusal != nil && apperr.KindOf(err) == apperr.Permanent && k.onRefusal(ctx, err) {
			return nil
		}
		last = err
		if unknownOutcome(err) {
			uncertain = true
			if k.uncertain != nil {
				*k.uncertain = true
			}
		}
		kind := apperr.KindOf(err)
		if !k.retry || (kind != apperr.Transient && kind != apperr.Throttled) || attempt >= c.maxRetries || ctx.Err() != nil {
			return last
		}
	}
}

// budget is how long an attempt may run: AttemptTimeout, cut to end
// DeadlineMargin before ctx's deadline.
func (c *Client) budget(ctx context.Context) time.Duration {
	d := c.attempt
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl)-c.margin)
	}
	return d
}

// timeLeft refuses to start an attempt with less than MinAttempt of budget:
// a transient error (wrapping context.DeadlineExceeded) the caller can
// answer with before its own deadline.
func (c *Client) timeLeft(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return transportError(op, err)
	}
	if b := c.budget(ctx); b < min(c.minAttempt, c.attempt) {
		return transportError(op, fmt.Errorf("%w: %v left for a Razorpay call (%v kept for the answer)", context.DeadlineExceeded, max(b, 0).Round(time.Millisecond), c.margin))
	}
	return nil
}

func (c *Client) check(op string, cr Credentials) error {
	if cr.KeyID == "" || cr.KeySecret == "" {
		return &apperr.Error{Kind: apperr.Unauthorized, Code: CodeInvalidCredentials, Message: "no Razorpay key id and key secret are configured",
			Err: &APIError{Op: op, Description: "missing credentials"}}
	}
	u, err := url.Parse(c.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &apperr.Error{Kind: apperr.Internal, Code: "razorpay_base_url_invalid", Message: "the Razorpay base URL is not an http(s) URL",
			Err: &APIError{Op: op, Description: fmt.Sprintf("base URL %q", c.baseURL)}}
	}
	return nil
}

// once sends one attempt through the SDK and reads the recorded answer.
func (c *Client) once(ctx context.Context, cr Credentials, k call, attempt int) (err error) {
	actx, cancel := context.WithTimeout(ctx, c.budget(ctx))
	defer cancel()
	ex := &exchange{}
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			// razorpay-go panics on a URL it cannot parse.
			err = &apperr.Error{Kind: apperr.Internal, Code: "razorpay_client_panic", Message: "the Razorpay SDK failed",
				Err: &APIError{Op: k.op, Description: fmt.Sprint(p)}}
		}
		level := slog.LevelDebug
		if err != nil {
			level = slog.LevelWarn
		}
		c.log.Log(ctx, level, "razorpay call", "op", k.op, "attempt", attempt+1, "status", ex.status,
			"duration_ms", time.Since(start).Milliseconds(), "razorpay", cr, "error", errText(err))
	}()
	_, sdkErr := k.send(c.sdkRequest(actx, cr, ex))
	if !ex.done || ex.err != nil {
		cause := ex.err
		if cause == nil {
			cause = sdkErr
		}
		if cause == nil {
			cause = errors.New("no HTTP exchange took place")
		}
		if ctx.Err() != nil {
			cause = fmt.Errorf("%w (%v)", ctx.Err(), cause)
		}
		return transportError(k.op, cause)
	}
	if ex.status < 200 || ex.status > 299 {
		e := classify(k.op, ex.status, ex.body)
		if ra := ex.header.Get("Retry-After"); ra != "" && e.Kind == apperr.Throttled {
			if s, perr := strconv.Atoi(ra); perr == nil && s > 0 {
				var api *APIError
				if errors.As(e.Err, &api) {
					api.RetryAfter = time.Duration(s) * time.Second
				}
			}
		}
		return e
	}
	if k.out != nil {
		if err := json.Unmarshal(bytes.TrimSpace(ex.body), k.out); err != nil {
			return undecodable(k.op, ex.status, err)
		}
	}
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// sleep waits before attempt n (n ≥ 1) with full-jitter exponential
// backoff, honouring a 429's Retry-After. It returns false when ctx ends
// first or its deadline leaves no room for the wait.
func (c *Client) sleep(ctx context.Context, n int, last error) bool {
	ceiling := c.minBackoff << min(n-1, 20)
	if ceiling > c.maxBackoff || ceiling <= 0 {
		ceiling = c.maxBackoff
	}
	d := c.minBackoff/2 + rand.N(ceiling-c.minBackoff/2+1)
	var api *APIError
	if errors.As(last, &api) && api.RetryAfter > d && api.RetryAfter <= c.maxBackoff {
		d = api.RetryAfter
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl)-c.margin-min(c.minAttempt, c.attempt) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// validID refuses ids that would change the request path.
func validID(op, field, id string) error {
	if id == "" {
		return invalidInput(op, field, "%s is required", field)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return invalidInput(op, field, "%s %q is not a Razorpay id", field, id)
		}
	}
	return nil
}
