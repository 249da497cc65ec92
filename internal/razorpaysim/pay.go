package razorpaysim

import (
	"errors"
	"fmt"
	"strings"

	"github.com/razorbill/razorbill/internal/money"
	"github.com/razorbill/razorbill/internal/razorpay"
)

// PayOptions describe a customer's successful payment.
type PayOptions struct {
	// Amount in minor units; 0 pays everything due. Less than due is a
	// partial payment, refused unless the link/invoice accepts them.
	Amount int64 `json:"amount,omitempty"`
	// Method is upi (default, as success@razorpay), card, netbanking or
	// wallet.
	Method  string `json:"method,omitempty"`
	Email   string `json:"email,omitempty"`
	Contact string `json:"contact,omitempty"`
}

// FailOptions describe a failed payment attempt (as failure@razorpay).
type FailOptions struct {
	Amount           int64  `json:"amount,omitempty"`
	Method           string `json:"method,omitempty"`
	ErrorCode        string `json:"error_code,omitempty"`        // default BAD_REQUEST_ERROR
	ErrorDescription string `json:"error_description,omitempty"` // default "Payment failed"
	ErrorReason      string `json:"error_reason,omitempty"`      // default payment_failed
}

// PaymentResult is what a pay or fail action did.
type PaymentResult struct {
	PaymentID string   `json:"payment_id"`
	OrderID   string   `json:"order_id"`
	Status    string   `json:"status"`
	Events    []string `json:"events"` // event ids, in the order emitted
}

// ErrNotFound is returned for an id the simulator does not hold.
var ErrNotFound = errors.New("razorpaysim: no such object")

func ids(evs []*eventRecord) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

// PayPaymentLink pays a link as a customer on its page would.
func (s *Simulator) PayPaymentLink(id string, o PayOptions) (PaymentResult, error) {
	s.mu.Lock()
	a := s.owner[id]
	var l *linkObj
	if a != nil {
		l = s.findLink(a, id)
	}
	if l == nil {
		s.mu.Unlock()
		return PaymentResult{}, ErrNotFound
	}
	p, evs, err := s.payLinkLocked(a, l, o)
	s.mu.Unlock()
	if err != nil {
		return PaymentResult{}, err
	}
	s.dispatch(a, evs)
	return PaymentResult{PaymentID: p.ID, OrderID: string(p.OrderID), Status: p.Status, Events: ids(evs)}, nil
}

// FailPaymentLink records a failed attempt on a link (payment.failed).
func (s *Simulator) FailPaymentLink(id string, o FailOptions) (PaymentResult, error) {
	s.mu.Lock()
	a := s.owner[id]
	var l *linkObj
	if a != nil {
		l = s.findLink(a, id)
	}
	if l == nil {
		s.mu.Unlock()
		return PaymentResult{}, ErrNotFound
	}
	p, evs, err := s.failLinkLocked(a, l, o)
	s.mu.Unlock()
	if err != nil {
		return PaymentResult{}, err
	}
	s.dispatch(a, evs)
	return PaymentResult{PaymentID: p.ID, OrderID: string(p.OrderID), Status: p.Status, Events: ids(evs)}, nil
}

// PayInvoice pays an issued invoice.
func (s *Simulator) PayInvoice(id string, o PayOptions) (PaymentResult, error) {
	s.mu.Lock()
	a := s.owner[id]
	var inv *invoiceObj
	if a != nil {
		inv = s.findInvoice(a, id)
	}
	if inv == nil {
		s.mu.Unlock()
		return PaymentResult{}, ErrNotFound
	}
	p, evs, err := s.payInvoiceLocked(a, inv, o)
	s.mu.Unlock()
	if err != nil {
		return PaymentResult{}, err
	}
	s.dispatch(a, evs)
	return PaymentResult{PaymentID: p.ID, OrderID: string(p.OrderID), Status: p.Status, Events: ids(evs)}, nil
}

