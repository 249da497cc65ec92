package console

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// page is what every view gets.
type page struct {
	Title  string
	Nav    string // the active navigation entry
	CSRF   string // the session's (or sign-in form's) CSRF token
	Env    string // the signed-in environment
	Flash  string // what the last action did
	Err    *apiError
	Form   url.Values // the submitted form, to fill the fields again after an error
	Idem   string     // a fresh Idempotency-Key for this page's forms
	Data   map[string]any
	Signed bool
	// Fields are the inputs this page shows an error next to; an error of
	// any other field (or of none) is shown at the top.
	Fields []string
}

// Inline reports whether the error is shown next to its field.
func (p page) Inline() bool {
	if p.Err == nil || p.Err.Field == "" {
		return false
	}
	for _, f := range p.Fields {
		if f == p.Err.Field {
			return true
		}
	}
	return false
}

// done are the messages a redirect after an action may show (by key, so
// nothing from the URL is ever rendered).
var done = map[string]string{
	"finalized":  "Invoice finalized.",
	"voided":     "Invoice voided.",
	"link":       "Payment link created. Copy it below and send it to the customer.",
	"refreshed":  "Pulled the latest state from Razorpay.",
	"synced":     "Sync queued: the customer is sent to Razorpay in the background.",
	"isynced":    "Sync queued: the invoice is sent to Razorpay in the background.",
	"connection": "Connection saved.",
	"refunded":   "Refund requested: it shows as PENDING until Razorpay confirms it.",
	"retried":    "Event retried.",
	"signedout":  "Signed out.",
	"canceled":   "Subscription canceled.",
	"pcanceled":  "Payment link canceled at Razorpay; the invoice is free for a new link.",
	"keyended":   "The API key of your session no longer works (revoked or expired). Sign in with a valid key.",
}

type authedHandler func(w http.ResponseWriter, r *http.Request, s session)

func (c *Console) routes() {
	m := http.NewServeMux()
	c.mux = m
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", http.FileServerFS(static)))
	m.HandleFunc("GET "+Prefix+"/sign-in", c.signInPage)
	m.HandleFunc("POST "+Prefix+"/sign-in", c.signIn)
	m.HandleFunc("GET "+Prefix, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
	})
	m.HandleFunc(Prefix+"/", c.authed(func(w http.ResponseWriter, r *http.Request, s session) {
		if r.URL.Path == Prefix+"/" && r.Method == http.MethodGet {
			http.Redirect(w, r, Prefix+"/invoices", http.StatusSeeOther)
			return
		}
		c.render(w, http.StatusNotFound, "error", page{Title: "Not found", CSRF: s.CSRF, Env: s.Env, Signed: true,
			Err: &apiError{Status: 404, Code: "not_found", Message: "There is no such page."}})
	}))
	m.HandleFunc("POST "+Prefix+"/sign-out", c.authed(c.signOut))

	m.HandleFunc("GET "+Prefix+"/invoices", c.authed(c.invoices))
	m.HandleFunc("GET "+Prefix+"/invoices/{id}", c.authed(c.invoice))
	for _, a := range []string{"finalize", "void", "refresh", "sync", "payment-link"} {
		m.HandleFunc("POST "+Prefix+"/invoices/{id}/"+a, c.authed(c.invoiceAction(a)))
	}
	m.HandleFunc("GET "+Prefix+"/customers", c.authed(c.customers))
	m.HandleFunc("GET "+Prefix+"/customers/{id}", c.authed(c.customer))
	m.HandleFunc("POST "+Prefix+"/customers/{id}/sync", c.authed(c.customerSync))
	m.HandleFunc("GET "+Prefix+"/connection", c.authed(c.connection))
	m.HandleFunc("POST "+Prefix+"/connection", c.authed(c.saveConnection))
	m.HandleFunc("GET "+Prefix+"/payments/{id}", c.authed(c.payment))
	m.HandleFunc("POST "+Prefix+"/payments/{id}/refund", c.authed(c.refund))
	m.HandleFunc("POST "+Prefix+"/payments/{id}/cancel", c.authed(c.paymentAction("cancel")))
	m.HandleFunc("POST "+Prefix+"/payments/{id}/refresh", c.authed(c.paymentAction("refresh")))
	m.HandleFunc("GET "+Prefix+"/subscriptions", c.authed(c.subscriptions))
	m.HandleFunc("GET "+Prefix+"/subscriptions/{id}", c.authed(c.subscription))
	m.HandleFunc("POST "+Prefix+"/subscriptions/{id}/cancel", c.authed(c.cancelSubscription))
	m.HandleFunc("GET "+Prefix+"/gateway-events", c.authed(c.gatewayEvents))
	m.HandleFunc("POST "+Prefix+"/gateway-events/{id}/retry", c.authed(c.retryEvent))
}

// maxForm bounds a form post.
const maxForm = 64 << 10

// authed serves h only with a valid session (else a redirect to sign-in)
// and, for a POST, only with the session's CSRF token in the form (else 403
// and nothing is done).
func (c *Console) authed(h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := c.session(r)
		if !ok {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, Prefix+"/sign-in", http.StatusSeeOther)
				return
			}
			c.render(w, http.StatusForbidden, "error", page{Title: "Signed out",
				Err: &apiError{Status: 403, Code: "session_required", Message: "Your session has ended. Sign in again and repeat the action."}})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil || !sameToken(r.PostForm.Get(csrfField), s.CSRF) {
				c.render(w, http.StatusForbidden, "error", page{Title: "Refused", CSRF: s.CSRF, Env: s.Env, Signed: true,
					Err: &apiError{Status: 403, Code: "csrf_failed", Message: "This form is out of date or did not come from the console; nothing was changed. Reload the page and try again."}})
				return
			}
		}
		h(w, r, s)
	}
}

