// Package localstack runs Razorbill's whole topology in one process: the
// functions' real handlers behind a local API Gateway (lambdahost.Mux) and
// function URL, SQS pollers and the DynamoDB stream poller with the same
// filters and batch-failure rules as AWS, and the Razorpay simulator. `make
// run` (infra/local) starts it against freshly started emulators; end-to-end
// tests start it against the emulators testenv provides.
package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/smithy-go/middleware"

	"github.com/razorbill/razorbill/internal/app"
	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/lambdahost"
	"github.com/razorbill/razorbill/internal/localaws"
	"github.com/razorbill/razorbill/internal/razorpaysim"
	"github.com/razorbill/razorbill/internal/schema"
)

// Options configure a stack.
type Options struct {
	Endpoints localaws.Endpoints
	Resources localaws.Resources
	// Ports; 0 picks a free one.
	APIPort, WebhookPort, SimPort int
	Host                          string // default 127.0.0.1
	KeyFile                       string // the local key-encryption key file
	AdminToken                    string // generated when empty
	LogOutput                     io.Writer
	LogLevel                      string
	// SimOptions tune the Razorpay simulator (e.g. a fast retry schedule in tests).
	SimOptions razorpaysim.Options
	// PollWait is the SQS long-poll wait (default 1 s).
	PollWait int
	// ReconcilerBatches is how many batches of the razorpay-events queue
	// the payment-reconciler runs at once (default 2, as every queue's
	// poller). Lambda runs up to one per active message group; a benchmark
	// raises it to come closer to that on a machine that has the CPU.
	ReconcilerBatches int
	// VisibilityTimeout overrides the queues' visibility timeout (seconds)
	// for received messages, so tests see a failed sync retried quickly.
	VisibilityTimeout int
	// APIOptions are added to every AWS client's middleware stack (tests
	// record which function makes which call).
	APIOptions []func(*middleware.Stack) error
	// WrapHTTP, when set, wraps the HTTP client every AWS call of the
	// functions goes through: the SDK clients' and internal/sqsjson's (the
	// webhook receiver's send, which no SDK middleware sees).
	WrapHTTP func(aws.HTTPClient) aws.HTTPClient
	// SweepInterval is how often the gateway-sweeper runs (default
	// RAZORBILL_SWEEP_INTERVAL, else 30 s; negative: never).
	SweepInterval time.Duration
	// SweepTimeout is the gateway-sweeper's invocation timeout for the
	// messages it takes off gateway-sweep (default the queue's consumer
	// timeout, as in AWS; tests shorten it to make a sweep run out of time).
	SweepTimeout time.Duration
	// PeriodCloseInterval is how often the period-close runs (default
	// RAZORBILL_PERIOD_CLOSE_INTERVAL, else 10 s; negative: never).
	PeriodCloseInterval time.Duration
}

// Stack is a running local topology.
type Stack struct {
	APIURL, WebhookBaseURL, RazorpayURL string
	AdminToken                          string
	Sim                                 *razorpaysim.Simulator
	Deps                                *app.Deps
	Log                                 *slog.Logger
	// Client makes Bootstrap's API calls; nil is http.DefaultClient (tests
	// set one that checks each call against docs/openapi.yaml).
	Client *http.Client

	cancel  context.CancelFunc
	servers []*http.Server
	wg      sync.WaitGroup
	errMu   sync.Mutex
	errs    []error
}

func listen(host string, port int, what string) (net.Listener, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	if err != nil {
		return nil, fmt.Errorf("%s: cannot listen on %s:%d (is another Razorbill running? set another port): %w", what, host, port, err)
	}
	return l, nil
}

