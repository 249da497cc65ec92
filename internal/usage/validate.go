package usage

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/money"
)

// Limits on what a meter or an event may hold.
const (
	MaxEventIDLen       = 255
	MaxEventNameLen     = 100
	MaxNameLen          = 255
	MaxProperties       = 50
	MaxPropertyKeyLen   = 128
	MaxPropertyValueLen = 512
	MaxFilterKeys       = 10
	MaxFilterValues     = 100
	MaxMetersPerEnv     = 200
	// MaxMetersPerEvent bounds the active meters of one event name, so one
	// event's writes fit in a DynamoDB transaction (100 items).
	MaxMetersPerEvent = 50
	// MaxFuture is how far ahead of now an event's timestamp may be.
	MaxFuture = 5 * time.Minute
	// DefaultLateness is how old an event's timestamp may be by default.
	DefaultLateness = 35 * 24 * time.Hour
	// DefaultRetention is how long raw events stay queryable by default.
	DefaultRetention = 400 * 24 * time.Hour
)

// ValidateMeter checks a new meter and normalizes it (aggregation upper-case).
func ValidateMeter(m *Meter) error {
	m.Name = strings.TrimSpace(m.Name)
	if m.Name == "" || utf8.RuneCountInString(m.Name) > MaxNameLen {
		return apperr.InvalidField("validation_failed", "name", "name is required, at most %d characters", MaxNameLen)
	}
	if err := checkEventName(m.EventName); err != nil {
		return err
	}
	m.Aggregation = strings.ToUpper(strings.TrimSpace(m.Aggregation))
	if !contains(Aggregations, m.Aggregation) {
		return apperr.InvalidField("validation_failed", "aggregation", "aggregation must be one of %s", strings.Join(Aggregations, ", "))
	}
	if m.Aggregation == Count {
		// A COUNT meter counts events and reads no property; one given with
		// it (api.md's meter example names one beside every aggregation) is
		// kept and shown, if it is a valid key, and not read.
		if m.Property != "" {
			if err := checkPropertyKey("property", m.Property); err != nil {
				return apperr.InvalidField("validation_failed", "property", "%s", err.Error())
			}
		}
	} else if err := checkPropertyKey("property", m.Property); err != nil {
		return apperr.InvalidField("validation_failed", "property", "%s needs the property it reads: %s", m.Aggregation, err.Error())
	}
	if len(m.Filters) > MaxFilterKeys {
		return apperr.InvalidField("validation_failed", "filters", "at most %d filter properties", MaxFilterKeys)
	}
	for k, vals := range m.Filters {
		if err := checkPropertyKey("filters", k); err != nil {
			return apperr.InvalidField("validation_failed", "filters", "filter property %s", err.Error())
		}
		if len(vals) == 0 || len(vals) > MaxFilterValues {
			return apperr.InvalidField("validation_failed", "filters", "filter %q needs 1 to %d allowed values", k, MaxFilterValues)
		}
		for _, v := range vals {
			if len(v) > MaxPropertyValueLen {
				return apperr.InvalidField("validation_failed", "filters", "filter %q has a value longer than %d bytes", k, MaxPropertyValueLen)
			}
		}
	}
	return nil
}

func checkEventName(s string) error {
	if s == "" || len(s) > MaxEventNameLen {
		return apperr.InvalidField("validation_failed", "event_name", "event_name is required, 1 to %d characters", MaxEventNameLen)
	}
	for _, r := range s {
		if !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-.:", r))) {
			return apperr.InvalidField("validation_failed", "event_name", "event_name may hold only letters, digits and _ - . : (got %q)", clip(s))
		}
	}
	return nil
}

