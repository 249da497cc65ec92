package bench_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo"
	"github.com/razorbill/razorbill/internal/localaws"
	"github.com/razorbill/razorbill/internal/localstack"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/testenv"
	"github.com/razorbill/razorbill/internal/webhook"
)

// TestBurst: invoices and payment links made up front through the API,
// then bursts of signed Razorpay webhooks POSTed over HTTP to the local
// stack's webhook receiver by an open-loop sender: webhook i of a phase is
// sent at its scheduled time, start + i/rate, whatever became of the ones
// before it (each POST on its own goroutine), and its ack latency is
// measured from that scheduled time, so a slow receiver shows as latency
// instead of slowing the arrivals down (no coordinated omission):
//
//	authorized  one payment.authorized per link (the payment goes PROCESSING)
//	captured    the burst: PerInvoice payment.captured per invoice, each a
//	            distinct Razorpay payment of an equal part (5,000 by default)
//	link_paid   one payment_link.paid per link, for a payment already applied
//
// For each: the ack latency of every POST, the time from the first
// scheduled POST until the payment-reconciler has handled (and deleted) the last message,
// and every AWS request the functions made (see meter). Then the state is
// checked: every invoice paid exactly, nothing parked.
type burstSettings struct {
	Invoices    int `json:"invoices"`     // RAZORBILL_BENCH_INVOICES (1000)
	PerInvoice  int `json:"per_invoice"`  // RAZORBILL_BENCH_PAYMENTS: captured payments per invoice (5)
	PerCustomer int `json:"per_customer"` // invoices per customer (5)
	Rate        int `json:"rate"`         // RAZORBILL_BENCH_RATE: webhooks sent per second, open loop (500)
	Workers     int `json:"workers"`      // API clients during set-up (4)
	PartPaise   int `json:"part_paise"`   // each captured payment (₹100.00)
	// ReconcilerBatches: RAZORBILL_BENCH_RECONCILER_BATCHES, the
	// payment-reconciler's concurrent batches (localstack.Options; 2 when 0).
	ReconcilerBatches int `json:"reconciler_batches,omitempty"`
	// NoSweep: the gateway-sweeper did not run during the burst.
	NoSweep bool `json:"no_sweep,omitempty"`
}

type phaseResult struct {
	Name     string       `json:"name"`
	Function string       `json:"function"` // the function the HTTP requests went to
	Requests int          `json:"requests"` // HTTP requests (first attempts)
	Retries  int          `json:"retries,omitempty"`
	Wall     float64      `json:"wall_ms"` // first request → last response
	Latency  dist         `json:"latency"` // per HTTP request, client side
	Applied  *dist        `json:"applied,omitempty"`
	Counts   *phaseCounts `json:"counts"`
	LogBytes int64        `json:"log_bytes"`
	LogLines int64        `json:"log_lines"`
	// RazorpayCalls are the authenticated /v1 calls the simulator received
	// during the phase (the functions', e.g. the reconciler confirming a
	// payment matched by its notes); nil in results written before.
	RazorpayCalls *int `json:"razorpay_calls,omitempty"`
	// CPU is the CPU time the processes used from the first webhook due
	// until every event was handled (webhook phases; nil before).
	CPU *phaseCPU `json:"cpu,omitempty"`
}

// phaseCPU is user+sys CPU time, in ms, per process.
type phaseCPU struct {
	DynamoDBLocal float64 `json:"dynamodb_local_ms"`
	SQSEmulator   float64 `json:"sqs_emulator_ms"`
	GoProcess     float64 `json:"go_process_ms"` // the functions, the simulator, the senders, the metering proxy
	Span          float64 `json:"span_ms"`       // the wall time it was measured over
}

type burstResult struct {
	Machine    machine        `json:"machine"`
	Settings   burstSettings  `json:"settings"`
	Phases     []*phaseResult `json:"phases"`
	Customers  int            `json:"customers"`
	RzpObjects map[string]int `json:"razorpay_objects"` // at the simulator, at the end
	Checks     []string       `json:"checks"`
	Took       float64        `json:"took_ms"`
}

