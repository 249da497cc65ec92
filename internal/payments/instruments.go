package payments

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/rzsync"
)

// InstrumentGateway is the part of the Razorpay client that closes an
// invoice's payment instruments (links and Razorpay invoices) and reads
// what was paid on them.
type InstrumentGateway interface {
	CancelPaymentLink(ctx context.Context, cr razorpay.Credentials, id string) (razorpay.PaymentLink, error)
	FetchPaymentLink(ctx context.Context, cr razorpay.Credentials, id string) (razorpay.PaymentLink, error)
	FetchPayment(ctx context.Context, cr razorpay.Credentials, id string) (razorpay.Payment, error)
	CancelInvoice(ctx context.Context, cr razorpay.Credentials, id string) (razorpay.Invoice, error)
	FetchInvoice(ctx context.Context, cr razorpay.Credentials, id string) (razorpay.Invoice, error)
	// OrderPayments lists every payment tried on an order: a link's or a
	// Razorpay invoice's failed tries and paid parts.
	OrderPayments(ctx context.Context, cr razorpay.Credentials, orderID string) ([]razorpay.Payment, error)
}

// Applier applies a Razorpay event as the payment-reconciler does
// ((*reconcile.Reconciler).Apply): money found paid at Razorpay while
// closing an instrument is applied through it, exactly once (the
// reconciler keys applied money by the Razorpay payment id).
type Applier interface {
	Apply(ctx context.Context, sc billing.Scope, m billing.EventMessage) error
}

// linkStatusKey records in a payment's metadata that Razorpay showed its
// link closed (cancelled or expired), so it is not asked again.
const linkStatusKey = "razorpay_payment_link_status"

func isLink(p billing.Payment) bool { return strings.HasPrefix(p.GatewayTrackingID, "plink_") }

// instruments is the gateway for closing instruments (the Razorpay client
// serves both interfaces).
func (s *Service) instruments() (InstrumentGateway, error) {
	if s.Instruments != nil {
		return s.Instruments, nil
	}
	if g, ok := s.Gateway.(InstrumentGateway); ok {
		return g, nil
	}
	return nil, apperr.E(apperr.Internal, "", "payments: no gateway to close payment instruments")
}

func alreadyPaid(invID, what string) *apperr.Error {
	return conflict("invoice_already_paid", "invoice %s was paid at Razorpay (%s); the payment has been applied", invID, what)
}

// closeEarlierLinks cancels every link of inv (except the payment except)
// that Razorpay may still show created: links of payments that do not hold
// the invoice any more (a failed attempt leaves its link payable) and are
// not known closed. A link that turns out paid → 409 invoice_already_paid,
// with the money applied.
func (s *Service) closeEarlierLinks(ctx context.Context, sc billing.Scope, conn billing.Connection, inv billing.Invoice, except string) error {
	var todo []billing.Payment
	opt := billing.ListOptions{Limit: 100}
	for {
		page, err := s.Store.ListPayments(ctx, sc, inv.ID, opt)
		if err != nil {
			return err
		}
		for _, p := range page.Data {
			if p.ID == except || !isLink(p) {
				continue
			}
			switch p.PaymentStatus {
			case billing.PaymentSucceeded, billing.PaymentRefunded, billing.PaymentPartiallyRefunded, billing.PaymentCancelled, billing.PaymentInitiated:
				continue
			}
			if holdsInvoice(p) {
				// Still the invoice's instrument (or another request's
				// brand-new one, made after this request read the invoice):
				// never cancelled from here; the claim decides who wins.
				continue
			}
			switch p.Metadata[linkStatusKey] {
			case "cancelled", "expired", "paid":
				continue
			}
			todo = append(todo, p)
		}
		if !page.HasMore || len(page.Data) == 0 {
			break
		}
		opt.StartingAfter = page.Data[len(page.Data)-1].ID
	}
	if len(todo) == 0 {
		return nil
	}
	gw, err := s.instruments()
	if err != nil {
		return err
	}
	cr, err := rzsync.Credentials(ctx, s.Secrets, conn)
	if err != nil {
		return err
	}
	for _, p := range todo {
		link, err := s.cancelLink(ctx, sc, gw, cr, inv.ID, p.ID, p.GatewayTrackingID)
		if err != nil {
			return err
		}
		if err := s.closedAtRazorpay(ctx, sc, p.ID, link.Status); err != nil {
			return err
		}
	}
	return nil
}

