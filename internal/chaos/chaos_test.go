package chaos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/app"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/config"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/httpapi"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/lambdahost"
	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/payments"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
	"github.com/razorbill/razorbill/internal/reconcile"
	"github.com/razorbill/razorbill/internal/rzsync"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/sqsjson"
	"github.com/razorbill/razorbill/internal/testenv"
	"github.com/razorbill/razorbill/internal/webhook"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// settings is the run's scale and fault rates (environment variables).
type settings struct {
	Invoices    int           // RAZORBILL_CHAOS_INVOICES (2000)
	Tenants     int           // RAZORBILL_CHAOS_TENANTS (2): each its own Razorpay account, so deliveries run in parallel
	PerCust     int           // invoices per customer (5)
	DupRate     float64       // RAZORBILL_CHAOS_DUPLICATES (0.30): share of events Razorpay delivers again
	FaultRate   float64       // RAZORBILL_CHAOS_FAULTS (0.05)
	Kills       int           // RAZORBILL_CHAOS_KILLS (6): consumers killed mid-batch
	Consumers   int           // concurrent reconciler consumers (2)
	Seed        uint64        // RAZORBILL_CHAOS_SEED (time)
	RefundRate  float64       // share of fully paid invoices refunded in the lifecycle phase (0.30)
	RefundGrace time.Duration // the payment service's RefundGrace (10 s; product default 10 min)
	Workers     int           // concurrent API clients during set-up (8)
	Report      string        // RAZORBILL_CHAOS_REPORT (../../docs/reliability.md; "-" for none)
	Log         string        // RAZORBILL_CHAOS_LOG (../../.razorbill/chaos.log)
}

func loadSettings(t *testing.T) settings {
	s := settings{Invoices: 2000, Tenants: 2, PerCust: 5, DupRate: 0.30, FaultRate: 0.05, Kills: 6, Consumers: 2,
		Seed: uint64(time.Now().UnixNano()), Workers: 8, RefundRate: 0.30, RefundGrace: 10 * time.Second, Report: "../../docs/reliability.md", Log: "../../.razorbill/chaos.log"}
	geti := func(name string, p *int) {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				t.Fatalf("%s=%q: want a positive integer", name, v)
			}
			*p = n
		}
	}
	getf := func(name string, p *float64) {
		if v := os.Getenv(name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				t.Fatalf("%s=%q: want a fraction between 0 and 1", name, v)
			}
			*p = f
		}
	}
	geti("RAZORBILL_CHAOS_INVOICES", &s.Invoices)
	geti("RAZORBILL_CHAOS_TENANTS", &s.Tenants)
	geti("RAZORBILL_CHAOS_KILLS", &s.Kills)
	getf("RAZORBILL_CHAOS_DUPLICATES", &s.DupRate)
	getf("RAZORBILL_CHAOS_FAULTS", &s.FaultRate)
	if v := os.Getenv("RAZORBILL_CHAOS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("RAZORBILL_CHAOS_SEED=%q: want an unsigned integer", v)
		}
		s.Seed = n
	}
	if v := os.Getenv("RAZORBILL_CHAOS_REPORT"); v != "" {
		s.Report = v
	}
	if v := os.Getenv("RAZORBILL_CHAOS_LOG"); v != "" {
		s.Log = v
	}
	return s
}

// Scenarios an invoice's instrument (a payment link, or the synced Razorpay
// invoice's short_url) goes through.
const (
	scPay      = "paid"
	scPayParts = "paid in two parts at the short_url"
	scFailPay  = "failed, then paid"
	scFail     = "failed only"
	scNewLink  = "failed, new link requested while the customer pays the old one, then pays the new one"
	scVoidRace = "voided while the customer pays"
	scCancel   = "link cancelled (POST /payments/{id}/cancel), then the customer tries to pay it"
)

// linkScenarios and syncedScenarios are the scenarios of a tenant with
// payment links and of a tenant with invoice outbound sync, with their
// weights (per 100 invoices); each is used at least once.
var (
	linkScenarios   = []countRow{{scPay, 70}, {scFailPay, 8}, {scFail, 4}, {scNewLink, 6}, {scVoidRace, 6}, {scCancel, 6}}
	syncedScenarios = []countRow{{scPay, 55}, {scPayParts, 20}, {scFailPay, 8}, {scFail, 5}, {scVoidRace, 12}}
)

type invoice struct {
	ID, Customer, AmountText string
	Amount                   int64
	PaymentID, LinkID        string // the first payment and its instrument (plink_… or inv_…)
	Scenario                 string
	Synced                   bool
	Captures                 []string // Razorpay payments made at checkout, oldest first
}

