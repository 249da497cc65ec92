package periodclose_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/dynamo/plandb"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/metering"
	"github.com/razorbill/razorbill/internal/periodclose"
	"github.com/razorbill/razorbill/internal/pricing"
	"github.com/razorbill/razorbill/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixedUsage answers the same quantity for any meter and range: the
// metering service has its own tests against DynamoDB Local, and the local
// stack's end-to-end test runs both together.
type fixedUsage struct {
	mu    sync.Mutex
	calls []metering.UsageQuery
	q     string
}

func (f *fixedUsage) Usage(_ context.Context, _ billing.Scope, q metering.UsageQuery) ([]metering.Window, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, q)
	return nil, f.q, nil
}

type rig struct {
	sc     billing.Scope
	ledger *dynamo.Store
	plans  *plandb.Store
	usage  *fixedUsage
	now    time.Time
	cus    billing.Customer
}

func newRig(t *testing.T) *rig {
	env := testenv.AWS(t)
	r := &rig{sc: billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)},
		ledger: dynamo.New(env.DDB, env.Table()), plans: plandb.New(env.DDB, env.Table()),
		usage: &fixedUsage{q: "1000"}, now: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)}
	r.cus = billing.Customer{ID: ids.New(ids.Customer), ExternalID: "acct-1", Name: "Asha", Metadata: map[string]string{}, SyncStatus: billing.SyncNotSynced,
		CreatedAt: r.now, UpdatedAt: r.now, Version: 1}
	if err := r.ledger.CreateCustomer(context.Background(), r.sc, r.cus); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) closer() *periodclose.Closer {
	return &periodclose.Closer{Plans: r.plans, Ledger: r.ledger, Usage: r.usage, Grace: time.Hour, Now: func() time.Time { return r.now }, BatchSize: 2}
}

