// Package periodclose makes a subscription's invoices (issue 19): each
// billing step of a subscription (pricing.Step — the opening fee in
// advance, then each period's close: its usage in arrears and the next
// period's fee in advance) becomes exactly one invoice.
//
// The period-close function runs on a schedule. It reads the subscriptions
// whose next step is due (due time ≤ now − grace) from a sparse index
// (plandb.Store.Due, O(due), never a scan), and for each composes the
// invoice from the plan version, the metered usage of the period, the
// coupon and GST, then writes in one transaction the step's marker (once
// per subscription and step: a re-run or a concurrent run writes nothing
// more), the invoice and the subscription advanced to its next step. The
// grace period waits for late usage events to be counted.
//
// The invoice is written FINALIZED (finalization as the API does it,
// billing.Invoice.FinalizeToCollect) unless the environment's settings say
// auto_finalize false, or its total is above zero but below Razorpay's
// minimum (it then stays DRAFT, the reason in its metadata). From there the
// existing sync (the table stream's "invoice-issued" filter) and payment
// flow take over. A step with no line (no fixed fee and no usage charge)
// makes no invoice; a step whose lines total zero makes a paid invoice.
package periodclose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/shopspring/decimal"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo/plandb"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/metering"
	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/pricing"
)

// Plans is the plans and subscriptions store.
type Plans interface {
	Plan(ctx context.Context, sc billing.Scope, id string, version int) (pricing.PlanVersion, error)
	Subscription(ctx context.Context, sc billing.Scope, id string) (pricing.Subscription, error)
	UpdateSubscription(ctx context.Context, sc billing.Scope, sub pricing.Subscription, expected int64) error
	Due(ctx context.Context, before time.Time, limit int, cursor string) ([]plandb.DueRef, error)
	CompleteStep(ctx context.Context, sc billing.Scope, sub pricing.Subscription, expected int64, step int, invoiceID string, invoice ...types.TransactWriteItem) error
}

// Ledger is the customers and invoices store.
type Ledger interface {
	Customer(ctx context.Context, sc billing.Scope, id string) (billing.Customer, error)
	Connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error)
	NextSequence(ctx context.Context, sc billing.Scope, name string) (int64, error)
	InvoicePut(sc billing.Scope, inv billing.Invoice, expected int64) (types.TransactWriteItem, error)
	InvoiceNumberPut(sc billing.Scope, number, invoiceID string) types.TransactWriteItem
}

// Usage answers metered usage.
type Usage interface {
	Usage(ctx context.Context, sc billing.Scope, q metering.UsageQuery) ([]metering.Window, string, error)
}

// Terms are an environment's billing settings for one customer.
type Terms struct {
	// AutoFinalize: its invoices finalize by themselves.
	AutoFinalize bool
	// IntraState: the supply is intra-state (CGST + SGST), else IGST.
	IntraState bool
	// DefaultRate is the GST rate (percent) of a charge that names none.
	DefaultRate decimal.Decimal
}

// DefaultTerms apply when no settings are read: auto-finalize, intra-state, 18 %.
func DefaultTerms() Terms {
	d := billing.DefaultTaxSettings()
	return Terms{AutoFinalize: d.AutoFinalize, IntraState: true, DefaultRate: d.Rate()}
}

// Settings reads the terms for a customer of an environment.
type Settings func(ctx context.Context, sc billing.Scope, c billing.Customer) (Terms, error)

// TaxSettingsReader reads an environment's GST settings (defaults when it
// stored none).
type TaxSettingsReader interface {
	TaxSettings(ctx context.Context, sc billing.Scope) (billing.TaxSettings, error)
}

// FromTaxSettings are the terms of the environment's stored GST settings
// (billing.TaxSettings: its state against the customer's place of supply,
// its default rate, auto_finalize).
func FromTaxSettings(r TaxSettingsReader) Settings {
	r = memoTaxes{r} // once per environment in a run
	return func(ctx context.Context, sc billing.Scope, c billing.Customer) (Terms, error) {
		t, err := r.TaxSettings(ctx, sc)
		if err != nil {
			return Terms{}, err
		}
		return Terms{AutoFinalize: t.AutoFinalize, IntraState: t.IntraState(c), DefaultRate: t.Rate()}, nil
	}
}