func newIdem() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "console-" + base64.RawURLEncoding.EncodeToString(b[:])
}

func (c *Console) render(w http.ResponseWriter, status int, name string, p page) {
	v := viewOf(name)
	if v == nil {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	if p.Signed && p.Err != nil && p.Err.Status == http.StatusUnauthorized {
		// The session's key stopped working (revoked, expired): sign in again.
		http.SetCookie(w, cookie(sessionCookie, "", -1))
		w.Header().Set("Location", Prefix+"/sign-in?done=keyended")
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	if p.Idem == "" {
		p.Idem = newIdem()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	d := &doc{b: make([]byte, 0, 8<<10)}
	layout(d, p, v)
	w.WriteHeader(status)
	if _, err := w.Write(d.b); err != nil {
		c.opt.Log.Error("console: writing the page failed", "page", name, "error", err.Error())
	}
}

// pageFor starts a signed-in page.
func pageFor(s session, r *http.Request, title, nav string) page {
	return page{Title: title, Nav: nav, CSRF: s.CSRF, Env: s.Env, Signed: true, Flash: done[r.URL.Query().Get("done")], Data: map[string]any{}}
}

// fail renders an API error that leaves nothing to show (a 404 of another
// tenant's id, an outage) with the API's status.
func (c *Console) fail(w http.ResponseWriter, p page, e *apiError) {
	p.Err = e
	if e.Status == http.StatusNotFound {
		p.Title = "Not found"
	}
	c.render(w, e.Status, "error", p)
}

// --- sign-in ---

var signInFields = []string{"api_key", "environment_id"}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.session(r); ok {
		http.Redirect(w, r, Prefix+"/invoices", http.StatusSeeOther)
		return
	}
	tok := randomToken()
	http.SetCookie(w, cookie(preCookie, tok, 3600))
	c.render(w, http.StatusOK, "signin", page{Title: "Sign in", CSRF: tok, Fields: signInFields, Flash: done[r.URL.Query().Get("done")]})
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	pre, err := r.Cookie(preCookie)
	if err != nil || r.ParseForm() != nil || !sameToken(r.PostForm.Get(csrfField), pre.Value) {
		c.render(w, http.StatusForbidden, "error", page{Title: "Refused",
			Err: &apiError{Status: 403, Code: "csrf_failed", Message: "This sign-in form is out of date or did not come from the console. Reload the page and try again."}})
		return
	}
	key := strings.TrimSpace(r.PostForm.Get("api_key"))
	env := strings.TrimSpace(r.PostForm.Get("environment_id"))
	again := func(status int, e *apiError) {
		tok := randomToken()
		http.SetCookie(w, cookie(preCookie, tok, 3600))
		// The key is never put back into the form.
		c.render(w, status, "signin", page{Title: "Sign in", CSRF: tok, Err: e, Fields: signInFields, Form: url.Values{"environment_id": {env}}})
	}
	switch {
	case key == "":
		again(http.StatusBadRequest, &apiError{Status: 400, Code: "validation_failed", Field: "api_key", Message: "Enter an API key."})
		return
	case env == "":
		again(http.StatusBadRequest, &apiError{Status: 400, Code: "validation_failed", Field: "environment_id", Message: "Enter an environment id (env_…)."})
		return
	}
	sk, err := c.opt.SessionKey(r.Context())
	if err != nil {
		c.opt.Log.ErrorContext(r.Context(), "console: no session key", "error", err.Error())
		again(http.StatusServiceUnavailable, &apiError{Status: 503, Code: "console_unavailable", Message: "The console cannot sign anyone in: its session key is not configured."})
		return
	}
	s := session{Key: key, Env: env, CSRF: randomToken(), Expires: c.opt.Now().Add(c.opt.SessionTTL).Unix()}
	// Any scoped read proves the key and the environment.
	if e := c.call(r.Context(), s, http.MethodGet, "/api/v1/invoices", url.Values{"limit": {"1"}}, nil, "", nil); e != nil {
		switch {
		case e.Status == http.StatusUnauthorized && strings.HasPrefix(e.Code, "environment"):
			e.Field = "environment_id"
		case e.Status == http.StatusUnauthorized:
			e.Field = "api_key"
		case e.Status == http.StatusForbidden:
			e.Field = "environment_id"
		}
		again(e.Status, e)
		return
	}
	v, err := seal(sk, s)
	if err != nil {
		again(http.StatusInternalServerError, &apiError{Status: 500, Code: "internal_error", Message: "The session could not be created; try again."})
		return
	}
	http.SetCookie(w, cookie(sessionCookie, v, int(c.opt.SessionTTL/time.Second)))
	http.SetCookie(w, cookie(preCookie, "", -1))
	http.Redirect(w, r, Prefix+"/invoices", http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, _ session) {
	http.SetCookie(w, cookie(sessionCookie, "", -1))
	http.Redirect(w, r, Prefix+"/sign-in?done=signedout", http.StatusSeeOther)
}

// ctx is the request's context.
func ctx(r *http.Request) context.Context { return r.Context() }
