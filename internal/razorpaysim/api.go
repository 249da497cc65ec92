package razorpaysim

import (
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/razorbill/razorbill/internal/money"
)

// apiHandler wraps a /v1 handler: Basic auth, then any armed fault.
func (s *Simulator) apiHandler(h func(w http.ResponseWriter, r *http.Request, a *account)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok, desc := s.authenticate(r)
		if !ok {
			unauthorized(w, desc)
			return
		}
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r, a) })
		if f, hit := s.takeFault(r, a.KeyID); hit {
			s.serveFault(w, r, f, next)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Simulator) routes() {
	m := http.NewServeMux()
	api := func(pattern string, h func(w http.ResponseWriter, r *http.Request, a *account)) {
		m.Handle(pattern, s.apiHandler(h))
	}
	api("POST /v1/customers", s.createCustomer)
	api("GET /v1/customers", s.listCustomers)
	api("GET /v1/customers/{id}", s.fetchCustomer)
	api("POST /v1/invoices", s.createInvoice)
	api("GET /v1/invoices", s.listInvoices)
	api("GET /v1/invoices/{id}", s.fetchInvoice)
	api("POST /v1/invoices/{id}/issue", s.issueInvoice)
	api("POST /v1/invoices/{id}/cancel", s.cancelInvoice)
	api("POST /v1/payment_links", s.createLink)
	api("GET /v1/payment_links", s.listLinks)
	api("GET /v1/payment_links/{id}", s.fetchLink)
	api("POST /v1/payment_links/{id}/cancel", s.cancelLinkAPI)
	api("GET /v1/payments/{id}", s.fetchPayment)
	api("POST /v1/payments/{id}/refund", s.refundPayment)
	api("GET /v1/payments/{id}/refunds", s.listPaymentRefunds)
	api("GET /v1/refunds/{id}", s.fetchRefund)
	api("GET /v1/orders/{id}", s.fetchOrder)
	api("POST /v1/orders", s.createOrder)
	api("GET /v1/orders/{id}/payments", s.orderPayments)
	m.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		if _, ok, desc := s.authenticate(r); !ok {
			unauthorized(w, desc)
			return
		}
		writeError(w, http.StatusNotFound, rzError{Code: "BAD_REQUEST_ERROR", Description: "The requested URL was not found on the server.", Source: "NA", Step: "NA", Reason: "NA"})
	})
	s.checkoutRoutes(m)
	s.controlRoutes(m)
	s.internationalRoutes(m)
	s.mux = m
}

// ---- customers ----

