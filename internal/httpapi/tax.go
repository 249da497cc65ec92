package httpapi

import (
	"context"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
)

// TaxStore keeps an environment's GST settings (dynamo.Store).
type TaxStore interface {
	TaxSettings(ctx context.Context, sc billing.Scope) (billing.TaxSettings, error)
	PutTaxSettings(ctx context.Context, sc billing.Scope, t billing.TaxSettings) error
}

// Tax serves an environment's GST settings (the api function).
type Tax struct {
	Store TaxStore
	Now   func() time.Time
}

// Routes are the tax routes.
func (h *Tax) Routes() []Route {
	return []Route{
		{Method: "PUT", Pattern: "/api/v1/environments/{id}/tax", Auth: AuthScoped, Handle: h.put},
		{Method: "GET", Pattern: "/api/v1/environments/{id}/tax", Auth: AuthScoped, Handle: h.get},
	}
}

type taxInput struct {
	GSTIN        *string `json:"gstin"`
	State        *string `json:"state"`
	DefaultRate  Decimal `json:"default_rate"`
	AutoFinalize *bool   `json:"auto_finalize"`
}

// environment refuses a path environment other than the request's own
// (X-Environment-ID) as not found: settings are read and written only in
// the environment the key is used in.
func environment(r *Request) error {
	if id := r.Params["id"]; id != r.Scope.EnvironmentID {
		return apperr.E(apperr.NotFound, "not_found", "no environment with id %q here; the path's environment must be the X-Environment-ID of the request", truncateID(id))
	}
	return nil
}

func (h *Tax) put(ctx context.Context, r *Request) (Response, error) {
	if err := environment(r); err != nil {
		return Response{}, err
	}
	var in taxInput
	if err := Decode(r.Body, &in); err != nil {
		return Response{}, err
	}
	if err := in.DefaultRate.Check("default_rate", false); err != nil {
		return Response{}, err
	}
	bin := billing.TaxSettingsInput{AutoFinalize: in.AutoFinalize}
	if in.GSTIN != nil {
		bin.GSTIN = *in.GSTIN
	}
	if in.State != nil {
		bin.State = *in.State
	}
	if in.DefaultRate.Set {
		bin.DefaultRate = &in.DefaultRate.Text
	}
	t, err := billing.BuildTaxSettings(bin)
	if err != nil {
		return Response{}, err
	}
	t.UpdatedAt = h.now().UTC()
	if err := h.Store.PutTaxSettings(ctx, r.Scope, t); err != nil {
		return Response{}, err
	}
	return Response{Body: taxView(r.Scope, t)}, nil
}

func (h *Tax) get(ctx context.Context, r *Request) (Response, error) {
	if err := environment(r); err != nil {
		return Response{}, err
	}
	t, err := h.Store.TaxSettings(ctx, r.Scope)
	if err != nil {
		return Response{}, err
	}
	return Response{Body: taxView(r.Scope, t)}, nil
}

func (h *Tax) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func taxView(sc billing.Scope, t billing.TaxSettings) map[string]any {
	var updated any
	if !t.UpdatedAt.IsZero() {
		updated = ts(t.UpdatedAt)
	}
	return map[string]any{
		"object": "tax_settings", "environment_id": sc.EnvironmentID,
		"gstin": nullable(t.GSTIN), "gstin_warning": nullable(billing.GSTINWarning(t.GSTIN)), "state": nullable(t.State),
		"default_rate": t.Rate().String(), "auto_finalize": t.AutoFinalize,
		"updated_at": updated,
	}
}
