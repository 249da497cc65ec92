package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/schema"
)

func tenantKey(id string) key      { return key{"TENANT#" + id, "TENANT"} }
func envKey(tnt, env string) key   { return key{"TENANT#" + tnt, "ENV#" + env} }
func keyByID(tnt, id string) key   { return key{"TENANT#" + tnt, "KEY#" + id} }
func keyByHash(hash string) key    { return key{"APIKEY#" + hash, "APIKEY"} }
func connKey(sc billing.Scope) key { return key{scopeKey(sc) + "#CONN", "razorpay"} }

// CreateTenant writes a tenant, its environments and its first API key in one transaction.
func (s *Store) CreateTenant(ctx context.Context, t billing.Tenant, k billing.APIKey) error {
	var items []types.TransactWriteItem
	add := func(kk key, entity string, v any) error {
		it, err := item(kk, entity, v, nil)
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it, ConditionExpression: aws.String("attribute_not_exists(PK)")}})
		return nil
	}
	if err := add(tenantKey(t.ID), "tenant", t); err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode tenant")
	}
	for _, e := range t.Environments {
		if err := add(envKey(t.ID, e.ID), "environment", e); err != nil {
			return apperr.Wrap(err, apperr.Internal, "", "encode environment")
		}
	}
	if err := add(keyByID(t.ID, k.ID), "api_key", k); err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode key")
	}
	if err := add(keyByHash(k.Hash), "api_key_hash", k); err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode key")
	}
	_, err := s.db.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{TransactItems: items})
	return transient(err, "create tenant")
}

// Tenant reads a tenant with its environments.
func (s *Store) Tenant(ctx context.Context, id string) (billing.Tenant, error) {
	var t billing.Tenant
	ok, err := s.get(ctx, tenantKey(id), &t)
	if err != nil {
		return t, err
	}
	if !ok {
		return t, notFound("tenant", id)
	}
	return t, nil
}

// Environment reads one of a tenant's environments.
func (s *Store) Environment(ctx context.Context, tenantID, envID string) (billing.Environment, error) {
	var e billing.Environment
	ok, err := s.get(ctx, envKey(tenantID, envID), &e)
	if err != nil {
		return e, err
	}
	if !ok {
		return e, notFound("environment", envID)
	}
	return e, nil
}

// APIKeyByHash finds an API key by the hash of its secret.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (billing.APIKey, bool, error) {
	var k billing.APIKey
	ok, err := s.get(ctx, keyByHash(hash), &k)
	return k, ok, err
}

// CreateAPIKey stores a new key for a tenant.
func (s *Store) CreateAPIKey(ctx context.Context, k billing.APIKey) error {
	a, err := item(keyByID(k.TenantID, k.ID), "api_key", k, nil)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode key")
	}
	b, err := item(keyByHash(k.Hash), "api_key_hash", k, nil)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode key")
	}
	_, err = s.db.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: a, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.table, Item: b, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}})
	return transient(err, "create api key")
}

// RevokeAPIKey deletes the key's hash record (so it stops authenticating) and
// marks the id record revoked. Another tenant's key id is not found.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, keyID string, now time.Time) error {
	var k billing.APIKey
	ok, err := s.get(ctx, keyByID(tenantID, keyID), &k)
	if err != nil {
		return err
	}
	if !ok || k.RevokedAt != nil {
		return notFound("API key", keyID)
	}
	_, err = s.db.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.table, Key: keyByHash(k.Hash).av()}},
		{Update: &types.Update{TableName: &s.table, Key: keyByID(tenantID, keyID).av(),
			UpdateExpression:          aws.String("SET revoked_at = :t"),
			ConditionExpression:       aws.String("attribute_not_exists(revoked_at)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": str(now.UTC().Format(time.RFC3339Nano))}}},
	}})
	if cancelReasons(err) != nil {
		return notFound("API key", keyID)
	}
	return transient(err, "revoke api key")
}

// PutConnection writes a connection (create or replace).
func (s *Store) PutConnection(ctx context.Context, c billing.Connection) error {
	sc := billing.Scope{TenantID: c.TenantID, EnvironmentID: c.EnvironmentID}
	it, err := item(connKey(sc), "connection", c, connectionIndex(c))
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode connection")
	}
	_, err = s.db.PutItem(ctx, &ddbjson.PutItemInput{TableName: &s.table, Item: it})
	return transient(err, "put connection")
}