func (s *Simulator) createCustomer(w http.ResponseWriter, r *http.Request, a *account) {
	b, err := readBody(r)
	if err != nil {
		badRequest(w, "", "%v", err)
		return
	}
	if refuseExtra(w, b, customerFields, false) {
		return
	}
	name, _ := b.str("name")
	email, _ := b.str("email")
	contact, _ := b.str("contact")
	gstin, _ := b.str("gstin")
	if b.has("name") {
		if desc := validCustomerName(name); desc != "" {
			badRequest(w, "name", "%s", desc)
			return
		}
	}
	if len([]rune(email)) > 64 {
		badRequest(w, "email", "The email may not be greater than 64 characters.")
		return
	}
	if email != "" {
		if _, err := mail.ParseAddress(email); err != nil || !strings.Contains(email, ".") {
			badRequest(w, "email", "The email must be a valid email address.")
			return
		}
	}
	if contact != "" && !validContact(contact) {
		badRequest(w, "contact", "The contact format is invalid.")
		return
	}
	if gstin != "" && len(gstin) != 15 {
		badRequest(w, "gstin", "The gstin format is invalid.")
		return
	}
	// fail_existing is validated like Laravel's in:0,1 rule: "0" and 0
	// turn it off, "1", 1 and true (and absence) leave it on; false is
	// refused because its string form is "".
	fail := true
	if raw, has := b["fail_existing"]; has && string(raw) != "null" {
		switch strings.TrimSpace(string(raw)) {
		case `"0"`, `0`:
			fail = false
		case `"1"`, `1`, `true`:
			fail = true
		default:
			badRequest(w, "fail_existing", "The selected fail existing is invalid.")
			return
		}
	}
	nts, desc := readNotes(b)
	if desc != "" {
		badRequest(w, "notes", "%s", desc)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range a.customers {
		if strings.EqualFold(string(c.Email), email) && string(c.Contact) == contact {
			if fail {
				badRequest(w, "", "Customer already exists for the merchant")
				return
			}
			writeJSON(w, http.StatusOK, c)
			return
		}
	}
	c := &customerObj{ID: newID("cust"), Entity: "customer", Name: nstr(name), Email: nstr(email), Contact: nstr(contact),
		GSTIN: nstr(gstin), Notes: nts, CreatedAt: s.now().Unix()}
	a.customers = append(a.customers, c)
	s.owner[c.ID] = a
	writeJSON(w, http.StatusOK, c)
}

func validContact(c string) bool {
	d := strings.TrimPrefix(c, "+")
	if len(d) < 8 || len(c) > 15 {
		return false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// page reads count/skip/from/to as Razorpay does (count default 10, at
// most 100).
type page struct {
	count, skip int
	from, to    int64
}

func readPage(w http.ResponseWriter, r *http.Request) (page, bool) {
	p := page{count: 10}
	q := r.URL.Query()
	num := func(k string) (int64, bool) {
		v := q.Get(k)
		if v == "" {
			return 0, true
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			badRequest(w, k, "The %s must be an integer.", k)
			return 0, false
		}
		return n, true
	}
	c, ok := num("count")
	if !ok {
		return p, false
	}
	if q.Get("count") != "" {
		if c < 1 {
			badRequest(w, "count", "The count must be at least 1.")
			return p, false
		}
		if c > 100 {
			badRequest(w, "count", "The count may not be greater than 100.")
			return p, false
		}
		p.count = int(c)
	}
	sk, ok := num("skip")
	if !ok {
		return p, false
	}
	p.skip = int(sk)
	if p.from, ok = num("from"); !ok {
		return p, false
	}
	if p.to, ok = num("to"); !ok {
		return p, false
	}
	return p, true
}

// window applies the page to items listed newest first.
func window[T any](items []T, created func(T) int64, p page) []T {
	var out []T
	for i := len(items) - 1; i >= 0; i-- {
		c := created(items[i])
		if (p.from != 0 && c < p.from) || (p.to != 0 && c > p.to) {
			continue
		}
		out = append(out, items[i])
	}
	if p.skip >= len(out) {
		return []T{}
	}
	out = out[p.skip:]
	if len(out) > p.count {
		out = out[:p.count]
	}
	return out
}

type collection struct {
	Entity string `json:"entity"`
	Count  int    `json:"count"`
	Items  any    `json:"items"`
}

func (s *Simulator) listCustomers(w http.ResponseWriter, r *http.Request, a *account) {
	p, ok := readPage(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	items := window(a.customers, func(c *customerObj) int64 { return c.CreatedAt }, p)
	writeJSON(w, http.StatusOK, collection{Entity: "collection", Count: len(items), Items: items})
}

func (s *Simulator) fetchCustomer(w http.ResponseWriter, r *http.Request, a *account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range a.customers {
		if c.ID == r.PathValue("id") {
			writeJSON(w, http.StatusOK, c)
			return
		}
	}
	idNotFound(w)
}

// ---- invoices ----

func (s *Simulator) createInvoice(w http.ResponseWriter, r *http.Request, a *account) {
	b, err := readBody(r)
	if err != nil {
		badRequest(w, "", "%v", err)
		return
	}
	if refuseExtra(w, b, invoiceFields, false) {
		return
	}
	now := s.now()
	typ, _ := b.str("type")
	if typ == "" {
		badRequest(w, "type", "The type field is required.")
		return
	}
	if typ != "invoice" {
		badRequest(w, "type", "The selected type is invalid. Only \"invoice\" is simulated.")
		return
	}
	curCode, _ := b.str("currency")
	if curCode == "" {
		curCode = "INR"
	}
	cur, err := money.LookupCurrency(curCode)
	if err != nil || strings.ToUpper(curCode) != curCode {
		badRequest(w, "currency", "The currency %s is not supported.", curCode)
		return
	}
	if s.refuseInternational(w, a, cur.Code, descInternationalOff) {
		return
	}
	receipt, hasReceipt := b.str("receipt")
	if hasReceipt {
		if n := len([]rune(receipt)); n < 1 {
			badRequest(w, "receipt", "The receipt must be at least 1 characters.")
			return
		} else if n > 40 {
			badRequest(w, "receipt", "The receipt may not be greater than 40 characters.")
			return
		}
	}
	custID, _ := b.str("customer_id")
	if custID == "" {
		badRequest(w, "customer_id", "The customer_id field is required when customer is not present.")
		return
	}
	items, ok := b.list("line_items")
	if !ok {
		badRequest(w, "line_items", "The line items must be an array.")
		return
	}
	if len(items) == 0 {
		badRequest(w, "line_items", "The line items field is required.")
		return
	}
	if len(items) > 50 {
		badRequest(w, "line_items", "The line items may not have more than 50 items.")
		return
	}
	var lines []lineItemObj
	var total int64
	for i, li := range items {
		name, _ := li.str("name")
		if name == "" {
			badRequest(w, "line_items."+strconv.Itoa(i)+".name", "The name field is required.")
			return
		}
		amt, present, ok := li.integer("amount")
		if !present {
			badRequest(w, "line_items."+strconv.Itoa(i)+".amount", "The amount field is required.")
			return
		}
		if !ok {
			badRequest(w, "line_items."+strconv.Itoa(i)+".amount", "The amount must be an integer.")
			return
		}
		if amt < 1 {
			badRequest(w, "line_items."+strconv.Itoa(i)+".amount", "The amount must be at least 1.")
			return
		}
		if cur.Exponent == 3 && amt%10 != 0 {
			badRequest(w, "line_items."+strconv.Itoa(i)+".amount", "The amount for %s must end with 0 as the last decimal.", cur.Code)
			return
		}
		qty, present, ok := li.integer("quantity")
		if !present {
			qty = 1
		} else if !ok || qty < 1 {
			badRequest(w, "line_items."+strconv.Itoa(i)+".quantity", "The quantity must be an integer of at least 1.")
			return
		}
		if lc, _ := li.str("currency"); lc != "" && lc != cur.Code {
			badRequest(w, "line_items."+strconv.Itoa(i)+".currency", "Line item currency should be same as invoice currency.")
			return
		}
		line, err := money.Add(total, amt*qty)
		if err != nil || amt > (1<<62)/qty {
			badRequest(w, "line_items", "The invoice amount is too large.")
			return
		}
		total = line
		desc, _ := li.str("description")
		lines = append(lines, lineItemObj{ID: newID("li"), Name: name, Description: nstr(desc), Amount: amt, UnitAmount: amt,
			GrossAmount: amt * qty, TaxableAmount: amt * qty, NetAmount: amt * qty, Currency: cur.Code, Type: "invoice",
			Quantity: qty, Taxes: []any{}})
	}
	if min := money.DefaultMinimums().Of(cur); total < min {
		badRequest(w, "amount", "The total amount must be at least %s %s.", cur.Code, money.Format(min, cur))
		return
	}
	var expireBy int64
	if e, present, ok := b.integer("expire_by"); present {
		if !ok {
			badRequest(w, "expire_by", "The expire by must be an integer.")
			return
		}
		if e < now.Add(15*time.Minute).Unix() {
			badRequest(w, "expire_by", "expire_by should be at least 15 minutes after current time")
			return
		}
		expireBy = e
	}
	sms, ok1 := b.boolean("sms_notify", true)
	email, ok2 := b.boolean("email_notify", true)
	partial, ok3 := b.boolean("partial_payment", false)
	draft, ok4 := b.boolean("draft", false)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		badRequest(w, "", "sms_notify, email_notify, partial_payment and draft must be booleans (0 or 1).")
		return
	}
	nts, desc := readNotes(b)
	if desc != "" {
		badRequest(w, "notes", "%s", desc)
		return
	}
	description, _ := b.str("description")
	comment, _ := b.str("comment")
	terms, _ := b.str("terms")

	base := s.baseFor(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	var cust *customerObj
	for _, c := range a.customers {
		if c.ID == custID {
			cust = c
		}
	}
	if cust == nil {
		badRequest(w, "customer_id", "The customer_id provided does not exist")
		return
	}
	inv := &invoiceObj{ID: newID("inv"), Entity: "invoice", Receipt: nstr(receipt), InvoiceNumber: nstr(receipt),
		CustomerID: cust.ID, CustomerDetails: customerDetails{ID: cust.ID, Name: cust.Name, Email: cust.Email, Contact: cust.Contact,
			GSTIN: cust.GSTIN, CustomerName: cust.Name, CustomerEmail: cust.Email, CustomerContact: cust.Contact},
		LineItems: lines, Status: "issued", ExpireBy: ntime(expireBy), Date: now.Unix(),
		Terms: nstr(terms), PartialPayment: partial, GrossAmount: total, TaxableAmount: total, Amount: total, AmountDue: total,
		Currency: cur.Code, CurrencySymbol: currencySymbol(cur.Code), Description: nstr(description), Notes: nts,
		Comment: nstr(comment), ViewLess: true, Type: "invoice", CreatedAt: now.Unix()}
	inv.SMSStatus, inv.EmailStatus = notifyStatus(sms), notifyStatus(email)
	if draft {
		inv.Status = "draft"
	} else {
		s.issueLocked(a, inv, base)
	}
	a.invoices = append(a.invoices, inv)
	s.owner[inv.ID] = a
	writeJSON(w, http.StatusOK, inv)
}

func notifyStatus(on bool) nstr {
	if on {
		return "pending"
	}
	return ""
}

// issueLocked makes an invoice payable: an order and a short URL.
func (s *Simulator) issueLocked(a *account, inv *invoiceObj, base string) {
	now := s.now()
	o := &orderObj{ID: newID("order"), Entity: "order", Amount: inv.Amount, AmountDue: inv.Amount, Currency: inv.Currency,
		Receipt: inv.Receipt, Status: "created", Notes: notes(inv.Notes).clone(), CreatedAt: now.Unix()}
	a.orders = append(a.orders, o)
	s.owner[o.ID] = a
	inv.OrderID, inv.Status, inv.IssuedAt = o.ID, "issued", ntime(now.Unix())
	inv.code = s.newCode()
	s.codes[inv.code] = shortRef{acct: a, kind: "invoice", id: inv.ID}
	inv.ShortURL = base + "/i/" + inv.code
}

func (s *Simulator) listInvoices(w http.ResponseWriter, r *http.Request, a *account) {
	p, ok := readPage(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []*invoiceObj
	for _, inv := range a.invoices {
		if v := q.Get("receipt"); v != "" && string(inv.Receipt) != v {
			continue
		}
		if v := q.Get("customer_id"); v != "" && inv.CustomerID != v {
			continue
		}
		if v := q.Get("payment_id"); v != "" && string(inv.PaymentID) != v {
			continue
		}
		if v := q.Get("type"); v != "" && inv.Type != v {
			continue
		}
		match = append(match, inv)
	}
	items := window(match, func(i *invoiceObj) int64 { return i.CreatedAt }, p)
	writeJSON(w, http.StatusOK, collection{Entity: "collection", Count: len(items), Items: items})
}

func (s *Simulator) findInvoice(a *account, id string) *invoiceObj {
	for _, inv := range a.invoices {
		if inv.ID == id {
			return inv
		}
	}
	return nil
}

func (s *Simulator) fetchInvoice(w http.ResponseWriter, r *http.Request, a *account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv := s.findInvoice(a, r.PathValue("id")); inv != nil {
		writeJSON(w, http.StatusOK, inv)
		return
	}
	idNotFound(w)
}

func (s *Simulator) issueInvoice(w http.ResponseWriter, r *http.Request, a *account) {
	base := s.baseFor(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.findInvoice(a, r.PathValue("id"))
	if inv == nil {
		idNotFound(w)
		return
	}
	if inv.Status != "draft" {
		badRequest(w, "", "Invoice is not in draft state and cannot be issued")
		return
	}
	s.issueLocked(a, inv, base)
	writeJSON(w, http.StatusOK, inv)
}

func (s *Simulator) cancelInvoice(w http.ResponseWriter, r *http.Request, a *account) {
	if !readCancelBody(w, r, false) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.findInvoice(a, r.PathValue("id"))
	if inv == nil {
		idNotFound(w)
		return
	}
	if inv.Status != "issued" { // only issued invoices (doc.go); a draft is deleted, not cancelled
		badRequest(w, "", "Invoice cannot be cancelled in %s status", inv.Status)
		return
	}
	inv.Status, inv.CancelledAt = "cancelled", ntime(s.now().Unix())
	writeJSON(w, http.StatusOK, inv)
}

// ---- payment links ----

func (s *Simulator) createLink(w http.ResponseWriter, r *http.Request, a *account) {
	b, err := readBody(r)
	if err != nil {
		linkBadRequest(w, "", "%v", err)
		return
	}
	if refuseExtra(w, b, linkFields, true) {
		return
	}
	now := s.now()
	amount, cur, ok := b.amountCurrency(w, linkBadRequest)
	if !ok {
		return
	}
	if s.refuseInternational(w, a, cur.Code, descInternationalOff) {
		return
	}
	if min := money.DefaultMinimums().Of(cur); amount < min {
		linkBadRequest(w, "amount", "The amount must be atleast %s %s", cur.Code, money.Format(min, cur))
		return
	}
	if cur.Exponent == 3 && amount%10 != 0 {
		linkBadRequest(w, "amount", "The amount for %s must end with 0 as the last decimal.", cur.Code)
		return
	}
	partial, ok := b.boolean("accept_partial", false)
	if !ok {
		linkBadRequest(w, "accept_partial", "The accept partial field must be true or false.")
		return
	}
	firstMin, present, ok := b.integer("first_min_partial_amount")
	if present {
		if !ok || firstMin < 0 {
			linkBadRequest(w, "first_min_partial_amount", "The first min partial amount must be an integer.")
			return
		}
		if firstMin > 0 && !partial {
			linkBadRequest(w, "first_min_partial_amount", "first_min_partial_amount is not allowed when accept_partial is false")
			return
		}
		if firstMin > amount {
			linkBadRequest(w, "first_min_partial_amount", "The first min partial amount must be less than or equal to amount")
			return
		}
	}
	ref, _ := b.str("reference_id")
	if len([]rune(ref)) > 40 {
		linkBadRequest(w, "reference_id", "The reference id may not be greater than 40 characters.")
		return
	}
	description, _ := b.str("description")
	if len([]rune(description)) > 2048 {
		linkBadRequest(w, "description", "The description may not be greater than 2048 characters.")
		return
	}
	custB, ok := b.object("customer")
	if !ok {
		linkBadRequest(w, "customer", "The customer must be an object.")
		return
	}
	var cust linkCustomer
	if custB != nil {
		cust.Name, _ = custB.str("name")
		cust.Email, _ = custB.str("email")
		cust.Contact, _ = custB.str("contact")
		if cust.Email != "" {
			if _, err := mail.ParseAddress(cust.Email); err != nil {
				linkBadRequest(w, "customer.email", "The customer.email must be a valid email address.")
				return
			}
		}
		if cust.Contact != "" && !validContact(cust.Contact) {
			linkBadRequest(w, "customer.contact", "The contact format is invalid.")
			return
		}
	}
	var notify linkNotify
	if nb, ok := b.object("notify"); !ok {
		linkBadRequest(w, "notify", "The notify must be an object.")
		return
	} else if nb != nil {
		notify.SMS, _ = nb.boolean("sms", false)
		notify.Email, _ = nb.boolean("email", false)
	}
	reminder, _ := b.boolean("reminder_enable", false)
	nts, desc := readNotesMax(b, 255)
	if desc != "" {
		linkBadRequest(w, "notes", "%s", desc)
		return
	}
	cbURL, _ := b.str("callback_url")
	cbMethod, _ := b.str("callback_method")
	if cbURL != "" && cbMethod == "" {
		linkBadRequest(w, "callback_method", "The callback method field is required when callback url is present.")
		return
	}
	if cbMethod != "" && cbMethod != "get" {
		linkBadRequest(w, "callback_method", "The selected callback method is invalid.")
		return
	}
	var expireBy int64
	if e, present, ok := b.integer("expire_by"); present {
		if !ok {
			linkBadRequest(w, "expire_by", "The expire by must be an integer.")
			return
		}
		if e != 0 && e < now.Add(15*time.Minute).Unix() {
			linkBadRequest(w, "expire_by", "expire_by should be at least 15 minutes after current time")
			return
		}
		if e > linkExpiryLimit(now).Unix() {
			linkBadRequest(w, "expire_by", "expire_by should not be more than 6 months after current time")
			return
		}
		expireBy = e
	}

	base := s.baseFor(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref != "" {
		for _, l := range a.links {
			if l.ReferenceID == ref {
				linkBadRequest(w, "reference_id", "payment link with given reference_id: %s already exists. Please create a payment link with a different reference_id", ref)
				return
			}
		}
	}
	l := &linkObj{AcceptPartial: partial, Amount: amount, CallbackMethod: cbMethod, CallbackURL: cbURL, CreatedAt: now.Unix(),
		Currency: cur.Code, Customer: cust, Description: description, ExpireBy: expireBy, FirstMinPartialAmount: firstMin,
		ID: newID("plink"), Notes: lnotes(nts), Notify: notify, ReferenceID: ref, ReminderEnable: reminder, Reminders: []any{},
		Status: "created", UpdatedAt: now.Unix()}
	l.code = s.newCode()
	s.codes[l.code] = shortRef{acct: a, kind: "payment_link", id: l.ID}
	l.ShortURL = base + "/i/" + l.code
	a.links = append(a.links, l)
	s.owner[l.ID] = a
	writeJSON(w, http.StatusOK, l.api())
}

func (s *Simulator) findLink(a *account, id string) *linkObj {
	for _, l := range a.links {
		if l.ID == id {
			return l
		}
	}
	return nil
}

func (s *Simulator) listLinks(w http.ResponseWriter, r *http.Request, a *account) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []linkObj{}
	for i := len(a.links) - 1; i >= 0; i-- {
		l := a.links[i]
		if v := q.Get("reference_id"); v != "" && l.ReferenceID != v {
			continue
		}
		if v := q.Get("payment_id"); v != "" {
			found := false
			for _, p := range l.payments {
				found = found || p.PaymentID == v
			}
			if !found {
				continue
			}
		}
		out = append(out, l.api())
	}
	writeJSON(w, http.StatusOK, map[string]any{"payment_links": out})
}

func (s *Simulator) fetchLink(w http.ResponseWriter, r *http.Request, a *account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.findLink(a, r.PathValue("id")); l != nil {
		writeJSON(w, http.StatusOK, l.api())
		return
	}
	linkNotFound(w)
}

func (s *Simulator) cancelLinkAPI(w http.ResponseWriter, r *http.Request, a *account) {
	if !readCancelBody(w, r, true) {
		return
	}
	s.mu.Lock()
	l := s.findLink(a, r.PathValue("id"))
	if l == nil {
		s.mu.Unlock()
		linkNotFound(w)
		return
	}
	if l.Status != "created" {
		// Only created links can be cancelled (doc.go).
		s.mu.Unlock()
		linkBadRequest(w, "", "Payment Link cannot be cancelled as it is in %s state", l.Status)
		return
	}
	evs, desc := s.closeLinkLocked(a, l, "cancelled")
	if desc != "" {
		s.mu.Unlock()
		linkBadRequest(w, "", "%s", desc)
		return
	}
	out := l.api()
	s.mu.Unlock()
	s.dispatch(a, evs)
	writeJSON(w, http.StatusOK, out)
}

// ---- payments, refunds, orders ----

func (s *Simulator) findPayment(a *account, id string) *paymentObj {
	for _, p := range a.payments {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (s *Simulator) fetchPayment(w http.ResponseWriter, r *http.Request, a *account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.findPayment(a, r.PathValue("id")); p != nil {
		writeJSON(w, http.StatusOK, p)
		return
	}
	idNotFound(w)
}

func (s *Simulator) refundPayment(w http.ResponseWriter, r *http.Request, a *account) {
	b, err := readBody(r)
	if err != nil {
		badRequest(w, "", "%v", err)
		return
	}
	if refuseExtra(w, b, refundFields, false) {
		return
	}
	amount, present, ok := b.integer("amount")
	if present && (!ok || amount < 1) {
		badRequest(w, "amount", "The amount must be an integer of at least 1.")
		return
	}
	nts, desc := readNotes(b)
	if desc != "" {
		badRequest(w, "notes", "%s", desc)
		return
	}
	receipt, _ := b.str("receipt")
	if len([]rune(receipt)) > 40 {
		badRequest(w, "receipt", "The receipt may not be greater than 40 characters.")
		return
	}
	speed, _ := b.str("speed")
	if speed == "" {
		speed = "normal"
	}
	if speed != "normal" && speed != "optimum" {
		badRequest(w, "speed", "The selected speed is invalid.")
		return
	}
	key, keyed := r.Header["X-Refund-Idempotency"]
	if keyed && !validRefundKey(key[0]) {
		badRequest(w, "", "The idempotency key must be at least 10 characters and contain only letters, digits, hyphens and underscores.")
		return
	}
	fp := refundFingerprint(r.PathValue("id"), amount, nts, receipt, speed)
	s.mu.Lock()
	p := s.findPayment(a, r.PathValue("id"))
	if p == nil {
		s.mu.Unlock()
		idNotFound(w)
		return
	}
	k := ""
	if keyed {
		k = key[0]
		if rf, dup := a.refundKey[k]; dup {
			if rf.fingerprint != fp {
				s.mu.Unlock()
				badRequest(w, "", "Different request with the same idempotency key has already been processed. Please use a different idempotency key.")
				return
			}
			out := *rf
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, out)
			return
		}
	}
	if cur, err := money.LookupCurrency(p.Currency); err == nil && amount != 0 && amount < money.DefaultMinimums().Of(cur) {
		s.mu.Unlock()
		badRequest(w, "amount", "The amount must be atleast %s %s.", cur.Code, money.Format(money.DefaultMinimums().Of(cur), cur))
		return
	}
	rf, evs, desc := s.refundLocked(a, p, amount, nts, receipt, speed, k)
	if rf != nil {
		rf.fingerprint = fp
	}
	if desc != "" {
		s.mu.Unlock()
		badRequest(w, "amount", "%s", desc)
		return
	}
	out := *rf
	s.mu.Unlock()
	s.dispatch(a, evs)
	writeJSON(w, http.StatusOK, out)
}

func (s *Simulator) listPaymentRefunds(w http.ResponseWriter, r *http.Request, a *account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.findPayment(a, r.PathValue("id")) == nil {
		idNotFound(w)
		return
	}
	count, skip, desc := refundPaging(r)
	if desc != "" {
		badRequest(w, "", "%s", desc)
		return
	}
	items := []*refundObj{}
	for i := len(a.refunds) - 1; i >= 0; i-- {
		if a.refunds[i].PaymentID == r.PathValue("id") {
			if skip > 0 {
				skip--
				continue
			}
			if len(items) < count {
				items = append(items, a.refunds[i])
			}
		}
	}
	writeJSON(w, http.StatusOK, collection{Entity: "collection", Count: len(items), Items: items})
}

func (s *Simulator) fetchRefund(w http.ResponseWriter, r *http.Request, a *account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rf := range a.refunds {
		if rf.ID == r.PathValue("id") {
			writeJSON(w, http.StatusOK, rf)
			return
		}
	}
	idNotFound(w)
}

func (s *Simulator) fetchOrder(w http.ResponseWriter, r *http.Request, a *account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range a.orders {
		if o.ID == r.PathValue("id") {
			writeJSON(w, http.StatusOK, o)
			return
		}
	}
	idNotFound(w)
}
