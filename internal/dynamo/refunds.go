package dynamo

// Refund records (keys, with S = "S#<tenant>#<environment>"):
//
//	S#<rfd_id> / A                  refund        GSI1 S#refunds / id, GSI2 S#<pay_id>#refunds / id
//	S#REFUNDKEY#<Idempotency-Key> / U  the client's Idempotency-Key → refund id (ttl)

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

// RefundKeyTTL is how long a client's Idempotency-Key keeps pointing at its
// refund (longer than the HTTP layer's 24 h response record).
const RefundKeyTTL = 7 * 24 * time.Hour

func refundKeyKey(sc billing.Scope, k string) key { return key{scopeKey(sc) + "#REFUNDKEY#" + k, "U"} }

func refundIndex(sc billing.Scope, rf billing.Refund) map[string]string {
	return withOpen(map[string]string{
		schema.AttrGSI1PK: scopeKey(sc) + "#refunds",
		schema.AttrGSI2PK: scopeKey(sc) + "#" + rf.PaymentID + "#refunds",
		"tenant_id":       sc.TenantID, "environment_id": sc.EnvironmentID,
	}, sc, rf.ID, rf.RefundOpen())
}

// RefundKey is what a client's Idempotency-Key on a refund request points at.
type RefundKey struct {
	RefundID    string `dynamodbav:"refund_id"`
	PaymentID   string `dynamodbav:"payment_id"`
	RequestHash string `dynamodbav:"request_hash"`
}

// ErrRefundKeyTaken means another refund already holds the client's
// Idempotency-Key: nothing was written; read the key and answer with that refund.
var ErrRefundKeyTaken = apperr.E(apperr.Conflict, "refund_key_taken", "a refund already holds this Idempotency-Key")

func (s *Store) refundPut(sc billing.Scope, rf billing.Refund, expected int64) (types.TransactWriteItem, error) {
	it, err := item(entityKey(sc, rf.ID), "refund", rf, refundIndex(sc, rf))
	if err != nil {
		return types.TransactWriteItem{}, apperr.Wrap(err, apperr.Internal, "", "encode refund")
	}
	return types.TransactWriteItem{Put: versionedPut(s.table, it, expected)}, nil
}

// CreateRefund writes, in one transaction, a new refund record, the payment
// with its reservation (conditional on expectedPayment) and, when
// clientKey is not empty, the item mapping the client's Idempotency-Key to
// the refund (condition: no other refund holds it). ErrRefundKeyTaken when
// the key is held; errStale when the payment changed.
func (s *Store) CreateRefund(ctx context.Context, sc billing.Scope, rf billing.Refund, p billing.Payment, expectedPayment int64, clientKey, requestHash string, now time.Time) error {
	rp, err := s.refundPut(sc, rf, 0)
	if err != nil {
		return err
	}
	pp, err := s.paymentPut(sc, p, expectedPayment)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{pp, rp}
	if clientKey != "" {
		it, err := item(refundKeyKey(sc, clientKey), "refund_key", RefundKey{RefundID: rf.ID, PaymentID: rf.PaymentID, RequestHash: requestHash}, nil)
		if err != nil {
			return apperr.Wrap(err, apperr.Internal, "", "encode refund key")
		}
		it[schema.AttrTTL] = n(now.Add(RefundKeyTTL).Unix())
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it,
			ConditionExpression:       aws.String("attribute_not_exists(PK) OR #ttl < :now"),
			ExpressionAttributeNames:  map[string]string{"#ttl": schema.AttrTTL},
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": n(now.Unix())},
		}})
	}
	_, err = s.db.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{TransactItems: items})
	if r := cancelReasons(err); r != nil {
		if len(r) > 2 && r[2] == "ConditionalCheckFailed" {
			return ErrRefundKeyTaken
		}
		for _, c := range r {
			if c == "ConditionalCheckFailed" {
				return errStale
			}
		}
		return apperr.Wrap(err, apperr.Transient, "storage_unavailable", "storage is busy; retry")
	}
	return transient(err, "create refund")
}

// RefundByKey reads what a client's Idempotency-Key points at (expired
// mappings are not returned).
func (s *Store) RefundByKey(ctx context.Context, sc billing.Scope, clientKey string, now time.Time) (RefundKey, bool, error) {
	var k struct {
		RefundKey
		TTL int64 `dynamodbav:"ttl"`
	}
	ok, err := s.get(ctx, refundKeyKey(sc, clientKey), &k)
	if err != nil || !ok || k.RefundID == "" || (k.TTL != 0 && k.TTL < now.Unix()) {
		return RefundKey{}, false, err
	}
	return k.RefundKey, true, nil
}

// Refund reads a refund record.
func (s *Store) Refund(ctx context.Context, sc billing.Scope, id string) (billing.Refund, error) {
	var rf billing.Refund
	ok, err := s.get(ctx, entityKey(sc, id), &rf)
	if err != nil {
		return rf, err
	}
	if !ok || rf.ID == "" {
		return rf, notFound("refund", id)
	}
	return rf, nil
}

// SaveRefund writes a refund record and, when p is not nil, its payment, in
// one transaction, each conditional on its version. errStale when either
// changed: nothing was written.
func (s *Store) SaveRefund(ctx context.Context, sc billing.Scope, rf billing.Refund, expectedRefund int64, p *billing.Payment, expectedPayment int64) error {
	rp, err := s.refundPut(sc, rf, expectedRefund)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{rp}
	if p != nil {
		pp, err := s.paymentPut(sc, *p, expectedPayment)
		if err != nil {
			return err
		}
		items = append(items, pp)
	}
	_, err = s.db.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{TransactItems: items})
	if r := cancelReasons(err); r != nil {
		for _, c := range r {
			if c == "ConditionalCheckFailed" {
				return errStale
			}
		}
		return apperr.Wrap(err, apperr.Transient, "storage_unavailable", "storage is busy; retry")
	}
	return transient(err, "save refund")
}

// SettleRefund writes a Razorpay refund's outcome in one transaction: the
// marker (condition: it does not exist), the payment and the invoice (each
// conditional on its version) and, when rf is not nil, our refund record
// (conditional on expectedRefund). ErrAlreadyApplied when the marker was
// there; errStale when a version check failed.
func (s *Store) SettleRefund(ctx context.Context, sc billing.Scope, m Marker, p billing.Payment, expectedPayment int64, inv billing.Invoice, expectedInvoice int64, rf *billing.Refund, expectedRefund int64) error {
	mi, err := item(markerKey(sc, m.RazorpayPaymentID), "applied", m, nil)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode marker")
	}
	pp, err := s.paymentPut(sc, p, expectedPayment)
	if err != nil {
		return err
	}
	ip, err := s.InvoicePut(sc, inv, expectedInvoice)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: mi, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		pp, ip,
	}
	if rf != nil {
		rp, err := s.refundPut(sc, *rf, expectedRefund)
		if err != nil {
			return err
		}
		items = append(items, rp)
	}
	return s.writeMarked(ctx, items, "settle refund")
}

// ListRefunds pages through a payment's refunds, newest first. The index is
// eventually consistent: a refund written a moment ago may be missing.
func (s *Store) ListRefunds(ctx context.Context, sc billing.Scope, paymentID string, opt billing.ListOptions) (billing.Page[billing.Refund], error) {
	return listPage[billing.Refund](ctx, s, "GSI2", schema.AttrGSI2PK, scopeKey(sc)+"#"+paymentID+"#refunds", schema.AttrGSI2SK, opt, nil)
}
