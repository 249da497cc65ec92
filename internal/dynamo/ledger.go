package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/schema"
)

func extKey(sc billing.Scope, ext string) key    { return key{scopeKey(sc) + "#EXT#" + ext, "U"} }
func invNumKey(sc billing.Scope, num string) key { return key{scopeKey(sc) + "#INVNUM#" + num, "U"} }
func seqKey(sc billing.Scope, name string) key   { return key{scopeKey(sc) + "#SEQ#" + name, "SEQ"} }

func customerIndex(sc billing.Scope, c billing.Customer) map[string]string {
	return map[string]string{schema.AttrGSI1PK: scopeKey(sc) + "#customers"}
}

func invoiceIndex(sc billing.Scope, inv billing.Invoice) map[string]string {
	return withOpen(map[string]string{
		schema.AttrGSI1PK: scopeKey(sc) + "#invoices",
		schema.AttrGSI2PK: scopeKey(sc) + "#" + inv.CustomerID + "#invoices",
		// No tenant_id/environment_id copies: the stream relay reads the
		// scope from the key, and an invoice of one line stays well under
		// 1 KB, the unit DynamoDB bills writes in.
	}, sc, inv.ID, inv.RazorpayInvoiceOpen())
}

// CreateCustomer stores a new customer; an external id already used in the
// environment is a 409 customer_exists naming the existing customer. The
// uniqueness item is written in the same transaction, so two concurrent
// creates cannot both win.
func (s *Store) CreateCustomer(ctx context.Context, sc billing.Scope, c billing.Customer) error {
	it, err := item(entityKey(sc, c.ID), "customer", c, customerIndex(sc, c))
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode customer")
	}
	items := []types.TransactWriteItem{{Put: versionedPut(s.table, it, 0)}}
	if c.ExternalID != "" {
		items = append(items, types.TransactWriteItem{Put: uniquePut(s.table, extKey(sc, c.ExternalID), map[string]types.AttributeValue{"customer_id": str(c.ID), schema.AttrEntity: str("unique")})})
	}
	_, err = s.db.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{TransactItems: items})
	if r := cancelReasons(err); len(r) == 2 && r[1] == "ConditionalCheckFailed" {
		existing, ok, gerr := s.CustomerByExternalID(ctx, sc, c.ExternalID)
		if gerr != nil {
			return gerr
		}
		e := apperr.InvalidField("customer_exists", "external_id", "a customer with external_id %q already exists", c.ExternalID)
		e.Kind = apperr.Conflict
		if ok {
			e.Details = map[string]any{"existing_id": existing.ID}
		}
		return e
	}
	return transient(err, "create customer")
}

// Customer reads a customer.
func (s *Store) Customer(ctx context.Context, sc billing.Scope, id string) (billing.Customer, error) {
	var c billing.Customer
	ok, err := s.getEntity(ctx, entityKey(sc, id), "customer", &c)
	if err != nil {
		return c, err
	}
	if !ok || c.ID == "" {
		return c, notFound("customer", id)
	}
	return c, nil
}

// CustomerByExternalID finds a customer by its external id.
func (s *Store) CustomerByExternalID(ctx context.Context, sc billing.Scope, ext string) (billing.Customer, bool, error) {
	var u struct {
		CustomerID string `dynamodbav:"customer_id"`
	}
	ok, err := s.get(ctx, extKey(sc, ext), &u)
	if err != nil || !ok {
		return billing.Customer{}, false, err
	}
	c, err := s.Customer(ctx, sc, u.CustomerID)
	if apperr.Is(err, apperr.NotFound) {
		return c, false, nil
	}
	return c, err == nil, err
}

// UpdateCustomer writes c if the stored version is still expected.
func (s *Store) UpdateCustomer(ctx context.Context, sc billing.Scope, c billing.Customer, expected int64) error {
	return s.putVersioned(ctx, entityKey(sc, c.ID), "customer", c, customerIndex(sc, c), expected)
}

// ListCustomers pages through customers, newest first.
func (s *Store) ListCustomers(ctx context.Context, sc billing.Scope, opt billing.ListOptions) (billing.Page[billing.Customer], error) {
	return listPage[billing.Customer](ctx, s, "GSI1", schema.AttrGSI1PK, scopeKey(sc)+"#customers", schema.AttrGSI1SK, opt, nil)
}