// Closer makes the invoices of subscriptions' billing steps.
type Closer struct {
	Plans    Plans
	Ledger   Ledger
	Usage    Usage
	Settings Settings
	Minimums *money.Minimums
	// Grace is how long after a step is due it waits (late usage).
	Grace time.Duration
	Now   func() time.Time
	Log   *slog.Logger
	// BatchSize is how many due subscriptions one index query reads
	// (default 100); Concurrency how many are closed at once (default 8).
	BatchSize   int
	Concurrency int
}

func (c *Closer) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

// Result counts what a run did.
type Result struct {
	Subscriptions int // due subscriptions visited
	Invoices      int // invoices made
	Failed        int // subscriptions whose close failed (retried next run)
}

// maxStepsPerVisit bounds the steps one visit makes for one subscription
// (one started long ago catches up over several runs).
const maxStepsPerVisit = 24

// Run closes every subscription step due now − grace: one index range
// read per batch, the batch's subscriptions visited Concurrency at a time.
// A subscription that fails is logged, counted and left due for the next
// run.
func (c *Closer) Run(ctx context.Context) (Result, error) {
	var res Result
	ctx = withMemo(ctx)
	now := c.now()
	before := now.Add(-c.grace())
	cursor := ""
	limit := c.BatchSize
	if limit <= 0 {
		limit = 100
	}
	workers := c.Concurrency
	if workers <= 0 {
		workers = 8
	}
	var mu sync.Mutex
	for {
		refs, err := c.Plans.Due(ctx, before, limit, cursor)
		if err != nil {
			return res, err
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, workers)
		for _, ref := range refs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				n, err := c.Close(ctx, ref.Scope, ref.ID)
				mu.Lock()
				defer mu.Unlock()
				res.Subscriptions++
				res.Invoices += n
				if err != nil {
					res.Failed++
					c.log().ErrorContext(ctx, "period close failed", "subscription_id", ref.ID, "tenant_id", ref.Scope.TenantID, "environment_id", ref.Scope.EnvironmentID, "error", err.Error())
				}
			})
		}
		wg.Wait()
		if len(refs) < limit || ctx.Err() != nil {
			return res, ctx.Err()
		}
		cursor = refs[len(refs)-1].Cursor
	}
}

func (c *Closer) grace() time.Duration { return max(c.Grace, 0) }

// Handle is the function's entry: the EventBridge schedule's event
// carries nothing it needs.
func (c *Closer) Handle(ctx context.Context, _ json.RawMessage) (Result, error) {
	res, err := c.Run(ctx)
	c.log().InfoContext(ctx, "period close run", "subscriptions", res.Subscriptions, "invoices", res.Invoices, "failed", res.Failed)
	return res, err
}

func (c *Closer) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Close makes every billing step of one subscription that is due now −
// grace and answers how many invoices it made. A step another run made
// meanwhile is skipped (never made twice).
func (c *Closer) Close(ctx context.Context, sc billing.Scope, id string) (int, error) {
	made := 0
	var sub pricing.Subscription
	fresh := false // sub is what this visit just wrote: no need to read it
	for range maxStepsPerVisit {
		if !fresh {
			var err error
			if sub, err = c.Plans.Subscription(ctx, sc, id); err != nil {
				return made, err
			}
		}
		fresh = false
		st, ok, err := sub.Step(sub.Steps)
		if err != nil {
			return made, err
		}
		if !ok || st.Due.After(c.now().Add(-c.grace())) {
			return made, c.reschedule(ctx, sc, sub)
		}
		n, next, err := c.step(ctx, sc, sub, st)
		made += n
		switch {
		case errors.Is(err, plandb.ErrStepDone), apperr.HasCode(err, apperr.CodeConcurrentUpdate), apperr.HasCode(err, "invoice_number_exists"):
			continue // re-read: another run made it, or the subscription changed
		case err != nil:
			return made, err
		}
		sub, fresh = next, true
	}
	return made, nil
}

