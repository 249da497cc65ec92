// Package queue sends Razorbill's messages to SQS, with internal/sqsjson
// (SendMessage over SQS's JSON protocol; no SDK client is linked: issue 17).
package queue

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/sqsjson"
)

// Sender sends to one queue; a failed send is sqsjson.SendFailed's
// (Transient).
type Sender = sqsjson.Sender

// Message is one message. GroupID and DedupID are required on FIFO queues
// and ignored on standard ones.
type Message = sqsjson.Message

// NewSender returns a sender for the queue at url, signing with cfg's
// region and credentials.
func NewSender(cfg aws.Config, url string) (*Sender, error) { return sqsjson.New(cfg, url) }

// SyncPublisher puts sync requests on the customer-sync and invoice-sync queues.
type SyncPublisher struct {
	Customers *Sender
	Invoices  *Sender
}

// NewSyncPublisher returns the publisher for the two sync queues' URLs.
func NewSyncPublisher(cfg aws.Config, customersURL, invoicesURL string) (SyncPublisher, error) {
	c, err := NewSender(cfg, customersURL)
	if err != nil {
		return SyncPublisher{}, err
	}
	i, err := NewSender(cfg, invoicesURL)
	if err != nil {
		return SyncPublisher{}, err
	}
	return SyncPublisher{Customers: c, Invoices: i}, nil
}

// EnqueueSync sends req to the queue of its kind.
func (p SyncPublisher) EnqueueSync(ctx context.Context, req billing.SyncRequest) error {
	body, err := json.Marshal(req)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode sync request")
	}
	s := p.Customers
	if req.Kind == billing.SyncInvoice || req.Kind == billing.SyncCustomerSynced {
		s = p.Invoices
	}
	return s.Send(ctx, Message{Body: string(body), GroupID: req.TenantID + "/" + req.EnvironmentID + "/" + req.ID, DedupID: req.ID + "/" + req.Reason})
}
