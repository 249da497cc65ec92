package payments

// Refresh pulls an open instrument's state from Razorpay and applies what
// it finds through the Applier (the reconciler), as the webhooks would
// have: captured payments (payment_link.paid / invoice.paid), failed tries
// (payment.failed), links and Razorpay invoices closed (payment_link.expired
// or cancelled, invoice.expired) and refunds settled (the refund lookup of
// refund.go). The reconciler's markers make a refresh and a late webhook
// apply each effect once between them. POST …/refresh, the gateway-sweeper
// and nothing else call it.

import (
	"context"
	"strings"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/razorpay"
	"github.com/razorbill/razorbill/internal/rzsync"
)

// applied reports whether the reconciler's marker for key exists.
func (s *Service) applied(ctx context.Context, sc billing.Scope, key string) (bool, error) {
	_, done, err := s.Store.Applied(ctx, sc, key)
	return done, err
}

// Refresh is POST /api/v1/payments/{id}/refresh: it pulls the payment's
// link (or Razorpay invoice) from Razorpay now and answers with the
// updated payment.
func (s *Service) Refresh(ctx context.Context, sc billing.Scope, id string) (billing.Payment, error) {
	p, err := s.Store.Payment(ctx, sc, id)
	if err != nil {
		return p, err
	}
	if p.GatewayTrackingID != "" {
		if _, err := s.RefreshOpen(ctx, sc, id); err != nil {
			return p, err
		}
	}
	return s.Store.Payment(ctx, sc, id)
}

// RefreshInvoice is POST /api/v1/invoices/{id}/refresh: it pulls the
// invoice's Razorpay invoice and every link of it that may be open, and
// answers with the updated invoice.
func (s *Service) RefreshInvoice(ctx context.Context, sc billing.Scope, id string) (billing.Invoice, error) {
	inv, err := s.Store.Invoice(ctx, sc, id)
	if err != nil {
		return inv, err
	}
	if inv.RazorpayInvoiceID != "" {
		if _, err := s.RefreshOpen(ctx, sc, inv.ID); err != nil {
			return inv, err
		}
	}
	opt := billing.ListOptions{Limit: 100}
	for {
		page, err := s.Store.ListPayments(ctx, sc, inv.ID, opt)
		if err != nil {
			return inv, err
		}
		for _, p := range page.Data {
			if p.LinkOpen() {
				if _, err := s.RefreshOpen(ctx, sc, p.ID); err != nil {
					return inv, err
				}
			}
		}
		if !page.HasMore || len(page.Data) == 0 {
			break
		}
		opt.StartingAfter = page.Data[len(page.Data)-1].ID
	}
	return s.Store.Invoice(ctx, sc, id)
}

// RefreshOpen pulls one open instrument — a payment (pay_: its link, or
// the Razorpay invoice it pays), an invoice (inv_: its Razorpay invoice) or
// a refund (rfd_) — and applies what Razorpay shows. It answers how many
// effects it applied that no webhook had applied before (missed events).
func (s *Service) RefreshOpen(ctx context.Context, sc billing.Scope, id string) (int, error) {
	refresh, err := s.OpenRefresher(ctx, sc)
	if err != nil {
		return 0, err
	}
	return refresh(ctx, id)
}

// OpenRefresher reads the environment's connection and opens its key once
// (one KMS Decrypt per sweep, not per instrument) and returns RefreshOpen
// bound to them.
func (s *Service) OpenRefresher(ctx context.Context, sc billing.Scope) (func(ctx context.Context, id string) (int, error), error) {
	conn, err := rzsync.ActiveConnection(ctx, s.Store, sc)
	if err != nil {
		return nil, err
	}
	gw, err := s.instruments()
	if err != nil {
		return nil, err
	}
	cr, err := rzsync.Credentials(ctx, s.Secrets, conn)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, id string) (int, error) { return s.refreshOpen(ctx, sc, gw, cr, id) }, nil
}

