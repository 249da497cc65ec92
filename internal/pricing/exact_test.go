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
