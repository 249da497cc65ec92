package dynamo

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/schema"
)

func refKey(sc billing.Scope, rzpID string) key { return key{scopeKey(sc) + "#RZP#" + rzpID, "REF"} }

func markerKey(sc billing.Scope, rzpPaymentID string) key {
	return key{scopeKey(sc) + "#APPLIED#" + rzpPaymentID, "M"}
}

func paymentIndex(sc billing.Scope, p billing.Payment) map[string]string {
	return withOpen(map[string]string{
		schema.AttrGSI1PK: scopeKey(sc) + "#payments",
		schema.AttrGSI2PK: scopeKey(sc) + "#" + p.DestinationID + "#payments",
		// No tenant_id/environment_id copies (the key holds them; no stream
		// filter or reader uses them on payments): a paid payment's item
		// stays nearer 1 KB, the unit DynamoDB bills writes in.
	}, sc, p.ID, p.LinkOpen())
}

func (s *Store) paymentPut(sc billing.Scope, p billing.Payment, expected int64) (types.TransactWriteItem, error) {
	it, err := item(entityKey(sc, p.ID), "payment", p, paymentIndex(sc, p))
	if err != nil {
		return types.TransactWriteItem{}, apperr.Wrap(err, apperr.Internal, "", "encode payment")
	}
	return types.TransactWriteItem{Put: versionedPut(s.table, it, expected)}, nil
}

// Payment reads a payment.
func (s *Store) Payment(ctx context.Context, sc billing.Scope, id string) (billing.Payment, error) {
	var p billing.Payment
	ok, err := s.getEntity(ctx, entityKey(sc, id), "payment", &p)
	if err != nil {
		return p, err
	}
	if !ok || p.ID == "" {
		return p, notFound("payment", id)
	}
	return p, nil
}

// CreatePayment stores a new payment that does not touch its invoice.
func (s *Store) CreatePayment(ctx context.Context, sc billing.Scope, p billing.Payment) error {
	return s.putVersioned(ctx, entityKey(sc, p.ID), "payment", p, paymentIndex(sc, p), 0)
}

// UpdatePayment writes p if the stored version is still expected.
func (s *Store) UpdatePayment(ctx context.Context, sc billing.Scope, p billing.Payment, expected int64) error {
	return s.putVersioned(ctx, entityKey(sc, p.ID), "payment", p, paymentIndex(sc, p), expected)
}

// SavePaymentAndInvoice writes a payment and its invoice in one transaction,
// each conditional on its version (0 for the payment: must be new). A lost
// race on either is errStale: nothing was written.
func (s *Store) SavePaymentAndInvoice(ctx context.Context, sc billing.Scope, p billing.Payment, expectedPayment int64, inv billing.Invoice, expectedInvoice int64, refs map[string]string) error {
	pp, err := s.paymentPut(sc, p, expectedPayment)
	if err != nil {
		return err
	}
	ip, err := s.InvoicePut(sc, inv, expectedInvoice)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{pp, ip}
	for rzpID, ourID := range refs {
		items = append(items, s.refPut(sc, rzpID, ourID))
	}
	_, err = s.db.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{TransactItems: items})
	if cancelReasons(err) != nil {
		for _, r := range cancelReasons(err) {
			if r == "ConditionalCheckFailed" {
				return errStale
			}
		}
		return apperr.Wrap(err, apperr.Transient, "storage_unavailable", "storage is busy; retry")
	}
	return transient(err, "save payment")
}

func (s *Store) refPut(sc billing.Scope, rzpID, ourID string) types.TransactWriteItem {
	it := refKey(sc, rzpID).av()
	it["id"] = str(ourID)
	it[schema.AttrEntity] = str("ref")
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it}}
}

// PutRef maps a Razorpay id (plink_, order_, inv_) to ours. A Razorpay
// payment's (pay_) is its marker, written by ApplyMoney: PutRef refuses one.
func (s *Store) PutRef(ctx context.Context, sc billing.Scope, rzpID, ourID string) error {
	if strings.HasPrefix(rzpID, razorpayPaymentPrefix) {
		return apperr.E(apperr.Internal, "", "a Razorpay payment's ref is the marker ApplyMoney writes, not a ref item")
	}
	it := refKey(sc, rzpID).av()
	it["id"] = str(ourID)
	it[schema.AttrEntity] = str("ref")
	_, err := s.db.PutItem(ctx, &ddbjson.PutItemInput{TableName: &s.table, Item: it})
	return transient(err, "put ref")
}

// Ref finds our id for a Razorpay id. A Razorpay payment's (pay_) is its
// marker's payment_id: ApplyMoney writes no separate ref for the Razorpay
// payment it applies (see applyMarked), and it is the only writer of pay_
// refs, always together with that marker.
func (s *Store) Ref(ctx context.Context, sc billing.Scope, rzpID string) (string, bool, error) {
	if strings.HasPrefix(rzpID, razorpayPaymentPrefix) {
		m, ok, err := s.Applied(ctx, sc, rzpID)
		return m.PaymentID, ok && m.PaymentID != "", err
	}
	var r struct {
		ID string `dynamodbav:"id"`
	}
	ok, err := s.get(ctx, refKey(sc, rzpID), &r)
	return r.ID, ok && r.ID != "", err
}

