package razorpaysim

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure a Simulator. The zero value works.
type Options struct {
	// BaseURL is the simulator's public root, used in short_url. When
	// empty, Start sets it; otherwise each short_url is built from the
	// Host of the request that created the object.
	BaseURL string
	// Now is the simulator's clock (time.Now when nil).
	Now func() time.Time
	// RetrySchedule is the wait before each webhook retry after a failed
	// delivery. Default: Razorpay-like exponential backoff over ~24 h
	// (1m, 5m, 15m, 30m, 1h, 2h, 4h, 8h, 8h).
	RetrySchedule []time.Duration
	// DeliveryTimeout is how long a webhook receiver has to answer
	// (Razorpay: 5 s).
	DeliveryTimeout time.Duration
	// HTTPClient delivers webhooks (its Timeout is ignored; see
	// DeliveryTimeout).
	HTTPClient *http.Client
	// Logger receives a line per delivery and per fault.
	Logger *slog.Logger
	// The default account's keys and webhook. Empty keys are generated
	// (the key id starts rzp_test_).
	DefaultKeyID, DefaultKeySecret          string
	DefaultWebhookURL, DefaultWebhookSecret string
	// MaxHang bounds a "timeout" fault when the client never gives up
	// (default 30 s).
	MaxHang time.Duration
	// ExpirySweep is how often links and invoices past expire_by are
	// expired (default 1 s; negative disables; Sweep does it on demand).
	ExpirySweep time.Duration
	// OrderedWebhooks sends each account's first delivery attempts one at
	// a time, in emission order. By default they go out concurrently and
	// unordered, as Razorpay sends them.
	OrderedWebhooks bool
	// WebhookDisableAfter failed automatic deliveries in a row, within
	// WebhookDisableWindow (0: no limit), disable the account's webhook
	// as Razorpay does after 24 h of failures (0: never disabled).
	WebhookDisableAfter  int
	WebhookDisableWindow time.Duration
}

// Account is a merchant account as the control API shows it.
type Account struct {
	ID            string `json:"id"` // acc_…, the webhook's account_id
	KeyID         string `json:"key_id"`
	KeySecret     string `json:"key_secret"`
	WebhookURL    string `json:"webhook_url"`
	WebhookSecret string `json:"webhook_secret"`
	// ManualRefunds leaves refunds pending until ProcessRefund.
	ManualRefunds bool `json:"manual_refunds"`
	// HoldWebhooks queues events instead of delivering them until
	// ReleaseWebhooks.
	HoldWebhooks bool `json:"hold_webhooks"`
	// InternationalOff refuses non-INR invoices, payment links and orders
	// (international payments not activated); off by default.
	InternationalOff bool `json:"international_off"`
	// WebhookDisabled: Razorpay disabled the webhook (webhookdisable.go);
	// nothing is sent until it is re-enabled.
	WebhookDisabled bool `json:"webhook_disabled"`
}

type account struct {
	Account
	customers []*customerObj
	invoices  []*invoiceObj
	links     []*linkObj
	orders    []*orderObj
	payments  []*paymentObj
	refunds   []*refundObj
	refundKey map[string]*refundObj // X-Refund-Idempotency → refund
	held      []*eventRecord
	queue     []*eventRecord // first attempts waiting, in order
	draining  bool
	// failed automatic deliveries in a row, since failingSince (webhookdisable.go)
	failStreak   int
	failingSince time.Time
}

// shortRef is what a checkout short code points at.
type shortRef struct {
	acct *account
	kind string // "invoice" or "payment_link"
	id   string
}

