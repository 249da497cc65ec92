package localstack_test

import (
	"sync"
	"testing"

	"github.com/razorbill/razorbill/internal/localstack"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// startSync is a stack whose connection syncs customers on creation and
// finalized invoices, and whose failed sync messages come back in 2 s.
func startSync(t *testing.T) *stack {
	t.Helper()
	s := start(t, func(o *localstack.Options) { o.VisibilityTimeout = 2 })
	s.must(s.call("PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": s.dev.KeyID, "invoice_outbound_sync": true, "customer_sync": "ON_CREATE"}), 200)
	return s
}

func (s *stack) rzpCustomers() []razorpay.Customer {
	return decodeAll[razorpay.Customer](s.t, s.st.Sim.Objects(s.dev.KeyID).Customers)
}

func (s *stack) rzpInvoices() []razorpay.Invoice {
	return decodeAll[razorpay.Invoice](s.t, s.st.Sim.Objects(s.dev.KeyID).Invoices)
}

func (s *stack) invoiceSynced(id string) resp {
	s.t.Helper()
	var r resp
	s.eventually("invoice "+id+" synced", func() bool {
		r = s.call("GET", "/api/v1/invoices/"+id, nil)
		return r.s("razorpay", "sync_status") == "SYNCED"
	})
	return r
}

func TestCustomersSyncOnCreateWithoutDuplicates(t *testing.T) {
	t.Parallel()
	s := startSync(t)
	a := s.customer("dup-a", "same@example.com")
	b := s.customer("dup-b", "same@example.com") // same email and phone: Razorpay's identity
	var ra, rb resp
	s.eventually("both customers synced", func() bool {
		ra, rb = s.call("GET", "/api/v1/customers/"+a, nil), s.call("GET", "/api/v1/customers/"+b, nil)
		return ra.s("razorpay", "sync_status") == "SYNCED" && rb.s("razorpay", "sync_status") == "SYNCED"
	})
	if ra.s("razorpay", "customer_id") == "" || ra.s("razorpay", "customer_id") != rb.s("razorpay", "customer_id") || ra.s("metadata", "razorpay_customer_id") != ra.s("razorpay", "customer_id") {
		t.Fatalf("customers: %s / %s", ra.Raw, rb.Raw)
	}
	// manual syncs racing the stream and each other still make one
	c := s.customer("race", "race@example.com")
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); s.call("POST", "/api/v1/customers/"+c+"/sync", nil) }()
	}
	wg.Wait()
	s.customerSynced(c)
	if n := len(s.rzpCustomers()); n != 2 {
		t.Fatalf("%d Razorpay customers, want 2", n)
	}
}

