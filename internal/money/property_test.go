package money_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/money"
	"github.com/shopspring/decimal"
)

// Property tests: a fixed seed so a failure reproduces, many iterations.

func rng() *rand.Rand { return rand.New(rand.NewPCG(20260101, 42)) }

func iterations(n int) int {
	if testing.Short() {
		return n / 10
	}
	return n
}

// randMinor draws minor amounts with weight on the edges: 0, small values,
// powers of ten and their neighbours, and the int64 bounds.
func randMinor(r *rand.Rand) int64 {
	switch r.IntN(6) {
	case 0:
		return []int64{0, 1, -1, 9, 10, 99, 100, 999, 1000, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1}[r.IntN(13)]
	case 1:
		p := int64(1)
		for i := r.IntN(19); i > 0; i-- {
			p *= 10
		}
		return p + int64(r.IntN(3)) - 1
	case 2:
		return r.Int64N(100000)
	case 3:
		return -r.Int64N(100000)
	case 4:
		return -r.Int64() - int64(r.IntN(2))
	}
	return r.Int64()
}

func canonicalRe(c money.Currency) *regexp.Regexp {
	if c.Exponent == 0 {
		return regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)
	}
	return regexp.MustCompile(`^-?(0|[1-9][0-9]*)\.[0-9]{` + string(rune('0'+c.Exponent)) + `}$`)
}

// TestFormatParseIdentity: ParseSigned(Format(x)) == x for every currency
// and x, and Parse agrees for x >= 0; Format's output is canonical.
func TestFormatParseIdentity(t *testing.T) {
	r := rng()
	n := iterations(1000)
	for _, c := range money.Currencies() {
		re := canonicalRe(c)
		for i := 0; i < n; i++ {
			x := randMinor(r)
			s := money.Format(x, c)
			if !re.MatchString(s) {
				t.Fatalf("Format(%d, %s) = %q is not canonical", x, c, s)
			}
			got, err := money.ParseSigned(s, c)
			if err != nil || got != x {
				t.Fatalf("ParseSigned(Format(%d, %s) = %q) = %d, %v", x, c, s, got, err)
			}
			got, err = money.Parse(s, c)
			switch {
			case x >= 0 && (err != nil || got != x):
				t.Fatalf("Parse(%q, %s) = %d, %v; want %d", s, c, got, err, x)
			case x < 0 && codeOf(t, err) != "negative_amount":
				t.Fatalf("Parse(%q, %s) = %d, %v; want negative_amount", s, c, got, err)
			}
		}
	}
}

// randCanonical builds a canonical amount string of c: no leading zeros,
// exactly c.Exponent decimals, at most maxInt integer digits.
func randCanonical(r *rand.Rand, c money.Currency, maxInt int) string {
	var b strings.Builder
	if r.IntN(5) == 0 {
		b.WriteByte('0')
	} else {
		b.WriteByte(byte('1' + r.IntN(9)))
		for i := r.IntN(maxInt); i > 0; i-- {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
	}
	if c.Exponent > 0 {
		b.WriteByte('.')
		for i := 0; i < c.Exponent; i++ {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
	}
	return b.String()
}

// TestParseFormatIdentity: Format(Parse(s)) == s on canonical strings, and
// padding with leading or trailing zeros changes nothing.
func TestParseFormatIdentity(t *testing.T) {
	r := rng()
	n := iterations(800)
	for _, c := range money.Currencies() {
		for i := 0; i < n; i++ {
			s := randCanonical(r, c, 15)
			v, err := money.Parse(s, c)
			if err != nil {
				t.Fatalf("Parse(%q, %s): %v", s, c, err)
			}
			if got := money.Format(v, c); got != s {
				t.Fatalf("Format(Parse(%q, %s)) = %q", s, c, got)
			}
			if s != "0" && !strings.HasPrefix(s, "0.") {
				if neg, err := money.ParseSigned("-"+s, c); err != nil || neg != -v || money.Format(neg, c) != "-"+s {
					t.Fatalf("ParseSigned(-%s, %s) = %d, %v", s, c, neg, err)
				}
			}
			// Leading zeros, and zeros after the point, carry no value.
			padded := strings.Repeat("0", r.IntN(4)) + s
			if r.IntN(2) == 0 {
				if c.Exponent == 0 {
					padded += "."
				}
				padded += strings.Repeat("0", 1+r.IntN(3))
			}
			if pv, err := money.Parse(padded, c); err != nil || pv != v {
				t.Fatalf("Parse(%q, %s) = %d, %v; want %d like %q", padded, c, pv, err, v, s)
			}
		}
	}
}

// TestSumOfLinesLosesNothing: the sum of line items in minor units equals
// the exact decimal sum of their strings, parsed. No minor unit is lost or
// made up, whatever the currency and however many lines.
func TestSumOfLinesLosesNothing(t *testing.T) {
	r := rng()
	n := iterations(60)
	for _, c := range money.Currencies() {
		scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(c.Exponent)), nil)
		for i := 0; i < n; i++ {
			lines := 1 + r.IntN(60)
			var minors []int64
			exact := new(big.Rat)
			dsum := decimal.Zero
			for j := 0; j < lines; j++ {
				s := randCanonical(r, c, 12) // 60 lines stay well inside int64
				v, err := money.Parse(s, c)
				if err != nil {
					t.Fatalf("Parse(%q, %s): %v", s, c, err)
				}
				minors = append(minors, v)
				q, ok := new(big.Rat).SetString(s)
				if !ok {
					t.Fatalf("big.Rat cannot read %q", s)
				}
				exact.Add(exact, q)
				dsum = dsum.Add(decimal.RequireFromString(s))
			}
			total, err := money.Add(minors...)
			if err != nil {
				t.Fatalf("Add: %v", err)
			}
			// The exact sum, in minor units, is an integer equal to total.
			m := new(big.Rat).Mul(exact, new(big.Rat).SetInt(scale))
			if !m.IsInt() || m.Num().Cmp(big.NewInt(total)) != 0 {
				t.Fatalf("%s: lines sum to %d minor units, exactly %s", c, total, m.RatString())
			}
			// The decimal sum, formatted and parsed, is the same total.
			back, err := money.Parse(dsum.StringFixed(int32(c.Exponent)), c)
			if err != nil || back != total {
				t.Fatalf("%s: Parse(%s) = %d, %v; want %d", c, dsum.StringFixed(int32(c.Exponent)), back, err, total)
			}
			if money.Format(total, c) != dsum.StringFixed(int32(c.Exponent)) {
				t.Fatalf("%s: Format(%d) = %s, decimal sum %s", c, total, money.Format(total, c), dsum.StringFixed(int32(c.Exponent)))
			}
		}
	}
}

