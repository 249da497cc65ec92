// Package queue sends Razorbill's messages to SQS.
package queue

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/sqsjson"
)

// API is the part of the SQS client used.
type API interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Sender sends to one queue.
type Sender struct {
	api API
	url string
}

// NewSender returns a sender for the queue at url.
func NewSender(api API, url string) *Sender { return &Sender{api: api, url: url} }

// Message is one message. GroupID and DedupID are required on FIFO queues
// and ignored on standard ones. (sqsjson.Message: the webhook receiver
// sends with internal/sqsjson and links no SQS client.)
type Message = sqsjson.Message

// Send enqueues m. A failure is sqsjson.SendFailed's (Transient).
func (s *Sender) Send(ctx context.Context, m Message) error {
	fifo := strings.HasSuffix(s.url, ".fifo")
	if err := sqsjson.CheckFIFO(fifo, m); err != nil {
		return err
	}
	in := &sqs.SendMessageInput{QueueUrl: &s.url, MessageBody: &m.Body}
	if fifo {
		in.MessageGroupId = aws.String(m.GroupID)
		in.MessageDeduplicationId = aws.String(m.DedupID)
	}
	if _, err := s.api.SendMessage(ctx, in); err != nil {
		return sqsjson.SendFailed(err)
	}
	return nil
}

// SyncPublisher puts sync requests on the customer-sync and invoice-sync queues.
type SyncPublisher struct {
	Customers *Sender
	Invoices  *Sender
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
