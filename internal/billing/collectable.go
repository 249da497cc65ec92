package billing

import (
	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/money"
)

// CheckCollectable refuses to freeze an invoice that Razorpay could never
// collect: a total above zero but below the currency's minimum (409
// amount_below_minimum), or a three-decimal total that is not a multiple of
// 10 minor units (possible only for a draft created before line amounts
// were rounded to one; 409 amount_not_collectable). A zero total passes:
// it is paid at once and never sent to Razorpay.
func (inv Invoice) CheckCollectable(t *money.Minimums) error {
	if inv.AmountDue == 0 {
		return nil
	}
	cur, err := money.LookupCurrency(inv.Currency)
	if err != nil {
		return apperr.E(apperr.Internal, "", "invoice %s has currency %q: %v", inv.ID, inv.Currency, err)
	}
	if err := money.CheckMinimum(inv.AmountDue, cur, t); err != nil {
		return apperr.E(apperr.Conflict, "amount_below_minimum", "invoice %s: %v", inv.ID, err).
			WithDetails(map[string]any{"amount_due": money.Format(inv.AmountDue, cur), "minimum": money.Format(t.Of(cur), cur)})
	}
	if _, err := money.ToRazorpay(inv.AmountDue, cur); err != nil {
		return apperr.E(apperr.Conflict, "amount_not_collectable", "invoice %s: %v", inv.ID, err)
	}
	return nil
}
