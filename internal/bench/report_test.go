package bench_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestReport writes the generated regions of docs/benchmarks.md (the text
// between its generated:begin/end markers; the rest is hand-written and kept
// as it is) from what the other steps of make bench left in .razorbill/bench:
// micro.txt (go test -bench output of internal/webhook and
// internal/httpapi), init.json, burst.json and usage.json.
func TestReport(t *testing.T) {
	gate(t)
	micro := readMicro(t, filepath.Join(resultsDir, "micro.txt"))
	var ini initResult
	readJSON(t, "init.json", &ini)
	var bu burstResult
	readJSON(t, "burst.json", &bu)
	var u usageResult
	readJSON(t, "usage.json", &u)
	regions := append(report(micro, ini, bu), region{"usage", usageSection(u)})
	old, err := os.ReadFile(reportDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := spliceRegions(string(old), regions)
	if err != nil {
		t.Fatalf("%s: %v", reportDoc, err)
	}
	if err := os.WriteFile(reportDoc, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log("wrote the generated regions of docs/benchmarks.md")
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(resultsDir, name))
	if err != nil {
		t.Fatalf("%v (make bench runs the steps that write it)", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// microResults are go test -bench figures: benchmark → unit → one value per run.
type microResults struct {
	CPU   string
	Bench map[string]map[string][]float64
}

func readMicro(t *testing.T, path string) microResults {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (make bench runs the steps that write it)", err)
	}
	r := microResults{Bench: map[string]map[string][]float64{}}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "cpu: "); ok {
			r.CPU = strings.TrimSpace(v)
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		if r.Bench[name] == nil {
			r.Bench[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			r.Bench[name][f[i+1]] = append(r.Bench[name][f[i+1]], v)
		}
	}
	for _, want := range []string{"BenchmarkReceiverSDK", "BenchmarkSDKCall/GetItem", "BenchmarkSDKCall/SendMessage", "BenchmarkReceiver", "BenchmarkFloorHMACDecode", "BenchmarkAPI/GET_invoice", "BenchmarkAPI/POST_customer"} {
		if r.Bench[want] == nil {
			t.Fatalf("%s: no %s", path, want)
		}
	}
	return r
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (m microResults) med(name, unit string) float64 { return median(m.Bench[name][unit]) }

// ---- the paper estimate ----

// Prices assumed: AWS list prices for US East (N. Virginia) as published in
// 2025–2026 (DynamoDB on-demand after the November 2024 reduction), not
// fetched from AWS. Mumbai (ap-south-1), where a Razorpay merchant would
// deploy, lists about the same for Lambda and SQS and somewhat more for
// DynamoDB.
var prices = []struct {
	key, what string
	usd       float64
	unit      string
}{
	{"lambda_req", "Lambda requests", 0.20, "per million"},
	{"lambda_gbs", "Lambda duration, arm64", 0.0000133334, "per GB-second"},
	{"apigw", "API Gateway HTTP API requests", 1.00, "per million"},
	{"wru", "DynamoDB on-demand write request units", 0.625, "per million"},
	{"rru", "DynamoDB on-demand read request units", 0.125, "per million"},
	{"sqs_fifo", "SQS FIFO requests (per 64 KB chunk)", 0.50, "per million"},
	{"sqs_std", "SQS standard requests (per 64 KB chunk)", 0.40, "per million"},
	{"kms", "KMS requests (Decrypt)", 0.03, "per 10,000"},
	{"logs", "CloudWatch Logs ingestion", 0.50, "per GB"},
}

func price(key string) float64 {
	for _, p := range prices {
		if p.key == key {
			return p.usd
		}
	}
	panic(key)
}

// Latencies assumed for an AWS call from a Lambda in the same region (the
// local emulators' latencies say nothing about AWS's), used only to model
// billed duration.
const (
	latDDB       = 5.0   // ms, GetItem/PutItem/UpdateItem/Query
	latTransact  = 15.0  // ms, TransactWriteItems
	latSQSSend   = 10.0  // ms, SendMessage
	latRazorpay  = 300.0 // ms, one Razorpay API call from ap-south-1
	latOverhead  = 3.0   // ms per invocation: runtime API round trip, JSON, our CPU
	platformLogs = 300.0 // bytes per invocation: Lambda's START/END/REPORT lines
)

// The KMS model (assumptions, not measured): a warm function keeps an opened
// secret for secrets.CacheTTL (webhook.TrustCache and secrets.Cache), so it
// decrypts each environment's secret at most once per TTL, whatever its
// traffic. Assumed: one environment whose million paid invoices a month
// arrive evenly (0.39 a second), so that each function that opens a secret
// on the paid invoice's path — the webhook-receiver (the webhook secret),
// the payment-link-creator and the invoice-syncer (the key secret) — is
// kept warm by one instance that decrypts once per TTL.
const (
	kmsOpeners            = 3
	kmsWarmInstances      = 1
	kmsTTLMinutes         = 5 // secrets.CacheTTL
	modelInvoicesPerMonth = 1e6
	modelMonthHours       = 720
)

// kmsPerInvoice is the modelled Decrypts per paid invoice.
func kmsPerInvoice() float64 {
	return kmsOpeners * kmsWarmInstances * (60 / kmsTTLMinutes) * modelMonthHours / modelInvoicesPerMonth
}

// subscribed reports whether a phase's webhook is one Razorbill asks the
// merchant to enable (httpapi.WebhookEvents): payment.authorized is not.
func subscribed(phase string) bool { return phase != "authorized" }

var readOps = map[string]bool{"GetItem": true, "Query": true, "Scan": true, "BatchGetItem": true, "TransactGetItems": true}

// phaseCost is one phase's AWS usage, per unit of the phase.
type phaseCost struct {
	name               string
	per                float64 // units (invoices or payments) the phase's totals cover
	perInvoice         float64 // units per paid invoice
	rru, wru           float64
	failedWrites       float64
	ddbCalls, transact float64
	sqsFIFO, sqsStd    float64
	sqsSends           float64 // SendMessage by the HTTP function or the receiver
	relaySends         float64 // SendMessage onto the sync queues (stream-relay)
	consumerBatches    map[string]float64
	httpInvocations    float64
	httpFn             string
	kms, razorpay      float64 // kms: Decrypts if nothing were cached (the upper bound)
	logBytes           float64
	apigw              float64
}

func costOf(p *phaseResult, s burstSettings, customers int) phaseCost {
	c := phaseCost{name: p.Name, per: float64(s.Invoices), perInvoice: 1, consumerBatches: map[string]float64{}, httpFn: p.Function}
	if p.Name == "captured" {
		c.per = float64(s.Invoices * s.PerInvoice) // per Razorpay payment; a paid invoice has one
	}
	for key, o := range p.Counts.Ops {
		svc, rest, _ := strings.Cut(key, ".")
		op, queue, _ := strings.Cut(rest, " ")
		switch svc {
		case "DynamoDB":
			c.ddbCalls += float64(o.Calls)
			if op == "TransactWriteItems" {
				c.transact += float64(o.Calls)
			}
			if readOps[op] {
				c.rru += o.Units
			} else {
				c.wru += o.Units
				c.failedWrites += float64(o.Errors) // DynamoDB charges a failed conditional write; Local reports no capacity for it
			}
		case "SQS":
			billed := float64(o.Calls - o.Empty) // empty receives are a fixed cost of polling, not per invoice
			if strings.HasSuffix(queue, "-dlq") || queue == "other" {
				continue
			}
			if queue == "razorpay-events" {
				c.sqsFIFO += billed
			} else {
				c.sqsStd += billed
			}
			if op == "SendMessage" {
				if queue == "razorpay-events" { // the webhook receiver
					c.sqsSends += float64(o.Calls)
				} else { // the stream relay onto the sync queues
					c.relaySends += float64(o.Calls)
				}
			}
			if op == "ReceiveMessage" {
				c.consumerBatches[queue] += float64(o.Calls - o.Empty)
			}
		}
	}
	c.httpInvocations = float64(p.Requests)
	switch p.Function {
	case "api", "payment-link-creator":
		c.apigw = float64(p.Requests)
	case "webhook-receiver":
		c.kms = float64(p.Requests)
	}
	if p.Name == "links" {
		// one Decrypt of the key secret per link, one more per customer sync
		c.kms = float64(p.Requests + customers)
		// one Razorpay call per link; the first link of a customer syncs it
		// (a search and a create)
		c.razorpay = float64(p.Requests + 2*customers)
	}
	if p.RazorpayCalls != nil {
		c.razorpay = float64(*p.RazorpayCalls) // counted at the simulator
	}
	c.wru += c.failedWrites
	c.logBytes = float64(p.LogBytes)
	return c
}

// lambdaGBs models the phase's billed Lambda duration: every AWS call the
// phase made, at the assumed latency, plus an overhead per invocation, at
// the memory of the function that made it (infra/cdk's functionSpecs: the
// HTTP function's for the API phases — the on-demand customer sync runs
// inside the payment-link-creator — and 256 MB for the webhook receiver, the
// reconciler, the relay and the syncers). KMS Decrypts are left out: the
// warm functions' caches make them rare (kmsPerInvoice).
func (c phaseCost) lambdaGBs() (invocations, gbs float64) {
	mem := map[string]float64{"api": 0.5, "payment-link-creator": 0.25, "webhook-receiver": 0.25}[c.httpFn]
	consumers := 0.0
	for _, n := range c.consumerBatches {
		consumers += n
	}
	invocations = c.httpInvocations + consumers + c.relaySends
	single := c.ddbCalls - c.transact
	callMs := single*latDDB + c.transact*latTransact + c.sqsSends*latSQSSend + c.razorpay*latRazorpay
	gbs = (callMs + c.httpInvocations*latOverhead) * mem / 1000
	gbs += (c.relaySends*(latSQSSend+latOverhead) + consumers*latOverhead) * 0.25 / 1000
	return invocations, gbs
}

// topDuration names the phase with the most modelled GB-s per paid invoice.
func topDuration(cs []phaseCost) (string, float64) {
	top, best, sum := "", 0.0, 0.0
	for _, c := range cs {
		if !subscribed(c.name) {
			continue
		}
		_, g := c.lambdaGBs()
		g /= c.per
		sum += g
		if g > best {
			top, best = c.name, g
		}
	}
	if sum == 0 {
		return "", 0
	}
	return top, 100 * best / sum
}

// kmsUncached is the Decrypts per paid invoice if no function cached an
// opened secret: one per subscribed webhook, link and customer sync.
func kmsUncached(cs []phaseCost) float64 {
	n := 0.0
	for _, c := range cs {
		if subscribed(c.name) {
			n += c.kms / c.per
		}
	}
	return n
}

// invoiceUse is what a paid invoice (or one phase's share of it) uses of
// each priced item.
type invoiceUse struct{ inv, gbs, apigw, rru, wru, fifo, std, logs float64 }

// share is the phase's use per paid invoice.
func (c phaseCost) share() invoiceUse {
	i, g := c.lambdaGBs()
	f := 1 / c.per
	return invoiceUse{inv: i * f, gbs: g * f, apigw: c.apigw * f, rru: c.rru * f, wru: c.wru * f, fifo: c.sqsFIFO * f, std: c.sqsStd * f,
		logs: (c.logBytes + i*platformLogs) * f}
}

func (u invoiceUse) plus(o invoiceUse) invoiceUse {
	return invoiceUse{u.inv + o.inv, u.gbs + o.gbs, u.apigw + o.apigw, u.rru + o.rru, u.wru + o.wru, u.fifo + o.fifo, u.std + o.std, u.logs + o.logs}
}

// lines prices u (§6's table, USD per million paid invoices), with kms
// Decrypts per paid invoice.
func (u invoiceUse) lines(kms float64) []costLine {
	const M = 1e6
	return []costLine{
		{"Lambda requests", fmt.Sprintf("%.2f invocations", u.inv), u.inv * price("lambda_req")},
		{"Lambda duration", fmt.Sprintf("%.4f GB-s", u.gbs), u.gbs * M * price("lambda_gbs")},
		{"API Gateway HTTP API", fmt.Sprintf("%.2f requests", u.apigw), u.apigw * price("apigw")},
		{"DynamoDB writes", fmt.Sprintf("%.1f WRU", u.wru), u.wru * price("wru")},
		{"DynamoDB reads", fmt.Sprintf("%.1f RRU", u.rru), u.rru * price("rru")},
		{"SQS FIFO (razorpay-events)", fmt.Sprintf("%.2f requests", u.fifo), u.fifo * price("sqs_fifo")},
		{"SQS standard (sync queues)", fmt.Sprintf("%.2f requests", u.std), u.std * price("sqs_std")},
		{"KMS Decrypt", fmt.Sprintf("%.2f requests", kms), kms * price("kms") * 100},
		{"CloudWatch Logs", fmt.Sprintf("%.0f bytes", u.logs), u.logs * M / 1e9 * price("logs")},
	}
}

// unsubscribedUSD is what one phase adds per million paid invoices.
func unsubscribedUSD(c phaseCost) float64 {
	total := 0.0
	for _, l := range c.share().lines(0) {
		total += l.usdPM
	}
	return total
}

func metOr(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

// reconcilerBatches is the payment-reconciler's concurrent batches in the
// burst (results written before the setting existed ran 2).
func reconcilerBatches(s burstSettings) int {
	if s.ReconcilerBatches > 0 {
		return s.ReconcilerBatches
	}
	return 2
}

// captWRU is the write units of one payment.captured.
func captWRU(cs []phaseCost) float64 {
	for _, c := range cs {
		if c.name == "captured" {
			return c.wru / c.per
		}
	}
	return 0
}

// report is docs/benchmarks.md's generated regions, in order (§7, usage,
// comes from usageSection).
func report(m microResults, ini initResult, bu burstResult) []region {
	var w regionWriter
	p := w.printf
	mc := bu.Machine
	w.begin("header")
	p("# Benchmarks\n\n")
	p("Figures for issue 10 (and issue 7's receiver benchmark), written by `make bench`\n")
	p("(`internal/bench`'s TestReport, from the results the other steps leave in\n")
	p("`.razorbill/bench/`). Everything runs on one machine, on loopback, against the\n")
	p("real DynamoDB Local and the SQS emulator; nothing here touches AWS. It\n")
	p("rewrites only the text between `generated:begin` and `generated:end`\n")
	p("comments; everything else in this file is hand-written and kept as it is.\n\n")
	p("## Machine and commands\n\n")
	p("| | |\n|---|---|\n")
	p("| CPU | %s, %d CPUs (`nproc`) |\n", mc.CPU, mc.CPUs)
	p("| OS / arch | %s/%s |\n", mc.GOOS, mc.GOARCH)
	p("| Go | %s |\n", mc.Go)
	p("| run | %s (init times: %s) |\n", mc.At, ini.Machine.At)
	p("| load average when the burst / init runs started | %s / %s |\n\n", mc.LoadAvg, ini.Machine.LoadAvg)
	p("The machine is shared with other engineers' test runs (the load averages\n")
	p("above say how busy it was), so the figures are medians, and the comparisons\n")
	p("are ratios measured within one run.\n\n")
	p("```sh\nmake bench\n```\n\nruns, in order:\n\n```sh\n")
	p("go test -run '^$' -bench . -benchmem -count 5 ./internal/webhook/            # §1\n")
	p("go run ./internal/localaws/cmd/emulators -- \\\n  go test -run '^$' -bench . -benchmem -count 3 ./internal/httpapi/           # §2\n")
	p("RAZORBILL_BENCH=1 go test -run '^TestInitTime$' -count=1 -v ./internal/bench/  # §4\n")
	p("go run ./internal/localaws/cmd/emulators -- env RAZORBILL_BENCH=1 \\\n  go test -run '^TestBurst$' -count=1 -timeout 20m -v ./internal/bench/       # §3, §5\n")
	p("go run ./internal/localaws/cmd/emulators -- env RAZORBILL_BENCH=1 \\\n  go test -run '^TestUsageBench$' -count=1 -timeout 30m -v ./internal/bench/  # §7\n")
	p("go run ./internal/localaws/cmd/emulators -- env RAZORBILL_BENCH=1 \\\n  go test -run '^TestDynamoDBLocalCeiling$' -count=1 -timeout 10m -v ./internal/bench/     # §7: DynamoDB Local alone\n")
	p("go run ./internal/localaws/cmd/emulators -- env RAZORBILL_BENCH=1 \\\n  go test -run '^TestDynamoDBLocalBatchReads$' -count=1 -timeout 10m -v ./internal/bench/  # §3: DynamoDB Local alone, fresh\n")
	p("RAZORBILL_BENCH=1 go test -run '^TestReport$' -count=1 ./internal/bench/     # writes the generated parts, §6\n```\n\n")
	p("`make test` runs none of them: the micro-benchmarks need `-bench`, the\n")
	p("`internal/bench` tests skip without `RAZORBILL_BENCH=1`.\n\n")

	// 1. receiver vs floor
	w.begin("receiver")
	const receiverGoal = 3.0 // issue 17
	// CPU per event: cpu-ns/op (the process's CPU time, which a loaded
	// machine does not inflate the way it does wall time) where the
	// benchmarks report it, else ns/op
	unit := "cpu-ns/op"
	if m.Bench["BenchmarkReceiverSDK"][unit] == nil {
		unit = "ns/op"
	}
	rn := m.med("BenchmarkReceiver", "ns/op")
	sc, rc, fc := m.med("BenchmarkReceiverSDK", unit), m.med("BenchmarkReceiver", unit), m.med("BenchmarkFloorHMACDecode", unit)
	gc, qc := m.med("BenchmarkSDKCall/GetItem", unit), m.med("BenchmarkSDKCall/SendMessage", unit)
	p("## 1. Webhook receiver CPU per event vs the HMAC + decode floor\n\n")
	p("Goal (issue 17): the receiver with its real AWS calls ≤ **%.0f×** the floor.\n\n", receiverGoal)
	p("`internal/webhook/bench_test.go` and `sdkbench_test.go`, one `go test -bench`\n")
	p("run, the sample `events/functionurl/webhook-payment-captured.json` (%d-byte\n", int(m.med("BenchmarkReceiver", "MB/s")*rn/1000+0.5))
	p("body) signed with `webhook-secret.txt`.\n\n")
	p("- `BenchmarkReceiverSDK`: the receiver exactly as the webhook-receiver\n")
	p("  Lambda wires it (`webhookreceiver.New`: the connection read with `GetItem`\n")
	p("  through `internal/ddbjson` (DynamoDB's JSON protocol, signed as the SDK\n")
	p("  signs, without the SDK's DynamoDB client) behind the warm trust cache\n")
	p("  (`webhook.TrustCache`, one read a minute per environment: here before the\n")
	p("  timer), the KMS secrets box behind its warm cache, the `SendMessage`\n")
	p("  on every event through `internal/sqsjson`: SQS's JSON protocol signed\n")
	p("  with SigV4 as the SDK's signer signs it, without the SDK's SQS client;\n")
	p("  the queue message carries the webhook's body as its JSON object,\n")
	p("  `billing.EventMessage.AppendJSON`),\n")
	p("  static credentials, a region,\n")
	p("  retries off, and the HTTP client's transport replaced by an\n")
	p("  in-memory `http.RoundTripper` that answers in the services' JSON wire\n")
	p("  shapes (the item as the store wrote it, projected as asked, with DynamoDB's\n")
	p("  `X-Amz-Crc32`; SQS's\n")
	p("  `MD5OfMessageBody`, which both clients check). No network, no emulator.\n")
	p("- `BenchmarkSDKCall/GetItem`, `/SendMessage`: each of those two calls alone\n")
	p("  (GetItem is what a trust-cache miss costs); `/GetItemSDKClient` and\n")
	p("  `/SendMessageSDKClient`: the same request through the SDK's DynamoDB and\n")
	p("  SQS clients, as the functions made them before `internal/ddbjson` and\n")
	p("  `internal/sqsjson`.\n")
	p("- `BenchmarkReceiver`: `Receiver.Handle` with an in-memory connection store\n")
	p("  and a no-op publisher (no SDK), opening the AES-GCM envelope with a local\n")
	p("  key on every event (no cache).\n")
	p("- `BenchmarkFloorHMACDecode`: the least any receiver does: hex-decode the\n")
	p("  signature, HMAC-SHA256 the body, compare, `json.Unmarshal` the body into\n")
	p("  the struct the receiver routes on (`webhook.Envelope`).\n\n")
	p("*CPU/op* is the test process's user + system time per iteration (the\n")
	p("garbage collector's included), *ns/op* wall time. Medians of 5.\n\n")
	p("| benchmark | CPU/op (ns) | ns/op | B/op | allocs/op |\n|---|---:|---:|---:|---:|\n")
	for _, n := range []string{"BenchmarkReceiverSDK", "BenchmarkSDKCall/GetItem", "BenchmarkSDKCall/GetItemSDKClient", "BenchmarkSDKCall/SendMessage", "BenchmarkSDKCall/SendMessageSDKClient", "BenchmarkReceiver", "BenchmarkFloorHMACDecode"} {
		if m.Bench[n] == nil {
			continue // a results file from before the row existed
		}
		p("| %s | %.0f | %.0f | %.0f | %.0f |\n", n, m.med(n, "cpu-ns/op"), m.med(n, "ns/op"), m.med(n, "B/op"), m.med(n, "allocs/op"))
	}
	verdict := "**Met.**"
	if sc/fc > receiverGoal {
		verdict = "**Not met.**"
	}
	p("\n**Receiver with its AWS calls / floor = %.1f×** (%s: %.1f µs vs %.1f µs). %s\n", sc/fc, unit, sc/1000, fc/1000, verdict)
	p("Its `SendMessage` alone takes %.1f µs, %.0f%% of the receiver's, %.1f× the floor by\n", qc/1000, 100*qc/sc, qc/fc)
	if m.Bench["BenchmarkSDKCall/SendMessageSDKClient"] != nil {
		p("itself (the SDK's SQS client: %.1f µs for the same message);\n", m.med("BenchmarkSDKCall/SendMessageSDKClient", unit)/1000)
		if m.Bench["BenchmarkSDKCall/GetItemSDKClient"] != nil {
			p("a trust-cache miss adds the `GetItem`'s %.1f µs (the SDK's DynamoDB client: %.1f µs\n", gc/1000, m.med("BenchmarkSDKCall/GetItemSDKClient", unit)/1000)
			p("for the same request and item). Without SDK calls\n")
		} else {
			p("a trust-cache miss adds the `GetItem`'s %.1f µs. Without SDK calls\n", gc/1000)
		}
	} else {
		p("itself; a trust-cache miss adds the `GetItem`'s %.1f µs. Without SDK calls\n", gc/1000)
	}
	p("(`BenchmarkReceiver`, which also opens the secret's envelope every time) the\n")
	p("receiver is %.1f× the floor.\n\n", rc/fc)

	// 2. API allocations
	w.begin("api")
	p("## 2. Allocations per request on the API's hot routes\n\n")
	p("`internal/httpapi/bench_test.go`: the real router (`httpapi.Router` with the\n")
	p("ledger routes, as the api function wires it) and the real `dynamo.Store`\n")
	p("against **DynamoDB Local** (testenv) — not a fake store — so the figures\n")
	p("include the DynamoDB client's work per call (`internal/ddbjson`: request\n")
	p("building, signing, JSON), i.e. what one api invocation allocates. The event is a payload-2.0\n")
	p("`APIGatewayV2HTTPRequest` with a tenant API key (authentication reads the key\n")
	p("and the environment). ns/op is dominated by DynamoDB Local's latency on this\n")
	p("machine and says little about AWS; allocs/op and B/op are the figures.\n")
	p("Medians of 3.\n\n")
	p("| route | allocs/op | B/op | DynamoDB calls/op | ns/op (DynamoDB Local) |\n|---|---:|---:|---:|---:|\n")
	for _, r := range []struct{ n, label string }{{"BenchmarkAPI/GET_invoice", "GET /api/v1/invoices/{id}"},
		{"BenchmarkAPI/POST_customer", "POST /api/v1/customers"},
		{"BenchmarkAPI/POST_customer_idempotency_key", "POST /api/v1/customers with Idempotency-Key"}} {
		if m.Bench[r.n] == nil {
			continue
		}
		p("| %s | %.0f | %.0f | %.0f | %.0f |\n", r.label, m.med(r.n, "allocs/op"), m.med(r.n, "B/op"), m.med(r.n, "ddbcalls/op"), m.med(r.n, "ns/op"))
	}
	get := m.Bench["BenchmarkAPI/GET_invoice"]
	p("\nThat is about %.0f allocations per DynamoDB call the request makes (each\n", median(get["allocs/op"])/max(1, median(get["ddbcalls/op"])))
	p("call builds, signs and decodes a request; the store decodes the item), with\n")
	p("the router's. An Idempotency-Key adds two DynamoDB calls (begin, complete).\n\n")

	// 3. burst
	w.begin("burst")
	s := bu.Settings
	var capt *phaseResult
	for _, ph := range bu.Phases {
		if ph.Name == "captured" {
			capt = ph
		}
	}
	p("## 3. Burst of %d webhooks against the local stack\n\n", s.Invoices*s.PerInvoice)
	p("`internal/bench/burst_test.go` (TestBurst). `localstack.Start` — the same\n")
	p("handlers as the Lambdas, the function URL and API Gateway shims, the SQS\n")
	p("pollers (up to %d concurrent batches of up to 10 on the razorpay-events\n", reconcilerBatches(s))
	p("queue, 2 on the others; on the FIFO\n")
	p("razorpay-events queue never two batches holding one message group, as\n")
	p("Lambda scales FIFO consumers to the active message groups), the stream relay")
	if s.NoSweep {
		p(" (no gateway sweep: its Razorpay calls and reads grow with the open\n")
		p("instruments and the time, not with the webhooks; §0 measures it)")
	}
	p(" —\n")
	p("on DynamoDB Local and the SQS emulator, and the Razorpay simulator for the\n")
	p("payment links. Set-up through the HTTP API: %d customers, %d invoices of\n", bu.Customers, s.Invoices)
	p("₹%d.00 created and finalized, a payment link for each (the first link of a\n", s.PerInvoice*s.PartPaise/100)
	p("customer syncs it to the simulator). Then webhooks signed with the\n")
	p("connection's secret, in Razorpay's shapes (`events/razorpay/`), POSTed over\n")
	p("HTTP open loop at a fixed %d webhooks/s (each POST sent at its scheduled\n", s.Rate)
	p("time on its own goroutine over a keep-alive pool, whatever became of the\n")
	p("earlier ones): one `payment.authorized` per\n")
	p("link, then **the burst: %d `payment.captured` for %d distinct Razorpay\n", s.Invoices*s.PerInvoice, s.Invoices*s.PerInvoice)
	p("payments** (%d parts of ₹%d.00 per invoice, shuffled), then one\n", s.PerInvoice, s.PartPaise/100)
	p("`payment_link.paid` per link for a payment already applied. The parts are\n")
	p("real payments at the simulator (per invoice a link made there that accepts\n")
	p("parts, paid part by part, its own webhooks held back), because the\n")
	p("reconciler confirms at Razorpay (`GET /v1/payments/{id}`) a capture that is\n")
	p("not its link's amount.\n\n")
	p("*Ack latency*: client-side, from the POST's scheduled send time to the 200\n")
	p("(no coordinated omission; the receiver answers only after SQS accepted the\n")
	p("message). *Acked in*: first scheduled send → last 200. *Applied*: time from\n")
	p("the first scheduled POST of the phase\n")
	p("until the payment-reconciler had handled and deleted each message; \"all\"\n")
	p("is the last one. Every AWS call goes through a metering proxy (one more\n")
	p("loopback hop, see §5).\n\n")
	p("| phase | webhooks | ack p50 | ack p90 | ack p99 | ack max | acked in | acks/s | applied p50 | applied p99 | **all applied** | applied/s |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, ph := range bu.Phases {
		if ph.Applied == nil {
			continue
		}
		p("| %s | %d | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f s | %.0f | %.1f s | %.1f s | **%.1f s** | %.0f |\n", ph.Name, ph.Requests,
			ph.Latency.P50, ph.Latency.P90, ph.Latency.P99, ph.Latency.Max, ph.Wall/1000, float64(ph.Requests)/(ph.Wall/1000),
			ph.Applied.P50/1000, ph.Applied.P99/1000, ph.Applied.Max/1000, float64(ph.Requests)/(ph.Applied.Max/1000))
	}
	if capt != nil && capt.Applied != nil {
		const burstGoal = 30.0 // seconds, issue 17
		verdict := "**Met.**"
		if capt.Applied.Max/1000 > burstGoal {
			verdict = "**Not met.**"
		}
		p("\nGoal (issue 17): the %d-webhook burst all applied in ≤ %.0f s with an open-loop sender: %.1f s. %s\n",
			capt.Requests, burstGoal, capt.Applied.Max/1000, verdict)
	}
	if capt != nil && capt.Retries > 0 {
		p("\n%d POSTs of the burst were not acknowledged at the first attempt and were retried.\n", capt.Retries)
	}
	if capt != nil && capt.CPU != nil && capt.CPU.Span > 0 {
		c := capt.CPU
		total := c.DynamoDBLocal + c.SQSEmulator + c.GoProcess
		p("\nCPU from the first %s webhook due until the last event was handled (%.1f s; 2 CPUs give %.1f CPU-seconds):\n", capt.Name, c.Span/1000, 2*c.Span/1000)
		p("DynamoDB Local %.1f s, the SQS emulator %.1f s, the Go process (every function, the Razorpay simulator, the senders,\n", c.DynamoDBLocal/1000, c.SQSEmulator/1000)
		p("the metering proxy) %.1f s: %.1f CPU-seconds in all, %.0f%% of what the machine had; per webhook %.2f ms of DynamoDB Local's CPU and %.2f ms of all.\n",
			c.GoProcess/1000, total/1000, 100*total/(2*c.Span), c.DynamoDBLocal/float64(capt.Requests), total/float64(capt.Requests))
		if total > 0 {
			p("At that CPU per webhook, all %d webhooks need at least %.1f s on this machine's 2 CPUs (the goal: %.0f s).\n", capt.Requests, total/2000, 30.0)
		}
	}
	p("\nChecks at the end (read straight from DynamoDB Local):\n\n")
	for _, c := range bu.Checks {
		p("- %s\n", c)
	}
	p("- the simulator holds %d customers and %d payment links (no duplicates)\n", bu.RzpObjects["customers"], bu.RzpObjects["payment_links"])
	p("\nSet-up requests through the API (client-side latency):\n\n")
	p("| phase | requests | function | p50 | p99 | took |\n|---|---:|---|---:|---:|---:|\n")
	for _, ph := range bu.Phases {
		if ph.Applied != nil {
			continue
		}
		p("| %s | %d | %s | %.1f ms | %.1f ms | %.1f s |\n", ph.Name, ph.Requests, ph.Function, ph.Latency.P50, ph.Latency.P99, ph.Wall/1000)
	}
	p("\nWhat bounds these numbers here, not in AWS: the senders, the functions,\n")
	p("DynamoDB Local (a JVM) and the SQS emulator (Node) share %d CPUs; the local\n", mc.CPUs)
	p("reconciler runs at most %d batches at a time where Lambda scales with the\n", reconcilerBatches(s))
	p("number of active FIFO message groups (here one group per invoice, so one\n")
	p("invoice's five captures are applied one after another by design); within a\n")
	p("batch it applies the groups side by side (up to 10).")
	switch {
	case capt == nil:
		p("\n\n")
	case capt.Latency.P99 < 1000:
		p(" Acks stayed within %.0f ms (p99, from the scheduled send time) while the\n", capt.Latency.P99)
		p("reconciler worked through the backlog: acknowledging does not wait for\n")
		p("applying, and Razorpay's 5 s timeout is far away.\n\n")
	default:
		p(" The burst's acks took %.1f s at p99 from their scheduled send time: at\n", capt.Latency.P99/1000)
		p("this load the stack did not keep up with %d webhooks/s (Razorpay would\n", s.Rate)
		p("have timed out the slowest after 5 s and retried them).\n\n")
	}

	// 4. init
	w.begin("init")
	const initGoal = 1.3 // issue 17
	var hello *initFigure
	for _, f := range ini.Functions {
		if f.Name == helloName {
			hello = f
		}
	}
	p("## 4. Init time and binary size\n\n")
	p("Goal (issue 17): every function's init ≤ **×%.1f** hello-world's (p50, same run).\n\n", initGoal)
	p("`internal/bench/init_test.go` (TestInitTime). Every `functions/<name>` and a\n")
	p("hello-world aws-lambda-go function (`internal/bench/hello`: `lambda.Start` of\n")
	p("a handler returning a string) built exactly like `make build`\n")
	p("(`%s`), for linux/arm64 (the deployed `bootstrap`: the size\n", ini.BuildArgs)
	p("column) and for this machine (%s/%s, to run it). Each binary is started\n", ini.Machine.GOOS, ini.Machine.GOARCH)
	p("with the environment Lambda and the CDK stack give it (placeholder ARNs and\n")
	p("URLs) against a fake Lambda Runtime API; *init* is exec → its first\n")
	p("`GET /2018-06-01/runtime/invocation/next`: Go runtime start, package\n")
	p("initialisation, and the wiring in the function's composition root\n")
	p("(`internal/wire/<function>`). %d interleaved rounds after one\n", ini.Rounds)
	p("unmeasured start each; *CPU* is the process's user+sys time until then,\n")
	p("*peak RSS* its VmHWM, *package init* the sum of `GODEBUG=inittrace=1`\n")
	p("(one extra run; tracing inflates it a little).\n\n")
	p("| function | arm64 size | init p50 | init p90 | ×hello (p50) | goal ≤ ×%.1f | CPU p50 | ×hello (CPU) | peak RSS | package init | slowest init |\n", initGoal)
	p("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|\n")
	for _, f := range ini.Functions {
		slow := ""
		if len(f.SlowInits) > 0 {
			slow = "`" + f.SlowInits[0] + "`"
		}
		verdict, cpuRatio := "pass", 0.0
		if f.Ratio > initGoal {
			verdict = "**fail**"
		}
		if hello != nil && hello.CPU.P50 > 0 {
			cpuRatio = f.CPU.P50 / hello.CPU.P50
		}
		p("| %s | %.1f MB | %.1f ms | %.1f ms | %.2f | %s | %.1f ms | %.2f | %.1f MB | %.1f ms (%d pkgs) | %s |\n", f.Name, float64(f.SizeArm64)/1e6,
			f.Init.P50, f.Init.P90, f.Ratio, verdict, f.CPU.P50, cpuRatio, float64(f.MaxRSSKiB)/1024, f.PkgInit, f.PkgInits, slow)
	}
	// what §4 does not measure is hand-written after the region

	// 5. measured requests
	w.begin("requests")
	p("## 5. AWS requests measured per operation\n\n")
	p("During TestBurst every DynamoDB and SQS request of the functions went\n")
	p("through a metering proxy that counted it by operation and queue and added\n")
	p("`ReturnConsumedCapacity: INDEXES` to DynamoDB requests: DynamoDB Local then\n")
	p("reports the capacity units DynamoDB would charge, global secondary index\n")
	p("writes included. Transactions and PutItem are priced by the proxy instead:\n")
	p("DynamoDB Local's table figure for a transaction does not follow its items'\n")
	p("sizes, and neither figure counts the item a write replaces, which DynamoDB\n")
	p("bills when it is the larger. The proxy remembers each item's size as last\n")
	p("written or read whole through it and charges per started KB of the larger\n")
	p("of before and after: 1 unit a PutItem, 2 each item of a transaction (an\n")
	p("Update, Delete or ConditionCheck at the size the item had; 1 KB when the\n")
	p("proxy never saw it whole) — plus the indexes' units as reported\n")
	p("(DynamoDB Local's own figure is shown beside it). A BatchGetItem is priced\n")
	p("per key, as if each were read alone (1 unit per started 4 KB of an item, 1\n")
	p("for a key without one): DynamoDB Local reports 1.5 units for two small\n")
	p("items read together. Per unit of each phase (one\n")
	p("invoice, customer request, link or webhook; SQS receives that returned\n")
	p("nothing are left out — they are the pollers' idle cost):\n\n")
	p("| phase | unit | DynamoDB calls | RRU | WRU | SQS requests | Razorpay calls | log bytes |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
	var costs []phaseCost
	for _, ph := range bu.Phases {
		c := costOf(ph, s, bu.Customers)
		costs = append(costs, c)
		var unit string
		n := float64(ph.Requests)
		switch ph.Name {
		case "customers":
			unit = "customer"
		case "invoices":
			unit, n = "invoice (create + finalize)", float64(s.Invoices)
		case "links":
			unit = "payment link"
		default:
			unit = ph.Name + " webhook"
		}
		rz := "—"
		if ph.RazorpayCalls != nil {
			rz = strconv.FormatFloat(float64(*ph.RazorpayCalls)/n, 'f', 2, 64)
		}
		p("| %s | %s | %.2f | %.2f | %.2f | %.2f | %s | %.0f |\n", ph.Name, unit, c.ddbCalls/n, c.rru/n, c.wru/n, (c.sqsFIFO+c.sqsStd)/n, rz, c.logBytes/n)
	}
	p("\nBy operation (totals of the phase):\n\n")
	for _, ph := range bu.Phases {
		p("<details><summary>%s (%d requests)</summary>\n\n| operation | calls | errors | capacity units | messages |\n|---|---:|---:|---:|---:|\n", ph.Name, ph.Requests)
		for _, k := range sortedKeys(ph.Counts) {
			o := ph.Counts.Ops[k]
			if strings.HasPrefix(k, "Streams.") || (strings.HasPrefix(k, "SQS.ReceiveMessage") && o.Messages == 0) {
				continue
			}
			units := strconv.FormatFloat(o.Units, 'f', 0, 64)
			if o.Local != 0 && o.Local != o.Units {
				units += " (DynamoDB Local: " + strconv.FormatFloat(o.Local, 'f', 0, 64) + ")"
			}
			p("| %s | %d | %d | %s | %d |\n", k, o.Calls-o.Empty, o.Errors, units, o.Messages)
		}
		for k, n := range ph.Counts.ErrorTypes {
			p("\nerror %s: %d\n", k, n)
		}
		p("\n</details>\n\n")
	}

	// 6. cost
	w.begin("cost")
	p("## 6. Paper estimate: AWS cost per million paid invoices\n\n")
	p("A paid invoice, as measured above: its share of a customer (%d invoices per\n", s.PerCustomer)
	p("customer), created and finalized, one payment link, and the two webhooks\n")
	p("Razorpay sends for a link paid in one payment that Razorbill asks the\n")
	p("merchant to enable (`payment.captured`, `payment_link.paid`; the\n")
	p("connection's `webhook_events` leave out `payment.authorized`, whose cost\n")
	p("is shown below for a merchant who ticks it anyway). Counts are the\n")
	p("measured ones; what could not be measured locally is modelled:\n\n")
	p("- **Lambda duration** from the measured calls and assumed AWS latencies:\n")
	p("  DynamoDB %.0f ms per call (%.0f ms per transaction), SQS SendMessage %.0f ms,\n", latDDB, latTransact, latSQSSend)
	p("  a Razorpay call %.0f ms (the functions' calls counted at the simulator),\n", latRazorpay)
	p("  plus %.0f ms per invocation;\n", latOverhead)
	p("  memory as in `infra/cdk` (api 512 MB, the rest 256 MB), arm64. Queue\n")
	p("  consumers are counted one invocation per batch the local poller\n")
	p("  received; the stream relay one per record it forwarded\n")
	p("  (an upper bound; filtered-out records cost nothing). Lambda's FIFO\n")
	p("  pollers may hand over smaller batches than the local one.\n")
	p("- **KMS** (assumed, not metered: locally a key file stands in): a warm\n")
	p("  function decrypts each environment's secret at most once per %d minutes\n", kmsTTLMinutes)
	p("  (`secrets.Cache`, `webhook.TrustCache`). Assumed: one environment whose\n")
	p("  %.0f million paid invoices a month arrive evenly, and each of the %d functions\n", modelInvoicesPerMonth/1e6, kmsOpeners)
	p("  that open a secret on this path (webhook-receiver, payment-link-creator,\n")
	p("  invoice-syncer) kept warm by %d instance: %.4f Decrypts per paid invoice.\n", kmsWarmInstances, kmsPerInvoice())
	p("  It grows with the environments and the warm instances; its upper bound,\n")
	p("  one Decrypt per webhook, link and customer sync (no cache), is %.2f per\n", kmsUncached(costs))
	p("  paid invoice, US$%.2f per million.\n", kmsUncached(costs)*price("kms")*100)
	p("- **Logs**: the bytes the stack logged at info level, plus %.0f bytes of\n", platformLogs)
	p("  Lambda platform lines per invocation.\n")
	p("- A DynamoDB write that failed its condition is charged 1 WRU (DynamoDB Local\n")
	p("  reports no capacity for it); empty SQS receives, DynamoDB storage, PITR\n")
	p("  backups, stream reads by Lambda (free), alarms, data transfer and the\n")
	p("  free tiers are left out; cold starts are rare next to the invocations.\n\n")
	p("Prices assumed (AWS list prices, US East (N. Virginia), as published\n")
	p("2025–2026, DynamoDB on-demand after the November 2024 reduction; not fetched\n")
	p("from AWS — check the pricing pages for your region, Mumbai lists slightly\n")
	p("higher DynamoDB prices):\n\n| item | USD | unit |\n|---|---:|---|\n")
	for _, pr := range prices {
		p("| %s | %s | %s |\n", pr.what, strconv.FormatFloat(pr.usd, 'f', -1, 64), pr.unit)
	}
	var u invoiceUse
	for _, c := range costs {
		if subscribed(c.name) {
			u = u.plus(c.share())
		}
	}
	const M = 1e6
	lines := u.lines(kmsPerInvoice())
	total := 0.0
	for _, l := range lines {
		total += l.usdPM
	}
	p("\n| item | per paid invoice | USD per million paid invoices | share |\n|---|---:|---:|---:|\n")
	for _, l := range lines {
		p("| %s | %s | %.2f | %.0f %% |\n", l.what, l.qty, l.usdPM, 100*l.usdPM/total)
	}
	p("| **total** | | **%.2f** | |\n\n", total)
	p("So roughly **$%.0f per million paid invoices** (%.4f US cents per invoice),\n", total, total/M*100)
	p("before free tiers; goal (issue 17) ≤ US$12: **%s**.\n\n", metOr(total <= 12))
	for _, c := range costs {
		if !subscribed(c.name) {
			p("A merchant who also enables `payment.%s` adds US$%.2f per million\n", c.name, unsubscribedUSD(c))
			p("(its measured DynamoDB, SQS and log figures, Lambda as above).\n\n")
		}
	}
	p("What drives it, for whoever optimises it next:\n\n")
	p("- DynamoDB writes: the money transaction writes its items\n")
	p("  transactionally (2 WRU per KB each), and an item whose index keys change\n")
	p("  is written again to that index (KEYS_ONLY: keys only, about 1 WRU); a\n")
	p("  `payment.captured` costs %.1f WRU (transactions priced from item sizes). Fewer\n", captWRU(costs))
	p("  items per money transaction is the lever there.\n")
	if top, share := topDuration(costs); top != "" {
		p("- Lambda duration: %.0f %% of the modelled GB-s is the %s phase, mostly\n", share, top)
		p("  the payment-link-creator waiting on Razorpay.\n")
	}

	p("- The reconciler writes the connection's `last_webhook_at` at most once a\n")
	p("  minute per connection and warm function while the webhook is HEALTHY.\n")
	return w.done()
}
