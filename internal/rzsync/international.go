package rzsync

import (
	"context"
	"strings"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/razorpay"
)

// internationalMarker is a store that can record what a refusal taught.
type internationalMarker interface {
	MarkConnectionInternational(ctx context.Context, sc billing.Scope, on bool) error
}

// InternationalRefusal turns Razorpay's refusal of a non-INR invoice or
// payment link on an account without international payments into 409
// international_not_enabled, and records it on the connection (when st can)
// so that the next non-INR request is refused before anything is written.
// It is the fallback for connections whose PUT did not probe the account
// (stored before the probe existed) and for accounts that lost
// international payments after it. Any other error is returned as is.
func InternationalRefusal(ctx context.Context, st any, sc billing.Scope, currency string, err error) error {
	if err == nil || !razorpay.IsInternationalNotEnabled(err) || strings.EqualFold(currency, "INR") {
		return err
	}
	if m, ok := st.(internationalMarker); ok {
		_ = m.MarkConnectionInternational(ctx, sc, false) // best effort: the refusal is reported either way
	}
	off := false
	refusal := billing.Connection{International: &off}.CheckCurrency(currency)
	if e := apperr.As(refusal); e != nil {
		return e.WithCause(err)
	}
	return err // an INR request: not this refusal, whatever its words
}
