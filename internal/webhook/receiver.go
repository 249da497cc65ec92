// Package webhook is the webhook-receiver function: Razorpay's calls on the
// function URL. It verifies the signature with the tenant environment's
// webhook secret (and each secret rotated out, for its own 24 hours),
// refuses webhooks of a disabled connection (404) and of another Razorpay
// account (401), reads just enough of the envelope to route it, and puts the whole event on
// the razorpay-events FIFO queue. It answers 200 only once the queue has
// accepted the event; if the queue refuses, it answers 503 so that Razorpay
// retries — an event is never acknowledged and lost. It calls no Razorpay
// API and applies nothing: the payment-reconciler does.
package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/jsonw"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/sqsjson"
	"github.com/razorbill/razorbill/internal/webhooksig"
)

// MaxBody is the largest webhook accepted.
const MaxBody = 1 << 20

// PathPrefix is the route's fixed part; tenant and environment follow.
const PathPrefix = "/api/v1/webhooks/razorpay/"

// ConnectionStore finds the connection a webhook is for.
type ConnectionStore interface {
	Connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error)
}

// Opener decrypts webhook secrets.
type Opener interface {
	Open(ctx context.Context, sealed, aad string) (string, error)
}

// RefStore maps Razorpay ids to ours; each call is one GetItem.
type RefStore interface {
	Ref(ctx context.Context, sc billing.Scope, rzpID string) (string, bool, error)
	Payment(ctx context.Context, sc billing.Scope, id string) (billing.Payment, error)
}

// Publisher queues events. Send keeps no reference to m.Body's bytes
// after it returns: the receiver writes its next message into them.
type Publisher interface {
	Send(ctx context.Context, m sqsjson.Message) error
}

// messages holds the queue messages' buffers between events.
var messages = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledMessage is the largest message buffer kept in messages.
const maxPooledMessage = 64 << 10

// Receiver is the webhook-receiver handler.
type Receiver struct {
	Store ConnectionStore
	// Refs finds our invoice for events whose notes do not name it, so
	// that every event about one invoice shares one message group (nil:
	// such events are grouped by their Razorpay ids).
	Refs    RefStore
	Secrets Opener
	Queue   Publisher
	Log     *slog.Logger
	Now     func() time.Time
}

func (r *Receiver) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// Handle serves one function URL request.
func (r *Receiver) Handle(ctx context.Context, req events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	reqID := req.RequestContext.RequestID
	if reqID == "" {
		reqID = ids.New(ids.Request)
	}
	ctx = logx.WithAttrs(ctx, slog.String("request_id", reqID))
	status, body, err := r.serve(ctx, req)
	if err != nil {
		status2, env := apperr.Envelope(err)
		status = status2
		b, _ := json.Marshal(env)
		body = string(b)
		level := slog.LevelWarn
		if status >= 500 {
			level = slog.LevelError
		}
		r.Log.Log(ctx, level, "webhook refused", "status", status, "error", err.Error())
	}
	return events.LambdaFunctionURLResponse{StatusCode: status, Body: body, Headers: jsonHeaders}, nil
}

// jsonHeaders are every answer's headers. The map is shared and never
// written: the runtime only serializes it.
var jsonHeaders = map[string]string{"Content-Type": "application/json; charset=utf-8"}

// Scope parses the tenant and environment from a webhook path.
func Scope(path string) (billing.Scope, bool) {
	rest, ok := strings.CutPrefix(path, PathPrefix)
	if !ok {
		return billing.Scope{}, false
	}
	tenant, env, ok := strings.Cut(strings.Trim(rest, "/"), "/")
	if !ok || !ids.Valid(ids.Tenant, tenant) || !ids.Valid(ids.Environment, env) {
		return billing.Scope{}, false
	}
	return billing.Scope{TenantID: tenant, EnvironmentID: env}, true
}