// plan stores version 1 of a plan in rupees with the charges.
func (r *rig) plan(t *testing.T, name string, charges ...pricing.ChargeDoc) pricing.PlanVersion {
	t.Helper()
	p := pricing.PlanVersion{ID: ids.New(ids.Plan), Version: 1, Name: name, Currency: "inr", CreatedAt: r.now, Charges: charges}
	if err := p.Validate(func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if err := r.plans.Put(context.Background(), r.sc, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// subscribe puts the customer on a plan of ₹999 a month plus ₹0.50 per
// API call, from start, billed on the 1st.
func (r *rig) subscribe(t *testing.T, start time.Time) pricing.Subscription {
	ctx := context.Background()
	p := r.plan(t, "Growth",
		pricing.ChargeDoc{Type: pricing.Fixed, DisplayName: "Platform fee", Amount: "999", Period: pricing.Monthly},
		pricing.ChargeDoc{Type: pricing.Usage, DisplayName: "API calls", MeterID: ids.New(ids.Meter), Model: pricing.PerUnit, UnitAmount: "0.50"})
	sub := pricing.Subscription{ID: ids.New(ids.Subscription), CustomerID: r.cus.ID, PlanID: p.ID, PlanVersion: 1, Start: start,
		BillingPeriod: pricing.Monthly, AnchorDay: 1, Status: pricing.SubActive, CreatedAt: r.now, Version: 1}
	if err := sub.Schedule(); err != nil {
		t.Fatal(err)
	}
	if err := r.plans.CreateSubscription(ctx, r.sc, sub); err != nil {
		t.Fatal(err)
	}
	return sub
}

func (r *rig) invoices(t *testing.T) []billing.Invoice {
	page, err := r.ledger.ListInvoices(context.Background(), r.sc, billing.InvoiceFilter{CustomerID: r.cus.ID}, billing.ListOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return page.Data
}

// Started 1 Oct, closed on 5 Dec: the opening invoice (October's fee),
// October's close (its usage, November's fee) and November's close — three
// invoices, whatever runs at once, and nothing more on a re-run. By hand,
// GST 18 % intra-state: the opening 999.00 + 89.91 + 89.91 = 1178.82; each
// close 500.00 + 999.00 = 1499.00, CGST 45.00 + 89.91 = 134.91 twice,
// total 1768.82.
func TestEachDueStepMakesOneInvoiceWhateverRunsAtOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	sub := r.subscribe(t, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := r.closer().Run(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if res, err := r.closer().Run(context.Background()); err != nil || res.Invoices != 0 {
		t.Fatalf("a re-run made %d invoices (%v)", res.Invoices, err)
	}
	invs := r.invoices(t)
	if len(invs) != 3 {
		t.Fatalf("%d invoices, want 3", len(invs))
	}
	byStep := map[int]billing.Invoice{}
	for _, inv := range invs {
		if _, dup := byStep[inv.SubscriptionStep]; dup || inv.SubscriptionID != sub.ID {
			t.Fatalf("step %d twice or of another subscription: %+v", inv.SubscriptionStep, inv)
		}
		byStep[inv.SubscriptionStep] = inv
		if inv.InvoiceStatus != billing.InvoiceFinalized || inv.PaymentStatus != billing.PaymentPending || inv.SyncOnFinalize {
			t.Errorf("step %d: %s/%s sync_on_finalize %v", inv.SubscriptionStep, inv.InvoiceStatus, inv.PaymentStatus, inv.SyncOnFinalize)
		}
	}
	want := map[int]struct {
		sub, tax, due int64
		lines         int
	}{0: {99900, 17982, 117882, 1}, 1: {149900, 26982, 176882, 2}, 2: {149900, 26982, 176882, 2}}
	for n, w := range want {
		inv, ok := byStep[n]
		if !ok {
			t.Fatalf("no invoice for step %d", n)
		}
		var tax int64
		for _, tl := range inv.TaxLines {
			tax += tl.Amount
		}
		if inv.Subtotal != w.sub || tax != w.tax || inv.AmountDue != w.due || len(inv.LineItems) != w.lines || len(inv.TaxLines) != 2 || inv.TaxLines[0].Name != "CGST 9%" {
			t.Errorf("step %d: subtotal %d tax %d due %d lines %d taxes %+v", n, inv.Subtotal, tax, inv.AmountDue, len(inv.LineItems), inv.TaxLines)
		}
	}
	if p := byStep[2]; !p.PeriodStart.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || !p.PeriodEnd.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("November's close covers %v–%v", p.PeriodStart, p.PeriodEnd)
	}
	got, err := r.plans.Subscription(context.Background(), r.sc, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Steps != 3 || got.Invoices != 3 || got.NextBillingAt == nil || !got.NextBillingAt.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("subscription after the runs: steps %d invoices %d next %v", got.Steps, got.Invoices, got.NextBillingAt)
	}
	// The usage billed is each closed period's, in whole hours.
	for _, q := range r.usage.calls {
		if q.CustomerID != r.cus.ID || q.Start.Minute() != 0 || !(q.Start.Month() == 10 || q.Start.Month() == 11) || q.End.Sub(q.Start) < 28*24*time.Hour {
			t.Errorf("usage read %+v", q)
		}
	}
}

// Within the grace period after a period ends, nothing is invoiced yet.
func TestAPeriodWaitsForItsGrace(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.now = time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC)
	r.subscribe(t, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if _, err := r.closer().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if invs := r.invoices(t); len(invs) != 1 || invs[0].SubscriptionStep != 0 {
		t.Fatalf("before the grace ends: %d invoices", len(invs))
	}
	r.now = r.now.Add(31 * time.Minute)
	if _, err := r.closer().Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if invs := r.invoices(t); len(invs) != 2 {
		t.Fatalf("after the grace: %d invoices, want 2", len(invs))
	}
}

// A step whose total is above zero but below Razorpay's minimum (₹1) stays
// DRAFT with the reason; a step with no lines at all makes no invoice.
func TestSmallAndEmptySteps(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	p := r.plan(t, "Metered", pricing.ChargeDoc{Type: pricing.Usage, DisplayName: "API calls", MeterID: ids.New(ids.Meter), Model: pricing.PerUnit, UnitAmount: "0.0001"})
	sub := pricing.Subscription{ID: ids.New(ids.Subscription), CustomerID: r.cus.ID, PlanID: p.ID, PlanVersion: 1, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		BillingPeriod: pricing.Monthly, AnchorDay: 1, Status: pricing.SubActive, CreatedAt: r.now, Version: 1}
	if err := sub.Schedule(); err != nil {
		t.Fatal(err)
	}
	if err := r.plans.CreateSubscription(ctx, r.sc, sub); err != nil {
		t.Fatal(err)
	}
	if _, err := r.closer().Run(ctx); err != nil {
		t.Fatal(err)
	}
	invs := r.invoices(t)
	// Step 0 has no fee: no invoice. November: 1000 × 0.0001 = 0.10 + 18 %.
	if len(invs) != 1 || invs[0].InvoiceStatus != billing.InvoiceDraft || invs[0].Metadata["finalize_error"] == "" || invs[0].AmountDue != 12 {
		t.Fatalf("invoices: %+v", invs)
	}
	got, _ := r.plans.Subscription(ctx, r.sc, sub.ID)
	if got.Steps != 2 || got.Invoices != 1 {
		t.Fatalf("steps %d invoices %d", got.Steps, got.Invoices)
	}
}

// The environment's GST settings decide the invoice: a customer billed in
// another state pays IGST, a charge naming no rate takes the environment's
// default (12 % here), and auto_finalize false leaves the invoice DRAFT.
// By hand: the opening fee 999.00 at IGST 12 % = 119.88, total 1,118.88.
func TestTheEnvironmentsTaxSettingsDecideTheInvoice(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	if err := r.ledger.PutTaxSettings(ctx, r.sc, billing.TaxSettings{State: "KA", DefaultRate: "12", AutoFinalize: false}); err != nil {
		t.Fatal(err)
	}
	r.cus.BillingState, r.cus.Version = "MH", 1
	if err := r.ledger.UpdateCustomer(ctx, r.sc, r.cus, 1); err != nil {
		t.Fatal(err)
	}
	r.now = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	r.subscribe(t, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	c := r.closer()
	c.Settings = periodclose.FromTaxSettings(r.ledger)
	if _, err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	invs := r.invoices(t)
	if len(invs) != 1 {
		t.Fatalf("%d invoices", len(invs))
	}
	inv := invs[0]
	if inv.InvoiceStatus != billing.InvoiceDraft || len(inv.TaxLines) != 1 || inv.TaxLines[0].Name != "IGST 12%" || inv.TaxLines[0].Amount != 11988 ||
		inv.AmountDue != 111888 || inv.LineItems[0].TaxRate != "12" {
		t.Fatalf("invoice: %s %+v due %d lines %+v", inv.InvoiceStatus, inv.TaxLines, inv.AmountDue, inv.LineItems)
	}
}

// A plan change at November's end: November's close bills its usage on the
// old plan (1000 × 0.50 = 500.00) and December's fee on the new one
// (1,999.00); December's close is all on the new plan (1000 × 0.25 =
// 250.00 + 1,999.00).
func TestAPlanChangeTakesEffectWithTheNextPeriod(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	r.now = time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)
	sub := r.subscribe(t, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if _, err := r.closer().Run(ctx); err != nil {
		t.Fatal(err)
	}
	b := r.plan(t, "Scale",
		pricing.ChargeDoc{Type: pricing.Fixed, DisplayName: "Scale fee", Amount: "1999", Period: pricing.Monthly},
		pricing.ChargeDoc{Type: pricing.Usage, DisplayName: "API calls", MeterID: ids.New(ids.Meter), Model: pricing.PerUnit, UnitAmount: "0.25"})
	cur, err := r.plans.Subscription(ctx, r.sc, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cur.PendingPlanID, cur.PendingPlanVersion, cur.PendingFrom, cur.Version = b.ID, 1, &from, cur.Version+1
	if err := r.plans.UpdateSubscription(ctx, r.sc, cur, cur.Version-1); err != nil {
		t.Fatal(err)
	}
	subtotals := func() map[int]int64 {
		out := map[int]int64{}
		for _, inv := range r.invoices(t) {
			out[inv.SubscriptionStep] = inv.Subtotal
		}
		return out
	}
	r.now = time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	if _, err := r.closer().Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := subtotals(); got[1] != 249900 {
		t.Fatalf("November's close: subtotals %v, want step 1 = 2499.00", got)
	}
	after, _ := r.plans.Subscription(ctx, r.sc, sub.ID)
	if after.PlanID != b.ID || after.PendingPlanID != "" || after.PendingFrom != nil {
		t.Fatalf("after the change: plan %s pending %s %v", after.PlanID, after.PendingPlanID, after.PendingFrom)
	}
	r.now = time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)
	if _, err := r.closer().Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := subtotals(); got[0] != 99900 || got[2] != 224900 || len(got) != 3 {
		t.Fatalf("subtotals %v, want 0: 999.00, 1: 2499.00, 2: 2249.00", got)
	}
}

// countingPlans counts plan reads.
type countingPlans struct {
	*plandb.Store
	mu    sync.Mutex
	reads int
}

func (c *countingPlans) Plan(ctx context.Context, sc billing.Scope, id string, version int) (pricing.PlanVersion, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.Store.Plan(ctx, sc, id, version)
}

// A run reads a plan version once, however many of its subscriptions are
// due (five subscriptions, three steps each: one read).
func TestARunReadsEachPlanVersionOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	first := r.subscribe(t, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	for range 4 {
		sub := first
		sub.ID = ids.New(ids.Subscription)
		if err := r.plans.CreateSubscription(ctx, r.sc, sub); err != nil {
			t.Fatal(err)
		}
	}
	plans := &countingPlans{Store: r.plans}
	c := r.closer()
	c.Plans = plans
	res, err := c.Run(ctx)
	if err != nil || res.Invoices != 15 {
		t.Fatalf("run: %+v %v", res, err)
	}
	if plans.reads != 1 {
		t.Fatalf("%d plan reads for one plan version", plans.reads)
	}
}