// logCounter counts what the stack logs (a Lambda's stdout → CloudWatch Logs).
type logCounter struct {
	mu           sync.Mutex
	w            io.Writer
	bytes, lines int64
}

func (l *logCounter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bytes += int64(len(p))
	l.lines += int64(bytes.Count(p, []byte{'\n'}))
	return l.w.Write(p)
}

func (l *logCounter) take() (int64, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, n := l.bytes, l.lines
	l.bytes, l.lines = 0, 0
	return b, n
}

type burst struct {
	t      *testing.T
	st     *localstack.Stack
	dev    localstack.Dev
	meter  *meter
	logs   *logCounter
	client *http.Client
	store  *dynamo.Store // straight to DynamoDB Local, not metered: the checks
	sc     billing.Scope
	res    burstResult
	rzp    int // the simulator's /v1 calls when the phase began
	// ddbPID, sqsPID: the emulators' processes (0 when not found: their
	// CPU then reads 0).
	ddbPID, sqsPID int
}

// cpu reads the emulators' and this process's CPU time so far.
func (b *burst) cpu() [3]time.Duration {
	return [3]time.Duration{procCPU(b.ddbPID), procCPU(b.sqsPID), selfCPU()}
}

// sqsEmulator is the pid of the SQS emulator listening at endpoint
// (localaws.StartSQS passes its port in RAZORBILL_SQS_PORT), else 0.
func sqsEmulator(endpoint string) int {
	want := "RAZORBILL_SQS_PORT=" + endpoint[strings.LastIndexByte(endpoint, ':')+1:]
	return findProcess("environ", func(env []string) bool { return slices.Contains(env, want) })
}

// sweepInterval is the local stack's: never when cfg.NoSweep.
func sweepInterval(cfg burstSettings) time.Duration {
	if cfg.NoSweep {
		return -1
	}
	return 0
}

// rzpCalls is the simulator's /v1 calls since the last phase ended.
func (b *burst) rzpCalls() *int {
	n := b.st.Sim.Calls("", "")
	d := n - b.rzp
	b.rzp = n
	return &d
}

type invoice struct {
	ID, Customer, Number string
	PaymentID, LinkID    string
	OrderID              string
	Payments             []string // Razorpay payment ids
}

