// Package money is Razorbill's exact money arithmetic. Amounts are decimal
// strings at the API ("100.00") and int64 minor units everywhere else, by
// each currency's exponent (INR 2, JPY 0, KWD 3). Nothing here touches a
// float: quantities and unit prices with more digits than a currency has are
// arbitrary-precision decimals, and a line amount is rounded half-up exactly
// once, to the currency's exponent (in a three-decimal currency to a
// multiple of 10 minor units, the smallest amount Razorpay collects).
//
// The package imports nothing of Razorbill's; its errors carry a stable Code
// that the HTTP layer turns into the API's error envelope.
package money

import (
	"fmt"
	"math"
	"strings"

	"github.com/shopspring/decimal"
)

// Error is a rejected amount, with a stable code.
type Error struct {
	Code    string // invalid_amount, too_many_decimals, negative_amount, amount_overflow, unknown_currency, amount_below_minimum
	Message string
}

func (e *Error) Error() string { return e.Message }

func errf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Limits of decimal inputs (quantities and unit prices): generous for
// usage billing, small enough that no product can overflow int64 unnoticed.
const (
	MaxIntegerDigits  = 15
	MaxFractionDigits = 12
)

// clip shortens user input echoed in a message.
func clip(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// splitDecimal validates s as an unsigned or '-'-signed plain decimal
// ("12", "12.5", "-0.0015") and returns its parts.
func splitDecimal(s string) (neg bool, intPart, frac string, err *Error) {
	if s == "" {
		return false, "", "", errf("invalid_amount", "amount is empty")
	}
	t := s
	if t[0] == '-' {
		neg = true
		t = t[1:]
	}
	intPart, frac, hasDot := strings.Cut(t, ".")
	if intPart == "" || (hasDot && frac == "") {
		return false, "", "", errf("invalid_amount", "%q is not a decimal number like \"100.00\"", clip(s))
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return false, "", "", errf("invalid_amount", "%q is not a decimal number like \"100.00\"", clip(s))
			}
		}
	}
	return neg, intPart, frac, nil
}

// Parse converts a decimal string to minor units of c. It rejects more
// decimals than c has ("1.005" INR), negative amounts, overflow and anything
// that is not a plain decimal. Trailing zeros beyond the exponent are
// accepted when they carry no value ("100.000" INR is 10000).
func Parse(s string, c Currency) (int64, error) {
	v, err := ParseSigned(s, c)
	if err != nil {
		return 0, err
	}
	if v < 0 {
		return 0, errf("negative_amount", "amount %s must not be negative", clip(s))
	}
	return v, nil
}

// ParseSigned is Parse allowing a leading '-'.
func ParseSigned(s string, c Currency) (int64, error) {
	neg, intPart, frac, perr := splitDecimal(s)
	if perr != nil {
		return 0, perr
	}
	if len(frac) > c.Exponent {
		extra := frac[c.Exponent:]
		if strings.Trim(extra, "0") != "" {
			if c.Exponent == 0 {
				return 0, errf("too_many_decimals", "amount %s has decimals but %s has none", clip(s), c.Code)
			}
			return 0, errf("too_many_decimals", "amount %s has more than %d decimals, the most %s allows", clip(s), c.Exponent, c.Code)
		}
		frac = frac[:c.Exponent]
	}
	frac += strings.Repeat("0", c.Exponent-len(frac))
	digits := strings.TrimLeft(intPart+frac, "0")
	// Every int64 is accepted, down to math.MinInt64 when signed, so that
	// Parse(Format(x)) == x for all x. 19 digits always fit a uint64.
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var u uint64
	if len(digits) > 19 {
		return 0, errf("amount_overflow", "amount %s is too large", clip(s))
	}
	for i := 0; i < len(digits); i++ {
		u = u*10 + uint64(digits[i]-'0')
	}
	if u > limit {
		return 0, errf("amount_overflow", "amount %s is too large", clip(s))
	}
	if neg {
		return int64(-u), nil // -(1<<63) wraps to MinInt64, as wanted
	}
	return int64(u), nil
}

