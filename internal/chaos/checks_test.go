package chaos_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/schema"
)

// logSink keeps every log line of the run in a file and counts them by
// level and message.
type logSink struct {
	mu    sync.Mutex
	f     *os.File
	w     *bufio.Writer
	msgs  map[string]int
	lines int
}

func newLogSink(path string) (*logSink, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &logSink{f: f, w: bufio.NewWriterSize(f, 1<<20), msgs: map[string]int{}}, nil
}

// Write takes one JSON line (slog writes each record in one call).
func (l *logSink) Write(p []byte) (int, error) {
	var rec struct {
		Msg   string `json:"msg"`
		Level string `json:"level"`
	}
	_ = json.Unmarshal(p, &rec)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines++
	if rec.Msg != "" {
		l.msgs[rec.Level+" "+rec.Msg]++
	}
	return l.w.Write(p)
}

func (l *logSink) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.w.Flush()
	_ = l.f.Close()
}

// queueDepth is a queue's visible + in-flight + delayed messages.
func queueDepth(ctx context.Context, c *sqs.Client, url string) (int, error) {
	a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"} {
		v, _ := strconv.Atoi(a.Attributes[k])
		n += v
	}
	return n, nil
}

// report is what docs/reliability.md shows.
type report struct {
	Command, Date, Machine string
	Cfg                    settings
	Phases                 []phase
	Total                  time.Duration

	Tenants, Customers, Invoices, Foreign int
	Scenarios, EventsByName               []countRow
	Events                                int

	Deliveries, FirstAttempts, SimRetries, Redeliveries int
	Acked, Refused                                      int
	EventsAcked, NeverAcked, GaveUp                     int

	Batches, MsgsHandled, MsgFailures, DistinctHandled, HandledTwice int
	Kills                                                            []string
	AckedNotHandled                                                  int

	Captured, Applied, MarkerCommits, DoubleApplied int
	FailedAttempts, FailuresApplied                 int
	CapturedNotApplied, FailedNotApplied            int
	ParkedRecords, ParkedDistinct, ParkedExpected   int
	ParkedMissing, ParkedUnexpected                 int
	Lost                                            int

	Links, DupLinks, RzCustomers, DupCustomers, DupPayments int
	InvoicesChecked, InvoiceMismatches, StatusMismatches    int
	PaidRupees                                              string
	Mismatches                                              []string

	QueueLeft, DLQ              int
	FaultOps, FaultCounts       []countRow
	FaultsInjected              int
	RzFaultsArmed, RzFaultsUsed int
	SetupRetries                int
	LinkAnswers                 []countRow
	SyncInProgress, NotApplied  int
	SetupFailures               []string
	LogLines                    int
	LogErrors                   []countRow
	Failures                    []string
}