type tenant struct {
	ID, Env, APIKey string
	Acct            razorpaysim.Account
	Secret          string
	Scope           billing.Scope
	Customers       []string
	Invoices        []*invoice
	Foreign         []string    // payment links made at Razorpay directly, not by Razorbill
	Synced          bool        // invoice_outbound_sync on: the Razorpay invoice is the instrument
	Pull            *pullTenant // a webhook-less tenant (pull_test.go); nil for the others
}

type phase struct {
	Name string
	Took time.Duration
}

type harness struct {
	t   *testing.T
	cfg settings
	env *testenv.Env
	ctx context.Context

	deps    *app.Deps
	sim     *razorpaysim.Simulator
	rz      *razorpay.Client
	svc     *payments.Service // the payment-link creator's service (faulty adapters); the sweeper's Refresher
	f       *faults
	store   *dynamo.Store // without faults: set-up through the API, and the checks
	faulty  *dynamo.Store // with faults: receiver, reconciler, payment-link creator
	logs    *logSink
	servers []*httptest.Server
	apiURL  string
	client  *http.Client

	tenants []*tenant
	cons    *consumers
	phases  []phase
	started time.Time

	rzFaultsArmed int
	rzFaultsLeft  int
	linkAnswers   map[string]int
	redelivered   atomic.Int64
	setupRetries  atomic.Int64
	setupFailures []string
	setupMu       sync.Mutex
	life          *lifecycle
}

// TestChaos is the chaos run. See docs/reliability.md for what it does and
// what it found.
func TestChaos(t *testing.T) {
	cfg := loadSettings(t)
	if os.Getenv("RAZORBILL_CHAOS") != "1" {
		// make test: a small run with the same phases and checks, a fixed
		// seed and no report; `make chaos` is the full run.
		cfg.Invoices, cfg.Kills, cfg.Seed, cfg.Report = 24, 1, 13, "-"
		if os.Getenv("RAZORBILL_CHAOS_LOG") == "" {
			cfg.Log = t.TempDir() + "/chaos.log"
		}
	}
	t.Logf("chaos run: %d invoices, %d tenants (+2 webhook-less with %d invoices each), %.0f%% duplicates, %.0f%% faults, %d kills, seed %d",
		cfg.Invoices, cfg.Tenants, pullInvoices(cfg), cfg.DupRate*100, cfg.FaultRate*100, cfg.Kills, cfg.Seed)
	h := newHarness(t, cfg)
	h.timed("set-up: tenants, customers, finalized invoices (no faults)", h.setup)
	h.timed("payment links (Razorpay + DynamoDB faults)", h.links)
	h.timed("checkout at the simulator (webhooks held)", h.checkout)
	h.timed("delivery: shuffled release, duplicates, faults, consumer kills, until drained", h.deliver)
	h.timed("gateway-sweeper: three sweeps of the webhook-less tenants with faults on, then until clean", h.sweepPull)
	h.timed("lifecycle: new links, voids and cancels racing payments, refunds with Razorpay faults (webhooks live, faults on)", h.lifecycle)
	h.timed("settlement: refund lookups until nothing is pending, then drained", h.settle)
	r := h.check()
	r.Phases = h.phases
	r.Total = time.Since(h.started)
	h.writeReport(r)
	h.assert(r)
}

func (h *harness) timed(name string, f func()) {
	start := time.Now()
	f()
	h.phases = append(h.phases, phase{name, time.Since(start).Round(100 * time.Millisecond)})
	h.t.Logf("%s: %s", name, time.Since(start).Round(100*time.Millisecond))
}

func serverURL(s *httptest.Server) string { return "http://" + s.Listener.Addr().String() }