func (s *Service) refreshOpen(ctx context.Context, sc billing.Scope, gw InstrumentGateway, cr razorpay.Credentials, id string) (int, error) {
	switch {
	case strings.HasPrefix(id, ids.Payment):
		p, err := s.Store.Payment(ctx, sc, id)
		if err != nil {
			return 0, err
		}
		if isLink(p) {
			return s.refreshLink(ctx, sc, gw, cr, p)
		}
		if strings.HasPrefix(p.GatewayTrackingID, "inv_") {
			inv, err := s.Store.Invoice(ctx, sc, p.DestinationID)
			if err != nil {
				return 0, err
			}
			return s.refreshRazorpayInvoice(ctx, sc, gw, cr, inv)
		}
		return 0, nil
	case strings.HasPrefix(id, ids.Invoice):
		inv, err := s.Store.Invoice(ctx, sc, id)
		if err != nil {
			return 0, err
		}
		return s.refreshRazorpayInvoice(ctx, sc, gw, cr, inv)
	case strings.HasPrefix(id, ids.Refund):
		return s.refreshRefund(ctx, sc, cr, id)
	}
	return 0, apperr.E(apperr.NotFound, "not_found", "%s is not a payment, invoice or refund id", id)
}

// refreshLink: one GET /v1/payment_links/{id}; each captured payment on it
// not yet applied is fetched (GET /v1/payments/{id}) and applied as
// payment_link.paid; on a link still open that someone tried to pay, its
// order's payments (GET /v1/orders/{id}/payments) give the failed tries,
// applied as payment.failed; a closed link is applied as
// payment_link.expired or cancelled — a missed event unless Razorbill had
// asked for that cancel itself (markCancelRequested).
func (s *Service) refreshLink(ctx context.Context, sc billing.Scope, gw InstrumentGateway, cr razorpay.Credentials, p billing.Payment) (int, error) {
	link, err := gw.FetchPaymentLink(ctx, cr, p.GatewayTrackingID)
	if err != nil {
		return 0, err
	}
	missed, err := s.applyLinkPayments(ctx, sc, gw, cr, link)
	if err != nil {
		return missed, err
	}
	if link.OrderID != "" && link.Status == "created" && s.Applier != nil {
		// Failed tries are listed on the link's order (one call, only
		// once someone tried to pay).
		tries, err := gw.OrderPayments(ctx, cr, link.OrderID)
		if err != nil {
			return missed, err
		}
		for _, rp := range tries {
			if rp.Status != "failed" {
				continue
			}
			n, err := s.applyFailedTry(ctx, sc, rp, "")
			missed += n
			if err != nil {
				return missed, err
			}
		}
	}
	if (link.Status == "expired" || link.Status == "cancelled") && s.Applier != nil {
		before, err := s.Store.Payment(ctx, sc, p.ID)
		if err != nil {
			return missed, err
		}
		payload := map[string]any{"payment_link": map[string]any{"entity": linkEntity(link)}}
		if err := s.applyEvent(ctx, sc, "payment_link."+link.Status, link.ID+"_"+link.Status, []string{"payment_link"}, payload); err != nil {
			return missed, err
		}
		after, err := s.Store.Payment(ctx, sc, p.ID)
		if err != nil {
			return missed, err
		}
		ours := link.Status == "cancelled" && before.CancelRequestedAt != nil
		if before.LinkOpen() && !after.LinkOpen() && !ours {
			missed++
		} else if after.LinkOpen() {
			// A payment holding money keeps its status: remember the
			// link's state so it leaves the open instruments.
			if err := s.rememberLinkStatus(ctx, sc, p.ID, link.Status); err != nil {
				return missed, err
			}
		}
	}
	if link.Status == "paid" {
		if cur, err := s.Store.Payment(ctx, sc, p.ID); err == nil && cur.LinkOpen() {
			return missed, s.rememberLinkStatus(ctx, sc, p.ID, "paid")
		}
	}
	return missed, nil
}

// applyFailedTry applies a failed try found on an order as payment.failed
// (once: the reconciler's failed:<id> marker); rzInvoiceID names the
// Razorpay invoice it was made at, if any. It reports 1 when it applied it.
func (s *Service) applyFailedTry(ctx context.Context, sc billing.Scope, rp razorpay.Payment, rzInvoiceID string) (int, error) {
	key := "failed:" + rp.ID
	if done, err := s.applied(ctx, sc, key); err != nil || done {
		return 0, err
	}
	e := failedEntity(rp)
	if rzInvoiceID != "" {
		e["invoice_id"] = rzInvoiceID
	}
	payload := map[string]any{"payment": map[string]any{"entity": e}}
	if err := s.applyEvent(ctx, sc, "payment.failed", "failed_"+rp.ID, []string{"payment"}, payload); err != nil {
		return 0, err
	}
	if done, err := s.applied(ctx, sc, key); err == nil && done {
		return 1, nil
	}
	return 0, nil
}

