package periodclose

import (
	"context"
	"fmt"
	"sync"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/pricing"
)

// memo keeps, for one run, what every subscription of an environment
// shares: plan versions (immutable), the connection and the GST settings.
// A run sees them as they were when first read; the next run reads again.
type memo struct {
	mu    sync.Mutex
	plans map[string]pricing.PlanVersion
	conns map[billing.Scope]connEntry
	taxes map[billing.Scope]billing.TaxSettings
}

type connEntry struct {
	conn billing.Connection
	ok   bool
}

type memoKey struct{}

func withMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &memo{plans: map[string]pricing.PlanVersion{}, conns: map[billing.Scope]connEntry{}, taxes: map[billing.Scope]billing.TaxSettings{}})
}

func memoOf(ctx context.Context) *memo {
	m, _ := ctx.Value(memoKey{}).(*memo)
	return m
}

func (c *Closer) plan(ctx context.Context, sc billing.Scope, id string, version int) (pricing.PlanVersion, error) {
	m := memoOf(ctx)
	if m == nil || version == 0 {
		return c.Plans.Plan(ctx, sc, id, version)
	}
	key := fmt.Sprintf("%s/%s/%s/%d", sc.TenantID, sc.EnvironmentID, id, version)
	m.mu.Lock()
	p, ok := m.plans[key]
	m.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := c.Plans.Plan(ctx, sc, id, version)
	if err != nil {
		return p, err
	}
	m.mu.Lock()
	m.plans[key] = p
	m.mu.Unlock()
	return p, nil
}

func (c *Closer) connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error) {
	m := memoOf(ctx)
	if m == nil {
		return c.Ledger.Connection(ctx, sc)
	}
	m.mu.Lock()
	e, ok := m.conns[sc]
	m.mu.Unlock()
	if ok {
		return e.conn, e.ok, nil
	}
	conn, found, err := c.Ledger.Connection(ctx, sc)
	if err != nil {
		return conn, found, err
	}
	m.mu.Lock()
	m.conns[sc] = connEntry{conn, found}
	m.mu.Unlock()
	return conn, found, nil
}

// memoTaxes reads an environment's GST settings once per run.
type memoTaxes struct{ r TaxSettingsReader }

func (t memoTaxes) TaxSettings(ctx context.Context, sc billing.Scope) (billing.TaxSettings, error) {
	m := memoOf(ctx)
	if m == nil {
		return t.r.TaxSettings(ctx, sc)
	}
	m.mu.Lock()
	v, ok := m.taxes[sc]
	m.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := t.r.TaxSettings(ctx, sc)
	if err != nil {
		return v, err
	}
	m.mu.Lock()
	m.taxes[sc] = v
	m.mu.Unlock()
	return v, nil
}