// FailInvoice records a failed attempt on an invoice.
func (s *Simulator) FailInvoice(id string, o FailOptions) (PaymentResult, error) {
	s.mu.Lock()
	a := s.owner[id]
	var inv *invoiceObj
	if a != nil {
		inv = s.findInvoice(a, id)
	}
	if inv == nil {
		s.mu.Unlock()
		return PaymentResult{}, ErrNotFound
	}
	if inv.Status != "issued" && inv.Status != "partially_paid" {
		s.mu.Unlock()
		return PaymentResult{}, fmt.Errorf("razorpaysim: invoice %s is %s and cannot be paid", inv.ID, inv.Status)
	}
	order := s.orderLocked(a, inv.OrderID)
	amount := o.Amount
	if amount <= 0 {
		amount = inv.AmountDue
	}
	p := s.newPaymentLocked(a, amount, inv.Currency, o.Method, order, inv.ID, nil, string(inv.CustomerDetails.Email), string(inv.CustomerDetails.Contact),
		"Invoice #"+inv.ID)
	p.CustomerID = nstr(inv.CustomerID)
	evs := s.failLocked(a, p, order, o)
	s.mu.Unlock()
	s.dispatch(a, evs)
	return PaymentResult{PaymentID: p.ID, OrderID: string(p.OrderID), Status: p.Status, Events: ids(evs)}, nil
}

// ExpirePaymentLink expires a link now (payment_link.expired).
func (s *Simulator) ExpirePaymentLink(id string) error { return s.closeLink(id, "expired") }

// CancelPaymentLink cancels a link as the merchant would
// (payment_link.cancelled).
func (s *Simulator) CancelPaymentLink(id string) error { return s.closeLink(id, "cancelled") }

func (s *Simulator) closeLink(id, to string) error {
	s.mu.Lock()
	a := s.owner[id]
	var l *linkObj
	if a != nil {
		l = s.findLink(a, id)
	}
	if l == nil {
		s.mu.Unlock()
		return ErrNotFound
	}
	evs, desc := s.closeLinkLocked(a, l, to)
	s.mu.Unlock()
	if desc != "" {
		return errors.New("razorpaysim: " + desc)
	}
	s.dispatch(a, evs)
	return nil
}

// ExpireInvoice expires an issued invoice now (invoice.expired).
func (s *Simulator) ExpireInvoice(id string) error {
	s.mu.Lock()
	a := s.owner[id]
	var inv *invoiceObj
	if a != nil {
		inv = s.findInvoice(a, id)
	}
	if inv == nil {
		s.mu.Unlock()
		return ErrNotFound
	}
	evs, desc := s.expireInvoiceLocked(a, inv)
	s.mu.Unlock()
	if desc != "" {
		return errors.New("razorpaysim: " + desc)
	}
	s.dispatch(a, evs)
	return nil
}

// ProcessRefund settles a pending refund (accounts with ManualRefunds):
// ok → processed (refund.processed), !ok → failed (refund.failed, the
// payment's amount_refunded restored).
func (s *Simulator) ProcessRefund(id string, ok bool) error {
	s.mu.Lock()
	a := s.owner[id]
	var rf *refundObj
	if a != nil {
		for _, r := range a.refunds {
			if r.ID == id {
				rf = r
			}
		}
	}
	if rf == nil {
		s.mu.Unlock()
		return ErrNotFound
	}
	if rf.Status != "pending" {
		s.mu.Unlock()
		return fmt.Errorf("razorpaysim: refund %s is %s, not pending", id, rf.Status)
	}
	p := s.findPayment(a, rf.PaymentID)
	var evs []*eventRecord
	if ok {
		rf.Status = "processed"
		evs = append(evs, s.newEventLocked(a, "refund.processed", ent("refund", rf), ent("payment", p)))
	} else {
		rf.Status = "failed"
		p.AmountRefunded -= rf.Amount
		s.setRefundStatusLocked(p)
		evs = append(evs, s.newEventLocked(a, "refund.failed", ent("refund", rf), ent("payment", p)))
	}
	s.mu.Unlock()
	s.dispatch(a, evs)
	return nil
}

