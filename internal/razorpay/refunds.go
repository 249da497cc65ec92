package razorpay

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/razorpay/razorpay-go/requests"
	"github.com/razorpay/razorpay-go/resources"

	"github.com/razorbill/razorbill/internal/apperr"
)

// Refund error codes.
const (
	// CodeRefundInProgress is Razorpay's 409 to a refund whose
	// X-Refund-Idempotency key belongs to a request still being processed:
	// not a refusal; the refund may yet be made (Transient).
	CodeRefundInProgress = "razorpay_refund_in_progress"
	// CodeRefundKeyConflict is Razorpay's 400 "Different request with the
	// same idempotency key": a refund under that key exists or is being
	// made with another body.
	CodeRefundKeyConflict = "razorpay_refund_key_conflict"
	// CodeRefundUnknown is a refund whose last attempt was refused (or
	// rate limited) after an earlier attempt went unanswered: that earlier
	// attempt may have refunded, so this is not a refusal (Transient).
	CodeRefundUnknown = "razorpay_refund_outcome_unknown"
)

const opRefund = "refund payment"

// refundPageSize and refundPageLimit bound ListRefunds (Razorpay's count is
// at most 100).
const (
	refundPageSize  = 100
	refundPageLimit = 10
)

// RefundInput refunds a captured payment. Amount 0 refunds what remains.
// IdempotencyKey is sent as X-Refund-Idempotency: Razorpay answers a repeat
// with the same key and body with the same refund, so only a keyed refund
// is retried.
type RefundInput struct {
	Amount         int64
	Notes          map[string]string
	Receipt        string
	IdempotencyKey string
}

// ValidRefundKey reports whether k is an X-Refund-Idempotency value Razorpay
// accepts: at least 10 characters, each a letter, a digit, '-' or '_'.
func ValidRefundKey(k string) bool {
	if len(k) < 10 || len(k) > 255 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Refund is POST /v1/payments/{id}/refund (speed "normal"). The outcome is
// unknown — the refund may have been made — exactly when the error is
// Transient (no answer, a 5xx, a 409 "in progress", or a refusal after an
// unanswered attempt; see RefundOutcomeUnknown); Razorpay's 400 for a key
// reused with another body is CodeRefundKeyConflict. Any other error is a
// refusal: nothing was refunded.
func (c *Client) Refund(ctx context.Context, cr Credentials, paymentID string, in RefundInput) (Refund, error) {
	const op = opRefund
	if err := validID(op, "payment_id", paymentID); err != nil {
		return Refund{}, err
	}
	if in.Amount < 0 {
		return Refund{}, invalidInput(op, "amount", "a refund amount cannot be negative")
	}
	if in.IdempotencyKey != "" && !ValidRefundKey(in.IdempotencyKey) {
		return Refund{}, invalidInput(op, "X-Refund-Idempotency", "the refund idempotency key must be 10 to 255 letters, digits, '-' or '_'")
	}
	if err := checkNotes(op, in.Notes); err != nil {
		return Refund{}, err
	}
	payload := map[string]interface{}{"speed": "normal"}
	setIf(payload, "receipt", in.Receipt)
	if len(in.Notes) > 0 {
		payload["notes"] = in.Notes
	}
	var headers map[string]string
	if in.IdempotencyKey != "" {
		headers = map[string]string{"X-Refund-Idempotency": in.IdempotencyKey}
	}
	var out Refund
	uncertain := false
	err := c.do(ctx, cr, call{op: op, retry: in.IdempotencyKey != "", out: &out, uncertain: &uncertain,
		send: func(r *requests.Request) (map[string]interface{}, error) {
			if in.Amount == 0 {
				// The SDK's Payment.Refund always sends an amount; a
				// full refund omits it.
				return r.Post("/v1/payments/"+paymentID+"/refund", copyMap(payload), headers)
			}
			return (&resources.Payment{Request: r}).Refund(paymentID, int(in.Amount), copyMap(payload), headers)
		}})
	if err != nil && uncertain && !unknownOutcome(err) && !errors.Is(err, context.Canceled) {
		return out, &apperr.Error{Kind: apperr.Transient, Code: CodeRefundUnknown,
			Message: "Razorpay did not answer an earlier attempt of this refund, so it may have been made; look it up before sending it again",
			Err:     err}
	}
	return out, err
}

// RefundOutcomeUnknown reports whether a Refund error leaves open whether
// Razorpay refunded: no answer, a 5xx, a 409 (the same key is in progress),
// a key conflict, or a refusal after an unanswered attempt.
func RefundOutcomeUnknown(err error) bool {
	return err != nil && (unknownOutcome(err) || apperr.HasCode(err, CodeRefundKeyConflict))
}

// ListRefunds is GET /v1/payments/{id}/refunds: the payment's refunds, in
// pages of 100 (at most 1,000).
func (c *Client) ListRefunds(ctx context.Context, cr Credentials, paymentID string) ([]Refund, error) {
	const op = "list payment refunds"
	if err := validID(op, "payment_id", paymentID); err != nil {
		return nil, err
	}
	var all []Refund
	for page := 0; page < refundPageLimit; page++ {
		var list collection[Refund]
		skip := page * refundPageSize
		err := c.do(ctx, cr, call{op: op, retry: true, out: &list,
			send: func(r *requests.Request) (map[string]interface{}, error) {
				return (&resources.Payment{Request: r}).FetchMultipleRefund(paymentID, map[string]interface{}{"count": refundPageSize, "skip": skip}, nil)
			}})
		if err != nil {
			return nil, err
		}
		all = append(all, list.Items...)
		if len(list.Items) < refundPageSize {
			break
		}
	}
	return all, nil
}

// classifyRefund gives a refund's answers that classify does not know their
// meaning: 409 is "in progress" and 400 "Different request with the same
// idempotency key" is a key conflict. ok is false for any other answer.
func classifyRefund(op string, status int, api APIError) (*apperr.Error, bool) {
	if op != opRefund {
		return nil, false
	}
	switch {
	case status == http.StatusConflict:
		return &apperr.Error{Kind: apperr.Transient, Code: CodeRefundInProgress,
			Message: "Razorpay is still processing a refund with this idempotency key; it is not refused, look it up later"}, true
	case status == http.StatusBadRequest && strings.Contains(strings.ToLower(api.Description), "same idempotency key"):
		return &apperr.Error{Kind: apperr.Conflict, Code: CodeRefundKeyConflict,
			Message: "Razorpay holds another request under this refund idempotency key: " + api.Description}, true
	}
	return nil, false
}
