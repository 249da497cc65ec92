// Package app builds every adapter a function may use from the
// configuration and hands them to the handlers: the full builder that the
// local stack (make run) and the chaos tests use, and that a function
// without its own composition root calls from its main. Deployed functions
// with a root in internal/wire link only their own adapters;
// internal/wire's TestRootsBuildWhatTheFullBuilderBuilds keeps the two in step.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/ddbjson"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/logx"
	"github.com/razorbill/razorbill/internal/queue"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/secrets"
	"github.com/razorbill/razorbill/internal/sqsjson"
)

// Deps are the adapters a function may use.
type Deps struct {
	Config *config.Config
	Log    *slog.Logger
	AWS    aws.Config
	DDB    *ddbjson.Client
	SQS    *sqs.Client
	Store  *dynamo.Store
	Box    *secrets.Box
	Sync   queue.SyncPublisher
	Events *sqsjson.Sender
	HTTP   *http.Client

	rzp      *razorpay.Client
	keysOnce sync.Once
	keys     *secrets.Cache
	admin    *secrets.AdminToken
}

// Load reads the configuration from getenv and builds the adapters need asks for.
func Load(ctx context.Context, getenv func(string) string, logOut io.Writer, need config.Need) (*Deps, error) {
	return LoadWithAWS(ctx, getenv, logOut, need, nil)
}

// LoadWithAWS is Load with a given AWS configuration (the local stack's
// emulator endpoints) instead of the default chain.
func LoadWithAWS(ctx context.Context, getenv func(string) string, logOut io.Writer, need config.Need, awsCfg *aws.Config) (*Deps, error) {
	cfg, err := config.Load(getenv, need)
	if err != nil {
		return nil, err
	}
	d := &Deps{Config: cfg, Log: logx.New(logOut, cfg.LogLevel), HTTP: &http.Client{Timeout: 30 * time.Second}}
	if awsCfg != nil {
		d.AWS = *awsCfg
	} else if d.AWS, err = awsconfig.LoadDefaultConfig(ctx); err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if d.DDB, err = ddbjson.New(d.AWS); err != nil {
		return nil, err
	}
	d.SQS = sqs.NewFromConfig(d.AWS)
	if cfg.Table != "" {
		d.Store = dynamo.New(d.DDB, cfg.Table)
	}
	if cfg.CustomerSyncURL != "" && cfg.InvoiceSyncURL != "" {
		if d.Sync, err = queue.NewSyncPublisher(d.AWS, cfg.CustomerSyncURL, cfg.InvoiceSyncURL); err != nil {
			return nil, err
		}
	}
	if cfg.EventsQueueURL != "" {
		if d.Events, err = sqsjson.New(d.AWS, cfg.EventsQueueURL); err != nil {
			return nil, err
		}
	}
	if need&config.NeedSecrets != 0 {
		if d.Box, err = secrets.BoxFor(cfg.LocalKeyFile, secrets.AWSKMS(d.AWS), cfg.KMSKeyID); err != nil {
			return nil, err
		}
	}
	if d.admin, err = secrets.NewAdminToken(d.AWS, cfg.AdminToken, cfg.AdminTokenParam); err != nil {
		return nil, err
	}
	return d, nil
}

// AdminToken returns the bootstrap admin token: from the environment in the
// local stack, from an SSM SecureString (cached five minutes) in AWS.
func (d *Deps) AdminToken(ctx context.Context) (string, error) { return d.admin.Get(ctx) }

// NewAPIRouter is the api function's handler: tenants, keys, the
// connection, customers and invoices.
func (d *Deps) NewAPIRouter(verifier httpapi.CredentialVerifier) *httpapi.Router {
	rt := httpapi.NewRouter(d.Store, d.Store, d.AdminToken, d.Log, nil)
	ledger := &httpapi.Ledger{Store: d.Store, Sealer: d.Box, Verifier: verifier, Sync: d.Sync, WebhookBaseURL: d.Config.WebhookBaseURL,
		Voider: d.PaymentService(), Minimums: d.Config.Minimums}
	rt.Add(ledger.Routes()...)
	return rt
}

type dynamoStore = dynamo.Store

var (
	_ httpapi.LedgerStore      = (*dynamo.Store)(nil)
	_ httpapi.Authenticator    = (*dynamo.Store)(nil)
	_ httpapi.IdempotencyStore = (*dynamo.Store)(nil)
)
