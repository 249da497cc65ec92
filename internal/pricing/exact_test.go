package pricing

import (
	"testing"

	"github.com/shopspring/decimal"
)

// Regression (found by TestInvoiceTotalEqualsAnIndependentComputationFromRawEvents):
// the package count was q.Div(size).Ceil(), and Div rounds to 16 decimals:
// 1,000,000.000000000001 / 1,000,000 = 1.000000000000000000001 became 1, so
// the started second package was free.
func TestPackageCountIsExactForLargePackages(t *testing.T) {
	t.Parallel()
	golden(t, "₹5 per 1,000,000", Price{Model: Package, PackageSize: d("1000000"), PackageAmount: d("5")}, map[string]int64{
		"1000000":              500,  // one
		"1000000.000000000001": 1000, // a trillionth into the second: two
		"3000000.000000000001": 2000, // four
	})
}

// Regression (found by the same property test): GST divided line × rate by
// 100 with Div, which rounds to 16 decimals; ₹0.01 at 99.999999999999 %
// intra-state is CGST 49.9999999999995 % of 0.01 = 0.00499999999999995,
// just under half a paisa, so 0.00 — Div made it 0.0050000000000000 and
// rounded it up to 0.01.
func TestGSTIsExactForRatesWithManyDecimals(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		rate string
		want []TaxLine
	}{
		{"99.999999999999", []TaxLine{{"CGST 49.9999999999995%", 0}, {"SGST 49.9999999999995%", 0}}},
		{"100", []TaxLine{{"CGST 50%", 1}, {"SGST 50%", 1}}}, // 0.005 exactly: half a paisa rounds up
	} {
		got, err := GST([]int64{1}, []decimal.Decimal{d(c.rate)}, true, inr)
		if err != nil || len(got) != len(c.want) {
			t.Fatalf("%s%%: %v %v", c.rate, got, err)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s%%: %v, want %v", c.rate, got, c.want)
			}
		}
	}
}

// Regression (found by the same property test): Compose summed the
// subtotal, the tax and the total with + on int64, so lines near the
// 2^62-paise line limit wrapped around to a negative invoice. Each sum now
// fails instead (money.Add).
func TestComposeFailsRatherThanWrapAround(t *testing.T) {
	t.Parallel()
	p := Period{}
	q := map[string]decimal.Decimal{"m": d("1000000000000000")} // 10^15 units at ₹46: 4.6 × 10^18 paise a line
	line := func(rate string) Charge {
		return Charge{Type: Usage, DisplayName: "calls", MeterID: "m", TaxRate: d(rate), Price: Price{Model: PerUnit, UnitAmount: d("46")}}
	}
	for name, charges := range map[string][]Charge{
		// 3 × 4.6 × 10^18 = 1.38 × 10^19 > 2^63 − 1 ≈ 9.22 × 10^18 (it was −4,646,744,073,709,551,616)
		"subtotal": {line("0"), line("0"), line("0")},
		// subtotal 9.2 × 10^18 fits; + 18 % tax (1.656 × 10^18) does not
		"total": {line("18"), line("18")},
	} {
		b, err := Compose(BillInput{Currency: inr, Charges: charges, UsagePeriod: &p, Usage: q})
		if err == nil {
			t.Errorf("%s past int64: composed subtotal %d tax %d total %d", name, b.Subtotal, b.Tax, b.Total)
		}
	}
	// two lines each within the limit, at 0 %, sum to 9.2 × 10^18: fine
	b, err := Compose(BillInput{Currency: inr, Charges: []Charge{line("0"), line("0")}, UsagePeriod: &p, Usage: q})
	if err != nil || b.Total != 9_200_000_000_000_000_000 {
		t.Errorf("9.2 × 10^18 paise: %d, %v", b.Total, err)
	}
	// GST's per-name sum: three lines of 4.6 × 10^18 paise at 100 % IGST
	// are each taxed within the line limit, 1.38 × 10^19 together
	const big = 4_600_000_000_000_000_000
	if got, err := GST([]int64{big, big, big}, []decimal.Decimal{d("100"), d("100"), d("100")}, false, inr); err == nil {
		t.Errorf("IGST past int64: %v", got)
	}
}
