package razorpaysim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/razorbill/razorbill/internal/razorpay"
)

type eventRecord struct {
	ID        string
	Name      string
	KeyID     string
	AccountID string
	Body      []byte
	CreatedAt time.Time
	URL       string // bound when first dispatched
	Secret    string // the secret at first dispatch: retries keep it
	Bound     bool
	Held      bool
	Attempts  int
	Delivered bool
	GaveUp    bool
}

// Event is an emitted webhook event as the control API shows it.
type Event struct {
	ID        string          `json:"id"` // X-Razorpay-Event-Id
	Name      string          `json:"event"`
	KeyID     string          `json:"key_id"`
	AccountID string          `json:"account_id"`
	CreatedAt time.Time       `json:"created_at"`
	Body      json.RawMessage `json:"body"`
	URL       string          `json:"url"` // "" when the account had no webhook URL
	Attempts  int             `json:"attempts"`
	Delivered bool            `json:"delivered"` // a correctly signed attempt got a 2xx
	GaveUp    bool            `json:"gave_up"`   // the retry schedule ran out
	Held      bool            `json:"held"`
}

// Delivery is one webhook POST attempt.
type Delivery struct {
	EventID      string        `json:"event_id"`
	Event        string        `json:"event"`
	KeyID        string        `json:"key_id"`
	URL          string        `json:"url"`
	Attempt      int           `json:"attempt"`
	Status       int           `json:"status"` // 0: no answer in time
	Error        string        `json:"error,omitempty"`
	Signature    string        `json:"signature"`
	BadSignature bool          `json:"bad_signature,omitempty"`
	Manual       bool          `json:"manual,omitempty"` // a Redeliver
	At           time.Time     `json:"at"`
	Duration     time.Duration `json:"duration_ns"`
}

// OK reports whether the receiver acknowledged the delivery.
func (d Delivery) OK() bool { return d.Status >= 200 && d.Status <= 299 }

func (s *Simulator) newEventLocked(a *account, name string, ents ...razorpay.EventEntity) *eventRecord {
	now := s.now()
	body, err := razorpay.BuildEventBody(name, a.ID, now, ents...)
	if err != nil {
		panic(err)
	}
	ev := &eventRecord{ID: "evt_" + randomID(14), Name: name, KeyID: a.KeyID, AccountID: a.ID, Body: body, CreatedAt: now}
	s.events = append(s.events, ev)
	s.eventIdx[ev.ID] = ev
	return ev
}

func sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// track runs f as a tracked background task (WaitDeliveries waits for it).
func (s *Simulator) track(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trackLocked(f)
}

func (s *Simulator) trackLocked(f func()) {
	if s.closing {
		return
	}
	s.pending++
	s.inflight.Add(1)
	go func() {
		defer func() {
			s.mu.Lock()
			s.pending--
			if s.pending == 0 {
				s.idle.Broadcast()
			}
			s.mu.Unlock()
			s.inflight.Done()
		}()
		f()
	}()
}

// dispatch delivers events (or queues them when the account holds its
// webhooks). First attempts go out concurrently, each after a random
// delay of up to 10 ms, so they arrive in any order, as with Razorpay
// (Options.OrderedWebhooks: one at a time per account, in emission order).
// A failed event is then retried on its own schedule.
func (s *Simulator) dispatch(a *account, evs []*eventRecord) {
	s.dispatchEvents(a, evs, s.opt.OrderedWebhooks)
}

func (s *Simulator) dispatchEvents(a *account, evs []*eventRecord, ordered bool) {
	if len(evs) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.webhookDisabledLocked() {
		return // Razorpay sends nothing while the webhook is disabled
	}
	if a.HoldWebhooks {
		for _, ev := range evs {
			ev.Held = true
		}
		a.held = append(a.held, evs...)
		return
	}
	for _, ev := range evs {
		ev.Held = false
		if !ev.Bound {
			ev.URL, ev.Secret, ev.Bound = a.WebhookURL, a.WebhookSecret, true
		}
	}
	if !ordered {
		for _, ev := range evs {
			if ev.URL == "" {
				continue // no webhook configured: Razorpay sends nothing
			}
			s.trackLocked(func() { s.first(ev, time.Duration(rand.IntN(10_000))*time.Microsecond) })
		}
		return
	}
	a.queue = append(a.queue, evs...)
	if a.draining {
		return
	}
	a.draining = true
	s.trackLocked(func() { s.drain(a) })
}