func TestFinalizedInvoicesSyncExactly(t *testing.T) {
	t.Parallel()
	s := startSync(t)
	cus := s.customer("inv-sync", "inv@example.com")
	usage := s.finalized(cus, "inr",
		map[string]any{"display_name": "API calls", "price_type": "USAGE", "quantity": "1234567", "unit_amount": "0.0015"},
		map[string]any{"display_name": "Platform fee", "price_type": "FIXED", "quantity": "1", "unit_amount": "4999"},
		map[string]any{"display_name": "Seats", "price_type": "FIXED", "quantity": "3", "unit_amount": "250.50"})
	jpy := s.finalized(cus, "jpy", map[string]any{"display_name": "x", "quantity": "3", "unit_amount": "333.5"})
	kwd := s.finalized(cus, "kwd", map[string]any{"display_name": "x", "quantity": "2", "unit_amount": "1.235"})
	for _, r := range []resp{usage, jpy, kwd} {
		s.invoiceSynced(r.s("id"))
	}
	totals := map[string]int64{usage.s("invoice_number"): 685085 + 75150, jpy.s("invoice_number"): 1001, kwd.s("invoice_number"): 2470}
	receipt := func(r resp) string { return r.s("invoice_number") + "-" + r.s("id")[len(r.s("id"))-8:] } // number + our id's last 8
	if usage.s("amount_due") != "7602.35" {
		t.Fatalf("ledger total: %s", usage.s("amount_due"))
	}
	invs := s.rzpInvoices()
	usageSeen := false
	defer func() {
		if !usageSeen {
			t.Errorf("no Razorpay invoice has the receipt %s", receipt(usage))
		}
	}()
	if len(invs) != 3 {
		t.Fatalf("%d Razorpay invoices", len(invs))
	}
	for _, ri := range invs {
		var sum int64
		for _, li := range ri.LineItems {
			sum += li.Amount * li.Quantity
		}
		if ri.Amount != totals[ri.Notes["invoice_number"]] || sum != ri.Amount {
			t.Errorf("invoice %s (%s): amount %d, lines %d, want %d", ri.ID, ri.Receipt, ri.Amount, sum, totals[ri.Notes["invoice_number"]])
		}
		if ri.Receipt == receipt(usage) {
			usageSeen = true
			if len(ri.LineItems) != 3 || ri.LineItems[0].Amount != 185185 || ri.LineItems[0].Quantity != 1 ||
				ri.LineItems[1].Amount != 499900 || ri.LineItems[2].Amount != 25050 || ri.LineItems[2].Quantity != 3 || ri.LineItems[2].Name != "Seats" {
				t.Errorf("usage invoice lines: %+v", ri.LineItems)
			}
		}
	}
	// a payment for a synced invoice reuses its short_url
	p := s.must(s.call("POST", "/api/v1/payments", payReq(usage, "7602.35")), 201)
	synced := s.call("GET", "/api/v1/invoices/"+usage.s("id"), nil)
	if p.s("payment_url") != synced.s("razorpay", "short_url") || p.s("gateway_tracking_id") != synced.s("razorpay", "invoice_id") || len(s.links()) != 0 {
		t.Fatalf("payment for a synced invoice: %s", p.Raw)
	}
	// paying it at Razorpay marks the ledger invoice paid
	if _, err := s.st.Sim.PayInvoice(synced.s("razorpay", "invoice_id"), razorpaysim.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	s.eventually("synced invoice paid", func() bool {
		r := s.call("GET", "/api/v1/invoices/"+usage.s("id"), nil)
		return r.s("payment_status") == "SUCCEEDED" && r.s("amount_paid") == "7602.35"
	})
	if got := s.call("GET", "/api/v1/payments/"+p.s("id"), nil); got.s("payment_status") != "SUCCEEDED" {
		t.Fatalf("payment: %s", got.Raw)
	}
	// a Razorpay invoice paid with no Razorbill payment records one
	if _, err := s.st.Sim.PayInvoice(s.invoiceSynced(jpy.s("id")).s("razorpay", "invoice_id"), razorpaysim.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	s.eventually("JPY invoice paid at Razorpay", func() bool {
		return s.call("GET", "/api/v1/invoices/"+jpy.s("id"), nil).s("amount_paid") == "1001"
	})
}

func TestInvoiceSyncSurvivesCrashesAndOutages(t *testing.T) {
	t.Parallel()
	s := startSync(t)
	cus := s.customer("faults", "faults@example.com")
	s.customerSynced(cus)
	if err := s.st.Sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultCrashAfterCreate, Method: "POST", Path: "/v1/invoices", Count: 1}); err != nil {
		t.Fatal(err)
	}
	a := s.finalized(cus, "inr")
	s.invoiceSynced(a.s("id"))
	if n := len(s.rzpInvoices()); n != 1 {
		t.Fatalf("crash after create left %d Razorpay invoices", n)
	}
	// Razorpay answers 500 for longer than the client retries: the queue
	// redelivers and the sync completes.
	if err := s.st.Sim.InjectFault(razorpaysim.Fault{Kind: "500", Path: "/v1/invoices*", Count: 6}); err != nil {
		t.Fatal(err)
	}
	b := s.finalized(cus, "inr")
	r := s.invoiceSynced(b.s("id"))
	if r.Body["razorpay"].(map[string]any)["attempts"].(float64) < 2 || len(s.rzpInvoices()) != 2 {
		t.Fatalf("after the outage: %s, %d invoices", r.Raw, len(s.rzpInvoices()))
	}
	// what Razorpay would refuse never finalizes: a KWD line of 1.005 is
	// 1.010 (a multiple of 0.010) and syncs at that amount; a total below
	// the minimum is refused at finalize
	kwd := s.finalized(cus, "kwd", map[string]any{"display_name": "x", "quantity": "1", "unit_amount": "1.005"})
	rk := s.invoiceSynced(kwd.s("id"))
	for _, ri := range s.rzpInvoices() {
		if ri.ID == rk.s("razorpay", "invoice_id") && ri.Amount != 1010 {
			t.Fatalf("KWD invoice at Razorpay: %d", ri.Amount)
		}
	}
	small := s.must(s.call("POST", "/api/v1/invoices", map[string]any{"customer_id": cus, "currency": "inr", "line_items": []any{map[string]any{"display_name": "x", "quantity": "1", "unit_amount": "0.50"}}}), 201)
	if r := s.must(s.call("POST", "/api/v1/invoices/"+small.s("id")+"/finalize", nil), 409); r.s("error", "code") != "amount_below_minimum" {
		t.Fatalf("finalize below the minimum: %s", r.Raw)
	}
}

func TestInvoiceWaitsForItsCustomer(t *testing.T) {
	t.Parallel()
	s := startSync(t)
	// ON_DEMAND connection and no outbound sync yet: the customer stays unsynced
	s.must(s.call("PUT", "/api/v1/connections/razorpay", map[string]any{"key_id": s.dev.KeyID, "invoice_outbound_sync": false, "customer_sync": "ON_DEMAND"}), 200)
	cus := s.customer("waits", "waits@example.com")
	if err := s.st.Sim.InjectFault(razorpaysim.Fault{Kind: "500", Path: "/v1/customers*", Count: 40}); err != nil {
		t.Fatal(err)
	}
	inv := s.finalized(cus, "inr")
	s.must(s.call("POST", "/api/v1/invoices/"+inv.s("id")+"/sync", nil), 202)
	s.eventually("customer_not_synced recorded", func() bool {
		r := s.call("GET", "/api/v1/invoices/"+inv.s("id"), nil)
		return r.s("razorpay", "error_code") == "customer_not_synced" && r.s("razorpay", "last_error") != ""
	})
	s.st.Sim.ClearFaults()
	s.customerSynced(cus) // the customer's sync re-triggers its waiting invoice
	s.invoiceSynced(inv.s("id"))
}