// Sweep expires every link and invoice whose expire_by has passed.
func (s *Simulator) Sweep() {
	now := s.now().Unix()
	type batch struct {
		a   *account
		evs []*eventRecord
	}
	var out []batch
	s.mu.Lock()
	for _, a := range s.accounts {
		var evs []*eventRecord
		for _, l := range a.links {
			if l.ExpireBy > 0 && now >= l.ExpireBy && (l.Status == "created" || l.Status == "partially_paid") {
				e, _ := s.closeLinkLocked(a, l, "expired")
				evs = append(evs, e...)
			}
		}
		for _, inv := range a.invoices {
			if inv.ExpireBy > 0 && now >= int64(inv.ExpireBy) && (inv.Status == "issued" || inv.Status == "partially_paid") {
				e, _ := s.expireInvoiceLocked(a, inv)
				evs = append(evs, e...)
			}
		}
		if len(evs) > 0 {
			out = append(out, batch{a, evs})
		}
	}
	s.mu.Unlock()
	for _, b := range out {
		s.dispatch(b.a, b.evs)
	}
}

// ---- state changes (caller holds mu) ----

func ent(name string, v any) razorpay.EventEntity {
	switch o := v.(type) {
	case *linkObj:
		return razorpay.EventEntity{Name: name, Entity: snapshot(o.webhook())}
	default:
		return razorpay.EventEntity{Name: name, Entity: snapshot(v)}
	}
}

func (s *Simulator) orderLocked(a *account, id string) *orderObj {
	for _, o := range a.orders {
		if o.ID == id {
			return o
		}
	}
	return nil
}

func methodOr(m string) string {
	switch m = strings.ToLower(strings.TrimSpace(m)); m {
	case "card", "netbanking", "wallet", "upi":
		return m
	}
	return "upi"
}

func (s *Simulator) newPaymentLocked(a *account, amount int64, currency, method string, order *orderObj, invoiceID string, nts notes, email, contact, desc string) *paymentObj {
	method = methodOr(method)
	p := &paymentObj{ID: newID("pay"), Entity: "payment", Amount: amount, Currency: currency, Status: "created",
		InvoiceID: nstr(invoiceID), Method: method, Description: nstr(desc), Email: nstr(email), Contact: nstr(contact),
		Notes: nts.clone(), CreatedAt: s.now().Unix(), AcquirerData: &acquirerData{}}
	if order != nil {
		p.OrderID = nstr(order.ID)
	}
	switch method {
	case "upi":
		p.VPA = "success@razorpay"
		p.UPI = &upiObj{PayerAccountType: "bank_account", VPA: "success@razorpay"}
	case "card":
		p.CardID = nstr(newID("card"))
		p.Card = &cardObj{ID: string(p.CardID), Entity: "card", Name: "", Last4: "1007", Network: "Visa", Type: "credit",
			Issuer: "", SubType: "consumer"}
	case "netbanking":
		p.Bank = "HDFC"
	case "wallet":
		p.Wallet = "freecharge"
	}
	a.payments = append(a.payments, p)
	s.owner[p.ID] = a
	return p
}

// capture authorizes and captures p, returning the payment.authorized and
// payment.captured events.
func (s *Simulator) captureLocked(a *account, p *paymentObj) []*eventRecord {
	p.Status = "authorized"
	switch p.Method {
	case "upi":
		p.AcquirerData = &acquirerData{RRN: nstr(digitsID(12)), UPITxnID: nstr(strings.ToUpper(randomID(32)))}
	case "card":
		p.AcquirerData = &acquirerData{AuthCode: nstr(digitsID(6))}
	case "netbanking":
		p.AcquirerData = &acquirerData{BankTxnID: nstr(digitsID(10))}
	default:
		p.AcquirerData = &acquirerData{TransactionID: nstr(digitsID(10))}
	}
	auth := s.newEventLocked(a, "payment.authorized", ent("payment", p))
	p.Status, p.Captured = "captured", true
	fee := p.Amount * 2 / 100 // 2% MDR, integer paise
	tax := fee * 18 / 100     // 18% GST on the fee
	p.Fee, p.Tax = some(fee), some(tax)
	capt := s.newEventLocked(a, "payment.captured", ent("payment", p))
	return []*eventRecord{auth, capt}
}

