package billing

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/money"
)

// DefaultTaxRate is an environment's GST rate (percent) until it sets one.
const DefaultTaxRate = "18"

// TaxSettings are an environment's GST settings: who the supplier is (its
// GSTIN and state, which decide intra- or inter-state supply), the rate of a
// charge that names none, and whether period-close invoices finalize by
// themselves.
type TaxSettings struct {
	// GSTIN is the supplier's GST identification number ("" when not set).
	GSTIN string `dynamodbav:"gstin,omitempty"`
	// State is the supplier's state or union territory: a two-letter code
	// of GSTStates ("" when not set).
	State string `dynamodbav:"state,omitempty"`
	// DefaultRate is a percent, 0 to 100 with at most two decimals, in its
	// shortest form ("18", "12.5").
	DefaultRate string `dynamodbav:"default_rate"`
	// AutoFinalize: period-close invoices are finalized when made.
	AutoFinalize bool      `dynamodbav:"auto_finalize"`
	UpdatedAt    time.Time `dynamodbav:"updated_at"`
}

// DefaultTaxSettings are an environment's settings until it stores its own:
// no GSTIN, no state, 18 %, invoices finalized automatically.
func DefaultTaxSettings() TaxSettings {
	return TaxSettings{DefaultRate: DefaultTaxRate, AutoFinalize: true}
}

// Configured reports whether the environment has named its state (so that
// IntraState compares states rather than answering intra-state for all).
func (t TaxSettings) Configured() bool { return t.State != "" }

// Rate is DefaultRate as a decimal percent (DefaultTaxRate when empty).
func (t TaxSettings) Rate() decimal.Decimal {
	if t.DefaultRate == "" {
		return decimal.RequireFromString(DefaultTaxRate)
	}
	return decimal.RequireFromString(t.DefaultRate)
}

// TaxSettingsInput is a requested replacement of an environment's settings;
// nil fields take their defaults.
type TaxSettingsInput struct {
	GSTIN        string
	State        string
	DefaultRate  *string
	AutoFinalize *bool
}

// BuildTaxSettings validates in and returns the settings it describes. The
// state may be left out when the GSTIN is given: the GSTIN's first two
// digits name it. When both are given they must name the same state. When
// neither is, the settings name no supplier state, as the defaults do (an
// environment that only sets auto_finalize or default_rate).
func BuildTaxSettings(in TaxSettingsInput) (TaxSettings, error) {
	t := DefaultTaxSettings()
	g, st, err := normalizeGSTINAndState(in.GSTIN, in.State, "gstin", "state")
	if err != nil {
		return TaxSettings{}, err
	}
	t.GSTIN, t.State = g, st
	if in.DefaultRate != nil {
		r, err := ParseTaxRate(*in.DefaultRate, "default_rate")
		if err != nil {
			return TaxSettings{}, err
		}
		t.DefaultRate = r.String()
	}
	if in.AutoFinalize != nil {
		t.AutoFinalize = *in.AutoFinalize
	}
	return t, nil
}

// ParseTaxRate reads a GST rate: a percent from 0 to 100 with at most two
// decimals ("18", "12.5", "0.25").
func ParseTaxRate(s, field string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return decimal.Decimal{}, apperr.InvalidField("validation_failed", field, "%s is required: a percent from 0 to 100 such as \"18\"", field)
	}
	d, err := money.ParseDecimal(s)
	if err != nil {
		return decimal.Decimal{}, MoneyError(err, field)
	}
	if d.IsNegative() || d.GreaterThan(decimal.NewFromInt(100)) {
		return decimal.Decimal{}, apperr.InvalidField("validation_failed", field, "%s %s is not a percent from 0 to 100", field, s)
	}
	if !d.Equal(d.Truncate(2)) {
		return decimal.Decimal{}, apperr.InvalidField("validation_failed", field, "%s %s has more than 2 decimals", field, s)
	}
	return d, nil
}

// NormalizeCustomerTax validates a customer's GSTIN and billing state (each
// may be empty) and returns them upper-cased and trimmed. When both are
// given the GSTIN's state must be the billing state.
func NormalizeCustomerTax(gstin, billingState string) (string, string, error) {
	g, st, err := normalizeGSTINAndState(gstin, billingState, "gstin", "billing_state")
	if err != nil {
		return "", "", err
	}
	// The billing state is kept only as given: when absent, PlaceOfSupply
	// reads it from the GSTIN each time.
	if strings.TrimSpace(billingState) == "" {
		st = ""
	}
	return g, st, nil
}

