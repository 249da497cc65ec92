package money_test

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/razorbill/razorbill/internal/money"
	"github.com/shopspring/decimal"
)

// codeOf returns the money.Error code of err, or "" when err is not one.
func codeOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var me *money.Error
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T) is not a *money.Error", err, err)
	}
	if me.Error() != me.Message {
		t.Errorf("Error() = %q, want the message %q", me.Error(), me.Message)
	}
	if me.Message == "" {
		t.Errorf("error with code %s has no message", me.Code)
	}
	return me.Code
}

var (
	classTwo   = []string{"INR", "USD", "EUR", "GBP", "AED", "SGD"}
	classZero  = []string{"JPY", "KRW", "VND", "CLP", "ISK", "PYG", "UGX", "XAF", "XOF"}
	classThree = []string{"KWD", "BHD", "OMR", "JOD", "TND", "IQD"}
)

func TestExponentClasses(t *testing.T) {
	for exp, codes := range map[int][]string{2: classTwo, 0: classZero, 3: classThree} {
		for _, code := range codes {
			c, err := money.LookupCurrency(code)
			if err != nil {
				t.Fatalf("LookupCurrency(%q): %v", code, err)
			}
			if c.Exponent != exp || c.Code != code {
				t.Errorf("LookupCurrency(%q) = %+v, want exponent %d", code, c, exp)
			}
		}
	}
}

type parseCase struct {
	in   string
	cur  string
	want int64
	code string // expected error code; "" for success
}