func (r *Receiver) serve(ctx context.Context, req events.LambdaFunctionURLRequest) (int, string, error) {
	if !strings.EqualFold(req.RequestContext.HTTP.Method, http.MethodPost) {
		return 0, "", &apperr.Error{Kind: apperr.Invalid, Code: "method_not_allowed", Message: "webhooks are POSTed", Status: http.StatusMethodNotAllowed}
	}
	path := req.RawPath
	if path == "" {
		path = req.RequestContext.HTTP.Path
	}
	sc, ok := Scope(path)
	if !ok {
		return 0, "", apperr.E(apperr.NotFound, "not_found", "no webhook endpoint at %s", path)
	}
	ctx = logx.WithAttrs(ctx, slog.String("tenant_id", sc.TenantID), slog.String("environment_id", sc.EnvironmentID))
	if len(req.Body) > MaxBody*4/3+4 {
		return 0, "", apperr.E(apperr.TooLarge, "body_too_large", "webhook bodies are at most %d bytes", MaxBody)
	}
	// raw is read, never written: it shares the body string's bytes.
	raw := unsafe.Slice(unsafe.StringData(req.Body), len(req.Body))
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return 0, "", apperr.E(apperr.Invalid, "invalid_body", "the body is not valid base64")
		}
		raw = b
	}
	if len(raw) > MaxBody {
		return 0, "", apperr.E(apperr.TooLarge, "body_too_large", "webhook bodies are at most %d bytes", MaxBody)
	}
	env, err := r.trusted(ctx, sc, raw, header(req.Headers, "x-razorpay-signature"))
	if err != nil {
		return 0, "", err
	}
	eventID := header(req.Headers, "x-razorpay-event-id")
	dedup := eventID
	if dedup == "" {
		h := sha256.Sum256(raw)
		dedup = "sha256-" + hex.EncodeToString(h[:])
	}
	text := req.Body // the body as a string: raw's bytes, without a copy when not base64
	if req.IsBase64Encoded {
		text = string(raw)
	}
	msg := billing.EventMessage{TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID, EventID: eventID, Event: env.Event, ReceivedAt: r.now(), Body: text}
	// The body parsed as an envelope: one JSON object, which the message
	// carries as itself when nothing surrounds it.
	object := len(raw) > 1 && raw[0] == '{' && raw[len(raw)-1] == '}'
	buf := messages.Get().(*[]byte)
	b := msg.AppendJSON(slices.Grow((*buf)[:0], len(raw)+len(eventID)+len(env.Event)+192), object)
	key := r.groupKey(ctx, sc, env)
	group := GroupID(sc, key)
	// b is not written while Send runs: the message's string shares its
	// bytes. Send keeps nothing of them (Publisher), so b is reused after.
	m := sqsjson.Message{Body: unsafe.String(unsafe.SliceData(b), len(b)), GroupID: group, DedupID: dedupID(sc, dedup)}
	err = r.Queue.Send(ctx, m)
	if cap(b) <= maxPooledMessage {
		*buf = b
		messages.Put(buf)
	}
	if err != nil {
		return 0, "", err // 503: Razorpay retries; nothing was acknowledged
	}
	logx.Info(ctx, r.Log, "webhook queued", slog.String("event", env.Event), slog.String("event_id", eventID), slog.String("group", key))
	return http.StatusOK, `{"status":"queued"}`, nil
}

// trusted reads sc's connection and checks the webhook against it (check).
// When the connection came from a cache (CachingConnectionStore) and the
// signed webhook is refused as unauthorized — a bad signature, another
// account — it reads the connection again once and checks again, so that a
// secret or account changed since the cached read is honoured at once.
func (r *Receiver) trusted(ctx context.Context, sc billing.Scope, raw []byte, sig string) (Envelope, error) {
	var (
		conn          billing.Connection
		found, cached bool
		err           error
	)
	cs, caching := r.Store.(CachingConnectionStore)
	if caching {
		conn, found, cached, err = cs.CachedConnection(ctx, sc)
	} else {
		conn, found, err = r.Store.Connection(ctx, sc)
	}
	if err != nil {
		return Envelope{}, connectionUnavailable(err)
	}
	env, err := r.check(ctx, conn, found, raw, sig)
	if cached && sig != "" && apperr.Is(err, apperr.Unauthorized) {
		if conn, found, err = cs.Reread(ctx, sc); err != nil {
			return Envelope{}, connectionUnavailable(err)
		}
		env, err = r.check(ctx, conn, found, raw, sig)
	}
	return env, err
}

func connectionUnavailable(err error) error {
	return apperr.Wrap(err, apperr.Transient, "connection_unavailable", "the connection could not be read; retry")
}