// Start brings the stack up and returns once it serves.
func Start(ctx context.Context, opt Options) (*Stack, error) {
	if opt.Host == "" {
		opt.Host = "127.0.0.1"
	}
	if opt.LogOutput == nil {
		opt.LogOutput = io.Discard
	}
	if opt.AdminToken == "" {
		opt.AdminToken = "adm_" + ids.Secret(24)
	}
	apiL, err := listen(opt.Host, opt.APIPort, "API")
	if err != nil {
		return nil, err
	}
	hookL, err := listen(opt.Host, opt.WebhookPort, "webhook receiver")
	if err != nil {
		apiL.Close()
		return nil, err
	}
	simL, err := listen(opt.Host, opt.SimPort, "Razorpay simulator")
	if err != nil {
		apiL.Close()
		hookL.Close()
		return nil, err
	}
	s := &Stack{
		APIURL:         "http://" + apiL.Addr().String(),
		WebhookBaseURL: "http://" + hookL.Addr().String(),
		RazorpayURL:    "http://" + simL.Addr().String(),
		AdminToken:     opt.AdminToken,
	}
	env := map[string]string{}
	for k, v := range opt.Resources.Env() {
		env[k] = v
	}
	env["RAZORPAY_BASE_URL"] = s.RazorpayURL
	env["RAZORBILL_WEBHOOK_BASE_URL"] = s.WebhookBaseURL
	env["RAZORBILL_LOCAL_KEY_FILE"] = opt.KeyFile
	env["RAZORBILL_ADMIN_TOKEN"] = opt.AdminToken
	env["RAZORBILL_LOG_LEVEL"] = opt.LogLevel
	awsCfg := localaws.AWSConfig(ctx, opt.Endpoints)
	awsCfg.APIOptions = append(awsCfg.APIOptions, opt.APIOptions...)
	if opt.WrapHTTP != nil {
		base := awsCfg.HTTPClient
		if base == nil {
			base = awshttp.NewBuildableClient()
		}
		awsCfg.HTTPClient = opt.WrapHTTP(base)
	}
	d, err := app.LoadWithAWS(ctx, func(k string) string { return env[k] }, opt.LogOutput,
		config.NeedTable|config.NeedEventsQueue|config.NeedSyncQueues|config.NeedRazorpay|config.NeedSecrets|config.NeedAdmin|config.NeedWebhooks, &awsCfg)
	if err != nil {
		apiL.Close()
		hookL.Close()
		simL.Close()
		return nil, err
	}
	s.Deps, s.Log = d, d.Log

	simOpt := opt.SimOptions
	simOpt.BaseURL = s.RazorpayURL
	s.Sim = razorpaysim.New(simOpt)

	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel

	// API Gateway: payments to the payment-link-creator, the rest to api.
	mux := lambdahost.NewMux(lambdahost.WithLogger(d.Log))
	payments := d.PaymentsHandler().Handle
	for _, rk := range []string{"POST /api/v1/payments", "GET /api/v1/payments", "GET /api/v1/payments/{id}", "POST /api/v1/payments/{id}/refund", "POST /api/v1/payments/{id}/cancel", "POST /api/v1/payments/{id}/refresh"} {
		mux.Handle(rk, payments, lambdahost.WithFunctionName("payment-link-creator"))
	}
	mux.Handle("GET /api/v1/payments/{id}/refunds", payments, lambdahost.WithFunctionName("payment-link-creator"))
	ingest := d.UsageIngestHandler().Handle
	for _, rk := range []string{"POST /api/v1/events", "POST /api/v1/events/bulk", "GET /api/v1/events"} {
		mux.Handle(rk, ingest, lambdahost.WithFunctionName("usage-ingest"))
	}
	mux.Handle(lambdahost.DefaultRoute, s.linkSimWebhooks(d.APIHandler().Handle), lambdahost.WithFunctionName("api"))
	s.serve(apiL, mux)
	s.serve(hookL, lambdahost.FunctionURL(d.WebhookReceiver().Handle, lambdahost.WithFunctionName("webhook-receiver"), lambdahost.WithLogger(d.Log)))
	s.serve(simL, s.Sim)

	wait := opt.PollWait
	if wait == 0 {
		wait = 1
	}
	sqsc := d.SQS
	poll := func(name, url string, h lambdahost.SQSHandler, q schema.Queue) {
		batches := 2
		if q == schema.RazorpayEvents && opt.ReconcilerBatches > 0 {
			batches = opt.ReconcilerBatches
		}
		timeout := time.Duration(q.ConsumerTimeoutSeconds) * time.Second
		if q == schema.GatewaySweep && opt.SweepTimeout > 0 {
			timeout = opt.SweepTimeout
		}
		s.run(func() error {
			return lambdahost.PollSQS(runCtx, sqsc, url, h, lambdahost.SQSOptions{WaitSeconds: wait, FunctionName: name, Logger: d.Log,
				FunctionTimeout: timeout, Concurrency: batches, VisibilityTimeout: opt.VisibilityTimeout})
		})
	}
	poll("payment-reconciler", opt.Resources.Queue(schema.RazorpayEvents).URL, d.Reconciler().HandleSQS, schema.RazorpayEvents)
	poll("customer-syncer", opt.Resources.Queue(schema.CustomerSync).URL, d.CustomerWorker().HandleCustomers, schema.CustomerSync)
	poll("invoice-syncer", opt.Resources.Queue(schema.InvoiceSync).URL, d.InvoiceWorker().HandleInvoices, schema.InvoiceSync)
	if err := s.startSweeper(runCtx, opt, poll); err != nil {
		cancel()
		return nil, err
	}
	if err := s.startPeriodClose(runCtx, opt); err != nil {
		cancel()
		return nil, err
	}
	var patterns []string
	for _, f := range schema.StreamFilters {
		patterns = append(patterns, f.Pattern)
	}
	streams := dynamodbstreams.NewFromConfig(awsCfg)
	streamARN := opt.Resources.Table(schema.Main).StreamARN
	s.run(func() error {
		return lambdahost.PollStream(runCtx, streams, streamARN, d.Relay().Handle, lambdahost.StreamOptions{
			Filters: patterns, FunctionName: "stream-relay", Logger: d.Log, StartingPosition: lambdahost.TrimHorizon,
			OnFailure: func(ctx context.Context, recs []events.DynamoDBEventRecord) {
				d.Log.ErrorContext(ctx, "stream records sent to the on-failure destination", "count", len(recs))
			},
		})
	})
	aggregator := d.UsageAggregator()
	s.run(func() error {
		return lambdahost.PollStream(runCtx, streams, streamARN, aggregator.Handle, lambdahost.StreamOptions{
			Filters: []string{schema.UsageEventsFilter}, FunctionName: "usage-aggregator", Logger: d.Log, StartingPosition: lambdahost.TrimHorizon,
			BatchSize: 500, MaxRetries: 100,
			OnFailure: func(ctx context.Context, recs []events.DynamoDBEventRecord) {
				d.Log.ErrorContext(ctx, "usage stream records sent to the on-failure destination", "count", len(recs))
			},
		})
	})
	return s, nil
}

