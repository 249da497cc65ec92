package localstack_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The usage and subscription views: a customer's usage this month per
// meter, a subscription with its upcoming invoice, and cancel through the
// API (its 409 for a second cancel shown in words).
func TestConsoleUsageAndSubscriptions(t *testing.T) {
	t.Parallel()
	s := start(t)
	m := s.must(s.call("POST", "/api/v1/meters", map[string]any{"name": "API calls", "event_name": "api_call", "aggregation": "COUNT"}), 201)
	plan := s.must(s.call("POST", "/api/v1/plans", map[string]any{"name": "Growth", "currency": "inr", "charges": []any{
		map[string]any{"type": "FIXED", "display_name": "Platform fee", "amount": "4999", "period": "MONTHLY", "sac_code": "998314"},
		map[string]any{"type": "USAGE", "display_name": "API calls", "meter_id": m.s("id"), "model": "PER_UNIT", "unit_amount": "0.5"}}}), 201)
	cus := s.customer("acct-console-sub", "sub@example.com")
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	sub := s.must(s.call("POST", "/api/v1/subscriptions", map[string]any{"customer_id": cus, "plan_id": plan.s("id"),
		"start": today.Format(time.RFC3339), "billing_period": "MONTHLY", "anchor_day": today.Day()}), 201)
	var evs []any
	for i := range 7 {
		evs = append(evs, map[string]any{"event_id": fmt.Sprintf("console-sub-%d", i), "event_name": "api_call", "customer_id": cus, "timestamp": now.Format(time.RFC3339)})
	}
	s.must(s.call("POST", "/api/v1/events/bulk", map[string]any{"events": evs}), 202)
	c := s.consoleClient()
	csrf := c.signIn(s.dev.APIKey, s.dev.EnvironmentID)

	s.eventually("usage on the customer page", func() bool {
		return strings.Contains(c.do("GET", "/console/customers/"+cus, nil).HTML, `<td class="num">7</td>`)
	})
	if p := c.do("GET", "/console/subscriptions?id="+sub.s("id"), nil); p.Status != http.StatusSeeOther || p.Location != "/console/subscriptions/"+sub.s("id") {
		t.Fatalf("subscription lookup: %d %s", p.Status, p.Location)
	}
	p := c.do("GET", "/console/subscriptions/"+sub.s("id"), nil)
	up := s.must(s.call("GET", "/api/v1/subscriptions/"+sub.s("id")+"/upcoming-invoice", nil), 200)
	if p.Status != 200 || !strings.Contains(p.HTML, `id="upcoming-total">`+up.s("total")+`<`) || !strings.Contains(p.HTML, `id="subscription-status">ACTIVE`) {
		t.Fatalf("subscription page (upcoming total %s): %d %.3000s", up.s("total"), p.Status, p.HTML)
	}
	if p := c.do("POST", "/console/subscriptions/"+sub.s("id")+"/cancel", url.Values{"csrf": {csrf}, "idem": {"console-cancel-1"}, "at": {"NOW"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("cancel: %d %.600s", p.Status, p.HTML)
	}
	if st := s.must(s.call("GET", "/api/v1/subscriptions/"+sub.s("id"), nil), 200).s("status"); st != "CANCELED" {
		t.Fatalf("after cancel: %s", st)
	}
	if p := c.do("POST", "/console/subscriptions/"+sub.s("id")+"/cancel", url.Values{"csrf": {csrf}, "idem": {"console-cancel-2"}, "at": {"NOW"}}); p.Status != http.StatusConflict || !strings.Contains(p.HTML, `role="alert"`) {
		t.Errorf("a second cancel: %d %.600s", p.Status, p.HTML)
	}
	// Another tenant's subscription is not found.
	if pg := c.do("GET", "/console/subscriptions/sub_00000000000000000000000000", nil); pg.Status != http.StatusNotFound {
		t.Errorf("an unknown subscription: %d", pg.Status)
	}
	o := s.tenant("Other")
	oc := o.consoleClient()
	oc.signIn(o.dev.APIKey, o.dev.EnvironmentID)
	if pg := oc.do("GET", "/console/subscriptions/"+sub.s("id"), nil); pg.Status != http.StatusNotFound {
		t.Errorf("another tenant's subscription: %d", pg.Status)
	}
}
