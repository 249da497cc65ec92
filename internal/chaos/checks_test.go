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
	Replays                                             int // manual deliveries of the webhook-less tenants' events at the end
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

	Links, DupLinks, RzCustomers, DupCustomers             int
	RzInvoices, DupRzInvoices, RbPayments                  int
	InvoicesChecked, InvoiceMismatches, StatusMismatches   int
	PaidRupees, RefundedRupees                             string
	Mismatches, Observed                                   []string
	ParkedCaptures, PaidTwice, TwoPayable, VoidedWithMoney int

	// Refunds: Razorpay's refunds, Razorbill's records and the checks.
	RzRefunds, RzRefundsProcessed, RefundsUnknown, RefundsSentTwice int
	RefundRecords, RefundParts, PendingRefunds, StuckReservations   int
	RefundMismatches                                                int
	refundStatus, settledBy                                         map[string]int
	RefundStatuses, SettledBy, FirstStatus                          []countRow

	// The webhook-less tenants (pull_test.go).
	Pull                                []pullTenant
	PullUnsent, PullSwept, PullNotSwept int

	// The lifecycle phase.
	Lifecycle, RefundPlans, RefundAnswers, RefundFaults    []countRow
	RefundRequests, RefundRetries, RefundRepeats           int
	RefundOtherID, RefundFaultsLeft, Lookups, PendingAfter int
	PaidAfterCancel                                        int
	RefundGrace                                            time.Duration

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

