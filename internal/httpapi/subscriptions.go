package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/metering"
	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/periodclose"
	"github.com/razorbill/razorbill/internal/pricing"
)

// SubscriptionStore keeps plans and subscriptions.
type SubscriptionStore interface {
	PlanStore
	CreateSubscription(ctx context.Context, sc billing.Scope, sub pricing.Subscription) error
	UpdateSubscription(ctx context.Context, sc billing.Scope, sub pricing.Subscription, expected int64) error
	Subscription(ctx context.Context, sc billing.Scope, id string) (pricing.Subscription, error)
}

// CustomerReader reads customers.
type CustomerReader interface {
	Customer(ctx context.Context, sc billing.Scope, id string) (billing.Customer, error)
}

// Subscriptions serves /api/v1/subscriptions (the api function).
type Subscriptions struct {
	Store     SubscriptionStore
	Customers CustomerReader
	Usage     *metering.Service
	// Settings give the environment's GST terms (nil: periodclose.DefaultTerms).
	Settings periodclose.Settings
	Now      func() time.Time
}

// Routes are the subscription routes.
func (h *Subscriptions) Routes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/api/v1/subscriptions", Auth: AuthScoped, Handle: h.create},
		{Method: "GET", Pattern: "/api/v1/subscriptions/{id}", Auth: AuthScoped, Handle: h.get},
		{Method: "POST", Pattern: "/api/v1/subscriptions/{id}/cancel", Auth: AuthScoped, Handle: h.cancel},
		{Method: "POST", Pattern: "/api/v1/subscriptions/{id}/change-plan", Auth: AuthScoped, Handle: h.changePlan},
		{Method: "GET", Pattern: "/api/v1/subscriptions/{id}/upcoming-invoice", Auth: AuthScoped, Handle: h.upcoming},
	}
}

func (h *Subscriptions) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

func subscriptionView(s pricing.Subscription, now time.Time) map[string]any {
	v := map[string]any{"id": s.ID, "object": "subscription", "customer_id": s.CustomerID, "plan_id": s.PlanID, "plan_version": s.PlanVersion,
		"start": s.Start.Format(time.RFC3339), "billing_period": s.BillingPeriod, "anchor_day": s.AnchorDay, "trial_end": nil,
		"coupon": nil, "status": s.Status, "cancel_at": nil, "created_at": s.CreatedAt.Format(time.RFC3339),
		"current_period_start": nil, "current_period_end": nil, "next_billing_at": nil, "invoices": s.Invoices}
	if s.NextBillingAt != nil {
		v["next_billing_at"] = s.NextBillingAt.Format(time.RFC3339)
	}
	v["pending_plan"] = nil
	if s.PendingPlanID != "" && s.PendingFrom != nil {
		v["pending_plan"] = map[string]any{"plan_id": s.PendingPlanID, "plan_version": s.PendingPlanVersion, "from": s.PendingFrom.Format(time.RFC3339)}
	}
	if s.TrialEnd != nil {
		v["trial_end"] = s.TrialEnd.Format(time.RFC3339)
	}
	if s.Coupon != nil {
		v["coupon"] = s.Coupon
	}
	if s.CancelAt != nil {
		v["cancel_at"] = s.CancelAt.Format(time.RFC3339)
	}
	if p, _, _, err := s.Current(now); err == nil {
		v["current_period_start"], v["current_period_end"] = p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339)
	}
	return v
}

type subscriptionInput struct {
	CustomerID    string    `json:"customer_id"`
	PlanID        string    `json:"plan_id"`
	PlanVersion   int       `json:"plan_version"`
	Start         Time      `json:"start"`
	BillingPeriod string    `json:"billing_period"`
	AnchorDay     int       `json:"anchor_day"`
	TrialEnd      Time      `json:"trial_end"`
	Coupon        *couponIn `json:"coupon"`
}

// couponIn is pricing.CouponDoc as a request carries it: percent_off and
// amount_off may be JSON strings or numbers (api.md), kept as their text.
type couponIn struct {
	PercentOff Decimal `json:"percent_off"`
	AmountOff  Decimal `json:"amount_off"`
	Duration   string  `json:"duration"`
	Periods    int     `json:"periods"`
}

// doc checks the decimals' JSON types and converts the coupon (nil: none).
func (c *couponIn) doc() (*pricing.CouponDoc, error) {
	if c == nil {
		return nil, nil
	}
	for name, d := range map[string]Decimal{"coupon.percent_off": c.PercentOff, "coupon.amount_off": c.AmountOff} {
		if err := d.Check(name, false); err != nil {
			return nil, err
		}
	}
	return &pricing.CouponDoc{PercentOff: c.PercentOff.Text, AmountOff: c.AmountOff.Text, Duration: c.Duration, Periods: c.Periods}, nil
}