func TestBurst(t *testing.T) {
	gate(t)
	start := time.Now()
	cfg := burstSettings{
		Invoices:          envInt(t, "RAZORBILL_BENCH_INVOICES", 1000),
		PerInvoice:        envInt(t, "RAZORBILL_BENCH_PAYMENTS", 5),
		PerCustomer:       5,
		Rate:              envInt(t, "RAZORBILL_BENCH_RATE", 500),
		ReconcilerBatches: envInt(t, "RAZORBILL_BENCH_RECONCILER_BATCHES", 2),
		NoSweep:           true,
		Workers:           4,
		PartPaise:         10000,
	}
	env := testenv.AWS(t)
	queues := map[string]string{}
	for name, q := range env.Resources.Queues {
		queues[q.URL] = name
		queues[q.DLQURL] = name + "-dlq"
	}
	m := newMeter(queues)
	ddbURL, stopDDB, err := m.serve(env.Endpoints.DynamoDB)
	if err != nil {
		t.Fatal(err)
	}
	defer stopDDB()
	sqsURL, stopSQS, err := m.serve(env.Endpoints.SQS)
	if err != nil {
		t.Fatal(err)
	}
	defer stopSQS()
	if err := os.MkdirAll(resultsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(resultsDir, "burst.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	logs := &logCounter{w: logFile}
	b := &burst{t: t, meter: m, logs: logs, store: dynamo.New(env.DDB, env.Table()),
		ddbPID: listener(env.Endpoints.DynamoDB), sqsPID: sqsEmulator(env.Endpoints.SQS),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		res:    burstResult{Machine: thisMachine(), Settings: cfg}}

	st, err := localstack.Start(context.Background(), localstack.Options{
		Endpoints: localaws.Endpoints{DynamoDB: ddbURL, SQS: sqsURL}, Resources: env.Resources,
		KeyFile: t.TempDir() + "/local.key", LogOutput: logs, LogLevel: "info", PollWait: 1,
		ReconcilerBatches: cfg.ReconcilerBatches,
		// No gateway sweep: a sweep's Razorpay calls and reads grow with the
		// open instruments and the time, not with the webhooks, and landed
		// in whichever phase it ran in (§0 measures the sweep).
		SweepInterval: sweepInterval(cfg),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b.st = st
	if b.dev, err = st.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.sc = billing.Scope{TenantID: b.dev.TenantID, EnvironmentID: b.dev.EnvironmentID}
	b.settle()
	m.take()
	logs.take()
	b.rzpCalls() // the bootstrap's calls belong to no phase

	// Set-up through the API: customers, finalized invoices, payment links.
	nCus := (cfg.Invoices + cfg.PerCustomer - 1) / cfg.PerCustomer
	b.res.Customers = nCus
	customers := make([]string, nCus)
	b.phase("customers", "api", nCus, cfg.Workers, func(i int) (int, time.Duration) {
		var out struct{ ID string }
		status, lat := b.api("POST", "/api/v1/customers", map[string]any{"external_id": fmt.Sprintf("bench-%d", i), "name": fmt.Sprintf("Customer %d", i),
			"email": fmt.Sprintf("customer%d@example.com", i), "phone": fmt.Sprintf("+9198%08d", i)}, 201, &out)
		customers[i] = out.ID
		return status, lat
	})
	invs := make([]*invoice, cfg.Invoices)
	b.phase("invoices", "api", cfg.Invoices*2, cfg.Workers, func(i int) (int, time.Duration) {
		k := i / 2
		if i%2 == 0 {
			var out struct {
				ID            string
				InvoiceNumber string `json:"invoice_number"`
			}
			status, lat := b.api("POST", "/api/v1/invoices", map[string]any{"customer_id": customers[k/cfg.PerCustomer], "currency": "inr",
				"line_items": []map[string]any{{"display_name": "Platform fee", "price_type": "FIXED", "quantity": "1",
					"unit_amount": fmt.Sprintf("%d.00", cfg.PerInvoice*cfg.PartPaise/100)}}}, 201, &out)
			invs[k] = &invoice{ID: out.ID, Customer: customers[k/cfg.PerCustomer], Number: out.InvoiceNumber}
			return status, lat
		}
		return b.api("POST", "/api/v1/invoices/"+invs[k].ID+"/finalize", nil, 200, nil)
	}, sequentialPairs)
	// A customer's invoices get their links one after another (the first
	// syncs the customer to Razorpay on demand), customers in parallel.
	b.phase("links", "payment-link-creator", cfg.Invoices, cfg.Workers, func(i int) (int, time.Duration) {
		inv := invs[i]
		var out struct {
			ID                string
			GatewayTrackingID string `json:"gateway_tracking_id"`
		}
		status, lat := b.api("POST", "/api/v1/payments", map[string]any{"amount": fmt.Sprintf("%d.00", cfg.PerInvoice*cfg.PartPaise/100), "currency": "inr",
			"destination_id": inv.ID, "destination_type": "INVOICE", "payment_method_type": "PAYMENT_LINK", "process_payment": true,
			"payment_gateway": "razorpay", "success_url": "https://example.com/thanks"}, 201, &out)
		inv.PaymentID, inv.LinkID = out.ID, out.GatewayTrackingID
		return status, lat
	}, byCustomer(cfg.PerCustomer))

	// The captured payments exist at Razorpay (the simulator): the
	// reconciler confirms there a capture that is not its link's amount
	// (our links take no partial payments). So each invoice also gets a
	// link made straight at the simulator that accepts parts, paid in
	// PerInvoice parts, with the simulator's own webhooks held back: the
	// burst below delivers the events.
	b.razorpayPayments(invs, cfg)
	b.rzpCalls() // the bench's own links at the simulator belong to no phase

	// The webhooks.
	tpl := templates(t)
	var auth, capt, paid []delivery
	for _, inv := range invs {
		auth = append(auth, b.event(tpl, "payment.authorized", inv, inv.Payments[0], cfg))
		for _, p := range inv.Payments {
			capt = append(capt, b.event(tpl, "payment.captured", inv, p, cfg))
		}
		paid = append(paid, b.event(tpl, "payment_link.paid", inv, inv.Payments[len(inv.Payments)-1], cfg))
	}
	shuffle(capt)
	b.webhooks("authorized", auth, cfg.Rate)
	b.checkPayments(invs, billing.PaymentProcessing, 0)
	b.webhooks("captured", capt, cfg.Rate)
	b.checkPayments(invs, billing.PaymentSucceeded, int64(cfg.PerInvoice*cfg.PartPaise))
	b.webhooks("link_paid", paid, cfg.Rate)
	b.checkPayments(invs, billing.PaymentSucceeded, int64(cfg.PerInvoice*cfg.PartPaise))
	b.checkNothingParked()
	objs := st.Sim.Objects(b.dev.KeyID)
	links := 0 // Razorbill's, not the parts links razorpayPayments made
	for _, raw := range objs.PaymentLinks {
		var l struct {
			ReferenceID string `json:"reference_id"`
		}
		if json.Unmarshal(raw, &l) == nil && !strings.HasPrefix(l.ReferenceID, benchRefPrefix) {
			links++
		}
	}
	b.res.RzpObjects = map[string]int{"customers": len(objs.Customers), "payment_links": links}
	if len(objs.Customers) != nCus || links != cfg.Invoices {
		t.Errorf("simulator has %d customers and %d links of Razorbill, want %d and %d", len(objs.Customers), links, nCus, cfg.Invoices)
	}
	b.res.Took = ms(time.Since(start))
	writeResult(t, "burst.json", b.res)
}

// benchRefPrefix marks the simulator-side links razorpayPayments makes.
const benchRefPrefix = "bp-"

// razorpayPayments makes, for each invoice, a link at the simulator that
// accepts partial payments and pays it in cfg.PerInvoice parts; the parts'
// Razorpay payment ids and order become the invoice's. The simulator's
// webhooks stay held, so none of its own events reach the receiver.
func (b *burst) razorpayPayments(invs []*invoice, cfg burstSettings) {
	b.t.Helper()
	if err := b.st.Sim.HoldWebhooks(b.dev.KeyID, true); err != nil {
		b.t.Fatal(err)
	}
	rz := razorpay.NewClient(razorpay.Config{BaseURL: b.st.RazorpayURL, MaxRetries: -1})
	cr := razorpay.Credentials{KeyID: b.dev.KeyID, KeySecret: b.dev.KeySecret}
	t0 := time.Now()
	var wg sync.WaitGroup
	for _, jobs := range roundRobin(len(invs), cfg.Workers) {
		wg.Go(func() {
			for _, i := range jobs {
				inv := invs[i]
				l, err := rz.CreatePaymentLink(context.Background(), cr, razorpay.PaymentLinkInput{Amount: int64(cfg.PerInvoice * cfg.PartPaise), Currency: "INR",
					ReferenceID: benchRefPrefix + inv.ID, AcceptPartial: true, Description: "Invoice " + inv.Number,
					Notes: map[string]string{"razorbill_invoice_id": inv.ID, "razorbill_payment_id": inv.PaymentID}})
				if err != nil {
					b.t.Errorf("simulator link for %s: %v", inv.ID, err)
					return
				}
				for range cfg.PerInvoice {
					res, err := b.st.Sim.PayPaymentLink(l.ID, razorpaysim.PayOptions{Amount: int64(cfg.PartPaise)})
					if err != nil {
						b.t.Errorf("pay %s: %v", l.ID, err)
						return
					}
					inv.Payments = append(inv.Payments, res.PaymentID)
					inv.OrderID = res.OrderID
				}
			}
		})
	}
	wg.Wait()
	if b.t.Failed() {
		b.t.FailNow()
	}
	b.t.Logf("razorpay payments: %d parts of %d invoices paid at the simulator in %s", cfg.PerInvoice*len(invs), len(invs), time.Since(t0).Round(time.Millisecond))
}

// settle waits until the stack has done everything pending (only idle
// polls for 2 s), at most 2 minutes.
func (b *burst) settle() {
	deadline := time.Now().Add(2 * time.Minute)
	for b.meter.idleFor() < 2*time.Second {
		if time.Now().After(deadline) {
			b.t.Fatal("the stack did not settle within 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *burst) api(method, path string, body any, want int, out any) (int, time.Duration) {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, b.st.APIURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+b.dev.APIKey)
	req.Header.Set("X-Environment-ID", b.dev.EnvironmentID)
	req.Header.Set("Content-Type", "application/json")
	t0 := time.Now()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lat := time.Since(t0)
	if resp.StatusCode != want {
		b.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatal(err)
		}
	}
	return resp.StatusCode, lat
}

// schedule splits n jobs among workers: each worker's list runs in order.
type schedule func(n, workers int) [][]int

func roundRobin(n, workers int) [][]int {
	out := make([][]int, workers)
	for i := range n {
		out[i%workers] = append(out[i%workers], i)
	}
	return out
}

// sequentialPairs keeps jobs 2k and 2k+1 (create, then finalize) on one worker, in order.
func sequentialPairs(n, workers int) [][]int {
	out := make([][]int, workers)
	for i := range n {
		out[(i/2)%workers] = append(out[(i/2)%workers], i)
	}
	return out
}

func byCustomer(per int) schedule {
	return func(n, workers int) [][]int {
		out := make([][]int, workers)
		for i := range n {
			out[(i/per)%workers] = append(out[(i/per)%workers], i)
		}
		return out
	}
}

// phase runs n API requests on workers and records the phase.
func (b *burst) phase(name, function string, n, workers int, do func(i int) (int, time.Duration), sched ...schedule) {
	b.t.Helper()
	s := schedule(roundRobin)
	if len(sched) > 0 {
		s = sched[0]
	}
	lats := make([]time.Duration, n)
	t0 := time.Now()
	var wg sync.WaitGroup
	for _, jobs := range s(n, workers) {
		wg.Go(func() {
			for _, i := range jobs {
				if b.t.Failed() {
					return
				}
				_, lats[i] = do(i)
			}
		})
	}
	wg.Wait()
	if b.t.Failed() {
		b.t.FailNow()
	}
	wall := time.Since(t0)
	b.settle()
	counts, _ := b.meter.take()
	lb, ll := b.logs.take()
	b.res.Phases = append(b.res.Phases, &phaseResult{Name: name, Function: function, Requests: n, Wall: ms(wall), Latency: distOf(lats), Counts: counts, LogBytes: lb, LogLines: ll, RazorpayCalls: b.rzpCalls()})
	b.t.Logf("%s: %d requests in %s", name, n, wall.Round(time.Millisecond))
}

// delivery is one signed webhook POST.
type delivery struct {
	Body, Signature, EventID string
}

// webhooks sends ds open loop at rate per second: ds[i] is due at
// t0 + i/rate and is sent then on its own goroutine, however many earlier
// POSTs are still waiting. Its latency runs from when it was due (not from
// when the POST left), so a sender that fell behind counts against the
// receiver rather than hiding it. A POST not acknowledged with 200 is sent
// again, like Razorpay would, after 100 ms, 200 ms, …; retries do not move
// the schedule.
func (b *burst) webhooks(name string, ds []delivery, rate int) {
	b.t.Helper()
	url := b.st.WebhookBaseURL + webhook.PathPrefix + b.dev.TenantID + "/" + b.dev.EnvironmentID
	lats := make([]time.Duration, len(ds))
	var retries atomic.Int64
	var lastAck atomic.Int64 // ns after t0 of the last 200
	interval := time.Second / time.Duration(rate)
	cpu0 := b.cpu()
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range ds {
		due := t0.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			d := ds[i]
			for attempt := 0; ; attempt++ {
				req, _ := http.NewRequest("POST", url, strings.NewReader(d.Body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Razorpay-Signature", d.Signature)
				req.Header.Set("X-Razorpay-Event-Id", d.EventID)
				req.Header.Set("User-Agent", "Razorpay-Webhook/v1")
				resp, err := b.client.Do(req)
				status := 0
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				if attempt == 0 {
					lats[i] = time.Since(due)
				}
				if status == 200 {
					at := int64(time.Since(t0))
					for {
						prev := lastAck.Load()
						if at <= prev || lastAck.CompareAndSwap(prev, at) {
							break
						}
					}
					break
				}
				// Razorpay retries what was not acknowledged; so do we, sooner.
				if attempt == 5 {
					b.t.Errorf("%s: event %s not acknowledged after %d attempts (%d %v)", name, d.EventID, attempt+1, status, err)
					break
				}
				retries.Add(1)
				time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	wall := time.Duration(lastAck.Load())
	// Applied: the reconciler deletes a message once it has handled it.
	deadline := time.Now().Add(10 * time.Minute)
	for b.meter.deleted(schema.RazorpayEvents.LogicalName) < len(ds) {
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: only %d of %d events handled after 10 minutes", name, b.meter.deleted(schema.RazorpayEvents.LogicalName), len(ds))
		}
		time.Sleep(50 * time.Millisecond)
	}
	cpu1, span := b.cpu(), time.Since(t0)
	b.settle()
	counts, deletes := b.meter.take()
	lb, ll := b.logs.take()
	var applied []time.Duration
	for _, at := range deletes[schema.RazorpayEvents.LogicalName] {
		applied = append(applied, at.Sub(t0))
	}
	ad := distOf(applied)
	cpu := &phaseCPU{DynamoDBLocal: ms(cpu1[0] - cpu0[0]), SQSEmulator: ms(cpu1[1] - cpu0[1]), GoProcess: ms(cpu1[2] - cpu0[2]), Span: ms(span)}
	b.res.Phases = append(b.res.Phases, &phaseResult{Name: name, Function: "webhook-receiver", Requests: len(ds), Retries: int(retries.Load()),
		Wall: ms(wall), Latency: distOf(lats), Applied: &ad, Counts: counts, LogBytes: lb, LogLines: ll, RazorpayCalls: b.rzpCalls(), CPU: cpu})
	b.t.Logf("%s: CPU over %.1f s: DynamoDB Local %.1f s, SQS emulator %.1f s, this process %.1f s (2 CPUs give %.1f s)",
		name, cpu.Span/1000, cpu.DynamoDBLocal/1000, cpu.SQSEmulator/1000, cpu.GoProcess/1000, 2*cpu.Span/1000)
	b.t.Logf("%s: %d webhooks at %d/s acked in %s (p50 %.1f ms, p99 %.1f ms from the scheduled time), all applied %.0f ms after the first was due",
		name, len(ds), rate, wall.Round(time.Millisecond), distOf(lats).P50, distOf(lats).P99, ad.Max)
}

// templates are Razorpay's event shapes from events/razorpay.
func templates(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, name := range []string{"payment.authorized", "payment.captured", "payment_link.paid"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "events", "razorpay", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var v map[string]any
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		out[name] = v
	}
	return out
}

// clone deep-copies a decoded JSON value.
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = clone(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = clone(e)
		}
		return s
	}
	return v
}

func entity(ev map[string]any, name string) map[string]any {
	p, _ := ev["payload"].(map[string]any)
	e, _ := p[name].(map[string]any)
	m, _ := e["entity"].(map[string]any)
	return m
}

// event builds and signs one webhook about Razorpay payment pay of inv.
func (b *burst) event(tpl map[string]map[string]any, name string, inv *invoice, pay string, cfg burstSettings) delivery {
	ev := clone(tpl[name]).(map[string]any)
	now := time.Now().Unix()
	notes := map[string]any{"razorbill_payment_id": inv.PaymentID, "razorbill_invoice_id": inv.ID, "invoice_number": inv.Number,
		"tenant_id": b.dev.TenantID, "environment_id": b.dev.EnvironmentID}
	total := cfg.PerInvoice * cfg.PartPaise
	ev["account_id"] = b.st.Sim.DefaultAccount().ID
	ev["created_at"] = now
	if p := entity(ev, "payment"); p != nil {
		p["id"], p["amount"], p["order_id"], p["notes"], p["created_at"] = pay, cfg.PartPaise, inv.OrderID, notes, now
		p["description"] = "#" + strings.TrimPrefix(inv.LinkID, "plink_")
	}
	if l := entity(ev, "payment_link"); l != nil {
		l["id"], l["amount"], l["amount_paid"], l["notes"], l["order_id"], l["reference_id"] = inv.LinkID, total, total, notes, inv.OrderID, inv.PaymentID
		l["description"] = "Invoice " + inv.Number
	}
	if o := entity(ev, "order"); o != nil {
		o["id"], o["amount"], o["amount_paid"], o["notes"], o["receipt"] = inv.OrderID, total, total, notes, inv.PaymentID
	}
	body, err := json.Marshal(ev)
	if err != nil {
		b.t.Fatal(err)
	}
	return delivery{Body: string(body), Signature: razorpay.Sign(body, b.dev.WebhookSecret), EventID: rzpID()}
}

// checkPayments reads every invoice and its payment straight from DynamoDB.
func (b *burst) checkPayments(invs []*invoice, status string, paid int64) {
	b.t.Helper()
	ctx := context.Background()
	bad := 0
	for _, inv := range invs {
		p, err := b.store.Payment(ctx, b.sc, inv.PaymentID)
		if err != nil {
			b.t.Fatal(err)
		}
		i, err := b.store.Invoice(ctx, b.sc, inv.ID)
		if err != nil {
			b.t.Fatal(err)
		}
		if p.PaymentStatus != status || p.AmountReceived != paid || i.AmountPaid != paid ||
			(paid > 0 && i.PaymentStatus != billing.PaymentSucceeded) {
			if bad < 5 {
				b.t.Errorf("invoice %s: payment %s %d, invoice %s amount_paid %d; want %s %d", inv.ID, p.PaymentStatus, p.AmountReceived, i.PaymentStatus, i.AmountPaid, status, paid)
			}
			bad++
		}
	}
	check := fmt.Sprintf("after %s: %d of %d payments %s with %d paise received, invoices paid exactly", b.res.Phases[len(b.res.Phases)-1].Name, len(invs)-bad, len(invs), status, paid)
	b.res.Checks = append(b.res.Checks, check)
	if bad > 0 {
		b.t.Fatalf("%d invoices are not as expected", bad)
	}
}

func (b *burst) checkNothingParked() {
	b.t.Helper()
	var out struct{ Data []json.RawMessage }
	b.api("GET", "/api/v1/gateway-events?status=UNMATCHED", nil, 200, &out)
	b.res.Checks = append(b.res.Checks, fmt.Sprintf("parked (UNMATCHED) events: %d", len(out.Data)))
	if len(out.Data) != 0 {
		b.t.Errorf("%d events were parked", len(out.Data))
	}
}

const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// rzpID is a Razorpay-style 14-character id.
func rzpID() string {
	var b [14]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = idChars[int(b[i])%len(idChars)]
	}
	return string(b[:])
}

func shuffle(ds []delivery) {
	mrand.Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
}
