package rzsync

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/razorpay"
)

// RazorpayLines maps an invoice's lines to Razorpay line items whose total
// equals the invoice's amount due to the minor unit:
//
//   - a line whose quantity is a whole number and whose unit price is a
//     whole number of minor units is sent as it is (unit amount × quantity);
//   - any other line (usage at a fractional price, fractional quantities) is
//     sent as quantity 1 at its exact line amount, with "quantity × unit
//     price" in its description;
//   - lines of amount 0 are left out (Razorpay refuses them);
//   - beyond 50 lines, the first 49 are sent and the rest are grouped into a
//     50th line "N more items" at their exact sum;
//   - in a three-decimal currency every Razorpay amount must end in 0: if a
//     line does not, all lines are grouped into one line at the total.
//
// Nothing is ever rounded: if the total itself cannot be charged (a
// three-decimal total not ending in 0), it is an error.
func RazorpayLines(inv billing.Invoice) ([]razorpay.InvoiceLineItem, error) {
	cur, err := money.LookupCurrency(inv.Currency)
	if err != nil {
		return nil, apperr.E(apperr.Permanent, "invalid_invoice_amount", "%v", err)
	}
	if _, err := money.ToRazorpay(inv.AmountDue, cur); err != nil {
		return nil, apperr.E(apperr.Permanent, "invalid_invoice_amount", "%v", err)
	}
	var out []razorpay.InvoiceLineItem
	threeDecimalMisfit := false
	var total int64
	for _, li := range inv.LineItems {
		if li.Amount == 0 {
			continue
		}
		total += li.Amount
		item := razorpay.InvoiceLineItem{Name: truncate(li.DisplayName, 250), Description: li.Description, Currency: cur.Code, Amount: li.Amount, Quantity: 1}
		q, qerr := decimal.NewFromString(li.Quantity)
		u, uerr := decimal.NewFromString(li.UnitAmount)
		if qerr == nil && uerr == nil && q.IsInteger() && q.IsPositive() {
			unitMinor := u.Shift(int32(cur.Exponent))
			if unitMinor.IsInteger() && unitMinor.Mul(q).Equal(decimal.NewFromInt(li.Amount)) && q.LessThan(decimal.NewFromInt(1_000_000_000)) {
				item.Amount, item.Quantity = unitMinor.IntPart(), q.IntPart()
			}
		}
		if item.Quantity == 1 && li.Quantity != "1" {
			item.Description = strings.TrimSpace(fmt.Sprintf("%s × %s %s %s", li.Quantity, li.UnitAmount, cur.Code, li.Description))
		}
		if cur.Exponent == 3 && item.Amount%10 != 0 {
			threeDecimalMisfit = true
		}
		out = append(out, item)
	}
	if total != inv.AmountDue {
		return nil, apperr.E(apperr.Internal, "", "invoice %s lines sum to %d, amount due is %d", inv.ID, total, inv.AmountDue)
	}
	if threeDecimalMisfit {
		return []razorpay.InvoiceLineItem{{Name: "Invoice " + inv.InvoiceNumber, Description: fmt.Sprintf("%d items; %s requires amounts ending in 0, so the lines are grouped", len(out), cur.Code), Currency: cur.Code, Amount: inv.AmountDue, Quantity: 1}}, nil
	}
	if len(out) > billing.MaxLineItemsPerRzp {
		rest := out[billing.MaxLineItemsPerRzp-1:]
		var sum int64
		for _, r := range rest {
			sum += r.Amount * r.Quantity
		}
		out = append(out[:billing.MaxLineItemsPerRzp-1:billing.MaxLineItemsPerRzp-1], razorpay.InvoiceLineItem{
			Name: fmt.Sprintf("%d more items", len(rest)), Description: "see invoice " + inv.InvoiceNumber + " for the itemised lines",
			Currency: cur.Code, Amount: sum, Quantity: 1,
		})
	}
	return out, nil
}