// Simulator is an in-memory Razorpay. It is an http.Handler; every method
// is safe for concurrent use.
type Simulator struct {
	opt    Options
	now    func() time.Time
	log    *slog.Logger
	client *http.Client

	mu         sync.Mutex
	baseURL    string
	accounts   []*account
	byKey      map[string]*account
	owner      map[string]*account // object id → account
	codes      map[string]shortRef
	faults     []*faultRule
	calls      []string // "METHOD /v1/path" of every authenticated API call
	events     []*eventRecord
	eventIdx   map[string]*eventRecord
	deliveries []Delivery

	mux      *http.ServeMux
	inflight sync.WaitGroup
	pending  int
	idle     *sync.Cond
	closed   chan struct{}
	closing  bool // set under mu by Close: no new background work
	closeMu  sync.Once
	srv      *http.Server
}

// New builds a simulator with one default account.
func New(opt Options) *Simulator {
	s := &Simulator{opt: opt, now: opt.Now, log: opt.Logger, client: opt.HTTPClient,
		baseURL: strings.TrimRight(opt.BaseURL, "/"),
		byKey:   map[string]*account{}, owner: map[string]*account{}, codes: map[string]shortRef{},
		eventIdx: map[string]*eventRecord{}, closed: make(chan struct{})}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.client == nil {
		s.client = &http.Client{}
	}
	if s.opt.DeliveryTimeout <= 0 {
		s.opt.DeliveryTimeout = 5 * time.Second
	}
	if s.opt.RetrySchedule == nil {
		s.opt.RetrySchedule = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
			time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 8 * time.Hour}
	}
	if s.opt.MaxHang <= 0 {
		s.opt.MaxHang = 30 * time.Second
	}
	s.idle = sync.NewCond(&s.mu)
	_, err := s.CreateAccount(Account{KeyID: opt.DefaultKeyID, KeySecret: opt.DefaultKeySecret,
		WebhookURL: opt.DefaultWebhookURL, WebhookSecret: opt.DefaultWebhookSecret})
	if err != nil {
		panic(err) // only a malformed default key id can fail
	}
	s.routes()
	if every := s.opt.ExpirySweep; every >= 0 {
		if every == 0 {
			every = time.Second
		}
		go s.sweeper(every)
	}
	return s
}

// Start serves on addr ("127.0.0.1:0" for a free port) and returns the
// base URL, which short_urls then use.
func (s *Simulator) Start(addr string) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	url := "http://" + l.Addr().String()
	s.mu.Lock()
	if s.baseURL == "" {
		s.baseURL = url
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	srv := s.srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
	return url, nil
}

// URL is the base URL short_urls use ("" until known).
func (s *Simulator) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// Close stops the server Start started, the expiry sweeper and pending
// webhook retries. It does not wait for a delivery already in flight
// beyond its DeliveryTimeout.
func (s *Simulator) Close() {
	s.closeMu.Do(func() {
		close(s.closed)
		s.mu.Lock()
		srv := s.srv
		s.closing = true
		s.mu.Unlock()
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
		}
		s.inflight.Wait()
	})
}

// ServeHTTP serves Razorpay's API under /v1, checkout pages under /i/, the
// control API under /_sim/ and a dashboard at /.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// CreateAccount adds a merchant account. Empty keys are generated; a key id
// must start with rzp_test_ or rzp_live_.
func (s *Simulator) CreateAccount(a Account) (Account, error) {
	if a.KeyID == "" {
		a.KeyID = "rzp_test_" + randomID(14)
	}
	if !strings.HasPrefix(a.KeyID, "rzp_test_") && !strings.HasPrefix(a.KeyID, "rzp_live_") {
		return Account{}, fmt.Errorf("razorpaysim: key id %q must start with rzp_test_ or rzp_live_", a.KeyID)
	}
	if a.KeySecret == "" {
		a.KeySecret = randomID(24)
	}
	if a.ID == "" {
		a.ID = newID("acc")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.byKey[a.KeyID]; dup {
		return Account{}, fmt.Errorf("razorpaysim: key id %s already exists", a.KeyID)
	}
	acct := &account{Account: a, refundKey: map[string]*refundObj{}}
	s.accounts = append(s.accounts, acct)
	s.byKey[a.KeyID] = acct
	return a, nil
}

// DefaultAccount is the account New made.
func (s *Simulator) DefaultAccount() Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accounts[0].Account
}

