package razorpaysim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/razorbill/razorbill/internal/money"
)

// body is a decoded JSON request body with Razorpay's (PHP/Laravel)
// leniency: numbers may arrive as strings, booleans as 0/1.
type body map[string]json.RawMessage

// readBody decodes a JSON object body; an empty body is an empty object.
func readBody(r *http.Request) (body, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return body{}, nil
	}
	var m body
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("the request body is not a JSON object")
	}
	if m == nil {
		m = body{}
	}
	return m, nil
}

func (b body) has(k string) bool {
	v, ok := b[k]
	return ok && string(bytes.TrimSpace(v)) != "null"
}

// str reads a string (numbers are accepted as their text).
func (b body) str(k string) (string, bool) {
	v, ok := b[k]
	if !ok {
		return "", false
	}
	v = bytes.TrimSpace(v)
	if string(v) == "null" {
		return "", false
	}
	if len(v) > 0 && v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s, true
		}
		return "", false
	}
	if len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
		return string(v), true
	}
	return "", false
}

// integer reads an integer: a JSON integer or a string of digits. ok is
// false when the key is present but not an integer.
func (b body) integer(k string) (n int64, present, ok bool) {
	v, has := b[k]
	if !has || string(bytes.TrimSpace(v)) == "null" {
		return 0, false, true
	}
	s, isStr := b.str(k)
	if !isStr {
		return 0, true, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, true, false
	}
	return n, true, true
}

// boolean reads true/false, 1/0, "1"/"0", "true"/"false". ok is false for
// anything else.
func (b body) boolean(k string, def bool) (v, ok bool) {
	raw, has := b[k]
	if !has || string(bytes.TrimSpace(raw)) == "null" {
		return def, true
	}
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	switch strings.ToLower(s) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return def, false
}

// object reads a nested object.
func (b body) object(k string) (body, bool) {
	raw, has := b[k]
	if !has || string(bytes.TrimSpace(raw)) == "null" {
		return nil, true
	}
	var m body
	if err := json.Unmarshal(raw, &m); err != nil {
		// PHP clients send [] for an empty object.
		if t := bytes.TrimSpace(raw); len(t) >= 2 && t[0] == '[' && t[len(t)-1] == ']' && len(bytes.TrimSpace(t[1:len(t)-1])) == 0 {
			return body{}, true
		}
		return nil, false
	}
	return m, true
}

// list reads an array of objects.
func (b body) list(k string) ([]body, bool) {
	raw, has := b[k]
	if !has || string(bytes.TrimSpace(raw)) == "null" {
		return nil, true
	}
	var l []body
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, false
	}
	return l, true
}

// readNotes validates Razorpay's notes: at most 15 keys, scalar values of
// at most 256 characters. It returns the description of the refusal.
func readNotes(b body) (map[string]string, string) { return readNotesMax(b, 256) }

// readNotesMax is readNotes with values of at most maxLen characters
// (payment links: 255).
func readNotesMax(b body, maxLen int) (map[string]string, string) {
	raw, has := b["notes"]
	if !has || string(bytes.TrimSpace(raw)) == "null" {
		return nil, ""
	}
	t := bytes.TrimSpace(raw)
	if len(t) > 0 && t[0] == '[' {
		var l []json.RawMessage
		if json.Unmarshal(t, &l) == nil && len(l) == 0 {
			return nil, ""
		}
		return nil, "notes should be an object of key-value pairs"
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t, &m); err != nil {
		return nil, "notes should be an object of key-value pairs"
	}
	if len(m) > 15 {
		return nil, "Number of fields in notes should be less than or equal to 15"
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		var s string
		vt := bytes.TrimSpace(v)
		switch {
		case len(vt) > 0 && vt[0] == '"':
			_ = json.Unmarshal(vt, &s)
		case len(vt) > 0 && (vt[0] == '{' || vt[0] == '['):
			return nil, fmt.Sprintf("notes.%s should be a string or a number", k)
		case string(vt) == "null":
			s = ""
		default:
			s = string(vt)
		}
		if len([]rune(s)) > maxLen {
			return nil, fmt.Sprintf("notes.%s may not be greater than %d characters", k, maxLen)
		}
		out[k] = s
	}
	return out, ""
}

// amountCurrency reads a create's required integer amount and its currency
// (default INR; an upper-case ISO code Razorpay knows), answering a refusal
// through bad in the endpoint's error style; ok is false once answered.
func (b body) amountCurrency(w http.ResponseWriter, bad func(w http.ResponseWriter, field, format string, args ...any)) (amount int64, cur money.Currency, ok bool) {
	amount, present, isInt := b.integer("amount")
	if !present {
		bad(w, "amount", "The amount field is required.")
		return 0, cur, false
	}
	if !isInt {
		bad(w, "amount", "The amount must be an integer.")
		return 0, cur, false
	}
	code, _ := b.str("currency")
	if code == "" {
		code = "INR"
	}
	cur, err := money.LookupCurrency(code)
	if err != nil || strings.ToUpper(code) != code {
		bad(w, "currency", "The currency %s is not supported.", code)
		return 0, cur, false
	}
	return amount, cur, true
}
