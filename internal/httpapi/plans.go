package httpapi

import (
	"context"
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
	Name     string              `json:"name"`
	Currency string              `json:"currency"`
	Charges  []pricing.ChargeDoc `json:"charges"`
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
	ms, err := h.Meters.Meters(ctx, r.Scope)
	if err != nil {
		return pricing.PlanVersion{}, err
	}
	active := map[string]bool{}
	for _, m := range ms {
		active[m.ID] = m.Status == usage.MeterActive
	}
	p := pricing.PlanVersion{ID: id, Version: version, Name: in.Name, Currency: in.Currency, Charges: in.Charges, CreatedAt: h.now().UTC()}
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
