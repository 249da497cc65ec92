package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/pricing"
	"github.com/razorbill/razorbill/internal/usage"
)

// PlanStore keeps plan versions.
type PlanStore interface {
	Put(ctx context.Context, sc billing.Scope, p pricing.PlanVersion) error
	Plan(ctx context.Context, sc billing.Scope, id string, version int) (pricing.PlanVersion, error)
	Plans(ctx context.Context, sc billing.Scope, limit int, after string) ([]pricing.PlanVersion, bool, error)
}

// MeterLister lists an environment's meters (a usage charge must name one).
type MeterLister interface {
	Meters(ctx context.Context, sc billing.Scope) ([]usage.Meter, error)
}

// Plans serves /api/v1/plans (the api function).
type Plans struct {
	Store  PlanStore
	Meters MeterLister
	Now    func() time.Time
}

// Routes are the plan routes.
func (h *Plans) Routes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/api/v1/plans", Auth: AuthScoped, Handle: h.create},
		{Method: "GET", Pattern: "/api/v1/plans", Auth: AuthScoped, Handle: h.list},
		{Method: "GET", Pattern: "/api/v1/plans/{id}", Auth: AuthScoped, Handle: h.get},
		{Method: "PUT", Pattern: "/api/v1/plans/{id}", Auth: AuthScoped, Handle: h.edit},
	}
}

type planInput struct {
	Name     string     `json:"name"`
	Currency string     `json:"currency"`
	Charges  []chargeIn `json:"charges"`
}

// chargeIn is pricing.ChargeDoc as a request carries it: its amounts and
// quantities may be JSON strings or numbers (api.md), kept as their exact
// text.
type chargeIn struct {
	Type          string   `json:"type"`
	DisplayName   string   `json:"display_name"`
	Amount        Decimal  `json:"amount"`
	Period        string   `json:"period"`
	MeterID       string   `json:"meter_id"`
	Model         string   `json:"model"`
	UnitAmount    Decimal  `json:"unit_amount"`
	PackageSize   Decimal  `json:"package_size"`
	PackageAmount Decimal  `json:"package_amount"`
	Tiers         []tierIn `json:"tiers"`
	TaxRate       Decimal  `json:"tax_rate"`
	SACCode       string   `json:"sac_code"`
}

// tierIn is pricing.TierDoc as a request carries it; up_to null (or
// absent) is the last tier.
type tierIn struct {
	UpTo       *Decimal `json:"up_to"`
	UnitAmount Decimal  `json:"unit_amount"`
	FlatAmount Decimal  `json:"flat_amount"`
}

// charges checks the decimals' JSON types and converts the charges.
func charges(in []chargeIn) ([]pricing.ChargeDoc, error) {
	out := make([]pricing.ChargeDoc, len(in))
	for i, c := range in {
		f := func(name string) string { return fmt.Sprintf("charges[%d].%s", i, name) }
		for name, d := range map[string]Decimal{"amount": c.Amount, "unit_amount": c.UnitAmount, "package_size": c.PackageSize, "package_amount": c.PackageAmount, "tax_rate": c.TaxRate} {
			if err := d.Check(f(name), false); err != nil {
				return nil, err
			}
		}
		doc := pricing.ChargeDoc{Type: c.Type, DisplayName: c.DisplayName, Amount: c.Amount.Text, Period: c.Period, MeterID: c.MeterID, Model: c.Model,
			UnitAmount: c.UnitAmount.Text, PackageSize: c.PackageSize.Text, PackageAmount: c.PackageAmount.Text, TaxRate: c.TaxRate.Text, SACCode: c.SACCode}
		for j, t := range c.Tiers {
			tf := func(name string) string { return f(fmt.Sprintf("tiers[%d].%s", j, name)) }
			for name, d := range map[string]Decimal{"unit_amount": t.UnitAmount, "flat_amount": t.FlatAmount} {
				if err := d.Check(tf(name), false); err != nil {
					return nil, err
				}
			}
			td := pricing.TierDoc{UnitAmount: t.UnitAmount.Text, FlatAmount: t.FlatAmount.Text}
			if t.UpTo != nil && t.UpTo.Set {
				if err := t.UpTo.Check(tf("up_to"), false); err != nil {
					return nil, err
				}
				td.UpTo = &t.UpTo.Text
			}
			doc.Tiers = append(doc.Tiers, td)
		}
		out[i] = doc
	}
	return out, nil
}

func planView(p pricing.PlanVersion) map[string]any {
	return map[string]any{"id": p.ID, "object": "plan", "version": p.Version, "name": p.Name, "currency": strings.ToLower(p.Currency),
		"charges": p.Charges, "created_at": p.CreatedAt.UTC().Format(time.RFC3339)}
}

func (h *Plans) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Plans) version(ctx context.Context, r *Request, id string, version int) (pricing.PlanVersion, error) {
	var in planInput
	if err := Decode(r.Body, &in); err != nil {
		return pricing.PlanVersion{}, err
	}
	docs, err := charges(in.Charges)
	if err != nil {
		return pricing.PlanVersion{}, err
	}
	ms, err := h.Meters.Meters(ctx, r.Scope)
	if err != nil {
		return pricing.PlanVersion{}, err
	}
	active := map[string]bool{}
	for _, m := range ms {
		active[m.ID] = m.Status == usage.MeterActive
	}
	p := pricing.PlanVersion{ID: id, Version: version, Name: in.Name, Currency: in.Currency, Charges: docs, CreatedAt: h.now().UTC()}
	if err := p.Validate(func(id string) bool { return active[id] }); err != nil {
		return p, err
	}
	return p, h.Store.Put(ctx, r.Scope, p)
}

func (h *Plans) create(ctx context.Context, r *Request) (Response, error) {
	p, err := h.version(ctx, r, ids.New(ids.Plan), 1)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusCreated, Body: planView(p)}, nil
}

// edit makes the plan's next version from the whole body; running
// subscriptions keep the version they have.
func (h *Plans) edit(ctx context.Context, r *Request) (Response, error) {
	cur, err := h.Store.Plan(ctx, r.Scope, r.Params["id"], 0)
	if err != nil {
		return Response{}, err
	}
	p, err := h.version(ctx, r, cur.ID, cur.Version+1)
	if err != nil {
		return Response{}, err
	}
	return Response{Body: planView(p)}, nil
}

func (h *Plans) get(ctx context.Context, r *Request) (Response, error) {
	v := 0
	if s, ok := r.Query["version"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return Response{}, apperr.InvalidField("validation_failed", "version", "version must be a whole number from 1")
		}
		v = n
	}
	p, err := h.Store.Plan(ctx, r.Scope, r.Params["id"], v)
	if err != nil {
		return Response{}, err
	}
	return Response{Body: planView(p)}, nil
}

func (h *Plans) list(ctx context.Context, r *Request) (Response, error) {
	opt, err := listOptions(r)
	if err != nil {
		return Response{}, err
	}
	ps, more, err := h.Store.Plans(ctx, r.Scope, opt.Limit, opt.StartingAfter)
	if err != nil {
		return Response{}, err
	}
	data := make([]any, len(ps))
	for i, p := range ps {
		data[i] = planView(p)
	}
	return Response{Body: map[string]any{"data": data, "has_more": more}}, nil
}
