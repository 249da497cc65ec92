package razorpaysim

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// validRefundKey is Razorpay's rule for X-Refund-Idempotency: at least 10
// characters, each a letter, a digit, '-' or '_' (Razorpay: "Refunds API —
// Create a normal refund", X-Refund-Idempotency header).
func validRefundKey(k string) bool {
	if len(k) < 10 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// refundFingerprint is what "the same request" means for a keyed refund:
// the payment, amount, notes, receipt and speed.
func refundFingerprint(paymentID string, amount int64, nts map[string]string, receipt, speed string) string {
	keys := make([]string, 0, len(nts))
	for k := range nts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%d|%q|%q", paymentID, amount, receipt, speed)
	for _, k := range keys {
		fmt.Fprintf(&b, "|%q=%q", k, nts[k])
	}
	return b.String()
}

// refundPaging reads count (1–100, default 10) and skip (≥ 0) of a list.
func refundPaging(r *http.Request) (count, skip int, desc string) {
	count = 10
	if v := r.URL.Query().Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return 0, 0, "The count must be between 1 and 100."
		}
		count = n
	}
	if v := r.URL.Query().Get("skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, "The skip must be at least 0."
		}
		skip = n
	}
	return count, skip, ""
}