func digitsID(n int) string {
	const d = "0123456789"
	b := []byte(randomID(n))
	for i := range b {
		b[i] = d[int(b[i])%10]
	}
	return string(b)
}

func (s *Simulator) failLocked(a *account, p *paymentObj, order *orderObj, o FailOptions) []*eventRecord {
	p.Status = "failed"
	p.ErrorCode = nstr(def(o.ErrorCode, "BAD_REQUEST_ERROR"))
	p.ErrorDescription = nstr(def(o.ErrorDescription, "Payment failed"))
	p.ErrorReason = nstr(def(o.ErrorReason, "payment_failed"))
	p.ErrorSource, p.ErrorStep = "customer", "payment_authorization"
	p.AcquirerData = map[string]any{"rrn": nil}
	if p.Method == "upi" {
		p.VPA = "failure@razorpay"
		p.UPI = &upiObj{PayerAccountType: "bank_account", VPA: "failure@razorpay"}
	}
	if order != nil {
		order.Attempts++
		if order.Status == "created" {
			order.Status = "attempted"
		}
	}
	return []*eventRecord{s.newEventLocked(a, "payment.failed", ent("payment", p))}
}

func def(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// checkAmount validates a payment of amount against what is due.
func checkAmount(amount, due, firstMin int64, firstPayment, partial bool, cur money.Currency) (int64, error) {
	if due <= 0 {
		return 0, errors.New("razorpaysim: nothing is due")
	}
	if amount == 0 {
		amount = due
	}
	switch {
	case amount < 0:
		return 0, errors.New("razorpaysim: amount must be positive")
	case amount > due:
		return 0, fmt.Errorf("razorpaysim: amount %d is more than the %d due", amount, due)
	case amount < due && !partial:
		return 0, errors.New("razorpaysim: partial payments are not accepted here")
	case amount < due && firstPayment && firstMin > 0 && amount < firstMin:
		return 0, fmt.Errorf("razorpaysim: the first partial payment must be at least %d", firstMin)
	case cur.Exponent == 3 && amount%10 != 0:
		return 0, fmt.Errorf("razorpaysim: a %s amount must end in 0", cur.Code)
	}
	return amount, nil
}

func (s *Simulator) linkOrderLocked(a *account, l *linkObj) *orderObj {
	if l.OrderID != "" {
		return s.orderLocked(a, l.OrderID)
	}
	o := &orderObj{ID: newID("order"), Entity: "order", Amount: l.Amount, AmountDue: l.Amount - l.AmountPaid, AmountPaid: l.AmountPaid,
		Currency: l.Currency, Receipt: nstr(l.ReferenceID), Status: "created", Notes: notes(l.Notes).clone(), CreatedAt: s.now().Unix()}
	a.orders = append(a.orders, o)
	s.owner[o.ID] = a
	l.OrderID = o.ID
	return o
}

func (s *Simulator) linkPayable(a *account, l *linkObj) error {
	if l.ExpireBy > 0 && s.now().Unix() >= l.ExpireBy && (l.Status == "created" || l.Status == "partially_paid") {
		return fmt.Errorf("razorpaysim: payment link %s has expired", l.ID)
	}
	if l.Status != "created" && l.Status != "partially_paid" {
		return fmt.Errorf("razorpaysim: payment link %s is %s and cannot be paid", l.ID, l.Status)
	}
	return nil
}

func (s *Simulator) payLinkLocked(a *account, l *linkObj, o PayOptions) (*paymentObj, []*eventRecord, error) {
	if err := s.linkPayable(a, l); err != nil {
		return nil, nil, err
	}
	cur, _ := money.LookupCurrency(l.Currency)
	amount, err := checkAmount(o.Amount, l.Amount-l.AmountPaid, l.FirstMinPartialAmount, l.AmountPaid == 0, l.AcceptPartial, cur)
	if err != nil {
		return nil, nil, err
	}
	order := s.linkOrderLocked(a, l)
	order.Attempts++
	p := s.newPaymentLocked(a, amount, l.Currency, o.Method, order, "", notes(l.Notes), def(o.Email, l.Customer.Email),
		def(o.Contact, l.Customer.Contact), "#"+strings.TrimPrefix(l.ID, "plink_"))
	evs := s.captureLocked(a, p)
	now := s.now().Unix()
	order.AmountPaid += amount
	order.AmountDue -= amount
	order.Status = "attempted"
	l.AmountPaid += amount
	l.Status = "partially_paid"
	if l.AmountPaid >= l.Amount {
		l.Status = "paid"
	}
	l.UpdatedAt = now
	l.payments = append(l.payments, linkPaymentObj{Amount: amount, CreatedAt: now, Method: p.Method, PaymentID: p.ID, PlinkID: l.ID, Status: "captured", UpdatedAt: now})
	if order.AmountDue <= 0 {
		order.Status = "paid"
		evs = append(evs, s.newEventLocked(a, "order.paid", ent("payment", p), ent("order", order)))
	}
	name := "payment_link.partially_paid"
	if l.Status == "paid" {
		name = "payment_link.paid"
	}
	evs = append(evs, s.newEventLocked(a, name, ent("payment_link", l), ent("order", order), ent("payment", p)))
	return p, evs, nil
}

func (s *Simulator) failLinkLocked(a *account, l *linkObj, o FailOptions) (*paymentObj, []*eventRecord, error) {
	if err := s.linkPayable(a, l); err != nil {
		return nil, nil, err
	}
	order := s.linkOrderLocked(a, l)
	amount := o.Amount
	if amount <= 0 {
		amount = l.Amount - l.AmountPaid
	}
	p := s.newPaymentLocked(a, amount, l.Currency, o.Method, order, "", notes(l.Notes), l.Customer.Email, l.Customer.Contact,
		"#"+strings.TrimPrefix(l.ID, "plink_"))
	return p, s.failLocked(a, p, order, o), nil
}

func (s *Simulator) payInvoiceLocked(a *account, inv *invoiceObj, o PayOptions) (*paymentObj, []*eventRecord, error) {
	if inv.ExpireBy > 0 && s.now().Unix() >= int64(inv.ExpireBy) && (inv.Status == "issued" || inv.Status == "partially_paid") {
		return nil, nil, fmt.Errorf("razorpaysim: invoice %s has expired", inv.ID)
	}
	if inv.Status != "issued" && inv.Status != "partially_paid" {
		return nil, nil, fmt.Errorf("razorpaysim: invoice %s is %s and cannot be paid", inv.ID, inv.Status)
	}
	cur, _ := money.LookupCurrency(inv.Currency)
	amount, err := checkAmount(o.Amount, inv.AmountDue, 0, inv.AmountPaid == 0, inv.PartialPayment, cur)
	if err != nil {
		return nil, nil, err
	}
	order := s.orderLocked(a, inv.OrderID)
	order.Attempts++
	p := s.newPaymentLocked(a, amount, inv.Currency, o.Method, order, inv.ID, nil, def(o.Email, string(inv.CustomerDetails.Email)),
		def(o.Contact, string(inv.CustomerDetails.Contact)), "Invoice #"+inv.ID)
	p.CustomerID = nstr(inv.CustomerID)
	evs := s.captureLocked(a, p)
	now := s.now().Unix()
	order.AmountPaid += amount
	order.AmountDue -= amount
	order.Status = "attempted"
	inv.AmountPaid += amount
	inv.AmountDue -= amount
	inv.PaymentID = nstr(p.ID)
	inv.Status = "partially_paid"
	if inv.AmountDue <= 0 {
		inv.Status, inv.PaidAt = "paid", ntime(now)
	}
	if order.AmountDue <= 0 {
		order.Status = "paid"
		evs = append(evs, s.newEventLocked(a, "order.paid", ent("payment", p), ent("order", order)))
	}
	name := "invoice.partially_paid"
	if inv.Status == "paid" {
		name = "invoice.paid"
	}
	evs = append(evs, s.newEventLocked(a, name, ent("payment", p), ent("order", order), ent("invoice", inv)))
	return p, evs, nil
}

func (s *Simulator) closeLinkLocked(a *account, l *linkObj, to string) ([]*eventRecord, string) {
	if l.Status != "created" && l.Status != "partially_paid" {
		return nil, fmt.Sprintf("Payment Link cannot be %s as it is in %s state", to, l.Status)
	}
	now := s.now().Unix()
	l.Status, l.UpdatedAt = to, now
	if to == "cancelled" {
		l.CancelledAt = now
	} else {
		l.ExpiredAt = now
	}
	return []*eventRecord{s.newEventLocked(a, "payment_link."+to, ent("payment_link", l))}, ""
}

func (s *Simulator) expireInvoiceLocked(a *account, inv *invoiceObj) ([]*eventRecord, string) {
	if inv.Status != "issued" && inv.Status != "partially_paid" {
		return nil, fmt.Sprintf("invoice %s is %s and cannot expire", inv.ID, inv.Status)
	}
	inv.Status, inv.ExpiredAt = "expired", ntime(s.now().Unix())
	return []*eventRecord{s.newEventLocked(a, "invoice.expired", ent("invoice", inv))}, ""
}

func (s *Simulator) setRefundStatusLocked(p *paymentObj) {
	switch {
	case p.AmountRefunded <= 0:
		p.AmountRefunded, p.RefundStatus, p.Status = 0, "", "captured"
	case p.AmountRefunded >= p.Amount:
		p.RefundStatus, p.Status = "full", "refunded"
	default:
		p.RefundStatus, p.Status = "partial", "captured"
	}
}

// refundLocked refunds amount (0: what remains) of p. It returns
// Razorpay's description when it refuses.
func (s *Simulator) refundLocked(a *account, p *paymentObj, amount int64, nts map[string]string, receipt, speed, key string) (*refundObj, []*eventRecord, string) {
	if !p.Captured {
		return nil, nil, "Only captured payments can be refunded"
	}
	left := p.Amount - p.AmountRefunded
	if left <= 0 {
		return nil, nil, "The payment has been fully refunded already"
	}
	if amount == 0 {
		amount = left
	}
	if amount > left {
		return nil, nil, "The refund amount provided is greater than amount captured"
	}
	if cur, err := money.LookupCurrency(p.Currency); err == nil && cur.Exponent == 3 && amount%10 != 0 {
		return nil, nil, fmt.Sprintf("The refund amount for %s must end with 0 as the last decimal.", cur.Code)
	}
	rf := &refundObj{ID: newID("rfnd"), Entity: "refund", Amount: amount, Currency: p.Currency, PaymentID: p.ID, Notes: notes(nts),
		Receipt: nstr(receipt), AcquirerData: map[string]any{"arn": nil}, CreatedAt: s.now().Unix(), Status: "pending",
		SpeedProcessed: "normal", SpeedRequested: speed, idempotencyKey: key}
	a.refunds = append(a.refunds, rf)
	s.owner[rf.ID] = a
	if key != "" {
		a.refundKey[key] = rf
	}
	p.AmountRefunded += amount
	s.setRefundStatusLocked(p)
	evs := []*eventRecord{s.newEventLocked(a, "refund.created", ent("refund", rf), ent("payment", p))}
	if !a.ManualRefunds {
		rf.Status = "processed"
		rf.AcquirerData = map[string]any{"arn": digitsID(23)}
		evs = append(evs, s.newEventLocked(a, "refund.processed", ent("refund", rf), ent("payment", p)))
	}
	return rf, evs, ""
}