// check refuses a webhook its connection does not trust: none or not active
// (404), no or a bad signature (401), a secret that cannot be opened (503),
// not a Razorpay event (400), another Razorpay account (401). It returns
// the parsed envelope of a trusted one.
func (r *Receiver) check(ctx context.Context, conn billing.Connection, found bool, raw []byte, sig string) (Envelope, error) {
	if !found || conn.Status != billing.ConnectionActive {
		// A disabled connection (DELETE) is no trust: its webhooks are
		// refused like those of an environment without one.
		return Envelope{}, apperr.E(apperr.NotFound, "connection_not_configured", "no active Razorpay connection for this environment")
	}
	if sig == "" {
		return Envelope{}, apperr.E(apperr.Unauthorized, "invalid_signature", "X-Razorpay-Signature is missing")
	}
	ok, err := r.verify(ctx, conn, raw, sig)
	if err != nil {
		return Envelope{}, err // 503: the secret could not be opened; Razorpay retries
	}
	if !ok {
		return Envelope{}, apperr.E(apperr.Unauthorized, "invalid_signature", "X-Razorpay-Signature does not match the body and this environment's webhook secret")
	}
	env, err := ParseEnvelope(raw)
	if err != nil {
		return env, err
	}
	if conn.AccountID != "" && env.AccountID != conn.AccountID {
		// Signed with our secret but about another Razorpay account (a test
		// account's events at a live environment, say): nothing is queued.
		return env, apperr.E(apperr.Unauthorized, "account_mismatch", "the event is for Razorpay account %q, not this connection's account", truncate(env.AccountID, 40))
	}
	return env, nil
}

func dedupID(sc billing.Scope, id string) string {
	var buf [192]byte // the hashed text, on the stack unless the id is long
	h := sha256.Sum256(scoped(buf[:0], sc, id))
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], h[:])
	return string(out[:]) // 64 chars, within SQS's 128
}

// scoped appends tenant/environment/key to b.
func scoped(b []byte, sc billing.Scope, key string) []byte {
	b = append(b, sc.TenantID...)
	b = append(b, '/')
	b = append(b, sc.EnvironmentID...)
	b = append(b, '/')
	return append(b, key...)
}

// GroupID is the FIFO message group of an event: tenant/environment/key,
// every character outside SQS's allowed set (letters, digits and ASCII
// punctuation) replaced by '_', at most 128 characters.
func GroupID(sc billing.Scope, key string) string {
	var buf [192]byte // on the stack unless the key is long
	g := scoped(buf[:0], sc, key)
	for i, c := range g {
		if c <= ' ' || c > '~' {
			g[i] = '_'
		}
	}
	return string(g[:min(len(g), 128)])
}

// verify checks sig against every secret that verifies now: the current
// one and each rotated out within its 24 h. A secret that cannot be opened
// (KMS or the key unavailable, a corrupt record) is an error — a 503 that
// Razorpay retries — unless another secret verifies; it is never taken for
// a bad signature.
func (r *Receiver) verify(ctx context.Context, c billing.Connection, body []byte, sig string) (bool, error) {
	aad := c.TenantID + "/" + c.EnvironmentID + "/webhook_secret"
	var openErr error
	for _, sealed := range c.VerifyingSecrets(r.now()) {
		secret, err := r.Secrets.Open(ctx, sealed, aad)
		if err != nil {
			openErr = err
			continue
		}
		if webhooksig.Verify(body, sig, secret) {
			return true, nil
		}
	}
	if openErr != nil {
		return false, apperr.Wrap(openErr, apperr.Transient, "webhook_secret_unavailable", "the webhook secret could not be opened; retry")
	}
	return false, nil
}

// header is the value of the header named name (lower case) in h, whose
// names may be in any case: Lambda's function URLs give them in lower case.
func header(h map[string]string, name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Envelope is the part of a Razorpay event the receiver reads.
type Envelope struct {
	Event     string                  `json:"event"`
	AccountID string                  `json:"account_id"`
	Payload   map[string]PayloadEntry `json:"payload"`
}

// PayloadEntry is one entity of an event's payload: {"entity": {…}}.
type PayloadEntry struct {
	Entity Entity `json:"entity"`
}

// Entity is the part of a payload's entity the receiver reads.
type Entity struct {
	ID          string          `json:"id"`
	OrderID     string          `json:"order_id"`
	InvoiceID   string          `json:"invoice_id"`
	PaymentID   string          `json:"payment_id"`   // a refund's payment
	ReferenceID string          `json:"reference_id"` // a payment link's (our payment id)
	Notes       json.RawMessage `json:"notes"`
}

// ParseEnvelope checks that body is a Razorpay event envelope.
// It reads the body by a scan (scanEnvelope) when it can, else through
// encoding/json; both read the same Envelope from the same body.
func ParseEnvelope(body []byte) (Envelope, error) {
	e, ok := scanEnvelope(body)
	if !ok {
		e = Envelope{}
		if err := json.Unmarshal(body, &e); err != nil {
			return e, apperr.E(apperr.Invalid, "invalid_json", "the webhook body is not a Razorpay event: %s", jsonReason(err))
		}
	}
	if e.Event == "" || !strings.Contains(e.Event, ".") {
		return e, apperr.E(apperr.Invalid, "invalid_event", "the webhook body has no event name")
	}
	return e, nil
}

func jsonReason(err error) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return "malformed JSON"
	}
	return "unexpected shape"
}

