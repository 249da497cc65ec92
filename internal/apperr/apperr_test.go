package apperr_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/apperr"
)

var allKinds = []struct {
	kind      apperr.Kind
	name      string
	status    int
	retryable bool
}{
	{apperr.Internal, "internal", http.StatusInternalServerError, true},
	{apperr.Invalid, "invalid", http.StatusBadRequest, false},
	{apperr.Unauthorized, "unauthorized", http.StatusUnauthorized, false},
	{apperr.Forbidden, "forbidden", http.StatusForbidden, false},
	{apperr.NotFound, "not_found", http.StatusNotFound, false},
	{apperr.Conflict, "conflict", http.StatusConflict, false},
	{apperr.TooLarge, "too_large", http.StatusRequestEntityTooLarge, false},
	{apperr.Throttled, "throttled", http.StatusTooManyRequests, true},
	{apperr.Transient, "transient", http.StatusServiceUnavailable, true},
	{apperr.Permanent, "permanent", http.StatusBadGateway, false},
}

func TestKinds(t *testing.T) {
	if len(allKinds) != int(apperr.Permanent)+1 {
		t.Fatalf("the table covers %d kinds, the package has %d", len(allKinds), int(apperr.Permanent)+1)
	}
	for _, k := range allKinds {
		if k.kind.String() != k.name {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k.kind), k.kind.String(), k.name)
		}
		err := apperr.E(k.kind, "some_code", "something about %s", "it")
		if got := apperr.HTTPStatus(err); got != k.status {
			t.Errorf("HTTPStatus(%s) = %d, want %d", k.name, got, k.status)
		}
		if got := apperr.Retryable(err); got != k.retryable {
			t.Errorf("Retryable(%s) = %v, want %v", k.name, got, k.retryable)
		}
		// The same through wrapping.
		wrapped := fmt.Errorf("outer: %w", fmt.Errorf("middle: %w", err))
		if apperr.HTTPStatus(wrapped) != k.status || apperr.Retryable(wrapped) != k.retryable || apperr.KindOf(wrapped) != k.kind {
			t.Errorf("%s: wrapping changes status, retry or kind", k.name)
		}
		if !apperr.Is(wrapped, k.kind) {
			t.Errorf("Is(wrapped %s, %s) = false", k.name, k.name)
		}
		status, body := apperr.Envelope(wrapped)
		if status != k.status || body.Error.Code != "some_code" || body.Error.Message != "something about it" {
			t.Errorf("Envelope(%s) = %d %+v", k.name, status, body)
		}
	}
	// Out-of-range kinds neither panic nor map to anything but 500.
	for _, k := range []apperr.Kind{-1, 10, 99} {
		if s := k.String(); s != fmt.Sprintf("kind(%d)", int(k)) {
			t.Errorf("Kind(%d).String() = %q", int(k), s)
		}
		if got := apperr.HTTPStatus(&apperr.Error{Kind: k, Code: "x"}); got != 500 {
			t.Errorf("HTTPStatus(kind %d) = %d, want 500", int(k), got)
		}
	}
}

func TestStatusOverride(t *testing.T) {
	for _, tc := range []struct {
		status, want int
	}{
		{http.StatusUnprocessableEntity, 422},
		{http.StatusMethodNotAllowed, 405},
		{599, 599},
		{400, 400},
		{0, 409},   // no override: the Kind's status
		{200, 409}, // not an error status: ignored
		{302, 409},
		{-1, 409},
		{600, 409},
		{99, 409},
	} {
		err := &apperr.Error{Kind: apperr.Conflict, Code: "idempotency_key_reused", Status: tc.status}
		if got := apperr.HTTPStatus(fmt.Errorf("x: %w", err)); got != tc.want {
			t.Errorf("HTTPStatus(Status %d) = %d, want %d", tc.status, got, tc.want)
		}
		if got, _ := apperr.Envelope(err); got != tc.want {
			t.Errorf("Envelope(Status %d) = %d, want %d", tc.status, got, tc.want)
		}
	}
}

