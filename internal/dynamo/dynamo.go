// Package dynamo stores Razorbill's records in its single DynamoDB table
// (internal/schema). Every key carries the tenant and environment; every
// state change is a conditional write on the record's version; uniqueness
// (external ids, invoice numbers, one open payment per invoice, one
// application per Razorpay payment) is a condition-checked item written in
// the same transaction as the record it guards.
//
// Keys (S = "S#<tenant>#<environment>"):
//
//	TENANT#<tnt> / TENANT            tenant
//	TENANT#<tnt> / ENV#<env>         environment
//	TENANT#<tnt> / KEY#<key_id>      API key (by id, for revocation)
//	APIKEY#<sha256> / APIKEY         API key (by hash, for authentication)
//	S#CONN / razorpay                connection
//	S#TAX / GST                      GST settings (tax.go)
//	S#<cus_id> / A                   customer      GSI1 S#customers / id
//	S#EXT#<external_id> / U          external id → customer id
//	S#<inv_id> / A                   invoice       GSI1 S#invoices / id, GSI2 S#<cus_id>#invoices / id
//	S#INVNUM#<number> / U            invoice number → invoice id
//	S#SEQ#invoice / SEQ              invoice number sequence
//	S#<pay_id> / A                   payment       GSI1 S#payments / id, GSI2 S#<inv_id>#payments / id
//	S#RZP#<razorpay id> / REF        Razorpay id (plink_, inv_, order_) → our id
//	S#APPLIED#<razorpay pay_id> / M  marker: this Razorpay payment was applied
//	                                 (and to which payment: its ref, see Ref)
//	S#<gev_id> / A                   gateway event GSI1 S#gateway-events / id, GSI2 S#gateway-events#<status> / id
//	S#IDEM#<key> / IDEM              idempotency record (ttl)
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/schema"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(ctx context.Context, in *ddbjson.GetItemInput) (*ddbjson.GetItemOutput, error)
	PutItem(ctx context.Context, in *ddbjson.PutItemInput) (*ddbjson.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *ddbjson.UpdateItemInput) (*ddbjson.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *ddbjson.DeleteItemInput) (*ddbjson.DeleteItemOutput, error)
	Query(ctx context.Context, in *ddbjson.QueryInput) (*ddbjson.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *ddbjson.TransactWriteItemsInput) (*ddbjson.TransactWriteItemsOutput, error)
	BatchGetItem(ctx context.Context, in *ddbjson.BatchGetItemInput) (*ddbjson.BatchGetItemOutput, error)
}

// Store is Razorbill's table.
type Store struct {
	db    API
	table string
}

// Client is the DynamoDB client the store calls (the plans and usage
// stores share it).
func (s *Store) Client() API { return s.db }

// New returns a store over the named table.
func New(db API, table string) *Store { return &Store{db: db, table: table} }

// Table is the table name.
func (s *Store) Table() string { return s.table }

func scopeKey(sc billing.Scope) string { return "S#" + sc.TenantID + "#" + sc.EnvironmentID }

// ScopeKey is the key prefix of an environment's records
// ("S#<tenant>#<environment>"); the dynamo/usagedb and dynamo/plandb keys
// start with it too.
func ScopeKey(sc billing.Scope) string { return scopeKey(sc) }

// StorageError classifies a DynamoDB failure as every store of the table
// does: see transient.
func StorageError(err error, what string) error { return transient(err, what) }

type key struct{ pk, sk string }

func (k key) av() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		schema.AttrPK: &types.AttributeValueMemberS{Value: k.pk},
		schema.AttrSK: &types.AttributeValueMemberS{Value: k.sk},
	}
}

func entityKey(sc billing.Scope, id string) key { return key{scopeKey(sc) + "#" + id, "A"} }

// item marshals v and adds its key, entity name and extra attributes.
func item(k key, entity string, v any, extra map[string]string) (map[string]types.AttributeValue, error) {
	m, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, err
	}
	m[schema.AttrPK] = &types.AttributeValueMemberS{Value: k.pk}
	m[schema.AttrSK] = &types.AttributeValueMemberS{Value: k.sk}
	if entity != "" {
		m[schema.AttrEntity] = &types.AttributeValueMemberS{Value: entity}
	}
	for name, val := range extra {
		m[name] = &types.AttributeValueMemberS{Value: val}
	}
	return m, nil
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// attrS is it's string attribute name, "" when absent or of another type.
func attrS(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func n(v int64) types.AttributeValue { return &types.AttributeValueMemberN{Value: fmt.Sprint(v)} }

// transient wraps an AWS failure: throttling and 5xx are retried by consumers
// and answered 503; the text stays in logs.
func transient(err error, what string) error {
	if err == nil {
		return nil
	}
	if ae := apperr.As(err); ae != nil {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return apperr.Wrap(err, apperr.Transient, "storage_unavailable", "storage did not answer in time; retry")
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError", "ServiceUnavailable", "TransactionInProgressException":
			return apperr.Wrap(err, apperr.Transient, "storage_unavailable", "storage is busy; retry")
		case "ValidationException", "ResourceNotFoundException":
			return apperr.Wrap(err, apperr.Internal, "", what)
		}
	}
	return apperr.Wrap(err, apperr.Transient, "storage_unavailable", "storage is unavailable; retry")
}

