package razorpaysim

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Objects is everything an account holds, each object rendered exactly as
// the API renders it.
type Objects struct {
	Customers    []json.RawMessage `json:"customers"`
	Invoices     []json.RawMessage `json:"invoices"`
	PaymentLinks []json.RawMessage `json:"payment_links"`
	Orders       []json.RawMessage `json:"orders"`
	Payments     []json.RawMessage `json:"payments"`
	Refunds      []json.RawMessage `json:"refunds"`
}

// Objects lists an account's objects, oldest first (keyID "" for all
// accounts).
func (s *Simulator) Objects(keyID string) Objects {
	s.mu.Lock()
	defer s.mu.Unlock()
	var o Objects
	for _, a := range s.accounts {
		if keyID != "" && a.KeyID != keyID {
			continue
		}
		for _, c := range a.customers {
			o.Customers = append(o.Customers, snapshot(c))
		}
		for _, inv := range a.invoices {
			o.Invoices = append(o.Invoices, snapshot(inv))
		}
		for _, l := range a.links {
			o.PaymentLinks = append(o.PaymentLinks, snapshot(l.api()))
		}
		for _, x := range a.orders {
			o.Orders = append(o.Orders, snapshot(x))
		}
		for _, p := range a.payments {
			o.Payments = append(o.Payments, snapshot(p))
		}
		for _, r := range a.refunds {
			o.Refunds = append(o.Refunds, snapshot(r))
		}
	}
	return o
}

func readJSON(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

type ctlError struct {
	Error string `json:"error"`
}

func ctlFail(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnknownKey) {
		status = http.StatusNotFound
	}
	writeJSON(w, status, ctlError{Error: err.Error()})
}

