package payments

import (
	"fmt"
	"strings"
	"testing"

	"github.com/razorbill/razorbill/internal/billing"
)

func TestLinkDescriptionFitsRazorpaysLimit(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Ä", 80)
	inv := billing.Invoice{InvoiceNumber: "INV-7", Currency: "INR", AmountDue: 500000}
	for i := range 200 {
		inv.LineItems = append(inv.LineItems, billing.LineItem{DisplayName: fmt.Sprint(long, i), Quantity: "1", UnitAmount: "25", Amount: 2500})
	}
	d := LinkDescription(inv)
	if n := len([]rune(d)); n > MaxLinkDescription {
		t.Fatalf("%d characters", n)
	}
	ls := strings.Split(d, "\n")
	if ls[0] != "Invoice INV-7" || ls[len(ls)-1] != "Total: 5000.00 INR" {
		t.Fatalf("head/total: %q %q", ls[0], ls[len(ls)-1])
	}
	if !strings.HasPrefix(ls[len(ls)-2], "… and ") || !strings.HasSuffix(ls[len(ls)-2], " more items") {
		t.Fatalf("no note of the items left out: %q", ls[len(ls)-2])
	}
	shown := len(ls) - 3
	if want := fmt.Sprintf("… and %d more items", 200-shown); ls[len(ls)-2] != want {
		t.Fatalf("note %q, want %q", ls[len(ls)-2], want)
	}
	if first := ls[1]; !strings.HasPrefix(first, strings.Repeat("Ä", 59)+"…: 1 × 25 = 25.00") {
		t.Fatalf("name not cut to 60: %q", first)
	}
	// Everything fits: no note.
	small := billing.Invoice{InvoiceNumber: "INV-8", Currency: "INR", AmountDue: 10000,
		LineItems: []billing.LineItem{{DisplayName: "Seats", Quantity: "2", UnitAmount: "50", Amount: 10000}}}
	if d := LinkDescription(small); d != "Invoice INV-8\nSeats: 2 × 50 = 100.00\nTotal: 100.00 INR" {
		t.Fatalf("%q", d)
	}
}
