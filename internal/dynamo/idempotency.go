package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/schema"
)

// IdemRecord is billing.IdempotencyRecord.
type IdemRecord = billing.IdempotencyRecord

const (
	IdemInProgress = billing.IdempotencyInProgress
	IdemCompleted  = billing.IdempotencyCompleted
)

func idemKey(sc billing.Scope, k string) key { return key{scopeKey(sc) + "#IDEM#" + k, "IDEM"} }

// BeginIdempotent claims key for a request. It returns started=true when this
// request owns the key now (new, expired, or a crashed request's in-progress
// claim that timed out); otherwise the existing record.
func (s *Store) BeginIdempotent(ctx context.Context, sc billing.Scope, k, requestHash string, now time.Time, inProgressFor, keepFor time.Duration) (IdemRecord, bool, error) {
	rec := IdemRecord{Key: k, Status: IdemInProgress, RequestHash: requestHash,
		InProgressExpiry: now.Add(inProgressFor).Unix(), TTL: now.Add(keepFor).Unix()}
	it, err := item(idemKey(sc, k), "idempotency", rec, nil)
	if err != nil {
		return rec, false, apperr.Wrap(err, apperr.Internal, "", "encode idempotency record")
	}
	_, err = s.db.PutItem(ctx, &ddbjson.PutItemInput{TableName: &s.table, Item: it,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR #ttl < :now OR (#st = :inprog AND in_progress_expiry < :now)"),
		ExpressionAttributeNames:  map[string]string{"#ttl": schema.AttrTTL, "#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": n(now.Unix()), ":inprog": str(IdemInProgress)},
	})
	if err == nil {
		return rec, true, nil
	}
	if !conditionFailed(err) {
		return rec, false, transient(err, "idempotency claim")
	}
	var existing IdemRecord
	ok, gerr := s.get(ctx, idemKey(sc, k), &existing)
	if gerr != nil {
		return rec, false, gerr
	}
	if !ok { // expired and deleted between the two calls: claim again
		return s.BeginIdempotent(ctx, sc, k, requestHash, now, inProgressFor, keepFor)
	}
	return existing, false, nil
}

// CompleteIdempotent stores the response for key.
func (s *Store) CompleteIdempotent(ctx context.Context, sc billing.Scope, k string, status int, body string) error {
	_, err := s.db.UpdateItem(ctx, &ddbjson.UpdateItemInput{TableName: &s.table, Key: idemKey(sc, k).av(),
		UpdateExpression:          aws.String("SET #st = :done, response_status = :rs, response_body = :rb"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":done": str(IdemCompleted), ":rs": n(int64(status)), ":rb": str(body)},
	})
	return transient(err, "idempotency complete")
}

// ReleaseIdempotent forgets key (a 5xx outcome is not stored).
func (s *Store) ReleaseIdempotent(ctx context.Context, sc billing.Scope, k string) error {
	_, err := s.db.DeleteItem(ctx, &ddbjson.DeleteItemInput{TableName: &s.table, Key: idemKey(sc, k).av()})
	return transient(err, "idempotency release")
}
