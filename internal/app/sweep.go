package app

import (
	"context"
	"io"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/queue"
	"github.com/razorbill/razorbill/internal/sweep"
)

// Sweeper is the gateway-sweeper function: queueURL is the gateway-sweep
// queue ("" sweeps every environment in the scheduled call, as the local
// stack does); metrics receives its embedded-metric lines.
// A queue URL the sender refuses (not an http(s) URL, another region)
// makes every fan-out fail with that error.
func (d *Deps) Sweeper(queueURL string, metrics io.Writer) *sweep.Sweeper {
	s := &sweep.Sweeper{Store: d.Store, Refresher: d.PaymentService(), Log: d.Log, Metrics: metrics}
	if queueURL != "" {
		if q, err := queue.NewSender(d.AWS, queueURL); err != nil {
			s.Queue = refusedQueue{err}
		} else {
			s.Queue = q
		}
	}
	return s
}

// refusedQueue fails every send with the sender's construction error.
type refusedQueue struct{ err error }

func (q refusedQueue) Send(context.Context, queue.Message) error {
	return apperr.Wrap(q.err, apperr.Internal, "", "the gateway-sweep queue is misconfigured")
}
