package razorpay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/razorbill/razorbill/internal/webhooksig"
)

// Webhook headers Razorpay sends.
const (
	HeaderSignature = "X-Razorpay-Signature"
	HeaderEventID   = "X-Razorpay-Event-Id"
)

// Sign is the hex HMAC-SHA256 of body with secret: the X-Razorpay-Signature
// Razorpay computes over the raw webhook body with the webhook secret.
func Sign(body []byte, secret string) string { return webhooksig.Sign(body, secret) }

// VerifySignature reports whether signature is Sign(body, secret); see
// webhooksig.Verify.
func VerifySignature(body []byte, signature, secret string) bool {
	return webhooksig.Verify(body, signature, secret)
}

// Event is a Razorpay webhook, decoded. The payload's entities are snapshots
// taken when the event happened; the ones it does not contain are nil.
type Event struct {
	ID          string // X-Razorpay-Event-Id: set by the caller from the header
	Name        string // "payment.captured", "payment_link.paid", …
	AccountID   string
	CreatedAt   time.Time
	Contains    []string
	Payment     *Payment
	PaymentLink *PaymentLink
	Invoice     *Invoice
	Order       *Order
	Refund      *Refund
}

// ErrNotEvent is returned (wrapped) by ParseEvent for a body that is not a
// Razorpay event.
var ErrNotEvent = errors.New("razorpay: not a webhook event")

// ParseEvent decodes Razorpay's webhook envelope
// {"entity":"event","account_id","event","contains":[…],
// "payload":{"payment":{"entity":{…}},…},"created_at"} tolerantly (notes as
// [], numbers as strings, nulls). It fails on malformed JSON, a missing
// "event", or an entity that is not an object of the expected shape.
func ParseEvent(body []byte) (Event, error) {
	var w struct {
		Event     wireString      `json:"event"`
		AccountID wireString      `json:"account_id"`
		Contains  json.RawMessage `json:"contains"`
		Payload   json.RawMessage `json:"payload"`
		CreatedAt wireTime        `json:"created_at"`
	}
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return Event{}, fmt.Errorf("%w: the body is not a JSON object", ErrNotEvent)
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrNotEvent, err)
	}
	if w.Event == "" {
		return Event{}, fmt.Errorf("%w: no \"event\" name", ErrNotEvent)
	}
	ev := Event{Name: string(w.Event), AccountID: string(w.AccountID), CreatedAt: w.CreatedAt.Time()}
	var contains []wireString
	if err := decodeList(w.Contains, &contains); err != nil {
		return Event{}, fmt.Errorf("%w: contains: %v", ErrNotEvent, err)
	}
	for _, c := range contains {
		ev.Contains = append(ev.Contains, string(c))
	}
	var payload map[string]json.RawMessage
	if err := decodeObject(w.Payload, &payload); err != nil {
		return Event{}, fmt.Errorf("%w: payload: %v", ErrNotEvent, err)
	}
	for name, raw := range payload {
		var wrap struct {
			Entity json.RawMessage `json:"entity"`
		}
		if err := decodeObject(raw, &wrap); err != nil {
			return Event{}, fmt.Errorf("%w: payload.%s: %v", ErrNotEvent, name, err)
		}
		ent := bytes.TrimSpace(wrap.Entity)
		if len(ent) == 0 || string(ent) == "null" {
			continue
		}
		if ent[0] != '{' {
			return Event{}, fmt.Errorf("%w: payload.%s.entity is not an object", ErrNotEvent, name)
		}
		var err error
		switch name {
		case "payment":
			ev.Payment = new(Payment)
			err = json.Unmarshal(ent, ev.Payment)
		case "payment_link":
			ev.PaymentLink = new(PaymentLink)
			err = json.Unmarshal(ent, ev.PaymentLink)
		case "invoice":
			ev.Invoice = new(Invoice)
			err = json.Unmarshal(ent, ev.Invoice)
		case "order":
			ev.Order = new(Order)
			err = json.Unmarshal(ent, ev.Order)
		case "refund":
			ev.Refund = new(Refund)
			err = json.Unmarshal(ent, ev.Refund)
		}
		if err != nil {
			return Event{}, fmt.Errorf("%w: payload.%s.entity: %v", ErrNotEvent, name, err)
		}
	}
	return ev, nil
}

// EventEntity is one entity of an event payload: Name is the payload key
// ("payment", "order", "payment_link", "invoice", "refund") and Entity any
// JSON-marshalable snapshot of it.
type EventEntity struct {
	Name   string
	Entity any
}

// BuildEventBody renders Razorpay's webhook envelope. contains lists the
// entities in the order given (Razorpay's own order for each event is in
// the simulator); the payload keys are written sorted, as Razorpay does.
func BuildEventBody(name, accountID string, createdAt time.Time, entities ...EventEntity) ([]byte, error) {
	if name == "" {
		return nil, errors.New("razorpay: an event needs a name")
	}
	contains := make([]string, 0, len(entities))
	payload := make(map[string]map[string]any, len(entities))
	for _, e := range entities {
		if e.Name == "" {
			return nil, errors.New("razorpay: an event entity needs a name")
		}
		if _, dup := payload[e.Name]; dup {
			return nil, fmt.Errorf("razorpay: entity %q given twice", e.Name)
		}
		contains = append(contains, e.Name)
		payload[e.Name] = map[string]any{"entity": e.Entity}
	}
	env := struct {
		Entity    string                    `json:"entity"`
		AccountID string                    `json:"account_id"`
		Event     string                    `json:"event"`
		Contains  []string                  `json:"contains"`
		Payload   map[string]map[string]any `json:"payload"`
		CreatedAt int64                     `json:"created_at"`
	}{"event", accountID, name, contains, payload, createdAt.Unix()}
	return json.Marshal(env)
}