// razorpayPaymentPrefix starts every Razorpay payment id.
const razorpayPaymentPrefix = "pay_"

// ListPayments pages through payments, newest first, optionally of one invoice.
func (s *Store) ListPayments(ctx context.Context, sc billing.Scope, destinationID string, opt billing.ListOptions) (billing.Page[billing.Payment], error) {
	index, pkAttr, skAttr, pk := "GSI1", schema.AttrGSI1PK, schema.AttrGSI1SK, scopeKey(sc)+"#payments"
	if destinationID != "" {
		index, pkAttr, skAttr, pk = "GSI2", schema.AttrGSI2PK, schema.AttrGSI2SK, scopeKey(sc)+"#"+destinationID+"#payments"
	}
	return listPage[billing.Payment](ctx, s, index, pkAttr, pk, skAttr, opt, nil)
}

// Marker records that a Razorpay payment's money was applied.
type Marker struct {
	RazorpayPaymentID string `dynamodbav:"razorpay_payment_id"`
	PaymentID         string `dynamodbav:"payment_id"`
	InvoiceID         string `dynamodbav:"invoice_id"`
	Amount            int64  `dynamodbav:"amount"`
	Event             string `dynamodbav:"event"`
	AppliedAt         string `dynamodbav:"applied_at"`
}

// ErrAlreadyApplied means the marker exists: the money was counted before.
var ErrAlreadyApplied = apperr.E(apperr.Conflict, "already_applied", "this Razorpay payment was already applied")

// ApplyMoney writes, in one transaction, the marker for a Razorpay payment
// (condition: it does not exist), the payment and the invoice (each
// conditional on its version) and refs (Razorpay id → ours): nothing of a
// money effect is written unless all of it is. It returns ErrAlreadyApplied
// when the marker was there — the money is already counted, which is
// success for a consumer — and errStale when only a version check failed
// (re-read and retry).
func (s *Store) ApplyMoney(ctx context.Context, sc billing.Scope, m Marker, p billing.Payment, expectedPayment int64, inv billing.Invoice, expectedInvoice int64, refs ...map[string]string) error {
	pp, err := s.paymentPut(sc, p, expectedPayment)
	if err != nil {
		return err
	}
	return s.applyMarked(ctx, sc, m, inv, expectedInvoice, refs, pp)
}

// ApplyToInvoice is ApplyMoney for an effect on an invoice alone (a failed
// try at a synced invoice's short_url, with no Razorbill payment): the
// marker (must not exist) and the invoice (at its version), in one
// transaction, with the same results.
func (s *Store) ApplyToInvoice(ctx context.Context, sc billing.Scope, m Marker, inv billing.Invoice, expectedInvoice int64) error {
	return s.applyMarked(ctx, sc, m, inv, expectedInvoice, nil)
}

func (s *Store) applyMarked(ctx context.Context, sc billing.Scope, m Marker, inv billing.Invoice, expectedInvoice int64, refs []map[string]string, extra ...types.TransactWriteItem) error {
	mi, err := item(markerKey(sc, m.RazorpayPaymentID), "applied", m, nil)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode marker")
	}
	ip, err := s.InvoicePut(sc, inv, expectedInvoice)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: mi, ConditionExpression: aws.String("attribute_not_exists(PK)")}}}
	items = append(items, extra...)
	items = append(items, ip)
	for _, rs := range refs {
		for rzpID, ourID := range rs {
			if rzpID == m.RazorpayPaymentID && ourID == m.PaymentID && strings.HasPrefix(rzpID, razorpayPaymentPrefix) {
				continue // the marker is this ref (Ref reads it): one item less to write
			}
			items = append(items, s.refPut(sc, rzpID, ourID))
		}
	}
	return s.writeMarked(ctx, items, "apply money")
}

// writeMarked runs a transaction whose first item is a marker put
// conditional on its absence: a cancelled marker is ErrAlreadyApplied (the
// effect was written before), any other failed condition errStale (re-read
// and retry), anything else transient.
func (s *Store) writeMarked(ctx context.Context, items []types.TransactWriteItem, op string) error {
	_, err := s.db.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{TransactItems: items})
	if r := cancelReasons(err); r != nil {
		if r[0] == "ConditionalCheckFailed" {
			return ErrAlreadyApplied
		}
		for _, c := range r {
			if c == "ConditionalCheckFailed" {
				return errStale
			}
		}
		return apperr.Wrap(err, apperr.Transient, "storage_unavailable", "storage is busy; retry")
	}
	return transient(err, op)
}

// Applied reads the marker of a Razorpay payment.
func (s *Store) Applied(ctx context.Context, sc billing.Scope, rzpPaymentID string) (Marker, bool, error) {
	var m Marker
	ok, err := s.get(ctx, markerKey(sc, rzpPaymentID), &m)
	return m, ok, err
}
