package rzsync

import (
	"context"
	"errors"
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
//   - a line with a discount (a subscription's coupon) is sent as quantity 1
//     at its amount after discount, the discount named in its description;
//   - each GST line ("CGST 9%") is sent as its own line at its amount: the
//     Razorpay invoice API cannot set tax rates, HSN or SAC codes, so the
//     taxes are lines and the total still equals ours;
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
		net := li.Amount - li.Discount
		if net == 0 {
			continue
		}
		total += net
		item := razorpay.InvoiceLineItem{Name: truncate(li.DisplayName, 250), Description: li.Description, Currency: cur.Code, Amount: net, Quantity: 1}
		if li.Discount > 0 {
			item.Description = strings.TrimSpace(fmt.Sprintf("%s × %s %s %s; %s %s before a discount of %s", li.Quantity, li.UnitAmount, cur.Code, li.Description,
				money.Format(li.Amount, cur), cur.Code, money.Format(li.Discount, cur)))
			if cur.Exponent == 3 && item.Amount%10 != 0 {
				threeDecimalMisfit = true
			}
			out = append(out, item)
			continue
		}
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
	for _, t := range inv.TaxLines {
		if t.Amount == 0 {
			continue
		}
		total += t.Amount
		if cur.Exponent == 3 && t.Amount%10 != 0 {
			threeDecimalMisfit = true
		}
		out = append(out, razorpay.InvoiceLineItem{Name: t.Name, Description: "tax on the lines above", Currency: cur.Code, Amount: t.Amount, Quantity: 1})
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
// While another sync holds the invoice's lease it answers errBusy at once
// (the queue retries). An invoice that another instrument can already be
// paid through (an open payment link, money applied) is never issued at
// Razorpay: it is returned unchanged.
func (s *Syncer) SyncInvoice(ctx context.Context, sc billing.Scope, id string, force bool) (billing.Invoice, error) {
	return s.syncInvoiceOnce(ctx, sc, id, force)
}

// SyncInvoiceWaiting is the on-demand sync a payment request runs: the same
// find-or-create under the same lease as the queue-driven sync, waiting (up
// to Wait) while another sync holds the lease. It returns the invoice; its
// RazorpayShortURL is set when it is synced, and empty when the connection's
// invoice_outbound_sync is off or the invoice is not to be synced (nothing
// due, an open payment link, money already applied).
func (s *Syncer) SyncInvoiceWaiting(ctx context.Context, sc billing.Scope, id string) (billing.Invoice, error) {
	return waitWhileBusy(ctx, s, "invoice", func() (billing.Invoice, error) { return s.syncInvoiceOnce(ctx, sc, id, false) })
}

// Receipt is the Razorpay receipt of an invoice: its number and the last 8
// characters of its id (at most 40 characters in all, the number cut to
// fit), so that two Razorbill invoices with one number (another environment
// on the same Razorpay account) or the merchant's own Razorpay invoice with
// that number never share a receipt.
func Receipt(inv billing.Invoice) string {
	suffix := inv.ID
	if i := strings.LastIndexByte(suffix, '_'); i >= 0 {
		suffix = suffix[i+1:]
	}
	if len(suffix) > 8 {
		suffix = suffix[len(suffix)-8:]
	}
	return truncate(inv.InvoiceNumber, razorpay.MaxReceipt-1-len(suffix)) + "-" + suffix
}

// otherInstrument says why the invoice must not get a Razorpay invoice now
// ("" when it may): it is voided, money was already applied to it, or it has
// an open payment link.
func (s *Syncer) otherInstrument(ctx context.Context, sc billing.Scope, inv billing.Invoice) (string, error) {
	switch {
	case inv.InvoiceStatus == billing.InvoiceVoided:
		return "the invoice was voided", nil
	case inv.AmountPaid > 0:
		return "money was already applied to the invoice", nil
	case inv.OpenPaymentID == "":
		return "", nil
	}
	p, err := s.Store.Payment(ctx, sc, inv.OpenPaymentID)
	if apperr.Is(err, apperr.NotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(p.GatewayTrackingID, "plink_") {
		return "the invoice has an open payment link (payment " + p.ID + ")", nil
	}
	if p.GatewayTrackingID == "" && (p.PaymentStatus == billing.PaymentPending || p.PaymentStatus == billing.PaymentProcessing) {
		// A payment request claimed the invoice and is making a link (a
		// payment request with outbound sync on syncs before it claims).
		return "a payment link is being made for the invoice (payment " + p.ID + ")", nil
	}
	return "", nil
}

// codeCancelPending marks an invoice whose sync made a Razorpay invoice it
// then had to cancel, and the cancel has not succeeded yet.
const codeCancelPending = "razorpay_cancel_pending"

func (s *Syncer) syncInvoiceOnce(ctx context.Context, sc billing.Scope, id string, force bool) (billing.Invoice, error) {
	inv, err := s.Store.Invoice(ctx, sc, id)
	if err != nil {
		return inv, err
	}
	if inv.RazorpayInvoiceID == "" && inv.SyncErrorCode == codeCancelPending {
		return s.cancelStray(ctx, sc, inv)
	}
	switch {
	case inv.RazorpayInvoiceID != "":
		return inv, nil
	case inv.InvoiceStatus != billing.InvoiceFinalized:
		return inv, apperr.E(apperr.Conflict, "invoice_not_finalized", "invoice %s is %s; only finalized invoices are synced", inv.ID, inv.InvoiceStatus)
	case inv.AmountDue == 0 || inv.Paid():
		return inv, nil // nothing to collect: never synced
	}
	if why, err := s.otherInstrument(ctx, sc, inv); err != nil || why != "" {
		return inv, err
	}
	conn, err := ActiveConnection(ctx, s.Store, sc)
	if err != nil {
		return inv, err
	}
	if !conn.InvoiceOutboundSync && !force {
		return inv, nil
	}
	if err := conn.CheckCurrency(inv.Currency); err != nil {
		return inv, s.invoiceFailed(ctx, sc, inv, err) // FAILED with international_not_enabled; nothing sent
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
	if err != nil || !cus.SyncedFor(conn.KeyID) {
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
	ri, err := s.findOrCreateInvoice(ctx, cr, sc, conn, inv, cus)
	if err != nil {
		return inv, s.invoiceFailed(ctx, sc, inv, InternationalRefusal(ctx, s.Store, sc, inv.Currency, err))
	}
	if err := s.Store.PutRef(ctx, sc, ri.ID, inv.ID); err != nil {
		return inv, s.invoiceFailed(ctx, sc, inv, err)
	}
	return s.storeSynced(ctx, sc, cr, inv, ri)
}

// storeSynced is a sync's final write. It re-reads the invoice (a payment,
// a void or a link may have landed while Razorpay answered) and retries a
// write that lost a version race. If the invoice can now be paid another way
// (voided, an open link, money applied), the Razorpay invoice just made is
// cancelled instead of stored — unless Razorpay shows it already (partly)
// paid, in which case it is stored so its payment is applied.
func (s *Syncer) storeSynced(ctx context.Context, sc billing.Scope, cr razorpay.Credentials, inv billing.Invoice, ri razorpay.Invoice) (billing.Invoice, error) {
	var werr error
	cancelled, keep := false, false
	for attempt := 0; attempt < finalWriteTries; attempt++ {
		cur, err := s.Store.Invoice(ctx, sc, inv.ID)
		if err != nil {
			werr = err
			break
		}
		if cur.RazorpayInvoiceID != "" {
			return cur, nil // stored by a sync that took the lease after ours ran out
		}
		why, err := s.otherInstrument(ctx, sc, cur)
		if err != nil {
			werr = err
			break
		}
		t := s.now()
		expected := cur.Version
		cur.Version++
		cur.SyncLeaseUntil, cur.UpdatedAt = nil, t
		if why != "" && !cancelled && !keep {
			paid, err := s.cancelRazorpayInvoice(ctx, cr, ri.ID)
			if err != nil {
				cur.SyncStatus, cur.SyncError, cur.SyncErrorCode = billing.SyncFailed, "Razorpay invoice "+ri.ID+" must be cancelled ("+why+"): "+apperr.PublicMessage(err), codeCancelPending
				if uerr := s.Store.UpdateInvoice(ctx, sc, cur, expected); uerr != nil && apperr.HasCode(uerr, apperr.CodeConcurrentUpdate) {
					continue
				}
				return cur, apperr.Wrap(err, apperr.Transient, codeCancelPending, "Razorpay invoice "+ri.ID+" could not be cancelled yet")
			}
			cancelled, keep = !paid, paid
		}
		if cancelled { // once cancelled, never stored as the instrument, whatever a re-read says
			if why == "" {
				why = "another instrument held the invoice when the sync finished"
			}
			cur.SyncStatus, cur.SyncError, cur.SyncErrorCode = billing.SyncNotSynced, "Razorpay invoice "+ri.ID+" was cancelled: "+why, ""
		} else {
			cur.RazorpayInvoiceID, cur.RazorpayShortURL, cur.SyncStatus, cur.SyncError, cur.SyncErrorCode, cur.SyncedAt =
				ri.ID, ri.ShortURL, billing.SyncSynced, "", "", &t
		}
		if werr = s.Store.UpdateInvoice(ctx, sc, cur, expected); werr == nil {
			return cur, nil
		}
		if !apperr.HasCode(werr, apperr.CodeConcurrentUpdate) {
			break
		}
	}
	// Release the lease; a retry finds the Razorpay invoice by receipt.
	return inv, s.invoiceFailed(ctx, sc, inv, errFinalWrite(werr))
}

// cancelRazorpayInvoice cancels a Razorpay invoice; paid reports that
// Razorpay refused because it is already (partly) paid.
func (s *Syncer) cancelRazorpayInvoice(ctx context.Context, cr razorpay.Credentials, id string) (paid bool, err error) {
	_, err = s.Gateway.CancelInvoice(ctx, cr, id)
	if err == nil {
		return false, nil
	}
	if apperr.Retryable(err) {
		return false, err
	}
	got, ferr := s.Gateway.FetchInvoice(ctx, cr, id)
	if ferr != nil {
		return false, errors.Join(err, ferr)
	}
	switch got.Status {
	case "cancelled":
		return false, nil
	case "paid", "partially_paid":
		return true, nil
	}
	return false, err
}

// cancelStray finishes a cancel that failed at a sync's final write: it
// finds the Razorpay invoice made for inv and cancels it.
func (s *Syncer) cancelStray(ctx context.Context, sc billing.Scope, inv billing.Invoice) (billing.Invoice, error) {
	conn, err := ActiveConnection(ctx, s.Store, sc)
	if err != nil {
		return inv, err
	}
	cr, err := Credentials(ctx, s.Secrets, conn)
	if err != nil {
		return inv, err
	}
	ri, ok, err := s.findOurs(ctx, cr, inv)
	if err != nil {
		return inv, err
	}
	if ok {
		return s.storeSynced(ctx, sc, cr, inv, ri)
	}
	expected := inv.Version
	inv.Version++
	inv.SyncStatus, inv.SyncErrorCode, inv.UpdatedAt = billing.SyncNotSynced, "", s.now()
	return inv, s.Store.UpdateInvoice(ctx, sc, inv, expected)
}

// findOurs looks for the Razorpay invoice made for inv: among all live
// invoices with its receipt, the one whose notes name inv; then the same
// under the bare invoice number (the receipt of invoices synced before
// receipts carried a suffix).
func (s *Syncer) findOurs(ctx context.Context, cr razorpay.Credentials, inv billing.Invoice) (razorpay.Invoice, bool, error) {
	for _, receipt := range []string{Receipt(inv), inv.InvoiceNumber} {
		found, err := s.Gateway.FindInvoicesByReceipt(ctx, cr, receipt)
		if err != nil {
			return razorpay.Invoice{}, false, err
		}
		for _, f := range found {
			if f.Notes[razorpay.NoteInvoiceID] == inv.ID {
				return f, true, nil
			}
		}
	}
	return razorpay.Invoice{}, false, nil
}

func (s *Syncer) findOrCreateInvoice(ctx context.Context, cr razorpay.Credentials, sc billing.Scope, conn billing.Connection, inv billing.Invoice, cus billing.Customer) (razorpay.Invoice, error) {
	found, ok, err := s.findOurs(ctx, cr, inv)
	if err != nil || ok {
		return found, err
	}
	lines, err := RazorpayLines(inv)
	if err != nil {
		return razorpay.Invoice{}, err
	}
	// A Razorpay invoice never asks for more than is left to pay.
	var ask int64
	for _, l := range lines {
		ask += l.Amount * l.Quantity
	}
	if ask != inv.AmountRemaining() {
		return razorpay.Invoice{}, apperr.E(apperr.Permanent, "invoice_partially_paid", "invoice %s has %d of %d left to pay; a Razorpay invoice would ask for %d", inv.ID, inv.AmountRemaining(), inv.AmountDue, ask)
	}
	in := razorpay.InvoiceInput{
		CustomerID: cus.RazorpayCustomerID, Currency: inv.Currency, Receipt: Receipt(inv),
		Description: "Invoice " + inv.InvoiceNumber, LineItems: lines,
		SMSNotify: conn.InvoiceNotifySMS, EmailNotify: conn.InvoiceNotifyEmail, PartialPayment: true,
		Notes: map[string]string{razorpay.NoteInvoiceID: inv.ID, "invoice_number": inv.InvoiceNumber, "tenant_id": sc.TenantID, "environment_id": sc.EnvironmentID},
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
