package pricing

import (
	"time"
)

// Step is one billing step of a subscription. Step 0 opens it: the first
// period's fixed fees, billed in advance. Step n ≥ 1 closes period n: its
// usage, billed in arrears, and the next period's fixed fees, in advance
// (none once the subscription ends with period n).
//
// Trial days are free: usage before trial_end is not billed and a fixed
// fee is prorated to the whole days after it. A subscription cancelled
// inside a period (cancel NOW) closes that period at the cancel time: its
// usage up to then is billed, and the whole days after the cancel day of a
// fixed fee already billed come back as a credit on that last invoice.
type Step struct {
	N int
	// Due is when the step may run: the subscription's start for step 0,
	// the end of the period it closes (or the cancel time) for the others.
	Due time.Time
	// Period is what the step's invoice is for: the first period (step 0)
	// or the period closed, up to the cancel time when cancelled inside it.
	Period Period
	// UsagePeriod is the usage billed, in whole hours (nil: none).
	UsagePeriod *Period
	// FixedPeriod is the days of fixed fees billed (nil: none).
	FixedPeriod *Period
	// CreditPeriod is the days of fixed fees billed earlier and given back
	// (nil: none).
	CreditPeriod *Period
	// Last: no step follows this one.
	Last bool
}

func ceilTo(t time.Time, d time.Duration) time.Time {
	if c := t.Truncate(d); c.Before(t) {
		return c.Add(d)
	}
	return t
}

// ceilDay is the first midnight (UTC) at or after t.
func ceilDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if day.Before(t) {
		return day.AddDate(0, 0, 1)
	}
	return day
}

// period is the subscription's period number n (1 for the first).
func (s Subscription) period(n int) (Period, error) {
	mo, err := months(s.BillingPeriod)
	if err != nil {
		return Period{}, err
	}
	ps, err := Periods(s.Start, s.BillingPeriod, s.AnchorDay, s.Start.AddDate(0, mo*n, 1))
	if err != nil {
		return Period{}, err
	}
	return ps[n-1], nil
}

// billable is the part of period p whose fixed fee is charged: after the
// trial (from the day after it ends, unless it ends at midnight) and before
// the cancel day's end; nil when nothing is left.
func (s Subscription) billable(p Period) *Period {
	if s.TrialEnd != nil {
		if t := ceilDay(*s.TrialEnd); t.After(p.Start) {
			p.Start = t
		}
	}
	if s.CancelAt != nil {
		if c := ceilDay(*s.CancelAt); c.Before(p.End) {
			p.End = c
		}
	}
	if !p.Start.Before(p.End) {
		return nil
	}
	return &p
}

// Step is billing step n of the subscription; ok is false when the
// subscription has no such step (it ended before).
func (s Subscription) Step(n int) (Step, bool, error) {
	if s.CancelAt != nil && !s.CancelAt.After(s.Start) {
		return Step{}, false, nil
	}
	first, err := s.period(1)
	if err != nil {
		return Step{}, false, err
	}
	if n == 0 {
		return Step{N: 0, Due: s.Start, Period: first, FixedPeriod: s.billable(first), Last: false}, true, nil
	}
	p, err := s.period(n)
	if err != nil {
		return Step{}, false, err
	}
	if s.CancelAt != nil && !s.CancelAt.After(p.Start) {
		return Step{}, false, nil
	}
	st := Step{N: n, Due: p.End}
	if s.CancelAt != nil && !s.CancelAt.After(p.End) {
		st.Due, st.Last = *s.CancelAt, true
	}
	st.Period = Period{Start: p.Start, End: st.Due, FullStart: p.FullStart}
	usage := Period{Start: p.Start, End: ceilTo(st.Due, time.Hour), FullStart: p.FullStart}
	if s.TrialEnd != nil {
		if t := ceilTo(*s.TrialEnd, time.Hour); t.After(usage.Start) {
			usage.Start = t
		}
	}
	if usage.Start.Before(usage.End) {
		st.UsagePeriod = &usage
	}
	if !st.Last {
		next, err := s.period(n + 1)
		if err != nil {
			return Step{}, false, err
		}
		st.FixedPeriod = s.billable(next)
	}
	// Fixed fees billed in advance past the cancel day come back.
	if s.CancelAt != nil && s.FixedBilledThrough != nil {
		c := Period{Start: ceilDay(*s.CancelAt), End: *s.FixedBilledThrough, FullStart: p.FullStart}
		if c.Start.Before(p.Start) {
			c.Start = p.Start
		}
		if c.End.After(p.End) {
			c.End = p.End
		}
		if c.Start.Before(c.End) {
			st.CreditPeriod = &c
		}
	}
	return st, true, nil
}