func (r *report) fail(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

func (r *report) mismatch(format string, args ...any) {
	if len(r.Mismatches) < 20 {
		r.Mismatches = append(r.Mismatches, fmt.Sprintf(format, args...))
	}
}

// check compares what Razorpay (the simulator) did with what Razorbill
// recorded, through the store without faults.
func (h *harness) check() *report {
	ctx := h.ctx
	r := &report{Cfg: h.cfg, Tenants: len(h.tenants), Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Machine: machine()}
	r.Command = command()
	scen := map[string]int{}
	byName := map[string]int{}
	var paid int64
	h.cons.mu.Lock()
	handled := h.cons.handled
	r.Batches, r.MsgsHandled, r.MsgFailures, r.Kills = h.cons.batches, h.cons.msgs, h.cons.failures, h.cons.kills
	for _, n := range handled {
		r.DistinctHandled++
		if n > 1 {
			r.HandledTwice++
		}
	}
	h.cons.mu.Unlock()
	h.logs.mu.Lock()
	for k, v := range h.logs.msgs {
		if strings.HasPrefix(k, "ERROR ") {
			r.LogErrors = append(r.LogErrors, countRow{strings.TrimPrefix(k, "ERROR "), v})
		}
	}
	r.LogLines = h.logs.lines
	r.NotApplied = h.logs.msgs["ERROR event not applied; it will be retried"]
	h.logs.mu.Unlock()
	sort.Slice(r.LogErrors, func(i, j int) bool { return r.LogErrors[i].Name < r.LogErrors[j].Name })

	for _, tn := range h.tenants {
		sc := tn.Scope
		r.Customers += len(tn.Customers)
		r.Invoices += len(tn.Invoices)
		r.Foreign += len(tn.Foreign)
		// Razorpay's side.
		evs := h.sim.Events(tn.Acct.KeyID)
		ourEvent := map[string]bool{}
		expectParked := map[string]bool{}
		for _, e := range evs {
			r.Events++
			byName[e.Name]++
			if e.GaveUp {
				r.GaveUp++
			}
			if !e.Delivered {
				r.NeverAcked++
				r.mismatch("event %s (%s) was never acknowledged", e.ID, e.Name)
			}
			ev, err := razorpay.ParseEvent(e.Body)
			if err != nil {
				r.fail("the simulator emitted an event we cannot parse: %v", err)
				continue
			}
			ours := ev.Payment != nil && ev.Payment.Notes["razorbill_invoice_id"] != ""
			ourEvent[e.ID] = ours
			switch e.Name {
			case "payment.authorized", "payment.captured", "payment.failed", "payment_link.paid", "payment_link.partially_paid":
				if !ours {
					expectParked[e.ID] = true
				}
			}
		}
		acked := map[string]bool{}
		for _, d := range h.sim.Deliveries(tn.Acct.KeyID) {
			r.Deliveries++
			if d.Manual {
				r.Redeliveries++
			}
			if d.OK() {
				r.Acked++
				acked[d.EventID] = true
			} else {
				r.Refused++
			}
		}
		r.EventsAcked += len(acked)
		for id := range acked {
			if handled[id] == 0 {
				r.AckedNotHandled++
				r.mismatch("event %s was acknowledged but no consumer handled it", id)
			}
		}
		obj := h.sim.Objects(tn.Acct.KeyID)
		captured := map[string]int64{} // our invoice → sum of its captured payments
		var failed []razorpay.Payment
		for _, raw := range obj.Payments {
			var p razorpay.Payment
			if err := json.Unmarshal(raw, &p); err != nil {
				h.t.Fatal(err)
			}
			inv := p.Notes["razorbill_invoice_id"]
			if inv == "" {
				continue // a foreign link's payment
			}
			switch p.Status {
			case "captured":
				r.Captured++
				captured[inv] += money.FromRazorpay(p.Amount)
				m, ok, err := h.store.Applied(ctx, sc, p.ID)
				switch {
				case err != nil:
					h.t.Fatal(err)
				case !ok:
					r.CapturedNotApplied++
					r.mismatch("captured payment %s (invoice %s) has no applied marker", p.ID, inv)
				case m.InvoiceID != inv || m.Amount != money.FromRazorpay(p.Amount):
					r.mismatch("captured payment %s: marker says invoice %s amount %d, Razorpay says %s %d", p.ID, m.InvoiceID, m.Amount, inv, p.Amount)
					r.InvoiceMismatches++
				default:
					r.Applied++
				}
				n := h.f.commitsOf("S#" + sc.TenantID + "#" + sc.EnvironmentID + "#APPLIED#" + p.ID)
				r.MarkerCommits += n
				if n > 1 {
					r.DoubleApplied++
					r.mismatch("captured payment %s was applied %d times", p.ID, n)
				}
			case "failed":
				failed = append(failed, p)
			}
		}
		for _, p := range failed {
			r.FailedAttempts++
			r.MarkerCommits += h.f.commitsOf("S#" + sc.TenantID + "#" + sc.EnvironmentID + "#APPLIED#failed:" + p.ID)
			if _, ok, err := h.store.Applied(ctx, sc, "failed:"+p.ID); err != nil {
				h.t.Fatal(err)
			} else if ok {
				r.FailuresApplied++
			} else {
				r.FailedNotApplied++
				r.mismatch("failed payment %s was never recorded", p.ID)
			}
		}
		// No duplicate objects at Razorpay.
		refs, invLinks := map[string]int{}, map[string]int{}
		for _, raw := range obj.PaymentLinks {
			var l razorpay.PaymentLink
			if err := json.Unmarshal(raw, &l); err != nil {
				h.t.Fatal(err)
			}
			r.Links++
			refs[l.ReferenceID]++
			if id := l.Notes["razorbill_invoice_id"]; id != "" {
				invLinks[id]++
			}
		}
		for _, m := range []map[string]int{refs, invLinks} {
			for k, n := range m {
				if n > 1 {
					r.DupLinks += n - 1
					r.mismatch("%d payment links for %s", n, k)
				}
			}
		}
		who := map[string]int{}
		for _, raw := range obj.Customers {
			var c razorpay.Customer
			if err := json.Unmarshal(raw, &c); err != nil {
				h.t.Fatal(err)
			}
			r.RzCustomers++
			who[c.Email+"|"+c.Contact]++
		}
		for k, n := range who {
			if n > 1 {
				r.DupCustomers += n - 1
				r.mismatch("%d Razorpay customers for %s", n, k)
			}
		}
		// Razorbill's ledger: amount_paid = the sum of the invoice's
		// distinct captured payments, status to match, one payment each.
		for _, want := range tn.Invoices {
			scen[want.Scenario]++
			r.InvoicesChecked++
			inv, err := h.store.Invoice(ctx, sc, want.ID)
			if err != nil {
				h.t.Fatal(err)
			}
			exp := captured[want.ID]
			paid += inv.AmountPaid
			if inv.AmountPaid != exp {
				r.InvoiceMismatches++
				r.mismatch("invoice %s (%s): amount_paid %d, captured at Razorpay %d", inv.ID, want.Scenario, inv.AmountPaid, exp)
			}
			wantStatus := billing.PaymentPending
			if exp >= inv.AmountDue {
				wantStatus = billing.PaymentSucceeded
			}
			if inv.PaymentStatus != wantStatus {
				r.StatusMismatches++
				r.mismatch("invoice %s (%s): payment_status %s, want %s", inv.ID, want.Scenario, inv.PaymentStatus, wantStatus)
			}
			if want.PaymentID != "" {
				p, err := h.store.Payment(ctx, sc, want.PaymentID)
				if err != nil {
					h.t.Fatal(err)
				}
				ps := billing.PaymentSucceeded
				if want.Scenario == scFail {
					ps = billing.PaymentFailed
				}
				if p.PaymentStatus != ps || p.AmountReceived != exp {
					r.StatusMismatches++
					r.mismatch("payment %s (%s): %s with %d received, want %s with %d", p.ID, want.Scenario, p.PaymentStatus, p.AmountReceived, ps, exp)
				}
			}
			page, err := h.store.ListPayments(ctx, sc, want.ID, billing.ListOptions{Limit: 10})
			if err != nil {
				h.t.Fatal(err)
			}
			if len(page.Data) > 1 {
				r.DupPayments += len(page.Data) - 1
				r.mismatch("invoice %s has %d Razorbill payments", want.ID, len(page.Data))
			}
		}
		// Parked events: every foreign event with money or a payment in
		// it, and nothing of ours.
		parked := map[string]bool{}
		after := ""
		for {
			page, err := h.store.ListGatewayEvents(ctx, sc, billing.GatewayEventUnmatched, billing.ListOptions{Limit: 100, StartingAfter: after})
			if err != nil {
				h.t.Fatal(err)
			}
			for _, e := range page.Data {
				r.ParkedRecords++
				parked[e.EventID] = true
				after = e.ID
			}
			if !page.HasMore || len(page.Data) == 0 {
				break
			}
		}
		r.ParkedDistinct += len(parked)
		r.ParkedExpected += len(expectParked)
		for id := range expectParked {
			if !parked[id] {
				r.ParkedMissing++
				r.mismatch("event %s matches nothing but was not parked", id)
			}
		}
		for id := range parked {
			if ourEvent[id] {
				r.ParkedUnexpected++
				r.mismatch("event %s of a Razorbill payment was parked", id)
			}
		}
	}
	r.FirstAttempts = r.Events
	r.SimRetries = r.Deliveries - r.Redeliveries - r.FirstAttempts
	r.Scenarios = sortedCounts(scen)
	r.Scenarios = append(r.Scenarios, countRow{"(links of another system: a third failed, then paid)", r.Foreign})
	h.setupMu.Lock()
	r.LinkAnswers = sortedCounts(h.linkAnswers)
	r.SyncInProgress = h.linkAnswers["503 sync_in_progress"]
	h.setupMu.Unlock()
	r.EventsByName = sortedCounts(byName)
	r.PaidRupees = money.Format(paid, money.MustCurrency("INR"))
	r.Lost = r.NeverAcked + r.AckedNotHandled + r.CapturedNotApplied + r.FailedNotApplied + r.ParkedMissing
	var err error
	if r.QueueLeft, err = queueDepth(ctx, h.deps.SQS, h.env.QueueURL(schema.RazorpayEvents)); err != nil {
		h.t.Fatal(err)
	}
	if r.DLQ, err = queueDepth(ctx, h.deps.SQS, h.env.DLQURL(schema.RazorpayEvents)); err != nil {
		h.t.Fatal(err)
	}
	r.FaultOps, r.FaultCounts = h.f.snapshot()
	for _, c := range r.FaultCounts {
		if !strings.HasPrefix(c.Name, "razorpay:") {
			r.FaultsInjected += c.Count
		}
	}
	r.RzFaultsArmed = h.rzFaultsArmed
	r.RzFaultsUsed = h.rzFaultsArmed - h.rzFaultsLeft
	r.SetupRetries = int(h.setupRetries.Load())
	r.SetupFailures = h.setupFailures

	if r.Lost > 0 {
		r.fail("%d events lost", r.Lost)
	}
	if r.DoubleApplied > 0 {
		r.fail("%d payments applied more than once", r.DoubleApplied)
	}
	if r.DupLinks+r.DupCustomers+r.DupPayments > 0 {
		r.fail("duplicate objects: %d payment links, %d Razorpay customers, %d Razorbill payments", r.DupLinks, r.DupCustomers, r.DupPayments)
	}
	if r.InvoiceMismatches+r.StatusMismatches > 0 {
		r.fail("%d invoices whose amount_paid is not the sum of their captured payments, %d status mismatches", r.InvoiceMismatches, r.StatusMismatches)
	}
	if r.ParkedUnexpected > 0 {
		r.fail("%d events of Razorbill payments were parked", r.ParkedUnexpected)
	}
	if r.DLQ > 0 || r.QueueLeft > 0 {
		r.fail("%d messages left in the events queue, %d in its DLQ", r.QueueLeft, r.DLQ)
	}
	if len(r.Kills) < h.cfg.Kills {
		r.fail("only %d of %d consumer kills happened", len(r.Kills), h.cfg.Kills)
	}
	if len(r.SetupFailures) > 0 {
		r.fail("%d payment links could not be created", len(r.SetupFailures))
	}
	return r
}

func (h *harness) assert(r *report) {
	for _, f := range r.Failures {
		h.t.Error(f)
	}
	for _, m := range r.Mismatches {
		h.t.Log(m)
	}
}

func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	if model == "" {
		model = runtime.GOARCH
	}
	return fmt.Sprintf("%d CPUs (%s), %s/%s, %s", runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// command is how to repeat this run: make chaos with the settings that
// differ from the defaults.
func command() string {
	var env []string
	for _, name := range []string{"RAZORBILL_CHAOS_INVOICES", "RAZORBILL_CHAOS_TENANTS", "RAZORBILL_CHAOS_DUPLICATES", "RAZORBILL_CHAOS_FAULTS", "RAZORBILL_CHAOS_KILLS", "RAZORBILL_CHAOS_SEED"} {
		if v := os.Getenv(name); v != "" {
			env = append(env, name+"="+v)
		}
	}
	return strings.TrimSpace(strings.Join(env, " ") + " make chaos")
}

func (h *harness) writeReport(r *report) {
	var b strings.Builder
	if err := reportTmpl.Execute(&b, r); err != nil {
		h.t.Fatal(err)
	}
	h.t.Log("\n" + b.String())
	if h.cfg.Report == "-" {
		return
	}
	if err := os.WriteFile(h.cfg.Report, []byte(b.String()), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

var reportTmpl = template.Must(template.New("r").Funcs(template.FuncMap{
	"pct": func(a, b int) string {
		if b == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f %%", float64(a)*100/float64(b))
	},
	"f100": func(f float64) string { return fmt.Sprintf("%.0f %%", f*100) },
	"dur":  func(d time.Duration) string { return d.Round(time.Second).String() },
}).Parse(`# Reliability: the chaos run

Razorbill's promise is that every captured payment lands on its invoice exactly
once, nothing is lost and nothing is duplicated at Razorpay. The chaos run
(` + "`internal/chaos`" + `, issue 10) checks that promise under duplicates, shuffled
order and injected faults, through the real handlers, DynamoDB Local and the
SQS emulator, on loopback only. This file is written by the run itself.

    {{.Command}}

runs ` + "`RAZORBILL_CHAOS=1 go test -run TestChaos ./internal/chaos/`" + ` under the
emulators. Scale and rates come from ` + "`RAZORBILL_CHAOS_INVOICES`" + ` (2000),
` + "`_TENANTS`" + ` (2), ` + "`_DUPLICATES`" + ` (0.30), ` + "`_FAULTS`" + ` (0.05), ` + "`_KILLS`" + ` (6) and
` + "`_SEED`" + `; ` + "`make test`" + ` skips it.

## Last run

{{.Date}} on {{.Machine}}; {{dur .Total}} in all. Seed {{.Cfg.Seed}}
(it replays the run's own choices; the simulator's shuffle and the timing
are not replayed).

| scale | |
|---|---|
| tenants (each its own Razorpay account) | {{.Tenants}} |
| customers | {{.Customers}} |
| invoices (INR, ₹100.00–₹99,999.99) | {{.Invoices}} |
| payment links at Razorpay made by other systems | {{.Foreign}} |
| webhook events emitted by the simulator | {{.Events}} |
| duplicate rate / fault rate | {{f100 .Cfg.DupRate}} / {{f100 .Cfg.FaultRate}} |
| consumer kills (mid-batch) | {{len .Kills}} |

| result | | |
|---|---|---|
| **events delivered** (webhook POSTs) | {{.Deliveries}} | {{.FirstAttempts}} first attempts, {{.Redeliveries}} duplicate redeliveries ({{pct .Redeliveries .FirstAttempts}} of events), {{.SimRetries}} Razorpay retries after a refusal |
| **acked** (2xx) | {{.Acked}} | {{.Refused}} refused (503 after an injected fault) and retried; {{.EventsAcked}} of {{.Events}} events acknowledged at least once |
| **applied** (captured payments counted) | {{.Applied}} of {{.Captured}} | plus {{.FailuresApplied}} of {{.FailedAttempts}} failed attempts recorded; ₹{{.PaidRupees}} paid in all |
| **parked** (UNMATCHED, visible, retryable) | {{.ParkedDistinct}} events | {{.ParkedExpected}} expected (the other systems' links), {{.ParkedRecords}} records, {{.ParkedUnexpected}} of Razorbill's |
| **lost** | **{{.Lost}}** | never acked {{.NeverAcked}}, acked but never handled {{.AckedNotHandled}}, captured but not applied {{.CapturedNotApplied}}, failure not recorded {{.FailedNotApplied}}, unmatched but not parked {{.ParkedMissing}} |
| **double-applied** | **{{.DoubleApplied}}** | {{.MarkerCommits}} committed money transactions for {{.Captured}} captured payments and {{.FailedAttempts}} failed attempts |
| **duplicate Razorpay objects** | **{{.DupLinks}}** links, **{{.DupCustomers}}** customers | {{.Links}} payment links and {{.RzCustomers}} customers at Razorpay; {{.DupPayments}} invoices with a second Razorbill payment |
| **amount_paid = sum of distinct captured payments** | {{.InvoiceMismatches}} mismatches in {{.InvoicesChecked}} invoices | {{.StatusMismatches}} payment/invoice status mismatches |
| events queue / DLQ at the end | {{.QueueLeft}} / {{.DLQ}} | |

{{if .Failures}}**The run failed:**
{{range .Failures}}
- {{.}}{{end}}
{{if .Mismatches}}
First differences:
{{range .Mismatches}}
- {{.}}{{end}}
{{end}}{{else}}Every check passed.{{end}}
{{if or .SyncInProgress .MsgFailures}}
### Observations (not invariant violations)
{{if .SyncInProgress}}
- {{.SyncInProgress}} payment-link requests were answered 503 ` + "`sync_in_progress`" + `. When a
  DynamoDB write of an on-demand customer sync fails after the sync took its
  lease (or the write succeeds and its answer is lost), nothing releases the
  lease: link requests for that customer are refused until it expires
  (` + "`rzsync`" + `'s default lease, 60 s). No duplicate customer results — the retry
  finds the Razorpay customer by email and contact — but that customer cannot
  get a payment link for up to a minute.{{end}}
{{if .MsgFailures}}
- {{.NotApplied}} messages failed in the reconciler, and {{.MsgFailures}} were returned
  as batch item failures: after one failure the reconciler returns the rest of
  the batch as failed to keep FIFO order, including messages of other groups,
  which only needs to hold for the failed message's group. They are retried
  (and each receive counts towards the queue's maxReceiveCount of 8);
  {{if .DLQ}}{{.DLQ}} reached the DLQ in this run.{{else}}none reached the DLQ in this run.{{end}}{{end}}
{{end}}
### Phases

| phase | took |
|---|---|
{{range .Phases}}| {{.Name}} | {{dur .Took}} |
{{end}}
### Scenarios (per invoice, at the simulator's checkout)

| scenario | invoices |
|---|---|
{{range .Scenarios}}| {{.Name}} | {{.Count}} |
{{end}}
### Events emitted

| event | count |
|---|---|
{{range .EventsByName}}| {{.Name}} | {{.Count}} |
{{end}}
### Consumers

{{.Batches}} batches; {{.MsgsHandled}} messages handled without error ({{.DistinctHandled}} distinct events,
{{.HandledTwice}} of them handled more than once: duplicates that got past the queue's
deduplication, redeliveries after a kill or a failure, two consumers on one group),
{{.MsgFailures}} returned as batch item failures and retried. Kills:
{{range .Kills}}
- {{.}}{{end}}

### Faults injected

| fault | count |
|---|---|
{{range .FaultCounts}}| {{.Name}} | {{.Count}} |
{{end}}
Razorpay faults: {{.RzFaultsArmed}} armed, {{.RzFaultsUsed}} hit a call. Calls seen
while faults were on:

| operation | calls |
|---|---|
{{range .FaultOps}}| {{.Name}} | {{.Count}} |
{{end}}
Answers to ` + "`POST /api/v1/payments`" + ` during set-up ({{.SetupRetries}} requests repeated by the client):

| answer | count |
|---|---|
{{range .LinkAnswers}}| {{.Name}} | {{.Count}} |
{{end}}
{{if .LogErrors}}
Error lines logged ({{.LogLines}} log lines in all):

| message | count |
|---|---|
{{range .LogErrors}}| {{.Name}} | {{.Count}} |
{{end}}{{end}}
## How the run works

1. **Set-up.** {{.Tenants}} tenants are created through the API, each connected to
   its own simulator account (so their webhooks are delivered in parallel).
   Customers and finalized invoices are created through the API without
   faults. Then every invoice asks the payment-link creator for a link while
   faults are on: before each request, with the fault rate, the simulator is
   armed with one Razorpay fault (500, an HTML 502, 429, a timeout that hangs
   until our client gives up after 1.5 s, a crash after the link was created,
   a dropped connection) on the link or customer endpoint, and the payment
   path's DynamoDB calls fail as below. The client retries 503s and follows
   409 ` + "`payment_link_exists`" + ` to the payment it names, as a caller would.
2. **Checkout.** With each account's webhooks held, every link is paid at the
   simulator (85 %), failed and then paid on the same link (10 %) or only
   failed (5 %); a few links made at Razorpay by "another system" are paid
   too. Paying emits ` + "`payment.authorized`, `payment.captured`, `order.paid`, `payment_link.paid`" + `;
   two of them carry the same money.
3. **Delivery.** The held events are released in shuffled order; a random
   {{f100 .Cfg.DupRate}} of them are delivered a second time (the simulator's
   Redeliver) at random moments during the release. Faults are on: the
   receiver's SQS sends fail (half refused, half queued with the answer lost)
   and every DynamoDB call of the receiver, the reconciler and the
   payment-link creator can fail (throttling, ProvisionedThroughputExceeded,
   a 500 before the call; a 500 after a PutItem or a committed transaction;
   a TransactionConflict cancellation; a racing writer that moves the
   invoice's version just before the transaction, so the condition fails for
   real). Two reconciler consumers poll the FIFO queue at once (4 s
   visibility); at {{len .Kills}} points a consumer applies half of its batch and
   dies before deleting anything, and a new one starts a second later.
   Razorpay retries refused deliveries (12 retries over ~90 s here; Razorpay
   spreads them over 24 h).
4. **Checks,** once the simulator has nothing pending and the queue is empty:
   every event was acknowledged; every acknowledged event was handled by a
   consumer (applied, ignored as it carries nothing to apply, or parked);
   every captured payment of a Razorbill link has its applied marker with
   the right invoice and amount, and its money was counted once (the faulty
   DynamoDB client counts the committed transactions that write each
   marker, which are the ones that add to the invoice); every failed
   attempt was recorded; every event of the other system's links was parked and none of Razorbill's;
   Razorpay holds one link per payment and per invoice and one customer per
   email+contact; every invoice's ` + "`amount_paid`" + ` equals the sum of its distinct
   captured payments at Razorpay and its status matches; each invoice has one
   Razorbill payment; nothing is left in the queue or its DLQ.

Not covered here: the stream relay and the syncers (invoice outbound sync is
off; customers are synced on demand by the payment-link creator), refunds,
and real AWS (the SDK's own retries of throttling sit below the injected
faults, so every injected fault reaches Razorbill's code).
`))