// drain sends the account's queued events' first attempts in order.
func (s *Simulator) drain(a *account) {
	for {
		s.mu.Lock()
		if len(a.queue) == 0 || s.closing {
			a.draining = false
			s.mu.Unlock()
			return
		}
		ev := a.queue[0]
		a.queue = a.queue[1:]
		url := ev.URL
		if a.webhookDisabledLocked() {
			url = ""
		}
		s.mu.Unlock()
		if url == "" {
			continue // no webhook configured: Razorpay sends nothing
		}
		if d := s.attempt(context.Background(), ev, deliverOpts{}); !d.OK() {
			s.track(func() { s.retry(ev) })
		}
	}
}

// first makes ev's first attempt after delay, then its retries.
func (s *Simulator) first(ev *eventRecord, delay time.Duration) {
	t := time.NewTimer(delay)
	select {
	case <-s.closed:
		t.Stop()
		return
	case <-t.C:
	}
	if d := s.attempt(context.Background(), ev, deliverOpts{}); !d.OK() {
		s.retry(ev)
	}
}

func (s *Simulator) retry(ev *eventRecord) {
	for _, wait := range s.opt.RetrySchedule {
		t := time.NewTimer(wait)
		select {
		case <-s.closed:
			t.Stop()
			return
		case <-t.C:
		}
		s.mu.Lock()
		disabled := s.byKey[ev.KeyID] != nil && s.byKey[ev.KeyID].webhookDisabledLocked()
		s.mu.Unlock()
		if disabled {
			return // a disabled webhook gets no retries
		}
		if d := s.attempt(context.Background(), ev, deliverOpts{}); d.OK() {
			return
		}
	}
	s.mu.Lock()
	ev.GaveUp = true
	s.mu.Unlock()
	s.log.Warn("razorpaysim: webhook retries exhausted", "event_id", ev.ID, "event", ev.Name)
}

type deliverOpts struct {
	badSignature bool
	secret       string
	url          string
	manual       bool
}