// groupKey is our invoice id for the event: from the notes, else from one
// or two reads: a payment link's reference_id is our payment, whose
// destination is the invoice; the refs the invoice syncer and the
// reconciler store map a Razorpay invoice to ours and a Razorpay payment
// to our payment. When
// nothing is found (or the read fails) it falls back to GroupKey.
func (r *Receiver) groupKey(ctx context.Context, sc billing.Scope, e Envelope) string {
	if id := e.note("razorbill_invoice_id"); ids.Valid(ids.Invoice, id) {
		return id
	}
	if r.Refs != nil {
		id, err := r.ourInvoice(ctx, sc, e)
		if err != nil {
			r.Log.WarnContext(ctx, "could not map the event to its invoice; grouped by its Razorpay ids", "error", err.Error())
		} else if id != "" {
			return id
		}
	}
	return e.GroupKey()
}

func (r *Receiver) ourInvoice(ctx context.Context, sc billing.Scope, e Envelope) (string, error) {
	rzInv := ""
	if inv, ok := e.Payload["invoice"]; ok && inv.Entity.ID != "" {
		rzInv = inv.Entity.ID
	} else if p, ok := e.Payload["payment"]; ok {
		rzInv = p.Entity.InvoiceID
	}
	if rzInv != "" {
		ours, ok, err := r.Refs.Ref(ctx, sc, rzInv)
		if err != nil || !ok || !ids.Valid(ids.Invoice, ours) {
			return "", err
		}
		return ours, nil
	}
	payID := ""
	if l, ok := e.Payload["payment_link"]; ok && ids.Valid(ids.Payment, l.Entity.ReferenceID) {
		payID = l.Entity.ReferenceID
	} else if id := e.note("razorbill_payment_id"); ids.Valid(ids.Payment, id) {
		payID = id
	} else {
		rzID := "" // (a link Razorbill made names its payment by reference_id: no ref item maps a link)
		if rf, ok := e.Payload["refund"]; ok && rf.Entity.PaymentID != "" {
			rzID = rf.Entity.PaymentID
		} else if p, ok := e.Payload["payment"]; ok && p.Entity.ID != "" {
			rzID = p.Entity.ID
		}
		if rzID == "" {
			return "", nil
		}
		ours, ok, err := r.Refs.Ref(ctx, sc, rzID)
		if err != nil || !ok || !ids.Valid(ids.Payment, ours) {
			return "", err
		}
		payID = ours
	}
	p, err := r.Refs.Payment(ctx, sc, payID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return "", nil
		}
		return "", err
	}
	return p.DestinationID, nil
}

// note is the first value of a note key among the payload's entities, in
// the order payment_link, invoice, payment, order, refund.
func (e Envelope) note(key string) string {
	for _, name := range [...]string{"payment_link", "invoice", "payment", "order", "refund"} {
		if ent, ok := e.Payload[name]; ok {
			if v := jsonw.StringMember(ent.Entity.Notes, key); v != "" {
				return v
			}
		}
	}
	return ""
}

// GroupKey orders one invoice's events together without reading anything:
// our invoice id when a payload's notes carry it, else the Razorpay
// invoice, payment link, order or payment id. A note that is not a valid
// invoice id (a payer can set notes) is ignored.
func (e Envelope) GroupKey() string {
	if id := e.note("razorbill_invoice_id"); ids.Valid(ids.Invoice, id) {
		return id
	}
	if inv, ok := e.Payload["invoice"]; ok && inv.Entity.ID != "" {
		return inv.Entity.ID
	}
	if p, ok := e.Payload["payment"]; ok && p.Entity.InvoiceID != "" {
		return p.Entity.InvoiceID
	}
	for _, name := range []string{"payment_link", "order"} {
		if ent, ok := e.Payload[name]; ok && ent.Entity.ID != "" {
			return ent.Entity.ID
		}
	}
	if p, ok := e.Payload["payment"]; ok {
		if p.Entity.OrderID != "" {
			return p.Entity.OrderID
		}
		if p.Entity.ID != "" {
			return p.Entity.ID
		}
	}
	if r, ok := e.Payload["refund"]; ok && r.Entity.ID != "" {
		return r.Entity.ID
	}
	return "misc"
}