func newHarness(t *testing.T, cfg settings) *harness {
	h := &harness{t: t, cfg: cfg, ctx: context.Background(), started: time.Now(), linkAnswers: map[string]int{},
		client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	h.env = testenv.AWS(t)
	h.f = newFaults(cfg.FaultRate, cfg.Seed)
	var err error
	h.logs, err = newLogSink(cfg.Log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.logs.Close)

	// Three loopback servers, started once their handlers exist.
	apiSrv, hookSrv, simSrv := httptest.NewUnstartedServer(nil), httptest.NewUnstartedServer(nil), httptest.NewUnstartedServer(nil)
	h.servers = []*httptest.Server{apiSrv, hookSrv, simSrv}
	h.apiURL = serverURL(apiSrv)
	vars := map[string]string{}
	for k, v := range h.env.Resources.Env() {
		vars[k] = v
	}
	vars["RAZORPAY_BASE_URL"] = serverURL(simSrv)
	vars["RAZORBILL_WEBHOOK_BASE_URL"] = serverURL(hookSrv)
	vars["RAZORBILL_LOCAL_KEY_FILE"] = t.TempDir() + "/local.key"
	vars["RAZORBILL_ADMIN_TOKEN"] = "adm_" + ids.Secret(24)
	vars["RAZORBILL_LOG_LEVEL"] = "info"
	awsCfg := h.env.Config
	d, err := app.LoadWithAWS(h.ctx, func(k string) string { return vars[k] }, h.logs,
		config.NeedTable|config.NeedEventsQueue|config.NeedSyncQueues|config.NeedRazorpay|config.NeedSecrets|config.NeedAdmin|config.NeedWebhooks, &awsCfg)
	if err != nil {
		t.Fatal(err)
	}
	h.deps, h.store = d, d.Store
	h.faulty = dynamo.New(&faultyDDB{inner: d.DDB, table: d.Config.Table, f: h.f}, d.Config.Table)

	// Razorpay: webhook retries close together (Razorpay spreads them over
	// 24 h; the schedule's length is what matters for loss), timeouts that
	// hang until our client gives up after 1.5 s.
	retries := []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
		3 * time.Second, 5 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second, 20 * time.Second, 30 * time.Second}
	h.sim = razorpaysim.New(razorpaysim.Options{RetrySchedule: retries, MaxHang: 10 * time.Second, ExpirySweep: -1, Logger: d.Log})
	h.rz = razorpay.NewClient(razorpay.Config{BaseURL: vars["RAZORPAY_BASE_URL"], Logger: d.Log, AttemptTimeout: 1500 * time.Millisecond})

	// The functions, wired as app wires them, with the faulty adapters.
	sqsCfg := d.AWS
	sqsCfg.HTTPClient = &faultySQS{inner: &http.Client{Timeout: 10 * time.Second}, f: h.f}
	events, err := sqsjson.New(sqsCfg, d.Config.EventsQueueURL)
	if err != nil {
		t.Fatal(err)
	}
	receiver := &webhook.Receiver{Store: h.faulty, Refs: h.faulty, Secrets: d.Box, Queue: events, Log: d.Log}
	rec := &reconcile.Reconciler{Store: h.faulty, Gateway: h.rz, Secrets: d.Box, Log: d.Log}
	syncer := &rzsync.Syncer{Store: h.faulty, Gateway: h.rz, Secrets: d.Box}
	svc := &payments.Service{Store: h.faulty, Gateway: h.rz, Customers: syncer, Invoices: syncer,
		Secrets: d.Box, Minimums: d.Config.Minimums, LinkExpiry: d.Config.DefaultLinkExpiry,
		Instruments: h.rz, Applier: rec, RefundGrace: cfg.RefundGrace}
	h.svc = svc
	payRouter := httpapi.NewRouter(d.Store, d.Store, d.AdminToken, d.Log, nil)
	payRouter.Add((&httpapi.Payments{Service: svc}).Routes()...)
	mux := lambdahost.NewMux(lambdahost.WithLogger(d.Log))
	for _, rt := range (&httpapi.Payments{}).Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, payRouter.Handle, lambdahost.WithFunctionName("payment-link-creator"))
	}
	// Void closes instruments at Razorpay through the same (faulty) service.
	voidRouter := httpapi.NewRouter(d.Store, d.Store, d.AdminToken, d.Log, nil)
	for _, rt := range (&httpapi.Ledger{Store: d.Store, Voider: svc, Minimums: d.Config.Minimums}).Routes() {
		if rt.Method == "POST" && rt.Pattern == "/api/v1/invoices/{id}/void" {
			voidRouter.Add(rt)
		}
	}
	mux.Handle("POST /api/v1/invoices/{id}/void", voidRouter.Handle, lambdahost.WithFunctionName("api"))
	mux.Handle(lambdahost.DefaultRoute, d.APIHandler().Handle, lambdahost.WithFunctionName("api"))
	apiSrv.Config.Handler = mux
	hookSrv.Config.Handler = lambdahost.FunctionURL(receiver.Handle, lambdahost.WithFunctionName("webhook-receiver"), lambdahost.WithLogger(d.Log))
	simSrv.Config.Handler = h.sim
	for _, s := range h.servers {
		s.Start()
	}
	h.cons = &consumers{h: h, rec: rec, handled: map[string]int{}}
	t.Cleanup(func() {
		h.f.on.Store(false)
		h.cons.stopAll()
		for _, s := range h.servers {
			s.CloseClientConnections()
			s.Close()
		}
		h.sim.Close()
	})
	return h
}

