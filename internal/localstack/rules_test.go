package localstack_test

import (
	"strings"
	"testing"
	"time"
)

// Names Razorpay refuses as they are: too short; commas, an em dash, "&"
// and longer than 50; Devanagari.
var refusedNames = []struct{ name, email, want string }{
	{"Al", "al@example.com", "Al."},
	{"Acme, Inc. (India) Pvt. Ltd. — Bengaluru & Mysuru Operations Division", "ops@acme.example.com", "Acme Inc. (India) Pvt. Ltd. Bengaluru and Mysuru"},
	{"राजेश कुमार", "rajesh.kumar@example.com", "rajesh.kumar"},
}

// refusedNameCustomers creates the customers and waits until each is
// synced (FAILED ends the wait too, and fails the test).
func (s *stack) refusedNameCustomers(sync bool) []string {
	s.t.Helper()
	var ids []string
	for i, n := range refusedNames {
		phone := "+91987654321" + string(rune('0'+i))
		cus := s.must(s.call("POST", "/api/v1/customers", map[string]any{"external_id": "rules-" + n.email, "name": n.name, "email": n.email, "phone": phone}), 201).s("id")
		if sync {
			s.must(s.call("POST", "/api/v1/customers/"+cus+"/sync", nil), 202)
		}
		var c resp
		s.eventually("customer "+n.email+" synced", func() bool {
			c = s.call("GET", "/api/v1/customers/"+cus, nil)
			return c.s("razorpay", "sync_status") == "SYNCED" || c.s("razorpay", "sync_status") == "FAILED"
		})
		if c.s("razorpay", "sync_status") != "SYNCED" || c.s("name") != n.name {
			s.t.Fatalf("%q: %s", n.name, c.Raw)
		}
		rzID, found := c.s("razorpay", "customer_id"), false
		for _, rc := range s.rzpCustomers() {
			if rc.ID == rzID {
				found = true
				if rc.Name != n.want || rc.Notes["full_name"] != n.name || rc.Email != n.email || rc.Contact != phone {
					s.t.Fatalf("Razorpay customer for %q: %+v", n.name, rc)
				}
			}
		}
		if !found {
			s.t.Fatalf("no Razorpay customer %s", rzID)
		}
		ids = append(ids, cus)
	}
	return ids
}

// On-demand sync, payment links: each customer syncs and gets a link; the
// invoice's due date a year out is capped to Razorpay's 6-month limit
// instead of failing the payment.
func TestRazorpayRefusedNamesSyncAndGetLinks(t *testing.T) {
	t.Parallel()
	s := start(t)
	due := time.Now().UTC().AddDate(1, 0, 0).Format(time.RFC3339)
	for i, cus := range s.refusedNameCustomers(true) {
		inv := s.must(s.call("POST", "/api/v1/invoices", map[string]any{"customer_id": cus, "currency": "inr", "due_date": due,
			"line_items": []map[string]any{{"display_name": "Platform fee", "quantity": "1", "unit_amount": "100"}}}), 201)
		fin := s.must(s.call("POST", "/api/v1/invoices/"+inv.s("id")+"/finalize", nil), 200)
		p := s.must(s.call("POST", "/api/v1/payments", payReq(fin, 100)), 201)
		if p.s("payment_status") != "PENDING" || !strings.HasPrefix(p.s("gateway_tracking_id"), "plink_") || p.s("payment_url") == "" {
			t.Fatalf("payment for %q: %s", refusedNames[i].name, p.Raw)
		}
		found := false
		for _, l := range s.links() {
			if l.ID == p.s("gateway_tracking_id") {
				found = true
				if l.ExpireBy.After(time.Now().Add(180*24*time.Hour)) || l.ExpireBy.Before(time.Now().Add(170*24*time.Hour)) {
					t.Fatalf("link expire_by %s: want the 180-day cap", l.ExpireBy)
				}
			}
		}
		if !found {
			t.Fatalf("no link %s", p.s("gateway_tracking_id"))
		}
	}
}

// Sync on create with invoice sync: the customers sync, so do their
// invoices, and each payment request gets its payment page.
func TestRazorpayRefusedNamesSyncOnCreateWithTheirInvoices(t *testing.T) {
	t.Parallel()
	s := startSync(t)
	for i, cus := range s.refusedNameCustomers(false) {
		inv := s.must(s.call("POST", "/api/v1/invoices", map[string]any{"customer_id": cus, "currency": "inr",
			"line_items": []map[string]any{{"display_name": "Platform fee", "quantity": "1", "unit_amount": "100"}}}), 201)
		fin := s.must(s.call("POST", "/api/v1/invoices/"+inv.s("id")+"/finalize", nil), 200)
		s.invoiceSynced(fin.s("id"))
		p := s.must(s.call("POST", "/api/v1/payments", payReq(fin, 100)), 201)
		if p.s("payment_status") != "PENDING" || p.s("gateway_tracking_id") == "" || p.s("payment_url") == "" {
			t.Fatalf("payment for %q: %s", refusedNames[i].name, p.Raw)
		}
	}
}