// cancelLink cancels payment payID's link at Razorpay, after recording on
// the payment that it asked (markCancelRequested). A refused cancel is
// judged by the link's state: closed is success; paid or partially paid
// applies the money and answers 409 invoice_already_paid.
func (s *Service) cancelLink(ctx context.Context, sc billing.Scope, gw InstrumentGateway, cr razorpay.Credentials, invID, payID, linkID string) (razorpay.PaymentLink, error) {
	if err := s.markCancelRequested(ctx, sc, payID); err != nil {
		return razorpay.PaymentLink{}, err
	}
	link, err := gw.CancelPaymentLink(ctx, cr, linkID)
	if err == nil {
		return link, nil
	}
	if apperr.Retryable(err) {
		return link, err
	}
	link, ferr := gw.FetchPaymentLink(ctx, cr, linkID)
	if ferr != nil {
		return link, ferr
	}
	switch link.Status {
	case "cancelled", "expired":
		return link, nil
	case "paid", "partially_paid":
		if err := s.applyLink(ctx, sc, gw, cr, link); err != nil {
			return link, err
		}
		return link, alreadyPaid(invID, "payment link "+link.ID+" is "+link.Status)
	}
	return link, apperr.Wrap(err, apperr.KindOf(err), "", "Razorpay refused to cancel payment link "+linkID)
}

// markCancelRequested records on payment payID that Razorbill is about to
// cancel its link, before it asks Razorpay: a sweep that reads the link
// cancelled between the call and closedAtRazorpay then knows the cancel
// was Razorbill's own, not a payment_link.cancelled webhook that never
// came (refreshLink).
func (s *Service) markCancelRequested(ctx context.Context, sc billing.Scope, payID string) error {
	return s.updatePayment(ctx, sc, payID, func(p *billing.Payment) {
		now := s.now()
		p.CancelRequestedAt = &now
	})
}

// updatePayment applies change to payment payID as stored and writes it if
// nobody wrote the payment meanwhile; after a lost race it reads it again
// and applies change anew (6 tries).
func (s *Service) updatePayment(ctx context.Context, sc billing.Scope, payID string, change func(p *billing.Payment)) error {
	for attempt := 0; ; attempt++ {
		p, err := s.Store.Payment(ctx, sc, payID)
		if err != nil {
			return err
		}
		expected := p.Version
		change(&p)
		p.Version = expected + 1
		err = s.Store.UpdatePayment(ctx, sc, p, expected)
		if err == nil || !apperr.HasCode(err, apperr.CodeConcurrentUpdate) || attempt == 5 {
			return err
		}
	}
}

// closedAtRazorpay marks a payment whose link Razorpay shows closed: a
// payment that held its invoice becomes CANCELLED and frees it; others
// keep their status and only remember the link's state.
func (s *Service) closedAtRazorpay(ctx context.Context, sc billing.Scope, payID, linkStatus string) error {
	for attempt := 0; ; attempt++ {
		p, err := s.Store.Payment(ctx, sc, payID)
		if err != nil {
			return err
		}
		inv, err := s.Store.Invoice(ctx, sc, p.DestinationID)
		if err != nil {
			return err
		}
		now := s.now()
		ep, ei := p.Version, inv.Version
		p.Version++
		if p.Metadata == nil {
			p.Metadata = map[string]string{}
		}
		p.Metadata[linkStatusKey] = linkStatus
		p.UpdatedAt, p.ClaimedUntil = now, nil
		// Cancelled by us: an open payment, or one whose last try failed
		// (no money) while this cancel ran — its link is closed now, so
		// nothing more can be tried on it.
		if holdsInvoice(p) || (p.PaymentStatus == billing.PaymentFailed && p.AmountReceived == 0) {
			p.PaymentStatus = billing.PaymentCancelled
		}
		if inv.OpenPaymentID == p.ID {
			inv.Version++
			inv.OpenPaymentID, inv.UpdatedAt = "", now
			err = s.Store.SavePaymentAndInvoice(ctx, sc, p, ep, inv, ei, nil)
		} else {
			err = s.Store.UpdatePayment(ctx, sc, p, ep)
		}
		if err == nil || !apperr.HasCode(err, apperr.CodeConcurrentUpdate) || attempt == 5 {
			return err
		}
	}
}

