// Package pricing is the arithmetic of plans (issue 19): what a usage or
// fixed charge costs for a quantity under each billing model, proration of
// fixed fees by the day, coupons before tax, and India's GST per line. It is
// pure (no storage, no clock); the period-close that uses it is separate.
//
// Amounts are exact decimals until a line's amount is final; then it is
// rounded once, half-up (half away from zero), to the currency's smallest
// collectable step (money.Currency.Step).
package pricing

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/money"
)

// Billing models of a usage charge.
const (
	PerUnit         = "PER_UNIT"
	Package         = "PACKAGE"
	TieredGraduated = "TIERED_GRADUATED"
	TieredVolume    = "TIERED_VOLUME"
)

// Models lists them.
var Models = []string{PerUnit, Package, TieredGraduated, TieredVolume}

// Tier is one step of a tiered price: units up to UpTo (inclusive; nil for
// the last, unbounded tier) cost UnitAmount each, plus FlatAmount once when
// the tier is reached.
type Tier struct {
	UpTo       *decimal.Decimal
	UnitAmount decimal.Decimal
	FlatAmount decimal.Decimal
}

// Price is how a quantity is charged.
type Price struct {
	Model         string
	UnitAmount    decimal.Decimal // PER_UNIT
	PackageSize   decimal.Decimal // PACKAGE: units per package (a whole number > 0)
	PackageAmount decimal.Decimal // PACKAGE: price of one package
	Tiers         []Tier          // TIERED_*
}

func invalid(field, format string, args ...any) error {
	return apperr.InvalidField("validation_failed", field, format, args...)
}

// Validate checks a price: known model, no negative amount, a whole package
// size above zero, tiers with strictly increasing bounds and only the last
// unbounded.
func (p Price) Validate() error {
	switch p.Model {
	case PerUnit:
		if p.UnitAmount.IsNegative() {
			return invalid("unit_amount", "unit_amount must not be negative")
		}
	case Package:
		if !p.PackageSize.IsPositive() || !p.PackageSize.Equal(p.PackageSize.Truncate(0)) {
			return invalid("package_size", "package_size must be a whole number above 0")
		}
		if p.PackageAmount.IsNegative() {
			return invalid("package_amount", "package_amount must not be negative")
		}
	case TieredGraduated, TieredVolume:
		if len(p.Tiers) == 0 {
			return invalid("tiers", "%s needs at least one tier", p.Model)
		}
		prev := decimal.Zero
		for i, t := range p.Tiers {
			if t.UnitAmount.IsNegative() || t.FlatAmount.IsNegative() {
				return invalid("tiers", "tier %d: amounts must not be negative", i+1)
			}
			last := i == len(p.Tiers)-1
			switch {
			case t.UpTo == nil && !last:
				return invalid("tiers", "tier %d: only the last tier may have up_to null", i+1)
			case t.UpTo != nil && last:
				return invalid("tiers", "the last tier must have up_to null (it takes every unit above the others)")
			case t.UpTo != nil && !t.UpTo.GreaterThan(prev):
				return invalid("tiers", "tier %d: up_to %s must be above the previous tier's %s", i+1, t.UpTo, prev)
			}
			if t.UpTo != nil {
				prev = *t.UpTo
			}
		}
	default:
		return invalid("model", "model must be one of %s", strings.Join(Models, ", "))
	}
	return nil
}

// Amount is the exact price of quantity q (in the currency's major units,
// unrounded). A negative quantity is refused.
func (p Price) Amount(q decimal.Decimal) (decimal.Decimal, error) {
	if q.IsNegative() {
		return decimal.Zero, fmt.Errorf("quantity %s is negative", q)
	}
	switch p.Model {
	case PerUnit:
		return q.Mul(p.UnitAmount), nil
	case Package:
		// Partial packages are rounded up: 1,001 units at 1,000 per package
		// are 2 packages. QuoRem is exact (Div rounds to 16 decimals, which
		// made 1,000,000.000000000001 units at 1,000,000 one package).
		packages, rest := q.QuoRem(p.PackageSize, 0)
		if !rest.IsZero() {
			packages = packages.Add(decimal.NewFromInt(1))
		}
		return packages.Mul(p.PackageAmount), nil
	case TieredGraduated:
		total, below := decimal.Zero, decimal.Zero
		for _, t := range p.Tiers {
			if !q.GreaterThan(below) { // a tier is reached by at least one unit in it
				break
			}
			top := q
			if t.UpTo != nil && t.UpTo.LessThan(q) {
				top = *t.UpTo
			}
			total = total.Add(top.Sub(below).Mul(t.UnitAmount)).Add(t.FlatAmount)
			if t.UpTo == nil {
				break
			}
			below = *t.UpTo
		}
		return total, nil
	case TieredVolume:
		for _, t := range p.Tiers {
			if t.UpTo == nil || !q.GreaterThan(*t.UpTo) {
				if q.IsZero() {
					return decimal.Zero, nil // no unit, no tier reached: nothing, not even a flat fee
				}
				return q.Mul(t.UnitAmount).Add(t.FlatAmount), nil
			}
		}
	}
	return decimal.Zero, fmt.Errorf("unknown model %q", p.Model)
}

// Round rounds an exact amount once, half away from zero, to minor units
// of c in steps of c.Step().
func Round(amount decimal.Decimal, c money.Currency) (int64, error) {
	return money.LineAmount(amount, decimal.NewFromInt(1), c)
}

