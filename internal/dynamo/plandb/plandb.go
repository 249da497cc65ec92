// Package plandb stores plans in Razorbill's table (internal/schema).
//
// Keys (S = "S#<tenant>#<environment>"):
//
//	S#PLN#<pln_id> / V#<version, 6 digits>   one immutable plan version
//	S#PLANS / <pln_id>                        the plan's latest version (the listing)
//	S#SUB#<sub_id> / A                        subscription
//	S#SUB#<sub_id> / STEP#<n, 6 digits>       billing step n done (its invoice id)
//
// A subscription with a billing step left carries GSI3 keys (the sparse
// index): GSI3PK "DUE", GSI3SK "<next_billing_at>#<tenant>#<environment>#<sub_id>"
// with the time in a fixed-width UTC form, so the period close reads the
// subscriptions due by a range query, O(due), never a scan.
//
// A new version is written in one transaction with the listing item,
// conditional on the listing's version being the one the edit started from,
// so two concurrent edits make one new version and a 409.
package plandb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/pricing"
	"github.com/razorbill/razorbill/internal/schema"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(ctx context.Context, in *ddbjson.GetItemInput) (*ddbjson.GetItemOutput, error)
	PutItem(ctx context.Context, in *ddbjson.PutItemInput) (*ddbjson.PutItemOutput, error)
	Query(ctx context.Context, in *ddbjson.QueryInput) (*ddbjson.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *ddbjson.TransactWriteItemsInput) (*ddbjson.TransactWriteItemsOutput, error)
}

// Store is the plans part of the table.
type Store struct {
	db    API
	table string
}

// New returns a store over the named table.
func New(db API, table string) *Store { return &Store{db: db, table: table} }

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func versionSK(v int) string { return fmt.Sprintf("V#%06d", v) }

// Put stores p as its version: version 1 creates the plan; version n > 1
// requires the latest to be n−1 (else 409 plan_version_conflict).
func (s *Store) Put(ctx context.Context, sc billing.Scope, p pricing.PlanVersion) error {
	it, err := attributevalue.MarshalMap(p)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode plan")
	}
	listing := make(map[string]types.AttributeValue, len(it)+3)
	for k, v := range it {
		listing[k] = v
	}
	it[schema.AttrPK], it[schema.AttrSK], it[schema.AttrEntity] = str(dynamo.ScopeKey(sc)+"#PLN#"+p.ID), str(versionSK(p.Version)), str("plan_version")
	listing[schema.AttrPK], listing[schema.AttrSK], listing[schema.AttrEntity] = str(dynamo.ScopeKey(sc)+"#PLANS"), str(p.ID), str("plan")
	names := map[string]string{"#pk": schema.AttrPK}
	latest := &types.Put{TableName: &s.table, Item: listing, ExpressionAttributeNames: names, ConditionExpression: aws.String("attribute_not_exists(#pk)")}
	if p.Version > 1 {
		latest.ConditionExpression = aws.String("#v = :prev")
		latest.ExpressionAttributeNames = map[string]string{"#v": "version"}
		latest.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": &types.AttributeValueMemberN{Value: strconv.Itoa(p.Version - 1)}}
	}
	_, err = s.db.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: it, ExpressionAttributeNames: names, ConditionExpression: aws.String("attribute_not_exists(#pk)")}},
		{Put: latest},
	}})
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		return apperr.E(apperr.Conflict, "plan_version_conflict", "plan %s changed meanwhile (another version was written); read it and edit again", p.ID)
	}
	return dynamo.StorageError(err, "store plan")
}

// Plan reads a version of a plan (0: the latest).
func (s *Store) Plan(ctx context.Context, sc billing.Scope, id string, version int) (pricing.PlanVersion, error) {
	var p pricing.PlanVersion
	pk, sk := dynamo.ScopeKey(sc)+"#PLANS", id
	if version > 0 {
		pk, sk = dynamo.ScopeKey(sc)+"#PLN#"+id, versionSK(version)
	}
	res, err := s.db.GetItem(ctx, &ddbjson.GetItemInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{schema.AttrPK: str(pk), schema.AttrSK: str(sk)}})
	if err != nil {
		return p, dynamo.StorageError(err, "read plan")
	}
	if len(res.Item) == 0 {
		if version > 0 {
			return p, apperr.E(apperr.NotFound, "not_found", "plan %s has no version %d", id, version)
		}
		return p, apperr.E(apperr.NotFound, "not_found", "no plan with id %q", id)
	}
	if err := attributevalue.UnmarshalMap(res.Item, &p); err != nil {
		return p, apperr.Wrap(err, apperr.Internal, "", "decode plan")
	}
	return p, nil
}

