// Package relay is the stream-relay function: it forwards the table's
// stream records that the event source mapping's filters let through
// (schema.StreamFilters) onto the sync queues, as sync requests. It is the
// "small relay" of the design: the syncers then consume plain SQS messages
// whether a record came from the stream or from a manual POST …/sync, with
// one retry policy and one DLQ per queue.
package relay

import (
	"context"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ids"
)

// SyncQueue enqueues sync requests.
type SyncQueue interface {
	EnqueueSync(ctx context.Context, req billing.SyncRequest) error
}

// Relay is the stream-relay handler.
type Relay struct {
	Queue SyncQueue
	Log   *slog.Logger
}

func str(img map[string]events.DynamoDBAttributeValue, name string) string {
	v, ok := img[name]
	if !ok || v.DataType() != events.DataTypeString {
		return ""
	}
	return v.String()
}

// scope is the tenant and environment of a record: from its key
// (S#<tenant>#<environment>#<id>, how internal/dynamo keys an entity), or,
// for an item written before invoices and customers stopped carrying
// copies of them, its tenant_id and environment_id attributes.
func scope(rec events.DynamoDBEventRecord) (tenant, env string) {
	if pk, ok := rec.Change.Keys["PK"]; ok && pk.DataType() == events.DataTypeString {
		parts := strings.Split(pk.String(), "#")
		if len(parts) == 4 && parts[0] == "S" && ids.Valid(ids.Tenant, parts[1]) && ids.Valid(ids.Environment, parts[2]) {
			return parts[1], parts[2]
		}
	}
	return str(rec.Change.NewImage, "tenant_id"), str(rec.Change.NewImage, "environment_id")
}

// Request maps one stream record to the sync it asks for, if any.
func Request(rec events.DynamoDBEventRecord) (billing.SyncRequest, bool) {
	img := rec.Change.NewImage
	old := rec.Change.OldImage
	tenant, env := scope(rec)
	req := billing.SyncRequest{TenantID: tenant, EnvironmentID: env, ID: str(img, "id")}
	if req.TenantID == "" || req.EnvironmentID == "" || req.ID == "" {
		return req, false
	}
	switch {
	case rec.EventName == "INSERT" && str(img, "entity") == "customer":
		req.Kind, req.Reason = billing.SyncCustomer, "created"
	case rec.EventName == "MODIFY" && str(img, "entity") == "invoice" && str(old, "invoice_status") == billing.InvoiceDraft && str(img, "invoice_status") == billing.InvoiceFinalized:
		req.Kind, req.Reason = billing.SyncInvoice, "finalized"
	case rec.EventName == "INSERT" && str(img, "entity") == "invoice" && str(img, "invoice_status") == billing.InvoiceFinalized:
		req.Kind, req.Reason = billing.SyncInvoice, "issued"
	case rec.EventName == "MODIFY" && str(img, "entity") == "customer" && str(old, "sync_status") != billing.SyncSynced && str(img, "sync_status") == billing.SyncSynced:
		req.Kind, req.Reason = billing.SyncCustomerSynced, "customer_synced"
	default:
		return req, false
	}
	return req, true
}

// Handle forwards a batch. On the first failure it reports that record's
// sequence number: Lambda retries the batch from there (records before it
// were sent; the queues' consumers are idempotent).
func (r *Relay) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, rec := range ev.Records {
		req, ok := Request(rec)
		if !ok {
			continue
		}
		if err := r.Queue.EnqueueSync(ctx, req); err != nil {
			r.Log.ErrorContext(ctx, "relay failed; the stream retries from this record", "sequence_number", rec.Change.SequenceNumber, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			return resp, nil
		}
	}
	return resp, nil
}