// reschedule puts the subscription's index key right when it drifted (an
// older item without next_billing_at, or a cancel that ended it).
func (c *Closer) reschedule(ctx context.Context, sc billing.Scope, sub pricing.Subscription) error {
	before := sub.NextBillingAt
	if err := sub.Schedule(); err != nil {
		return err
	}
	if (before == nil) == (sub.NextBillingAt == nil) && (before == nil || before.Equal(*sub.NextBillingAt)) {
		return nil
	}
	expected := sub.Version
	sub.Version++
	err := c.Plans.UpdateSubscription(ctx, sc, sub, expected)
	if apperr.HasCode(err, apperr.CodeConcurrentUpdate) {
		return nil
	}
	return err
}

// step makes one billing step's invoice and records the step.
func (c *Closer) step(ctx context.Context, sc billing.Scope, sub pricing.Subscription, st pricing.Step) (int, pricing.Subscription, error) {
	plan, err := c.plan(ctx, sc, sub.PlanID, sub.PlanVersion)
	if err != nil {
		return 0, sub, err
	}
	cus, err := c.Ledger.Customer(ctx, sc, sub.CustomerID)
	if err != nil {
		return 0, sub, err
	}
	terms := DefaultTerms()
	if c.Settings != nil {
		if terms, err = c.Settings(ctx, sc, cus); err != nil {
			return 0, sub, err
		}
	}
	change := sub.ChangesPlanAt(st)
	feePlan, err := FeePlan(sub, st, func(id string, version int) (pricing.PlanVersion, error) { return c.plan(ctx, sc, id, version) })
	if err != nil {
		return 0, sub, err
	}
	bill, cur, err := ComposeChange(ctx, c.Usage, sc, sub, plan, feePlan, st, sub.Invoices+1, terms)
	if err != nil {
		return 0, sub, err
	}
	next := sub
	next.Steps, next.Version = sub.Steps+1, sub.Version+1
	if change {
		next.PlanID, next.PlanVersion = sub.PendingPlanID, sub.PendingPlanVersion
		next.PendingPlanID, next.PendingPlanVersion, next.PendingFrom = "", 0, nil
	}
	if st.FixedPeriod != nil && bill.hasFixed() {
		end := st.FixedPeriod.End
		next.FixedBilledThrough = &end
	}
	if len(bill.Lines) == 0 {
		if err := next.Schedule(); err != nil {
			return 0, sub, err
		}
		return 0, next, c.Plans.CompleteStep(ctx, sc, next, sub.Version, st.N, "")
	}
	now := c.now()
	inv := Invoice(sub, st, bill.Bill, cur, now)
	seq, err := c.Ledger.NextSequence(ctx, sc, "invoice")
	if err != nil {
		return 0, sub, err
	}
	inv.InvoiceNumber = fmt.Sprintf("INV-%06d", seq)
	if terms.AutoFinalize {
		syncs := false
		if conn, ok, err := c.connection(ctx, sc); err != nil {
			return 0, sub, err
		} else if ok {
			syncs = conn.SyncsOnFinalize()
		}
		fin := inv
		if err := fin.FinalizeToCollect(now, syncs, c.Minimums); err != nil {
			if e := apperr.As(err); e == nil || e.Kind != apperr.Conflict {
				return 0, sub, err
			}
			inv.Metadata["finalize_error"] = apperr.As(err).Message // stays DRAFT
		} else {
			inv = fin
		}
	}
	next.Invoices++
	if err := next.Schedule(); err != nil {
		return 0, sub, err
	}
	put, err := c.Ledger.InvoicePut(sc, inv, 0)
	if err != nil {
		return 0, sub, err
	}
	if err := c.Plans.CompleteStep(ctx, sc, next, sub.Version, st.N, inv.ID, put, c.Ledger.InvoiceNumberPut(sc, inv.InvoiceNumber, inv.ID)); err != nil {
		return 0, sub, err
	}
	c.log().InfoContext(ctx, "subscription invoice made", "subscription_id", sub.ID, "step", st.N, "invoice_id", inv.ID,
		"invoice_status", inv.InvoiceStatus, "amount_due", inv.AmountDue)
	return 1, next, nil
}

