package billing

import (
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/apperr"
)

// The check characters below are worked out by hand. Values: 0–9 → 0–9,
// A → 10 … Z → 35; weights 1, 2, 1, 2, … from the first character; each
// product p adds p/36 + p%36; check = (36 − sum mod 36) mod 36.
//
// 27AAPFU0939F1Z? (a GSTIN quoted in many GST guides, ending in V):
//
//	2×1=2  7×2=14  A10×1=10  A10×2=20  P25×1=25  F15×2=30  U30×1=30
//	0×2=0  9×1=9   3×2=6     9×1=9     F15×2=30  1×1=1     Z35×2=70 → 1+34=35
//	sum 221, 221 mod 36 = 5, 36−5 = 31 → V
//
// 29AAPFU0939F1Z? differs in its second character only: 9×2=18, not 14,
// so the sum is 225, mod 36 = 9, 36−9 = 27 → R
//
// xxABCDE1234F1Z? shares characters 3–14, worth (weights 1,2,1,2,…):
//
//	A10 + B11×2=22 + C12 + D13×2=26 + E14 + 1×2=2 + 2 + 3×2=6 + 4 + F15×2=30 + 1 + Z(70→35) = 164
//
//	29: 2 + 9×2=18 + 164 = 184, mod 36 = 4, 36−4 = 32 → W
//	33: 3 + 3×2=6  + 164 = 173, mod 36 = 29, 36−29 = 7 → 7
//	07: 0 + 7×2=14 + 164 = 178, mod 36 = 34, 36−34 = 2 → 2
//	27: 2 + 7×2=14 + 164 = 180, mod 36 = 0, (36−0) mod 36 = 0 → 0 (the wrap)
const (
	gstinMH  = "27AAPFU0939F1ZV"
	gstinKA  = "29ABCDE1234F1ZW"
	gstinTN  = "33ABCDE1234F1Z7"
	gstinDL  = "07ABCDE1234F1Z2"
	gstinMH0 = "27ABCDE1234F1Z0"
	gstinKA2 = "29AAPFU0939F1ZR"
)

func TestGSTINCheckChar(t *testing.T) {
	for _, g := range []string{gstinMH, gstinKA, gstinTN, gstinDL, gstinMH0, gstinKA2} {
		got, ok := GSTINCheckChar(g[:14])
		if !ok || got != g[14] {
			t.Errorf("GSTINCheckChar(%s) = %q, %v; want %q", g[:14], got, ok, g[14])
		}
		if err := ValidateGSTIN(g, "gstin"); err != nil {
			t.Errorf("ValidateGSTIN(%s): %v", g, err)
		}
	}
	for _, bad := range []string{"", "27AAPFU0939F1", "27aapfu0939f1z", "27AAPFU0939F1-", gstinMH} {
		if _, ok := GSTINCheckChar(bad); ok {
			t.Errorf("GSTINCheckChar(%q) ok", bad)
		}
	}
}

func TestValidateGSTINRefuses(t *testing.T) {
	for name, tc := range map[string]struct{ gstin, want string }{
		"14 characters":                          {"27AAPFU0939F1Z", "15 characters"},
		"16 characters":                          {"27AAPFU0939F1ZVX", "15 characters"},
		"letter in the state code":               {"2AAAPFU0939F1ZV", "character 2"},
		"digit in the PAN's letters":             {"27AAP1U0939F1ZV", "character 6"},
		"letter in the PAN's digits":             {"27AAPFU09A9F1ZV", "character 10"},
		"digit at the PAN's last letter":         {"27AAPFU093991ZV", "character 12"},
		"entity number 0":                        {"27AAPFU0939F0ZV", "character 13"},
		"no Z":                                   {"27AAPFU0939F1YV", "character 14"},
		"lower case reaches the check as given":  {"27aapfu0939f1zv", "character 3"},
		"unknown state code 99":                  {"99AAPFU0939F1ZV", "99 is not a GST state code"},
		"unknown state code 25 (merged into 26)": {"25AAPFU0939F1ZV", "25 is not a GST state code"},
	} {
		err := ValidateGSTIN(tc.gstin, "gstin")
		e := apperr.As(err)
		if e == nil || e.Kind != apperr.Invalid || e.Code != "invalid_gstin" || e.Field != "gstin" || !strings.Contains(e.Message, tc.want) {
			t.Errorf("%s: ValidateGSTIN(%s) = %v; want invalid_gstin on gstin mentioning %q", name, tc.gstin, err, tc.want)
		}
	}
}