func TestUnclassifiedErrors(t *testing.T) {
	plain := errors.New("boom")
	if apperr.As(plain) != nil || apperr.KindOf(plain) != apperr.Internal || !apperr.Is(plain, apperr.Internal) {
		t.Error("a plain error is not classified as internal")
	}
	if apperr.HTTPStatus(plain) != 500 {
		t.Errorf("HTTPStatus(plain) = %d", apperr.HTTPStatus(plain))
	}
	if !apperr.Retryable(plain) {
		t.Error("an unclassified error must be retried (it may be a transient failure we did not classify)")
	}
	// nil is no error: nothing to retry, no kind.
	if apperr.Retryable(nil) {
		t.Error("Retryable(nil) = true")
	}
	if apperr.Is(nil, apperr.Internal) || apperr.As(nil) != nil {
		t.Error("nil is classified")
	}
	// A typed nil *Error in an interface neither panics nor classifies.
	var nilErr *apperr.Error
	var err error = nilErr
	if apperr.As(err) != nil {
		t.Error("As(typed nil) != nil")
	}
	if s := nilErr.Error(); s == "" {
		t.Error("nil *Error has an empty Error()")
	}
	if nilErr.Unwrap() != nil {
		t.Error("nil *Error unwraps to something")
	}
	if status, body := apperr.Envelope(err); status != 500 || body.Error.Code != "internal_error" {
		t.Errorf("Envelope(typed nil) = %d %+v", status, body)
	}
}

