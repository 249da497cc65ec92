package httpapi_test

import "testing"

// Finalize refuses a total above zero that Razorpay could never collect
// (below the currency's minimum) and changes nothing; three-decimal lines
// are rounded to a multiple of 0.010, so what finalizes can be collected.
func TestFinalizeRefusesAmountsBelowTheMinimum(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c := a.tenant("Minimums").c()
	cus := customer(a, c, "min")

	small := draft(a, c, cus, "0.99") // ₹0.99 < ₹1.00
	a.expect(a.do(c, "POST", "/api/v1/invoices/"+small+"/finalize", nil), 409, "amount_below_minimum")
	if r := a.do(c, "GET", "/api/v1/invoices/"+small, nil); r.str("invoice_status") != "DRAFT" || r.str("finalized_at") != "" {
		t.Fatalf("a refused finalize changed the invoice: %s", r.Raw)
	}
	a.expect(a.do(c, "POST", "/api/v1/invoices/"+draft(a, c, cus, "1")+"/finalize", nil), 200, "")
	a.expect(a.do(c, "POST", "/api/v1/invoices/"+draft(a, c, cus, "0")+"/finalize", nil), 200, "") // nothing to pay: paid at once

	kwd := func(qty, unit string) resp {
		r := a.do(c, "POST", "/api/v1/invoices", map[string]any{"customer_id": cus, "currency": "kwd", "line_items": []any{
			map[string]any{"display_name": "Usage", "price_type": "USAGE", "quantity": qty, "unit_amount": unit}}})
		a.expect(r, 201, "")
		return r
	}
	// 1234567 × 0.0015 = 1851.8505 → 1851.850 (not 1851.851): Razorpay collects 0.010 steps
	if r := kwd("1234567", "0.0015"); r.str("amount_due") != "1851.850" || r.Body["line_items"].([]any)[0].(map[string]any)["amount"] != "1851.850" {
		t.Fatalf("KWD usage line: %s", r.Raw)
	}
	// 1 × 1.005 → 1.010: half-up once, to the step
	r := kwd("1", "1.005")
	if r.str("amount_due") != "1.010" {
		t.Fatalf("KWD half step: %s", r.Raw)
	}
	a.expect(a.do(c, "POST", "/api/v1/invoices/"+r.str("id")+"/finalize", nil), 200, "")
	// 3 × 0.0021 = 0.0063 → 0.010, the KWD minimum: finalizes
	a.expect(a.do(c, "POST", "/api/v1/invoices/"+kwd("3", "0.0021").str("id")+"/finalize", nil), 200, "")
	// 1 × 0.0049 → 0.000: nothing to pay
	if z := kwd("1", "0.0049"); z.str("amount_due") != "0.000" {
		t.Fatalf("KWD below half a step: %s", z.Raw)
	}
}