// normalizeGSTINAndState validates both (each may be empty) and returns the
// GSTIN and the state: the state given, else the GSTIN's.
func normalizeGSTINAndState(gstin, state, gstinField, stateField string) (string, string, error) {
	g := strings.ToUpper(strings.TrimSpace(gstin))
	st := strings.ToUpper(strings.TrimSpace(state))
	if st != "" {
		if _, ok := stateByCode[st]; !ok {
			return "", "", apperr.InvalidField("invalid_state", stateField, "%s %q is not a two-letter Indian state or union territory code; use one of %s", stateField, clipText(state), stateCodeList)
		}
	}
	if g == "" {
		return "", st, nil
	}
	if err := ValidateGSTIN(g, gstinField); err != nil {
		return "", "", err
	}
	gs := GSTINState(g)
	if st == "" {
		return g, gs, nil
	}
	if gs != st {
		return "", "", apperr.InvalidField("gstin_state_mismatch", stateField, "%s %s does not match the gstin %s, which is registered in %s (%s; state code %s)", stateField, st, g, gs, stateByCode[gs].Name, g[:2])
	}
	return g, st, nil
}

func clipText(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Supply.

// PlaceOfSupply is the customer's state for GST: its billing state, else
// its GSTIN's state, else "" (unknown: the supplier's own state applies).
func (c Customer) PlaceOfSupply() string {
	if c.BillingState != "" {
		return c.BillingState
	}
	if c.GSTIN != "" {
		return GSTINState(c.GSTIN)
	}
	return ""
}

// IntraState reports whether supplying c is intra-state (CGST + SGST) rather
// than inter-state (IGST): whether c's place of supply is the environment's
// state. A customer with no billing state and no GSTIN (a consumer with no
// address) is supplied at the supplier's location, so intra-state. An
// environment with no state set (no tax settings) treats every supply as
// intra-state.
func (t TaxSettings) IntraState(c Customer) bool {
	if t.State == "" {
		return true
	}
	pos := c.PlaceOfSupply()
	return pos == "" || pos == t.State
}

// GSTIN.

// gstinChars are the GSTIN's characters in the order of their check values
// (0–9 are 0–9, A–Z are 10–35).
const gstinChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

func gstinValue(b byte) int {
	switch {
	case b >= '0' && b <= '9':
		return int(b - '0')
	case b >= 'A' && b <= 'Z':
		return int(b-'A') + 10
	}
	return -1
}

// GSTINCheckChar computes the check character of a GSTIN's first 14
// characters (upper-case; anything else gives 0 and false). This is Luhn
// mod N with N = 36 over the characters' values, weights 1, 2, 1, 2, … from
// the first character: each value × weight is split into quotient and
// remainder by 36 and both are added; the check value is (36 − sum mod 36)
// mod 36. Described e.g. in the GSTIN validators of
// github.com/srikanthlogic/gstin-validator (src/index.js) and
// en.wikipedia.org/wiki/Luhn_mod_N_algorithm; it gives the known GSTIN
// 27AAPFU0939F1ZV its V (see tax_test.go).
func GSTINCheckChar(first14 string) (byte, bool) {
	if len(first14) != 14 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 14; i++ {
		v := gstinValue(first14[i])
		if v < 0 {
			return 0, false
		}
		p := v * (1 + i%2)
		sum += p/36 + p%36
	}
	return gstinChars[(36-sum%36)%36], true
}

// ValidateGSTIN checks an upper-case GSTIN's form: 15 characters — a GST
// state code (2 digits, one of GSTStates), a PAN (5 letters, 4 digits, 1
// letter), the entity number (1–9 or A–Z), Z, and a check character.
//
// The check character itself is not enforced: dummy GSTINs used in test
// and sandbox set-ups (api.md's own example, 29ABCDE1234F1Z5, among them)
// rarely carry the right one, so a wrong one is reported by GSTINWarning
// and shown next to the GSTIN instead of refused.
func ValidateGSTIN(g, field string) error {
	bad := func(format string, args ...any) error {
		return apperr.InvalidField("invalid_gstin", field, "%s %q is not a GSTIN: "+format, append([]any{field, clipText(g)}, args...)...)
	}
	if len(g) != 15 {
		return bad("a GSTIN has 15 characters (2-digit state code, 10-character PAN, entity number, Z, check character), not %d", len(g))
	}
	isDigit := func(b byte) bool { return b >= '0' && b <= '9' }
	isLetter := func(b byte) bool { return b >= 'A' && b <= 'Z' }
	for i := 0; i < 15; i++ {
		c := g[i]
		var ok bool
		switch {
		case i < 2 || (i >= 7 && i < 11):
			ok = isDigit(c)
		case i < 7 || i == 11:
			ok = isLetter(c)
		case i == 12:
			ok = isLetter(c) || (isDigit(c) && c != '0')
		case i == 13:
			ok = c == 'Z'
		default:
			ok = isLetter(c) || isDigit(c)
		}
		if !ok {
			return bad("character %d (%q) is out of place; the form is 2 digits, 5 letters, 4 digits, a letter, 1–9 or A–Z, Z, a check character (e.g. 27AAPFU0939F1ZV)", i+1, string(c))
		}
	}
	if _, ok := stateByGST[g[:2]]; !ok {
		return bad("%s is not a GST state code", g[:2])
	}
	return nil
}

// GSTINWarning is "" for a GSTIN whose check character is right (or no
// GSTIN), else what is wrong with it, for people to read.
func GSTINWarning(g string) string {
	if g == "" {
		return ""
	}
	if want, ok := GSTINCheckChar(g[:min(len(g), 14)]); ok && len(g) == 15 && g[14] != want {
		return fmt.Sprintf("the check character is %c, but the first 14 characters give %c: a typing error, or a test GSTIN", g[14], want)
	}
	return ""
}

// GSTINState is the two-letter state of a valid GSTIN ("" for another string).
func GSTINState(g string) string {
	if len(g) < 2 {
		return ""
	}
	return stateByGST[g[:2]].Code
}

// States.

// GSTState is a state or union territory: its GST state code (the first two
// digits of a GSTIN) and its two-letter code.
type GSTState struct {
	GST  string
	Code string
	Name string
}

// GSTStates are the places of supply. The GST state codes are those of the
// GST state code list (e.g. zoho.com/in/books/kb/gst/valid-state-codes-list.html,
// forbesindia.com "GST State Code List"): 25 (Daman and Diu) has not been
// issued since the union territory merged into 26 on 26 January 2020, and
// 28 (Andhra Pradesh before 2014) is not used since GST began in 2017; 99
// (Centre Jurisdiction) is no place of supply. The two-letter codes are
// ISO 3166-2:IN's current ones (CG, OD, TS, UK; DH for the merged Dadra
// and Nagar Haveli and Daman and Diu), which the same list also uses
// except for Andhra Pradesh (it writes AD) and 26 (DNHDD); 97 "Other
// Territory" has no ISO code and takes the list's OT.
var GSTStates = []GSTState{
	{"01", "JK", "Jammu and Kashmir"},
	{"02", "HP", "Himachal Pradesh"},
	{"03", "PB", "Punjab"},
	{"04", "CH", "Chandigarh"},
	{"05", "UK", "Uttarakhand"},
	{"06", "HR", "Haryana"},
	{"07", "DL", "Delhi"},
	{"08", "RJ", "Rajasthan"},
	{"09", "UP", "Uttar Pradesh"},
	{"10", "BR", "Bihar"},
	{"11", "SK", "Sikkim"},
	{"12", "AR", "Arunachal Pradesh"},
	{"13", "NL", "Nagaland"},
	{"14", "MN", "Manipur"},
	{"15", "MZ", "Mizoram"},
	{"16", "TR", "Tripura"},
	{"17", "ML", "Meghalaya"},
	{"18", "AS", "Assam"},
	{"19", "WB", "West Bengal"},
	{"20", "JH", "Jharkhand"},
	{"21", "OD", "Odisha"},
	{"22", "CG", "Chhattisgarh"},
	{"23", "MP", "Madhya Pradesh"},
	{"24", "GJ", "Gujarat"},
	{"26", "DH", "Dadra and Nagar Haveli and Daman and Diu"},
	{"27", "MH", "Maharashtra"},
	{"29", "KA", "Karnataka"},
	{"30", "GA", "Goa"},
	{"31", "LD", "Lakshadweep"},
	{"32", "KL", "Kerala"},
	{"33", "TN", "Tamil Nadu"},
	{"34", "PY", "Puducherry"},
	{"35", "AN", "Andaman and Nicobar Islands"},
	{"36", "TS", "Telangana"},
	{"37", "AP", "Andhra Pradesh"},
	{"38", "LA", "Ladakh"},
	{"97", "OT", "Other Territory"},
}

var (
	stateByCode   = map[string]GSTState{}
	stateByGST    = map[string]GSTState{}
	stateCodeList string
)

func init() {
	codes := make([]string, 0, len(GSTStates))
	for _, s := range GSTStates {
		stateByCode[s.Code] = s
		stateByGST[s.GST] = s
		codes = append(codes, s.Code)
	}
	stateCodeList = strings.Join(codes, ", ")
}

// LookupState returns the state with a two-letter code (any case).
func LookupState(code string) (GSTState, bool) {
	s, ok := stateByCode[strings.ToUpper(strings.TrimSpace(code))]
	return s, ok
}