func (h *Subscriptions) create(ctx context.Context, r *Request) (Response, error) {
	var in subscriptionInput
	if err := Decode(r.Body, &in); err != nil {
		return Response{}, err
	}
	for f, t := range map[string]Time{"start": in.Start, "trial_end": in.TrialEnd} {
		if err := t.Check(f); err != nil {
			return Response{}, err
		}
	}
	coupon, err := in.Coupon.doc()
	if err != nil {
		return Response{}, err
	}
	if !ids.Valid(ids.Customer, in.CustomerID) {
		return Response{}, apperr.InvalidField("validation_failed", "customer_id", "customer_id must be a customer id (cus_…)")
	}
	if !ids.Valid(ids.Plan, in.PlanID) {
		return Response{}, apperr.InvalidField("validation_failed", "plan_id", "plan_id must be a plan id (pln_…)")
	}
	if _, err := h.Customers.Customer(ctx, r.Scope, in.CustomerID); err != nil {
		if apperr.Is(err, apperr.NotFound) { // as for an invoice's customer: 404, naming the field
			return Response{}, &apperr.Error{Kind: apperr.NotFound, Code: "not_found", Field: "customer_id", Message: fmt.Sprintf("customer %s was not found", in.CustomerID)}
		}
		return Response{}, err
	}
	plan, err := h.requestedPlan(ctx, r.Scope, in.PlanID, in.PlanVersion)
	if err != nil {
		return Response{}, err
	}
	cur, err := money.LookupCurrency(plan.Currency)
	if err != nil {
		return Response{}, err
	}
	start := in.Start.T
	if !in.Start.Set {
		start = h.now()
	}
	sub := pricing.Subscription{ID: ids.New(ids.Subscription), CustomerID: in.CustomerID, PlanID: plan.ID, PlanVersion: plan.Version,
		Start: start, BillingPeriod: strings.ToUpper(in.BillingPeriod), AnchorDay: in.AnchorDay, TrialEnd: in.TrialEnd.Ptr(), Coupon: coupon,
		Status: pricing.SubActive, CreatedAt: h.now(), Version: 1}
	if err := sub.ValidateNew(cur); err != nil {
		return Response{}, err
	}
	if err := sub.Schedule(); err != nil {
		return Response{}, err
	}
	for i, c := range plan.Charges {
		if c.Type == pricing.Fixed && c.Period != "" && c.Period != sub.BillingPeriod {
			return Response{}, apperr.InvalidField("validation_failed", "billing_period", "the plan's charge %d is billed %s; the subscription's billing_period must match", i, c.Period)
		}
	}
	if err := h.Store.CreateSubscription(ctx, r.Scope, sub); err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusCreated, Body: subscriptionView(sub, h.now())}, nil
}

// requestedPlan reads the plan version a request names (0: the latest);
// one that does not exist is 404 on plan_id, as a missing customer is.
func (h *Subscriptions) requestedPlan(ctx context.Context, sc billing.Scope, id string, version int) (pricing.PlanVersion, error) {
	plan, err := h.Store.Plan(ctx, sc, id, version)
	if apperr.Is(err, apperr.NotFound) {
		return plan, &apperr.Error{Kind: apperr.NotFound, Code: "not_found", Field: "plan_id", Message: apperr.As(err).Message}
	}
	return plan, err
}

func (h *Subscriptions) get(ctx context.Context, r *Request) (Response, error) {
	sub, err := h.Store.Subscription(ctx, r.Scope, r.Params["id"])
	if err != nil {
		return Response{}, err
	}
	return Response{Body: subscriptionView(sub, h.now())}, nil
}

// cancel ends the subscription at the end of the current period, or now:
// the period close then makes its last invoice (usage to date; a fixed fee
// billed in advance for days after the cancel day comes back as a credit —
// pricing.Step).
func (h *Subscriptions) cancel(ctx context.Context, r *Request) (Response, error) {
	var in struct {
		At string `json:"at"`
	}
	if len(strings.TrimSpace(string(r.Body))) > 0 {
		if err := Decode(r.Body, &in); err != nil {
			return Response{}, err
		}
	}
	switch strings.ToUpper(in.At) {
	case "", "PERIOD_END", "NOW":
	default:
		return Response{}, apperr.InvalidField("validation_failed", "at", "at must be PERIOD_END or NOW")
	}
	return h.updateSubscription(ctx, r.Scope, r.Params["id"], func(sub *pricing.Subscription, now time.Time) error {
		return cancelAt(sub, in.At, now)
	})
}

