package pricing

import (
	"strings"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/money"
)

// Subscription statuses.
const (
	SubActive   = "ACTIVE"
	SubCanceled = "CANCELED"
)

// CouponDoc is a subscription's coupon as the API takes it.
type CouponDoc struct {
	PercentOff string `dynamodbav:"percent_off,omitempty" json:"percent_off,omitempty"`
	AmountOff  string `dynamodbav:"amount_off,omitempty" json:"amount_off,omitempty"`
	Duration   string `dynamodbav:"duration" json:"duration"`
	Periods    int    `dynamodbav:"periods,omitempty" json:"periods,omitempty"`
}

// Subscription puts a customer on a plan version.
type Subscription struct {
	ID            string     `dynamodbav:"id"`
	CustomerID    string     `dynamodbav:"customer_id"`
	PlanID        string     `dynamodbav:"plan_id"`
	PlanVersion   int        `dynamodbav:"plan_version"`
	Start         time.Time  `dynamodbav:"start"`
	BillingPeriod string     `dynamodbav:"billing_period"`
	AnchorDay     int        `dynamodbav:"anchor_day"`
	TrialEnd      *time.Time `dynamodbav:"trial_end,omitempty"`
	Coupon        *CouponDoc `dynamodbav:"coupon,omitempty"`
	Status        string     `dynamodbav:"status"`
	// CancelAt is when it ends (a period end, or the moment of an
	// immediate cancel); nil while it runs on.
	CancelAt *time.Time `dynamodbav:"cancel_at,omitempty"`
	// Steps is how many billing steps (Step) are done; NextBillingAt is
	// when the next is due (nil: none is left), the key of the period
	// close's index; Invoices counts the invoices the steps made (a coupon
	// for N periods covers the first N); FixedBilledThrough is the end of
	// the last fixed-fee days billed.
	// PendingPlanID and PendingPlanVersion replace the plan from
	// PendingFrom (a period's end): that period's close bills its usage on
	// the old plan and the next period's fees on the new one.
	PendingPlanID      string     `dynamodbav:"pending_plan_id,omitempty"`
	PendingPlanVersion int        `dynamodbav:"pending_plan_version,omitempty"`
	PendingFrom        *time.Time `dynamodbav:"pending_from,omitempty"`
	Steps              int        `dynamodbav:"steps"`
	NextBillingAt      *time.Time `dynamodbav:"next_billing_at,omitempty"`
	Invoices           int        `dynamodbav:"invoices"`
	FixedBilledThrough *time.Time `dynamodbav:"fixed_billed_through,omitempty"`
	CreatedAt          time.Time  `dynamodbav:"created_at"`
	Version            int64      `dynamodbav:"version"`
}

// ValidateNew checks a new subscription's own fields (cur is its plan's currency).
func (s *Subscription) ValidateNew(cur money.Currency) error {
	if s.BillingPeriod == "" {
		s.BillingPeriod = Monthly
	}
	if _, err := months(s.BillingPeriod); err != nil {
		return invalid("billing_period", "%s", err.Error())
	}
	if s.Start.IsZero() {
		return invalid("start", "start is required (RFC 3339)")
	}
	y, m, d := s.Start.UTC().Date()
	s.Start = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if s.AnchorDay == 0 {
		s.AnchorDay = d
	}
	if s.AnchorDay < 1 || s.AnchorDay > 31 {
		return invalid("anchor_day", "anchor_day must be 1 to 31")
	}
	if s.TrialEnd != nil && !s.TrialEnd.After(s.Start) {
		return invalid("trial_end", "trial_end must be after start")
	}
	if s.Coupon != nil {
		if _, err := s.Coupon.Coupon(cur); err != nil {
			return err
		}
	}
	return nil
}

// ChangesPlanAt reports whether step st is where the pending plan change
// takes effect (the close of the period ending at PendingFrom, or later).
func (s Subscription) ChangesPlanAt(st Step) bool {
	return s.PendingPlanID != "" && s.PendingFrom != nil && st.N >= 1 && !st.Due.Before(*s.PendingFrom)
}

// Schedule sets NextBillingAt from the next step (nil when none is left).
func (s *Subscription) Schedule() error {
	st, ok, err := s.Step(s.Steps)
	if err != nil {
		return err
	}
	if !ok {
		s.NextBillingAt = nil
		return nil
	}
	due := st.Due
	s.NextBillingAt = &due
	return nil
}

// Coupon parses the document; amount_off is in major units of cur.
func (c CouponDoc) Coupon(cur money.Currency) (Coupon, error) {
	out := Coupon{Duration: strings.ToUpper(strings.TrimSpace(c.Duration)), Periods: c.Periods}
	if c.PercentOff != "" {
		p, err := decimalField("coupon.percent_off", c.PercentOff, true)
		if err != nil {
			return out, err
		}
		out.PercentOff = p
	}
	if c.AmountOff != "" {
		a, err := money.Parse(c.AmountOff, cur)
		if err != nil {
			return out, invalid("coupon.amount_off", "coupon.amount_off: %s", err.Error())
		}
		out.AmountOff = a
	}
	return out, out.Validate()
}

// Current is the subscription's billing period containing at (or the
// first, before it starts); ok is false once it has ended.
func (s Subscription) Current(at time.Time) (Period, int, bool, error) {
	ps, err := Periods(s.Start, s.BillingPeriod, s.AnchorDay, at.Add(time.Nanosecond))
	if err != nil {
		return Period{}, 0, false, err
	}
	if len(ps) == 0 {
		ps, err = Periods(s.Start, s.BillingPeriod, s.AnchorDay, s.Start.Add(time.Nanosecond))
		if err != nil || len(ps) == 0 {
			return Period{}, 0, false, apperr.E(apperr.Internal, "", "no period")
		}
	}
	p := ps[len(ps)-1]
	if s.CancelAt != nil && !at.Before(*s.CancelAt) {
		return p, len(ps), false, nil
	}
	return p, len(ps), true, nil
}