// Accounts lists every account.
func (s *Simulator) Accounts() []Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Account, 0, len(s.accounts))
	for _, a := range s.accounts {
		out = append(out, a.Account)
	}
	return out
}

// ErrUnknownKey is returned for a key id the simulator does not know.
var ErrUnknownKey = errors.New("razorpaysim: unknown key id")

// SetWebhook points an account's webhooks at url, signed with secret: what
// a merchant does in Razorpay's dashboard. Events already created keep the
// secret they were first signed with (Razorpay signs retries of older
// deliveries with the old secret).
func (s *Simulator) SetWebhook(keyID, url, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byKey[keyID]
	if !ok {
		return ErrUnknownKey
	}
	a.WebhookURL, a.WebhookSecret = url, secret
	return nil
}

// RotateWebhookSecret changes only the secret and returns the old one.
func (s *Simulator) RotateWebhookSecret(keyID, secret string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byKey[keyID]
	if !ok {
		return "", ErrUnknownKey
	}
	old := a.WebhookSecret
	a.WebhookSecret = secret
	return old, nil
}

// SetManualRefunds makes the account's refunds stay pending until
// ProcessRefund (on) or be processed at once (off, the default).
func (s *Simulator) SetManualRefunds(keyID string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byKey[keyID]
	if !ok {
		return ErrUnknownKey
	}
	a.ManualRefunds = on
	return nil
}

// authenticate checks HTTP Basic auth the way Razorpay does.
func (s *Simulator) authenticate(r *http.Request) (*account, bool, string) {
	key, secret, ok := r.BasicAuth()
	if !ok || key == "" {
		return nil, false, "Please provide your api key for authentication purposes."
	}
	s.mu.Lock()
	a := s.byKey[key]
	s.mu.Unlock()
	if a == nil || subtle.ConstantTimeCompare([]byte(a.KeySecret), []byte(secret)) != 1 {
		return nil, false, "The api key provided is invalid"
	}
	return a, true, ""
}

// baseFor is the root short_urls use for an object created by r.
func (s *Simulator) baseFor(r *http.Request) string {
	s.mu.Lock()
	b := s.baseURL
	s.mu.Unlock()
	if b != "" || r == nil {
		return b
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// newCode is a fresh short code (caller holds mu).
func (s *Simulator) newCode() string {
	for {
		c := randomID(8)
		if _, dup := s.codes[c]; !dup {
			return c
		}
	}
}

func (s *Simulator) sweeper(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.closed:
			return
		case <-t.C:
			s.Sweep()
		}
	}
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"SERVER_ERROR","description":"encoding failed"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// rzError is Razorpay's error envelope.
type rzError struct {
	Code        string         `json:"code"`
	Description string         `json:"description"`
	Field       string         `json:"field,omitempty"`
	Source      string         `json:"source"`
	Step        string         `json:"step"`
	Reason      string         `json:"reason"`
	Metadata    map[string]any `json:"metadata"`
}

func writeError(w http.ResponseWriter, status int, e rzError) {
	if e.Metadata == nil {
		e.Metadata = map[string]any{}
	}
	writeJSON(w, status, map[string]rzError{"error": e})
}

// badRequest is a validation failure, as Razorpay reports them.
func badRequest(w http.ResponseWriter, field, format string, args ...any) {
	writeError(w, http.StatusBadRequest, rzError{Code: "BAD_REQUEST_ERROR", Description: fmt.Sprintf(format, args...), Field: field,
		Source: "business", Step: "payment_initiation", Reason: "input_validation_failed"})
}

func unauthorized(w http.ResponseWriter, desc string) {
	writeError(w, http.StatusUnauthorized, rzError{Code: "BAD_REQUEST_ERROR", Description: desc, Source: "NA", Step: "NA", Reason: "NA"})
}

func idNotFound(w http.ResponseWriter) {
	badRequest(w, "id", "The id provided does not exist")
}
