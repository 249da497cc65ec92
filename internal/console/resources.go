package console

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

var invoiceStatuses = []string{"DRAFT", "FINALIZED", "VOIDED", "PENDING", "PARTIALLY_PAID", "SUCCEEDED", "OVERPAID", "REFUNDED"}

func esc(id string) string { return url.PathEscape(id) }

// --- invoices ---

func (c *Console) invoices(w http.ResponseWriter, r *http.Request, s session) {
	p := pageFor(s, r, "Invoices", "invoices")
	q := url.Values{"limit": {"50"}}
	status := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("status")))
	if status != "" {
		q.Set("status", status)
	}
	if cid := strings.TrimSpace(r.URL.Query().Get("customer_id")); cid != "" {
		q.Set("customer_id", cid)
	}
	p.Form = url.Values{"status": {status}}
	p.Data["statuses"] = invoiceStatuses
	var l list
	if e := c.call(ctx(r), s, http.MethodGet, "/api/v1/invoices", q, nil, "", &l); e != nil {
		p.Err = e
		c.render(w, e.Status, "invoices", p)
		return
	}
	p.Data["invoices"] = l.Data
	p.Data["more"] = l.HasMore
	c.render(w, http.StatusOK, "invoices", p)
}

func (c *Console) invoice(w http.ResponseWriter, r *http.Request, s session) {
	c.showInvoice(w, r, s, http.StatusOK, nil)
}

// showInvoice renders an invoice with its customer and payments; e is the
// error of an action just tried (shown next to its button).
func (c *Console) showInvoice(w http.ResponseWriter, r *http.Request, s session, status int, e *apiError) {
	p := pageFor(s, r, "Invoice", "invoices")
	id := r.PathValue("id")
	var inv obj
	if err := c.call(ctx(r), s, http.MethodGet, "/api/v1/invoices/"+esc(id), nil, nil, "", &inv); err != nil {
		c.fail(w, p, err)
		return
	}
	p.Title = "Invoice " + str(inv["invoice_number"])
	p.Data["inv"] = inv
	var pays list
	if err := c.call(ctx(r), s, http.MethodGet, "/api/v1/payments", url.Values{"destination_id": {id}, "limit": {"20"}}, nil, "", &pays); err == nil {
		p.Data["payments"] = pays.Data
		for _, py := range pays.Data {
			if st := str(py["payment_status"]); (st == "PENDING" || st == "PROCESSING") && str(py["payment_url"]) != "" {
				p.Data["open_link"] = str(py["payment_url"])
				break
			}
		}
	}
	if e != nil {
		p.Err, p.Flash = e, ""
		if status == 0 {
			status = e.Status
		}
	}
	c.render(w, status, "invoice", p)
}

func (c *Console) invoiceAction(action string) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, s session) {
		id := r.PathValue("id")
		idem := r.PostForm.Get("idem")
		base := "/api/v1/invoices/" + esc(id)
		var e *apiError
		next := map[string]string{"finalize": "finalized", "void": "voided", "refresh": "refreshed", "sync": "isynced", "payment-link": "link"}[action]
		switch action {
		case "payment-link":
			var inv obj
			if e = c.call(ctx(r), s, http.MethodGet, base, nil, nil, "", &inv); e != nil {
				break
			}
			body := map[string]any{
				"amount": str(inv["amount_remaining"]), "currency": str(inv["currency"]),
				"destination_id": id, "destination_type": "INVOICE", "payment_method_type": "PAYMENT_LINK",
				"process_payment": true, "payment_gateway": "razorpay",
			}
			e = c.call(ctx(r), s, http.MethodPost, "/api/v1/payments", nil, body, idem, nil)
		default:
			e = c.call(ctx(r), s, http.MethodPost, base+"/"+action, nil, nil, idem, nil)
		}
		if e != nil {
			if e.Status == http.StatusNotFound && e.Code != "connection_not_configured" {
				c.fail(w, pageFor(s, r, "Not found", "invoices"), e)
				return
			}
			c.showInvoice(w, r, s, 0, e)
			return
		}
		http.Redirect(w, r, Prefix+"/invoices/"+esc(id)+"?done="+next, http.StatusSeeOther)
	}
}

// --- customers ---

func (c *Console) customers(w http.ResponseWriter, r *http.Request, s session) {
	p := pageFor(s, r, "Customers", "customers")
	ext := strings.TrimSpace(r.URL.Query().Get("external_id"))
	email := strings.TrimSpace(r.URL.Query().Get("email"))
	p.Form = url.Values{"external_id": {ext}, "email": {email}}
	q := url.Values{"limit": {"100"}}
	if ext != "" {
		q.Set("external_id", ext)
	}
	var l list
	if e := c.call(ctx(r), s, http.MethodGet, "/api/v1/customers", q, nil, "", &l); e != nil {
		p.Err = e
		c.render(w, e.Status, "customers", p)
		return
	}
	rows := l.Data
	if email != "" {
		// The API has no email filter: the console narrows the newest 100.
		rows = nil
		for _, cu := range l.Data {
			if strings.Contains(strings.ToLower(str(cu["email"])), strings.ToLower(email)) {
				rows = append(rows, cu)
			}
		}
		p.Data["email_note"] = true
	}
	p.Data["customers"] = rows
	p.Data["more"] = l.HasMore
	c.render(w, http.StatusOK, "customers", p)
}

