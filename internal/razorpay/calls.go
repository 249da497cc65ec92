package razorpay

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/razorpay/razorpay-go/requests"
	"github.com/razorpay/razorpay-go/resources"

	"github.com/razorbill/razorbill/internal/money"
)

// Limits Razorpay documents, checked here so a request that cannot succeed
// is not sent.
const (
	MaxNotes       = 15  // keys in notes
	MaxNoteValue   = 256 // characters in a note's value
	MaxReceipt     = 40  // characters in an invoice receipt
	MaxReferenceID = 40  // characters in a payment link reference_id
	MaxLineItems   = 50  // line items on an invoice
	// NoteInvoiceID is the notes key naming the Razorbill invoice a
	// Razorpay invoice was made for.
	NoteInvoiceID     = "razorbill_invoice_id"
	customerPageSize  = 100
	customerPageLimit = 10
)

// VerifyCredentials checks a key pair with a cheap authenticated GET
// (GET /v1/customers?count=1). A wrong pair is apperr.Unauthorized with code
// invalid_razorpay_credentials.
func (c *Client) VerifyCredentials(ctx context.Context, cr Credentials) error {
	return c.do(ctx, cr, call{op: "verify credentials", retry: true,
		send: func(r *requests.Request) (map[string]interface{}, error) {
			return (&resources.Customer{Request: r}).All(map[string]interface{}{"count": 1}, nil)
		}})
}

// CustomerInput creates a customer. FailExisting false (the zero value)
// sends fail_existing "0": an existing customer with the same email and
// contact is returned instead of an error. true sends "1": Razorpay then
// answers 400 "Customer already exists for the merchant".
type CustomerInput struct {
	Name, Email, Contact, GSTIN string
	Notes                       map[string]string
	FailExisting                bool
}

// CreateCustomer creates (or, without FailExisting, finds) a customer.
// POST /v1/customers. Retried only without FailExisting, when a repeat
// returns the same customer.
func (c *Client) CreateCustomer(ctx context.Context, cr Credentials, in CustomerInput) (Customer, error) {
	const op = "create customer"
	if err := checkNotes(op, in.Notes); err != nil {
		return Customer{}, err
	}
	payload := map[string]interface{}{"fail_existing": "0"}
	if in.FailExisting {
		payload["fail_existing"] = "1"
	}
	setIf(payload, "name", in.Name)
	setIf(payload, "email", in.Email)
	setIf(payload, "contact", in.Contact)
	setIf(payload, "gstin", in.GSTIN)
	if len(in.Notes) > 0 {
		payload["notes"] = in.Notes
	}
	var out Customer
	err := c.do(ctx, cr, call{op: op, retry: !in.FailExisting, out: &out,
		send: func(r *requests.Request) (map[string]interface{}, error) {
			return (&resources.Customer{Request: r}).Create(payload, nil)
		}})
	return out, err
}

// FindCustomer looks for a customer by email and contact (Razorpay's
// identity) in GET /v1/customers pages of 100, at most 10 pages (1,000
// customers, newest first): prefer a stored mapping, this is the fallback.
// An empty email or contact matches any; both empty finds nothing. Emails
// compare case-insensitively, contacts by their digits (a leading country
// code may be present on one side only).
func (c *Client) FindCustomer(ctx context.Context, cr Credentials, email, contact string) (Customer, bool, error) {
	if email == "" && contact == "" {
		return Customer{}, false, nil
	}
	for page := 0; page < customerPageLimit; page++ {
		var list collection[Customer]
		skip := page * customerPageSize
		err := c.do(ctx, cr, call{op: "list customers", retry: true, out: &list,
			send: func(r *requests.Request) (map[string]interface{}, error) {
				return (&resources.Customer{Request: r}).All(map[string]interface{}{"count": customerPageSize, "skip": skip}, nil)
			}})
		if err != nil {
			return Customer{}, false, err
		}
		for _, cu := range list.Items {
			if (email == "" || strings.EqualFold(strings.TrimSpace(cu.Email), strings.TrimSpace(email))) &&
				(contact == "" || sameContact(cu.Contact, contact)) {
				return cu, true, nil
			}
		}
		if len(list.Items) < customerPageSize {
			break
		}
	}
	return Customer{}, false, nil
}

