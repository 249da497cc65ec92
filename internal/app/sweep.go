package app

import (
	"io"

	"github.com/razorbill/razorbill/internal/queue"
	"github.com/razorbill/razorbill/internal/sweep"
)

// Sweeper is the gateway-sweeper function: queueURL is the gateway-sweep
// queue ("" sweeps every environment in the scheduled call, as the local
// stack does); metrics receives its embedded-metric lines.
func (d *Deps) Sweeper(queueURL string, metrics io.Writer) *sweep.Sweeper {
	s := &sweep.Sweeper{Store: d.Store, Refresher: d.PaymentService(), Log: d.Log, Metrics: metrics}
	if queueURL != "" {
		s.Queue = queue.NewSender(d.SQS, queueURL)
	}
	return s
}
