// Package webhookreceiver wires the webhook-receiver function: DynamoDB
// (GetItem: the connection, kept a minute by webhook.TrustCache; the id refs), the secrets box (KMS) that opens
// the webhook secret, and the razorpay-events FIFO queue (SQS). It links no
// Razorpay client: signatures are checked by internal/webhooksig.
package webhookreceiver

import (
	"io"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/lambdaenv"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/sqsjson"
	"github.com/razorbill/razorbill/internal/webhook"
	"github.com/razorbill/razorbill/internal/wire/ledger"
)

// Need is the configuration the function requires.
const Need = config.NeedTable | config.NeedSecrets | config.NeedEventsQueue

// Load builds the receiver from the environment read through getenv.
func Load(getenv func(string) string, logOut io.Writer) (*webhook.Receiver, error) {
	env, err := lambdaenv.Load(getenv, logOut, Need)
	if err != nil {
		return nil, err
	}
	return New(env)
}

// New builds the receiver from a loaded environment: its clients use
// env.AWS as given (its HTTP client, retryer and credentials).
func New(env lambdaenv.Env) (*webhook.Receiver, error) {
	box, err := ledger.Box(env)
	if err != nil {
		return nil, err
	}
	store, err := ledger.Store(env)
	if err != nil {
		return nil, err
	}
	events, err := sqsjson.New(env.AWS, env.Config.EventsQueueURL)
	if err != nil {
		return nil, err
	}
	return &webhook.Receiver{Store: webhook.NewTrustCache(dynamo.WebhookTrust{Store: store}), Refs: store, Secrets: secrets.NewCache(box), Queue: events, Log: env.Log}, nil
}