// applyLink applies every captured payment of a link through the
// reconciler, as a payment_link.paid (or partially_paid) event built from
// what Razorpay shows: the link and each payment fetched.
func (s *Service) applyLink(ctx context.Context, sc billing.Scope, gw InstrumentGateway, cr razorpay.Credentials, link razorpay.PaymentLink) error {
	_, err := s.applyLinkPayments(ctx, sc, gw, cr, link)
	return err
}

// applyLinkPayments is applyLink; it also answers how many of the link's
// payments it applied that had not been applied before (no webhook had
// announced them). A payment already applied is not fetched again.
func (s *Service) applyLinkPayments(ctx context.Context, sc billing.Scope, gw InstrumentGateway, cr razorpay.Credentials, link razorpay.PaymentLink) (int, error) {
	if s.Applier == nil {
		return 0, nil
	}
	name := "payment_link.partially_paid"
	if link.Status == "paid" {
		name = "payment_link.paid"
	}
	n := 0
	for _, lp := range link.Payments {
		if lp.PaymentID == "" || (lp.Status != "" && lp.Status != "captured") {
			continue
		}
		if done, err := s.applied(ctx, sc, lp.PaymentID); err != nil || done {
			if err != nil {
				return n, err
			}
			continue
		}
		rp, err := gw.FetchPayment(ctx, cr, lp.PaymentID)
		if err != nil {
			return n, err
		}
		if rp.Status != "captured" {
			continue
		}
		payload := map[string]any{
			"payment":      map[string]any{"entity": paymentEntity(rp)},
			"payment_link": map[string]any{"entity": linkEntity(link)},
		}
		if err := s.applyEvent(ctx, sc, name, rp.ID, []string{"payment_link", "payment"}, payload); err != nil {
			return n, err
		}
		if done, err := s.applied(ctx, sc, rp.ID); err == nil && done {
			n++
		}
	}
	return n, nil
}

// applyInvoice applies the payment a Razorpay invoice names as an
// invoice.paid (or partially_paid) event built from what Razorpay shows.
func (s *Service) applyInvoice(ctx context.Context, sc billing.Scope, gw InstrumentGateway, cr razorpay.Credentials, inv razorpay.Invoice) error {
	if s.Applier == nil || inv.PaymentID == "" {
		return nil
	}
	rp, err := gw.FetchPayment(ctx, cr, inv.PaymentID)
	if err != nil {
		return err
	}
	if rp.Status != "captured" {
		return nil
	}
	payload := map[string]any{
		"payment": map[string]any{"entity": paymentEntity(rp)},
		"invoice": map[string]any{"entity": invoiceEntity(inv)},
	}
	return s.applyEvent(ctx, sc, "invoice."+inv.Status, rp.ID, []string{"invoice", "payment"}, payload)
}

// applyEvent applies a synthetic event whose id is "razorbill_fetched_"
// + key (the Razorpay payment id, or another key naming what was fetched).
func (s *Service) applyEvent(ctx context.Context, sc billing.Scope, name, key string, contains []string, payload map[string]any) error {
	now := s.now()
	body, err := json.Marshal(map[string]any{"entity": "event", "event": name, "contains": contains, "payload": payload, "created_at": now.Unix()})
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "", "encode event")
	}
	err = s.Applier.Apply(ctx, sc, billing.EventMessage{TenantID: sc.TenantID, EnvironmentID: sc.EnvironmentID,
		EventID: "razorbill_fetched_" + key, Event: name, ReceivedAt: now, Body: string(body)})
	if err != nil && apperr.Retryable(err) {
		return err
	}
	// Not applicable here (unmatched): Razorpay's own webhook for the same
	// payment still arrives and is parked if it matches nothing.
	return nil
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func paymentEntity(p razorpay.Payment) map[string]any {
	return map[string]any{"id": p.ID, "entity": "payment", "amount": p.Amount, "currency": p.Currency, "status": p.Status,
		"captured": p.Captured, "method": p.Method, "order_id": nullStr(p.OrderID), "invoice_id": nullStr(p.InvoiceID),
		"customer_id": nullStr(p.CustomerID), "amount_refunded": p.AmountRefunded, "notes": notes(p.Notes), "created_at": unix(p.CreatedAt)}
}

func linkEntity(l razorpay.PaymentLink) map[string]any {
	return map[string]any{"id": l.ID, "entity": "payment_link", "status": l.Status, "amount": l.Amount, "amount_paid": l.AmountPaid,
		"currency": l.Currency, "reference_id": l.ReferenceID, "short_url": l.ShortURL, "order_id": nullStr(l.OrderID),
		"notes": notes(l.Notes), "created_at": unix(l.CreatedAt)}
}