// SyncInvoice creates the invoice at Razorpay (or finds the one a crashed
// earlier attempt created) and stores its id and short URL. force syncs
// even when the connection's invoice_outbound_sync is off (a manual sync).
func (s *Syncer) SyncInvoice(ctx context.Context, sc billing.Scope, id string, force bool) (billing.Invoice, error) {
	inv, err := s.Store.Invoice(ctx, sc, id)
	if err != nil {
		return inv, err
	}
	switch {
	case inv.RazorpayInvoiceID != "":
		return inv, nil
	case inv.InvoiceStatus != billing.InvoiceFinalized:
		return inv, apperr.E(apperr.Conflict, "invoice_not_finalized", "invoice %s is %s; only finalized invoices are synced", inv.ID, inv.InvoiceStatus)
	case inv.AmountDue == 0 || inv.Paid():
		return inv, nil // nothing to collect: never synced
	}
	conn, err := ActiveConnection(ctx, s.Store, sc)
	if err != nil {
		return inv, err
	}
	if !conn.InvoiceOutboundSync && !force {
		return inv, nil
	}
	now := s.now()
	if inv.SyncLeaseUntil != nil && inv.SyncLeaseUntil.After(now) {
		return inv, errBusy
	}
	until := now.Add(s.lease())
	expected := inv.Version
	inv.Version++
	inv.SyncLeaseUntil, inv.SyncStatus, inv.UpdatedAt = &until, billing.SyncPending, now
	inv.SyncAttempts++
	if err := s.Store.UpdateInvoice(ctx, sc, inv, expected); err != nil {
		if apperr.HasCode(err, apperr.CodeConcurrentUpdate) {
			return inv, errBusy
		}
		return inv, err
	}
	cus, err := s.SyncCustomer(ctx, sc, inv.CustomerID)
	if err != nil || cus.RazorpayCustomerID == "" {
		cause := apperr.E(apperr.Permanent, "customer_not_synced", "customer %s is not synced to Razorpay: %s", inv.CustomerID, apperr.PublicMessage(err))
		if err != nil && apperr.Retryable(err) {
			cause = apperr.Wrap(err, apperr.Transient, "customer_not_synced", "customer "+inv.CustomerID+" could not be synced yet: "+apperr.PublicMessage(err))
		}
		return inv, s.invoiceFailed(ctx, sc, inv, cause)
	}
	cr, err := Credentials(ctx, s.Secrets, conn)
	if err != nil {
		return inv, s.invoiceFailed(ctx, sc, inv, err)
	}
	ri, err := s.findOrCreateInvoice(ctx, cr, sc, inv, cus)
	if err != nil {
		return inv, s.invoiceFailed(ctx, sc, inv, err)
	}
	if err := s.Store.PutRef(ctx, sc, ri.ID, inv.ID); err != nil {
		return inv, s.invoiceFailed(ctx, sc, inv, err)
	}
	// Re-read: a payment may have landed while Razorpay answered.
	cur, err := s.Store.Invoice(ctx, sc, id)
	if err != nil {
		return inv, err
	}
	expected = cur.Version
	cur.Version++
	t := s.now()
	cur.RazorpayInvoiceID, cur.RazorpayShortURL, cur.SyncStatus, cur.SyncError, cur.SyncErrorCode, cur.SyncedAt, cur.SyncLeaseUntil, cur.UpdatedAt =
		ri.ID, ri.ShortURL, billing.SyncSynced, "", "", &t, nil, t
	if err := s.Store.UpdateInvoice(ctx, sc, cur, expected); err != nil {
		return cur, err // a retry finds the Razorpay invoice by receipt
	}
	return cur, nil
}

func (s *Syncer) findOrCreateInvoice(ctx context.Context, cr razorpay.Credentials, sc billing.Scope, inv billing.Invoice, cus billing.Customer) (razorpay.Invoice, error) {
	found, ok, err := s.Gateway.FindInvoiceByReceipt(ctx, cr, inv.InvoiceNumber)
	if err != nil {
		return found, err
	}
	if ok && found.Notes["razorbill_invoice_id"] == inv.ID {
		return found, nil
	}
	lines, err := RazorpayLines(inv)
	if err != nil {
		return razorpay.Invoice{}, err
	}
	in := razorpay.InvoiceInput{
		CustomerID: cus.RazorpayCustomerID, Currency: inv.Currency, Receipt: inv.InvoiceNumber,
		Description: "Invoice " + inv.InvoiceNumber, LineItems: lines,
		SMSNotify: false, EmailNotify: false, PartialPayment: true,
		Notes: map[string]string{"razorbill_invoice_id": inv.ID, "invoice_number": inv.InvoiceNumber, "tenant_id": sc.TenantID, "environment_id": sc.EnvironmentID},
	}
	if inv.DueDate != nil && inv.DueDate.After(s.now().Add(16*time.Minute)) {
		in.ExpireBy = *inv.DueDate
	}
	return s.Gateway.CreateInvoice(ctx, cr, in)
}

func (s *Syncer) invoiceFailed(ctx context.Context, sc billing.Scope, inv billing.Invoice, cause error) error {
	cur, err := s.Store.Invoice(ctx, sc, inv.ID)
	if err != nil {
		return cause
	}
	expected := cur.Version
	cur.Version++
	cur.SyncLeaseUntil, cur.UpdatedAt = nil, s.now()
	cur.SyncError = apperr.PublicMessage(cause)
	if e := apperr.As(cause); e != nil {
		cur.SyncErrorCode = e.Code
	}
	if !apperr.Retryable(cause) {
		cur.SyncStatus = billing.SyncFailed
	}
	if err := s.Store.UpdateInvoice(ctx, sc, cur, expected); err != nil {
		return cause
	}
	return cause
}

// InvoicesAwaitingCustomer lists a customer's finalized invoices whose sync
// failed because the customer was not synced: a customer sync re-triggers them.
func (s *Syncer) InvoicesAwaitingCustomer(ctx context.Context, sc billing.Scope, customerID string) ([]billing.Invoice, error) {
	var out []billing.Invoice
	opt := billing.ListOptions{Limit: 100}
	for {
		p, err := s.Store.ListInvoices(ctx, sc, billing.InvoiceFilter{CustomerID: customerID, Status: billing.InvoiceFinalized}, opt)
		if err != nil {
			return nil, err
		}
		for _, inv := range p.Data {
			if inv.RazorpayInvoiceID == "" && inv.SyncStatus == billing.SyncFailed && inv.SyncErrorCode == "customer_not_synced" {
				out = append(out, inv)
			}
		}
		if !p.HasMore || len(p.Data) == 0 {
			return out, nil
		}
		opt.StartingAfter = p.Data[len(p.Data)-1].ID
	}
}
