package pricing

import (
	"testing"
	"time"
)

// Tier and package edges the golden tests in pricing_test.go leave out:
// fractional quantities (a SUM meter's) a trillionth beside a bound, a
// fractional bound, and half a paisa on a per-unit price. Each expected
// amount is worked out by hand in its comment.

func TestPerUnitHalfAPaisaRoundsUp(t *testing.T) {
	t.Parallel()
	golden(t, "per unit ₹0.0015", Price{Model: PerUnit, UnitAmount: d("0.0015")}, map[string]int64{
		"10": 2, // 0.015: exactly half a paisa over 0.01 → 0.02
		"30": 5, // 0.045 → 0.05
		"3":  0, // 0.0045 → 0.00 (under half)
	})
}

func TestTieredGraduatedFractionalEdges(t *testing.T) {
	t.Parallel()
	// tiers: 1–10 at ₹5 (+ ₹20 flat), 11–20 at ₹4, 21+ at ₹3 (+ ₹100 flat)
	golden(t, "graduated", Price{Model: TieredGraduated, Tiers: tiers}, map[string]int64{
		"9.999999999999":  7000,  // 49.999999999995 + 20 = 69.999999999995 → 70.00
		"10.5":            7200,  // 50 + 20 + 0.5×4 = 72.00
		"20.000000000001": 21000, // 110 + 0.000000000003 + 100 flat (the third tier is reached) → 210.00
	})
	// a fractional bound: up to 2.5 units at ₹10, then ₹1
	half := []Tier{{UpTo: upTo("2.5"), UnitAmount: d("10")}, {UnitAmount: d("1")}}
	golden(t, "graduated, bound 2.5", Price{Model: TieredGraduated, Tiers: half}, map[string]int64{
		"2.5": 2500, // 25.00, exactly at the bound
		"3":   2550, // 25 + 0.5×1
	})
	golden(t, "volume, bound 2.5", Price{Model: TieredVolume, Tiers: half}, map[string]int64{
		"2.5": 2500, // 2.5×10
		"3":   300,  // all 3 at ₹1
	})
}

func TestTieredVolumeFractionalEdges(t *testing.T) {
	t.Parallel()
	golden(t, "volume", Price{Model: TieredVolume, Tiers: tiers}, map[string]int64{
		"1":               2500,  // 1×5 + 20 flat of the first tier
		"10.000000000001": 4000,  // past 10: every unit at ₹4, no flat: 40.000000000004 → 40.00
		"20.5":            16150, // 20.5×3 + 100 = 161.50
	})
}

func TestPackageFractionalEdges(t *testing.T) {
	t.Parallel()
	golden(t, "₹50 per 1,000", Price{Model: Package, PackageSize: d("1000"), PackageAmount: d("50")}, map[string]int64{
		"999":               5000,  // one partial package
		"2000":              10000, // exactly two
		"2000.000000000001": 15000, // a trillionth over: three
	})
}

// A first, partial period's fixed fee through Periods and Compose: February
// of a leap year and of a common year, a 31-day and a 30-day month, and a
// partial annual period in a leap and a common year. 0 % tax, so the total
// is the prorated fee.
func TestComposeProratesAFirstPartialPeriod(t *testing.T) {
	t.Parallel()
	day := func(y int, m time.Month, dd int) time.Time { return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		name        string
		start       time.Time
		period      string
		fee         string
		used, whole int
		want        int64
	}{
		// 15 Feb – 1 Mar 2028: 15 of 29 days; 4999 × 15 / 29 = 2585.6896… → 2585.69
		{"February 2028 (leap)", day(2028, 2, 15), Monthly, "4999", 15, 29, 258569},
		// 15 Feb – 1 Mar 2027: 14 of 28 days; exactly half of 4999 = 2499.50
		{"February 2027", day(2027, 2, 15), Monthly, "4999", 14, 28, 249950},
		// 22 Jan – 1 Feb 2027: 10 of 31 days; 4999 × 10 / 31 = 1612.5806… → 1612.58
		{"January (31 days)", day(2027, 1, 22), Monthly, "4999", 10, 31, 161258},
		// 21 Apr – 1 May 2027: 10 of 30 days; 4999 / 3 = 1666.333… → 1666.33
		{"April (30 days)", day(2027, 4, 21), Monthly, "4999", 10, 30, 166633},
		// 2 Dec 2027 – 1 Jan 2028 of the year from 1 Jan 2027: 30 of 365; 12000 × 30 / 365 = 986.3013… → 986.30
		{"annual, 2027", day(2027, 12, 2), Annual, "12000", 30, 365, 98630},
		// 2 Dec 2028 – 1 Jan 2029 of the year from 1 Jan 2028: 30 of 366; 12000 × 30 / 366 = 983.6065… → 983.61
		{"annual, 2028 (leap)", day(2028, 12, 2), Annual, "12000", 30, 366, 98361},
	} {
		ps, err := Periods(c.start, c.period, 1, c.start.Add(time.Hour))
		if err != nil || len(ps) != 1 {
			t.Fatalf("%s: periods %v, %v", c.name, ps, err)
		}
		p := ps[0]
		if p.Days() != c.used || p.FullDays() != c.whole {
			t.Fatalf("%s: %d of %d days, want %d of %d", c.name, p.Days(), p.FullDays(), c.used, c.whole)
		}
		b, err := Compose(BillInput{Currency: inr, Charges: []Charge{{Type: Fixed, DisplayName: "fee", Amount: d(c.fee), TaxRate: d("0")}}, FixedPeriod: &p, PeriodNumber: 1})
		if err != nil || len(b.Lines) != 1 || b.Subtotal != c.want || b.Tax != 0 || b.Total != c.want {
			t.Errorf("%s: %+v, %v; want total %d", c.name, b, err, c.want)
		}
	}
}
