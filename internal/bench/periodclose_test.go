package bench_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/dynamo/plandb"
	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/metering"
	"github.com/razorbill/razorbill/internal/periodclose"
	"github.com/razorbill/razorbill/internal/pricing"
	"github.com/razorbill/razorbill/internal/testenv"
	"github.com/razorbill/razorbill/internal/usage"
)

// opCounter counts DynamoDB calls by operation.
type opCounter struct {
	mu  sync.Mutex
	ops map[string]int
}

func (c *opCounter) option(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("periodCloseTally", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		op := awsmiddleware.GetOperationName(ctx)
		c.mu.Lock()
		c.ops[op]++
		c.mu.Unlock()
		return next.HandleInitialize(ctx, in)
	}), middleware.After)
}

func (c *opCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.ops
	c.ops = map[string]int{}
	return out
}

type periodCloseResult struct {
	Machine        machine        `json:"machine"`
	Subscriptions  int            `json:"subscriptions"`
	Customers      int            `json:"customers"`
	Concurrency    int            `json:"concurrency"`
	Seconds        float64        `json:"seconds"`
	PerSecond      float64        `json:"subscriptions_per_second"`
	Invoices       int            `json:"invoices"`
	Failed         int            `json:"failed"`
	Calls          map[string]int `json:"calls"`
	CallsPerSub    float64        `json:"calls_per_subscription"`
	IdleRunCalls   map[string]int `json:"idle_run_calls"`
	IdleRunSeconds float64        `json:"idle_run_seconds"`
}

// TestPeriodCloseBench closes one period of each of N subscriptions
// (RAZORBILL_BENCH_SUBSCRIPTIONS, 10,000) on DynamoDB Local: a plan of a
// monthly fee and a usage charge on a meter, the opening step done, so each
// has November's close due. It measures the run's wall time and counts its
// DynamoDB calls per subscription, then runs again with nothing due: that
// run's calls are what an idle schedule costs (O(due): one index query).
func TestPeriodCloseBench(t *testing.T) {
	gate(t)
	n := envInt(t, "RAZORBILL_BENCH_SUBSCRIPTIONS", 10000)
	customers := max(n/10, 1)
	workers := envInt(t, "RAZORBILL_BENCH_CLOSE_CONCURRENCY", 8)
	env := testenv.AWS(t)
	counter := &opCounter{ops: map[string]int{}}
	cfg := env.Config.Copy()
	cfg.APIOptions = append(cfg.APIOptions, counter.option)
	db, err := ddbjson.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sc := billing.Scope{TenantID: ids.New(ids.Tenant), EnvironmentID: ids.New(ids.Environment)}
	ledger, plans := dynamo.New(db, env.Table()), plandb.New(db, env.Table())
	usageStore := usagedb.New(db, env.Table(), 0)
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	m := usage.Meter{ID: ids.New(ids.Meter), Name: "API calls", EventName: "api_call", Aggregation: usage.Count, CreatedAt: now.AddDate(0, -2, 0)}
	if err := usage.ValidateMeter(&m); err != nil {
		t.Fatal(err)
	}
	if err := usageStore.CreateMeter(ctx, sc, m); err != nil {
		t.Fatal(err)
	}
	plan := pricing.PlanVersion{ID: ids.New(ids.Plan), Version: 1, Name: "Growth", Currency: "inr", CreatedAt: now, Charges: []pricing.ChargeDoc{
		{Type: pricing.Fixed, DisplayName: "Platform fee", Amount: "999", Period: pricing.Monthly},
		{Type: pricing.Usage, DisplayName: "API calls", MeterID: m.ID, Model: pricing.PerUnit, UnitAmount: "0.50"},
	}}
	if err := plan.Validate(func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if err := plans.Put(ctx, sc, plan); err != nil {
		t.Fatal(err)
	}
	cusIDs := make([]string, customers)
	setup := func(count int, f func(i int) error) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		var once sync.Once
		var first error
		for i := range count {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := f(i); err != nil {
					once.Do(func() { first = err })
				}
			})
		}
		wg.Wait()
		if first != nil {
			t.Fatal(first)
		}
	}
	setup(customers, func(i int) error {
		c := billing.Customer{ID: ids.New(ids.Customer), ExternalID: fmt.Sprintf("bench-%d", i), Name: "Bench", Metadata: map[string]string{},
			SyncStatus: billing.SyncNotSynced, CreatedAt: now, UpdatedAt: now, Version: 1}
		cusIDs[i] = c.ID
		return ledger.CreateCustomer(ctx, sc, c)
	})
	start, billed := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	setup(n, func(i int) error {
		sub := pricing.Subscription{ID: ids.New(ids.Subscription), CustomerID: cusIDs[i%customers], PlanID: plan.ID, PlanVersion: 1, Start: start,
			BillingPeriod: pricing.Monthly, AnchorDay: 1, Status: pricing.SubActive, CreatedAt: now, Version: 1, Steps: 1, Invoices: 1, FixedBilledThrough: &billed}
		if err := sub.Schedule(); err != nil {
			return err
		}
		return plans.CreateSubscription(ctx, sc, sub)
	})
	counter.take()
	closer := &periodclose.Closer{Plans: plans, Ledger: ledger, Grace: time.Hour, Now: func() time.Time { return now }, Concurrency: workers,
		Usage:    &metering.Service{Store: usageStore, Customers: ledger, Now: func() time.Time { return now }},
		Settings: periodclose.FromTaxSettings(ledger)}
	t0 := time.Now()
	res, err := closer.Run(ctx)
	took := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	calls := counter.take()
	t1 := time.Now()
	idle, err := closer.Run(ctx)
	idleTook := time.Since(t1)
	if err != nil || idle.Subscriptions != 0 {
		t.Fatalf("the second run visited %d subscriptions (%v)", idle.Subscriptions, err)
	}
	total := 0
	for _, c := range calls {
		total += c
	}
	out := periodCloseResult{Machine: thisMachine(), Subscriptions: n, Customers: customers, Concurrency: workers, Seconds: took.Seconds(),
		PerSecond: float64(n) / took.Seconds(), Invoices: res.Invoices, Failed: res.Failed, Calls: calls, CallsPerSub: float64(total) / float64(n),
		IdleRunCalls: counter.take(), IdleRunSeconds: idleTook.Seconds()}
	if res.Invoices != n || res.Failed != 0 {
		t.Errorf("%d invoices and %d failures for %d due subscriptions", res.Invoices, res.Failed, n)
	}
	ops := make([]string, 0, len(calls))
	for op := range calls {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		t.Logf("%-20s %8d  %.2f per subscription", op, calls[op], float64(calls[op])/float64(n))
	}
	t.Logf("closed %d subscriptions in %s (%.0f/s, goal: within 5 min); idle run: %v in %s", n, took.Round(time.Millisecond), out.PerSecond, out.IdleRunCalls, idleTook.Round(time.Millisecond))
	writeResult(t, "period_close.json", out)
}
