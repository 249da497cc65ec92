package razorpaysim

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Request fields each endpoint accepts (the documented create and cancel
// parameters, see doc.go). Anything else is refused with 400 "<field>
// is/are not required and should not be sent".
var (
	customerFields = fieldSet("name", "email", "contact", "gstin", "notes", "fail_existing")
	invoiceFields  = fieldSet("type", "description", "draft", "customer_id", "customer", "line_items", "expire_by",
		"sms_notify", "email_notify", "partial_payment", "currency", "receipt", "notes", "comment", "terms", "date")
	linkFields = fieldSet("amount", "currency", "accept_partial", "first_min_partial_amount", "expire_by", "reference_id",
		"description", "customer", "notify", "reminder_enable", "notes", "callback_url", "callback_method", "options", "upi_link")
	refundFields = fieldSet("amount", "speed", "notes", "receipt")
	noFields     = fieldSet()
)

func fieldSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// extraFields names the body's fields that allowed does not list, sorted
// ("" when there are none).
func extraFields(b body, allowed map[string]bool) string {
	var extra []string
	for k := range b {
		if !allowed[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	return strings.Join(extra, ", ")
}

// refuseExtra answers 400 when the body carries a field the endpoint does
// not accept, and reports whether it did.
func refuseExtra(w http.ResponseWriter, b body, allowed map[string]bool, linkStyle bool) bool {
	extra := extraFields(b, allowed)
	if extra == "" {
		return false
	}
	if linkStyle {
		linkBadRequest(w, "", "%s is/are not required and should not be sent", extra)
	} else {
		badRequest(w, "", "%s is/are not required and should not be sent", extra)
	}
	return true
}

// readCancelBody reads the (optional) body of a cancel call: any field in it
// is refused. ok is false when an answer was written.
func readCancelBody(w http.ResponseWriter, r *http.Request, linkStyle bool) bool {
	b, err := readBody(r)
	if err != nil {
		if linkStyle {
			linkBadRequest(w, "", "%v", err)
		} else {
			badRequest(w, "", "%v", err)
		}
		return false
	}
	return !refuseExtra(w, b, noFields, linkStyle)
}

// validCustomerName is Razorpay's customer name rule: 3–50 characters,
// letters (a–z, A–Z), digits, space, and . ' ’ / @ ( ).
func validCustomerName(name string) string {
	n := len([]rune(name))
	if n < 3 {
		return "The name must be at least 3 characters."
	}
	if n > 50 {
		return "The name may not be greater than 50 characters."
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune(" .'’/@()", r):
		default:
			return "The name format is invalid."
		}
	}
	return ""
}

// linkExpiryLimit is the latest expire_by Razorpay accepts for a link
// created at now: six months after creation.
func linkExpiryLimit(now time.Time) time.Time { return now.AddDate(0, 6, 0) }

// linkError writes a payment-link API error: Razorpay's envelope with
// field and reason null (the payment-link service does not fill them).
func linkError(w http.ResponseWriter, status int, desc string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": "BAD_REQUEST_ERROR", "description": desc, "field": nil, "source": "NA", "step": "NA",
		"reason": nil, "metadata": map[string]any{}}})
}

// linkBadRequest is a payment-link validation failure. field is kept for
// the reader of the call site; Razorpay's answer does not carry it.
func linkBadRequest(w http.ResponseWriter, field, format string, args ...any) {
	_ = field
	linkError(w, http.StatusBadRequest, fmt.Sprintf(format, args...))
}

// linkNotFound answers an unknown payment link id: 404.
func linkNotFound(w http.ResponseWriter) {
	linkError(w, http.StatusNotFound, "The id provided does not exist")
}
