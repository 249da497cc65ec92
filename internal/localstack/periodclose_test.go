package localstack_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// Usage events → period close (a subscription that started 20 days ago
// and whose first period ended 3 days ago) → one FINALIZED invoice per
// billing step → synced to the simulator with the same total → paid →
// SUCCEEDED. Two more period-close runs at once make nothing more.
func TestPeriodCloseInvoicesUsageAndTheInvoiceIsPaid(t *testing.T) {
	t.Parallel()
	s := startSync(t)
	m := s.must(s.call("POST", "/api/v1/meters", map[string]any{"name": "API calls", "event_name": "api_call", "aggregation": "COUNT"}), 201)
	plan := s.must(s.call("POST", "/api/v1/plans", map[string]any{"name": "Growth", "currency": "inr", "charges": []any{
		map[string]any{"type": "FIXED", "display_name": "Platform fee", "amount": "999", "period": "MONTHLY", "sac_code": "998314"},
		map[string]any{"type": "USAGE", "display_name": "API calls", "meter_id": m.s("id"), "model": "PER_UNIT", "unit_amount": "0.5"}}}), 201)
	cus := s.customer("acct-close", "close@example.com")
	today := time.Now().UTC().Truncate(24 * time.Hour)
	start, anchor := today.AddDate(0, 0, -20), today.AddDate(0, 0, -3)
	var evs []any
	for i := range 10 {
		evs = append(evs, map[string]any{"event_id": fmt.Sprintf("close-%d", i), "event_name": "api_call", "customer_id": cus,
			"timestamp": start.AddDate(0, 0, 5).Add(time.Duration(i) * time.Minute).Format(time.RFC3339)})
	}
	s.must(s.call("POST", "/api/v1/events/bulk", map[string]any{"events": evs}), 202)
	// The close reads the buckets: wait until the aggregator counted the
	// events (in production the grace period is this wait).
	s.eventually("usage counted", func() bool {
		u := s.must(s.call("GET", fmt.Sprintf("/api/v1/usage?meter_id=%s&customer_id=%s&start=%s&end=%s", m.s("id"), cus,
			start.Format(time.RFC3339), anchor.Format(time.RFC3339)), nil), 200)
		return u.s("total") == "10"
	})
	sub := s.must(s.call("POST", "/api/v1/subscriptions", map[string]any{"customer_id": cus, "plan_id": plan.s("id"),
		"start": start.Format(time.RFC3339), "billing_period": "MONTHLY", "anchor_day": anchor.Day(),
		"coupon": map[string]any{"percent_off": "10", "duration": "ONCE"}}), 201)
	if sub.s("current_period_start") != anchor.Format(time.RFC3339) || sub.s("next_billing_at") != start.Format(time.RFC3339) {
		t.Fatalf("subscription: %s", sub.Raw)
	}
	list := func() []map[string]any {
		l := s.must(s.call("GET", "/api/v1/invoices?customer_id="+cus, nil), 200)
		var out []map[string]any
		for _, v := range l.Body["data"].([]any) {
			out = append(out, v.(map[string]any))
		}
		return out
	}
	var closeID string
	s.eventually("the opening and the first period's invoices", func() bool {
		invs := list()
		for _, inv := range invs {
			if inv["metadata"].(map[string]any)["billing_step"] == "1" {
				closeID = inv["id"].(string)
			}
		}
		return len(invs) == 2 && closeID != ""
	})
	// The close of the first period: 10 calls × 0.50 = 5.00 and the next
	// period's fee 999.00 (a whole period); the coupon was used by the
	// opening invoice. CGST 9 %: 0.45 + 89.91 = 90.36, SGST the same;
	// total 1,184.72.
	inv := s.invoiceSynced(closeID)
	if inv.s("invoice_status") != "FINALIZED" || inv.s("subscription_id") != sub.s("id") || inv.s("subtotal") != "1004.00" || inv.s("discount") != "0.00" ||
		inv.s("total") != "1184.72" || inv.s("amount_due") != "1184.72" || inv.s("period_start") != start.Format(time.RFC3339) || inv.s("period_end") != anchor.Format(time.RFC3339) {
		t.Fatalf("the period's invoice: %s", inv.Raw)
	}
	taxes := inv.Body["tax_lines"].([]any)
	if len(taxes) != 2 || taxes[0].(map[string]any)["name"] != "CGST 9%" || taxes[0].(map[string]any)["amount"] != "90.36" || taxes[1].(map[string]any)["name"] != "SGST 9%" {
		t.Fatalf("tax lines: %v", taxes)
	}
	// The opening invoice: the first period's fee, prorated, less 10 %.
	for _, o := range list() {
		if o["id"] != closeID && (o["invoice_status"] != "FINALIZED" || o["discount"] == "0.00" || o["subscription_id"] != sub.s("id")) {
			t.Fatalf("the opening invoice: %v", o)
		}
	}
	rzInv := inv.s("razorpay", "invoice_id")
	var found bool
	for _, r := range s.rzpInvoices() {
		if r.ID == rzInv {
			found = true
			if r.Amount != 118472 {
				t.Fatalf("Razorpay's invoice total %d paise, ours 1184.72", r.Amount)
			}
		}
	}
	if !found {
		t.Fatalf("Razorpay invoice %s not in the simulator", rzInv)
	}
	if _, err := s.st.Sim.PayInvoice(rzInv, razorpaysim.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	s.eventually("the invoice paid", func() bool {
		return s.must(s.call("GET", "/api/v1/invoices/"+closeID, nil), 200).s("payment_status") == "SUCCEEDED"
	})
	// Two runs at once (and the stack's own timer) make nothing more.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if res, err := s.st.Deps.PeriodCloser().Run(context.Background()); err != nil || res.Invoices != 0 {
				t.Errorf("a later run made %d invoices (%v)", res.Invoices, err)
			}
		})
	}
	wg.Wait()
	if n := len(list()); n != 2 {
		t.Fatalf("%d invoices after more runs, want 2", n)
	}
}