// cancelAt sets sub to end at the end of its current period (at ""/
// PERIOD_END) or now (NOW).
func cancelAt(sub *pricing.Subscription, when string, now time.Time) error {
	if sub.Status == pricing.SubCanceled {
		return apperr.E(apperr.Conflict, "subscription_canceled", "subscription %s is already canceled", sub.ID)
	}
	at := now
	if strings.ToUpper(when) == "NOW" {
		sub.Status = pricing.SubCanceled
	} else {
		p, _, _, err := sub.Current(now)
		if err != nil {
			return err
		}
		at = p.End
	}
	sub.CancelAt = &at
	return sub.Schedule() // the period close makes the last invoice
}

// concurrentUpdateTries is how often a subscription change is read,
// applied and written before a concurrent writer's 409 reaches the client.
const concurrentUpdateTries = 5

// updateSubscription reads subscription id, applies change to it and
// writes it if nobody wrote it meanwhile. The period close writes a
// subscription whenever it bills a step (plandb.CompleteStep), so a
// client's change can race it; on such a conflict the change is applied
// again to the subscription as now stored (its checks too: a period that
// ended meanwhile is the new current one), up to concurrentUpdateTries
// times.
func (h *Subscriptions) updateSubscription(ctx context.Context, sc billing.Scope, id string, change func(sub *pricing.Subscription, now time.Time) error) (Response, error) {
	for try := 1; ; try++ {
		sub, err := h.Store.Subscription(ctx, sc, id)
		if err != nil {
			return Response{}, err
		}
		now := h.now()
		expected := sub.Version
		if err := change(&sub, now); err != nil {
			return Response{}, err
		}
		sub.Version = expected + 1
		err = h.Store.UpdateSubscription(ctx, sc, sub, expected)
		if err == nil {
			return Response{Body: subscriptionView(sub, now)}, nil
		}
		if try == concurrentUpdateTries || !apperr.HasCode(err, apperr.CodeConcurrentUpdate) || ctx.Err() != nil {
			return Response{}, err
		}
	}
}

// changePlan moves the subscription to another plan (version) at the end
// of the current period: that period's close bills its usage on the old
// plan and the next period's fees on the new one; later periods are on the
// new plan. A second change before then replaces the first.
func (h *Subscriptions) changePlan(ctx context.Context, r *Request) (Response, error) {
	var in struct {
		PlanID      string `json:"plan_id"`
		PlanVersion int    `json:"plan_version"`
		At          string `json:"at"`
	}
	if err := Decode(r.Body, &in); err != nil {
		return Response{}, err
	}
	if a := strings.ToUpper(in.At); a != "" && a != "PERIOD_END" {
		return Response{}, apperr.InvalidField("validation_failed", "at", "at must be PERIOD_END (a plan changes with the next period)")
	}
	if !ids.Valid(ids.Plan, in.PlanID) {
		return Response{}, apperr.InvalidField("validation_failed", "plan_id", "plan_id must be a plan id (pln_…)")
	}
	if in.PlanVersion < 0 {
		return Response{}, apperr.InvalidField("validation_failed", "plan_version", "plan_version must be a version number (1, 2, …) or absent for the latest")
	}
	return h.updateSubscription(ctx, r.Scope, r.Params["id"], func(sub *pricing.Subscription, now time.Time) error {
		plan, err := h.requestedPlan(ctx, r.Scope, in.PlanID, in.PlanVersion)
		if err != nil {
			return err
		}
		old, err := h.Store.Plan(ctx, r.Scope, sub.PlanID, sub.PlanVersion)
		if err != nil {
			return err
		}
		if !strings.EqualFold(old.Currency, plan.Currency) {
			return apperr.InvalidField("currency_mismatch", "plan_id", "plan %s is in %s; the subscription bills in %s", plan.ID, strings.ToLower(plan.Currency), strings.ToLower(old.Currency))
		}
		for i, c := range plan.Charges {
			if c.Type == pricing.Fixed && c.Period != "" && c.Period != sub.BillingPeriod {
				return apperr.InvalidField("validation_failed", "plan_id", "the plan's charge %d is billed %s; the subscription is billed %s", i, c.Period, sub.BillingPeriod)
			}
		}
		p, _, running, err := sub.Current(now)
		if err != nil {
			return err
		}
		if !running || (sub.CancelAt != nil && !sub.CancelAt.After(p.End)) {
			return apperr.E(apperr.Conflict, "subscription_canceled", "subscription %s ends with this period; it cannot change plan", sub.ID)
		}
		from := p.End
		sub.PendingPlanID, sub.PendingPlanVersion, sub.PendingFrom = plan.ID, plan.Version, &from
		return nil
	})
}