// Prorate is the part of a fixed fee (minor units of c) for used of total
// days, rounded once, half-up, to c's step: 4999.00 for 10 of 31 days is
// 499900 × 10 / 31 = 161258.06… paise → 1612.58. Integer arithmetic, exact.
func Prorate(fee int64, used, total int, c money.Currency) (int64, error) {
	if total <= 0 || used < 0 || used > total || fee < 0 {
		return 0, fmt.Errorf("prorate %d of %d days of %d", used, total, fee)
	}
	if fee > (1<<62)/int64(total) {
		return 0, fmt.Errorf("fee %d is too large to prorate", fee)
	}
	n, d := fee*int64(used), int64(total)*c.Step()
	q, r := n/d, n%d
	if 2*r >= d {
		q++
	}
	return q * c.Step(), nil
}

// Coupon durations.
const (
	Once      = "ONCE"
	Repeating = "REPEATING"
	Forever   = "FOREVER"
)

// Coupon is a discount on a subscription's invoices, before tax.
type Coupon struct {
	PercentOff decimal.Decimal // 0 < p ≤ 100, or zero when AmountOff is set
	AmountOff  int64           // minor units, or 0 when PercentOff is set
	Duration   string
	Periods    int // REPEATING: how many periods (the first is 1)
}

// Validate checks a coupon.
func (c Coupon) Validate() error {
	switch {
	case c.PercentOff.IsZero() == (c.AmountOff == 0):
		return invalid("coupon", "a coupon has percent_off or amount_off, one of them")
	case c.PercentOff.IsNegative() || c.PercentOff.GreaterThan(decimal.NewFromInt(100)):
		return invalid("coupon.percent_off", "percent_off must be above 0 and at most 100")
	case c.AmountOff < 0:
		return invalid("coupon.amount_off", "amount_off must be above 0")
	}
	switch c.Duration {
	case Once, Forever:
	case Repeating:
		if c.Periods < 1 {
			return invalid("coupon.periods", "a REPEATING coupon needs periods ≥ 1")
		}
	default:
		return invalid("coupon.duration", "duration must be ONCE, REPEATING or FOREVER")
	}
	return nil
}

// AppliesTo reports whether the coupon applies to the period numbered
// period (1 for the subscription's first).
func (c Coupon) AppliesTo(period int) bool {
	switch c.Duration {
	case Once:
		return period == 1
	case Repeating:
		return period >= 1 && period <= c.Periods
	case Forever:
		return period >= 1
	}
	return false
}

// Discounts splits the coupon over line amounts (minor units): a percent
// off each line, rounded half-up per line; an amount off taken from the
// lines in order until used up. No line's discount exceeds the line, so no
// line goes negative; an amount off larger than the invoice is capped.
func (c Coupon) Discounts(lines []int64, cur money.Currency) ([]int64, error) {
	out := make([]int64, len(lines))
	if !c.PercentOff.IsZero() {
		for i, a := range lines {
			if a <= 0 {
				continue
			}
			d, err := Round(decimal.New(a, -int32(cur.Exponent)).Mul(c.PercentOff).Div(decimal.NewFromInt(100)), cur)
			if err != nil {
				return nil, err
			}
			out[i] = min(d, a)
		}
		return out, nil
	}
	left := c.AmountOff
	for i, a := range lines {
		if left <= 0 {
			break
		}
		if a <= 0 {
			continue
		}
		out[i] = min(a, left)
		left -= out[i]
	}
	return out, nil
}

// TaxLine is one tax of an invoice: "CGST 9%" and its amount.
type TaxLine struct {
	Name   string
	Amount int64
}

// GST computes each line's GST (amounts in minor units, after discounts)
// at its rate (percent): inter-state supply → IGST at the rate; intra-state
// → CGST and SGST at half the rate each. Each line's each tax is rounded
// half-up to the currency's step; the invoice's tax lines sum them by name,
// in the order first met.
func GST(lines []int64, rates []decimal.Decimal, intraState bool, cur money.Currency) ([]TaxLine, error) {
	if len(lines) != len(rates) {
		return nil, fmt.Errorf("%d lines, %d rates", len(lines), len(rates))
	}
	var out []TaxLine
	index := map[string]int{}
	add := func(name string, amount int64) error {
		i, ok := index[name]
		if !ok {
			i = len(out)
			index[name] = i
			out = append(out, TaxLine{Name: name})
		}
		sum, err := money.Add(out[i].Amount, amount)
		out[i].Amount = sum
		return err
	}
	hundred := decimal.NewFromInt(100)
	for i, a := range lines {
		r := rates[i]
		if r.IsNegative() || r.GreaterThan(hundred) {
			return nil, fmt.Errorf("tax rate %s%% is out of range", r)
		}
		if r.IsZero() || a == 0 {
			continue
		}
		base := decimal.New(a, -int32(cur.Exponent))
		parts := []struct {
			name string
			rate decimal.Decimal
		}{{"IGST", r}}
		if intraState {
			half := r.Div(decimal.NewFromInt(2))
			parts = parts[:0]
			parts = append(parts, struct {
				name string
				rate decimal.Decimal
			}{"CGST", half}, struct {
				name string
				rate decimal.Decimal
			}{"SGST", half})
		}
		for _, p := range parts {
			// Shift(-2) divides by 100 exactly; Div would round to 16
			// decimals, and a rate with 12 decimals, halved, needs 17.
			t, err := Round(base.Mul(p.rate).Shift(-2), cur)
			if err != nil {
				return nil, err
			}
			if err := add(p.name+" "+p.rate.String()+"%", t); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