// Composed is a step's bill with what made it.
type Composed struct {
	pricing.Bill
	Step pricing.Step
}

func (b Composed) hasFixed() bool {
	for _, l := range b.Lines {
		if l.Type == pricing.Fixed {
			return true
		}
	}
	return false
}

// Compose prices billing step st of sub on its plan version: the usage of
// st's usage period read from the meters, the coupon when it covers the
// invoice numbered invoiceNumber (1 for the subscription's first), GST
// intra- or inter-state, a charge naming no rate at the terms' default.
func Compose(ctx context.Context, u Usage, sc billing.Scope, sub pricing.Subscription, plan pricing.PlanVersion, st pricing.Step, invoiceNumber int, terms Terms) (Composed, money.Currency, error) {
	return ComposeChange(ctx, u, sc, sub, plan, nil, st, invoiceNumber, terms)
}

// FeePlan is the plan version whose fixed fees step st bills when a plan
// change takes effect with it (read through read), else nil: the
// subscription's own plan.
func FeePlan(sub pricing.Subscription, st pricing.Step, read func(id string, version int) (pricing.PlanVersion, error)) (*pricing.PlanVersion, error) {
	if !sub.ChangesPlanAt(st) || st.FixedPeriod == nil {
		return nil, nil
	}
	p, err := read(sub.PendingPlanID, sub.PendingPlanVersion)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// ComposeChange is Compose when the step's fixed fees come from another
// plan version (feePlan: a plan change taking effect with the next
// period); nil is the same plan.
func ComposeChange(ctx context.Context, u Usage, sc billing.Scope, sub pricing.Subscription, plan pricing.PlanVersion, feePlan *pricing.PlanVersion, st pricing.Step, invoiceNumber int, terms Terms) (Composed, money.Currency, error) {
	cur, err := money.LookupCurrency(plan.Currency)
	if err != nil {
		return Composed{}, cur, err
	}
	priced := func(p pricing.PlanVersion, keep func(pricing.Charge) bool) ([]pricing.Charge, error) {
		cs, err := p.Priced()
		if err != nil {
			return nil, err
		}
		var out []pricing.Charge
		for i, c := range cs {
			if p.Charges[i].TaxRate == "" {
				c.TaxRate = terms.DefaultRate
			}
			if keep(c) {
				out = append(out, c)
			}
		}
		return out, nil
	}
	all := func(pricing.Charge) bool { return true }
	charges, err := priced(plan, all)
	if err != nil {
		return Composed{}, cur, err
	}
	if feePlan != nil {
		if !strings.EqualFold(feePlan.Currency, plan.Currency) {
			return Composed{}, cur, apperr.E(apperr.Conflict, "currency_mismatch", "plan %s v%d is in %s, the subscription in %s", feePlan.ID, feePlan.Version, feePlan.Currency, plan.Currency)
		}
		fees, err := priced(*feePlan, func(c pricing.Charge) bool { return c.Type == pricing.Fixed })
		if err != nil {
			return Composed{}, cur, err
		}
		usage, err := priced(plan, func(c pricing.Charge) bool { return c.Type == pricing.Usage })
		if err != nil {
			return Composed{}, cur, err
		}
		charges = append(fees, usage...)
		if st.CreditPeriod != nil { // a credit gives back the old plan's fee
			return Composed{}, cur, apperr.E(apperr.Conflict, "invoice_not_computable", "subscription %s: a plan change and a credit in one step", sub.ID)
		}
	}
	in := pricing.BillInput{Currency: cur, Charges: charges, PeriodNumber: invoiceNumber, Usage: map[string]decimal.Decimal{}, IntraState: terms.IntraState,
		FixedPeriod: st.FixedPeriod, UsagePeriod: st.UsagePeriod, CreditPeriod: st.CreditPeriod}
	if st.UsagePeriod != nil {
		for _, ch := range charges {
			if ch.Type != pricing.Usage {
				continue
			}
			if _, ok := in.Usage[ch.MeterID]; ok {
				continue
			}
			_, total, err := u.Usage(ctx, sc, metering.UsageQuery{MeterID: ch.MeterID, CustomerID: sub.CustomerID, Start: st.UsagePeriod.Start, End: st.UsagePeriod.End})
			if err != nil {
				return Composed{}, cur, err
			}
			q, err := decimal.NewFromString(total)
			if err != nil {
				return Composed{}, cur, apperr.Wrap(err, apperr.Internal, "", "usage total")
			}
			in.Usage[ch.MeterID] = q
		}
	}
	if sub.Coupon != nil {
		cp, err := sub.Coupon.Coupon(cur)
		if err != nil {
			return Composed{}, cur, err
		}
		in.Coupon = &cp
	}
	b, err := pricing.Compose(in)
	var me *money.Error
	if errors.As(err, &me) {
		// A negative usage total (a SUM meter) or amounts beyond int64:
		// nothing a retry changes; the subscription stays due and logged.
		return Composed{}, cur, apperr.E(apperr.Conflict, "invoice_not_computable", "the invoice of subscription %s cannot be computed: %s (%s)", sub.ID, me.Message, me.Code)
	}
	if err != nil {
		return Composed{}, cur, err
	}
	return Composed{Bill: b, Step: st}, cur, nil
}

// Invoice is the DRAFT invoice of a composed step (no id-independent
// number yet: the caller numbers it).
func Invoice(sub pricing.Subscription, st pricing.Step, b pricing.Bill, cur money.Currency, now time.Time) billing.Invoice {
	inv := billing.Invoice{ID: ids.New(ids.Invoice), CustomerID: sub.CustomerID, Currency: cur.Code,
		Subtotal: b.Subtotal, Discount: b.Discount, AmountDue: b.Total,
		InvoiceStatus: billing.InvoiceDraft, PaymentStatus: billing.PaymentPending, SyncStatus: billing.SyncNotSynced,
		SubscriptionID: sub.ID, SubscriptionStep: st.N, CreatedAt: now, UpdatedAt: now, Version: 1,
		Metadata: map[string]string{"subscription_id": sub.ID, "billing_step": strconv.Itoa(st.N)}}
	if b.UnappliedCredit > 0 {
		inv.Metadata["unapplied_credit"] = money.Format(b.UnappliedCredit, cur)
	}
	start, end := st.Period.Start, st.Period.End
	inv.PeriodStart, inv.PeriodEnd = &start, &end
	for _, l := range b.Lines {
		li := billing.LineItem{DisplayName: l.DisplayName, Description: l.Description, PriceType: l.Type, Quantity: l.Quantity.String(),
			Amount: l.Amount, Discount: l.Discount, TaxRate: l.TaxRate.String(), SACCode: l.SACCode, MeterID: l.MeterID}
		if l.UnitAmount != nil {
			li.UnitAmount = l.UnitAmount.String()
		} else if !l.Quantity.IsZero() {
			li.UnitAmount = money.Format(l.Amount, cur) // tiered and package prices: the line's own amount per its quantity is in the description
			li.Quantity = "1"
			li.Description = fmt.Sprintf("%s units; %s", l.Quantity.String(), l.Description)
		} else {
			li.UnitAmount = "0"
		}
		inv.LineItems = append(inv.LineItems, li)
	}
	for _, t := range b.Taxes {
		inv.TaxLines = append(inv.TaxLines, billing.TaxLine{Name: t.Name, Amount: t.Amount})
	}
	return inv
}