var parseCases = []parseCase{
	// two decimals
	{"100.00", "INR", 10000, ""},
	{"100", "INR", 10000, ""},
	{"100.5", "INR", 10050, ""},
	{"0", "INR", 0, ""},
	{"0.00", "INR", 0, ""},
	{"0.01", "INR", 1, ""},
	{"0.10", "INR", 10, ""},
	{"1.50", "USD", 150, ""},
	{"1.5", "USD", 150, ""},
	{"0.01", "USD", 1, ""},
	// trailing zeros beyond the exponent carry no value
	{"100.000", "INR", 10000, ""},
	{"100.0000000000", "INR", 10000, ""},
	{"1.50000", "USD", 150, ""},
	// leading zeros
	{"007.50", "INR", 750, ""},
	{"00", "INR", 0, ""},
	{"0000000000000000000000000001.00", "INR", 100, ""},
	// the int64 bounds
	{"92233720368547758.07", "INR", math.MaxInt64, ""},
	{"092233720368547758.070", "INR", math.MaxInt64, ""},
	{"92233720368547758.08", "INR", 0, "amount_overflow"},
	{"100000000000000000", "INR", 0, "amount_overflow"},
	{"99999999999999999999999999999999", "INR", 0, "amount_overflow"},
	{strings.Repeat("9", 5000), "INR", 0, "amount_overflow"},
	// too many decimals
	{"1.005", "INR", 0, "too_many_decimals"},
	{"1.0050", "INR", 0, "too_many_decimals"},
	{"0.001", "USD", 0, "too_many_decimals"},
	{"1.0000000000001", "INR", 0, "too_many_decimals"},

	// zero decimals
	{"100", "JPY", 100, ""},
	{"100.0", "JPY", 100, ""},
	{"100.00", "JPY", 100, ""},
	{"0", "JPY", 0, ""},
	{"1000", "KRW", 1000, ""},
	{"25000", "VND", 25000, ""},
	{"990", "CLP", 990, ""},
	{"15", "ISK", 15, ""},
	{"9223372036854775807", "JPY", math.MaxInt64, ""},
	{"9223372036854775808", "JPY", 0, "amount_overflow"},
	{"18446744073709551616", "JPY", 0, "amount_overflow"}, // 2^64: must not wrap
	{"1.5", "JPY", 0, "too_many_decimals"},
	{"0.1", "KRW", 0, "too_many_decimals"},
	{"1.01", "VND", 0, "too_many_decimals"},

	// three decimals
	{"1.000", "KWD", 1000, ""},
	{"1", "KWD", 1000, ""},
	{"1.5", "KWD", 1500, ""},
	{"0.001", "KWD", 1, ""},
	{"1.0000", "KWD", 1000, ""},
	{"2.125", "BHD", 2125, ""},
	{"3.25", "OMR", 3250, ""},
	{"0.010", "JOD", 10, ""},
	{"7", "TND", 7000, ""},
	{"1000", "IQD", 1000000, ""},
	{"9223372036854775.807", "KWD", math.MaxInt64, ""},
	{"9223372036854775.808", "KWD", 0, "amount_overflow"},
	{"1.0005", "KWD", 0, "too_many_decimals"},
	{"0.0001", "BHD", 0, "too_many_decimals"},

	// negatives
	{"-1", "INR", 0, "negative_amount"},
	{"-0.01", "INR", 0, "negative_amount"},
	{"-100", "JPY", 0, "negative_amount"},
	{"-1.000", "KWD", 0, "negative_amount"},
	{"-0", "INR", 0, ""}, // minus zero is zero, not negative

	// not a plain decimal
	{"", "INR", 0, "invalid_amount"},
	{"1.", "INR", 0, "invalid_amount"},
	{".5", "INR", 0, "invalid_amount"},
	{".", "INR", 0, "invalid_amount"},
	{"-", "INR", 0, "invalid_amount"},
	{"-.5", "INR", 0, "invalid_amount"},
	{"--1", "INR", 0, "invalid_amount"},
	{"1e2", "INR", 0, "invalid_amount"},
	{"1E2", "INR", 0, "invalid_amount"},
	{"+1", "INR", 0, "invalid_amount"},
	{" 1", "INR", 0, "invalid_amount"},
	{"1 ", "INR", 0, "invalid_amount"},
	{"1\n", "INR", 0, "invalid_amount"},
	{"1,000", "INR", 0, "invalid_amount"},
	{"1,5", "INR", 0, "invalid_amount"},
	{"1_000", "INR", 0, "invalid_amount"},
	{"1.2.3", "INR", 0, "invalid_amount"},
	{"abc", "INR", 0, "invalid_amount"},
	{"NaN", "INR", 0, "invalid_amount"},
	{"Inf", "INR", 0, "invalid_amount"},
	{"0x10", "INR", 0, "invalid_amount"},
	{"١٠٠", "INR", 0, "invalid_amount"}, // Arabic-Indic digits
	{"１００", "INR", 0, "invalid_amount"}, // full-width digits
	{"₹100", "INR", 0, "invalid_amount"},
	{"100 INR", "INR", 0, "invalid_amount"},
	{"1.", "JPY", 0, "invalid_amount"},
	{"1e3", "KWD", 0, "invalid_amount"},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		c := money.MustCurrency(tc.cur)
		got, err := money.Parse(tc.in, c)
		name := clipName(tc.in) + " " + tc.cur
		if code := codeOf(t, err); code != tc.code {
			t.Errorf("Parse(%s) error code = %q (%v), want %q", name, code, err, tc.code)
			continue
		}
		if err == nil && got != tc.want {
			t.Errorf("Parse(%s) = %d, want %d", name, got, tc.want)
		}
		if err != nil && got != 0 {
			t.Errorf("Parse(%s) returned %d alongside an error", name, got)
		}
	}
}

func clipName(s string) string {
	if len(s) > 30 {
		return s[:30] + "…"
	}
	return s
}

func TestParseErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		in, cur string
		want    []string
	}{
		{"1.005", "INR", []string{"1.005", "2 decimals", "INR"}},
		{"1.5", "JPY", []string{"1.5", "JPY", "none"}},
		{"1.0005", "KWD", []string{"1.0005", "3 decimals", "KWD"}},
		{"-5", "INR", []string{"-5", "negative"}},
		{"1e2", "INR", []string{`"1e2"`, "100.00"}},
		{"99999999999999999999", "INR", []string{"99999999999999999999", "too large"}},
	} {
		_, err := money.Parse(tc.in, money.MustCurrency(tc.cur))
		if err == nil {
			t.Fatalf("Parse(%q, %s) succeeded", tc.in, tc.cur)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Parse(%q, %s) message %q does not mention %q", tc.in, tc.cur, err, w)
			}
		}
	}
	// A huge input is not echoed back whole.
	_, err := money.Parse(strings.Repeat("1", 100000)+"x", money.MustCurrency("INR"))
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("message for a 100 kB input is %d bytes", len(err.Error()))
	}
	_, err = money.Parse(strings.Repeat("1", 100000), money.MustCurrency("INR"))
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("overflow message for a 100 kB input is %d bytes", len(err.Error()))
	}
}

func TestParseSigned(t *testing.T) {
	inr, jpy, kwd := money.MustCurrency("INR"), money.MustCurrency("JPY"), money.MustCurrency("KWD")
	for _, tc := range []struct {
		in   string
		c    money.Currency
		want int64
		code string
	}{
		{"-1", inr, -100, ""},
		{"-0.01", inr, -1, ""},
		{"-0", inr, 0, ""},
		{"-92233720368547758.08", inr, math.MinInt64, ""},
		{"-92233720368547758.09", inr, 0, "amount_overflow"},
		{"92233720368547758.08", inr, 0, "amount_overflow"},
		{"-9223372036854775808", jpy, math.MinInt64, ""},
		{"-9223372036854775809", jpy, 0, "amount_overflow"},
		{"-1.5", jpy, 0, "too_many_decimals"},
		{"-1.0005", kwd, 0, "too_many_decimals"},
		{"-1.001", kwd, -1001, ""},
		{"--1", inr, 0, "invalid_amount"},
		{"-", inr, 0, "invalid_amount"},
		{"-1.", inr, 0, "invalid_amount"},
	} {
		got, err := money.ParseSigned(tc.in, tc.c)
		if code := codeOf(t, err); code != tc.code {
			t.Errorf("ParseSigned(%q, %s) code = %q (%v), want %q", tc.in, tc.c, code, err, tc.code)
			continue
		}
		if err == nil && got != tc.want {
			t.Errorf("ParseSigned(%q, %s) = %d, want %d", tc.in, tc.c, got, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		minor int64
		cur   string
		want  string
	}{
		{10000, "INR", "100.00"},
		{0, "INR", "0.00"},
		{1, "INR", "0.01"},
		{10, "INR", "0.10"},
		{99, "USD", "0.99"},
		{100, "USD", "1.00"},
		{185185, "INR", "1851.85"},
		{-1, "INR", "-0.01"},
		{-150, "USD", "-1.50"},
		{math.MaxInt64, "INR", "92233720368547758.07"},
		{math.MinInt64, "INR", "-92233720368547758.08"},
		{100, "JPY", "100"},
		{0, "JPY", "0"},
		{-7, "KRW", "-7"},
		{math.MaxInt64, "JPY", "9223372036854775807"},
		{math.MinInt64, "JPY", "-9223372036854775808"},
		{1000, "KWD", "1.000"},
		{1, "KWD", "0.001"},
		{0, "KWD", "0.000"},
		{1500, "BHD", "1.500"},
		{-10, "OMR", "-0.010"},
		{math.MaxInt64, "KWD", "9223372036854775.807"},
		{math.MinInt64, "KWD", "-9223372036854775.808"},
	} {
		if got := money.Format(tc.minor, money.MustCurrency(tc.cur)); got != tc.want {
			t.Errorf("Format(%d, %s) = %q, want %q", tc.minor, tc.cur, got, tc.want)
		}
	}
}

func TestLookupCurrency(t *testing.T) {
	for _, in := range []string{"inr", "Inr", "INR", "iNr", " inr ", "\tINR\n"} {
		c, err := money.LookupCurrency(in)
		if err != nil || c.Code != "INR" || c.Exponent != 2 {
			t.Errorf("LookupCurrency(%q) = %+v, %v", in, c, err)
		}
	}
	if c := money.MustCurrency("jpy"); c.Code != "JPY" || c.Lower() != "jpy" || c.String() != "JPY" {
		t.Errorf("MustCurrency(jpy) = %+v (Lower %q, String %q)", c, c.Lower(), c.String())
	}
	for _, in := range []string{
		"XXX", "", " ", "IN", "INRR", "I N R", "123", "inr\x00",
		"ınr",      // dotless ı upper-cases to I
		"uſd",      // long ſ upper-cases to S
		"ｉｎｒ",      // full-width
		"X\u0301X", // combining mark
	} {
		c, err := money.LookupCurrency(in)
		if err == nil {
			t.Errorf("LookupCurrency(%q) = %+v, want an error", in, c)
			continue
		}
		if code := codeOf(t, err); code != "unknown_currency" {
			t.Errorf("LookupCurrency(%q) code = %q, want unknown_currency", in, code)
		}
	}
	if _, err := money.LookupCurrency(""); !strings.Contains(err.Error(), "required") {
		t.Errorf("LookupCurrency(\"\") = %v, want it to say a currency is required", err)
	}
	if _, err := money.LookupCurrency("XXX"); !strings.Contains(err.Error(), `"XXX"`) {
		t.Errorf("LookupCurrency(XXX) = %v, want it to name the code", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustCurrency(XXX) did not panic")
		}
	}()
	money.MustCurrency("XXX")
}

func TestCurrencies(t *testing.T) {
	all := money.Currencies()
	if len(all) < 120 {
		t.Errorf("Currencies() has %d currencies, want at least 120", len(all))
	}
	classes := map[int]int{}
	seen := map[string]bool{}
	for i, c := range all {
		classes[c.Exponent]++
		if seen[c.Code] {
			t.Errorf("%s listed twice", c.Code)
		}
		seen[c.Code] = true
		if i > 0 && all[i-1].Code >= c.Code {
			t.Errorf("Currencies() not sorted at %s, %s", all[i-1].Code, c.Code)
		}
		if len(c.Code) != 3 || strings.ToUpper(c.Code) != c.Code || strings.Trim(c.Code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			t.Errorf("code %q is not three upper-case letters", c.Code)
		}
		if c.Exponent != 0 && c.Exponent != 2 && c.Exponent != 3 {
			t.Errorf("%s has exponent %d", c.Code, c.Exponent)
		}
		if got, err := money.LookupCurrency(c.Lower()); err != nil || got != c {
			t.Errorf("LookupCurrency(%q) = %+v, %v; want %+v", c.Lower(), got, err, c)
		}
	}
	for _, exp := range []int{0, 2, 3} {
		if classes[exp] == 0 {
			t.Errorf("no currency with exponent %d", exp)
		}
	}
	for _, code := range append(append(append([]string{}, classTwo...), classZero...), classThree...) {
		if !seen[code] {
			t.Errorf("%s missing from Currencies()", code)
		}
	}
	// The result is a copy: changing it changes nothing.
	all[0].Exponent = 9
	if money.Currencies()[0].Exponent == 9 {
		t.Error("Currencies() returned shared state")
	}
}

func mustDec(t testing.TB, s string) decimal.Decimal {
	t.Helper()
	d, err := money.ParseDecimal(s)
	if err != nil {
		t.Fatalf("ParseDecimal(%q): %v", s, err)
	}
	return d
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		code string
	}{
		{"1", "1", ""},
		{"0.0015", "0.0015", ""},
		{"1234567", "1234567", ""},
		{"-2.5", "-2.5", ""},
		{"0", "0", ""},
		{"1.500", "1.5", ""},
		{"000000000000000000000001", "1", ""}, // leading zeros are not digits of value
		{"999999999999999", "999999999999999", ""},
		{"0.000000000001", "0.000000000001", ""},
		{"1000000000000000", "", "amount_overflow"},
		{"0.0000000000001", "", "too_many_decimals"},
		{"", "", "invalid_amount"},
		{"1.", "", "invalid_amount"},
		{".5", "", "invalid_amount"},
		{"1e2", "", "invalid_amount"},
		{"+1", "", "invalid_amount"},
		{" 1", "", "invalid_amount"},
		{"1,000", "", "invalid_amount"},
		{"abc", "", "invalid_amount"},
	} {
		d, err := money.ParseDecimal(tc.in)
		if code := codeOf(t, err); code != tc.code {
			t.Errorf("ParseDecimal(%q) code = %q (%v), want %q", tc.in, code, err, tc.code)
			continue
		}
		if err == nil && !d.Equal(decimal.RequireFromString(tc.want)) {
			t.Errorf("ParseDecimal(%q) = %s, want %s", tc.in, d, tc.want)
		}
	}
}

func TestLineAmount(t *testing.T) {
	for _, tc := range []struct {
		qty, unit, cur string
		want           int64
		code           string
	}{
		// 1234567 × 0.0015 = 1851.8505 INR = 185185.05 paise → 185185
		{"1234567", "0.0015", "INR", 185185, ""},
		{"1", "100.00", "INR", 10000, ""},
		{"3", "0.333", "INR", 100, ""}, // 0.999 → 99.9 paise → 100
		// half-up at exactly .5 of a minor unit
		{"1", "0.005", "INR", 1, ""},
		{"1", "0.0049", "INR", 0, ""},
		{"1", "0.004999999999", "INR", 0, ""},
		{"1", "0.015", "INR", 2, ""},
		{"1", "0.025", "INR", 3, ""}, // half-up, not half-to-even
		{"0.5", "0.01", "USD", 1, ""},
		{"2", "0.0025", "USD", 1, ""},
		// negative lines (credits) round half away from zero
		{"-1", "0.005", "INR", -1, ""},
		{"1", "-0.0049", "INR", 0, ""},
		{"-1", "-0.005", "INR", 1, ""},
		// zero decimals
		{"3", "33.5", "JPY", 101, ""}, // 100.5 → 101
		{"2", "0.25", "JPY", 1, ""},   // 0.5 → 1
		{"1", "0.49", "JPY", 0, ""},
		{"1000", "1.2345", "KRW", 1235, ""}, // 1234.5 → 1235
		{"7", "100", "VND", 700, ""},
		// three decimals: half-up once to a multiple of 0.010 (10 fils)
		{"3", "0.3335", "KWD", 1000, ""}, // 1.0005 → 1000.5 fils → 1000
		{"1", "1.005", "KWD", 1010, ""},  // 1005 fils → 1010
		{"1", "1.0049", "KWD", 1000, ""}, // 1004.9 fils → 1000, not 1005 → 1010
		{"1", "0.0004", "KWD", 0, ""},
		{"1", "0.0049", "KWD", 0, ""},
		{"1", "0.005", "OMR", 10, ""},
		{"-1", "0.005", "JOD", -10, ""},
		{"1234567", "0.0015", "BHD", 1851850, ""}, // 1851.8505 → 1851.850
		{"7", "0.0021", "TND", 10, ""},            // 14.7 baisa → 10
		{"1", "0.015", "IQD", 20, ""},
		{"2", "1.5", "BHD", 3000, ""},
		// zero
		{"0", "123.45", "INR", 0, ""},
		{"1000000", "0", "INR", 0, ""},
		// overflow: 10^15 × 10^15
		{"999999999999999", "999999999999999", "INR", 0, "amount_overflow"},
		{"999999999999999", "999999999999999", "JPY", 0, "amount_overflow"},
		{"-999999999999999", "999999999999999", "KWD", 0, "amount_overflow"},
		{"999999999999999", "1000", "INR", 0, "amount_overflow"},
		{"999999999999999", "1000", "JPY", 999999999999999000, ""},
		{"999999999999999", "10000", "JPY", 0, "amount_overflow"}, // over the MaxInt64/2 headroom
		{"999999999999999", "1", "KWD", 999999999999999000, ""},
	} {
		cur := money.MustCurrency(tc.cur)
		got, err := money.LineAmount(mustDec(t, tc.qty), mustDec(t, tc.unit), cur)
		if code := codeOf(t, err); code != tc.code {
			t.Errorf("LineAmount(%s × %s %s) code = %q (%v), want %q", tc.qty, tc.unit, tc.cur, code, err, tc.code)
			continue
		}
		if err == nil && got != tc.want {
			t.Errorf("LineAmount(%s × %s %s) = %d, want %d", tc.qty, tc.unit, tc.cur, got, tc.want)
		}
	}
	inr := money.MustCurrency("INR")
	if got, _ := money.LineAmount(mustDec(t, "1234567"), mustDec(t, "0.0015"), inr); money.Format(got, inr) != "1851.85" {
		t.Errorf("1234567 × 0.0015 INR formats as %s, want 1851.85", money.Format(got, inr))
	}
	// LineAmount keeps a headroom of half the int64 range so that a few
	// lines can always be summed; the bound is exact.
	jpy := money.MustCurrency("JPY")
	half := decimal.NewFromInt(math.MaxInt64 / 2)
	if got, err := money.LineAmount(half, decimal.NewFromInt(1), jpy); err != nil || got != math.MaxInt64/2 {
		t.Errorf("LineAmount(MaxInt64/2) = %d, %v", got, err)
	}
	if _, err := money.LineAmount(half.Add(decimal.NewFromInt(1)), decimal.NewFromInt(1), jpy); codeOf(t, err) != "amount_overflow" {
		t.Errorf("LineAmount(MaxInt64/2+1) = %v, want amount_overflow", err)
	}
	if got, err := money.LineAmount(half.Neg(), decimal.NewFromInt(1), jpy); err != nil || got != -(math.MaxInt64/2) {
		t.Errorf("LineAmount(-MaxInt64/2) = %d, %v", got, err)
	}
	// A product that rounds up to the bound is still caught.
	if _, err := money.LineAmount(half.Add(decimal.RequireFromString("0.5")), decimal.NewFromInt(1), jpy); codeOf(t, err) != "amount_overflow" {
		t.Errorf("LineAmount(MaxInt64/2 + 0.5) = %v, want amount_overflow", err)
	}
}

func TestToRazorpay(t *testing.T) {
	for _, tc := range []struct {
		minor int64
		cur   string
		want  int64
		code  string
	}{
		{10000, "INR", 10000, ""},
		{1, "USD", 1, ""},
		{0, "INR", 0, ""},
		{100, "JPY", 100, ""},
		{1000, "KWD", 1000, ""},
		{10, "BHD", 10, ""},
		{1005, "KWD", 0, "invalid_amount"},
		{1, "OMR", 0, "invalid_amount"},
		{999, "TND", 0, "invalid_amount"},
		{-1, "INR", 0, "negative_amount"},
		{-10, "KWD", 0, "negative_amount"},
		{math.MinInt64, "JPY", 0, "negative_amount"},
		{math.MaxInt64, "INR", math.MaxInt64, ""},
	} {
		got, err := money.ToRazorpay(tc.minor, money.MustCurrency(tc.cur))
		if code := codeOf(t, err); code != tc.code {
			t.Errorf("ToRazorpay(%d %s) code = %q (%v), want %q", tc.minor, tc.cur, code, err, tc.code)
			continue
		}
		if err == nil && got != tc.want {
			t.Errorf("ToRazorpay(%d %s) = %d, want %d", tc.minor, tc.cur, got, tc.want)
		}
	}
	_, err := money.ToRazorpay(1005, money.MustCurrency("KWD"))
	if !strings.Contains(err.Error(), "1.005 KWD") {
		t.Errorf("message %q does not name the amount", err)
	}
	for _, x := range []int64{0, 1, 10000, math.MaxInt64} {
		if money.FromRazorpay(x) != x {
			t.Errorf("FromRazorpay(%d) is not the identity", x)
		}
	}
}

func TestCheckMinimum(t *testing.T) {
	def := money.DefaultMinimums()
	inr, usd, jpy, kwd := money.MustCurrency("INR"), money.MustCurrency("USD"), money.MustCurrency("JPY"), money.MustCurrency("KWD")
	err := money.CheckMinimum(50, inr, def)
	if codeOf(t, err) != "amount_below_minimum" {
		t.Fatalf("CheckMinimum(50 paise) = %v, want amount_below_minimum", err)
	}
	if want := "amount 0.50 INR is below Razorpay's minimum of 1.00 INR"; err.Error() != want {
		t.Errorf("message = %q, want %q (api.md's example)", err, want)
	}
	for _, tc := range []struct {
		minor int64
		c     money.Currency
		code  string
	}{
		{100, inr, ""},
		{99, inr, "amount_below_minimum"},
		{0, inr, "amount_below_minimum"},
		{-100, inr, "amount_below_minimum"},
		{1, usd, ""},
		{0, usd, "amount_below_minimum"},
		{1, jpy, ""}, // not in the table: one minor unit
		{0, jpy, "amount_below_minimum"},
		{10, kwd, ""}, // three decimals: ten minor units
		{5, kwd, "amount_below_minimum"},
		{math.MaxInt64, inr, ""},
	} {
		if code := codeOf(t, money.CheckMinimum(tc.minor, tc.c, def)); code != tc.code {
			t.Errorf("CheckMinimum(%d %s) code = %q, want %q", tc.minor, tc.c, code, tc.code)
		}
	}
	if err := money.CheckMinimum(5, kwd, def); !strings.Contains(err.Error(), "0.010 KWD") {
		t.Errorf("KWD message %q does not name the minimum 0.010 KWD", err)
	}
	// A nil table is the default table.
	if codeOf(t, money.CheckMinimum(50, inr, nil)) != "amount_below_minimum" || money.CheckMinimum(100, inr, nil) != nil {
		t.Error("CheckMinimum with a nil table does not use the defaults")
	}
	// A zero table can be set.
	var z money.Minimums
	z.Set("inr", 500)
	if z.Of(inr) != 500 || z.Of(usd) != 1 {
		t.Errorf("zero Minimums after Set: INR %d, USD %d", z.Of(inr), z.Of(usd))
	}
}

func TestParseMinimums(t *testing.T) {
	inr, usd, jpy, kwd := money.MustCurrency("INR"), money.MustCurrency("USD"), money.MustCurrency("JPY"), money.MustCurrency("KWD")
	m, err := money.ParseMinimums("")
	if err != nil || m.Of(inr) != 100 || m.Of(usd) != 1 || m.Of(jpy) != 1 || m.Of(kwd) != 10 {
		t.Fatalf("ParseMinimums(\"\") = %v: want the defaults", err)
	}
	m, err = money.ParseMinimums(" inr=200 , JPY=50,,KWD=100 ")
	if err != nil {
		t.Fatal(err)
	}
	if m.Of(inr) != 200 || m.Of(jpy) != 50 || m.Of(kwd) != 100 || m.Of(usd) != 1 {
		t.Errorf("overrides: INR %d JPY %d KWD %d USD %d", m.Of(inr), m.Of(jpy), m.Of(kwd), m.Of(usd))
	}
	if codeOf(t, money.CheckMinimum(150, inr, m)) != "amount_below_minimum" {
		t.Error("an overridden minimum is not applied")
	}
	if m2, err := money.ParseMinimums("INR=0"); err != nil || m2.Of(inr) != 0 {
		t.Errorf("INR=0: %v", err)
	}
	// The defaults are not shared between tables.
	if money.DefaultMinimums().Of(inr) != 100 {
		t.Error("ParseMinimums changed the defaults")
	}
	for _, spec := range []string{
		"INR", "INR=", "=5", "INR=abc", "INR=-1", "XXX=1", "INR=1.5", "INR=1.00", "INR=1e2",
		"INR=99999999999999999999", "INR=100,USD", "INR==1",
	} {
		if _, err := money.ParseMinimums(spec); err == nil {
			t.Errorf("ParseMinimums(%q) succeeded", spec)
		} else if !strings.Contains(err.Error(), strings.Split(strings.TrimPrefix(spec, "INR=100,"), "=")[0]) {
			t.Errorf("ParseMinimums(%q) = %v: does not name the bad part", spec, err)
		}
	}
}

func TestMinimumsConcurrent(t *testing.T) {
	m := money.DefaultMinimums()
	inr := money.MustCurrency("INR")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				if i%2 == 0 {
					m.Set("INR", int64(100+j))
				} else {
					_ = money.CheckMinimum(int64(j), inr, m)
				}
			}
		}(i)
	}
	wg.Wait()
}

