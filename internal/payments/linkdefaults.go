package payments

import (
	"fmt"
	"strings"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/money"
)

// MaxLinkDescription is the longest payment link description Razorpay
// accepts, in characters (the simulator refuses longer ones the same way).
const MaxLinkDescription = 2048

// maxLineName is how much of a line's display name the description keeps.
const maxLineName = 60

// LinkDescription is the payment link's description (seed 001: the
// invoice's details and line items): "Invoice <number>", then one line per
// item "<name>: <quantity> × <unit amount> = <amount>", then
// "Total: <amount> <CUR>". Names longer than 60 characters are cut with
// "…"; when the items do not fit in MaxLinkDescription the last ones are
// replaced by "… and N more items" — the header and the total are always
// there.
func LinkDescription(inv billing.Invoice) string {
	cur := money.MustCurrency(inv.Currency)
	head := "Invoice " + inv.InvoiceNumber
	total := fmt.Sprintf("Total: %s %s", money.Format(inv.AmountDue, cur), cur.Code)
	lines := make([]string, 0, len(inv.LineItems))
	for _, li := range inv.LineItems {
		name := []rune(strings.TrimSpace(li.DisplayName))
		if len(name) > maxLineName {
			name = append(name[:maxLineName-1], '…')
		}
		lines = append(lines, fmt.Sprintf("%s: %s × %s = %s", string(name), li.Quantity, li.UnitAmount, money.Format(li.Amount, cur)))
	}
	size := func(s string) int { return len([]rune(s)) }
	used := size(head) + 1 + size(total)
	var b strings.Builder
	b.WriteString(head)
	note := func(n int) string {
		if n == 1 {
			return "… and 1 more item"
		}
		return fmt.Sprintf("… and %d more items", n)
	}
	for i, l := range lines {
		rest := len(lines) - i
		need := used + 1 + size(l)
		if rest > 1 {
			// Keep room for the note should the next lines not fit.
			need += 1 + size(note(rest-1))
		}
		if need > MaxLinkDescription {
			b.WriteString("\n" + note(rest))
			break
		}
		b.WriteString("\n" + l)
		used += 1 + size(l)
	}
	b.WriteString("\n" + total)
	return b.String()
}

// linkSettings are the connection's payment link settings; unset means on
// (seed 001: email and SMS notifications and reminders enabled).
func linkSettings(c billing.Connection) (email, sms, reminders bool) {
	on := func(p *bool) bool { return p == nil || *p }
	return on(c.LinkNotifyEmail), on(c.LinkNotifySMS), on(c.LinkReminders)
}