// failedEntity is a failed payment as payment.failed carries it.
func failedEntity(p razorpay.Payment) map[string]any {
	e := paymentEntity(p)
	e["error_code"], e["error_description"] = nullStr(p.ErrorCode), nullStr(p.ErrorDescription)
	return e
}

// rememberLinkStatus records Razorpay's final link status on a payment.
func (s *Service) rememberLinkStatus(ctx context.Context, sc billing.Scope, payID, status string) error {
	return s.updatePayment(ctx, sc, payID, func(p *billing.Payment) {
		if p.Metadata == nil {
			p.Metadata = map[string]string{}
		}
		p.Metadata[linkStatusKey], p.UpdatedAt = status, s.now()
	})
}

// refreshRazorpayInvoice: one GET /v1/invoices/{id}; a paid invoice's
// payment not yet applied is applied as invoice.paid (applyInvoice); an
// expired or cancelled one as invoice.expired (it can no longer be paid).
func (s *Service) refreshRazorpayInvoice(ctx context.Context, sc billing.Scope, gw InstrumentGateway, cr razorpay.Credentials, inv billing.Invoice) (int, error) {
	if inv.RazorpayInvoiceID == "" || s.Applier == nil {
		return 0, nil
	}
	rz, err := gw.FetchInvoice(ctx, cr, inv.RazorpayInvoiceID)
	if err != nil {
		return 0, err
	}
	switch rz.Status {
	case "issued", "paid", "partially_paid":
		// An invoice paid in parts names only its latest payment: every
		// part, and every failed try, is listed on the invoice's order.
		payIDs := []string{}
		missed := 0
		if rz.OrderID != "" {
			parts, err := gw.OrderPayments(ctx, cr, rz.OrderID)
			if err != nil {
				return 0, err
			}
			for _, rp := range parts {
				switch rp.Status {
				case "captured", "refunded":
					payIDs = append(payIDs, rp.ID)
				case "failed":
					n, err := s.applyFailedTry(ctx, sc, rp, rz.ID)
					missed += n
					if err != nil {
						return missed, err
					}
				}
			}
		} else if rz.PaymentID != "" {
			payIDs = append(payIDs, rz.PaymentID)
		}
		for _, id := range payIDs {
			if done, err := s.applied(ctx, sc, id); err != nil || done {
				if err != nil {
					return missed, err
				}
				continue
			}
			part := rz
			part.PaymentID = id
			if err := s.applyInvoice(ctx, sc, gw, cr, part); err != nil {
				return missed, err
			}
			if done, err := s.applied(ctx, sc, id); err == nil && done {
				missed++
			}
		}
		return missed, nil
	case "expired", "cancelled":
		payload := map[string]any{"invoice": map[string]any{"entity": invoiceEntity(rz)}}
		if err := s.applyEvent(ctx, sc, "invoice.expired", rz.ID+"_"+rz.Status, []string{"invoice"}, payload); err != nil {
			return 0, err
		}
		if after, err := s.Store.Invoice(ctx, sc, inv.ID); err == nil && inv.RazorpayInvoiceOpen() && !after.RazorpayInvoiceOpen() {
			return 1, nil
		}
	}
	return 0, nil
}

// refreshRefund settles a pending refund by Razorpay's refund list (the
// lookup of settleRefund); each part it settles with a Razorpay refund id
// counts as missed.
func (s *Service) refreshRefund(ctx context.Context, sc billing.Scope, cr razorpay.Credentials, id string) (int, error) {
	st, gw, err := s.refundDeps()
	if err != nil {
		return 0, err
	}
	rf, err := st.Refund(ctx, sc, id)
	if err != nil || !rf.RefundOpen() {
		return 0, err
	}
	after, err := s.settleRefund(ctx, sc, st, gw, cr, rf)
	if err != nil {
		return 0, err
	}
	n := 0
	for i, p := range after.Parts {
		if i < len(rf.Parts) && rf.Parts[i].Status == billing.RefundPending && p.Status != billing.RefundPending && p.RazorpayRefundID != "" {
			n++
		}
	}
	return n, nil
}