func (c *Console) customer(w http.ResponseWriter, r *http.Request, s session) {
	c.showCustomer(w, r, s, nil)
}

func (c *Console) showCustomer(w http.ResponseWriter, r *http.Request, s session, e *apiError) {
	p := pageFor(s, r, "Customer", "customers")
	id := r.PathValue("id")
	var cu obj
	if err := c.call(ctx(r), s, http.MethodGet, "/api/v1/customers/"+esc(id), nil, nil, "", &cu); err != nil {
		c.fail(w, p, err)
		return
	}
	p.Title = "Customer " + str(cu["name"])
	p.Data["cu"] = cu
	var invs list
	if err := c.call(ctx(r), s, http.MethodGet, "/api/v1/invoices", url.Values{"customer_id": {id}, "limit": {"20"}}, nil, "", &invs); err == nil {
		p.Data["invoices"] = invs.Data
	}
	if u, err := c.monthUsage(r, s, id); err == nil {
		p.Data["usage"] = u
	}
	status := http.StatusOK
	if e != nil {
		p.Err, p.Flash, status = e, "", e.Status
	}
	c.render(w, status, "customer", p)
}

func (c *Console) customerSync(w http.ResponseWriter, r *http.Request, s session) {
	id := r.PathValue("id")
	if e := c.call(ctx(r), s, http.MethodPost, "/api/v1/customers/"+esc(id)+"/sync", nil, nil, r.PostForm.Get("idem"), nil); e != nil {
		if e.Status == http.StatusNotFound && e.Code != "connection_not_configured" {
			c.fail(w, pageFor(s, r, "Not found", "customers"), e)
			return
		}
		c.showCustomer(w, r, s, e)
		return
	}
	http.Redirect(w, r, Prefix+"/customers/"+esc(id)+"?done=synced", http.StatusSeeOther)
}

// --- connection ---

func (c *Console) connection(w http.ResponseWriter, r *http.Request, s session) {
	c.showConnection(w, r, s, http.StatusOK, nil, nil, "")
}

// showConnection renders the connection (or the set-up form when there is
// none). form refills the non-secret fields after an error; shown is a
// webhook secret generated just now, shown this once.
func (c *Console) showConnection(w http.ResponseWriter, r *http.Request, s session, status int, e *apiError, form url.Values, shown string) {
	p := pageFor(s, r, "Razorpay connection", "connection")
	p.Fields = []string{"name", "key_id", "key_secret", "webhook_secret", "invoice_outbound_sync", "customer_sync"}
	var conn obj
	if err := c.call(ctx(r), s, http.MethodGet, "/api/v1/connections/razorpay", nil, nil, "", &conn); err != nil {
		if err.Code != "connection_not_configured" {
			c.fail(w, p, err)
			return
		}
		conn = nil
	}
	p.Data["conn"] = conn
	p.Data["shown_secret"] = shown
	if form == nil {
		form = url.Values{"customer_sync": {"ON_DEMAND"}, "invoice_outbound_sync": {"on"}}
		if conn != nil {
			form.Set("name", str(conn["name"]))
			form.Set("key_id", str(conn["key_id"]))
			form.Set("customer_sync", str(conn["customer_sync"]))
			if conn["invoice_outbound_sync"] != true {
				form.Del("invoice_outbound_sync")
			}
		}
	}
	p.Form = form
	if e != nil {
		p.Err, p.Flash = e, ""
		if status == http.StatusOK {
			status = e.Status
		}
	}
	c.render(w, status, "connection", p)
}

func (c *Console) saveConnection(w http.ResponseWriter, r *http.Request, s session) {
	f := r.PostForm
	body := map[string]any{
		"name": strings.TrimSpace(f.Get("name")), "key_id": strings.TrimSpace(f.Get("key_id")),
		"customer_sync": f.Get("customer_sync"), "invoice_outbound_sync": f.Get("invoice_outbound_sync") == "on",
	}
	if v := f.Get("key_secret"); v != "" {
		body["key_secret"] = v
	}
	generated := ""
	switch {
	case f.Get("generate_webhook_secret") == "on":
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic(err)
		}
		generated = "whsec_" + base64.RawURLEncoding.EncodeToString(b[:])
		body["webhook_secret"] = generated
	case f.Get("webhook_secret") != "":
		body["webhook_secret"] = f.Get("webhook_secret")
	}
	// Secrets are never put back into the form.
	keep := url.Values{"name": {f.Get("name")}, "key_id": {f.Get("key_id")}, "customer_sync": {f.Get("customer_sync")}}
	if f.Get("invoice_outbound_sync") == "on" {
		keep.Set("invoice_outbound_sync", "on")
	}
	var out obj
	if e := c.call(ctx(r), s, http.MethodPut, "/api/v1/connections/razorpay", nil, body, "", &out); e != nil {
		c.showConnection(w, r, s, e.Status, e, keep, "")
		return
	}
	if g := str(out["webhook_secret_generated"]); g != "" {
		generated = g
	}
	if generated != "" {
		// Shown once, to paste into Razorpay's dashboard.
		c.showConnection(w, r, s, http.StatusOK, nil, nil, generated)
		return
	}
	http.Redirect(w, r, Prefix+"/connection?done=connection", http.StatusSeeOther)
}

