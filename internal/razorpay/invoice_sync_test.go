package razorpay_test

import (
	"testing"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/razorpaysim"
)

// A create that gets no answer is healed by the invoice whose notes name
// ours, not by an older invoice of the same customer sharing the receipt.
func TestCreateInvoiceHealsByOurNotesNotByReceiptAlone(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{})
	cust := e.customer(t, 1)
	foreignIn := invoiceInput(cust.ID, "INV-SHARED")
	foreignIn.Notes = map[string]string{razorpay.NoteInvoiceID: "inv_someone_else"}
	foreign, err := e.c.CreateInvoice(ctx(t), e.cr, foreignIn)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultCrashAfterCreate, Method: "POST", Path: "/v1/invoices"}); err != nil {
		t.Fatal(err)
	}
	in := invoiceInput(cust.ID, "INV-SHARED")
	in.Notes = map[string]string{razorpay.NoteInvoiceID: "inv_ours"}
	got, err := e.c.CreateInvoice(ctx(t), e.cr, in)
	if err != nil || got.ID == foreign.ID || got.Notes[razorpay.NoteInvoiceID] != "inv_ours" {
		t.Fatalf("healed create: %+v %v (foreign %s)", got, err, foreign.ID)
	}
	all, err := e.c.FindInvoicesByReceipt(ctx(t), e.cr, "INV-SHARED")
	if err != nil || len(all) != 2 || all[0].ID != foreign.ID || all[1].ID != got.ID {
		t.Fatalf("by receipt, oldest first: %+v %v", all, err)
	}
}

func TestCancelInvoice(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, razorpay.Config{})
	cust := e.customer(t, 2)
	inv, err := e.c.CreateInvoice(ctx(t), e.cr, invoiceInput(cust.ID, "INV-CANCEL"))
	if err != nil {
		t.Fatal(err)
	}
	// the first answer is lost: the retry finds it cancelled
	if err := e.sim.InjectFault(razorpaysim.Fault{Kind: razorpaysim.FaultCrashAfterCreate, Method: "POST", Path: "/v1/invoices/" + inv.ID + "/cancel"}); err != nil {
		t.Fatal(err)
	}
	c, err := e.c.CancelInvoice(ctx(t), e.cr, inv.ID)
	if err != nil || c.Status != "cancelled" {
		t.Fatalf("cancel: %+v %v", c, err)
	}
	if left, err := e.c.FindInvoicesByReceipt(ctx(t), e.cr, "INV-CANCEL"); err != nil || len(left) != 0 {
		t.Fatalf("a cancelled invoice is not live: %+v %v", left, err)
	}
	paid, err := e.c.CreateInvoice(ctx(t), e.cr, invoiceInput(cust.ID, "INV-PAID"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.PayInvoice(paid.ID, razorpaysim.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CancelInvoice(ctx(t), e.cr, paid.ID); apperr.KindOf(err) != apperr.Permanent {
		t.Fatalf("cancel of a paid invoice: %v", err)
	}
}
