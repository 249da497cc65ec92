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

// remember answers table[key] when m holds it, else load's answer, kept
// when it succeeded. Without a memo (m nil) it only loads. Loads hold the
// memo's lock (they are few: once per environment or plan version per run),
// so concurrent closers read each thing once.
func remember[K comparable, V any](m *memo, table func(*memo) map[K]V, key K, load func() (V, error)) (V, error) {
	if m == nil {
		return load()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := table(m)[key]; ok {
		return v, nil
	}
	v, err := load()
	if err == nil {
		table(m)[key] = v
	}
	return v, err
}

func (c *Closer) plan(ctx context.Context, sc billing.Scope, id string, version int) (pricing.PlanVersion, error) {
	load := func() (pricing.PlanVersion, error) { return c.Plans.Plan(ctx, sc, id, version) }
	if version == 0 { // "the latest" changes: never kept
		return load()
	}
	key := fmt.Sprintf("%s/%s/%s/%d", sc.TenantID, sc.EnvironmentID, id, version)
	return remember(memoOf(ctx), func(m *memo) map[string]pricing.PlanVersion { return m.plans }, key, load)
}

func (c *Closer) connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error) {
	e, err := remember(memoOf(ctx), func(m *memo) map[billing.Scope]connEntry { return m.conns }, sc, func() (connEntry, error) {
		conn, ok, err := c.Ledger.Connection(ctx, sc)
		return connEntry{conn, ok}, err
	})
	return e.conn, e.ok, err
}

// memoTaxes reads an environment's GST settings once per run.
type memoTaxes struct{ r TaxSettingsReader }

func (t memoTaxes) TaxSettings(ctx context.Context, sc billing.Scope) (billing.TaxSettings, error) {
	return remember(memoOf(ctx), func(m *memo) map[billing.Scope]billing.TaxSettings { return m.taxes }, sc, func() (billing.TaxSettings, error) {
		return t.r.TaxSettings(ctx, sc)
	})
}