// attempt POSTs ev once.
func (s *Simulator) attempt(ctx context.Context, ev *eventRecord, o deliverOpts) Delivery {
	s.mu.Lock()
	ev.Attempts++
	n := ev.Attempts
	url, secret := ev.URL, ev.Secret
	s.mu.Unlock()
	if o.url != "" {
		url = o.url
	}
	if o.secret != "" {
		secret = o.secret
	}
	sig := sign(ev.Body, secret)
	if o.badSignature {
		sig = sign(ev.Body, secret+"\x00not-the-secret")
	}
	d := Delivery{EventID: ev.ID, Event: ev.Name, KeyID: ev.KeyID, URL: url, Attempt: n, Signature: sig,
		BadSignature: o.badSignature, Manual: o.manual, At: time.Now()}
	ctx, cancel := context.WithTimeout(ctx, s.opt.DeliveryTimeout)
	defer cancel()
	go func() {
		select {
		case <-s.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(ev.Body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Razorpay-Webhook/v1")
		req.Header.Set(razorpay.HeaderSignature, sig)
		req.Header.Set(razorpay.HeaderEventID, ev.ID)
		var resp *http.Response
		resp, err = s.client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			d.Status = resp.StatusCode
		}
	}
	d.Duration = time.Since(d.At)
	if err != nil {
		d.Error = err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			d.Error = "no answer within " + s.opt.DeliveryTimeout.String()
		}
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.noteDeliveryLocked(ev, d, o.manual)
	if d.OK() && !o.badSignature {
		ev.Delivered = true
	}
	s.mu.Unlock()
	s.log.Info("razorpaysim: webhook delivery", "event_id", ev.ID, "event", ev.Name, "url", url, "attempt", n, "status", d.Status, "error", d.Error)
	return d
}

// RedeliverOptions shape a manual redelivery.
type RedeliverOptions struct {
	// Times is how many POSTs to make (default 1): 2 delivers twice.
	Times int `json:"times,omitempty"`
	// BadSignature signs with a wrong secret.
	BadSignature bool `json:"bad_signature,omitempty"`
	// Secret overrides the secret a redelivery is signed with (by default
	// the account's current secret, as a resend from Razorpay's dashboard
	// is; automatic retries keep the secret of the first attempt).
	Secret string `json:"secret,omitempty"`
}

// ErrNoWebhook is returned when an event has nowhere to go.
var ErrNoWebhook = errors.New("razorpaysim: the account has no webhook URL")

// Redeliver POSTs an existing event again, synchronously, and returns the
// attempts made. Deliver several events in any order by calling it in that
// order.
func (s *Simulator) Redeliver(ctx context.Context, eventID string, o RedeliverOptions) ([]Delivery, error) {
	s.mu.Lock()
	ev := s.eventIdx[eventID]
	if ev == nil {
		s.mu.Unlock()
		return nil, ErrNotFound
	}
	a := s.byKey[ev.KeyID]
	if !ev.Bound || ev.URL == "" {
		ev.URL, ev.Secret, ev.Bound = a.WebhookURL, a.WebhookSecret, true
	}
	url, secret := ev.URL, a.WebhookSecret // a dashboard resend: the current secret
	s.mu.Unlock()
	if url == "" {
		return nil, ErrNoWebhook
	}
	if o.Secret != "" {
		secret = o.Secret
	}
	if o.Times <= 0 {
		o.Times = 1
	}
	var out []Delivery
	for i := 0; i < o.Times; i++ {
		out = append(out, s.attempt(ctx, ev, deliverOpts{badSignature: o.BadSignature, secret: secret, manual: true}))
	}
	return out, nil
}

// HoldWebhooks makes an account queue its events instead of delivering
// them (hold) or stops queueing (the queue stays until ReleaseWebhooks).
func (s *Simulator) HoldWebhooks(keyID string, hold bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.byKey[keyID]
	if a == nil {
		return ErrUnknownKey
	}
	a.HoldWebhooks = hold
	return nil
}

// ReleaseOrder is the order ReleaseWebhooks delivers held events in.
type ReleaseOrder string

const (
	ReleaseInOrder ReleaseOrder = "fifo"
	ReleaseReverse ReleaseOrder = "reverse"
	ReleaseShuffle ReleaseOrder = "shuffle"
)

// ReleaseWebhooks stops holding and delivers the held events in the order
// asked, one at a time (whatever Options.OrderedWebhooks says); it returns
// their ids in that order. Delivery is asynchronous
// (WaitDeliveries waits for it).
func (s *Simulator) ReleaseWebhooks(keyID string, order ReleaseOrder) ([]string, error) {
	s.mu.Lock()
	a := s.byKey[keyID]
	if a == nil {
		s.mu.Unlock()
		return nil, ErrUnknownKey
	}
	evs := a.held
	a.held, a.HoldWebhooks = nil, false
	s.mu.Unlock()
	switch order {
	case ReleaseReverse:
		for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
			evs[i], evs[j] = evs[j], evs[i]
		}
	case ReleaseShuffle:
		rand.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	}
	s.dispatchEvents(a, evs, true) // the order asked for is the order sent
	return ids(evs), nil
}

// WaitDeliveries blocks until no webhook delivery or scheduled retry is
// pending, or ctx ends.
func (s *Simulator) WaitDeliveries(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.idle.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.pending > 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.idle.Wait()
	}
	return nil
}

// Events lists emitted events, oldest first (keyID "" for all accounts).
func (s *Simulator) Events(keyID string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Event
	for _, e := range s.events {
		if keyID != "" && e.KeyID != keyID {
			continue
		}
		out = append(out, Event{ID: e.ID, Name: e.Name, KeyID: e.KeyID, AccountID: e.AccountID, CreatedAt: e.CreatedAt,
			Body: append(json.RawMessage(nil), e.Body...), URL: e.URL, Attempts: e.Attempts, Delivered: e.Delivered,
			GaveUp: e.GaveUp, Held: e.Held})
	}
	return out
}

// Deliveries is the delivery log, oldest first (keyID "" for all).
func (s *Simulator) Deliveries(keyID string) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Delivery
	for _, d := range s.deliveries {
		if keyID == "" || d.KeyID == keyID {
			out = append(out, d)
		}
	}
	return out
}
