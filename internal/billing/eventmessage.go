package billing

import (
	"encoding/json"
	"time"

	"github.com/razorbill/razorbill/internal/jsonw"
)

// EventMessage is a verified Razorpay webhook as the receiver queues it: the
// raw body travels whole, so reconciliation never needs the request again.
//
// On the queue, "body" is either a JSON string holding the body (what
// encoding/json writes) or, as the receiver writes it (AppendJSON), the
// body's JSON object itself. UnmarshalJSON reads both into Body, the
// object byte for byte as it was received.
type EventMessage struct {
	TenantID      string    `json:"tenant_id"`
	EnvironmentID string    `json:"environment_id"`
	EventID       string    `json:"event_id"`
	Event         string    `json:"event"`
	ReceivedAt    time.Time `json:"received_at"`
	Body          string    `json:"body"`
}

// AppendJSON appends m as a queue message. bodyIsObject says the caller has
// parsed m.Body as one JSON object with nothing before or after it (the
// receiver has: the body passed ParseEnvelope and starts with '{' and ends
// with '}'); it is then written as that object — no second escaping of a
// body that is mostly quotes, so the message is about a quarter shorter and
// takes no reflection to write. Otherwise Body is written as a JSON string.
func (m EventMessage) AppendJSON(dst []byte, bodyIsObject bool) []byte {
	dst = append(dst, `{"tenant_id":`...)
	dst = jsonw.AppendString(dst, m.TenantID)
	dst = append(dst, `,"environment_id":`...)
	dst = jsonw.AppendString(dst, m.EnvironmentID)
	dst = append(dst, `,"event_id":`...)
	dst = jsonw.AppendString(dst, m.EventID)
	dst = append(dst, `,"event":`...)
	dst = jsonw.AppendString(dst, m.Event)
	dst = append(dst, `,"received_at":"`...)
	dst = m.ReceivedAt.AppendFormat(dst, time.RFC3339Nano) // as time.Time's MarshalJSON writes it
	dst = append(dst, `","body":`...)
	if bodyIsObject {
		dst = append(dst, m.Body...)
	} else {
		dst = jsonw.AppendString(dst, m.Body)
	}
	return append(dst, '}')
}

// UnmarshalJSON reads a queue message whose body is a JSON string or a JSON
// object (see EventMessage).
func (m *EventMessage) UnmarshalJSON(b []byte) error {
	type plain EventMessage // without this method
	var w struct {
		plain
		Body json.RawMessage `json:"body"` // shadows plain's Body
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = EventMessage(w.plain)
	switch {
	case len(w.Body) == 0 || string(w.Body) == "null":
		m.Body = ""
	case w.Body[0] == '"':
		return json.Unmarshal(w.Body, &m.Body)
	default:
		m.Body = string(w.Body)
	}
	return nil
}
