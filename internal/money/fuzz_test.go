package money_test

import (
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/money"
)

// Native fuzzers. `go test` runs their seeds; `go test -fuzz=FuzzParse
// ./internal/money` explores further.

var knownCodes = map[string]bool{
	"invalid_amount": true, "too_many_decimals": true, "negative_amount": true,
	"amount_overflow": true, "unknown_currency": true,
}

func fuzzCurrency(code string) money.Currency {
	if c, err := money.LookupCurrency(code); err == nil {
		return c
	}
	return money.MustCurrency("INR")
}

func checkErr(t *testing.T, what string, err error) {
	t.Helper()
	var me *money.Error
	if !errors.As(err, &me) {
		t.Fatalf("%s: error %v is a %T, not a *money.Error", what, err, err)
	}
	if !knownCodes[me.Code] {
		t.Fatalf("%s: unknown code %q", what, me.Code)
	}
	if me.Message == "" || len(me.Message) > 300 {
		t.Fatalf("%s: message of %d bytes", what, len(me.Message))
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []struct{ s, cur string }{
		{"100.00", "INR"}, {"100", "JPY"}, {"1.000", "KWD"}, {"1.005", "INR"}, {"1.5", "JPY"},
		{"-1", "INR"}, {"-0", "USD"}, {"", "INR"}, {"1.", "INR"}, {".5", "INR"}, {"1e2", "INR"},
		{"92233720368547758.07", "INR"}, {"92233720368547758.08", "INR"}, {"-92233720368547758.08", "INR"},
		{"9223372036854775807", "JPY"}, {"18446744073709551616", "JPY"}, {"007.500", "KWD"},
		{"0.0000", "BHD"}, {"1,000", "INR"}, {"ınr", "ınr"},
	} {
		f.Add(seed.s, seed.cur)
	}
	f.Fuzz(func(t *testing.T, s, code string) {
		c := fuzzCurrency(code)
		signed, serr := money.ParseSigned(s, c)
		v, err := money.Parse(s, c)
		if serr != nil {
			checkErr(t, "ParseSigned", serr)
			if err == nil {
				t.Fatalf("Parse(%q) = %d but ParseSigned failed: %v", s, v, serr)
			}
			return
		}
		// ParseSigned succeeded: Parse agrees, or refuses a negative.
		if err != nil {
			checkErr(t, "Parse", err)
			if signed >= 0 || !strings.HasPrefix(s, "-") {
				t.Fatalf("Parse(%q, %s) = %v but ParseSigned = %d", s, c, err, signed)
			}
		} else if v != signed || v < 0 {
			t.Fatalf("Parse(%q, %s) = %d, ParseSigned = %d", s, c, v, signed)
		}
		// Format of the result re-parses to the same value.
		out := money.Format(signed, c)
		back, err := money.ParseSigned(out, c)
		if err != nil || back != signed {
			t.Fatalf("ParseSigned(Format(%d) = %q, %s) = %d, %v", signed, out, c, back, err)
		}
		// And it is the exact value of the input.
		exact, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("Parse accepted %q, which big.Rat cannot read", s)
		}
		scaled := new(big.Rat).Mul(exact, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(c.Exponent)), nil)))
		if !scaled.IsInt() || scaled.Num().Cmp(big.NewInt(signed)) != 0 {
			t.Fatalf("Parse(%q, %s) = %d, exactly %s", s, c, signed, scaled.RatString())
		}
	})
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"1", "0.0015", "1234567", "-2.5", "000000000000000000001", "999999999999999",
		"1000000000000000", "0.000000000001", "0.0000000000001", "", "1.", ".5", "1e2", "+1", "-", "1.500"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := money.ParseDecimal(s)
		if err != nil {
			checkErr(t, "ParseDecimal", err)
			return
		}
		exact, ok := new(big.Rat).SetString(s)
		if !ok || exact.Cmp(d.Rat()) != 0 {
			t.Fatalf("ParseDecimal(%q) = %s, not its exact value", s, d)
		}
		// Its string form is a plain decimal that re-parses to the same value.
		back, err := money.ParseDecimal(d.String())
		if err != nil || !back.Equal(d) {
			t.Fatalf("ParseDecimal(%q) = %s; re-parsed: %s, %v", s, d, back, err)
		}
	})
}

func FuzzLineAmount(f *testing.F) {
	for _, seed := range []struct{ q, u, cur string }{
		{"1234567", "0.0015", "INR"}, {"1", "0.005", "INR"}, {"1", "0.0049", "INR"}, {"3", "33.5", "JPY"},
		{"3", "0.3335", "KWD"}, {"-1", "0.005", "USD"}, {"999999999999999", "999999999999999", "INR"},
		{"0", "1", "VND"}, {"0.000000000001", "0.000000000001", "BHD"},
	} {
		f.Add(seed.q, seed.u, seed.cur)
	}
	f.Fuzz(func(t *testing.T, qs, us, code string) {
		q, err1 := money.ParseDecimal(qs)
		u, err2 := money.ParseDecimal(us)
		if err1 != nil || err2 != nil {
			return
		}
		c := fuzzCurrency(code)
		got, err := money.LineAmount(q, u, c)
		want := refLineAmount(qs, us, c.Exponent)
		if new(big.Int).Abs(want).Cmp(halfLimit) > 0 {
			if err == nil {
				t.Fatalf("LineAmount(%s × %s %s) = %d; want amount_overflow (exact %s)", qs, us, c, got, want)
			}
			checkErr(t, "LineAmount", err)
			return
		}
		if err != nil || want.Cmp(big.NewInt(got)) != 0 {
			t.Fatalf("LineAmount(%s × %s %s) = %d, %v; want %s", qs, us, c, got, err, want)
		}
		// Commutative, and the result formats and re-parses.
		if swapped, err := money.LineAmount(u, q, c); err != nil || swapped != got {
			t.Fatalf("LineAmount(%s × %s) = %d, %v; swapped %d", qs, us, got, err, swapped)
		}
		if back, err := money.ParseSigned(money.Format(got, c), c); err != nil || back != got {
			t.Fatalf("ParseSigned(Format(%d)) = %d, %v", got, back, err)
		}
	})
}