func (s *Stack) serve(l net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	s.run(func() error {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
}

func (s *Stack) run(f func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := f(); err != nil {
			s.errMu.Lock()
			s.errs = append(s.errs, err)
			s.errMu.Unlock()
			if s.Log != nil {
				s.Log.Error("local stack component stopped", "error", err.Error())
			}
		}
	}()
}

// Close stops serving and polling and waits for running work to finish.
func (s *Stack) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		_ = srv.Shutdown(ctx)
	}
	s.cancel()
	if s.Sim != nil {
		s.Sim.Close()
	}
	s.wg.Wait()
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return errors.Join(s.errs...)
}

// linkSimWebhooks plays the merchant pasting Razorbill's webhook URL and
// secret into Razorpay's dashboard: when a connection whose key belongs to
// the simulator is saved, the simulator is told to deliver that tenant
// environment's events there, signed with that secret. Local stack only.
func (s *Stack) linkSimWebhooks(h lambdahost.APIGatewayHandler) lambdahost.APIGatewayHandler {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		resp, err := h(ctx, req)
		if err != nil || req.RequestContext.HTTP.Method != http.MethodPut || !strings.HasSuffix(req.RawPath, "/connections/razorpay") || resp.StatusCode >= 300 {
			return resp, err
		}
		var in struct {
			KeyID         string  `json:"key_id"`
			WebhookSecret *string `json:"webhook_secret"`
		}
		var out struct {
			WebhookURL string `json:"webhook_url"`
			Generated  string `json:"webhook_secret_generated"`
		}
		body := []byte(req.Body)
		if json.Unmarshal(body, &in) != nil || json.Unmarshal([]byte(resp.Body), &out) != nil {
			return resp, err
		}
		if in.WebhookSecret == nil && out.Generated != "" {
			in.WebhookSecret = &out.Generated // generated by Razorbill, shown once
		}
		if in.WebhookSecret == nil {
			return resp, err
		}
		if werr := s.Sim.SetWebhook(in.KeyID, out.WebhookURL, *in.WebhookSecret); werr != nil {
			s.Log.WarnContext(ctx, "the simulator does not know this key; deliver webhooks yourself", "key_id", in.KeyID)
		}
		return resp, err
	}
}

// Bootstrap creates a development tenant through the API and connects its
// sandbox environment (test mode, like the simulator's rzp_test_ keys) to
// the simulator's default account.
func (s *Stack) Bootstrap(ctx context.Context) (Dev, error) {
	var dev Dev
	var t struct {
		ID           string `json:"id"`
		Environments []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"environments"`
		APIKey struct {
			Key string `json:"key"`
		} `json:"api_key"`
	}
	if err := s.call(ctx, "POST", "/api/v1/tenants", s.AdminToken, "", map[string]any{"name": "Local development"}, &t); err != nil {
		return dev, err
	}
	dev.TenantID, dev.APIKey = t.ID, t.APIKey.Key
	for _, e := range t.Environments {
		if e.Name == "sandbox" {
			dev.EnvironmentID = e.ID
		}
	}
	acct := s.Sim.DefaultAccount()
	dev.KeyID, dev.KeySecret, dev.WebhookSecret = acct.KeyID, acct.KeySecret, "whsec_"+ids.Secret(16)
	err := s.call(ctx, "PUT", "/api/v1/connections/razorpay", dev.APIKey, dev.EnvironmentID, map[string]any{
		"name": "Razorpay simulator", "key_id": dev.KeyID, "key_secret": dev.KeySecret, "webhook_secret": dev.WebhookSecret,
		"invoice_outbound_sync": false, "customer_sync": "ON_DEMAND"}, nil)
	return dev, err
}

// Dev is the development tenant Bootstrap made.
type Dev struct {
	TenantID, EnvironmentID, APIKey string
	KeyID, KeySecret, WebhookSecret string
}

func (s *Stack) call(ctx context.Context, method, path, key, env string, body, out any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, method, s.APIURL+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	if env != "" {
		req.Header.Set("X-Environment-ID", env)
	}
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}