func invoiceEntity(inv razorpay.Invoice) map[string]any {
	return map[string]any{"id": inv.ID, "entity": "invoice", "status": inv.Status, "amount": inv.Amount, "amount_paid": inv.AmountPaid,
		"amount_due": inv.AmountDue, "currency": inv.Currency, "receipt": inv.Receipt, "short_url": inv.ShortURL,
		"order_id": nullStr(inv.OrderID), "payment_id": nullStr(inv.PaymentID), "customer_id": nullStr(inv.CustomerID),
		"notes": notes(inv.Notes), "created_at": unix(inv.CreatedAt)}
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func notes(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Cancel is POST /api/v1/payments/{id}/cancel: it cancels the payment's
// open link at Razorpay; the payment becomes CANCELLED and the invoice is
// free. A payment that does not hold its invoice, or whose instrument is a
// Razorpay invoice (void the invoice instead), → 409
// payment_not_cancellable; a link Razorpay shows paid → 409
// invoice_already_paid with the money applied.
func (s *Service) Cancel(ctx context.Context, sc billing.Scope, id string) (billing.Payment, error) {
	p, err := s.Store.Payment(ctx, sc, id)
	if err != nil {
		return p, err
	}
	notCancellable := func(format string, args ...any) error {
		return conflict("payment_not_cancellable", format, args...).WithDetails(map[string]any{"payment_id": p.ID, "payment_status": p.PaymentStatus})
	}
	if !holdsInvoice(p) {
		return p, notCancellable("payment %s is %s; only an open (PENDING or PROCESSING) payment can be cancelled", p.ID, p.PaymentStatus)
	}
	if p.PaymentURL != "" && !isLink(p) {
		return p, notCancellable("payment %s is paid through the invoice's Razorpay invoice; void the invoice to cancel it", p.ID)
	}
	conn, err := rzsync.ActiveConnection(ctx, s.Store, sc)
	if err != nil {
		return p, err
	}
	gw, err := s.instruments()
	if err != nil {
		return p, err
	}
	cr, err := rzsync.Credentials(ctx, s.Secrets, conn)
	if err != nil {
		return p, err
	}
	linkID := p.GatewayTrackingID
	if linkID == "" {
		// No link stored yet: while the claim lasts its request may still
		// be creating it; after that, take the claim so nothing creates it
		// meanwhile, and look it up.
		now := s.now()
		if s.claimAlive(p, now) {
			return p, notCancellable("the link of payment %s is being created; retry shortly", p.ID)
		}
		if p, err = s.takeClaim(ctx, sc, p, now); err != nil {
			if apperr.HasCode(err, apperr.CodeConcurrentUpdate) {
				return p, apperr.E(apperr.Conflict, apperr.CodeConcurrentUpdate, "payment %s changed while this request ran; retry", id)
			}
			return p, err
		}
		link, ok, err := s.Gateway.FindPaymentLinkByReference(ctx, cr, p.ID)
		if err != nil {
			return p, err
		}
		if ok {
			linkID = link.ID
		}
	}
	status := "cancelled"
	if linkID != "" {
		link, err := s.cancelLink(ctx, sc, gw, cr, p.DestinationID, p.ID, linkID)
		if err != nil {
			return p, err
		}
		status = link.Status
	}
	if err := s.closedAtRazorpay(ctx, sc, p.ID, status); err != nil {
		return p, err
	}
	return s.Store.Payment(ctx, sc, p.ID)
}

// VoidInvoice is POST /api/v1/invoices/{id}/void. Before the invoice is
// voided, its payment instruments are closed at Razorpay: the open link
// and any earlier link Razorpay may still show created are cancelled, and
// a synced Razorpay invoice is cancelled. If Razorpay shows any of them
// paid → 409 invoice_already_paid and the money is applied.
func (s *Service) VoidInvoice(ctx context.Context, sc billing.Scope, id string) (billing.Invoice, error) {
	inv, err := s.Store.Invoice(ctx, sc, id)
	if err != nil {
		return inv, err
	}
	probe := inv
	probe.OpenPaymentID = ""
	if err := probe.Void(s.now()); err != nil {
		return inv, err
	}
	if inv.OpenPaymentID != "" {
		open, err := s.Store.Payment(ctx, sc, inv.OpenPaymentID)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return inv, err
		}
		if err == nil && holdsInvoice(open) && (isLink(open) || open.PaymentURL == "") {
			if _, err := s.Cancel(ctx, sc, open.ID); err != nil {
				if apperr.HasCode(err, "payment_not_cancellable") {
					return inv, linkExists(inv.ID, open)
				}
				return inv, err
			}
		}
	}
	needRazorpay := inv.RazorpayInvoiceID != ""
	var conn billing.Connection
	if page, err := s.Store.ListPayments(ctx, sc, inv.ID, billing.ListOptions{Limit: 100}); err != nil {
		return inv, err
	} else {
		for _, p := range page.Data {
			needRazorpay = needRazorpay || isLink(p)
		}
	}
	if needRazorpay {
		if conn, err = rzsync.ActiveConnection(ctx, s.Store, sc); err != nil {
			return inv, err
		}
		if err := s.closeEarlierLinks(ctx, sc, conn, inv, ""); err != nil {
			return inv, err
		}
	}
	cancelled := ""
	for attempt := 0; ; attempt++ {
		cur, err := s.Store.Invoice(ctx, sc, id)
		if err != nil {
			return cur, err
		}
		// The Razorpay invoice is cancelled first — also one a sync stored
		// while this void ran (a sync still running when the invoice is
		// voided cancels what it made itself).
		if cur.RazorpayInvoiceID != "" && cur.RazorpayInvoiceID != cancelled {
			if conn.KeyID == "" {
				if conn, err = rzsync.ActiveConnection(ctx, s.Store, sc); err != nil {
					return cur, err
				}
			}
			if err := s.cancelRazorpayInvoice(ctx, sc, conn, cur); err != nil {
				return cur, err
			}
			cancelled = cur.RazorpayInvoiceID
			continue
		}
		// The open payment of a Razorpay invoice just cancelled is closed
		// with it.
		var open billing.Payment
		openFound := false
		if cur.OpenPaymentID != "" && cur.RazorpayInvoiceID != "" {
			if p, err := s.Store.Payment(ctx, sc, cur.OpenPaymentID); err == nil && p.GatewayTrackingID == cur.RazorpayInvoiceID && holdsInvoice(p) {
				open, openFound = p, true
				cur.OpenPaymentID = ""
			}
		}
		now := s.now()
		if err := cur.Void(now); err != nil {
			return cur, err
		}
		expected := cur.Version
		cur.Version++
		cur.UpdatedAt = now
		if openFound {
			ep := open.Version
			open.Version++
			open.PaymentStatus, open.UpdatedAt = billing.PaymentCancelled, now
			err = s.Store.SavePaymentAndInvoice(ctx, sc, open, ep, cur, expected, nil)
		} else {
			err = s.Store.UpdateInvoice(ctx, sc, cur, expected)
		}
		if err == nil {
			return cur, nil
		}
		if !apperr.HasCode(err, apperr.CodeConcurrentUpdate) || attempt == 5 {
			return cur, err
		}
	}
}

// cancelRazorpayInvoice cancels the invoice's synced Razorpay invoice. A
// refused cancel is judged by its state: cancelled or expired is success;
// paid or partially paid applies the money → 409 invoice_already_paid.
func (s *Service) cancelRazorpayInvoice(ctx context.Context, sc billing.Scope, conn billing.Connection, inv billing.Invoice) error {
	gw, err := s.instruments()
	if err != nil {
		return err
	}
	cr, err := rzsync.Credentials(ctx, s.Secrets, conn)
	if err != nil {
		return err
	}
	_, err = gw.CancelInvoice(ctx, cr, inv.RazorpayInvoiceID)
	if err == nil || apperr.Retryable(err) {
		return err
	}
	rz, ferr := gw.FetchInvoice(ctx, cr, inv.RazorpayInvoiceID)
	if ferr != nil {
		return ferr
	}
	switch rz.Status {
	case "cancelled", "expired", "deleted":
		return nil
	case "paid", "partially_paid":
		if err := s.applyInvoice(ctx, sc, gw, cr, rz); err != nil {
			return err
		}
		return alreadyPaid(inv.ID, fmt.Sprintf("Razorpay invoice %s is %s", rz.ID, rz.Status))
	}
	return apperr.Wrap(err, apperr.KindOf(err), "", "Razorpay refused to cancel invoice "+inv.RazorpayInvoiceID)
}
