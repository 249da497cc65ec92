package chaos_test

import (
	"context"
	"fmt"
	"time"

	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
	"github.com/razorbill/razorbill/internal/sweep"
)

// Tenants whose webhook Razorpay does not deliver (issue 16): their money
// must arrive by pull, through the gateway-sweeper.
const (
	hookOff     = "webhook disabled for the whole run"
	hookOffHalf = "webhook disabled halfway through the payments"
)

// pullLinkScenarios and pullSyncedScenarios are the scenarios of the
// webhook-less tenants (they take no part in the lifecycle phase):
// captures and failed tries only; two-part payments need a Razorpay invoice.
var (
	pullLinkScenarios   = []countRow{{scPay, 80}, {scFailPay, 12}, {scFail, 8}}
	pullSyncedScenarios = []countRow{{scPay, 70}, {scPayParts, 10}, {scFailPay, 12}, {scFail, 8}}
)

// pullInvoices is how many invoices each webhook-less tenant gets.
func pullInvoices(cfg settings) int { return max(8, cfg.Invoices/10) }

// pullTenant is what the run learnt about one webhook-less tenant.
type pullTenant struct {
	Mode      string
	Linked    string // "payment links" or "invoice sync"
	Invoices  int
	Captures  int // captured Razorpay payments of Razorbill's at the simulator
	Unsent    int // of them, captures no webhook event was ever delivered for before the webhook was re-enabled
	Swept     int // of those, applied (by the sweeper) before the webhook was re-enabled
	Missed    int // effects the sweeper reported as applied with no webhook (its Result.Missed, all rounds)
	Rounds    int
	Failed    int // instrument pulls that failed (retried by the next round)
	Errors    int // sweeps that ended with a storage error (retried by the next round)
	Redeliver int // deliveries of the final RedeliverAll (and its retries)
}

// sweepPull runs the gateway-sweeper's per-environment sweep
// (sweep.Sweeper.SweepEnvironment, what the gateway-sweep queue's handler
// calls for each message) for the webhook-less tenants: three rounds with
// DynamoDB and SQS faults on, then rounds without faults until one applies
// nothing new and fails nothing (at most ten).
func (h *harness) sweepPull() {
	sw := &sweep.Sweeper{Store: h.faulty, Refresher: h.svc, Log: h.deps.Log}
	h.f.on.Store(true)
	defer h.f.on.Store(false)
	for round := 0; round < 13; round++ {
		if round == 3 {
			h.f.on.Store(false)
		}
		clean := true
		for _, tn := range h.tenants {
			if tn.Pull == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(h.ctx, 5*time.Minute)
			res, err := sw.SweepEnvironment(ctx, tn.Scope)
			cancel()
			p := tn.Pull
			p.Rounds++
			p.Missed += res.Missed
			p.Failed += res.Failed
			if err != nil {
				p.Errors++
			}
			if err != nil || res.Failed > 0 || res.Missed > 0 || res.Throttled {
				clean = false
			}
		}
		if clean && round >= 3 {
			return
		}
	}
	h.t.Errorf("the webhook-less tenants' sweeps still applied or failed something after 13 rounds")
}

// webhooksBack counts what the sweeper applied for the webhook-less tenants
// (every capture no webhook event was delivered for must be applied by
// now), then re-enables their webhooks and replays every event (the
// dashboard's redelivery), retrying an event until it is acknowledged.
func (h *harness) webhooksBack() {
	for _, tn := range h.tenants {
		p := tn.Pull
		if p == nil {
			continue
		}
		w := h.razorpaySide(tn, &report{})
		sent := map[string]bool{} // Razorpay payments an acknowledged event carried
		for _, e := range h.sim.Events(tn.Acct.KeyID) {
			if ev, err := razorpay.ParseEvent(e.Body); err == nil && ev.Payment != nil && e.Delivered {
				sent[ev.Payment.ID] = true
			}
		}
		if p.Mode == hookOff && len(h.sim.Deliveries(tn.Acct.KeyID)) > 0 {
			h.t.Errorf("tenant %s (%s): %d webhook deliveries before the webhook was re-enabled", tn.ID, p.Mode, len(h.sim.Deliveries(tn.Acct.KeyID)))
		}
		for _, rp := range w.payments {
			if w.paymentInvoice(rp) == "" || (rp.Status != "captured" && rp.Status != "refunded") {
				continue
			}
			p.Captures++
			if sent[rp.ID] {
				continue
			}
			p.Unsent++
			if _, ok, err := h.store.Applied(h.ctx, tn.Scope, rp.ID); err != nil {
				h.t.Fatal(err)
			} else if ok {
				p.Swept++
			}
		}
		if err := h.sim.SetWebhookEnabled(tn.Acct.KeyID, true); err != nil {
			h.t.Fatal(err)
		}
		ds, err := h.sim.RedeliverAll(h.ctx, tn.Acct.KeyID)
		if err != nil {
			h.t.Fatal(err)
		}
		p.Redeliver += len(ds)
		// A replay refused under faults is not retried by Razorpay: replay
		// it again, as the merchant would.
		for try := 0; try < 20; try++ {
			left := 0
			for _, e := range h.sim.Events(tn.Acct.KeyID) {
				if e.Delivered {
					continue
				}
				left++
				ds, err := h.sim.Redeliver(h.ctx, e.ID, razorpaysim.RedeliverOptions{})
				if err != nil {
					h.t.Fatal(err)
				}
				p.Redeliver += len(ds)
			}
			if left == 0 {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// checkPull adds the webhook-less tenants to the report: every capture no
// webhook announced was applied by the sweeper before the webhook came back.
func (h *harness) checkPull(r *report) {
	for _, tn := range h.tenants {
		p := tn.Pull
		if p == nil {
			continue
		}
		r.Pull = append(r.Pull, *p)
		r.PullUnsent += p.Unsent
		r.PullSwept += p.Swept
		if p.Swept < p.Unsent {
			r.PullNotSwept += p.Unsent - p.Swept
			r.mismatch("tenant %s (%s): %d of %d captures no webhook announced were not applied by the sweeper", tn.ID, p.Mode, p.Unsent-p.Swept, p.Unsent)
		}
		if p.Mode == hookOff && p.Unsent != p.Captures {
			r.mismatch("tenant %s (%s): %d captures, %d of them announced by a webhook", tn.ID, p.Mode, p.Captures, p.Captures-p.Unsent)
			r.PullNotSwept++
		}
		if p.Mode == hookOffHalf && (p.Unsent == 0 || p.Unsent == p.Captures) {
			r.fail("tenant %s (%s): %d of its %d captures announced by a webhook; want some and not all", tn.ID, p.Mode, p.Captures-p.Unsent, p.Captures)
		}
	}
	if r.PullUnsent == 0 {
		r.fail("the webhook-less tenants made no capture the sweeper had to apply")
	}
	if r.PullNotSwept > 0 {
		r.fail("%d captures of the webhook-less tenants were not applied by the gateway-sweeper", r.PullNotSwept)
	}
}

func (p pullTenant) String() string {
	return fmt.Sprintf("%s (%s)", p.Mode, p.Linked)
}
