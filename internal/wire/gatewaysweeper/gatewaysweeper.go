// Package gatewaysweeper wires the gateway-sweeper function: DynamoDB (the
// open-instruments index and the ledger), the secrets box (KMS) that opens
// connections' key secrets, Razorpay (the payments service that refreshes
// one instrument and applies what Razorpay shows) and, when its URL is set,
// the gateway-sweep queue (SQS, through internal/sqsjson). It links no SSM client, no HTTP router and
// not the default AWS credential chain.
package gatewaysweeper

import (
	"io"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/queue"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/sweep"
	"github.com/razorbill/razorbill/internal/wire/ledger"
	"github.com/razorbill/razorbill/internal/wire/paysvc"
	"github.com/razorbill/razorbill/internal/wire/rzpclient"
)

// Need is the configuration the function requires.
const Need = config.NeedTable | config.NeedSecrets | config.NeedRazorpay

// Load builds the sweeper from the environment read through getenv; its
// embedded-metric-format lines go to metrics. Without
// schema.GatewaySweep.EnvVar it sweeps every environment in the scheduled
// call itself instead of fanning out one message per environment.
func Load(getenv func(string) string, logOut, metrics io.Writer) (*sweep.Sweeper, error) {
	env, store, box, err := ledger.Load(getenv, logOut, Need)
	if err != nil {
		return nil, err
	}
	// one cache of opened key secrets for the service, its syncer and its
	// reconciler, as in the payment-link-creator
	svc := paysvc.Service(env, store, secrets.NewCache(box), rzpclient.New(env))
	s := &sweep.Sweeper{Store: store, Refresher: svc, Log: env.Log, Metrics: metrics}
	if url := getenv(schema.GatewaySweep.EnvVar); url != "" {
		q, err := queue.NewSender(env.AWS, url)
		if err != nil {
			return nil, err
		}
		s.Queue = q
	}
	return s, nil
}