func sameContact(a, b string) bool {
	da, db := digits(a), digits(b)
	if da == "" || db == "" {
		return da == db
	}
	if len(da) < len(db) {
		da, db = db, da
	}
	// "+919000090000" and "9000090000" are the same phone.
	return da == db || (len(db) >= 8 && strings.HasSuffix(da, db))
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// InvoiceInput creates an issued Razorpay invoice (type "invoice"). Currency
// is upper-case ISO; each line's Amount is per unit in minor units.
// ExpireBy zero means no expiry (else at least 15 minutes ahead). SMSNotify
// and EmailNotify are sent explicitly (Razorpay defaults them on).
type InvoiceInput struct {
	CustomerID     string
	Currency       string
	Receipt        string
	Description    string
	LineItems      []InvoiceLineItem
	ExpireBy       time.Time
	SMSNotify      bool
	EmailNotify    bool
	PartialPayment bool
	Notes          map[string]string
}

// CreateInvoice creates an invoice (POST /v1/invoices). Razorpay does not
// refuse a repeated receipt, so a create is never repeated blindly: when an
// attempt gets no answer (or a 5xx), the retry first looks the receipt up
// (GET /v1/invoices?receipt=…&customer_id=…) and returns the invoice found.
// A receipt is required for that reason.
func (c *Client) CreateInvoice(ctx context.Context, cr Credentials, in InvoiceInput) (Invoice, error) {
	const op = "create invoice"
	if err := validID(op, "customer_id", in.CustomerID); err != nil {
		return Invoice{}, err
	}
	cur, err := money.LookupCurrency(in.Currency)
	if err != nil {
		return Invoice{}, invalidInput(op, "currency", "%v", err)
	}
	if n := len([]rune(in.Receipt)); n < 1 || n > MaxReceipt {
		return Invoice{}, invalidInput(op, "receipt", "receipt must be 1 to %d characters, not %d", MaxReceipt, n)
	}
	if len(in.LineItems) == 0 || len(in.LineItems) > MaxLineItems {
		return Invoice{}, invalidInput(op, "line_items", "an invoice needs 1 to %d line items, not %d", MaxLineItems, len(in.LineItems))
	}
	if err := checkNotes(op, in.Notes); err != nil {
		return Invoice{}, err
	}
	lines := make([]map[string]interface{}, 0, len(in.LineItems))
	for i, li := range in.LineItems {
		if li.Amount <= 0 || li.Quantity <= 0 {
			return Invoice{}, invalidInput(op, "line_items", "line %d: amount and quantity must be positive integers", i+1)
		}
		if _, err := money.ToRazorpay(li.Amount, cur); err != nil {
			return Invoice{}, invalidInput(op, "line_items", "line %d: %v", i+1, err)
		}
		lcur := cur.Code
		if li.Currency != "" {
			lcur = strings.ToUpper(li.Currency)
		}
		line := map[string]interface{}{"name": li.Name, "amount": li.Amount, "currency": lcur, "quantity": li.Quantity}
		setIf(line, "description", li.Description)
		lines = append(lines, line)
	}
	payload := map[string]interface{}{
		"type": "invoice", "customer_id": in.CustomerID, "currency": cur.Code, "receipt": in.Receipt,
		"line_items": lines, "sms_notify": boolInt(in.SMSNotify), "email_notify": boolInt(in.EmailNotify),
		"partial_payment": in.PartialPayment,
	}
	setIf(payload, "description", in.Description)
	if !in.ExpireBy.IsZero() {
		payload["expire_by"] = in.ExpireBy.Unix()
	}
	if len(in.Notes) > 0 {
		payload["notes"] = in.Notes
	}
	var out Invoice
	err = c.do(ctx, cr, call{op: op, retry: true, out: &out,
		heal: func(ctx context.Context) (bool, error) {
			invs, err := c.invoicesByReceipt(ctx, cr, in.Receipt, in.CustomerID, false)
			if err != nil {
				return false, err
			}
			// With our id in the notes, only the invoice naming it is ours:
			// another with the same receipt (the merchant's own) is not.
			ours := in.Notes[NoteInvoiceID]
			for _, inv := range invs {
				if ours == "" || inv.Notes[NoteInvoiceID] == ours {
					out = inv
					return true, nil
				}
			}
			return false, nil
		},
		send: func(r *requests.Request) (map[string]interface{}, error) {
			return (&resources.Invoice{Request: r}).Create(payload, nil)
		}})
	return out, err
}

// FindInvoiceByReceipt finds the account's live invoice (draft, issued,
// partially_paid or paid) with this receipt: GET /v1/invoices?receipt=….
// Razorpay allows a receipt to repeat; the earliest live one is returned.
// This lookup is how a crash between "Razorpay created it" and "we stored
// the id" is healed.
func (c *Client) FindInvoiceByReceipt(ctx context.Context, cr Credentials, receipt string) (Invoice, bool, error) {
	return c.findInvoice(ctx, cr, receipt, "", true)
}

func (c *Client) findInvoice(ctx context.Context, cr Credentials, receipt, customerID string, retry bool) (Invoice, bool, error) {
	invs, err := c.invoicesByReceipt(ctx, cr, receipt, customerID, retry)
	if err != nil || len(invs) == 0 {
		return Invoice{}, false, err
	}
	return invs[0], true, nil
}

// FindInvoicesByReceipt lists the account's live invoices (draft, issued,
// partially_paid or paid) with this receipt, oldest first: GET
// /v1/invoices?receipt=… (one page of 100).
func (c *Client) FindInvoicesByReceipt(ctx context.Context, cr Credentials, receipt string) ([]Invoice, error) {
	return c.invoicesByReceipt(ctx, cr, receipt, "", true)
}

func (c *Client) invoicesByReceipt(ctx context.Context, cr Credentials, receipt, customerID string, retry bool) ([]Invoice, error) {
	const op = "find invoice by receipt"
	if receipt == "" {
		return nil, invalidInput(op, "receipt", "receipt is required")
	}
	q := map[string]interface{}{"receipt": receipt, "count": 100}
	if customerID != "" {
		q["customer_id"] = customerID
	}
	var list collection[Invoice]
	k := call{op: op, retry: retry, out: &list, send: func(r *requests.Request) (map[string]interface{}, error) {
		return (&resources.Invoice{Request: r}).All(q, nil)
	}}
	var err error
	if retry {
		err = c.do(ctx, cr, k)
	} else {
		err = c.once(ctx, cr, k, 0)
	}
	if err != nil {
		return nil, err
	}
	var out []Invoice
	for _, inv := range list.Items {
		if inv.Receipt != receipt || (customerID != "" && inv.CustomerID != "" && inv.CustomerID != customerID) {
			continue
		}
		switch inv.Status {
		case "draft", "issued", "partially_paid", "paid":
			out = append(out, inv)
		}
	}
	// Razorpay lists newest first: a stable sort by creation time keeps
	// the later item (the older invoice) first on equal seconds.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// CancelInvoice is POST /v1/invoices/{id}/cancel (only an issued invoice
// can be cancelled; Razorpay refuses a draft, paid or partially paid one
// with a 400; this client never creates drafts). After an attempt of unknown outcome the retry first fetches
// the invoice and returns it if it is already cancelled.
func (c *Client) CancelInvoice(ctx context.Context, cr Credentials, id string) (Invoice, error) {
	const op = "cancel invoice"
	if err := validID(op, "id", id); err != nil {
		return Invoice{}, err
	}
	var out Invoice
	err := c.do(ctx, cr, call{op: op, retry: true, out: &out,
		heal: func(ctx context.Context) (bool, error) {
			var inv Invoice
			err := c.once(ctx, cr, call{op: "fetch invoice", out: &inv, send: func(r *requests.Request) (map[string]interface{}, error) {
				return (&resources.Invoice{Request: r}).Fetch(id, nil, nil)
			}}, 0)
			if err != nil {
				return false, err
			}
			if inv.Status == "cancelled" {
				out = inv
				return true, nil
			}
			return false, nil
		},
		send: func(r *requests.Request) (map[string]interface{}, error) {
			return r.Post("/v1/invoices/"+id+"/cancel", nil, nil)
		}})
	return out, err
}

// FetchInvoice is GET /v1/invoices/{id}.
func (c *Client) FetchInvoice(ctx context.Context, cr Credentials, id string) (Invoice, error) {
	const op = "fetch invoice"
	if err := validID(op, "id", id); err != nil {
		return Invoice{}, err
	}
	var out Invoice
	err := c.do(ctx, cr, call{op: op, retry: true, out: &out, send: func(r *requests.Request) (map[string]interface{}, error) {
		return (&resources.Invoice{Request: r}).Fetch(id, nil, nil)
	}})
	return out, err
}

// LinkCustomer is the customer block of a payment link.
type LinkCustomer struct {
	Name, Email, Contact string
}

// PaymentLinkInput creates a standard payment link. ReferenceID (≤ 40
// characters, unique per account) is required: it is what makes a create
// safe to repeat. CallbackURL, when set, is sent with callback_method "get".
type PaymentLinkInput struct {
	Amount                int64
	Currency              string
	Description           string
	ReferenceID           string
	AcceptPartial         bool
	FirstMinPartialAmount int64
	Customer              LinkCustomer
	NotifySMS             bool
	NotifyEmail           bool
	ReminderEnable        bool
	Notes                 map[string]string
	CallbackURL           string
	ExpireBy              time.Time
}

// CreatePaymentLink is POST /v1/payment_links. After an attempt of unknown
// outcome the retry first looks the reference_id up and returns the link
// found; a 400 "payment link with given reference id already exists" after
// such an attempt is healed the same way. On a first attempt that 400 is
// returned (IsDuplicateReference reports it) for the caller to decide.
func (c *Client) CreatePaymentLink(ctx context.Context, cr Credentials, in PaymentLinkInput) (PaymentLink, error) {
	const op = "create payment link"
	cur, err := money.LookupCurrency(in.Currency)
	if err != nil {
		return PaymentLink{}, invalidInput(op, "currency", "%v", err)
	}
	if in.Amount <= 0 {
		return PaymentLink{}, invalidInput(op, "amount", "amount must be a positive integer in minor units")
	}
	if _, err := money.ToRazorpay(in.Amount, cur); err != nil {
		return PaymentLink{}, invalidInput(op, "amount", "%v", err)
	}
	if n := len([]rune(in.ReferenceID)); n < 1 || n > MaxReferenceID {
		return PaymentLink{}, invalidInput(op, "reference_id", "reference_id must be 1 to %d characters, not %d", MaxReferenceID, n)
	}
	if err := checkNotes(op, in.Notes); err != nil {
		return PaymentLink{}, err
	}
	payload := map[string]interface{}{
		"amount": in.Amount, "currency": cur.Code, "accept_partial": in.AcceptPartial, "reference_id": in.ReferenceID,
		"notify":          map[string]interface{}{"sms": in.NotifySMS, "email": in.NotifyEmail},
		"reminder_enable": in.ReminderEnable,
	}
	if in.AcceptPartial && in.FirstMinPartialAmount > 0 {
		payload["first_min_partial_amount"] = in.FirstMinPartialAmount
	}
	setIf(payload, "description", in.Description)
	cust := map[string]interface{}{}
	setIf(cust, "name", in.Customer.Name)
	setIf(cust, "email", in.Customer.Email)
	setIf(cust, "contact", in.Customer.Contact)
	if len(cust) > 0 {
		payload["customer"] = cust
	}
	if len(in.Notes) > 0 {
		payload["notes"] = in.Notes
	}
	if in.CallbackURL != "" {
		payload["callback_url"], payload["callback_method"] = in.CallbackURL, "get"
	}
	if !in.ExpireBy.IsZero() {
		payload["expire_by"] = in.ExpireBy.Unix()
	}
	var out PaymentLink
	lookup := func(ctx context.Context) (bool, error) {
		l, ok, err := c.findLink(ctx, cr, in.ReferenceID, false)
		if ok {
			out = l
		}
		return ok, err
	}
	err = c.do(ctx, cr, call{op: op, retry: true, out: &out, heal: lookup,
		onRefusal: func(ctx context.Context, err error) bool {
			if !IsDuplicateReference(err) {
				return false
			}
			ok, _ := lookup(ctx)
			return ok
		},
		send: func(r *requests.Request) (map[string]interface{}, error) {
			return (&resources.PaymentLink{Request: r}).Create(payload, nil)
		}})
	return out, err
}

// FindPaymentLinkByReference is GET /v1/payment_links?reference_id=….
func (c *Client) FindPaymentLinkByReference(ctx context.Context, cr Credentials, referenceID string) (PaymentLink, bool, error) {
	return c.findLink(ctx, cr, referenceID, true)
}

func (c *Client) findLink(ctx context.Context, cr Credentials, referenceID string, retry bool) (PaymentLink, bool, error) {
	const op = "find payment link by reference"
	if referenceID == "" {
		return PaymentLink{}, false, invalidInput(op, "reference_id", "reference_id is required")
	}
	var list linkList
	k := call{op: op, retry: retry, out: &list, send: func(r *requests.Request) (map[string]interface{}, error) {
		return (&resources.PaymentLink{Request: r}).All(map[string]interface{}{"reference_id": referenceID}, nil)
	}}
	var err error
	if retry {
		err = c.do(ctx, cr, k)
	} else {
		err = c.once(ctx, cr, k, 0)
	}
	if err != nil {
		return PaymentLink{}, false, err
	}
	for _, l := range list.Items {
		if l.ReferenceID == referenceID {
			return l, true, nil
		}
	}
	return PaymentLink{}, false, nil
}

// FetchPaymentLink is GET /v1/payment_links/{id}.
func (c *Client) FetchPaymentLink(ctx context.Context, cr Credentials, id string) (PaymentLink, error) {
	const op = "fetch payment link"
	if err := validID(op, "id", id); err != nil {
		return PaymentLink{}, err
	}
	var out PaymentLink
	err := c.do(ctx, cr, call{op: op, retry: true, out: &out, send: func(r *requests.Request) (map[string]interface{}, error) {
		return (&resources.PaymentLink{Request: r}).Fetch(id, nil, nil)
	}})
	return out, err
}

// CancelPaymentLink is POST /v1/payment_links/{id}/cancel. After an
// attempt of unknown outcome the retry first fetches the link and returns
// it if it is already cancelled.
func (c *Client) CancelPaymentLink(ctx context.Context, cr Credentials, id string) (PaymentLink, error) {
	const op = "cancel payment link"
	if err := validID(op, "id", id); err != nil {
		return PaymentLink{}, err
	}
	var out PaymentLink
	err := c.do(ctx, cr, call{op: op, retry: true, out: &out,
		heal: func(ctx context.Context) (bool, error) {
			var l PaymentLink
			err := c.once(ctx, cr, call{op: "fetch payment link", out: &l, send: func(r *requests.Request) (map[string]interface{}, error) {
				return (&resources.PaymentLink{Request: r}).Fetch(id, nil, nil)
			}}, 0)
			if err != nil {
				return false, err
			}
			if l.Status == "cancelled" {
				out = l
				return true, nil
			}
			return false, nil
		},
		send: func(r *requests.Request) (map[string]interface{}, error) {
			return (&resources.PaymentLink{Request: r}).Cancel(id, nil, nil)
		}})
	return out, err
}

// FetchPayment is GET /v1/payments/{id}.
func (c *Client) FetchPayment(ctx context.Context, cr Credentials, id string) (Payment, error) {
	const op = "fetch payment"
	if err := validID(op, "id", id); err != nil {
		return Payment{}, err
	}
	var out Payment
	err := c.do(ctx, cr, call{op: op, retry: true, out: &out, send: func(r *requests.Request) (map[string]interface{}, error) {
		return (&resources.Payment{Request: r}).Fetch(id, nil, nil)
	}})
	return out, err
}

func copyMap(m map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func setIf(m map[string]interface{}, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func checkNotes(op string, notes map[string]string) error {
	if len(notes) > MaxNotes {
		return invalidInput(op, "notes", "notes can have at most %d keys, not %d", MaxNotes, len(notes))
	}
	for k, v := range notes {
		if n := len([]rune(v)); n > MaxNoteValue {
			return invalidInput(op, "notes", "note %q is %d characters; Razorpay allows %d", k, n, MaxNoteValue)
		}
	}
	return nil
}
