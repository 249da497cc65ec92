package pricing

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/razorbill/razorbill/internal/money"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func tp(s string) *time.Time { t := at(s); return &t }

func span(p *Period) string {
	if p == nil {
		return "none"
	}
	return p.Start.Format(time.RFC3339) + "/" + p.End.Format(time.RFC3339)
}

func TestStepsOfAMonthlySubscription(t *testing.T) {
	t.Parallel()
	// Started 15 Jan 2026, billed on the 1st.
	sub := Subscription{Start: at("2026-01-15T00:00:00Z"), BillingPeriod: Monthly, AnchorDay: 1}
	for _, c := range []struct {
		n                   int
		due, usage, fixed   string
		fixedDays, fullDays int
	}{
		// Opening: 15 Jan–1 Feb's fee in advance, 17 of 31 days.
		{0, "2026-01-15T00:00:00Z", "none", "2026-01-15T00:00:00Z/2026-02-01T00:00:00Z", 17, 31},
		// Close of period 1: its usage, February's fee (28 of 28 days).
		{1, "2026-02-01T00:00:00Z", "2026-01-15T00:00:00Z/2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z/2026-03-01T00:00:00Z", 28, 28},
		{2, "2026-03-01T00:00:00Z", "2026-02-01T00:00:00Z/2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z/2026-04-01T00:00:00Z", 31, 31},
	} {
		st, ok, err := sub.Step(c.n)
		if err != nil || !ok {
			t.Fatalf("step %d: ok=%v err=%v", c.n, ok, err)
		}
		if got := st.Due.Format(time.RFC3339); got != c.due || span(st.UsagePeriod) != c.usage || span(st.FixedPeriod) != c.fixed || st.Last || st.CreditPeriod != nil {
			t.Errorf("step %d: due %s usage %s fixed %s last %v credit %s", c.n, got, span(st.UsagePeriod), span(st.FixedPeriod), st.Last, span(st.CreditPeriod))
		}
		if st.FixedPeriod.Days() != c.fixedDays || st.FixedPeriod.FullDays() != c.fullDays {
			t.Errorf("step %d: fixed %d of %d days, want %d of %d", c.n, st.FixedPeriod.Days(), st.FixedPeriod.FullDays(), c.fixedDays, c.fullDays)
		}
	}
}

func TestATrialIsFree(t *testing.T) {
	t.Parallel()
	// Trial to 20 Jan 10:00: the fee counts from 21 Jan (11 of 31 days),
	// usage from 10:00 on 20 Jan (a trial ending inside an hour would bill
	// usage from the next whole hour).
	sub := Subscription{Start: at("2026-01-15T00:00:00Z"), BillingPeriod: Monthly, AnchorDay: 1, TrialEnd: tp("2026-01-20T10:00:00Z")}
	st, _, _ := sub.Step(0)
	if span(st.FixedPeriod) != "2026-01-21T00:00:00Z/2026-02-01T00:00:00Z" || st.FixedPeriod.Days() != 11 || st.FixedPeriod.FullDays() != 31 {
		t.Fatalf("opening fee %s", span(st.FixedPeriod))
	}
	st, _, _ = sub.Step(1)
	if span(st.UsagePeriod) != "2026-01-20T10:00:00Z/2026-02-01T00:00:00Z" {
		t.Fatalf("usage %s", span(st.UsagePeriod))
	}
	// A trial covering the whole first period: no opening fee at all.
	sub.TrialEnd = tp("2026-02-03T00:00:00Z")
	if st, _, _ = sub.Step(0); st.FixedPeriod != nil {
		t.Fatalf("fee during the trial: %s", span(st.FixedPeriod))
	}
}