// controlRoutes is the test control API under /_sim/ (JSON, no auth: the
// simulator is a local tool).
func (s *Simulator) controlRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /{$}", s.dashboard)
	m.HandleFunc("GET /_sim/{$}", s.dashboard)
	m.HandleFunc("GET /_sim/accounts", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Accounts())
	})
	m.HandleFunc("POST /_sim/accounts", func(w http.ResponseWriter, r *http.Request) {
		var a Account
		if err := readJSON(r, &a); err != nil {
			ctlFail(w, err)
			return
		}
		out, err := s.CreateAccount(a)
		if err != nil {
			ctlFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
	m.HandleFunc("PUT /_sim/accounts/{key}/webhook", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			URL    string `json:"url"`
			Secret string `json:"secret"`
		}
		if err := readJSON(r, &in); err != nil {
			ctlFail(w, err)
			return
		}
		if err := s.SetWebhook(r.PathValue("key"), in.URL, in.Secret); err != nil {
			ctlFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"key_id": r.PathValue("key"), "url": in.URL})
	})
	m.HandleFunc("POST /_sim/accounts/{key}/rotate_secret", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Secret string `json:"secret"`
		}
		if err := readJSON(r, &in); err != nil {
			ctlFail(w, err)
			return
		}
		old, err := s.RotateWebhookSecret(r.PathValue("key"), in.Secret)
		if err != nil {
			ctlFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"previous_secret": old})
	})
	m.HandleFunc("POST /_sim/accounts/{key}/manual_refunds", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			On bool `json:"on"`
		}
		if err := readJSON(r, &in); err != nil {
			ctlFail(w, err)
			return
		}
		if err := s.SetManualRefunds(r.PathValue("key"), in.On); err != nil {
			ctlFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"manual_refunds": in.On})
	})
	s.webhookControlRoutes(m)
	m.HandleFunc("POST /_sim/accounts/{key}/hold", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Hold bool `json:"hold"`
		}
		if err := readJSON(r, &in); err != nil {
			ctlFail(w, err)
			return
		}
		if err := s.HoldWebhooks(r.PathValue("key"), in.Hold); err != nil {
			ctlFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"hold_webhooks": in.Hold})
	})
	m.HandleFunc("POST /_sim/accounts/{key}/release", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Order ReleaseOrder `json:"order"`
		}
		if err := readJSON(r, &in); err != nil {
			ctlFail(w, err)
			return
		}
		out, err := s.ReleaseWebhooks(r.PathValue("key"), in.Order)
		if err != nil {
			ctlFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string][]string{"events": out})
	})
	payRoute := func(pattern string, pay func(string, PayOptions) (PaymentResult, error)) {
		m.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			var in PayOptions
			if err := readJSON(r, &in); err != nil {
				ctlFail(w, err)
				return
			}
			res, err := pay(r.PathValue("id"), in)
			if err != nil {
				ctlFail(w, err)
				return
			}
			writeJSON(w, http.StatusOK, res)
		})
	}
	failRoute := func(pattern string, fail func(string, FailOptions) (PaymentResult, error)) {
		m.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			var in FailOptions
			if err := readJSON(r, &in); err != nil {
				ctlFail(w, err)
				return
			}
			res, err := fail(r.PathValue("id"), in)
			if err != nil {
				ctlFail(w, err)
				return
			}
			writeJSON(w, http.StatusOK, res)
		})
	}
	simple := func(pattern string, f func(string) error) {
		m.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := f(r.PathValue("id")); err != nil {
				ctlFail(w, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id")})
		})
	}
	payRoute("POST /_sim/payment_links/{id}/pay", s.PayPaymentLink)
	failRoute("POST /_sim/payment_links/{id}/fail", s.FailPaymentLink)
	simple("POST /_sim/payment_links/{id}/expire", s.ExpirePaymentLink)
	simple("POST /_sim/payment_links/{id}/cancel", s.CancelPaymentLink)
	payRoute("POST /_sim/invoices/{id}/pay", s.PayInvoice)
	failRoute("POST /_sim/invoices/{id}/fail", s.FailInvoice)
	simple("POST /_sim/invoices/{id}/expire", s.ExpireInvoice)
	m.HandleFunc("POST /_sim/refunds/{id}/process", func(w http.ResponseWriter, r *http.Request) {
		in := struct {
			OK *bool `json:"ok"`
		}{}
		if err := readJSON(r, &in); err != nil {
			ctlFail(w, err)
			return
		}
		ok := in.OK == nil || *in.OK
		if err := s.ProcessRefund(r.PathValue("id"), ok); err != nil {
			ctlFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "processed": ok})
	})
	m.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		f := s.Faults()
		if f == nil {
			f = []Fault{}
		}
		writeJSON(w, http.StatusOK, f)
	})
	m.HandleFunc("POST /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		if err := readJSON(r, &f); err != nil {
			ctlFail(w, err)
			return
		}
		if err := s.InjectFault(f); err != nil {
			ctlFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, s.Faults())
	})
	m.HandleFunc("DELETE /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		writeJSON(w, http.StatusOK, []Fault{})
	})
	m.HandleFunc("GET /_sim/objects", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Objects(r.URL.Query().Get("key_id")))
	})
	m.HandleFunc("GET /_sim/events", func(w http.ResponseWriter, r *http.Request) {
		ev := s.Events(r.URL.Query().Get("key_id"))
		if ev == nil {
			ev = []Event{}
		}
		writeJSON(w, http.StatusOK, ev)
	})
	m.HandleFunc("POST /_sim/events/{id}/redeliver", func(w http.ResponseWriter, r *http.Request) {
		var in RedeliverOptions
		if err := readJSON(r, &in); err != nil {
			ctlFail(w, err)
			return
		}
		out, err := s.Redeliver(r.Context(), r.PathValue("id"), in)
		if err != nil {
			ctlFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
	m.HandleFunc("GET /_sim/deliveries", func(w http.ResponseWriter, r *http.Request) {
		d := s.Deliveries(r.URL.Query().Get("key_id"))
		if d == nil {
			d = []Delivery{}
		}
		writeJSON(w, http.StatusOK, d)
	})
	m.HandleFunc("POST /_sim/sweep", func(w http.ResponseWriter, r *http.Request) {
		s.Sweep()
		writeJSON(w, http.StatusOK, map[string]bool{"swept": true})
	})
	m.HandleFunc("POST /_sim/wait", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("timeout_ms"))
		if ms <= 0 {
			ms = 10000
		}
		ctx, cancel := context.WithTimeout(r.Context(), time.Duration(ms)*time.Millisecond)
		defer cancel()
		if err := s.WaitDeliveries(ctx); err != nil {
			writeJSON(w, http.StatusGatewayTimeout, ctlError{Error: "deliveries still pending"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"idle": true})
	})
}

var dashTmpl = template.Must(template.New("dash").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Razorpay simulator</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#1b2430}table{border-collapse:collapse;margin-bottom:1.5rem}
td,th{border:1px solid #d6dbe3;padding:.3rem .6rem;text-align:left;font-size:.9rem}code{font-size:.85rem}</style></head><body>
<h1>Razorpay simulator</h1>
<p>API: <code>{{.Base}}/v1</code> · control: <code>{{.Base}}/_sim/</code> (objects, events, deliveries, faults)</p>
{{range .Accounts}}
<h2>Account {{.ID}} · <code>{{.KeyID}}</code></h2>
<p>Webhook: <code>{{if .WebhookURL}}{{.WebhookURL}}{{else}}none{{end}}</code></p>
<table><tr><th>kind</th><th>id</th><th>status</th><th>amount</th><th>paid</th><th>checkout</th></tr>
{{range .Rows}}<tr><td>{{.Kind}}</td><td><code>{{.ID}}</code></td><td>{{.Status}}</td><td>{{.Currency}} {{.Amount}}</td><td>{{.Paid}}</td><td>{{if .URL}}<a href="{{.URL}}">{{.URL}}</a>{{end}}</td></tr>
{{else}}<tr><td colspan="6">no invoices or payment links yet</td></tr>{{end}}
</table>
{{end}}
<h2>Last deliveries</h2>
<table><tr><th>at</th><th>event</th><th>id</th><th>attempt</th><th>status</th><th>error</th></tr>
{{range .Deliveries}}<tr><td>{{.At.Format "15:04:05"}}</td><td>{{.Event}}</td><td><code>{{.EventID}}</code></td><td>{{.Attempt}}</td><td>{{.Status}}</td><td>{{.Error}}</td></tr>{{end}}
</table></body></html>`))

func (s *Simulator) dashboard(w http.ResponseWriter, r *http.Request) {
	type row struct {
		Kind, ID, Status, Currency, URL string
		Amount, Paid                    int64
	}
	type acct struct {
		Account
		Rows []row
	}
	var view struct {
		Base       string
		Accounts   []acct
		Deliveries []Delivery
	}
	view.Base = s.baseFor(r)
	s.mu.Lock()
	for _, a := range s.accounts {
		v := acct{Account: a.Account}
		for _, inv := range a.invoices {
			v.Rows = append(v.Rows, row{"invoice", inv.ID, inv.Status, inv.Currency, inv.ShortURL, inv.Amount, inv.AmountPaid})
		}
		for _, l := range a.links {
			v.Rows = append(v.Rows, row{"payment link", l.ID, l.Status, l.Currency, l.ShortURL, l.Amount, l.AmountPaid})
		}
		view.Accounts = append(view.Accounts, v)
	}
	d := s.deliveries
	if len(d) > 50 {
		d = d[len(d)-50:]
	}
	view.Deliveries = append([]Delivery(nil), d...)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = dashTmpl.Execute(w, view)
}