func checkPropertyKey(field, k string) error {
	if k == "" || utf8.RuneCountInString(k) > MaxPropertyKeyLen {
		return fmt.Errorf("a property name is 1 to %d characters", MaxPropertyKeyLen)
	}
	for _, r := range k {
		if unicode.IsControl(r) {
			return fmt.Errorf("property name %q has a control character", clip(k))
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// ParseValue reads a property as the decimal a meter sums or compares: a
// plain decimal (no exponent), at most 15 digits before the point and 12
// after (money.ParseDecimal's bounds).
func ParseValue(s string) (decimal.Decimal, error) {
	return money.ParseDecimal(strings.TrimSpace(s))
}

// Property is one property value as sent: a JSON string, or a JSON number's
// text (Number set).
type Property struct {
	Text   string
	Number bool
}

// Input is an event as a client sent it, decoded but not yet checked.
type Input struct {
	EventID            string
	EventName          string
	CustomerID         string
	CustomerExternalID string
	Timestamp          string
	Properties         map[string]Property
}

// Rules are what an event is checked against: the clock, the lateness
// limit and the environment's meters.
type Rules struct {
	Now      time.Time
	Lateness time.Duration
	Meters   []Meter
}

// Check validates in and returns the event to store (AcceptedAt = r.Now).
// It does not check that a named customer exists (the caller reads the
// store for that).
func (r Rules) Check(in Input) (Event, error) {
	var e Event
	if in.EventID == "" || len(in.EventID) > MaxEventIDLen || !utf8.ValidString(in.EventID) {
		return e, apperr.InvalidField("validation_failed", "event_id", "event_id is required, 1 to %d characters of UTF-8", MaxEventIDLen)
	}
	for _, c := range in.EventID {
		if unicode.IsControl(c) {
			return e, apperr.InvalidField("validation_failed", "event_id", "event_id has a control character")
		}
	}
	if err := checkEventName(in.EventName); err != nil {
		return e, err
	}
	switch {
	case in.CustomerID != "" && in.CustomerExternalID != "":
		return e, apperr.InvalidField("validation_failed", "customer_id", "give customer_id or customer_external_id, not both")
	case in.CustomerID != "":
		if !ids.Valid(ids.Customer, in.CustomerID) {
			return e, apperr.InvalidField("validation_failed", "customer_id", "customer_id %q is not a customer id (cus_…)", clip(in.CustomerID))
		}
	case in.CustomerExternalID != "":
		if len(in.CustomerExternalID) > MaxNameLen || strings.TrimSpace(in.CustomerExternalID) != in.CustomerExternalID {
			return e, apperr.InvalidField("validation_failed", "customer_external_id", "customer_external_id is 1 to %d characters without surrounding spaces", MaxNameLen)
		}
	default:
		return e, apperr.InvalidField("validation_failed", "customer_external_id", "customer_external_id (or customer_id) is required")
	}
	if in.Timestamp == "" {
		return e, apperr.InvalidField("validation_failed", "timestamp", "timestamp is required (RFC 3339, e.g. \"2026-12-01T10:00:00Z\")")
	}
	ts, err := time.Parse(time.RFC3339Nano, in.Timestamp)
	if err != nil {
		return e, apperr.InvalidField("validation_failed", "timestamp", "timestamp %q is not RFC 3339 (e.g. \"2026-12-01T10:00:00Z\")", clip(in.Timestamp))
	}
	ts = ts.UTC()
	lateness := r.Lateness
	if lateness <= 0 {
		lateness = DefaultLateness
	}
	if ts.Before(r.Now.Add(-lateness)) {
		return e, apperr.InvalidField("timestamp_too_old", "timestamp", "timestamp %s is older than the %s this environment accepts", ts.Format(time.RFC3339), lateness)
	}
	if ts.After(r.Now.Add(MaxFuture)) {
		return e, apperr.InvalidField("timestamp_in_future", "timestamp", "timestamp %s is more than %s ahead of now", ts.Format(time.RFC3339), MaxFuture)
	}
	if len(in.Properties) > MaxProperties {
		return e, apperr.InvalidField("too_many_properties", "properties", "an event has at most %d properties (got %d)", MaxProperties, len(in.Properties))
	}
	props := make(map[string]string, len(in.Properties))
	keys := make([]string, 0, len(in.Properties))
	for k := range in.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := in.Properties[k]
		if err := checkPropertyKey("properties", k); err != nil {
			return e, apperr.InvalidField("validation_failed", "properties", "%s", err.Error())
		}
		if len(p.Text) > MaxPropertyValueLen || !utf8.ValidString(p.Text) {
			return e, apperr.InvalidField("validation_failed", "properties."+k, "property %q is longer than %d bytes of UTF-8", clip(k), MaxPropertyValueLen)
		}
		if p.Number {
			if strings.ContainsAny(p.Text, "eE") {
				return e, apperr.InvalidField("invalid_number", "properties."+k, "property %q: write numbers as plain decimals (\"1500.25\"), not with an exponent", clip(k))
			}
			if _, err := ParseValue(p.Text); err != nil {
				return e, apperr.InvalidField("invalid_number", "properties."+k, "property %q: %s", clip(k), err.Error())
			}
		}
		props[k] = p.Text
	}
	counted := false
	for _, m := range r.Meters {
		if m.EventName != in.EventName || m.Status != MeterActive {
			continue
		}
		counted = true
		if m.Aggregation == Count {
			continue
		}
		v, ok := props[m.Property]
		if !ok {
			return e, apperr.InvalidField("missing_property", "properties."+m.Property, "meter %s (%s) reads property %q, which the event lacks", m.ID, m.Aggregation, clip(m.Property))
		}
		if m.Aggregation == UniqueCount {
			continue
		}
		if _, err := ParseValue(v); err != nil {
			return e, apperr.InvalidField("invalid_number", "properties."+m.Property, "meter %s (%s) needs property %q to be a decimal: %s", m.ID, m.Aggregation, clip(m.Property), err.Error())
		}
	}
	if !counted {
		return e, apperr.InvalidField("unknown_event_name", "event_name", "no active meter counts events named %q; create a meter for it first", clip(in.EventName))
	}
	if len(props) == 0 {
		props = nil // stored without the attribute: an empty map does not survive a stream record's JSON
	}
	return Event{ID: in.EventID, Name: in.EventName, CustomerID: in.CustomerID, CustomerExternalID: in.CustomerExternalID,
		Timestamp: ts, Properties: props, AcceptedAt: r.Now.UTC()}, nil
}
