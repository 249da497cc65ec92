package billing

import (
	"slices"
	"testing"
	"time"
)

func TestSplitRefundNewestFirst(t *testing.T) {
	src := func(av ...int64) []RefundSource {
		out := make([]RefundSource, len(av))
		for i, a := range av {
			out[i] = RefundSource{RazorpayPaymentID: "pay_" + string(rune('A'+i)), Available: a}
		}
		return out
	}
	cases := []struct {
		name    string
		sources []RefundSource
		amount  int64
		want    []int64
		ok      bool
	}{
		{"newest capture first (captures 60 then 40: refund 80 = 40 newest + 40)", src(4000, 6000), 8000, []int64{4000, 4000}, true},
		{"fits in the newest", src(4000, 6000), 2500, []int64{2500, 0}, true},
		{"everything", src(4000, 6000), 10000, []int64{4000, 6000}, true},
		{"remainder below the minimum moves to the next source", src(4000, 6000), 4050, []int64{3950, 100}, true},
		{"a source with less than the minimum left is skipped", src(50, 6000), 1000, []int64{0, 1000}, true},
		{"cannot split 1.50 across 1.20 + more without a part below 1.00: the older takes it all", src(120, 500), 150, []int64{0, 150}, true},
		{"more than available", src(4000, 6000), 10001, nil, false},
		{"below the minimum", src(4000), 99, nil, false},
		{"unsplittable: 1.50 from 1.00 + 0.50", src(100, 50), 150, nil, false},
	}
	for _, c := range cases {
		got, ok := SplitRefund(c.sources, c.amount, 100)
		if ok != c.ok || !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v %v, want %v %v", c.name, got, ok, c.want, c.ok)
		}
		if ok {
			var sum int64
			for _, g := range got {
				if g != 0 && g < 100 {
					t.Errorf("%s: share %d below the minimum", c.name, g)
				}
				sum += g
			}
			if sum != c.amount {
				t.Errorf("%s: shares sum to %d, not %d", c.name, sum, c.amount)
			}
		}
	}
}

func TestRefundSourcesNewestFirstAndFallback(t *testing.T) {
	p := Payment{GatewayPaymentID: "pay_B", AmountReceived: 10000, Captures: []Capture{
		{RazorpayPaymentID: "pay_A", Amount: 6000, Refunded: 1000},
		{RazorpayPaymentID: "pay_B", Amount: 4000, RefundPending: 500},
	}}
	got := RefundSources(p)
	if len(got) != 2 || got[0] != (RefundSource{"pay_B", 3500}) || got[1] != (RefundSource{"pay_A", 5000}) {
		t.Fatalf("sources: %+v", got)
	}
	old := Payment{GatewayPaymentID: "pay_X", AmountReceived: 10000, RefundedAmount: 2000, RefundPending: 3000}
	if got := RefundSources(old); len(got) != 1 || got[0] != (RefundSource{"pay_X", 5000}) {
		t.Fatalf("a payment without captures: %+v", got)
	}
}

func TestSettleRefundNeverReopensTheInvoice(t *testing.T) {
	now := time.Now()
	inv := Invoice{AmountDue: 10000, AmountPaid: 10000, PaymentStatus: PaymentSucceeded, InvoiceStatus: InvoiceFinalized}
	pay := Payment{AmountReceived: 10000, PaymentStatus: PaymentSucceeded, Captures: []Capture{{RazorpayPaymentID: "pay_A", Amount: 10000}}}
	rf := Refund{Parts: []RefundPart{{RazorpayPaymentID: "pay_A", Amount: 4000, Key: "rfd_x-1", Status: RefundPending}}}
	pay.ReserveRefund("pay_A", 4000)
	SettleRefund(RefundOutcome{RazorpayRefundID: "rfnd_1", RazorpayPaymentID: "pay_A", Amount: 4000, Processed: true}, &pay, &inv, &rf, 0, now)
	if inv.AmountPaid != 10000 || inv.AmountRemaining() != 0 || inv.AmountRefunded != 4000 || inv.PaymentStatus != PaymentSucceeded ||
		pay.PaymentStatus != PaymentPartiallyRefunded || pay.RefundPending != 0 || pay.Captures[0].Refunded != 4000 || pay.Captures[0].RefundPending != 0 ||
		rf.Status != RefundProcessed || rf.Parts[0].RazorpayRefundID != "rfnd_1" {
		t.Fatalf("partial: %+v %+v %+v", inv, pay, rf)
	}
	SettleRefund(RefundOutcome{RazorpayRefundID: "rfnd_2", RazorpayPaymentID: "pay_A", Amount: 6000, Processed: true}, &pay, &inv, nil, -1, now)
	if inv.AmountPaid != 10000 || inv.AmountRemaining() != 0 || inv.AmountRefunded != 10000 || inv.PaymentStatus != PaymentRefunded || pay.PaymentStatus != PaymentRefunded {
		t.Fatalf("full: %+v %+v", inv, pay)
	}
	// A part already failed (released after the grace period) is not
	// released twice when Razorpay later reports it processed.
	pay2 := Payment{AmountReceived: 10000, RefundPending: 700}
	rf2 := Refund{Parts: []RefundPart{{RazorpayPaymentID: "pay_A", Amount: 300, Status: RefundFailed}}}
	inv2 := Invoice{AmountDue: 10000, AmountPaid: 10000}
	SettleRefund(RefundOutcome{RazorpayRefundID: "rfnd_3", RazorpayPaymentID: "pay_A", Amount: 300, Processed: true}, &pay2, &inv2, &rf2, 0, now)
	if pay2.RefundPending != 700 || pay2.RefundedAmount != 300 || rf2.Status != RefundProcessed {
		t.Fatalf("late report of a failed part: %+v %+v", pay2, rf2)
	}
}