// observe notes something the run saw that is not a violation (at most 20).
func (r *report) observe(format string, args ...any) {
	if len(r.Observed) < 20 {
		r.Observed = append(r.Observed, fmt.Sprintf(format, args...))
	}
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
	r := &report{Cfg: h.cfg, Tenants: len(h.tenants), refundStatus: map[string]int{}, settledBy: map[string]int{}, Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Machine: machine()}
	r.Command = command()
	scen := map[string]int{}
	byName := map[string]int{}
	var paid, refunded int64
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
		w := h.razorpaySide(tn, r)
		// Razorpay's side.
		evs := h.sim.Events(tn.Acct.KeyID)
		ourEvent := map[string]bool{}
		eventPayment := map[string]string{}
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
			ours := w.eventInvoice(ev) != ""
			ourEvent[e.ID] = ours
			if ev.Payment != nil {
				eventPayment[e.ID] = ev.Payment.ID
			}
			switch e.Name {
			case "payment.authorized", "payment.captured", "payment.failed", "payment_link.paid", "payment_link.partially_paid":
				if !ours {
					expectParked[e.ID] = true
				}
			}
		}
		acked := map[string]bool{}
		auto := map[string]bool{} // events Razorpay sent by itself (a disabled webhook sends nothing)
		for _, d := range h.sim.Deliveries(tn.Acct.KeyID) {
			r.Deliveries++
			switch {
			case d.Manual && tn.Pull != nil:
				r.Replays++
			case d.Manual:
				r.Redeliveries++
			default:
				auto[d.EventID] = true
			}
			if d.OK() {
				r.Acked++
				acked[d.EventID] = true
			} else {
				r.Refused++
			}
		}
		r.EventsAcked += len(acked)
		r.FirstAttempts += len(auto)
		for id := range acked {
			if handled[id] == 0 {
				r.AckedNotHandled++
				r.mismatch("event %s was acknowledged but no consumer handled it", id)
			}
		}
		// Parked events (UNMATCHED), by event and by Razorpay payment.
		parked := map[string]bool{}
		parkedPayment := map[string]string{} // Razorpay payment → the reason it was parked
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
				if ev, err := razorpay.ParseEvent([]byte(e.Body)); err == nil && ev.Payment != nil && e.Reason != "" {
					parkedPayment[ev.Payment.ID] = e.Reason
				}
			}
			if !page.HasMore || len(page.Data) == 0 {
				break
			}
		}
		// Every capture of ours is applied once, or parked with a reason.
		applied := map[string]int64{}      // our invoice → applied captures
		appliedInstr := map[string]int64{} // instrument → applied captures
		parkedCapture := map[string]bool{}
		var failed []razorpay.Payment
		for _, p := range w.payments {
			inv := w.paymentInvoice(p)
			if inv == "" {
				continue // a foreign link's payment
			}
			switch p.Status {
			case "captured", "refunded":
				r.Captured++
				amt := money.FromRazorpay(p.Amount)
				m, ok, err := h.store.Applied(ctx, sc, p.ID)
				switch {
				case err != nil:
					h.t.Fatal(err)
				case !ok && parkedPayment[p.ID] != "":
					r.ParkedCaptures++
					parkedCapture[p.ID] = true
					r.observe("captured payment %s (invoice %s) parked: %s", p.ID, inv, parkedPayment[p.ID])
				case !ok:
					r.CapturedNotApplied++
					r.mismatch("captured payment %s (invoice %s) has no applied marker and was not parked", p.ID, inv)
				case m.InvoiceID != inv || m.Amount != amt:
					r.mismatch("captured payment %s: marker says invoice %s amount %d, Razorpay says %s %d", p.ID, m.InvoiceID, m.Amount, inv, p.Amount)
					r.InvoiceMismatches++
				default:
					r.Applied++
					applied[inv] += amt
					appliedInstr[w.paymentInstrument(p)] += amt
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
		// Refunds at Razorpay: each (refund, part) sent at most once; each
		// processed refund counted once.
		refundedInv := map[string]int64{}   // our invoice → processed refunds at Razorpay
		refundedInstr := map[string]int64{} // instrument → processed refunds at Razorpay
		rzByPart := map[string]razorpay.Refund{}
		for _, rf := range w.refunds {
			r.RzRefunds++
			key := rf.Notes["razorbill_refund_part"]
			if key == "" {
				r.RefundsUnknown++
				r.mismatch("Razorpay refund %s of payment %s carries no razorbill_refund_part", rf.ID, rf.PaymentID)
				continue
			}
			if _, dup := rzByPart[key]; dup {
				r.RefundsSentTwice++
				r.mismatch("refund part %s was sent to Razorpay twice (%s and %s)", key, rzByPart[key].ID, rf.ID)
			}
			rzByPart[key] = rf
			if rf.Status == "processed" {
				r.RzRefundsProcessed++
				amt := money.FromRazorpay(rf.Amount)
				p := w.paymentByID[rf.PaymentID]
				refundedInv[w.paymentInvoice(p)] += amt
				refundedInstr[w.paymentInstrument(p)] += amt
				refunded += amt
			}
			n := h.f.commitsOf("S#" + sc.TenantID + "#" + sc.EnvironmentID + "#APPLIED#refund:" + rf.ID)
			if n > 1 {
				r.DoubleApplied++
				r.mismatch("refund %s was counted %d times", rf.ID, n)
			}
		}
		// No invoice paid through two instruments, none with two a
		// customer can still pay.
		for inv, ins := range w.paidThrough {
			if len(ins) > 1 {
				r.PaidTwice++
				r.mismatch("invoice %s was paid through %d instruments", inv, len(ins))
			}
		}
		for inv, n := range w.payable {
			if n > 1 {
				r.TwoPayable++
				r.mismatch("invoice %s has %d instruments a customer can still pay", inv, n)
			}
		}
		// Razorbill's ledger.
		for _, want := range tn.Invoices {
			scen[want.Scenario]++
			r.InvoicesChecked++
			inv, err := h.store.Invoice(ctx, sc, want.ID)
			if err != nil {
				h.t.Fatal(err)
			}
			exp := applied[want.ID]
			paid += inv.AmountPaid
			if inv.AmountPaid != exp {
				r.InvoiceMismatches++
				r.mismatch("invoice %s (%s): amount_paid %d, applied captures at Razorpay %d", inv.ID, want.Scenario, inv.AmountPaid, exp)
			}
			if inv.AmountRefunded != refundedInv[want.ID] {
				r.RefundMismatches++
				r.mismatch("invoice %s (%s): amount_refunded %d, processed refunds at Razorpay %d", inv.ID, want.Scenario, inv.AmountRefunded, refundedInv[want.ID])
			}
			if ws := invoiceStatusFor(exp, refundedInv[want.ID], inv.AmountDue); inv.PaymentStatus != ws {
				r.StatusMismatches++
				r.mismatch("invoice %s (%s): payment_status %s, want %s", inv.ID, want.Scenario, inv.PaymentStatus, ws)
			}
			voided := h.life != nil && h.life.voided[want.ID]
			if (inv.InvoiceStatus == billing.InvoiceVoided) != voided {
				r.StatusMismatches++
				r.mismatch("invoice %s (%s): status %s, void answered 200: %v", inv.ID, want.Scenario, inv.InvoiceStatus, voided)
			}
			if inv.InvoiceStatus == billing.InvoiceVoided && inv.AmountPaid > 0 {
				r.VoidedWithMoney++
				r.mismatch("voided invoice %s has %d paid", inv.ID, inv.AmountPaid)
			}
			page, err := h.store.ListPayments(ctx, sc, want.ID, billing.ListOptions{Limit: 10})
			if err != nil {
				h.t.Fatal(err)
			}
			r.RbPayments += len(page.Data)
			sharing := map[string]int{}
			for _, p := range page.Data {
				sharing[p.GatewayTrackingID]++
			}
			for _, p := range page.Data {
				h.checkPayment(r, sc, want, p, sharing[p.GatewayTrackingID], appliedInstr[p.GatewayTrackingID], refundedInstr[p.GatewayTrackingID], rzByPart)
			}
		}
		// Parked events: every foreign event with money or a payment in
		// it, and nothing of ours but captures parked with a reason.
		r.ParkedDistinct += len(parked)
		r.ParkedExpected += len(expectParked)
		for id := range expectParked {
			if !parked[id] {
				r.ParkedMissing++
				r.mismatch("event %s matches nothing but was not parked", id)
			}
		}
		for id := range parked {
			if ourEvent[id] && !parkedCapture[eventPayment[id]] {
				r.ParkedUnexpected++
				r.mismatch("event %s of a Razorbill payment was parked", id)
			}
		}
	}
	r.SimRetries = r.Deliveries - r.Redeliveries - r.Replays - r.FirstAttempts
	r.Scenarios = sortedCounts(scen)
	r.Scenarios = append(r.Scenarios, countRow{"(links of another system: a third failed, then paid)", r.Foreign})
	h.setupMu.Lock()
	r.LinkAnswers = sortedCounts(h.linkAnswers)
	r.SyncInProgress = h.linkAnswers["503 sync_in_progress"]
	h.setupMu.Unlock()
	r.EventsByName = sortedCounts(byName)
	r.PaidRupees = money.Format(paid, money.MustCurrency("INR"))
	r.RefundedRupees = money.Format(refunded, money.MustCurrency("INR"))
	r.RefundStatuses, r.SettledBy = sortedCounts(r.refundStatus), sortedCounts(r.settledBy)
	r.RefundGrace = h.cfg.RefundGrace
	if l := h.life; l != nil {
		r.Lifecycle, r.RefundPlans, r.RefundAnswers, r.RefundFaults = sortedCounts(l.answers), sortedCounts(l.refundPlans), sortedCounts(l.refundAnswers), sortedCounts(l.faultsArmed)
		r.RefundRequests, r.RefundRetries, r.RefundRepeats, r.RefundOtherID = l.refundRequests, l.refundRetries, l.refundRepeats, l.refundOtherID
		r.RefundFaultsLeft, r.Lookups, r.PendingAfter, r.PaidAfterCancel = l.faultsLeft, l.lookups, l.pendingAfter, l.paidAfterCancel
		r.FirstStatus = sortedCounts(l.firstStatus)
	}
	h.checkPull(r)
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
	if r.DupLinks+r.DupCustomers+r.DupRzInvoices > 0 {
		r.fail("duplicate objects: %d payment links, %d Razorpay customers, %d Razorpay invoices", r.DupLinks, r.DupCustomers, r.DupRzInvoices)
	}
	if r.InvoiceMismatches+r.StatusMismatches > 0 {
		r.fail("%d invoices or payments whose amount paid is not the sum of their applied captures, %d status mismatches", r.InvoiceMismatches, r.StatusMismatches)
	}
	if r.RefundsSentTwice+r.RefundsUnknown > 0 {
		r.fail("%d refund parts sent to Razorpay twice, %d Razorpay refunds of our payments without a part key", r.RefundsSentTwice, r.RefundsUnknown)
	}
	if r.PaidTwice+r.TwoPayable+r.VoidedWithMoney+r.PaidAfterCancel > 0 {
		r.fail("%d invoices paid through two instruments, %d with two payable instruments, %d voided with money applied, %d links paid after their cancel", r.PaidTwice, r.TwoPayable, r.VoidedWithMoney, r.PaidAfterCancel)
	}
	if r.PendingRefunds+r.StuckReservations > 0 {
		r.fail("%d refunds still PENDING and %d payments with a refund reservation after settlement", r.PendingRefunds, r.StuckReservations)
	}
	if r.RefundMismatches > 0 {
		r.fail("%d refund amounts or parts that differ from Razorpay's processed refunds", r.RefundMismatches)
	}
	if r.RefundOtherID > 0 {
		r.fail("%d refund requests repeated with the same Idempotency-Key named another refund", r.RefundOtherID)
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
once, nothing is lost and nothing is duplicated at Razorpay, an invoice is
never paid through two instruments and no refund is sent twice. The chaos run
(` + "`internal/chaos`" + `, issues 10 and 13) checks that promise under duplicates, shuffled
order and injected faults, through the real handlers, DynamoDB Local and the
SQS emulator, on loopback only. This file is written by the run itself.

    {{.Command}}

runs ` + "`RAZORBILL_CHAOS=1 go test -run TestChaos ./internal/chaos/`" + ` under the
emulators. Scale and rates come from ` + "`RAZORBILL_CHAOS_INVOICES`" + ` (2000),
` + "`_TENANTS`" + ` (2), ` + "`_DUPLICATES`" + ` (0.30), ` + "`_FAULTS`" + ` (0.05), ` + "`_KILLS`" + ` (6) and
` + "`_SEED`" + `; ` + "`make test`" + ` runs the same phases and checks on 24 invoices
with a fixed seed and writes no report.

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
| **events delivered** (webhook POSTs) | {{.Deliveries}} | {{.FirstAttempts}} first attempts, {{.Redeliveries}} duplicate redeliveries ({{pct .Redeliveries .FirstAttempts}} of events), {{.SimRetries}} Razorpay retries after a refusal, {{.Replays}} replays of the webhook-less tenants' events at the end |
| **acked** (2xx) | {{.Acked}} | {{.Refused}} refused (503 after an injected fault) and retried; {{.EventsAcked}} of {{.Events}} events acknowledged at least once |
| **applied** (captured payments counted) | {{.Applied}} of {{.Captured}} | {{.ParkedCaptures}} parked with a reason; plus {{.FailuresApplied}} of {{.FailedAttempts}} failed attempts recorded; ₹{{.PaidRupees}} paid in all |
| **parked** (UNMATCHED, visible, retryable) | {{.ParkedDistinct}} events | {{.ParkedExpected}} expected (the other systems' links), {{.ParkedRecords}} records, {{.ParkedUnexpected}} of Razorbill's not explained by a parked capture |
| **lost** | **{{.Lost}}** | never acked {{.NeverAcked}}, acked but never handled {{.AckedNotHandled}}, captured but not applied {{.CapturedNotApplied}}, failure not recorded {{.FailedNotApplied}}, unmatched but not parked {{.ParkedMissing}} |
| **double-applied** | **{{.DoubleApplied}}** | {{.MarkerCommits}} committed money transactions for {{.Captured}} captured payments and {{.FailedAttempts}} failed attempts; no processed refund counted twice |
| **refunds sent twice** (Razorpay refunds per refund part) | **{{.RefundsSentTwice}}** | {{.RzRefunds}} Razorpay refunds ({{.RzRefundsProcessed}} processed, ₹{{.RefundedRupees}}) for {{.RefundParts}} parts of {{.RefundRecords}} Razorbill refunds; {{.RefundsUnknown}} without a part key |
| **invoices paid through two instruments** | **{{.PaidTwice}}** | {{.TwoPayable}} invoices with two instruments a customer could still pay; {{.VoidedWithMoney}} voided invoices with money applied; {{.PaidAfterCancel}} links paid after their cancel |
| **refund reservations stuck** | **{{.StuckReservations}}** | {{.PendingRefunds}} refunds still PENDING after settlement ({{.Lookups}} refund lookups) |
| **duplicate Razorpay objects** | **{{.DupLinks}}** links, **{{.DupRzInvoices}}** invoices, **{{.DupCustomers}}** customers | {{.Links}} payment links, {{.RzInvoices}} Razorpay invoices and {{.RzCustomers}} customers at Razorpay; {{.RbPayments}} Razorbill payments |
| **amount_paid = Σ distinct applied captures** | {{.InvoiceMismatches}} mismatches in {{.InvoicesChecked}} invoices | per invoice and per payment (its instrument's captures); {{.StatusMismatches}} payment/invoice status mismatches |
| **amount_refunded = Σ processed refunds** | {{.RefundMismatches}} mismatches | per invoice, per payment, and each refund part's status against its Razorpay refund |
| **captures no webhook announced, applied by the gateway-sweeper** | {{.PullSwept}} of {{.PullUnsent}} | {{len .Pull}} tenants whose webhook Razorpay disabled ({{range $i, $p := .Pull}}{{if $i}}; {{end}}{{$p.Mode}}: {{$p.Swept}} of {{$p.Unsent}} of its {{$p.Captures}} captures{{end}}); counted before their webhooks were re-enabled and every event replayed |
| events queue / DLQ at the end | {{.QueueLeft}} / {{.DLQ}} | |

{{if .Failures}}**The run failed:**
{{range .Failures}}
- {{.}}{{end}}
{{if .Mismatches}}
First differences:
{{range .Mismatches}}
- {{.}}{{end}}
{{end}}{{else}}Every check passed.{{end}}
{{if or .SyncInProgress .MsgFailures .Observed}}
### Observations (not invariant violations)
{{range .Observed}}
- {{.}}{{end}}
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
### Webhook-less tenants (money by pull)

| tenant | instrument | invoices | captures | not announced by a webhook | applied by the sweeper | sweeper's missed effects | sweeps | failed pulls / failed sweeps | replayed deliveries at the end |
|---|---|---|---|---|---|---|---|---|---|
{{range .Pull}}| {{.Mode}} | {{.Linked}} | {{.Invoices}} | {{.Captures}} | {{.Unsent}} | {{.Swept}} | {{.Missed}} | {{.Rounds}} | {{.Failed}} / {{.Errors}} | {{.Redeliver}} |
{{end}}
### Lifecycle phase (what each race ended in)

| scenario: outcome | invoices |
|---|---|
{{range .Lifecycle}}| {{.Name}} | {{.Count}} |
{{end}}
Refunds: {{.RefundRequests}} requests, each with its own Idempotency-Key
({{range $i, $p := .RefundPlans}}{{if $i}}, {{end}}{{$p.Count}} × {{$p.Name}}{{end}});
{{.RefundRetries}} retries of the same request after a 5xx, a transport error or a
409 ` + "`concurrent_update`" + `, {{.RefundRepeats}} repeats after a 202 ({{.RefundOtherID}} named another refund).
Razorpay faults armed on the refund call ({{.RefundFaultsLeft}} left unused, when
the refund's split did not reach the faulted Razorpay payment):
{{range .RefundFaults}}{{.Name}} × {{.Count}}; {{end}}
final answers: {{range .RefundAnswers}}{{.Name}} × {{.Count}}; {{end}}
status in the first 202: {{range .FirstStatus}}{{.Name}} × {{.Count}}; {{end}}
Razorbill refunds by status at the end: {{range .RefundStatuses}}{{.Name}} × {{.Count}}; {{end}}
processed or failed Razorpay refunds counted by (marker event): {{range .SettledBy}}{{.Name}} × {{.Count}}; {{end}}
RefundGrace was {{dur .RefundGrace}} (the product default is 10 min).

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
Razorpay faults on the customer, link and invoice calls of payment requests
(set-up): {{.RzFaultsArmed}} armed, {{.RzFaultsUsed}} hit a call. Calls seen
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
   its own simulator account (so their webhooks are delivered in parallel);
   every second tenant has ` + "`invoice_outbound_sync`" + ` on, so its instrument is the
   Razorpay invoice. Customers and finalized invoices are created through the
   API without faults. Then every invoice asks the payment-link creator for
   its instrument while faults are on (a link, or the synced Razorpay
   invoice's short_url, synced on demand): before each request, with the
   fault rate, the simulator is armed with one Razorpay fault (500, an HTML
   502, 429, a timeout that hangs until our client gives up after 1.5 s, a
   crash after the object was created, a dropped connection) on the link or
   customer endpoint, and the payment path's DynamoDB calls fail as below.
   The client retries 503s and follows 409 ` + "`payment_link_exists`" + ` to the
   payment it names, as a caller would.
   Two more tenants (issue 16), each with its own account, have a webhook
   Razorpay disabled: one for the whole run (payment links), one from
   halfway through its payments (invoice sync); they take the scenarios
   paid, paid in two parts (before the disable only), failed then paid and
   failed only, and no part in the lifecycle phase.
2. **Checkout.** With each account's webhooks held (the webhook-less
   tenants' are not held: disabled, or delivered as they happen until
   halfway), each invoice gets a
   scenario (the table above; the first invoices of a tenant take each
   scenario once, the rest are drawn by weight): paid, paid in two parts at
   the short_url, failed then paid on the same instrument, failed only; the
   invoices of the lifecycle scenarios are only failed (new link) or left
   open (void, cancel) here. A few links made at Razorpay by "another
   system" are paid too.
3. **Delivery.** The held events are released in shuffled order (so
   ` + "`payment.captured`" + ` and ` + "`invoice.paid`" + ` / ` + "`payment_link.paid`" + ` arrive in either order); a random
   {{f100 .Cfg.DupRate}} of them are delivered a second time (the simulator's
   Redeliver) at random moments during the release. Faults are on: the
   receiver's SQS sends fail (half refused, half queued with the answer lost)
   and every DynamoDB call of the receiver, the reconciler and the
   payment service can fail (throttling, ProvisionedThroughputExceeded,
   a 500 before the call; a 500 after a PutItem or a committed transaction;
   a TransactionConflict cancellation; a racing writer that moves the
   invoice's version just before the transaction, so the condition fails for
   real). Two reconciler consumers poll the FIFO queue at once (4 s
   visibility); at {{len .Kills}} points a consumer applies half of its batch and
   dies before deleting anything, and a new one starts a second later.
   Razorpay retries refused deliveries (12 retries over ~90 s here; Razorpay
   spreads them over 24 h).
   Then the gateway-sweeper sweeps the webhook-less tenants' environments
   (` + "`sweep.Sweeper.SweepEnvironment`" + `, the gateway-sweep queue's per-environment
   handler, with the payment service's faulty adapters): three rounds with
   the faults on, then rounds without faults until one applies and fails
   nothing.
4. **Lifecycle,** with webhooks delivered as they happen and the same faults
   on, on the outcome of the delivery: for a failed link, a new link is
   requested while the customer pays the old link (0–400 ms apart, either
   may win), then the customer pays the new link if there is one;
   ` + "`POST /invoices/{id}/void`" + ` races the customer paying the open link or
   short_url; ` + "`POST /payments/{id}/cancel`" + ` on an open link, then the customer
   tries to pay it; and refunds of fully paid invoices (the first of them
   with each Razorpay fault in turn, then {{f100 .Cfg.RefundRate}} of the rest, half with a
   fault): a full refund, a third, or a third and then the rest, each request
   with its own Idempotency-Key. The fault is armed on the Razorpay refund
   call of the newest capture: 409 "in progress" (nothing done), 409, 500 or
   a timeout after Razorpay made the refund, a slow Razorpay (2 s, the
   client gives up at 1.5 s and the refund is made anyway), a 500 or a
   timeout before anything is done (409, 500 and timeout up to 4 times in a
   row, so the client's own retries fail too), 429. The client retries 5xx
   with the same key, and repeats most requests once more after their 202
   (the answer must name the same refund).
5. **Settlement.** ` + "`GET /api/v1/payments/{id}/refunds`" + ` (which settles PENDING
   parts by looking them up at Razorpay) is called for every refunded
   payment every 2 s until none of its refunds is PENDING; RefundGrace is
   {{dur .RefundGrace}} in this run (the product default is 10 min) so that a part
   Razorpay never made fails and releases its reservation within the run.
   Then the webhook-less tenants' captures that no delivered event carried
   are counted (each must have its applied marker: the sweeper applied it),
   their webhooks are re-enabled and every event of theirs is replayed
   (` + "`RedeliverAll`" + `, a replay refused under faults is replayed again); then
   the simulator's deliveries and the queue are drained.
6. **Checks,** computed from the simulator's objects and events and the
   store (without faults): every event was acknowledged and every
   acknowledged event handled; every captured Razorpay payment of ours has
   its applied marker with the right invoice and amount, or was parked with
   a reason (lost otherwise); each marker — capture or refund — was
   committed once (the faulty DynamoDB client counts the committed
   transactions that write it); every failed try was recorded; Razorpay
   holds one link per reference_id, one Razorpay invoice per invoice and
   one customer per email+contact; at most one Razorpay refund per refund
   part key (` + "`razorbill_refund_part`" + ` note = the X-Refund-Idempotency key), and
   none of ours without one; no invoice has captures through two
   instruments (payment links or Razorpay invoices) or two instruments still
   payable, no voided invoice has money applied, no link was paid after its
   cancel answered 200; every invoice's ` + "`amount_paid`" + ` equals its applied
   captures and its ` + "`amount_refunded`" + ` the processed Razorpay refunds of its
   payments, its payment status follows from the two, and it is VOIDED
   exactly when its void answered 200; every Razorbill payment received what
   its instrument captured, refunded what Razorpay processed, has no
   ` + "`refund_pending`" + ` left and no PENDING refund, and each refund part's status
   agrees with its Razorpay refund; every event of the other system's links
   was parked and none of Razorbill's (but captures parked with a reason);
   nothing is left in the queue or its DLQ.

Not covered here: a Razorpay invoice paid in two parts while its webhook is
disabled (the gateway-sweeper applies only the payment the Razorpay invoice
names, its latest, so the first part comes only with the webhook's replay);
refunds, voids and cancels of the webhook-less tenants; the stream relay and the queue-driven syncers (invoices are
synced on demand by their payment request; customers likewise); voids and
cancels of instruments with no race, a void while a refund is in flight, and
` + "`POST /payments/{id}/cancel`" + ` on a short_url payment; refunds on a manual-refund
account (Razorpay answers them pending and settles them later) and
` + "`refund.failed`" + ` from Razorpay; link expiry and ` + "`invoice.expired`" + `; three-decimal
currencies (every invoice is INR); Razorpay faults on the cancel and fetch
calls of voids, cancels and new links (only DynamoDB and SQS faults reach
those); and real AWS (the SDK's own retries of throttling sit below the
injected faults, so every injected fault reaches Razorbill's code).
`))