// Connection reads a scope's Razorpay connection.
func (s *Store) Connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error) {
	var c billing.Connection
	ok, err := s.get(ctx, connKey(sc), &c)
	return c, ok, err
}

// LearnConnectionAccount records the Razorpay account of a connection that
// has none yet (learnt from a verified webhook). It never overwrites one:
// when the connection already names an account (or is gone) nothing
// changes and ok is false.
func (s *Store) LearnConnectionAccount(ctx context.Context, sc billing.Scope, accountID string) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &ddbjson.UpdateItemInput{TableName: &s.table, Key: connKey(sc).av(),
		UpdateExpression:          aws.String("SET account_id = :a, account_id_learnt = :t"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND (attribute_not_exists(account_id) OR account_id = :empty)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": str(accountID), ":t": &types.AttributeValueMemberBOOL{Value: true}, ":empty": str("")}})
	if conditionFailed(err) {
		return false, nil
	}
	return err == nil, transient(err, "learn connection account")
}

// MarkConnectionInternational records whether the connection's Razorpay
// account takes non-INR payments (learnt from Razorpay's refusal).
func (s *Store) MarkConnectionInternational(ctx context.Context, sc billing.Scope, on bool) error {
	_, err := s.db.UpdateItem(ctx, &ddbjson.UpdateItemInput{TableName: &s.table, Key: connKey(sc).av(),
		UpdateExpression:          aws.String("SET international = :b"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":b": &types.AttributeValueMemberBOOL{Value: on}}})
	if conditionFailed(err) {
		return nil
	}
	return transient(err, "mark connection international")
}

// TouchConnectionWebhook records when the last webhook arrived.
func (s *Store) TouchConnectionWebhook(ctx context.Context, sc billing.Scope, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &ddbjson.UpdateItemInput{TableName: &s.table, Key: connKey(sc).av(),
		UpdateExpression:          aws.String("SET last_webhook_at = :t"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": str(at.UTC().Format(time.RFC3339Nano))}})
	if conditionFailed(err) {
		return nil
	}
	return transient(err, "touch connection")
}

// ListAPIKeys pages through a tenant's keys (revoked ones included, marked),
// newest first.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID string, opt billing.ListOptions) (billing.Page[billing.APIKey], error) {
	var p billing.Page[billing.APIKey]
	limit := opt.Limit
	if limit <= 0 {
		limit = 20
	}
	cond := "#pk = :pk AND begins_with(#sk, :key)"
	names := map[string]string{"#pk": schema.AttrPK, "#sk": schema.AttrSK}
	values := map[string]types.AttributeValue{":pk": str("TENANT#" + tenantID), ":key": str("KEY#")}
	if opt.StartingAfter != "" {
		cond = "#pk = :pk AND #sk BETWEEN :key AND :after"
		values[":after"] = str("KEY#" + opt.StartingAfter + "!") // exclusive: ids never contain '!'
	}
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, &ddbjson.QueryInput{TableName: &s.table, KeyConditionExpression: &cond,
			ExpressionAttributeNames: names, ExpressionAttributeValues: values, ScanIndexForward: aws.Bool(false),
			Limit: aws.Int32(int32(limit + 1)), ExclusiveStartKey: start})
		if err != nil {
			return p, transient(err, "list api keys")
		}
		for _, it := range res.Items {
			var k billing.APIKey
			if err := attributevalue.UnmarshalMap(it, &k); err != nil {
				return p, apperr.Wrap(err, apperr.Internal, "", "decode api key")
			}
			if opt.StartingAfter != "" && k.ID >= opt.StartingAfter {
				continue
			}
			if len(p.Data) == limit {
				p.HasMore = true
				return p, nil
			}
			p.Data = append(p.Data, k)
		}
		if res.LastEvaluatedKey == nil {
			return p, nil
		}
		start = res.LastEvaluatedKey
	}
}

// TouchAPIKey records when a key was last used (on its id record only: the
// hash record is what authenticates and is never rewritten).
func (s *Store) TouchAPIKey(ctx context.Context, tenantID, keyID string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &ddbjson.UpdateItemInput{TableName: &s.table, Key: keyByID(tenantID, keyID).av(),
		UpdateExpression:          aws.String("SET last_used_at = :t"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": str(at.UTC().Format(time.RFC3339Nano))}})
	if conditionFailed(err) {
		return nil
	}
	return transient(err, "touch api key")
}
