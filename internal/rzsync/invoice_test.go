package rzsync

import (
	"fmt"
	"testing"

	"github.com/razorbill/razorbill/internal/billing"
)

func lines(n int, qty, unit string, amount int64) []billing.LineItem {
	out := make([]billing.LineItem, n)
	for i := range out {
		out[i] = billing.LineItem{DisplayName: fmt.Sprint("line ", i), Quantity: qty, UnitAmount: unit, Amount: amount}
	}
	return out
}

func total(inv billing.Invoice) int64 {
	var t int64
	for _, l := range inv.LineItems {
		t += l.Amount
	}
	return t
}

func TestRazorpayLinesTotalEqualsAmountDue(t *testing.T) {
	t.Parallel()
	for name, inv := range map[string]billing.Invoice{
		"usage and fixed": {Currency: "INR", LineItems: []billing.LineItem{
			{DisplayName: "API calls", Quantity: "1234567", UnitAmount: "0.0015", Amount: 185185},
			{DisplayName: "Seats", Quantity: "3", UnitAmount: "250.5", Amount: 75150},
			{DisplayName: "Free tier", Quantity: "10", UnitAmount: "0", Amount: 0},
		}},
		"fractional quantity": {Currency: "USD", LineItems: []billing.LineItem{{DisplayName: "GB", Quantity: "2.5", UnitAmount: "0.1", Amount: 25}}},
		"120 lines":           {Currency: "INR", InvoiceNumber: "INV-1", LineItems: lines(120, "7", "1.01", 707)},
		"jpy":                 {Currency: "JPY", LineItems: lines(2, "3", "333.5", 1001)},
		"kwd misfit":          {Currency: "KWD", InvoiceNumber: "INV-2", LineItems: []billing.LineItem{{DisplayName: "a", Quantity: "1", UnitAmount: "1.005", Amount: 1005}, {DisplayName: "b", Quantity: "1", UnitAmount: "0.005", Amount: 5}}},
	} {
		inv.AmountDue = total(inv)
		got, err := RazorpayLines(inv)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var sum int64
		for _, l := range got {
			if l.Amount <= 0 || l.Quantity <= 0 {
				t.Errorf("%s: a line Razorpay refuses: %+v", name, l)
			}
			sum += l.Amount * l.Quantity
		}
		if sum != inv.AmountDue || len(got) > 50 {
			t.Errorf("%s: %d lines summing to %d, want ≤50 summing to %d", name, len(got), sum, inv.AmountDue)
		}
	}
}

func TestRazorpayLinesShapes(t *testing.T) {
	t.Parallel()
	inv := billing.Invoice{Currency: "INR", LineItems: []billing.LineItem{
		{DisplayName: "API calls", Quantity: "1234567", UnitAmount: "0.0015", Amount: 185185},
		{DisplayName: "Seats", Quantity: "3", UnitAmount: "250.50", Amount: 75150},
	}, AmountDue: 260335}
	got, _ := RazorpayLines(inv)
	if got[0].Quantity != 1 || got[0].Amount != 185185 || got[0].Description == "" || got[1].Quantity != 3 || got[1].Amount != 25050 {
		t.Fatalf("lines: %+v", got)
	}
	big := billing.Invoice{Currency: "INR", InvoiceNumber: "INV-9", LineItems: lines(60, "1", "1", 100)}
	big.AmountDue = total(big)
	got, _ = RazorpayLines(big)
	if len(got) != 50 || got[49].Name != "11 more items" || got[49].Amount != 1100 {
		t.Fatalf("grouping: %d lines, last %+v", len(got), got[len(got)-1])
	}
	kwd := billing.Invoice{Currency: "KWD", InvoiceNumber: "INV-3", LineItems: []billing.LineItem{{DisplayName: "a", Quantity: "1", UnitAmount: "1.005", Amount: 1005}}, AmountDue: 1005}
	if _, err := RazorpayLines(kwd); err == nil {
		t.Fatal("a KWD total not ending in 0 was accepted")
	}
}

// A subscription's invoice: the coupon's discount is taken off its line
// and each GST line is a Razorpay line of its own, so Razorpay's total is
// ours to the paisa. By hand: platform 4999.00 less 10 % = 4499.10; usage
// 102.90 less 10.29 = 92.61; CGST 9 % is 404.919 → 404.92 plus 8.3349 →
// 8.33 = 413.25, SGST the same; total 4591.71 + 826.50 = 5418.21.
func TestRazorpayLinesCarryDiscountsAndTaxes(t *testing.T) {
	t.Parallel()
	inv := billing.Invoice{Currency: "INR", LineItems: []billing.LineItem{
		{DisplayName: "Platform fee", Quantity: "1", UnitAmount: "4999", Amount: 499900, Discount: 49990},
		{DisplayName: "API calls", Quantity: "68600", UnitAmount: "0.0015", Amount: 10290, Discount: 1029},
	}, TaxLines: []billing.TaxLine{{Name: "CGST 9%", Amount: 41325}, {Name: "SGST 9%", Amount: 41325}}}
	inv.Subtotal, inv.Discount = 510190, 51019
	inv.AmountDue = inv.Subtotal - inv.Discount + 41325*2
	got, err := RazorpayLines(inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].Amount != 449910 || got[0].Quantity != 1 || got[1].Amount != 9261 ||
		got[2].Name != "CGST 9%" || got[2].Amount != 41325 || got[3].Name != "SGST 9%" {
		t.Fatalf("lines: %+v", got)
	}
	var sum int64
	for _, l := range got {
		sum += l.Amount * l.Quantity
	}
	if sum != inv.AmountDue || sum != 541821 {
		t.Fatalf("Razorpay total %d, ours %d (want 5418.21)", sum, inv.AmountDue)
	}
}
