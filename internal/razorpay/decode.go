package razorpay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/razorbill/razorbill/internal/money"
)

// Razorpay answers PHP-flavoured JSON: an empty object may arrive as [],
// a missing value as null, a number as a string, a time as Unix seconds. The
// wire types below decode all of these without failing on shapes that carry
// no information, and refuse only what would lose money (an amount that is
// not an exact integer).

// wireString accepts a string, a number, a boolean or null.
type wireString string

func (s *wireString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = wireString(v)
	case b[0] == '{' || b[0] == '[':
		// An object where a string was expected (e.g. PHP's [] for
		// "nothing"): no information, so no string.
		*s = ""
	default:
		*s = wireString(string(b))
	}
	return nil
}

// wireInt accepts an integer number, a numeric string, or null. A number
// with a fraction or exponent is converted exactly (money.FromJSONFloat) or
// refused: an amount is never rounded.
type wireInt int64

func (n *wireInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" || string(b) == `""` || string(b) == "[]" || string(b) == "{}" {
		*n = 0
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = 0
			return nil
		}
	}
	if s == "true" || s == "false" {
		return fmt.Errorf("razorpay: %s is not an integer", s)
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = wireInt(v)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("razorpay: %q is not a number", s)
	}
	v, err := money.FromJSONFloat(f)
	if err != nil {
		return err
	}
	*n = wireInt(v)
	return nil
}

// wireBool accepts true/false, 1/0, "1"/"0", "true"/"false" and null.
type wireBool bool

func (v *wireBool) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	switch strings.ToLower(s) {
	case "true", "1":
		*v = true
	default:
		*v = false
	}
	return nil
}

// wireTime is Unix seconds; 0 or null is the zero time.
type wireTime time.Time

func (t *wireTime) UnmarshalJSON(b []byte) error {
	var n wireInt
	if err := n.UnmarshalJSON(b); err != nil {
		// A time is never money: a malformed one is simply unknown.
		*t = wireTime{}
		return nil
	}
	if n <= 0 {
		*t = wireTime{}
		return nil
	}
	*t = wireTime(time.Unix(int64(n), 0).UTC())
	return nil
}

func (t wireTime) Time() time.Time { return time.Time(t) }

// wireNotes is Razorpay's notes: an object of scalar values, or [] / null
// when empty. Non-string values are kept as their JSON text.
type wireNotes map[string]string

func (m *wireNotes) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	out := map[string]string{}
	if len(b) == 0 || b[0] != '{' {
		// null, [] (PHP's empty array), or a list of values: no keys.
		if len(b) > 0 && b[0] == '[' {
			var list []json.RawMessage
			if err := json.Unmarshal(b, &list); err != nil {
				return err
			}
			for i, raw := range list {
				var s wireString
				if err := s.UnmarshalJSON(raw); err == nil {
					out[strconv.Itoa(i)] = string(s)
				}
			}
		}
		*m = out
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for k, v := range raw {
		var s wireString
		if err := s.UnmarshalJSON(v); err != nil {
			return err
		}
		if vb := bytes.TrimSpace(v); len(vb) > 0 && (vb[0] == '{' || vb[0] == '[') {
			s = wireString(vb)
		}
		out[k] = string(s)
	}
	*m = out
	return nil
}

func (m wireNotes) Map() map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return map[string]string(m)
}

// wireObject is an object that may arrive as [] or null: only an object is
// decoded into v.
func decodeObject(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	return json.Unmarshal(b, v)
}

func upper(s wireString) string { return strings.ToUpper(string(s)) }