// refLineAmount is LineAmount computed independently with big.Rat:
// q × u × 10^exp, rounded half away from zero to a whole number of steps
// (10 minor units in a three-decimal currency, else 1).
func refLineAmount(q, u string, exp int) *big.Int {
	a, _ := new(big.Rat).SetString(q)
	b, _ := new(big.Rat).SetString(u)
	x := new(big.Rat).Mul(a, b)
	scale := exp
	if exp == 3 {
		scale = 2 // count in steps of 10 minor units
	}
	x.Mul(x, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	num, den := new(big.Int).Abs(x.Num()), x.Denom()
	quo, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Lsh(rem, 1).Cmp(den) >= 0 {
		quo.Add(quo, big.NewInt(1))
	}
	if x.Sign() < 0 {
		quo.Neg(quo)
	}
	if exp == 3 {
		quo.Mul(quo, big.NewInt(10))
	}
	return quo
}

func randDecimalString(r *rand.Rand, maxInt, maxFrac int) string {
	var b strings.Builder
	if r.IntN(8) == 0 {
		b.WriteByte('-')
	}
	ni := 1 + r.IntN(maxInt)
	for i := 0; i < ni; i++ {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	if nf := r.IntN(maxFrac + 1); nf > 0 {
		b.WriteByte('.')
		for i := 0; i < nf; i++ {
			// weight on 5s and 0s so exact halves turn up often
			b.WriteByte("0123456789555000"[r.IntN(16)])
		}
	}
	return b.String()
}

var halfLimit = big.NewInt(math.MaxInt64 / 2)

// TestLineAmountMatchesReference compares LineAmount with the big.Rat
// reference on random quantities and prices, including exact halves, and
// checks that line amounts add up without losing a minor unit.
func TestLineAmountMatchesReference(t *testing.T) {
	r := rng()
	n := iterations(20000)
	all := money.Currencies()
	for i := 0; i < n; i++ {
		c := all[r.IntN(len(all))]
		maxInt := 8
		if r.IntN(10) == 0 {
			maxInt = money.MaxIntegerDigits
		}
		qs := randDecimalString(r, maxInt, money.MaxFractionDigits)
		us := randDecimalString(r, maxInt, money.MaxFractionDigits)
		q, err1 := money.ParseDecimal(qs)
		u, err2 := money.ParseDecimal(us)
		if err1 != nil || err2 != nil {
			t.Fatalf("ParseDecimal(%q, %q): %v, %v", qs, us, err1, err2)
		}
		got, err := money.LineAmount(q, u, c)
		want := refLineAmount(qs, us, c.Exponent)
		if new(big.Int).Abs(want).Cmp(halfLimit) > 0 {
			if codeOf(t, err) != "amount_overflow" {
				t.Fatalf("LineAmount(%s × %s %s) = %d, %v; want amount_overflow (exact %s)", qs, us, c, got, err, want)
			}
			continue
		}
		if err != nil || want.Cmp(big.NewInt(got)) != 0 {
			t.Fatalf("LineAmount(%s × %s %s) = %d, %v; want %s", qs, us, c, got, err, want)
		}
	}
}

// TestInvoiceTotalIsSumOfLines: an invoice built from random usage lines
// totals exactly the sum of its rounded lines, and formatting each line
// and re-parsing it gives the same total.
func TestInvoiceTotalIsSumOfLines(t *testing.T) {
	r := rng()
	n := iterations(2000)
	all := money.Currencies()
	for i := 0; i < n; i++ {
		c := all[r.IntN(len(all))]
		var lines []int64
		sum := new(big.Int)
		for j := 1 + r.IntN(50); j > 0; j-- {
			qs := strings.TrimPrefix(randDecimalString(r, 7, 4), "-")
			us := strings.TrimPrefix(randDecimalString(r, 5, 6), "-")
			v, err := money.LineAmount(mustDec(t, qs), mustDec(t, us), c)
			if err != nil {
				t.Fatalf("LineAmount(%s × %s %s): %v", qs, us, c, err)
			}
			lines = append(lines, v)
			sum.Add(sum, refLineAmount(qs, us, c.Exponent))
		}
		total, err := money.Add(lines...)
		if err != nil || sum.Cmp(big.NewInt(total)) != 0 {
			t.Fatalf("%s: Add(lines) = %d, %v; big sum %s", c, total, err, sum)
		}
		var reparsed []int64
		for _, v := range lines {
			p, err := money.Parse(money.Format(v, c), c)
			if err != nil {
				t.Fatal(err)
			}
			reparsed = append(reparsed, p)
		}
		if again, _ := money.Add(reparsed...); again != total {
			t.Fatalf("%s: re-parsed lines total %d, want %d", c, again, total)
		}
	}
}