func TestFromJSONFloat(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want int64
		ok   bool
	}{
		{0, 0, true},
		{math.Copysign(0, -1), 0, true},
		{1, 1, true},
		{10000, 10000, true},
		{1e6, 1000000, true},
		{-5, -5, true},
		{1<<53 - 1, 1<<53 - 1, true},
		{-(1<<53 - 1), -(1<<53 - 1), true},
		{1.5, 0, false},
		{0.1, 0, false},
		{100.00000000001, 0, false},
		{math.NaN(), 0, false},
		{math.Inf(1), 0, false},
		{math.Inf(-1), 0, false},
		{1 << 53, 0, false}, // 2^53 and 2^53+1 decode to the same float
		{-(1 << 53), 0, false},
		{1 << 60, 0, false},
		{1e300, 0, false},
		{math.MaxFloat64, 0, false},
		{math.SmallestNonzeroFloat64, 0, false},
	} {
		got, err := money.FromJSONFloat(tc.f)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("FromJSONFloat(%v) = %d, %v; want %d, ok=%v", tc.f, got, err, tc.want, tc.ok)
		}
		if err != nil && codeOf(t, err) != "invalid_amount" {
			t.Errorf("FromJSONFloat(%v) code = %q", tc.f, codeOf(t, err))
		}
	}
}

