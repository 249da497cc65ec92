package razorpaysim_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// After WebhookDisableAfter failed attempts the webhook is disabled: the
// rest of the retries and every later event are not sent, until enabled;
// re-enabling sends nothing skipped, RedeliverAll sends every event.
func TestWebhookDisabledAfterFailuresUntilReenabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, razorpaysim.Options{WebhookDisableAfter: 2, WebhookDisableWindow: time.Hour})
	var fail atomic.Bool
	fail.Store(true)
	r := newReceiver(t, func(int) (int, time.Duration) {
		if fail.Load() {
			return 500, 0
		}
		return 200, 0
	})
	e.hook(t, r)
	l := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "dis1"}).json(t)
	if err := e.sim.CancelPaymentLink(l["id"].(string)); err != nil {
		t.Fatal(err)
	}
	wait(t, e.sim)
	if n := len(r.deliveries()); n != 2 {
		t.Fatalf("%d attempts; the webhook should be disabled after 2 (retry schedule has 3 more)", n)
	}
	var acct razorpaysim.Account
	for _, a := range e.sim.Accounts() {
		if a.KeyID == e.acct.KeyID {
			acct = a
		}
	}
	if !acct.WebhookDisabled {
		t.Fatal("account does not show the webhook disabled")
	}
	fail.Store(false)
	l2 := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "dis2"}).json(t)
	if err := e.sim.CancelPaymentLink(l2["id"].(string)); err != nil {
		t.Fatal(err)
	}
	wait(t, e.sim)
	if n := len(r.deliveries()); n != 2 {
		t.Fatalf("a disabled webhook got %d deliveries", n)
	}
	if err := e.sim.SetWebhookEnabled(e.acct.KeyID, true); err != nil {
		t.Fatal(err)
	}
	wait(t, e.sim)
	if n := len(r.deliveries()); n != 2 {
		t.Fatalf("re-enabling sent what was skipped: %d", n)
	}
	ds, err := e.sim.RedeliverAll(context.Background(), e.acct.KeyID)
	if err != nil || len(ds) != 2 || !ds[0].OK() || !ds[1].OK() {
		t.Fatalf("redeliver all: %+v %v", ds, err)
	}
	// The control route disables directly.
	if a := e.call(t, "POST", "/_sim/accounts/"+e.acct.KeyID+"/webhooks/disable", nil); a.status != 200 {
		t.Fatalf("disable: %d %s", a.status, a.raw)
	}
	l3 := e.call(t, "POST", "/v1/payment_links", map[string]any{"amount": 1000, "reference_id": "dis3"}).json(t)
	_ = e.sim.CancelPaymentLink(l3["id"].(string))
	wait(t, e.sim)
	if n := len(r.deliveries()); n != 4 {
		t.Fatalf("disabled by the control route yet delivered: %d", n)
	}
}
