package dynamo

import (
	"context"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
)

// taxKey is an environment's GST settings: S#TAX / GST.
func taxKey(sc billing.Scope) key { return key{scopeKey(sc) + "#TAX", "GST"} }

// TaxSettings reads an environment's GST settings; an environment that has
// stored none gets billing.DefaultTaxSettings, not an error.
func (s *Store) TaxSettings(ctx context.Context, sc billing.Scope) (billing.TaxSettings, error) {
	var t billing.TaxSettings
	ok, err := s.getEntity(ctx, taxKey(sc), "tax_settings", &t)
	if err != nil {
		return billing.TaxSettings{}, err
	}
	if !ok {
		return billing.DefaultTaxSettings(), nil
	}
	return t, nil
}

// PutTaxSettings replaces an environment's GST settings with t (validated
// by the caller, see billing.BuildTaxSettings).
func (s *Store) PutTaxSettings(ctx context.Context, sc billing.Scope, t billing.TaxSettings) error {
	it, err := item(taxKey(sc), "tax_settings", t, map[string]string{"tenant_id": sc.TenantID, "environment_id": sc.EnvironmentID})
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode tax settings")
	}
	_, err = s.db.PutItem(ctx, &ddbjson.PutItemInput{TableName: &s.table, Item: it})
	return transient(err, "put tax settings")
}