// Plans lists the environment's plans (latest versions), newest first.
func (s *Store) Plans(ctx context.Context, sc billing.Scope, limit int, after string) ([]pricing.PlanVersion, bool, error) {
	in := &ddbjson.QueryInput{TableName: &s.table, KeyConditionExpression: aws.String("#pk = :pk"),
		ExpressionAttributeNames: map[string]string{"#pk": schema.AttrPK}, ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(dynamo.ScopeKey(sc) + "#PLANS")},
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit + 1))}
	if after != "" {
		in.ExclusiveStartKey = map[string]types.AttributeValue{schema.AttrPK: str(dynamo.ScopeKey(sc) + "#PLANS"), schema.AttrSK: str(after)}
	}
	res, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, false, dynamo.StorageError(err, "list plans")
	}
	var out []pricing.PlanVersion
	for _, it := range res.Items {
		var p pricing.PlanVersion
		if err := attributevalue.UnmarshalMap(it, &p); err != nil {
			return nil, false, apperr.Wrap(err, apperr.Internal, "", "decode plan")
		}
		out = append(out, p)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// ---- subscriptions (S#SUB#<sub_id> / A)

// CreateSubscription stores a new subscription.
func (s *Store) CreateSubscription(ctx context.Context, sc billing.Scope, sub pricing.Subscription) error {
	err := s.putSubscription(ctx, sc, sub, &ddbjson.PutItemInput{ConditionExpression: aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": schema.AttrPK}})
	return dynamo.StorageError(err, "store subscription")
}

// UpdateSubscription writes sub if its stored version is still expected.
func (s *Store) UpdateSubscription(ctx context.Context, sc billing.Scope, sub pricing.Subscription, expected int64) error {
	err := s.putSubscription(ctx, sc, sub, &ddbjson.PutItemInput{ConditionExpression: aws.String("#v = :v"),
		ExpressionAttributeNames:  map[string]string{"#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(expected, 10)}}})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return apperr.E(apperr.Conflict, apperr.CodeConcurrentUpdate, "subscription %s changed meanwhile; retry", sub.ID)
	}
	return dynamo.StorageError(err, "update subscription")
}

// putSubscription writes sub as one conditional PutItem (in: the condition).
func (s *Store) putSubscription(ctx context.Context, sc billing.Scope, sub pricing.Subscription, in *ddbjson.PutItemInput) error {
	it, err := subscriptionItem(sc, sub)
	if err != nil {
		return err
	}
	in.TableName, in.Item = &s.table, it
	_, err = s.db.PutItem(ctx, in)
	return err
}

func subPK(sc billing.Scope, id string) string { return dynamo.ScopeKey(sc) + "#SUB#" + id }

func stepSK(step int) string { return fmt.Sprintf("STEP#%06d", step) }

// subscriptionItem is sub as stored, with its due-index keys while a
// billing step is left.
func subscriptionItem(sc billing.Scope, sub pricing.Subscription) (map[string]types.AttributeValue, error) {
	it, err := attributevalue.MarshalMap(sub)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "", "encode subscription")
	}
	it[schema.AttrPK], it[schema.AttrSK], it[schema.AttrEntity] = str(subPK(sc, sub.ID)), str("A"), str("subscription")
	if sub.NextBillingAt != nil {
		it[schema.AttrGSI3PK], it[schema.AttrGSI3SK] = str(duePK), str(dueSK(*sub.NextBillingAt, sc, sub.ID))
	}
	return it, nil
}

// Subscription reads one subscription.
func (s *Store) Subscription(ctx context.Context, sc billing.Scope, id string) (pricing.Subscription, error) {
	var sub pricing.Subscription
	res, err := s.db.GetItem(ctx, &ddbjson.GetItemInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{schema.AttrPK: str(subPK(sc, id)), schema.AttrSK: str("A")}})
	if err != nil {
		return sub, dynamo.StorageError(err, "read subscription")
	}
	if len(res.Item) == 0 {
		return sub, apperr.E(apperr.NotFound, "not_found", "no subscription with id %q", id)
	}
	if err := attributevalue.UnmarshalMap(res.Item, &sub); err != nil {
		return sub, apperr.Wrap(err, apperr.Internal, "", "decode subscription")
	}
	return sub, nil
}

// ---- the period close's index and steps

const duePK = "DUE"

const dueTime = "2006-01-02T15:04:05.000000000Z"

func dueSK(at time.Time, sc billing.Scope, id string) string {
	return at.UTC().Format(dueTime) + "#" + sc.TenantID + "#" + sc.EnvironmentID + "#" + id
}

// DueRef names a subscription whose next billing step is due.
type DueRef struct {
	Scope billing.Scope
	ID    string
	Due   time.Time
	// Cursor is where a listing continues after this one.
	Cursor string
}

// Due lists up to limit subscriptions whose next billing step is due at
// or before `before`, oldest first, after the cursor (of an earlier
// DueRef; "" for the start). One GSI3 query: O(due).
func (s *Store) Due(ctx context.Context, before time.Time, limit int, cursor string) ([]DueRef, error) {
	in := &ddbjson.QueryInput{TableName: &s.table, IndexName: aws.String("GSI3"),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk < :before"),
		ExpressionAttributeNames: map[string]string{"#pk": schema.AttrGSI3PK, "#sk": schema.AttrGSI3SK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(duePK),
			":before": str(before.UTC().Format(dueTime) + "#~")},
		Limit: aws.Int32(int32(limit))}
	if cursor != "" {
		var k map[string]string
		if err := json.Unmarshal([]byte(cursor), &k); err != nil {
			return nil, apperr.E(apperr.Invalid, "validation_failed", "bad cursor")
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{}
		for n, v := range k {
			in.ExclusiveStartKey[n] = str(v)
		}
	}
	res, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, dynamo.StorageError(err, "list due subscriptions")
	}
	out := make([]DueRef, 0, len(res.Items))
	for _, it := range res.Items {
		k := map[string]string{}
		for n, v := range it {
			if sv, ok := v.(*types.AttributeValueMemberS); ok {
				k[n] = sv.Value
			}
		}
		parts := strings.Split(k[schema.AttrGSI3SK], "#")
		if len(parts) != 4 {
			return nil, apperr.E(apperr.Internal, "", "malformed due key %q", k[schema.AttrGSI3SK])
		}
		due, err := time.Parse(dueTime, parts[0])
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Internal, "", "due key time")
		}
		c, _ := json.Marshal(k)
		out = append(out, DueRef{Scope: billing.Scope{TenantID: parts[1], EnvironmentID: parts[2]}, ID: parts[3], Due: due, Cursor: string(c)})
	}
	return out, nil
}