func TestErrorString(t *testing.T) {
	cause := errors.New("dynamodb: ConditionalCheckFailed")
	for _, tc := range []struct {
		err  *apperr.Error
		want string
	}{
		{apperr.E(apperr.NotFound, "customer_not_found", "customer %s not found", "cus_1"), "not_found: customer_not_found: customer cus_1 not found"},
		{apperr.InvalidField("validation_failed", "amount", "amount %q is bad", "x"), `invalid: validation_failed [amount]: amount "x" is bad`},
		{apperr.Wrap(cause, apperr.Conflict, "version_conflict", "changed meanwhile"), "conflict: version_conflict: changed meanwhile: dynamodb: ConditionalCheckFailed"},
		{apperr.Wrap(cause, apperr.Internal, "", ""), "internal: : dynamodb: ConditionalCheckFailed"},
		{&apperr.Error{Kind: apperr.Transient, Code: "storage_unavailable"}, "transient: storage_unavailable"},
		{apperr.InvalidField("f", "x", "m").WithCause(cause), "invalid: f [x]: m: dynamodb: ConditionalCheckFailed"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestWrapUnwrapAs(t *testing.T) {
	cause := errors.New("dynamodb: throughput exceeded")
	e := apperr.Wrap(cause, apperr.Transient, "storage_unavailable", "storage is busy; retry")
	if !errors.Is(e, cause) || errors.Unwrap(e) != cause {
		t.Error("Wrap does not keep the cause for errors.Is/Unwrap")
	}
	outer := fmt.Errorf("put invoice inv_1: %w", e)
	if got := apperr.As(outer); got != e {
		t.Errorf("As(fmt.Errorf %%w) = %v, want the wrapped *Error", got)
	}
	if !errors.Is(outer, cause) {
		t.Error("errors.Is does not reach the cause through both layers")
	}
	// The innermost *Error is not what As finds when an outer one exists:
	// the outermost classification wins.
	inner := apperr.E(apperr.NotFound, "customer_not_found", "no customer")
	reclassified := apperr.Wrap(fmt.Errorf("lookup: %w", inner), apperr.Permanent, "razorpay_failed", "Razorpay refused")
	if got := apperr.As(fmt.Errorf("x: %w", reclassified)); got != reclassified || got.Kind != apperr.Permanent {
		t.Errorf("As picked %v, want the outermost", got)
	}
	// errors.Join: the first *Error in the tree.
	joined := errors.Join(errors.New("a"), fmt.Errorf("b: %w", inner))
	if apperr.As(joined) != inner || apperr.HTTPStatus(joined) != 404 {
		t.Errorf("As(errors.Join) = %v", apperr.As(joined))
	}
}

func TestWithCopies(t *testing.T) {
	base := apperr.E(apperr.Invalid, "validation_failed", "bad")
	cause := errors.New("c")
	f := base.WithField("amount")
	c := base.WithCause(cause)
	d := base.WithDetails(map[string]any{"amount_remaining": "10.00"})
	if base.Field != "" || base.Err != nil || base.Details != nil {
		t.Errorf("With* changed the receiver: %+v", base)
	}
	if f.Field != "amount" || f.Code != "validation_failed" || f == base {
		t.Errorf("WithField = %+v", f)
	}
	if c.Err != cause || !errors.Is(c, cause) {
		t.Errorf("WithCause = %+v", c)
	}
	if d.Details["amount_remaining"] != "10.00" {
		t.Errorf("WithDetails = %+v", d)
	}
	chained := base.WithField("currency").WithCause(cause).WithDetails(map[string]any{"k": "v"})
	if chained.Field != "currency" || chained.Err != cause || chained.Details["k"] != "v" || chained.Kind != apperr.Invalid {
		t.Errorf("chained With* = %+v", chained)
	}
}

func TestEnvelopeHidesInternalText(t *testing.T) {
	secret := errors.New("dynamodb: secret stuff (arn:aws:dynamodb:ap-south-1:123456789012:table/razorbill)")
	for name, err := range map[string]error{
		"plain":                   secret,
		"fmt wrapped":             fmt.Errorf("put item: %w", secret),
		"Wrap Internal":           apperr.Wrap(secret, apperr.Internal, "", "encode item"),
		"E Internal":              apperr.E(apperr.Internal, "", "invoice lines sum to %d: %v", 5, secret),
		"fmt wrapped Internal":    fmt.Errorf("handler: %w", apperr.Wrap(secret, apperr.Internal, "", "decode")),
		"Internal with a Details": apperr.Wrap(secret, apperr.Internal, "", "x").WithDetails(map[string]any{"why": secret.Error()}),
	} {
		status, body := apperr.Envelope(err)
		if status != 500 || body.Error.Code != "internal_error" {
			t.Errorf("%s: Envelope = %d %q, want 500 internal_error", name, status, body.Error.Code)
		}
		b, jerr := json.Marshal(body)
		if jerr != nil {
			t.Fatal(jerr)
		}
		for _, leak := range []string{"secret", "dynamodb", "arn:", "encode", "decode", "lines sum"} {
			if strings.Contains(string(b), leak) {
				t.Errorf("%s: envelope %s leaks %q", name, b, leak)
			}
		}
		if body.Error.Message == "" {
			t.Errorf("%s: empty message", name)
		}
	}
	// A classified error shows its own message, never its cause's text.
	err := fmt.Errorf("layer: %w", apperr.Wrap(secret, apperr.Transient, "storage_unavailable", "storage is busy; retry"))
	status, body := apperr.Envelope(err)
	b, _ := json.Marshal(body)
	if status != 503 || body.Error.Code != "storage_unavailable" || body.Error.Message != "storage is busy; retry" || strings.Contains(string(b), "secret") || strings.Contains(string(b), "layer") {
		t.Errorf("Envelope(transient) = %d %s", status, b)
	}
	// The cause still reaches logs through Error().
	if !strings.Contains(err.Error(), "secret stuff") {
		t.Errorf("Error() %q lost the cause", err)
	}
}

func TestEnvelopeJSON(t *testing.T) {
	// api.md's example, byte for byte.
	err := apperr.InvalidField("amount_below_minimum", "amount", "amount 0.50 INR is below Razorpay's minimum of 1.00 INR")
	status, body := apperr.Envelope(err)
	b, _ := json.Marshal(body)
	want := `{"error":{"code":"amount_below_minimum","message":"amount 0.50 INR is below Razorpay's minimum of 1.00 INR","field":"amount"}}`
	if status != 400 || string(b) != want {
		t.Errorf("Envelope = %d %s\nwant 400 %s", status, b, want)
	}
	// No field, no details: both omitted. No message: the code stands in.
	status, body = apperr.Envelope(&apperr.Error{Kind: apperr.NotFound, Code: "invoice_not_found"})
	b, _ = json.Marshal(body)
	if want := `{"error":{"code":"invoice_not_found","message":"invoice_not_found"}}`; status != 404 || string(b) != want {
		t.Errorf("Envelope = %d %s, want %s", status, b, want)
	}
	// Details pass through.
	_, body = apperr.Envelope(apperr.InvalidField("invalid_invoice_amount", "amount", "must equal").WithDetails(map[string]any{"amount_remaining": "100.00"}))
	b, _ = json.Marshal(body)
	if !strings.Contains(string(b), `"details":{"amount_remaining":"100.00"}`) {
		t.Errorf("details lost: %s", b)
	}
	// An Internal error that carries a code was written for the client
	// (e.g. razorpay_base_url_invalid): its code and message are shown.
	status, body = apperr.Envelope(&apperr.Error{Kind: apperr.Internal, Code: "razorpay_base_url_invalid", Message: "the Razorpay base URL is not an http(s) URL"})
	if status != 500 || body.Error.Code != "razorpay_base_url_invalid" {
		t.Errorf("Envelope(internal with code) = %d %+v", status, body)
	}
	// A 422 override reaches the envelope.
	status, _ = apperr.Envelope(&apperr.Error{Kind: apperr.Conflict, Code: "idempotency_key_reused", Status: 422})
	if status != 422 {
		t.Errorf("Envelope(422 override) = %d", status)
	}
}