// --- payments ---

func (c *Console) payment(w http.ResponseWriter, r *http.Request, s session) {
	c.showPayment(w, r, s, nil, nil)
}

func (c *Console) showPayment(w http.ResponseWriter, r *http.Request, s session, e *apiError, form url.Values) {
	p := pageFor(s, r, "Payment", "invoices")
	p.Fields = []string{"amount", "reason"}
	id := r.PathValue("id")
	var pay obj
	if err := c.call(ctx(r), s, http.MethodGet, "/api/v1/payments/"+esc(id), nil, nil, "", &pay); err != nil {
		c.fail(w, p, err)
		return
	}
	p.Data["pay"] = pay
	var rf list
	if err := c.call(ctx(r), s, http.MethodGet, "/api/v1/payments/"+esc(id)+"/refunds", nil, nil, "", &rf); err == nil {
		p.Data["refunds"] = rf.Data
	}
	p.Form = form
	status := http.StatusOK
	if e != nil {
		p.Err, p.Flash, status = e, "", e.Status
	}
	c.render(w, status, "payment", p)
}

func (c *Console) refund(w http.ResponseWriter, r *http.Request, s session) {
	id := r.PathValue("id")
	body := map[string]any{}
	if a := strings.TrimSpace(r.PostForm.Get("amount")); a != "" {
		body["amount"] = a
	}
	if why := strings.TrimSpace(r.PostForm.Get("reason")); why != "" {
		body["reason"] = why
	}
	if e := c.call(ctx(r), s, http.MethodPost, "/api/v1/payments/"+esc(id)+"/refund", nil, body, r.PostForm.Get("idem"), nil); e != nil {
		if e.Status == http.StatusNotFound {
			c.fail(w, pageFor(s, r, "Not found", "invoices"), e)
			return
		}
		c.showPayment(w, r, s, e, url.Values{"amount": {r.PostForm.Get("amount")}, "reason": {r.PostForm.Get("reason")}})
		return
	}
	http.Redirect(w, r, Prefix+"/payments/"+esc(id)+"?done=refunded", http.StatusSeeOther)
}

// paymentAction cancels an open link or pulls the payment's state from
// Razorpay now (POST /api/v1/payments/{id}/cancel, …/refresh).
func (c *Console) paymentAction(action string) authedHandler {
	next := map[string]string{"cancel": "pcanceled", "refresh": "refreshed"}[action]
	return func(w http.ResponseWriter, r *http.Request, s session) {
		id := r.PathValue("id")
		if e := c.call(ctx(r), s, http.MethodPost, "/api/v1/payments/"+esc(id)+"/"+action, nil, nil, r.PostForm.Get("idem"), nil); e != nil {
			if e.Status == http.StatusNotFound {
				c.fail(w, pageFor(s, r, "Not found", "invoices"), e)
				return
			}
			c.showPayment(w, r, s, e, nil)
			return
		}
		http.Redirect(w, r, Prefix+"/payments/"+esc(id)+"?done="+next, http.StatusSeeOther)
	}
}

// --- gateway events ---

func (c *Console) gatewayEvents(w http.ResponseWriter, r *http.Request, s session) {
	c.showEvents(w, r, s, nil)
}

func (c *Console) showEvents(w http.ResponseWriter, r *http.Request, s session, e *apiError) {
	p := pageFor(s, r, "Gateway events", "events")
	status := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("status")))
	if status == "" {
		status = "UNMATCHED"
	}
	p.Form = url.Values{"status": {status}}
	p.Data["statuses"] = []string{"UNMATCHED", "APPLIED"}
	var l list
	if err := c.call(ctx(r), s, http.MethodGet, "/api/v1/gateway-events", url.Values{"status": {status}, "limit": {"50"}}, nil, "", &l); err != nil {
		p.Err = err
		c.render(w, err.Status, "events", p)
		return
	}
	p.Data["events"] = l.Data
	code := http.StatusOK
	if e != nil {
		p.Err, p.Flash, code = e, "", e.Status
	}
	c.render(w, code, "events", p)
}

func (c *Console) retryEvent(w http.ResponseWriter, r *http.Request, s session) {
	id := r.PathValue("id")
	if e := c.call(ctx(r), s, http.MethodPost, "/api/v1/gateway-events/"+esc(id)+"/retry", nil, nil, r.PostForm.Get("idem"), nil); e != nil {
		if e.Status == http.StatusNotFound {
			c.fail(w, pageFor(s, r, "Not found", "events"), e)
			return
		}
		c.showEvents(w, r, s, e)
		return
	}
	http.Redirect(w, r, Prefix+"/gateway-events?done=retried", http.StatusSeeOther)
}