// Format renders minor units with exactly c's exponent: 10000 INR → "100.00",
// 100 JPY → "100", 1000 KWD → "1.000".
func Format(minor int64, c Currency) string {
	neg := minor < 0
	var u uint64
	if neg {
		u = uint64(-(minor + 1)) + 1 // safe for MinInt64
	} else {
		u = uint64(minor)
	}
	s := fmt.Sprintf("%d", u)
	if c.Exponent > 0 {
		if len(s) <= c.Exponent {
			s = strings.Repeat("0", c.Exponent-len(s)+1) + s
		}
		s = s[:len(s)-c.Exponent] + "." + s[len(s)-c.Exponent:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// ParseDecimal reads a quantity or unit price: a plain decimal with at most
// MaxIntegerDigits before and MaxFractionDigits after the point.
func ParseDecimal(s string) (decimal.Decimal, error) {
	_, intPart, frac, perr := splitDecimal(s)
	if perr != nil {
		return decimal.Decimal{}, perr
	}
	if len(strings.TrimLeft(intPart, "0")) > MaxIntegerDigits {
		return decimal.Decimal{}, errf("amount_overflow", "%s has more than %d digits before the point", clip(s), MaxIntegerDigits)
	}
	if len(frac) > MaxFractionDigits {
		return decimal.Decimal{}, errf("too_many_decimals", "%s has more than %d decimals", clip(s), MaxFractionDigits)
	}
	return decimal.RequireFromString(s), nil
}

// Step is the smallest amount Razorpay collects in c, in minor units: 10
// for a three-decimal currency (its amounts must end in 0), else 1.
func (c Currency) Step() int64 {
	if c.Exponent == 3 {
		return 10
	}
	return 1
}

// LineAmount is quantity × unit price in minor units of c, rounded half-up
// (away from zero at .5) once, to a multiple of c.Step(): to c's exponent,
// and in a three-decimal currency to a multiple of 0.010. It fails rather
// than overflow.
func LineAmount(quantity, unit decimal.Decimal, c Currency) (int64, error) {
	minor := quantity.Mul(unit).Shift(int32(c.Exponent))
	step := decimal.NewFromInt(c.Step())
	rounded := minor.Div(step).Round(0).Mul(step) // decimal.Round is half away from zero
	if rounded.Abs().GreaterThan(decimal.NewFromInt(math.MaxInt64 / 2)) {
		return 0, errf("amount_overflow", "line amount %s × %s is too large", quantity, unit)
	}
	return rounded.IntPart(), nil
}

// Add sums minor amounts, failing on overflow.
func Add(xs ...int64) (int64, error) {
	var s int64
	for _, x := range xs {
		if (x > 0 && s > math.MaxInt64-x) || (x < 0 && s < math.MinInt64-x) {
			return 0, errf("amount_overflow", "total is too large")
		}
		s += x
	}
	return s, nil
}

// ToRazorpay returns the integer Razorpay expects for minor units of c.
// Razorpay takes the currency's smallest unit, except that a three-decimal
// currency's amount must end in 0; such an amount is rejected, not rounded.
func ToRazorpay(minor int64, c Currency) (int64, error) {
	if minor < 0 {
		return 0, errf("negative_amount", "amount %s %s must not be negative", Format(minor, c), c.Code)
	}
	if c.Exponent == 3 && minor%10 != 0 {
		return 0, errf("invalid_amount", "amount %s %s cannot be charged: Razorpay needs the last decimal of %s to be 0", Format(minor, c), c.Code, c.Code)
	}
	return minor, nil
}

// FromRazorpay converts a Razorpay amount (already an integer in the smallest
// unit) to minor units; it is the identity, named so every boundary says so.
func FromRazorpay(amount int64) int64 { return amount }

// FromJSONFloat converts an amount decoded by encoding/json into a float64
// (as razorpay-go does) into an exact int64. It is the one place a float may
// touch an amount, and it refuses anything that is not an exact integer.
func FromJSONFloat(f float64) (int64, error) {
	// Above 2^53-1 a float64 no longer tells neighbouring integers apart
	// (9007199254740993 decodes as 9007199254740992), so it is refused.
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) >= 1<<53 {
		return 0, errf("invalid_amount", "Razorpay amount %v is not an exact integer", f)
	}
	return int64(f), nil
}

// CheckMinimum rejects an amount below the table's minimum for c.
func CheckMinimum(minor int64, c Currency, t *Minimums) error {
	if min := t.Of(c); minor < min {
		return errf("amount_below_minimum", "amount %s %s is below Razorpay's minimum of %s %s", Format(minor, c), c.Code, Format(min, c), c.Code)
	}
	return nil
}

// parseMinorInt parses a non-negative integer string of digits only: a
// minimum spec "INR=1.00" is refused rather than read as 1 paisa.
func parseMinorInt(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, ".") {
		return 0, errf("invalid_amount", "%q is not a whole number of minor units", clip(s))
	}
	return Parse(s, Currency{Exponent: 0})
}
