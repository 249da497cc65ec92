package dynamo

import (
	"context"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/schema"
)

func gatewayEventIndex(sc billing.Scope, e billing.GatewayEvent) map[string]string {
	return map[string]string{
		schema.AttrGSI1PK: scopeKey(sc) + "#gateway-events",
		schema.AttrGSI2PK: scopeKey(sc) + "#gateway-events#" + e.Status,
		"tenant_id":       sc.TenantID, "environment_id": sc.EnvironmentID,
	}
}

// ParkEvent stores an event that matched nothing, once per id: the
// reconciler derives the id from the Razorpay event id, so a redelivery
// returns the record parked first instead of adding one.
func (s *Store) ParkEvent(ctx context.Context, sc billing.Scope, e billing.GatewayEvent) (billing.GatewayEvent, error) {
	err := s.putVersioned(ctx, entityKey(sc, e.ID), "gateway_event", e, gatewayEventIndex(sc, e), 0)
	if IsStale(err) { // parked before (a redelivery): keep the first record
		return s.GatewayEvent(ctx, sc, e.ID)
	}
	return e, err
}

// GatewayEvent reads a parked event.
func (s *Store) GatewayEvent(ctx context.Context, sc billing.Scope, id string) (billing.GatewayEvent, error) {
	var e billing.GatewayEvent
	ok, err := s.getEntity(ctx, entityKey(sc, id), "gateway_event", &e)
	if err != nil {
		return e, err
	}
	if !ok || e.ID == "" {
		return e, notFound("gateway event", id)
	}
	return e, nil
}

// UpdateGatewayEvent writes e if its version is still expected.
func (s *Store) UpdateGatewayEvent(ctx context.Context, sc billing.Scope, e billing.GatewayEvent, expected int64) error {
	return s.putVersioned(ctx, entityKey(sc, e.ID), "gateway_event", e, gatewayEventIndex(sc, e), expected)
}

// ListGatewayEvents pages through parked events, optionally by status.
func (s *Store) ListGatewayEvents(ctx context.Context, sc billing.Scope, status string, opt billing.ListOptions) (billing.Page[billing.GatewayEvent], error) {
	index, pkAttr, skAttr, pk := "GSI1", schema.AttrGSI1PK, schema.AttrGSI1SK, scopeKey(sc)+"#gateway-events"
	if status != "" {
		index, pkAttr, skAttr, pk = "GSI2", schema.AttrGSI2PK, schema.AttrGSI2SK, scopeKey(sc)+"#gateway-events#"+status
	}
	return listPage[billing.GatewayEvent](ctx, s, index, pkAttr, pk, skAttr, opt, nil)
}
