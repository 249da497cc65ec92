// Package streamrelay wires the stream-relay function: the two sync queues
// (SQS, through internal/sqsjson) and nothing else — no DynamoDB client (the records arrive in the
// event), no secrets, no Razorpay.
package streamrelay

import (
	"io"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/lambdaenv"
	"github.com/razorbill/razorbill/internal/queue"
	"github.com/razorbill/razorbill/internal/relay"
)

// Need is the configuration the function requires.
const Need = config.NeedSyncQueues

// Load builds the relay from the environment read through getenv.
func Load(getenv func(string) string, logOut io.Writer) (*relay.Relay, error) {
	env, err := lambdaenv.Load(getenv, logOut, Need)
	if err != nil {
		return nil, err
	}
	sync, err := queue.NewSyncPublisher(env.AWS, env.Config.CustomerSyncURL, env.Config.InvoiceSyncURL)
	if err != nil {
		return nil, err
	}
	return &relay.Relay{Queue: sync, Log: env.Log}, nil
}
