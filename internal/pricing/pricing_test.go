package pricing

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/money"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func upTo(s string) *decimal.Decimal { v := d(s); return &v }

var inr = money.Currency{Code: "INR", Exponent: 2}

// golden runs quantities through a price and compares the rounded amount
// (paise) with the answer written out by hand.
func golden(t *testing.T, name string, p Price, cases map[string]int64) {
	t.Helper()
	if err := p.Validate(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for q, want := range cases {
		a, err := p.Amount(d(q))
		if err != nil {
			t.Fatalf("%s(%s): %v", name, q, err)
		}
		got, err := Round(a, inr)
		if err != nil || got != want {
			t.Errorf("%s(%s) = %d paise (exact %s), want %d", name, q, got, a, want)
		}
	}
}

func TestPerUnit(t *testing.T) {
	t.Parallel()
	golden(t, "per unit ₹0.0015", Price{Model: PerUnit, UnitAmount: d("0.0015")}, map[string]int64{
		"0":       0,
		"1":       0,      // 0.0015 → 0.00
		"4":       1,      // 0.006 → 0.01
		"1234567": 185185, // 1851.8505 → 1851.85
	})
}

func TestPackage(t *testing.T) {
	t.Parallel()
	golden(t, "₹50 per 1,000", Price{Model: Package, PackageSize: d("1000"), PackageAmount: d("50")}, map[string]int64{
		"0":      0,
		"1":      5000,  // a partial package is a package
		"1000":   5000,  // exactly one
		"1001":   10000, // one unit over: two
		"2500.5": 15000, // three
	})
}

// tiers: 1–10 at ₹5 (+ ₹20 flat when reached), 11–20 at ₹4, 21+ at ₹3 (+ ₹100 flat).
var tiers = []Tier{{UpTo: upTo("10"), UnitAmount: d("5"), FlatAmount: d("20")}, {UpTo: upTo("20"), UnitAmount: d("4")}, {UnitAmount: d("3"), FlatAmount: d("100")}}

func TestTieredGraduated(t *testing.T) {
	t.Parallel()
	golden(t, "graduated", Price{Model: TieredGraduated, Tiers: tiers}, map[string]int64{
		"0":  0,     // no tier reached: no flat fee either
		"1":  2500,  // 5 + 20
		"10": 7000,  // 10×5 + 20, exactly at the boundary
		"11": 7400,  // + 1×4
		"20": 11000, // 70 + 10×4
		"21": 21300, // 110 + 1×3 + 100
	})
	// api.md's plan: the first 100,000 calls free, then ₹0.0015 each.
	golden(t, "graduated free tier", Price{Model: TieredGraduated, Tiers: []Tier{{UpTo: upTo("100000"), UnitAmount: d("0")}, {UnitAmount: d("0.0015")}}}, map[string]int64{
		"100000":  0,
		"100001":  0,      // 0.0015 → 0.00
		"1234567": 170185, // 1,134,567 × 0.0015 = 1701.8505 → 1701.85
	})
}

func TestTieredVolume(t *testing.T) {
	t.Parallel()
	golden(t, "volume", Price{Model: TieredVolume, Tiers: tiers}, map[string]int64{
		"0":  0,
		"10": 7000,  // 10×5 + 20
		"11": 4400,  // all 11 at 4
		"20": 8000,  // all 20 at 4
		"21": 16300, // 21×3 + 100
	})
}

func TestPriceValidation(t *testing.T) {
	t.Parallel()
	bad := map[string]Price{
		"model":          {Model: "FLAT"},
		"unit_amount":    {Model: PerUnit, UnitAmount: d("-1")},
		"package_size":   {Model: Package, PackageSize: d("1.5"), PackageAmount: d("1")},
		"package_amount": {Model: Package, PackageSize: d("10"), PackageAmount: d("-1")},
	}
	for field, p := range bad {
		if ae := apperr.As(p.Validate()); ae == nil || ae.Field != field {
			t.Errorf("%s: %v", field, ae)
		}
	}
	for name, ts := range map[string][]Tier{
		"none":            nil,
		"bounded last":    {{UpTo: upTo("10"), UnitAmount: d("1")}},
		"unbounded first": {{UnitAmount: d("1")}, {UnitAmount: d("1")}},
		"not increasing":  {{UpTo: upTo("10"), UnitAmount: d("1")}, {UpTo: upTo("10"), UnitAmount: d("1")}, {UnitAmount: d("1")}},
		"negative flat":   {{UnitAmount: d("1"), FlatAmount: d("-1")}},
	} {
		if ae := apperr.As((Price{Model: TieredGraduated, Tiers: ts}).Validate()); ae == nil || ae.Field != "tiers" {
			t.Errorf("tiers %s: %v", name, ae)
		}
	}
	if _, err := (Price{Model: PerUnit, UnitAmount: d("1")}).Amount(d("-1")); err == nil {
		t.Error("a negative quantity was priced")
	}
}

func TestProrate(t *testing.T) {
	t.Parallel()
	kwd, jpy := money.Currency{Code: "KWD", Exponent: 3}, money.Currency{Code: "JPY", Exponent: 0}
	for _, c := range []struct {
		name        string
		fee         int64
		used, total int
		cur         money.Currency
		want        int64
	}{
		{"₹4999.00, 10 of 31 days (December)", 499900, 10, 31, inr, 161258},            // 161258.06… → 1612.58
		{"₹4999.00, 15 of 29 days (February 2028, leap)", 499900, 15, 29, inr, 258569}, // 258568.97 → 2585.69
		{"₹4999.00, 14 of 28 days (February 2027)", 499900, 14, 28, inr, 249950},       // exactly half
		{"₹4999.00, 10 of 30 days (November)", 499900, 10, 30, inr, 166633},            // 166633.33 → 1666.33
		{"₹4999.00, 366 of 366 days (leap year)", 499900, 366, 366, inr, 499900},
		{"₹0.01 for half the period rounds half up", 1, 1, 2, inr, 1},
		{"KWD 1.000 for a third, to 0.010", 1000, 1, 3, kwd, 330}, // 333.3 fils → 0.330
		{"KWD 1.000 for two thirds", 1000, 2, 3, kwd, 670},        // 666.7 → 0.670
		{"¥1000 for a third", 1000, 1, 3, jpy, 333},
		{"nothing used", 499900, 0, 31, inr, 0},
	} {
		got, err := Prorate(c.fee, c.used, c.total, c.cur)
		if err != nil || got != c.want {
			t.Errorf("%s: %d, %v; want %d", c.name, got, err, c.want)
		}
	}
	for _, bad := range [][2]int{{32, 31}, {-1, 31}, {1, 0}} {
		if _, err := Prorate(100, bad[0], bad[1], inr); err == nil {
			t.Errorf("prorate %d of %d accepted", bad[0], bad[1])
		}
	}
}

func TestGST(t *testing.T) {
	t.Parallel()
	lines := []int64{10000, 333} // ₹100.00, ₹3.33
	eighteen := []decimal.Decimal{d("18"), d("18")}
	for _, c := range []struct {
		name  string
		lines []int64
		rates []decimal.Decimal
		intra bool
		want  []TaxLine
	}{
		// 18.00 + 0.5994 → 0.60
		{"inter-state 18%", lines, eighteen, false, []TaxLine{{"IGST 18%", 1860}}},
		// 9.00 + 0.2997 → 0.30, twice
		{"intra-state 18%", lines, eighteen, true, []TaxLine{{"CGST 9%", 930}, {"SGST 9%", 930}}},
		// 2.50 + 0.08325 → 0.08
		{"intra-state 5%", lines, []decimal.Decimal{d("5"), d("5")}, true, []TaxLine{{"CGST 2.5%", 258}, {"SGST 2.5%", 258}}},
		// ₹0.20 × 2.5% = 0.005 → 0.01 (half up)
		{"half a paisa rounds up", []int64{20}, []decimal.Decimal{d("5")}, true, []TaxLine{{"CGST 2.5%", 1}, {"SGST 2.5%", 1}}},
		// per line at its own rate; a 0% line adds nothing
		{"mixed rates", []int64{10000, 10000, 10000}, []decimal.Decimal{d("18"), d("12"), d("0")}, false, []TaxLine{{"IGST 18%", 1800}, {"IGST 12%", 1200}}},
	} {
		got, err := GST(c.lines, c.rates, c.intra, inr)
		if err != nil || len(got) != len(c.want) {
			t.Fatalf("%s: %v %v", c.name, got, err)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	}
	if _, err := GST([]int64{1}, []decimal.Decimal{d("101")}, false, inr); err == nil {
		t.Error("a 101% rate was accepted")
	}
}

func TestCoupons(t *testing.T) {
	t.Parallel()
	pct := func(p string) Coupon { return Coupon{PercentOff: d(p), Duration: Forever} }
	amt := func(a int64) Coupon { return Coupon{AmountOff: a, Duration: Once} }
	for _, c := range []struct {
		name   string
		coupon Coupon
		lines  []int64
		want   []int64
	}{
		{"10% per line, rounded per line", pct("10"), []int64{10000, 333, 0}, []int64{1000, 33, 0}}, // 33.3 → 33
		{"15% of ₹3.33 rounds half up", pct("15"), []int64{333}, []int64{50}},                       // 49.95 → 50
		{"100% leaves every line at zero", pct("100"), []int64{10000, 333}, []int64{10000, 333}},
		{"₹50 off taken from lines in order", amt(5000), []int64{3000, 4000}, []int64{3000, 2000}},
		{"₹90 off a ₹70 invoice is capped: no line negative", amt(9000), []int64{3000, 4000}, []int64{3000, 4000}},
	} {
		if err := c.coupon.Validate(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := c.coupon.Discounts(c.lines, inr)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != c.want[i] || got[i] > c.lines[i] {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	}
	rep := Coupon{PercentOff: d("10"), Duration: Repeating, Periods: 3}
	once := Coupon{AmountOff: 100, Duration: Once}
	if !rep.AppliesTo(3) || rep.AppliesTo(4) || !once.AppliesTo(1) || once.AppliesTo(2) || !pct("5").AppliesTo(100) {
		t.Error("AppliesTo")
	}
	for name, c := range map[string]Coupon{
		"both":              {PercentOff: d("10"), AmountOff: 5, Duration: Once},
		"neither":           {Duration: Once},
		"over 100%":         {PercentOff: d("101"), Duration: Once},
		"repeating 0 times": {PercentOff: d("10"), Duration: Repeating},
		"unknown duration":  {PercentOff: d("10"), Duration: "SOMETIMES"},
	} {
		if c.Validate() == nil {
			t.Errorf("coupon %s accepted", name)
		}
	}
}

func TestPeriods(t *testing.T) {
	t.Parallel()
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		name   string
		start  time.Time
		period string
		anchor int
		until  time.Time
		want   []Period
		days   []int // each period's days
		full   []int // the whole period's days
	}{
		{"monthly on the 1st, started on the 1st", day(2026, 12, 1), Monthly, 1, day(2027, 3, 1),
			[]Period{{day(2026, 12, 1), day(2027, 1, 1), day(2026, 12, 1)}, {day(2027, 1, 1), day(2027, 2, 1), day(2027, 1, 1)}, {day(2027, 2, 1), day(2027, 3, 1), day(2027, 2, 1)}},
			[]int{31, 31, 28}, []int{31, 31, 28}},
		{"monthly on the 1st, started mid-month: a partial first period", time.Date(2026, 12, 10, 15, 4, 0, 0, time.UTC), Monthly, 1, day(2027, 1, 2),
			[]Period{{day(2026, 12, 10), day(2027, 1, 1), day(2026, 12, 1)}, {day(2027, 1, 1), day(2027, 2, 1), day(2027, 1, 1)}},
			[]int{22, 31}, []int{31, 31}},
		{"anchor 31 in short months (2028 is a leap year)", day(2028, 1, 31), Monthly, 31, day(2028, 4, 1),
			[]Period{{day(2028, 1, 31), day(2028, 2, 29), day(2028, 1, 31)}, {day(2028, 2, 29), day(2028, 3, 31), day(2028, 2, 29)}, {day(2028, 3, 31), day(2028, 4, 30), day(2028, 3, 31)}},
			[]int{29, 31, 30}, []int{29, 31, 30}},
		{"quarterly on the 15th", day(2027, 1, 15), Quarterly, 15, day(2027, 5, 1),
			[]Period{{day(2027, 1, 15), day(2027, 4, 15), day(2027, 1, 15)}, {day(2027, 4, 15), day(2027, 7, 15), day(2027, 4, 15)}},
			[]int{90, 91}, []int{90, 91}},
		{"annual across a leap day", day(2027, 3, 1), Annual, 1, day(2028, 3, 2),
			[]Period{{day(2027, 3, 1), day(2028, 3, 1), day(2027, 3, 1)}, {day(2028, 3, 1), day(2029, 3, 1), day(2028, 3, 1)}},
			[]int{366, 365}, []int{366, 365}},
	} {
		got, err := Periods(c.start, c.period, c.anchor, c.until)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(got) != len(c.want) {
			t.Fatalf("%s: %d periods %v, want %d", c.name, len(got), got, len(c.want))
		}
		for i := range got {
			if got[i] != c.want[i] || got[i].Days() != c.days[i] || got[i].FullDays() != c.full[i] {
				t.Errorf("%s period %d: %v (%d of %d days), want %v (%d of %d)", c.name, i, got[i], got[i].Days(), got[i].FullDays(), c.want[i], c.days[i], c.full[i])
			}
		}
	}
	for _, bad := range []struct {
		period string
		anchor int
	}{{"WEEKLY", 1}, {Monthly, 0}, {Monthly, 32}} {
		if _, err := Periods(time.Now(), bad.period, bad.anchor, time.Now().AddDate(1, 0, 0)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// growth is api.md's plan: ₹4,999 a month (18 % GST, SAC 998314) and API
// calls on a meter, the first 100,000 free, then ₹0.0015 each.
var growth = []Charge{
	{Type: Fixed, DisplayName: "Platform fee", Amount: d("4999"), TaxRate: d("18"), SACCode: "998314"},
	{Type: Usage, DisplayName: "API calls", MeterID: "mtr_calls", TaxRate: d("18"),
		Price: Price{Model: TieredGraduated, Tiers: []Tier{{UpTo: upTo("100000"), UnitAmount: d("0")}, {UnitAmount: d("0.0015")}}}},
}

func TestComposeGolden(t *testing.T) {
	t.Parallel()
	dec := Period{Start: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), FullStart: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	jan := Period{Start: dec.End, End: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), FullStart: dec.End}
	usage := map[string]decimal.Decimal{"mtr_calls": d("1234567")}
	ten := &Coupon{PercentOff: d("10"), Duration: Forever}
	for _, c := range []struct {
		name                           string
		in                             BillInput
		subtotal, discount, tax, total int64
		taxes                          []TaxLine
	}{
		// 4999.00 + 1701.85 = 6700.85; IGST 899.82 + 306.333 → 306.33 = 1206.15; total 7907.00
		{"inter-state, no coupon", BillInput{Currency: inr, Charges: growth, UsagePeriod: &dec, Usage: usage, FixedPeriod: &jan, PeriodNumber: 1},
			670085, 0, 120615, 790700, []TaxLine{{"IGST 18%", 120615}}},
		// discount 499.90 + 170.185 → 170.19 = 670.09; taxable 4499.10 and 1531.66;
		// CGST 9%: 404.919 → 404.92 + 137.8494 → 137.85 = 542.77, SGST the same; total 6700.85 − 670.09 + 1085.54 = 7116.30
		{"intra-state, 10 % coupon", BillInput{Currency: inr, Charges: growth, UsagePeriod: &dec, Usage: usage, FixedPeriod: &jan, Coupon: ten, PeriodNumber: 2, IntraState: true},
			670085, 67009, 108554, 711630, []TaxLine{{"CGST 9%", 54277}, {"SGST 9%", 54277}}},
		// a first period started on 10 Dec: 22 of 31 days of 4999.00 = 3547.677… → 3547.68, no usage yet;
		// IGST 638.5824 → 638.58; total 4186.26
		{"first, partial period", BillInput{Currency: inr, Charges: growth, FixedPeriod: &Period{Start: time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC), End: dec.End, FullStart: dec.Start}, PeriodNumber: 1},
			354768, 0, 63858, 418626, []TaxLine{{"IGST 18%", 63858}}},
		// zero usage under the free tier and a ONCE coupon past its period: just the fee
		{"zero usage, coupon used up", BillInput{Currency: inr, Charges: growth, UsagePeriod: &dec, Usage: map[string]decimal.Decimal{}, FixedPeriod: &jan,
			Coupon: &Coupon{PercentOff: d("50"), Duration: Once}, PeriodNumber: 2},
			499900, 0, 89982, 589882, []TaxLine{{"IGST 18%", 89982}}},
	} {
		b, err := Compose(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if b.Subtotal != c.subtotal || b.Discount != c.discount || b.Tax != c.tax || b.Total != c.total || len(b.Taxes) != len(c.taxes) {
			t.Fatalf("%s: subtotal %d discount %d tax %d total %d taxes %v; want %d %d %d %d %v", c.name, b.Subtotal, b.Discount, b.Tax, b.Total, b.Taxes, c.subtotal, c.discount, c.tax, c.total, c.taxes)
		}
		for i := range b.Taxes {
			if b.Taxes[i] != c.taxes[i] {
				t.Errorf("%s: taxes %v, want %v", c.name, b.Taxes, c.taxes)
			}
		}
		for _, l := range b.Lines {
			if l.Amount-l.Discount < 0 {
				t.Errorf("%s: line %s negative", c.name, l.DisplayName)
			}
		}
	}
}
