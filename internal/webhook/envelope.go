package webhook

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/razorbill/razorbill/internal/jsonw"
)

// scanEnvelope reads body into an Envelope without reflection when body is
// valid JSON and every part of it the Envelope holds is plain: keys without
// escapes or bytes outside ASCII, the strings it keeps (event, account_id,
// an entity's id, order_id, invoice_id, payment_id, reference_id) plain
// strings or null, the payload, each of its entries and their entity
// objects, no member of those named twice, and no key that encoding/json
// would match to one of the Envelope's fields case-insensitively without
// being its exact name. Otherwise ok is false and encoding/json reads body
// (ParseEnvelope): TestScanEnvelopeAgreesOnGeneratedBodies and
// FuzzScanEnvelope hold the two to the same Envelope. An entity's notes
// share body's bytes.
func scanEnvelope(body []byte) (e Envelope, ok bool) {
	if !json.Valid(body) {
		return Envelope{}, false
	}
	var seenEvent, seenAccount, seenPayload bool
	end := jsonw.Object(body, 0, func(k []byte, at int) int {
		switch string(k) {
		case "event":
			return plainOnce(&e.Event, &seenEvent, body, at)
		case "account_id":
			return plainOnce(&e.AccountID, &seenAccount, body, at)
		case "payload":
			if seenPayload {
				return -1
			}
			seenPayload = true
			return scanPayload(body, at, &e)
		}
		if foldsTo(k, "event", "account_id", "payload") {
			return -1
		}
		return jsonw.SkipValue(body, at)
	})
	if end < 0 {
		return Envelope{}, false
	}
	return e, true
}

// plainOnce sets *dst from the value at b[at], the first time (seen).
func plainOnce(dst *string, seen *bool, b []byte, at int) int {
	if *seen {
		return -1
	}
	*seen = true
	return plain(dst, b, at)
}

// plain sets *dst from the value at b[at], a plain string, and returns the
// index after it; null leaves *dst as it is, as encoding/json does; any
// other value is -1.
func plain(dst *string, b []byte, at int) int {
	if bytes.HasPrefix(b[at:], []byte("null")) {
		return at + len("null")
	}
	s, next, ok := jsonw.PlainString(b, at)
	if !ok {
		return -1
	}
	*dst = string(s)
	return next
}

// foldsTo reports whether k matches one of names case-insensitively
// without being it (encoding/json would read such a key into the field).
func foldsTo(k []byte, names ...string) bool {
	for _, n := range names {
		if len(k) == len(n) && string(k) != n && strings.EqualFold(string(k), n) {
			return true
		}
	}
	return false
}

// scanPayload reads the payload object at b[at] (null or anything else is
// left to encoding/json).
func scanPayload(b []byte, at int, e *Envelope) int {
	e.Payload = make(map[string]PayloadEntry, 2)
	return jsonw.Object(b, at, func(name []byte, at int) int {
		if _, twice := e.Payload[string(name)]; twice {
			return -1
		}
		var p PayloadEntry
		seen := false
		end := jsonw.Object(b, at, func(k []byte, at int) int {
			if string(k) == "entity" {
				if seen {
					return -1
				}
				seen = true
				return scanEntity(b, at, &p.Entity)
			}
			if foldsTo(k, "entity") {
				return -1
			}
			return jsonw.SkipValue(b, at)
		})
		if end >= 0 {
			e.Payload[string(name)] = p
		}
		return end
	})
}

// entityFields are the entity's members the Envelope keeps, in Entity's
// order; the last is the notes, kept raw.
var entityFields = [...]string{"id", "order_id", "invoice_id", "payment_id", "reference_id", "notes"}

func scanEntity(b []byte, at int, en *Entity) int {
	strs := [...]*string{&en.ID, &en.OrderID, &en.InvoiceID, &en.PaymentID, &en.ReferenceID}
	var seen [len(entityFields)]bool
	return jsonw.Object(b, at, func(k []byte, at int) int {
		for i, f := range entityFields {
			if string(k) != f {
				continue
			}
			if seen[i] {
				return -1
			}
			seen[i] = true
			if i == len(strs) {
				end := jsonw.SkipValue(b, at)
				en.Notes = json.RawMessage(b[at:end:end]) // an append copies
				return end
			}
			return plain(strs[i], b, at)
		}
		if foldsTo(k, entityFields[:]...) {
			return -1
		}
		return jsonw.SkipValue(b, at)
	})
}