// conditionFailed reports whether err is a failed condition check on a single write.
func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// cancelReasons returns a transaction's per-item cancellation codes, or nil
// when err is not a cancelled transaction.
func cancelReasons(err error) []string {
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		return nil
	}
	out := make([]string, len(tc.CancellationReasons))
	for i, r := range tc.CancellationReasons {
		out[i] = aws.ToString(r.Code)
	}
	return out
}

func (s *Store) get(ctx context.Context, k key, out any) (bool, error) {
	res, err := s.getItem(ctx, k)
	if err != nil {
		return false, err
	}
	if res.Item == nil {
		return false, nil
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return false, apperr.Wrap(err, apperr.Internal, "", "decode item")
	}
	return true, nil
}

// getItem reads the item at k with a consistent read: from a Prefetch on
// ctx when one holds it, else with GetItem.
func (s *Store) getItem(ctx context.Context, k key) (*ddbjson.GetItemOutput, error) {
	if it, ok := s.prefetched(ctx, k); ok {
		return &ddbjson.GetItemOutput{Item: it}, nil
	}
	res, err := s.db.GetItem(ctx, &ddbjson.GetItemInput{TableName: &s.table, Key: k.av(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, transient(err, "get item")
	}
	return res, nil
}

// getEntity reads the item at an entity key into out only when it is of the
// given entity type: an id of another kind (an invoice id passed where a
// customer is expected) reads as absent, never as a record of the wrong shape.
func (s *Store) getEntity(ctx context.Context, k key, entity string, out any) (bool, error) {
	res, err := s.getItem(ctx, k)
	if err != nil {
		return false, err
	}
	if res.Item == nil {
		return false, nil
	}
	if e, ok := res.Item[schema.AttrEntity].(*types.AttributeValueMemberS); !ok || e.Value != entity {
		return false, nil
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return false, apperr.Wrap(err, apperr.Internal, "", "decode item")
	}
	return true, nil
}

// putVersioned writes v at k when the stored version is expected (0: must not exist).
func (s *Store) putVersioned(ctx context.Context, k key, entity string, v any, extra map[string]string, expected int64) error {
	it, err := item(k, entity, v, extra)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode item")
	}
	put := versionedPut(s.table, it, expected)
	_, err = s.db.PutItem(ctx, &ddbjson.PutItemInput{TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression, ExpressionAttributeNames: put.ExpressionAttributeNames, ExpressionAttributeValues: put.ExpressionAttributeValues})
	if conditionFailed(err) {
		return errStale
	}
	return transient(err, "put item")
}

func versionedPut(table string, it map[string]types.AttributeValue, expected int64) *types.Put {
	p := &types.Put{TableName: aws.String(table), Item: it}
	if expected == 0 {
		p.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		// An update also requires the stored item to be of the same entity
		// type, so no id of another kind can overwrite a record.
		p.ConditionExpression = aws.String("#v = :v")
		p.ExpressionAttributeNames = map[string]string{"#v": "version"}
		p.ExpressionAttributeValues = map[string]types.AttributeValue{":v": n(expected)}
		if e, ok := it[schema.AttrEntity]; ok {
			p.ConditionExpression = aws.String("#v = :v AND #e = :e")
			p.ExpressionAttributeNames["#e"] = schema.AttrEntity
			p.ExpressionAttributeValues[":e"] = e
		}
	}
	return p
}

func uniquePut(table string, k key, attrs map[string]types.AttributeValue) *types.Put {
	it := k.av()
	for name, v := range attrs {
		it[name] = v
	}
	return &types.Put{TableName: aws.String(table), Item: it, ConditionExpression: aws.String("attribute_not_exists(PK)")}
}

// errStale is a lost optimistic-concurrency race; callers re-read and decide.
var errStale = apperr.E(apperr.Conflict, apperr.CodeConcurrentUpdate, "the record changed while this request ran; retry")

// IsStale reports whether err is a lost version race.
func IsStale(err error) bool { return errors.Is(err, errStale) }

// query runs a paged, newest-first query on an index partition. The
// indexes project only their keys (schema.Main), so each page of keys is
// followed by one BatchGetItem of those items from the table (consistent
// reads), decoded in the index's order; an item gone from the table since
// the index was read is skipped.
// MaxScanPerList bounds the items one filtered list request reads: past it
// the page ends early (has_more, with next_starting_after to go on), so a
// filter that matches little never reads a whole partition in one request.
const MaxScanPerList = 1000

func (s *Store) query(ctx context.Context, index, pkAttr, pkVal, skAttr string, opt billing.ListOptions, filter func(map[string]types.AttributeValue) bool, decode func(map[string]types.AttributeValue) error) (bool, string, error) {
	limit := opt.Limit
	if limit <= 0 {
		limit = 20
	}
	names := map[string]string{"#pk": pkAttr}
	values := map[string]types.AttributeValue{":pk": str(pkVal)}
	cond := "#pk = :pk"
	if opt.StartingAfter != "" {
		names["#sk"] = skAttr
		values[":after"] = str(opt.StartingAfter)
		cond += " AND #sk < :after"
	}
	got, scanned, last := 0, 0, ""
	skOf := func(it map[string]types.AttributeValue) string {
		if v, ok := it[skAttr].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	var start map[string]types.AttributeValue
	for {
		in := &ddbjson.QueryInput{
			TableName: &s.table, KeyConditionExpression: &cond,
			ExpressionAttributeNames: names, ExpressionAttributeValues: values,
			ScanIndexForward: aws.Bool(false),
			Limit:            aws.Int32(int32(limit + 1)), ExclusiveStartKey: start,
		}
		if index != "" {
			in.IndexName = aws.String(index)
		}
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return false, "", transient(err, "query")
		}
		items := res.Items
		if index != "" {
			if items, err = s.batchGet(ctx, res.Items); err != nil {
				return false, "", err
			}
		}
		for i, it := range items {
			if it == nil || (filter != nil && !filter(it)) {
				continue
			}
			if got == limit {
				return true, last, nil
			}
			if err := decode(it); err != nil {
				return false, "", apperr.Wrap(err, apperr.Internal, "", "decode item")
			}
			got++
			last = skOf(res.Items[i])
		}
		if res.LastEvaluatedKey == nil {
			return false, "", nil
		}
		start = res.LastEvaluatedKey
		scanned += len(res.Items)
		if filter != nil && scanned >= MaxScanPerList {
			// Go on from the last item read, matched or not.
			if sk := skOf(res.LastEvaluatedKey); sk != "" {
				return true, sk, nil
			}
		}
	}
}

// batchGetMax is the most keys one BatchGetItem request takes.
const batchGetMax = 100

// batchGet reads the table items of keys (index entries: their PK and SK)
// with consistent reads and returns them in the keys' order, nil where an
// item no longer exists. Keys DynamoDB leaves unprocessed are asked again.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	out := make([]map[string]types.AttributeValue, len(keys))
	at := map[key]int{}
	var pending []map[string]types.AttributeValue
	for i, k := range keys {
		pk, _ := k[schema.AttrPK].(*types.AttributeValueMemberS)
		sk, _ := k[schema.AttrSK].(*types.AttributeValueMemberS)
		if pk == nil || sk == nil {
			return nil, apperr.E(apperr.Internal, "", "index entry without the table key")
		}
		at[key{pk.Value, sk.Value}] = i
		pending = append(pending, key{pk.Value, sk.Value}.av())
	}
	for retries := 0; len(pending) > 0; {
		n := min(len(pending), batchGetMax)
		res, err := s.db.BatchGetItem(ctx, &ddbjson.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {Keys: pending[:n], ConsistentRead: aws.Bool(true)}}})
		if err != nil {
			return nil, transient(err, "batch get")
		}
		for _, it := range res.Responses[s.table] {
			if k := keyOf(it); k != (key{}) {
				if i, ok := at[k]; ok {
					out[i] = it
				}
			}
		}
		pending = append(res.UnprocessedKeys[s.table].Keys, pending[n:]...)
		if len(res.UnprocessedKeys[s.table].Keys) > 0 {
			if retries == 8 {
				return nil, apperr.E(apperr.Transient, "storage_unavailable", "storage is busy; retry")
			}
			select {
			case <-ctx.Done():
				return nil, transient(ctx.Err(), "batch get")
			case <-time.After(time.Duration(10<<retries) * time.Millisecond):
			}
			retries++
		}
	}
	return out, nil
}

func notFound(what, id string) error {
	return apperr.E(apperr.NotFound, "not_found", "%s %s was not found", what, id)
}

// listPage runs query and decodes each item into a T.
func listPage[T any](ctx context.Context, s *Store, index, pkAttr, pkVal, skAttr string, opt billing.ListOptions, filter func(map[string]types.AttributeValue) bool) (billing.Page[T], error) {
	var p billing.Page[T]
	more, next, err := s.query(ctx, index, pkAttr, pkVal, skAttr, opt, filter, func(it map[string]types.AttributeValue) error {
		var v T
		if err := attributevalue.UnmarshalMap(it, &v); err != nil {
			return err
		}
		p.Data = append(p.Data, v)
		return nil
	})
	p.HasMore, p.Next = more, next
	return p, err
}