// ErrStepDone: the billing step was already made (by a concurrent or an
// earlier run).
var ErrStepDone = apperr.E(apperr.Conflict, "period_already_billed", "this billing step of the subscription was already made")

// CompleteStep records billing step `step` of sub as done in one
// transaction: the step's marker (written once: a second run fails with
// ErrStepDone), the subscription as sub (conditional on its stored version
// being expected) and the items of the invoice the step made, if any
// (dynamo.Store.InvoicePut and InvoiceNumberPut). Either all are written
// or none.
func (s *Store) CompleteStep(ctx context.Context, sc billing.Scope, sub pricing.Subscription, expected int64, step int, invoiceID string, invoice ...types.TransactWriteItem) error {
	subItem, err := subscriptionItem(sc, sub)
	if err != nil {
		return err
	}
	marker := map[string]types.AttributeValue{schema.AttrPK: str(subPK(sc, sub.ID)), schema.AttrSK: str(stepSK(step)),
		schema.AttrEntity: str("subscription_step"), "invoice_id": str(invoiceID)}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: marker, ConditionExpression: aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": schema.AttrPK}}},
		{Put: &types.Put{TableName: &s.table, Item: subItem, ConditionExpression: aws.String("#v = :v"),
			ExpressionAttributeNames:  map[string]string{"#v": "version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(expected, 10)}}}},
	}
	items = append(items, invoice...)
	_, err = s.db.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{TransactItems: items})
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		r := tc.CancellationReasons
		switch {
		case len(r) > 0 && aws.ToString(r[0].Code) == "ConditionalCheckFailed":
			return ErrStepDone
		case len(r) > 1 && aws.ToString(r[1].Code) == "ConditionalCheckFailed":
			return apperr.E(apperr.Conflict, apperr.CodeConcurrentUpdate, "subscription %s changed meanwhile; retry", sub.ID)
		case len(r) > 3 && aws.ToString(r[3].Code) == "ConditionalCheckFailed":
			return apperr.E(apperr.Conflict, "invoice_number_exists", "the invoice number is already used; retry with another")
		}
	}
	return dynamo.StorageError(err, "complete billing step")
}

// StepInvoice is the invoice id billing step `step` of subscription id
// made ("" when it made none); ok is false when the step is not done.
func (s *Store) StepInvoice(ctx context.Context, sc billing.Scope, id string, step int) (string, bool, error) {
	res, err := s.db.GetItem(ctx, &ddbjson.GetItemInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{schema.AttrPK: str(subPK(sc, id)), schema.AttrSK: str(stepSK(step))}})
	if err != nil {
		return "", false, dynamo.StorageError(err, "read billing step")
	}
	if len(res.Item) == 0 {
		return "", false, nil
	}
	v, _ := res.Item["invoice_id"].(*types.AttributeValueMemberS)
	if v == nil {
		return "", true, nil
	}
	return v.Value, true, nil
}
