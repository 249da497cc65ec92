package razorpay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
)

// APIError is what Razorpay answered (or failed to answer): the HTTP status
// and the fields of Razorpay's error body
// {"error":{"code","description","field","source","step","reason","metadata"}}.
// It is the cause (apperr.Error.Err) of every error this package returns.
// Status is 0 when no HTTP answer arrived (timeout, connection refused or
// dropped) or when the request was refused before it was sent.
type APIError struct {
	Status      int
	Code        string // BAD_REQUEST_ERROR, GATEWAY_ERROR, SERVER_ERROR
	Description string
	Field       string
	Source      string
	Step        string
	Reason      string
	Op          string        // what this package was doing, e.g. "create invoice"
	RetryAfter  time.Duration // a 429's Retry-After, when sent
	Err         error         // transport failure, when Status is 0
}

// Summary is Razorpay's error code and description as a message shows
// them (api.md: a 502 carries both): "BAD_REQUEST_ERROR: The amount must be
// at least INR 1.00", or the description alone when there is no code.
func (e *APIError) Summary() string {
	if e.Code == "" {
		return e.Description
	}
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("razorpay")
	if e.Op != "" {
		b.WriteString(" " + e.Op)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d", e.Status)
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Field != "" {
		b.WriteString(" [" + e.Field + "]")
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// Error codes of the *apperr.Error this package returns.
const (
	CodeInvalidCredentials = "invalid_razorpay_credentials" // 401: the key id/secret pair is wrong
	CodeBadRequest         = "razorpay_bad_request"         // 400 (and other 4xx): Razorpay refused the request for good
	CodeNotFound           = "razorpay_not_found"           // 404, or 400 "The id provided does not exist"
	CodeThrottled          = "razorpay_throttled"           // 429
	CodeUnavailable        = "razorpay_unavailable"         // 5xx, timeout, connection error, non-JSON answer
	CodeInvalidInput       = "razorpay_invalid_input"       // refused before sending (empty id, bad amount)
)

// descIDDoesNotExist is Razorpay's answer, with HTTP 400, when an id is not
// one of the account's objects.
const descIDDoesNotExist = "The id provided does not exist"

// parseErrorBody reads Razorpay's error envelope. ok is false when the body
// is not that JSON (an HTML page from a proxy, an empty body).
func parseErrorBody(body []byte) (e APIError, ok bool) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return e, false
	}
	var w struct {
		Error *struct {
			Code        wireString `json:"code"`
			Description wireString `json:"description"`
			Field       wireString `json:"field"`
			Source      wireString `json:"source"`
			Step        wireString `json:"step"`
			Reason      wireString `json:"reason"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &w); err != nil || w.Error == nil {
		return e, false
	}
	na := func(s wireString) string {
		if s == "NA" {
			return ""
		}
		return string(s)
	}
	return APIError{Code: string(w.Error.Code), Description: string(w.Error.Description), Field: string(w.Error.Field),
		Source: na(w.Error.Source), Step: na(w.Error.Step), Reason: na(w.Error.Reason)}, true
}

// classify turns an HTTP answer that is not a 2xx into Razorbill's error.
func classify(op string, status int, body []byte) *apperr.Error {
	api, isJSON := parseErrorBody(body)
	api.Status, api.Op = status, op
	e := &apperr.Error{Err: &api}
	if re, ok := classifyRefund(op, status, api); ok {
		re.Err = &api
		return re
	}
	switch {
	case status == http.StatusUnauthorized:
		// Razorpay refused the connection's key: a 502 to our client (api.md:
		// "502 Razorpay refused"), never the 401 that would say the client's
		// own API key is bad. Its kind stays Unauthorized for the callers
		// that decide on it; saving a connection checks the keys first and
		// answers 400 on key_secret (httpapi).
		e.Kind, e.Code, e.Status = apperr.Unauthorized, CodeInvalidCredentials, http.StatusBadGateway
		e.Message = "Razorpay rejected the key id and key secret"
		if api.Description != "" {
			e.Message += ": " + api.Description
		}
	case !isJSON && status != http.StatusNotFound:
		e.Kind, e.Code = apperr.Transient, CodeUnavailable
		e.Message = fmt.Sprintf("Razorpay answered HTTP %d without its JSON error body; try again", status)
	case status == http.StatusTooManyRequests:
		e.Kind, e.Code = apperr.Throttled, CodeThrottled
		e.Message = "Razorpay is rate limiting requests; try again shortly"
	case status >= 500:
		e.Kind, e.Code = apperr.Transient, CodeUnavailable
		e.Message = "Razorpay is unavailable; try again"
		if api.Description != "" {
			e.Message += " (" + api.Description + ")"
		}
	case status == http.StatusNotFound || (status == http.StatusBadRequest && api.Description == descIDDoesNotExist):
		e.Kind, e.Code = apperr.NotFound, CodeNotFound
		e.Message = "Razorpay has no such object for this key"
		if api.Description != "" {
			e.Message = "Razorpay: " + api.Description
		}
	case status >= 400:
		e.Kind, e.Code, e.Field = apperr.Permanent, CodeBadRequest, api.Field
		e.Message = api.Summary()
		if api.Description == "" {
			e.Message = fmt.Sprintf("Razorpay refused the request (HTTP %d)", status)
		}
	default:
		e.Kind, e.Code = apperr.Transient, CodeUnavailable
		e.Message = fmt.Sprintf("Razorpay answered HTTP %d", status)
	}
	return e
}

// transportError wraps a failure to get any answer.
func transportError(op string, err error) *apperr.Error {
	return &apperr.Error{Kind: apperr.Transient, Code: CodeUnavailable,
		Message: "Razorpay could not be reached or did not answer in time; try again",
		Err:     &APIError{Op: op, Err: err}}
}

// undecodable wraps a 2xx answer whose body is not the JSON expected.
func undecodable(op string, status int, err error) *apperr.Error {
	return &apperr.Error{Kind: apperr.Transient, Code: CodeUnavailable,
		Message: "Razorpay's answer could not be read; try again",
		Err:     &APIError{Op: op, Status: status, Description: "unreadable response body", Err: err}}
}

// invalidInput refuses a request before it is sent.
func invalidInput(op, field, format string, args ...any) *apperr.Error {
	msg := fmt.Sprintf(format, args...)
	return &apperr.Error{Kind: apperr.Invalid, Code: CodeInvalidInput, Field: field, Message: msg,
		Err: &APIError{Op: op, Field: field, Description: msg}}
}

// IsDuplicateReference reports whether err is Razorpay's refusal of a
// payment link whose reference_id the account already used. Both wordings
// match, whatever the case and whether "reference id" is spelled with a
// space or an underscore: observed live, "payment link with given
// reference_id: <id> already exists. Please create a payment link with a
// different reference_id"; in Razorpay's docs, "payment link creation with
// reference ID already attempted".
func IsDuplicateReference(err error) bool {
	var api *APIError
	if !errors.As(err, &api) || api.Status != http.StatusBadRequest {
		return false
	}
	d := strings.Join(strings.Fields(strings.ToLower(strings.ReplaceAll(api.Description, "_", " "))), " ")
	return strings.Contains(d, "payment link") && strings.Contains(d, "reference id") &&
		(strings.Contains(d, "already exist") || strings.Contains(d, "already attempted"))
}

// unknownOutcome reports whether a failed request may nevertheless have
// been carried out by Razorpay: no answer at all, a 5xx, or an answer that
// was not Razorpay's own (an HTML 502 from a proxy) — every Transient
// failure. A 429 comes from the rate limiter before anything is done, and a
// 4xx is a refusal.
func unknownOutcome(err error) bool { return apperr.KindOf(err) == apperr.Transient }