// --- the API client --------------------------------------------------------

type apiResp struct {
	Status int
	Body   map[string]any
	Raw    string
}

func (r apiResp) s(path ...string) string {
	var v any = r.Body
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

func (h *harness) call(tn *tenant, method, path string, body any) (apiResp, error) {
	return h.callKey(tn, method, path, body, "")
}

// callKey is call with an Idempotency-Key ("" for none).
func (h *harness) callKey(tn *tenant, method, path string, body any, key string) (apiResp, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(h.ctx, method, h.apiURL+path, rd)
	if err != nil {
		return apiResp{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if tn == nil {
		req.Header.Set("Authorization", "Bearer "+h.deps.Config.AdminToken)
	} else {
		req.Header.Set("Authorization", "Bearer "+tn.APIKey)
		req.Header.Set("X-Environment-ID", tn.Env)
	}
	res, err := h.client.Do(req)
	if err != nil {
		return apiResp{}, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := apiResp{Status: res.StatusCode, Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	return r, nil
}

// must calls until the API answers want, retrying 5xx and transport errors
// (a client's retry after 503) for up to three minutes.
func (h *harness) must(tn *tenant, method, path string, body any, want int) apiResp {
	h.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for attempt := 0; ; attempt++ {
		r, err := h.call(tn, method, path, body)
		if err == nil && r.Status == want {
			return r
		}
		if (err == nil && r.Status < 500) || time.Now().After(deadline) {
			h.t.Fatalf("%s %s: %v %d %s", method, path, err, r.Status, r.Raw)
		}
		h.setupRetries.Add(1)
		time.Sleep(min(time.Duration(attempt+1)*100*time.Millisecond, 2*time.Second))
	}
}

// parallel runs f(i) for i in [0,n) on the set-up workers.
func (h *harness) parallel(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range h.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// --- phase 1: set-up -------------------------------------------------------

func (h *harness) setup() {
	cfg := h.cfg
	for ti := range cfg.Tenants + 2 {
		tn := &tenant{Synced: ti%2 == 1}
		switch ti - cfg.Tenants { // the two webhook-less tenants (pull_test.go)
		case 0:
			tn.Synced, tn.Pull = false, &pullTenant{Mode: hookOff, Linked: "payment links"}
		case 1:
			tn.Synced, tn.Pull = true, &pullTenant{Mode: hookOffHalf, Linked: "invoice sync"}
		}
		r := h.must(nil, "POST", "/api/v1/tenants", map[string]any{"name": fmt.Sprintf("Chaos tenant %d", ti+1)}, 201)
		tn.ID, tn.APIKey = r.s("id"), r.s("api_key", "key")
		for _, e := range r.Body["environments"].([]any) {
			if m := e.(map[string]any); m["name"] == "sandbox" { // test mode: the simulator's keys are rzp_test_
				tn.Env = m["id"].(string)
			}
		}
		tn.Scope = billing.Scope{TenantID: tn.ID, EnvironmentID: tn.Env}
		acct, err := h.sim.CreateAccount(razorpaysim.Account{})
		if err != nil {
			h.t.Fatal(err)
		}
		tn.Acct, tn.Secret = acct, "whsec_"+ids.Secret(16)
		c := h.must(tn, "PUT", "/api/v1/connections/razorpay", map[string]any{"name": "Razorpay simulator", "key_id": acct.KeyID,
			"key_secret": acct.KeySecret, "webhook_secret": tn.Secret, "invoice_outbound_sync": tn.Synced, "customer_sync": "ON_DEMAND"}, 201)
		if err := h.sim.SetWebhook(acct.KeyID, c.s("webhook_url"), tn.Secret); err != nil {
			h.t.Fatal(err)
		}
		h.tenants = append(h.tenants, tn)
	}
	// Customers and finalized invoices, without faults (not under test here).
	per := (cfg.Invoices + cfg.Tenants - 1) / cfg.Tenants
	for ti, tn := range h.tenants {
		n := min(per, cfg.Invoices-ti*per)
		if tn.Pull != nil {
			n = pullInvoices(cfg)
			tn.Pull.Invoices = n
		}
		tn.Invoices = make([]*invoice, n)
		tn.Customers = make([]string, (n+cfg.PerCust-1)/cfg.PerCust)
		h.parallel(len(tn.Customers), func(i int) {
			tn.Customers[i] = h.must(tn, "POST", "/api/v1/customers", map[string]any{"external_id": fmt.Sprintf("chaos-%d", i),
				"name": fmt.Sprintf("Chaos Customer %d", i), "email": fmt.Sprintf("c%d.t%d@chaos.example", i, ti), "phone": "+919876543210"}, 201).s("id")
		})
		h.parallel(n, func(i int) {
			paise := 10000 + int64(h.f.intn(9_990_000)) // ₹100.00 – ₹99,999.99
			unit := money.Format(paise, money.MustCurrency("INR"))
			cus := tn.Customers[i/cfg.PerCust]
			inv := h.must(tn, "POST", "/api/v1/invoices", map[string]any{"customer_id": cus, "currency": "inr",
				"line_items": []map[string]any{{"display_name": "Platform fee", "price_type": "FIXED", "quantity": "1", "unit_amount": unit}}}, 201)
			fin := h.must(tn, "POST", "/api/v1/invoices/"+inv.s("id")+"/finalize", nil, 200)
			amount, err := money.Parse(fin.s("amount_due"), money.MustCurrency("INR"))
			if err != nil || amount != paise {
				h.t.Fatalf("invoice %s: amount_due %q, want %d paise", inv.s("id"), fin.s("amount_due"), paise)
			}
			tn.Invoices[i] = &invoice{ID: inv.s("id"), Customer: cus, AmountText: fin.s("amount_due"), Amount: amount, Synced: tn.Synced}
		})
	}
}

// links asks the payment-link creator for every invoice's link with
// Razorpay and DynamoDB faults on; customers are synced on demand by their
// first link.
func (h *harness) links() {
	h.f.on.Store(true)
	var jobs []*linkJob
	for _, tn := range h.tenants {
		for _, inv := range tn.Invoices {
			jobs = append(jobs, &linkJob{tn: tn, inv: inv})
		}
	}
	h.createLinks(jobs)
	h.f.on.Store(false)
	h.rzFaultsLeft = len(h.sim.Faults())
	h.sim.ClearFaults()
}

// armRazorpayFault makes the next matching Razorpay call fail (rate of
// link requests; a quarter on the customer endpoints, the rest on the link
// endpoint, or the invoice endpoints for a tenant with invoice sync).
func (h *harness) armRazorpayFault(tn *tenant) {
	if h.f.float() >= h.cfg.FaultRate {
		return
	}
	kind := razorpayFaultKinds[h.f.intn(len(razorpayFaultKinds))]
	path := "/v1/payment_links"
	if tn.Synced {
		path = "/v1/invoices*" // the on-demand sync: find by receipt, create
	}
	if h.f.intn(4) == 0 {
		path = "/v1/customers*"
	}
	if err := h.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultKind(kind), Path: path, KeyID: tn.Acct.KeyID, Count: 1}); err != nil {
		h.t.Fatal(err)
	}
	h.setupMu.Lock()
	h.rzFaultsArmed++
	h.setupMu.Unlock()
	h.f.count("razorpay: " + kind + " armed on " + faultPath(path))
}

// linkJob is one invoice waiting for its payment link.
type linkJob struct {
	tn        *tenant
	inv       *invoice
	attempt   int
	first     time.Time
	notBefore time.Time
}

// createLinks asks for every invoice's payment link until it has one, as
// clients retrying 503s do: a refused request is tried again later (with
// backoff) while the workers go on with other invoices, so a customer whose
// sync is stuck does not hold a worker.
func (h *harness) createLinks(jobs []*linkJob) {
	var mu sync.Mutex
	inflight := 0
	var wg sync.WaitGroup
	for range h.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if len(jobs) == 0 && inflight == 0 {
					mu.Unlock()
					return
				}
				now := time.Now()
				var j *linkJob
				for i, c := range jobs {
					if !now.Before(c.notBefore) {
						j = c
						jobs = append(jobs[:i], jobs[i+1:]...)
						break
					}
				}
				if j == nil {
					mu.Unlock()
					time.Sleep(50 * time.Millisecond)
					continue
				}
				inflight++
				mu.Unlock()
				if j.first.IsZero() {
					j.first = now
				}
				done := h.tryLink(j.tn, j.inv)
				mu.Lock()
				inflight--
				switch {
				case done:
				case time.Since(j.first) > 4*time.Minute:
					h.setupFailed(fmt.Sprintf("payment link for %s: none after 4 minutes of retries", j.inv.ID))
				default:
					h.setupRetries.Add(1)
					j.attempt++
					j.notBefore = time.Now().Add(min(time.Duration(j.attempt)*200*time.Millisecond, 3*time.Second))
					jobs = append(jobs, j)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// tryLink makes one request for the invoice's link; a 409
// payment_link_exists after a lost answer names the payment that was made.
// It reports whether the invoice is done (with a link, or failed for good).
func (h *harness) tryLink(tn *tenant, inv *invoice) bool {
	body := map[string]any{"amount": inv.AmountText, "currency": "inr", "destination_id": inv.ID, "destination_type": "INVOICE",
		"payment_method_type": "PAYMENT_LINK", "process_payment": true, "payment_gateway": "razorpay", "success_url": "https://merchant.example/thanks"}
	h.armRazorpayFault(tn)
	r, err := h.call(tn, "POST", "/api/v1/payments", body)
	answer := "transport error"
	if err == nil {
		answer = fmt.Sprintf("%d %s", r.Status, r.s("error", "code"))
	}
	h.setupMu.Lock()
	h.linkAnswers[answer]++
	h.setupMu.Unlock()
	switch {
	case err != nil:
		return false
	case r.Status == 201 && r.s("gateway_tracking_id") != "":
		inv.PaymentID, inv.LinkID = r.s("id"), r.s("gateway_tracking_id")
		return true
	case r.Status == 409 && r.s("error", "code") == "payment_link_exists":
		id := r.s("error", "details", "payment_id")
		p, perr := h.call(tn, "GET", "/api/v1/payments/"+id, nil)
		if perr == nil && p.Status == 200 && p.s("gateway_tracking_id") != "" {
			inv.PaymentID, inv.LinkID = id, p.s("gateway_tracking_id")
			return true
		}
		return false
	case r.Status < 500 && r.Status != 409 && r.Status != 429:
		h.setupFailed(fmt.Sprintf("payment link for %s: %d %s", inv.ID, r.Status, r.Raw))
		return true
	}
	return false
}

func (h *harness) setupFailed(msg string) {
	h.setupMu.Lock()
	defer h.setupMu.Unlock()
	h.setupFailures = append(h.setupFailures, msg)
	h.t.Error(msg)
}

// --- phase 2: checkout -------------------------------------------------------

func (h *harness) checkout() {
	methods := []string{"upi", "card", "netbanking", "wallet"}
	foreign := max(1, h.cfg.Invoices/50/h.cfg.Tenants)
	inr := money.MustCurrency("INR")
	for _, tn := range h.tenants {
		if tn.Pull == nil {
			if err := h.sim.HoldWebhooks(tn.Acct.KeyID, true); err != nil {
				h.t.Fatal(err)
			}
		}
		deck := linkScenarios
		if tn.Synced {
			deck = syncedScenarios
		}
		if tn.Pull != nil {
			deck = pullLinkScenarios
			if tn.Synced {
				deck = pullSyncedScenarios
			}
		}
		for i, inv := range tn.Invoices {
			// A webhook-less tenant's webhook is disabled before its first
			// payment, or halfway through them; its webhooks are not held.
			if tn.Pull != nil && ((tn.Pull.Mode == hookOff && i == 0) || (tn.Pull.Mode == hookOffHalf && i == len(tn.Invoices)/2)) {
				if err := h.sim.SetWebhookEnabled(tn.Acct.KeyID, false); err != nil {
					h.t.Fatal(err)
				}
			}
			if inv.LinkID == "" {
				continue
			}
			if tn.Pull != nil && tn.Pull.Mode == hookOffHalf && i >= len(tn.Invoices)/2 {
				// After the disable each scenario but the two-part payment: the
				// sweeper applies only the payment a Razorpay invoice names
				// (its latest), so an earlier part is never pulled.
				inv.Scenario = h.pickScenario(pullLinkScenarios, i-len(tn.Invoices)/2)
			} else {
				inv.Scenario = h.pickScenario(deck, i)
			}
			pay := func(amount int64) {
				var res razorpaysim.PaymentResult
				var err error
				o := razorpaysim.PayOptions{Method: methods[h.f.intn(len(methods))], Amount: amount}
				if inv.Synced {
					res, err = h.sim.PayInvoice(inv.LinkID, o)
				} else {
					res, err = h.sim.PayPaymentLink(inv.LinkID, o)
				}
				if err != nil {
					h.t.Fatalf("pay %s (%s): %v", inv.LinkID, inv.Scenario, err)
				}
				inv.Captures = append(inv.Captures, res.PaymentID)
			}
			fail := func() {
				var err error
				if inv.Synced {
					_, err = h.sim.FailInvoice(inv.LinkID, razorpaysim.FailOptions{Method: "card"})
				} else {
					_, err = h.sim.FailPaymentLink(inv.LinkID, razorpaysim.FailOptions{Method: "card"})
				}
				if err != nil {
					h.t.Fatalf("fail %s: %v", inv.LinkID, err)
				}
			}
			switch inv.Scenario {
			case scPay:
				pay(0)
			case scPayParts:
				rz, err := money.ToRazorpay(inv.Amount, inr)
				if err != nil {
					h.t.Fatal(err)
				}
				pay(rz / 3)
				pay(0)
			case scFailPay:
				fail()
				pay(0)
			case scFail, scNewLink:
				fail()
			}
		}
		// Links Razorbill never made (another integration on the same
		// account): their events match nothing and must be parked.
		cr := razorpay.Credentials{KeyID: tn.Acct.KeyID, KeySecret: tn.Acct.KeySecret}
		for i := range foreign {
			l, err := h.rz.CreatePaymentLink(h.ctx, cr, razorpay.PaymentLinkInput{Amount: 50000 + int64(i), Currency: "INR", ReferenceID: fmt.Sprintf("other-system-%d", i),
				Description: "not from Razorbill", Customer: razorpay.LinkCustomer{Name: "Someone Else", Email: "else@other.example", Contact: "+919800000000"},
				ExpireBy: time.Now().Add(24 * time.Hour)})
			if err != nil {
				h.t.Fatal(err)
			}
			if i%3 == 0 {
				if _, err := h.sim.FailPaymentLink(l.ID, razorpaysim.FailOptions{}); err != nil {
					h.t.Fatal(err)
				}
			}
			if _, err := h.sim.PayPaymentLink(l.ID, razorpaysim.PayOptions{}); err != nil {
				h.t.Fatal(err)
			}
			tn.Foreign = append(tn.Foreign, l.ID)
		}
	}
}

// --- phase 3: delivery -------------------------------------------------------

func (h *harness) deliver() {
	var all []razorpaysim.Event
	for _, tn := range h.tenants {
		if tn.Pull == nil { // the webhook-less tenants' events come by pull, replayed at the end
			all = append(all, h.sim.Events(tn.Acct.KeyID)...)
		}
	}
	h.cons.killAt = make([]int, h.cfg.Kills)
	for i := range h.cfg.Kills {
		h.cons.killAt[i] = (i + 1) * len(all) / (h.cfg.Kills + 1)
	}
	h.f.on.Store(true)
	for i := range h.cfg.Consumers {
		h.cons.start(fmt.Sprintf("payment-reconciler-%c", 'a'+i))
	}
	// Release every account's held events in shuffled order, and have
	// Razorpay deliver DupRate of them a second time, concurrently.
	var dup []string
	for _, e := range all {
		if h.f.float() < h.cfg.DupRate {
			dup = append(dup, e.ID)
		}
	}
	for i := len(dup) - 1; i > 0; i-- {
		j := h.f.intn(i + 1)
		dup[i], dup[j] = dup[j], dup[i]
	}
	for _, tn := range h.tenants {
		if tn.Pull != nil {
			continue
		}
		if _, err := h.sim.ReleaseWebhooks(tn.Acct.KeyID, razorpaysim.ReleaseShuffle); err != nil {
			h.t.Fatal(err)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(dup) {
					return
				}
				time.Sleep(time.Duration(h.f.intn(40)) * time.Millisecond) // spread over the release
				if _, err := h.sim.Redeliver(h.ctx, dup[i], razorpaysim.RedeliverOptions{}); err != nil {
					h.t.Errorf("redeliver %s: %v", dup[i], err)
				}
				h.redelivered.Add(1)
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Minute)
	defer cancel()
	if err := h.sim.WaitDeliveries(ctx); err != nil {
		h.t.Errorf("the simulator still had deliveries pending after 10 minutes: %v", err)
	}
	h.drain()
}

// pickScenario is the i-th invoice's scenario: the deck's scenarios in
// turn for the first invoices (so a small run has each), then drawn by
// weight.
func (h *harness) pickScenario(deck []countRow, i int) string {
	if i < len(deck) {
		return deck[i].Name
	}
	total := 0
	for _, c := range deck {
		total += c.Count
	}
	x := h.f.intn(total)
	for _, c := range deck {
		if x < c.Count {
			return c.Name
		}
		x -= c.Count
	}
	return deck[0].Name
}

// drain waits until every event the receiver acknowledged was handled by a
// consumer and the queue is empty (visible and in flight), or five minutes.
func (h *harness) drain() {
	acked := map[string]bool{}
	for _, tn := range h.tenants {
		for _, d := range h.sim.Deliveries(tn.Acct.KeyID) {
			if d.OK() {
				acked[d.EventID] = true
			}
		}
	}
	deadline := time.Now().Add(5 * time.Minute)
	quiet := 0
	for time.Now().Before(deadline) {
		missing := 0
		h.cons.mu.Lock()
		for id := range acked {
			if h.cons.handled[id] == 0 {
				missing++
			}
		}
		h.cons.mu.Unlock()
		depth, err := queueDepth(h.ctx, h.deps.SQS, h.env.QueueURL(schema.RazorpayEvents))
		if err == nil && missing == 0 && depth == 0 {
			if quiet++; quiet >= 3 {
				return
			}
		} else {
			quiet = 0
		}
		time.Sleep(time.Second)
	}
	h.t.Errorf("the events queue did not drain within 5 minutes")
}

// --- consumers -------------------------------------------------------------

// consumers are the payment-reconciler's event source mappings: pollers of
// the FIFO queue, killed mid-batch at set points and restarted.
type consumers struct {
	h   *harness
	rec *reconcile.Reconciler

	mu       sync.Mutex
	handled  map[string]int // event id → times a consumer handled it without error
	msgs     int            // messages handled without error
	failures int            // messages returned as batch item failures
	batches  int
	killAt   []int
	kills    []string
	running  map[string]context.CancelFunc
	stopped  bool
	wg       sync.WaitGroup
	restarts int
}

func (c *consumers) start(name string) {
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		cancel()
		return
	}
	if c.running == nil {
		c.running = map[string]context.CancelFunc{}
	}
	c.running[name] = cancel
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		h := c.h
		err := lambdahost.PollSQS(ctx, h.deps.SQS, h.env.QueueURL(schema.RazorpayEvents), c.handler(name, cancel), lambdahost.SQSOptions{
			WaitSeconds: 1, VisibilityTimeout: 4, FunctionName: name, Logger: h.deps.Log,
			FunctionTimeout: time.Duration(schema.RazorpayEvents.ConsumerTimeoutSeconds) * time.Second})
		if err != nil {
			h.t.Errorf("consumer %s: %v", name, err)
		}
	}()
}

func (c *consumers) stopAll() {
	c.mu.Lock()
	c.stopped = true
	for _, cancel := range c.running {
		cancel()
	}
	c.running = nil
	c.mu.Unlock()
	c.wg.Wait()
}

// handler is the reconciler's handler as this consumer runs it. At a kill
// point it applies the first half of the batch, then the process "dies":
// nothing of the batch is deleted and the poller stops; a new consumer
// starts a second later.
func (c *consumers) handler(name string, stop context.CancelFunc) lambdahost.SQSHandler {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		c.mu.Lock()
		kill := len(c.killAt) > 0 && c.msgs >= c.killAt[0] && len(ev.Records) >= 2 && c.running[name] != nil
		if kill {
			c.killAt = c.killAt[1:]
			delete(c.running, name)
		}
		c.batches++
		c.mu.Unlock()
		recs := ev.Records
		if kill {
			recs = recs[:len(recs)/2]
		}
		resp, err := c.rec.HandleSQS(ctx, events.SQSEvent{Records: recs})
		c.record(recs, resp, err)
		if !kill {
			return resp, err
		}
		stop()
		c.mu.Lock()
		c.kills = append(c.kills, fmt.Sprintf("%s after %d of %d messages of a batch", name, len(recs), len(ev.Records)))
		c.restarts++
		next := fmt.Sprintf("%s-restart%d", strings.SplitN(name, "-restart", 2)[0], c.restarts)
		c.mu.Unlock()
		go func() {
			time.Sleep(time.Second)
			c.start(next)
		}()
		return events.SQSEventResponse{}, errors.New("consumer killed mid-batch")
	}
}

func (c *consumers) record(recs []events.SQSMessage, resp events.SQSEventResponse, err error) {
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range recs {
		if err != nil || failed[r.MessageId] {
			c.failures++
			continue
		}
		var m billing.EventMessage
		if json.Unmarshal([]byte(r.Body), &m) == nil {
			c.handled[m.EventID]++
		}
		c.msgs++
	}
}
