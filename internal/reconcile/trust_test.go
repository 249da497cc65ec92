package reconcile_test

import (
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/billing"
)

func (f *fixture) editConnection(edit func(c *billing.Connection)) billing.Connection {
	f.t.Helper()
	c, ok, err := f.store.Connection(f.ctx, f.sc)
	if err != nil || !ok {
		f.t.Fatalf("connection: %v %v", ok, err)
	}
	if edit != nil {
		edit(&c)
		if err := f.store.PutConnection(f.ctx, c); err != nil {
			f.t.Fatal(err)
		}
	}
	return c
}

// 15#3: events of a disabled connection (queued before the DELETE, or
// retried after it) are parked with the reason, never applied; once the
// connection is active again a retry applies them.
func TestEventsOfADisabledConnectionAreParked(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, pay, plink := f.invoice("INR", 10000)
	n := notesOf(pay)
	rp := f.rzPaid(10000, "INR", n)
	f.editConnection(func(c *billing.Connection) { c.Status = billing.ConnectionDisabled })
	f.sqsWithID("evt_disabled_1", linkPaid(plink, rp, 10000, "INR", n))
	if got, _ := f.state(inv, pay); got.AmountPaid != 0 || got.PaymentStatus == billing.PaymentSucceeded {
		t.Fatalf("applied through a disabled connection: %+v", got)
	}
	parked := f.parked()
	if len(parked) != 1 || !strings.Contains(parked[0].Reason, "disabled") {
		t.Fatalf("parked: %+v", parked)
	}
	if e, err := f.rec.Retry(f.ctx, f.sc, parked[0].ID); err != nil || e.Status != billing.GatewayEventUnmatched {
		t.Fatalf("retry while disabled: %+v %v", e, err)
	}
	if got, _ := f.state(inv, pay); got.AmountPaid != 0 {
		t.Fatalf("a retry applied it while disabled: %+v", got)
	}
	f.editConnection(func(c *billing.Connection) { c.Status = billing.ConnectionActive })
	if e, err := f.rec.Retry(f.ctx, f.sc, parked[0].ID); err != nil || e.Status != billing.GatewayEventApplied {
		t.Fatalf("retry once active: %+v %v", e, err)
	}
	if got, _ := f.state(inv, pay); got.AmountPaid != 10000 {
		t.Fatalf("not applied once active: %+v", got)
	}
}

// 15#9: a connection without a Razorpay account learns it from its first
// verified event; events of another account are then parked, and the
// learnt account is never overwritten by an event.
func TestAccountIsLearntOnceAndOtherAccountsParked(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv, pay, plink := f.invoice("INR", 10000)
	n := notesOf(pay)
	rp := f.rzPaid(10000, "INR", n)
	f.sqsWithID("evt_acct_1", failed(rp, 10000, "INR", n)) // envelope's account_id is acc_test
	if c := f.editConnection(nil); c.AccountID != "acc_test" || !c.AccountIDLearnt {
		t.Fatalf("account not learnt: %q %v", c.AccountID, c.AccountIDLearnt)
	}
	other := strings.Replace(linkPaid(plink, rp, 10000, "INR", n), `"account_id":"acc_test"`, `"account_id":"acc_other"`, 1)
	if !strings.Contains(other, "acc_other") {
		t.Fatal("test body has no account_id to replace")
	}
	f.sqsWithID("evt_acct_2", other)
	if got, _ := f.state(inv, pay); got.AmountPaid != 0 {
		t.Fatalf("an event of another account was applied: %+v", got)
	}
	if p := f.parked(); len(p) != 1 || !strings.Contains(p[0].Reason, "acc_other") {
		t.Fatalf("parked: %+v", p)
	}
	if c := f.editConnection(nil); c.AccountID != "acc_test" {
		t.Fatalf("account overwritten by an event: %q", c.AccountID)
	}
}