// NextSequence increments and returns a per-environment counter.
func (s *Store) NextSequence(ctx context.Context, sc billing.Scope, name string) (int64, error) {
	res, err := s.db.UpdateItem(ctx, &ddbjson.UpdateItemInput{TableName: &s.table, Key: seqKey(sc, name).av(),
		UpdateExpression:          aws.String("ADD seq :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": n(1)},
		ReturnValues:              types.ReturnValueUpdatedNew})
	if err != nil {
		return 0, transient(err, "sequence")
	}
	var out struct {
		Seq int64 `dynamodbav:"seq"`
	}
	if err := attributevalue.UnmarshalMap(res.Attributes, &out); err != nil {
		return 0, apperr.Wrap(err, apperr.Internal, "", "decode sequence")
	}
	return out.Seq, nil
}

// ErrInvoiceNumberTaken is returned when an invoice number is already used.
var ErrInvoiceNumberTaken = apperr.InvalidField("invoice_number_exists", "invoice_number", "this invoice number is already used in the environment")

// CreateInvoice stores a new invoice and claims its number.
func (s *Store) CreateInvoice(ctx context.Context, sc billing.Scope, inv billing.Invoice) error {
	it, err := item(entityKey(sc, inv.ID), "invoice", inv, invoiceIndex(sc, inv))
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode invoice")
	}
	_, err = s.db.TransactWriteItems(ctx, &ddbjson.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: versionedPut(s.table, it, 0)},
		s.InvoiceNumberPut(sc, inv.InvoiceNumber, inv.ID),
	}})
	if r := cancelReasons(err); len(r) == 2 && r[1] == "ConditionalCheckFailed" {
		e := *ErrInvoiceNumberTaken
		e.Kind = apperr.Conflict
		e.Message = fmt.Sprintf("invoice number %q is already used in this environment", inv.InvoiceNumber)
		return &e
	}
	return transient(err, "create invoice")
}

// InvoiceNumberPut is the transaction item claiming an invoice number, for
// callers that create an invoice together with other records (with
// InvoicePut at version 0).
func (s *Store) InvoiceNumberPut(sc billing.Scope, number, invoiceID string) types.TransactWriteItem {
	return types.TransactWriteItem{Put: uniquePut(s.table, invNumKey(sc, number), map[string]types.AttributeValue{"invoice_id": str(invoiceID), schema.AttrEntity: str("unique")})}
}

// Invoice reads an invoice.
func (s *Store) Invoice(ctx context.Context, sc billing.Scope, id string) (billing.Invoice, error) {
	var inv billing.Invoice
	ok, err := s.getEntity(ctx, entityKey(sc, id), "invoice", &inv)
	if err != nil {
		return inv, err
	}
	if !ok || inv.ID == "" {
		return inv, notFound("invoice", id)
	}
	return inv, nil
}

// UpdateInvoice writes inv if the stored version is still expected.
func (s *Store) UpdateInvoice(ctx context.Context, sc billing.Scope, inv billing.Invoice, expected int64) error {
	return s.putVersioned(ctx, entityKey(sc, inv.ID), "invoice", inv, invoiceIndex(sc, inv), expected)
}

// InvoicePut is the transaction item for a versioned invoice write, for
// callers that change an invoice together with other records.
func (s *Store) InvoicePut(sc billing.Scope, inv billing.Invoice, expected int64) (types.TransactWriteItem, error) {
	it, err := item(entityKey(sc, inv.ID), "invoice", inv, invoiceIndex(sc, inv))
	if err != nil {
		return types.TransactWriteItem{}, apperr.Wrap(err, apperr.Internal, "", "encode invoice")
	}
	return types.TransactWriteItem{Put: versionedPut(s.table, it, expected)}, nil
}

// ListInvoices pages through invoices, newest first.
func (s *Store) ListInvoices(ctx context.Context, sc billing.Scope, f billing.InvoiceFilter, opt billing.ListOptions) (billing.Page[billing.Invoice], error) {
	index, pkAttr, skAttr, pk := "GSI1", schema.AttrGSI1PK, schema.AttrGSI1SK, scopeKey(sc)+"#invoices"
	if f.CustomerID != "" {
		index, pkAttr, skAttr, pk = "GSI2", schema.AttrGSI2PK, schema.AttrGSI2SK, scopeKey(sc)+"#"+f.CustomerID+"#invoices"
	}
	var filter func(map[string]types.AttributeValue) bool
	if f.Status != "" {
		filter = func(it map[string]types.AttributeValue) bool {
			return attrS(it, "invoice_status") == f.Status || attrS(it, "payment_status") == f.Status
		}
	}
	return listPage[billing.Invoice](ctx, s, index, pkAttr, pk, skAttr, opt, filter)
}