func TestGSTStatesTable(t *testing.T) {
	for gst, code := range map[string]string{
		"29": "KA", "27": "MH", "07": "DL", "33": "TN", "36": "TS", "24": "GJ", "09": "UP", "19": "WB",
		"32": "KL", "06": "HR", "08": "RJ", "23": "MP", "37": "AP", "38": "LA", "26": "DH", "97": "OT",
		"01": "JK", "05": "UK", "21": "OD", "22": "CG", "12": "AR", "34": "PY", "35": "AN", "04": "CH",
	} {
		if s := stateByGST[gst]; s.Code != code {
			t.Errorf("GST state code %s = %q; want %s", gst, s.Code, code)
		}
	}
	// 36 states and union territories (28 states, 8 union territories) and
	// Other Territory; codes unique both ways.
	if len(GSTStates) != 37 || len(stateByCode) != 37 || len(stateByGST) != 37 {
		t.Errorf("%d states, %d codes, %d GST codes; want 37 each", len(GSTStates), len(stateByCode), len(stateByGST))
	}
	for _, s := range GSTStates {
		if len(s.Code) != 2 || len(s.GST) != 2 || s.Name == "" {
			t.Errorf("bad row %+v", s)
		}
	}
	if s, ok := LookupState(" ka "); !ok || s.GST != "29" {
		t.Errorf("LookupState(ka) = %+v %v", s, ok)
	}
}

func ptr[T any](v T) *T { return &v }

func TestBuildTaxSettings(t *testing.T) {
	for name, tc := range map[string]struct {
		in   TaxSettingsInput
		want TaxSettings
	}{
		"all given":                    {TaxSettingsInput{GSTIN: gstinKA, State: "KA", DefaultRate: ptr("18"), AutoFinalize: ptr(true)}, TaxSettings{GSTIN: gstinKA, State: "KA", DefaultRate: "18", AutoFinalize: true}},
		"defaults: 18 and auto":        {TaxSettingsInput{State: "KA"}, TaxSettings{State: "KA", DefaultRate: "18", AutoFinalize: true}},
		"auto_finalize false":          {TaxSettingsInput{State: "MH", AutoFinalize: ptr(false)}, TaxSettings{State: "MH", DefaultRate: "18", AutoFinalize: false}},
		"state from the gstin":         {TaxSettingsInput{GSTIN: gstinTN}, TaxSettings{GSTIN: gstinTN, State: "TN", DefaultRate: "18", AutoFinalize: true}},
		"lower case and spaces":        {TaxSettingsInput{GSTIN: " 27aapfu0939f1zv ", State: "mh"}, TaxSettings{GSTIN: gstinMH, State: "MH", DefaultRate: "18", AutoFinalize: true}},
		"rate shortest form":           {TaxSettingsInput{State: "DL", DefaultRate: ptr("12.50")}, TaxSettings{State: "DL", DefaultRate: "12.5", AutoFinalize: true}},
		"rate 0":                       {TaxSettingsInput{State: "DL", DefaultRate: ptr("0")}, TaxSettings{State: "DL", DefaultRate: "0", AutoFinalize: true}},
		"rate 100":                     {TaxSettingsInput{State: "DL", DefaultRate: ptr("100.00")}, TaxSettings{State: "DL", DefaultRate: "100", AutoFinalize: true}},
		"rate 0.25":                    {TaxSettingsInput{State: "DL", DefaultRate: ptr("0.25")}, TaxSettings{State: "DL", DefaultRate: "0.25", AutoFinalize: true}},
		"trailing zeros past 2 places": {TaxSettingsInput{State: "DL", DefaultRate: ptr("5.000")}, TaxSettings{State: "DL", DefaultRate: "5", AutoFinalize: true}},
		// No GSTIN and no state: the defaults' (no supplier state), with what
		// is set — an environment that only turns auto-finalize off.
		"nothing":                {TaxSettingsInput{}, DefaultTaxSettings()},
		"only auto_finalize off": {TaxSettingsInput{AutoFinalize: ptr(false)}, TaxSettings{DefaultRate: "18", AutoFinalize: false}},
	} {
		got, err := BuildTaxSettings(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", name, got, err, tc.want)
		}
	}
}

func TestBuildTaxSettingsRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		in                TaxSettingsInput
		code, field, text string
	}{
		"state mismatch":      {TaxSettingsInput{GSTIN: gstinKA, State: "MH"}, "gstin_state_mismatch", "state", "registered in KA (Karnataka; state code 29)"},
		"unknown state":       {TaxSettingsInput{State: "XX"}, "invalid_state", "state", `"XX" is not a two-letter`},
		"state name":          {TaxSettingsInput{State: "Karnataka"}, "invalid_state", "state", "KA"},
		"numeric state":       {TaxSettingsInput{State: "29"}, "invalid_state", "state", "two-letter"},
		"rate 150":            {TaxSettingsInput{State: "KA", DefaultRate: ptr("150")}, "validation_failed", "default_rate", "from 0 to 100"},
		"rate 100.01":         {TaxSettingsInput{State: "KA", DefaultRate: ptr("100.01")}, "validation_failed", "default_rate", "from 0 to 100"},
		"negative rate":       {TaxSettingsInput{State: "KA", DefaultRate: ptr("-1")}, "validation_failed", "default_rate", ""},
		"three decimals":      {TaxSettingsInput{State: "KA", DefaultRate: ptr("18.125")}, "validation_failed", "default_rate", "more than 2 decimals"},
		"empty rate":          {TaxSettingsInput{State: "KA", DefaultRate: ptr("")}, "validation_failed", "default_rate", "required"},
		"not a number":        {TaxSettingsInput{State: "KA", DefaultRate: ptr("18%")}, "validation_failed", "default_rate", ""},
		"gstin of no state":   {TaxSettingsInput{GSTIN: "99AAPFU0939F1ZV"}, "invalid_gstin", "gstin", "state code"},
		"gstin and bad state": {TaxSettingsInput{GSTIN: gstinKA, State: "K"}, "invalid_state", "state", ""},
	} {
		_, err := BuildTaxSettings(tc.in)
		e := apperr.As(err)
		if e == nil || e.Kind != apperr.Invalid || e.Code != tc.code || e.Field != tc.field || !strings.Contains(e.Message, tc.text) {
			t.Errorf("%s: %v; want %s on %s mentioning %q", name, err, tc.code, tc.field, tc.text)
		}
	}
}

func TestNormalizeCustomerTax(t *testing.T) {
	for name, tc := range map[string]struct {
		gstin, state, wantG, wantS string
		code, field                string
	}{
		"neither":                   {"", "", "", "", "", ""},
		"state only":                {"", "tn", "", "TN", "", ""},
		"gstin only keeps no state": {gstinDL, "", gstinDL, "", "", ""},
		"both agree":                {gstinDL, "DL", gstinDL, "DL", "", ""},
		"both disagree":             {gstinDL, "HR", "", "", "gstin_state_mismatch", "billing_state"},
		"bad gstin":                 {"07ABCDE1234F1X3", "", "", "", "invalid_gstin", "gstin"},
		"bad state":                 {"", "ZZ", "", "", "invalid_state", "billing_state"},
	} {
		g, s, err := NormalizeCustomerTax(tc.gstin, tc.state)
		if tc.code == "" {
			if err != nil || g != tc.wantG || s != tc.wantS {
				t.Errorf("%s: %q %q %v; want %q %q", name, g, s, err, tc.wantG, tc.wantS)
			}
			continue
		}
		if e := apperr.As(err); e == nil || e.Code != tc.code || e.Field != tc.field {
			t.Errorf("%s: %v; want %s on %s", name, err, tc.code, tc.field)
		}
	}
}