// upcoming computes the invoice the current period's close will make
// (pricing.Step: this period's usage, the next period's fee), from the
// usage counted so far, with the period close's own composition
// (periodclose.Compose); it writes nothing. Usage is read over the whole
// hours from the period's start (or the trial's end) to now.
func (h *Subscriptions) upcoming(ctx context.Context, r *Request) (Response, error) {
	sub, err := h.Store.Subscription(ctx, r.Scope, r.Params["id"])
	if err != nil {
		return Response{}, err
	}
	plan, err := h.Store.Plan(ctx, r.Scope, sub.PlanID, sub.PlanVersion)
	if err != nil {
		return Response{}, err
	}
	now := h.now()
	period, n, running, err := sub.Current(now)
	if err != nil {
		return Response{}, err
	}
	if !running {
		return Response{}, apperr.E(apperr.Conflict, "subscription_canceled", "subscription %s has ended; it has no upcoming invoice", sub.ID)
	}
	st, ok, err := sub.Step(n)
	if err != nil {
		return Response{}, err
	}
	if !ok {
		return Response{}, apperr.E(apperr.Conflict, "subscription_canceled", "subscription %s has ended; it has no upcoming invoice", sub.ID)
	}
	usageTo := now.Truncate(time.Hour).Add(time.Hour)
	if st.UsagePeriod != nil {
		if usageTo.After(st.UsagePeriod.End) {
			usageTo = st.UsagePeriod.End
		}
		up := *st.UsagePeriod
		up.End = usageTo
		st.UsagePeriod = nil
		if up.Start.Before(up.End) {
			st.UsagePeriod = &up
		}
	}
	// The coupon counts invoices: this close makes the next one after
	// those already made and those of the steps before it still to run.
	number := max(sub.Invoices+1+n-sub.Steps, 1)
	terms := periodclose.DefaultTerms()
	if h.Settings != nil {
		cus, err := h.Customers.Customer(ctx, r.Scope, sub.CustomerID)
		if err != nil {
			return Response{}, err
		}
		if terms, err = h.Settings(ctx, r.Scope, cus); err != nil {
			return Response{}, err
		}
	}
	feePlan, err := periodclose.FeePlan(sub, st, func(id string, version int) (pricing.PlanVersion, error) {
		return h.Store.Plan(ctx, r.Scope, id, version)
	})
	if err != nil {
		return Response{}, err
	}
	composed, cur, err := periodclose.ComposeChange(ctx, h.Usage, r.Scope, sub, plan, feePlan, st, number, terms)
	if err != nil {
		return Response{}, err
	}
	b := composed.Bill
	lines := make([]any, len(b.Lines))
	for i, l := range b.Lines {
		v := map[string]any{"type": l.Type, "price_type": l.Type, "display_name": l.DisplayName, "description": l.Description, "quantity": l.Quantity.String(),
			"unit_amount": nil, "amount": money.Format(l.Amount, cur), "discount": money.Format(l.Discount, cur), "tax_rate": l.TaxRate.String(),
			"sac_code": l.SACCode, "meter_id": nil, "period_start": l.Period.Start.Format(time.RFC3339), "period_end": l.Period.End.Format(time.RFC3339)}
		if l.UnitAmount != nil {
			v["unit_amount"] = l.UnitAmount.String()
		}
		if l.MeterID != "" {
			v["meter_id"] = l.MeterID
		}
		lines[i] = v
	}
	taxes := make([]any, len(b.Taxes))
	for i, t := range b.Taxes {
		taxes[i] = map[string]any{"name": t.Name, "amount": money.Format(t.Amount, cur)}
	}
	return Response{Body: map[string]any{"object": "upcoming_invoice", "subscription_id": sub.ID, "customer_id": sub.CustomerID,
		"currency": strings.ToLower(cur.Code), "period_start": period.Start.Format(time.RFC3339), "period_end": period.End.Format(time.RFC3339),
		"usage_through": usageTo.Format(time.RFC3339), "lines": lines, "subtotal": money.Format(b.Subtotal, cur), "discount": money.Format(b.Discount, cur),
		"tax_lines": taxes, "total": money.Format(b.Total, cur),
		// The names an invoice uses (api.md's Invoices and Tax sections):
		// line_items (each with price_type) and amount_due (= total).
		"line_items": lines, "amount_due": money.Format(b.Total, cur)}}, nil
}
