// Package api wires the api function: everything the payment-link-creator
// has (DynamoDB, the secrets box, Razorpay) plus the sync queues (SQS) and
// the admin token's SSM parameter.
package api

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/console"
	"github.com/razorbill/razorbill/internal/dynamo/plandb"
	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/periodclose"
	"github.com/razorbill/razorbill/internal/queue"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/wire/paymentlinkcreator"
	"github.com/razorbill/razorbill/internal/wire/usageingest"
)

// Need is the configuration the function requires.
const Need = config.NeedTable | config.NeedSyncQueues | config.NeedSecrets | config.NeedAdmin | config.NeedWebhooks | config.NeedRazorpay

// Load builds the function's router from the environment read through getenv.
func Load(getenv func(string) string, logOut io.Writer) (*httpapi.Router, error) {
	a, err := paymentlinkcreator.Build(getenv, logOut, Need)
	if err != nil {
		return nil, err
	}
	cfg := a.Env.Config
	q := sqs.NewFromConfig(a.Env.AWS)
	admin := &adminToken{value: cfg.AdminToken, param: cfg.AdminTokenParam}
	if admin.value == "" && admin.param != "" {
		admin.ssm = ssm.NewFromConfig(a.Env.AWS)
	}
	rt := httpapi.NewRouter(a.Store, a.Store, admin.get, a.Env.Log, nil)
	rt.Mount(console.Prefix, console.New(console.Options{API: rt.Handle, Payments: a.Router().Handle,
		SessionKey: console.KeyFromSecret(admin.get), Log: a.Env.Log}).Handle)
	ledger := &httpapi.Ledger{Store: a.Store, Sealer: a.Box, Verifier: verifier{a.RZP},
		Sync:           queue.SyncPublisher{Customers: queue.NewSender(q, cfg.CustomerSyncURL), Invoices: queue.NewSender(q, cfg.InvoiceSyncURL)},
		WebhookBaseURL: cfg.WebhookBaseURL, Voider: a.PaymentService(), Minimums: cfg.Minimums}
	rt.Add(ledger.Routes()...)
	rt.Add((&httpapi.GatewayEvents{Store: a.Store, Retrier: a.Reconciler()}).Routes()...)
	rt.Add((&httpapi.Refresh{Service: a.PaymentService()}).InvoiceRoutes()...)
	rt.Add((&httpapi.Tax{Store: a.Store}).Routes()...)
	usageSvc := usageingest.Service(a.Env, a.Store)
	rt.Add((&httpapi.Meters{Service: usageSvc}).Routes()...)
	plans := plandb.New(dynamodb.NewFromConfig(a.Env.AWS), cfg.Table)
	rt.Add((&httpapi.Plans{Store: plans, Meters: usageSvc.Store}).Routes()...)
	rt.Add((&httpapi.Subscriptions{Store: plans, Customers: a.Store, Usage: usageSvc, Settings: periodclose.FromTaxSettings(a.Store)}).Routes()...)
	return rt, nil
}

// verifier checks Razorpay keys for the connection route.
type verifier struct{ c *razorpay.Client }

func (v verifier) VerifyCredentials(ctx context.Context, keyID, keySecret string) error {
	return v.c.VerifyCredentials(ctx, razorpay.Credentials{KeyID: keyID, KeySecret: keySecret})
}

// adminToken is the bootstrap admin token: the configured value, else the
// SSM SecureString parameter (cached five minutes), else none.
type adminToken struct {
	value, param string
	ssm          *ssm.Client
	mu           sync.Mutex
	at           time.Time
	cached       string
}

func (t *adminToken) get(ctx context.Context) (string, error) {
	if t.value != "" || t.ssm == nil {
		return t.value, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cached != "" && time.Since(t.at) < 5*time.Minute {
		return t.cached, nil
	}
	out, err := t.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: &t.param, WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("read admin token parameter: %w", err)
	}
	t.cached, t.at = aws.ToString(out.Parameter.Value), time.Now()
	return t.cached, nil
}