func TestCancelNowClosesThePeriodAtTheCancelAndCreditsTheUnusedDays(t *testing.T) {
	t.Parallel()
	// February's fee was billed on 1 Feb (through 1 Mar); cancelled on
	// 10 Feb at 12:30: usage to 13:00 on 10 Feb, and 11 Feb–1 Mar (18 of
	// 28 days) come back.
	sub := Subscription{Start: at("2026-01-01T00:00:00Z"), BillingPeriod: Monthly, AnchorDay: 1, Steps: 2,
		CancelAt: tp("2026-02-10T12:30:00Z"), FixedBilledThrough: tp("2026-03-01T00:00:00Z")}
	st, ok, err := sub.Step(2)
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if !st.Last || st.Due != at("2026-02-10T12:30:00Z") || span(st.UsagePeriod) != "2026-02-01T00:00:00Z/2026-02-10T13:00:00Z" || st.FixedPeriod != nil ||
		span(st.CreditPeriod) != "2026-02-11T00:00:00Z/2026-03-01T00:00:00Z" || st.CreditPeriod.Days() != 18 || st.CreditPeriod.FullDays() != 28 {
		t.Fatalf("step: due %s last %v usage %s fixed %s credit %s", st.Due, st.Last, span(st.UsagePeriod), span(st.FixedPeriod), span(st.CreditPeriod))
	}
	if _, ok, _ := sub.Step(3); ok {
		t.Fatal("a step after the last")
	}
	// Cancelled at the period's end: the close bills its usage, no fee
	// for a next period, no credit, and nothing after it.
	sub.CancelAt = tp("2026-03-01T00:00:00Z")
	st, _, _ = sub.Step(2)
	if !st.Last || st.FixedPeriod != nil || st.CreditPeriod != nil || span(st.UsagePeriod) != "2026-02-01T00:00:00Z/2026-03-01T00:00:00Z" {
		t.Fatalf("period-end cancel: last %v fixed %s credit %s usage %s", st.Last, span(st.FixedPeriod), span(st.CreditPeriod), span(st.UsagePeriod))
	}
	if err := sub.Schedule(); err != nil || sub.NextBillingAt == nil || !sub.NextBillingAt.Equal(at("2026-03-01T00:00:00Z")) {
		t.Fatalf("next billing %v %v", sub.NextBillingAt, err)
	}
	sub.Steps = 3
	if err := sub.Schedule(); err != nil || sub.NextBillingAt != nil {
		t.Fatalf("an ended subscription is still scheduled: %v %v", sub.NextBillingAt, err)
	}
}

func TestACreditIsTakenOffTheLinesNeverBelowZero(t *testing.T) {
	t.Parallel()
	inr := money.MustCurrency("INR")
	// Fee 2800.00; 18 of 28 days back = 1800.00. The last invoice has
	// 500.00 of usage: 500.00 is absorbed, 1300.00 is left unapplied.
	credit := Period{Start: at("2026-02-11T00:00:00Z"), End: at("2026-03-01T00:00:00Z"), FullStart: at("2026-02-01T00:00:00Z")}
	usage := Period{Start: at("2026-02-01T00:00:00Z"), End: at("2026-02-10T13:00:00Z"), FullStart: at("2026-02-01T00:00:00Z")}
	b, err := Compose(BillInput{Currency: inr, IntraState: true, UsagePeriod: &usage, CreditPeriod: &credit,
		Charges: []Charge{
			{Type: Fixed, DisplayName: "Fee", Amount: decimal.NewFromInt(2800), TaxRate: DefaultTaxRate},
			{Type: Usage, DisplayName: "Calls", MeterID: "mtr_1", Price: Price{Model: PerUnit, UnitAmount: decimal.NewFromInt(5)}, TaxRate: DefaultTaxRate},
		},
		Usage: map[string]decimal.Decimal{"mtr_1": decimal.NewFromInt(100)}})
	if err != nil {
		t.Fatal(err)
	}
	if b.Subtotal != 50000 || b.Credit != 50000 || b.Discount != 50000 || b.UnappliedCredit != 130000 || b.Tax != 0 || b.Total != 0 || b.Lines[0].Discount != 50000 {
		t.Fatalf("bill: %+v", b)
	}
}
