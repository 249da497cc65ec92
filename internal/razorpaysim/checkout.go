package razorpaysim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/razorbill/razorbill/internal/money"
)

// The checkout page a short_url opens: what Razorpay's hosted page does,
// reduced to three buttons (pay in full, pay part, fail) that play the
// test instruments success@razorpay and failure@razorpay.

var checkoutTmpl = template.Must(template.New("checkout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · Razorpay simulator</title>
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1b2430}
.card{border:1px solid #d6dbe3;border-radius:.6rem;padding:1.2rem 1.4rem;margin-bottom:1rem}
.amt{font-size:1.8rem;font-weight:600}.muted{color:#5b6675;font-size:.9rem}
button{font-size:1rem;padding:.55rem 1rem;border-radius:.4rem;border:1px solid #2b5cff;background:#2b5cff;color:#fff;cursor:pointer;margin:.3rem .3rem .3rem 0}
button.fail{background:#fff;color:#c62828;border-color:#c62828}input,select{font-size:1rem;padding:.4rem}
.ok{color:#1b7f3a}.bad{color:#c62828}</style></head><body>
<p class="muted">Razorpay simulator · account {{.AccountID}} · {{.Mode}} mode</p>
<div class="card">
<h1>{{.Title}}</h1>
{{if .Description}}<p>{{.Description}}</p>{{end}}
<p class="amt">{{.Currency}} {{.Due}}</p>
<p class="muted">{{.Kind}} <code>{{.ID}}</code> · status <b>{{.Status}}</b> · total {{.Currency}} {{.Total}} · paid {{.Currency}} {{.Paid}}</p>
{{if .Message}}<p class="{{if .Failed}}bad{{else}}ok{{end}}">{{.Message}}</p>{{end}}
</div>
{{if .Payable}}
<div class="card">
<form method="post" action="{{.Action}}/pay">
<input type="hidden" name="amount_minor" value="{{.DueMinor}}">
<label>Method <select name="method"><option value="upi">UPI (success@razorpay)</option><option value="card">Card (4100 2800 0000 1007)</option><option value="netbanking">Netbanking</option><option value="wallet">Wallet</option></select></label><br>
<button type="submit">Pay in full: {{.Currency}} {{.Due}}</button>
</form>
{{if .Partial}}
<form method="post" action="{{.Action}}/pay">
<label>Amount <input name="amount" value="{{.MinPart}}" size="10"> {{.Currency}}</label>
<input type="hidden" name="method" value="upi">
<button type="submit">Pay part</button>
</form>
{{end}}
<form method="post" action="{{.Action}}/fail">
<input type="hidden" name="method" value="upi">
<button type="submit" class="fail">Fail payment (failure@razorpay)</button>
</form>
</div>
{{else}}<p class="muted">Nothing can be paid on this {{.Kind}} now.</p>{{end}}
</body></html>`))

type checkoutView struct {
	Title, Description, Kind, ID, Status, Currency string
	Total, Paid, Due, MinPart                      string
	DueMinor                                       int64
	AccountID, Mode, Action, Message               string
	Payable, Partial, Failed                       bool
}

func (s *Simulator) checkoutRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /i/{code}", func(w http.ResponseWriter, r *http.Request) {
		s.renderCheckout(w, r, "", false)
	})
	m.HandleFunc("POST /i/{code}/pay", s.checkoutPay)
	m.HandleFunc("POST /i/{code}/fail", s.checkoutFail)
}

func (s *Simulator) lookupCode(code string) (shortRef, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref, ok := s.codes[code]
	return ref, ok
}

func (s *Simulator) renderCheckout(w http.ResponseWriter, r *http.Request, msg string, failed bool) {
	ref, ok := s.lookupCode(r.PathValue("code"))
	if !ok {
		http.Error(w, "This link is not valid.", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	v := checkoutView{AccountID: ref.acct.ID, Mode: strings.TrimSuffix(strings.TrimPrefix(ref.acct.KeyID[:9], "rzp_"), "_"),
		Action: "/i/" + r.PathValue("code"), Message: msg, Failed: failed}
	var cur money.Currency
	var total, paid int64
	switch ref.kind {
	case "payment_link":
		l := s.findLink(ref.acct, ref.id)
		cur, _ = money.LookupCurrency(l.Currency)
		v.Title, v.Description, v.Kind, v.ID, v.Status = "Payment request", l.Description, "payment link", l.ID, l.Status
		total, paid = l.Amount, l.AmountPaid
		v.Payable = s.linkPayable(ref.acct, l) == nil
		v.Partial = l.AcceptPartial
		minPart := int64(1)
		if l.AmountPaid == 0 && l.FirstMinPartialAmount > 0 {
			minPart = l.FirstMinPartialAmount
		}
		v.MinPart = money.Format(minPart, cur)
	case "invoice":
		inv := s.findInvoice(ref.acct, ref.id)
		cur, _ = money.LookupCurrency(inv.Currency)
		v.Title, v.Description, v.Kind, v.ID, v.Status = "Invoice "+string(inv.Receipt), string(inv.Description), "invoice", inv.ID, inv.Status
		total, paid = inv.Amount, inv.AmountPaid
		v.Payable = (inv.Status == "issued" || inv.Status == "partially_paid") && (inv.ExpireBy == 0 || s.now().Unix() < int64(inv.ExpireBy))
		v.Partial = inv.PartialPayment
		v.MinPart = money.Format(1, cur)
	}
	s.mu.Unlock()
	v.Currency = cur.Code
	v.Total, v.Paid, v.Due, v.DueMinor = money.Format(total, cur), money.Format(paid, cur), money.Format(total-paid, cur), total-paid
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = checkoutTmpl.Execute(w, v)
}

// formAmount reads amount_minor (integer) or amount (a decimal in the
// currency's major unit).
func (s *Simulator) formAmount(r *http.Request, ref shortRef) (int64, error) {
	if v := r.PostFormValue("amount_minor"); v != "" {
		return strconv.ParseInt(v, 10, 64)
	}
	v := strings.TrimSpace(r.PostFormValue("amount"))
	if v == "" {
		return 0, nil
	}
	s.mu.Lock()
	var code string
	if ref.kind == "payment_link" {
		code = s.findLink(ref.acct, ref.id).Currency
	} else {
		code = s.findInvoice(ref.acct, ref.id).Currency
	}
	s.mu.Unlock()
	cur, err := money.LookupCurrency(code)
	if err != nil {
		return 0, err
	}
	return money.Parse(v, cur)
}

func (s *Simulator) checkoutPay(w http.ResponseWriter, r *http.Request) {
	ref, ok := s.lookupCode(r.PathValue("code"))
	if !ok {
		http.Error(w, "This link is not valid.", http.StatusNotFound)
		return
	}
	amount, err := s.formAmount(r, ref)
	if err != nil {
		s.renderCheckout(w, r, "That amount cannot be paid: "+err.Error(), true)
		return
	}
	o := PayOptions{Amount: amount, Method: r.PostFormValue("method")}
	var res PaymentResult
	if ref.kind == "payment_link" {
		res, err = s.PayPaymentLink(ref.id, o)
	} else {
		res, err = s.PayInvoice(ref.id, o)
	}
	if err != nil {
		s.renderCheckout(w, r, strings.TrimPrefix(err.Error(), "razorpaysim: "), true)
		return
	}
	if ref.kind == "payment_link" {
		if to := s.callbackURL(ref, res.PaymentID); to != "" {
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
	}
	s.renderCheckout(w, r, "Payment "+res.PaymentID+" successful.", false)
}

func (s *Simulator) checkoutFail(w http.ResponseWriter, r *http.Request) {
	ref, ok := s.lookupCode(r.PathValue("code"))
	if !ok {
		http.Error(w, "This link is not valid.", http.StatusNotFound)
		return
	}
	o := FailOptions{Method: r.PostFormValue("method")}
	var res PaymentResult
	var err error
	if ref.kind == "payment_link" {
		res, err = s.FailPaymentLink(ref.id, o)
	} else {
		res, err = s.FailInvoice(ref.id, o)
	}
	if err != nil {
		s.renderCheckout(w, r, strings.TrimPrefix(err.Error(), "razorpaysim: "), true)
		return
	}
	s.renderCheckout(w, r, "Payment "+res.PaymentID+" failed. You can try again.", true)
}

// callbackURL is where Razorpay sends the customer after paying a link
// with a callback_url: razorpay_payment_id, razorpay_payment_link_id,
// razorpay_payment_link_reference_id, razorpay_payment_link_status and
// razorpay_signature = hex HMAC-SHA256 (key secret) of
// "link_id|reference_id|status|payment_id".
func (s *Simulator) callbackURL(ref shortRef, paymentID string) string {
	s.mu.Lock()
	l := s.findLink(ref.acct, ref.id)
	cb, linkID, refID, status, secret := l.CallbackURL, l.ID, l.ReferenceID, l.Status, ref.acct.KeySecret
	s.mu.Unlock()
	if cb == "" {
		return ""
	}
	u, err := url.Parse(cb)
	if err != nil {
		return ""
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(linkID + "|" + refID + "|" + status + "|" + paymentID))
	q := u.Query()
	q.Set("razorpay_payment_id", paymentID)
	q.Set("razorpay_payment_link_id", linkID)
	q.Set("razorpay_payment_link_reference_id", refID)
	q.Set("razorpay_payment_link_status", status)
	q.Set("razorpay_signature", hex.EncodeToString(m.Sum(nil)))
	u.RawQuery = q.Encode()
	return u.String()
}