func TestAdd(t *testing.T) {
	for _, tc := range []struct {
		xs   []int64
		want int64
		ok   bool
	}{
		{nil, 0, true},
		{[]int64{1, 2, 3}, 6, true},
		{[]int64{10000, -2500}, 7500, true},
		{[]int64{math.MaxInt64}, math.MaxInt64, true},
		{[]int64{math.MaxInt64, 0}, math.MaxInt64, true},
		{[]int64{math.MaxInt64 - 1, 1}, math.MaxInt64, true},
		{[]int64{math.MaxInt64, 1}, 0, false},
		{[]int64{math.MinInt64, -1}, 0, false},
		{[]int64{math.MinInt64, math.MaxInt64}, -1, true},
		{[]int64{math.MaxInt64, math.MaxInt64}, 0, false},
		{[]int64{math.MinInt64, math.MinInt64}, 0, false},
		{[]int64{math.MaxInt64 / 2, math.MaxInt64 / 2, 2}, 0, false},
		{[]int64{math.MaxInt64, -1, 1}, math.MaxInt64, true},
	} {
		got, err := money.Add(tc.xs...)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("Add(%v) = %d, %v; want %d ok=%v", tc.xs, got, err, tc.want, tc.ok)
		}
		if err != nil && codeOf(t, err) != "amount_overflow" {
			t.Errorf("Add(%v) code = %q", tc.xs, codeOf(t, err))
		}
	}
}