func TestIntraState(t *testing.T) {
	ka := TaxSettings{GSTIN: gstinKA, State: "KA", DefaultRate: "18", AutoFinalize: true}
	for name, tc := range map[string]struct {
		t     TaxSettings
		c     Customer
		intra bool
	}{
		"billing state is the supplier's":                  {ka, Customer{BillingState: "KA"}, true},
		"billing state is another":                         {ka, Customer{BillingState: "MH"}, false},
		"gstin of the supplier's state":                    {ka, Customer{GSTIN: gstinKA2}, true},
		"gstin of another state":                           {ka, Customer{GSTIN: gstinMH}, false},
		"billing state wins over gstin (stored as agreed)": {ka, Customer{GSTIN: gstinKA, BillingState: "KA"}, true},
		"consumer with no address: supplier's location":    {ka, Customer{}, true},
		"no tax settings: intra-state":                     {TaxSettings{}, Customer{BillingState: "MH"}, true},
		"default settings: intra-state":                    {DefaultTaxSettings(), Customer{GSTIN: gstinTN}, true},
		"supplier in TN, customer gstin TN":                {TaxSettings{State: "TN"}, Customer{GSTIN: gstinTN}, true},
		"supplier in DL, customer in HR":                   {TaxSettings{State: "DL"}, Customer{BillingState: "HR"}, false},
	} {
		if got := tc.t.IntraState(tc.c); got != tc.intra {
			t.Errorf("%s: IntraState = %v; want %v", name, got, tc.intra)
		}
	}
}

func TestDefaultTaxSettings(t *testing.T) {
	d := DefaultTaxSettings()
	if d.DefaultRate != "18" || !d.AutoFinalize || d.GSTIN != "" || d.State != "" || d.Configured() {
		t.Errorf("defaults %+v", d)
	}
	if d.Rate().String() != "18" || (TaxSettings{}).Rate().String() != "18" || (TaxSettings{DefaultRate: "12.5"}).Rate().String() != "12.5" {
		t.Error("Rate")
	}
}

func TestCustomerPlaceOfSupply(t *testing.T) {
	for _, tc := range []struct {
		c    Customer
		want string
	}{
		{Customer{}, ""},
		{Customer{BillingState: "GJ"}, "GJ"},
		{Customer{GSTIN: gstinTN}, "TN"},
		{Customer{GSTIN: gstinTN, BillingState: "TN"}, "TN"},
	} {
		if got := tc.c.PlaceOfSupply(); got != tc.want {
			t.Errorf("%+v: %q; want %q", tc.c, got, tc.want)
		}
	}
}

// A wrong check character is accepted (test GSTINs rarely have the right
// one) and reported: api.md's example 29ABCDE1234F1Z5 should end in W.
func TestGSTINWarning(t *testing.T) {
	for g, want := range map[string]string{
		"29ABCDE1234F1Z5": "the check character is 5, but the first 14 characters give W",
		"27AAPFU0939F2ZV": "the check character is V",
		"27AAPFU0399F1ZV": "the check character is V",
		gstinMH:           "",
		gstinKA:           "",
		"":                "",
	} {
		if err := ValidateGSTIN(g, "gstin"); g != "" && err != nil {
			t.Errorf("ValidateGSTIN(%s) = %v; a wrong check character is not refused", g, err)
		}
		got := GSTINWarning(g)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("GSTINWarning(%q) = %q, want %q", g, got, want)
		}
	}
	if got, err := BuildTaxSettings(TaxSettingsInput{GSTIN: "29ABCDE1234F1Z5", State: "KA"}); err != nil || got.GSTIN != "29ABCDE1234F1Z5" || got.State != "KA" {
		t.Fatalf("api.md's example refused: %+v %v", got, err)
	}
}
