// Package apperr is Razorbill's one error type. An error carries a Kind that
// decides the HTTP status a client sees and whether a queue consumer retries
// the message or parks it; a stable Code and an optional Field that a client
// can act on; and a Message written for people. The wrapped cause (an AWS or
// Razorpay failure) is kept for logs and never reaches a client.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind classifies an error.
type Kind int

const (
	// Internal is a bug or an unclassified failure: 500, retried by consumers.
	Internal Kind = iota
	// Invalid input: 400, never retried.
	Invalid
	// Unauthorized: no or bad credentials: 401.
	Unauthorized
	// Forbidden: credentials valid but not for this resource: 403.
	Forbidden
	// NotFound: 404 (also for another tenant's ids).
	NotFound
	// Conflict with the current state: 409.
	Conflict
	// TooLarge: the request body is over the limit: 413.
	TooLarge
	// Throttled: 429, retried later.
	Throttled
	// Transient: a dependency is unreachable or overloaded: 503, retried.
	Transient
	// Permanent: a dependency refused the request for good: 502, parked.
	Permanent
)

var kindNames = [...]string{"internal", "invalid", "unauthorized", "forbidden", "not_found", "conflict", "too_large", "throttled", "transient", "permanent"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is Razorbill's error.
type Error struct {
	Kind    Kind
	Code    string // stable, documented in the README
	Field   string // the input field at fault, if one is
	Message string // for people; never secrets or internal error text
	Status  int    // overrides the Kind's HTTP status when a 4xx/5xx (e.g. 422); other values are ignored
	Details map[string]any
	Err     error // the cause, for logs only
}

func (e *Error) Error() string {
	if e == nil {
		return "<nil *apperr.Error>"
	}
	s := e.Kind.String() + ": " + e.Code
	if e.Field != "" {
		s += " [" + e.Field + "]"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// E builds an error of a kind with a code and message.
func E(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidField is a 400 naming the field at fault.
func InvalidField(code, field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// WithField returns a copy of e naming field.
func (e *Error) WithField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// WithCause returns a copy of e wrapping err (for logs).
func (e *Error) WithCause(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

// WithDetails returns a copy of e with extra fields for the client.
func (e *Error) WithDetails(d map[string]any) *Error {
	c := *e
	c.Details = d
	return &c
}

// Wrap classifies an unknown error as kind with a code, keeping it as cause.
func Wrap(err error, kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message, Err: err}
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf returns the kind of err; Internal when it carries none.
func KindOf(err error) Kind {
	if e := As(err); e != nil {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// HTTPStatus maps err to the status a client sees.
func HTTPStatus(err error) int {
	e := As(err)
	if e == nil {
		return http.StatusInternalServerError
	}
	if e.Status >= 400 && e.Status <= 599 {
		return e.Status
	}
	switch e.Kind {
	case Invalid:
		return http.StatusBadRequest
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case Throttled:
		return http.StatusTooManyRequests
	case Transient:
		return http.StatusServiceUnavailable
	case Permanent:
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// Retryable reports whether a queue consumer should let the message be
// redelivered (true) or park it as a permanent failure (false). A nil error
// is not retryable: there is nothing to retry.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	switch KindOf(err) {
	case Internal, Throttled, Transient:
		return true
	}
	return false
}

// Body is the JSON error envelope of api.md.
type Body struct {
	Error BodyError `json:"error"`
}

// BodyError is the inside of the envelope.
type BodyError struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Field   string         `json:"field,omitempty"`
	Details map[string]any `json:"details,omitempty"`
}

// Envelope returns the status and body a client sees for err. An error
// without a Razorbill kind becomes a bland internal_error: its text is for
// logs only.
func Envelope(err error) (int, Body) {
	e := As(err)
	if e == nil || (e.Kind == Internal && e.Code == "") {
		return http.StatusInternalServerError, Body{Error: BodyError{Code: "internal_error", Message: "an internal error occurred; it has been logged"}}
	}
	msg := e.Message
	if msg == "" {
		msg = e.Code
	}
	return HTTPStatus(e), Body{Error: BodyError{Code: e.Code, Message: msg, Field: e.Field, Details: e.Details}}
}

// PublicMessage is the message a person may see for err (e.g. as a sync's
// last_error): the error's own message for a classified error, a bland line
// for an internal one.
func PublicMessage(err error) string {
	if e := As(err); e != nil && e.Kind != Internal {
		return e.Message
	}
	return "internal error; it has been logged"
}

// HasCode reports whether err carries code.
func HasCode(err error, code string) bool {
	e := As(err)
	return e != nil && e.Code == code
}

// CodeConcurrentUpdate marks a lost optimistic-concurrency race: re-read and retry.
const CodeConcurrentUpdate = "concurrent_update"
