package dynamo

// The open-instruments index (schema GSI3, sparse; S = "S#<tenant>#<environment>"):
//
//	GSI3 S#open / id                 payment with an open link, invoice with an
//	                                 open Razorpay invoice, pending refund
//	GSI3 connections#active / S      environment with an ACTIVE connection
//
// The attributes are set by the same Put that writes the record while its
// billing predicate (LinkOpen, RazorpayInvoiceOpen, RefundOpen, ACTIVE)
// holds and are absent from the Put that closes it, so the index never
// disagrees with the record.

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/schema"
)

const activeConnectionsPK = "connections#active"

func openPK(sc billing.Scope) string { return scopeKey(sc) + "#open" }

// withOpen adds the open-index attributes to extra when open.
func withOpen(extra map[string]string, sc billing.Scope, id string, open bool) map[string]string {
	if open {
		extra[schema.AttrGSI3PK], extra[schema.AttrGSI3SK] = openPK(sc), id
	}
	return extra
}

func connectionIndex(c billing.Connection) map[string]string {
	if c.Status != billing.ConnectionActive {
		return nil
	}
	return map[string]string{schema.AttrGSI3PK: activeConnectionsPK,
		schema.AttrGSI3SK: scopeKey(billing.Scope{TenantID: c.TenantID, EnvironmentID: c.EnvironmentID})}
}

// OpenItems pages through the ids of an environment's open instruments
// (pay_, inv_ and rfd_ ids), oldest first, limit per page; next is "" on
// the last page.
func (s *Store) OpenItems(ctx context.Context, sc billing.Scope, startAfter string, limit int) (ids []string, next string, err error) {
	in := &ddbjson.QueryInput{TableName: &s.table, IndexName: aws.String("GSI3"),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": schema.AttrGSI3PK, "#sk": schema.AttrGSI3SK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(openPK(sc))},
		ProjectionExpression:      aws.String("#sk"),
		Limit:                     aws.Int32(int32(limit))}
	if startAfter != "" {
		in.ExclusiveStartKey = map[string]types.AttributeValue{schema.AttrGSI3PK: str(openPK(sc)), schema.AttrGSI3SK: str(startAfter),
			schema.AttrPK: str(entityKey(sc, startAfter).pk), schema.AttrSK: str("A")}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", transient(err, "query open instruments")
	}
	for _, it := range out.Items {
		if v, ok := it[schema.AttrGSI3SK].(*types.AttributeValueMemberS); ok {
			ids = append(ids, v.Value)
		}
	}
	if len(out.LastEvaluatedKey) > 0 && len(ids) > 0 {
		next = ids[len(ids)-1]
	}
	return ids, next, nil
}

// ActiveConnections lists every environment with an ACTIVE connection.
func (s *Store) ActiveConnections(ctx context.Context) ([]billing.Scope, error) {
	var out []billing.Scope
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, &ddbjson.QueryInput{TableName: &s.table, IndexName: aws.String("GSI3"),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": schema.AttrGSI3PK, "#sk": schema.AttrGSI3SK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(activeConnectionsPK)},
			ProjectionExpression:      aws.String("#sk"), ExclusiveStartKey: start})
		if err != nil {
			return nil, transient(err, "query active connections")
		}
		for _, it := range res.Items {
			v, ok := it[schema.AttrGSI3SK].(*types.AttributeValueMemberS)
			if !ok {
				continue
			}
			parts := strings.Split(v.Value, "#") // S#<tenant>#<environment>
			if len(parts) == 3 {
				out = append(out, billing.Scope{TenantID: parts[1], EnvironmentID: parts[2]})
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

// RecordMissedWebhooks stores the times the gateway-sweeper applied events
// no webhook had announced (the last 24 h, at most 1000).
func (s *Store) RecordMissedWebhooks(ctx context.Context, sc billing.Scope, at []time.Time, now time.Time) error {
	if len(at) == 0 {
		return nil
	}
	for attempt := 0; ; attempt++ {
		c, ok, err := s.Connection(ctx, sc)
		if err != nil || !ok {
			return err
		}
		prev := len(c.MissedWebhooks)
		kept := billing.PruneMissed(append(append([]time.Time(nil), c.MissedWebhooks...), at...), now, 1000)
		l := make([]types.AttributeValue, len(kept))
		for i, t := range kept {
			l[i] = str(t.UTC().Format(time.RFC3339Nano))
		}
		// Conditional on the list's length as read, so two sweeps never
		// drop each other's entries (a PUT of the connection keeps it).
		cond := "attribute_not_exists(missed_webhooks)"
		vals := map[string]types.AttributeValue{":l": &types.AttributeValueMemberL{Value: l}}
		if prev > 0 {
			cond = "size(missed_webhooks) = :n"
			vals[":n"] = n(int64(prev))
		}
		_, err = s.db.UpdateItem(ctx, &ddbjson.UpdateItemInput{TableName: &s.table, Key: connKey(sc).av(),
			UpdateExpression: aws.String("SET missed_webhooks = :l"), ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals})
		if conditionFailed(err) && attempt < 5 {
			continue
		}
		if conditionFailed(err) {
			return apperr.E(apperr.Transient, "contention", "the connection changed while recording missed webhooks")
		}
		return transient(err, "record missed webhooks")
	}
}

// sweepCursorKey is where an environment's gateway sweep keeps its place.
func sweepCursorKey(sc billing.Scope) key { return key{scopeKey(sc) + "#SWEEP", "CURSOR"} }

type sweepCursorItem struct {
	After string `dynamodbav:"after"`
	State string `dynamodbav:"state"`
	AtMS  int64  `dynamodbav:"at_ms"` // a number, so the condition below compares times
}

// GetSweepCursor reads the environment's sweep cursor (the zero cursor
// when none was ever written).
func (s *Store) GetSweepCursor(ctx context.Context, sc billing.Scope) (billing.SweepCursor, error) {
	var c sweepCursorItem
	ok, err := s.get(ctx, sweepCursorKey(sc), &c)
	if err != nil || !ok {
		return billing.SweepCursor{}, err
	}
	return billing.SweepCursor{After: c.After, State: c.State, At: time.UnixMilli(c.AtMS).UTC()}, nil
}

// PutSweepCursor writes the environment's sweep cursor unless the stored
// one was written later (the schedule's "running" mark must not replace
// what the sweep it queued wrote since; that is no error).
func (s *Store) PutSweepCursor(ctx context.Context, sc billing.Scope, c billing.SweepCursor) error {
	it, err := item(sweepCursorKey(sc), "sweep_cursor", sweepCursorItem{After: c.After, State: c.State, AtMS: c.At.UnixMilli()}, nil)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode sweep cursor")
	}
	_, err = s.db.PutItem(ctx, &ddbjson.PutItemInput{TableName: &s.table, Item: it,
		ConditionExpression:       aws.String("attribute_not_exists(at_ms) OR at_ms <= :at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": n(c.At.UnixMilli())}})
	if conditionFailed(err) {
		return nil
	}
	return transient(err, "put sweep cursor")
}
