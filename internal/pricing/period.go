package pricing

import (
	"fmt"
	"time"
)

// Billing periods.
const (
	Monthly   = "MONTHLY"
	Quarterly = "QUARTERLY"
	Annual    = "ANNUAL"
)

// months is the length of a billing period in calendar months.
func months(period string) (int, error) {
	switch period {
	case Monthly:
		return 1, nil
	case Quarterly:
		return 3, nil
	case Annual:
		return 12, nil
	}
	return 0, fmt.Errorf("billing_period must be MONTHLY, QUARTERLY or ANNUAL, not %q", period)
}

// anchorIn is the anchor day in the given month at 00:00 UTC; a day the
// month lacks is its last day (anchor 31 bills on 30 April and on 28 or 29
// February).
func anchorIn(year int, month time.Month, day int) time.Time {
	last := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return time.Date(year, month, min(day, last), 0, 0, 0, 0, time.UTC)
}

// Period is one billing period [Start, End).
type Period struct {
	Start, End time.Time
	// FullStart is where a whole period ending at End starts: Start, except
	// for a first, partial period (proration divides by the whole's days).
	FullStart time.Time
}

// Days is the period's length in days.
func (p Period) Days() int { return int(p.End.Sub(p.Start) / (24 * time.Hour)) }

// FullDays is the length in days of the whole period ending at End.
func (p Period) FullDays() int { return int(p.End.Sub(p.FullStart) / (24 * time.Hour)) }

// Periods lists the billing periods of a subscription that started at
// start (truncated to its UTC day), billed every period on anchorDay
// (1–31), that begin before until. The first period runs from start to the
// first anchor after it (a partial period unless start is an anchor).
func Periods(start time.Time, period string, anchorDay int, until time.Time) ([]Period, error) {
	n, err := months(period)
	if err != nil {
		return nil, err
	}
	if anchorDay < 1 || anchorDay > 31 {
		return nil, fmt.Errorf("anchor_day must be 1 to 31, not %d", anchorDay)
	}
	y, m, d := start.UTC().Date()
	start = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	// Anchors A(j) = the anchor day of month am + j·n, where A(0) is the
	// first anchor on or after start; always re-anchored from am, so anchor
	// 31 gives 31 Jan → 28 Feb → 31 Mar, never drifting to the 28th.
	am := m
	if anchorIn(y, am, anchorDay).Before(start) {
		am++
	}
	anchor := func(j int) time.Time { return anchorIn(y, am+time.Month(j*n), anchorDay) }
	var out []Period
	if a0 := anchor(0); !a0.Equal(start) && start.Before(until) {
		out = append(out, Period{Start: start, End: a0, FullStart: anchor(-1)})
	}
	for j := 0; anchor(j).Before(until); j++ {
		out = append(out, Period{Start: anchor(j), End: anchor(j + 1), FullStart: anchor(j)})
		if len(out) > 10000 {
			return nil, fmt.Errorf("more than 10,000 periods")
		}
	}
	return out, nil
}
