package money

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Currency is an ISO 4217 currency as Razorpay accepts it.
type Currency struct {
	Code     string // upper-case ISO code, e.g. "INR"
	Exponent int    // digits after the decimal point: 0, 2 or 3
}

// Lower is the code as the API returns it ("inr").
func (c Currency) Lower() string { return strings.ToLower(c.Code) }

// String is the upper-case code.
func (c Currency) String() string { return c.Code }

// zeroDecimal and threeDecimal list the currencies whose exponent is not 2.
var zeroDecimal = []string{"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
var threeDecimal = []string{"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}

// twoDecimal are the other currencies Razorpay's international payments
// accept (its list of supported currencies), all with exponent 2.
var twoDecimal = []string{
	"AED", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BMD", "BND",
	"BOB", "BRL", "BSD", "BTN", "BWP", "BZD", "CAD", "CDF", "CHF", "CNY", "COP", "CRC", "CUP", "CVE", "CZK",
	"DKK", "DOP", "DZD", "EGP", "ETB", "EUR", "FJD", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD",
	"HNL", "HRK", "HTG", "HUF", "IDR", "ILS", "INR", "JMD", "KES", "KGS", "KHR", "KYD", "KZT", "LAK", "LBP",
	"LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MUR", "MVR", "MWK", "MXN", "MYR",
	"MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD",
	"RUB", "SAR", "SBD", "SCR", "SEK", "SGD", "SHP", "SLL", "SOS", "SRD", "SSP", "SVC", "SZL", "THB", "TJS",
	"TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "UYU", "UZS", "WST", "XCD", "YER", "ZAR", "ZMW",
}

var currencies = func() map[string]Currency {
	m := make(map[string]Currency, len(twoDecimal)+len(zeroDecimal)+len(threeDecimal))
	for _, c := range twoDecimal {
		m[c] = Currency{Code: c, Exponent: 2}
	}
	for _, c := range zeroDecimal {
		m[c] = Currency{Code: c, Exponent: 0}
	}
	for _, c := range threeDecimal {
		m[c] = Currency{Code: c, Exponent: 3}
	}
	return m
}()

// LookupCurrency finds a currency by code in any case ("inr", "Inr", "INR";
// surrounding spaces are ignored). Only ASCII letters match: strings.ToUpper
// would otherwise turn "ınr" (dotless i) into "INR". The error is an *Error
// with code unknown_currency.
func LookupCurrency(code string) (Currency, error) {
	t := strings.TrimSpace(code)
	if t == "" {
		return Currency{}, errf("unknown_currency", "currency is required")
	}
	if len(t) == 3 && isASCIILetter(t[0]) && isASCIILetter(t[1]) && isASCIILetter(t[2]) {
		if c, ok := currencies[strings.ToUpper(t)]; ok {
			return c, nil
		}
	}
	return Currency{}, errf("unknown_currency", "currency %q is not one Razorpay accepts", clip(code))
}

func isASCIILetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// MustCurrency is LookupCurrency for codes known at compile time.
func MustCurrency(code string) Currency {
	c, err := LookupCurrency(code)
	if err != nil {
		panic(err)
	}
	return c
}

// Currencies lists every supported currency, sorted by code.
func Currencies() []Currency {
	out := make([]Currency, 0, len(currencies))
	for _, c := range currencies {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Minimums is the table of smallest chargeable amounts in minor units.
// Razorpay documents INR 100 paise; FlexPrice's guide states USD 1 cent.
// Currencies not listed default to one minor unit (ten for three-decimal
// currencies, whose last digit must be 0 at Razorpay).
type Minimums struct {
	mu sync.RWMutex
	m  map[string]int64
}

// DefaultMinimums returns the documented table.
func DefaultMinimums() *Minimums {
	return &Minimums{m: map[string]int64{"INR": 100, "USD": 1}}
}

// Set overrides the minimum for a currency (minor units). It works on a
// zero Minimums too.
func (t *Minimums) Set(code string, minor int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]int64{}
	}
	t.m[strings.ToUpper(code)] = minor
}

// ParseMinimums reads "INR=100,USD=1" (minor units) over the defaults.
func ParseMinimums(spec string) (*Minimums, error) {
	t := DefaultMinimums()
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		code, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("minimum %q: want CODE=minor_units", part)
		}
		c, err := LookupCurrency(code)
		if err != nil {
			return nil, err
		}
		n, err := parseMinorInt(val)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("minimum %q: %q is not a non-negative integer", part, val)
		}
		t.Set(c.Code, n)
	}
	return t, nil
}

// Of returns the minimum for c in minor units. A nil table is the default
// table.
func (t *Minimums) Of(c Currency) int64 {
	if t == nil {
		return DefaultMinimums().Of(c)
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if v, ok := t.m[c.Code]; ok {
		return v
	}
	if c.Exponent == 3 {
		return 10
	}
	return 1
}
