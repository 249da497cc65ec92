package localstack_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// consoleClient is a browser stand-in for the console: it keeps the
// cookies the console sets (whatever their Secure flag: the local stack is
// plain HTTP) and does not follow redirects, so each answer is checked.
type consoleClient struct {
	s       *stack
	cookies map[string]*http.Cookie
	http    *http.Client
}

func (s *stack) consoleClient() *consoleClient {
	return &consoleClient{s: s, cookies: map[string]*http.Cookie{}, http: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	Status   int
	Location string
	HTML     string
}

func (c *consoleClient) do(method, path string, form url.Values) page {
	c.s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.s.st.APIURL+path, body)
	if err != nil {
		c.s.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, ck := range c.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
			continue
		}
		c.cookies[ck.Name] = ck
	}
	return page{Status: res.StatusCode, Location: res.Header.Get("Location"), HTML: string(raw)}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.HTML)
	if m == nil {
		t.Fatalf("no CSRF token on the page (%d): %.400s", p.Status, p.HTML)
	}
	return m[1]
}

// signIn signs in with key and env and returns the CSRF token of the
// session's first page.
func (c *consoleClient) signIn(key, env string) string {
	c.s.t.Helper()
	form := c.do("GET", "/console/sign-in", nil)
	p := c.do("POST", "/console/sign-in", url.Values{"csrf": {form.csrf(c.s.t)}, "api_key": {key}, "environment_id": {env}})
	if p.Status != http.StatusSeeOther || p.Location != "/console/invoices" {
		c.s.t.Fatalf("sign-in: %d %s %.600s", p.Status, p.Location, p.HTML)
	}
	inv := c.do("GET", "/console/invoices", nil)
	if inv.Status != 200 {
		c.s.t.Fatalf("invoices after sign-in: %d %.400s", inv.Status, inv.HTML)
	}
	return inv.csrf(c.s.t)
}

// draft creates a draft invoice through the API.
func (s *stack) draft(cus string) string {
	s.t.Helper()
	return s.must(s.call("POST", "/api/v1/invoices", map[string]any{"customer_id": cus, "currency": "inr",
		"line_items": []map[string]any{{"display_name": "Platform fee", "quantity": "1", "unit_amount": "100"}}}), 201).s("id")
}

// The console's security rules, over HTTP against the local stack: no page
// without a session, no change without the session's CSRF token, another
// tenant's ids are not found, and no secret is ever in a page.
func TestConsoleSecurity(t *testing.T) {
	t.Parallel()
	s := start(t)
	cus := s.customer("acct-console", "asha@example.com")
	inv := s.draft(cus)
	status := func(id string) string {
		return s.must(s.call("GET", "/api/v1/invoices/"+id, nil), 200).s("invoice_status")
	}

	// No page without a session: every GET redirects to the sign-in page,
	// every POST is refused and changes nothing.
	anon := s.consoleClient()
	for _, path := range []string{"/console/", "/console/invoices", "/console/invoices/" + inv, "/console/customers", "/console/customers/" + cus,
		"/console/connection", "/console/gateway-events", "/console/payments/pay_00000000000000000000000000", "/console/nothing-here"} {
		if p := anon.do("GET", path, nil); p.Status != http.StatusSeeOther || p.Location != "/console/sign-in" {
			t.Errorf("GET %s without a session: %d %q, want 303 to the sign-in page", path, p.Status, p.Location)
		}
	}
	if p := anon.do("POST", "/console/invoices/"+inv+"/finalize", url.Values{"csrf": {"x"}}); p.Status != http.StatusForbidden {
		t.Errorf("POST without a session: %d", p.Status)
	}
	if p := anon.do("GET", "/console", nil); p.Status != http.StatusSeeOther || p.Location != "/console/" {
		t.Errorf("GET /console: %d %q", p.Status, p.Location)
	}

	// Sign-in: the form's own CSRF token is required; a bad key is refused
	// next to its field and never shown back.
	signin := anon.do("GET", "/console/sign-in", nil)
	if signin.Status != 200 || !strings.Contains(signin.HTML, `<label for="api_key">`) || !strings.Contains(signin.HTML, `name="viewport"`) {
		t.Fatalf("sign-in page: %d %.300s", signin.Status, signin.HTML)
	}
	if p := anon.do("POST", "/console/sign-in", url.Values{"api_key": {s.dev.APIKey}, "environment_id": {s.dev.EnvironmentID}}); p.Status != http.StatusForbidden || anon.cookies["rb_console"] != nil {
		t.Fatalf("sign-in without the CSRF token: %d", p.Status)
	}
	badKey := "rbk_not_a_real_key_0123456789"
	bad := anon.do("POST", "/console/sign-in", url.Values{"csrf": {anon.do("GET", "/console/sign-in", nil).csrf(t)}, "api_key": {badKey}, "environment_id": {s.dev.EnvironmentID}})
	if bad.Status != http.StatusUnauthorized || !strings.Contains(bad.HTML, `id="api_key-error"`) || strings.Contains(bad.HTML, badKey) || anon.cookies["rb_console"] != nil {
		t.Fatalf("a bad key: %d %.800s", bad.Status, bad.HTML)
	}

	// A key with an environment it may not use: refused next to that field.
	if p := anon.do("POST", "/console/sign-in", url.Values{"csrf": {anon.do("GET", "/console/sign-in", nil).csrf(t)}, "api_key": {s.dev.APIKey}, "environment_id": {"env_00000000000000000000000000"}}); p.Status != http.StatusForbidden || !strings.Contains(p.HTML, `id="environment_id-error"`) || anon.cookies["rb_console"] != nil {
		t.Errorf("another environment: %d %.800s", p.Status, p.HTML)
	}

	// A session cookie: HttpOnly, Secure, SameSite=Strict, and the key is
	// not readable in it.
	c := s.consoleClient()
	csrf := c.signIn(s.dev.APIKey, s.dev.EnvironmentID)
	sc := c.cookies["rb_console"]
	if sc == nil || !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/console" {
		t.Fatalf("session cookie %+v", sc)
	}
	if strings.Contains(sc.Value, s.dev.APIKey) || strings.Contains(sc.Value, s.dev.EnvironmentID) {
		t.Fatal("the session cookie shows the key or the environment in the clear")
	}
	// A forged or altered cookie is no session.
	forged := s.consoleClient()
	forged.cookies["rb_console"] = &http.Cookie{Name: "rb_console", Value: sc.Value[:len(sc.Value)-4] + "AAAA"}
	if p := forged.do("GET", "/console/invoices", nil); p.Status != http.StatusSeeOther {
		t.Errorf("an altered session cookie: %d", p.Status)
	}

	// POSTs without or with a wrong CSRF token: 403, nothing changes.
	for name, form := range map[string]url.Values{"no token": {}, "wrong token": {"csrf": {"AAAA" + csrf[4:]}}, "other session's token": {"csrf": {signin.csrf(t)}}} {
		if p := c.do("POST", "/console/invoices/"+inv+"/finalize", form); p.Status != http.StatusForbidden || !strings.Contains(p.HTML, "nothing was changed") {
			t.Errorf("finalize with %s: %d %.300s", name, p.Status, p.HTML)
		}
	}
	if st := status(inv); st != "DRAFT" {
		t.Fatalf("a refused POST changed the invoice: %s", st)
	}
	// With the token, the same POST finalizes it (through the API).
	if p := c.do("POST", "/console/invoices/"+inv+"/finalize", url.Values{"csrf": {csrf}, "idem": {"console-test-finalize"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("finalize: %d %.600s", p.Status, p.HTML)
	}
	if st := status(inv); st != "FINALIZED" {
		t.Fatalf("after finalize: %s", st)
	}
	// An action the API refuses is shown in words with the API's status.
	if p := c.do("POST", "/console/invoices/"+inv+"/finalize", url.Values{"csrf": {csrf}, "idem": {"console-test-finalize-2"}}); p.Status != http.StatusConflict || !strings.Contains(p.HTML, `role="alert"`) {
		t.Errorf("finalizing twice: %d %.600s", p.Status, p.HTML)
	}

	// Another tenant's ids are not found, to read or to change.
	o := s.tenant("Other")
	oCus := o.customer("acct-other", "other@example.com")
	oInv := o.draft(oCus)
	for _, path := range []string{"/console/invoices/" + oInv, "/console/customers/" + oCus} {
		if p := c.do("GET", path, nil); p.Status != http.StatusNotFound {
			t.Errorf("GET %s of another tenant: %d", path, p.Status)
		}
	}
	for _, action := range []string{"finalize", "void", "payment-link"} {
		if p := c.do("POST", "/console/invoices/"+oInv+"/"+action, url.Values{"csrf": {csrf}, "idem": {"console-other-" + action}}); p.Status != http.StatusNotFound {
			t.Errorf("%s of another tenant's invoice: %d %.300s", action, p.Status, p.HTML)
		}
	}
	if p := c.do("POST", "/console/customers/"+oCus+"/sync", url.Values{"csrf": {csrf}}); p.Status != http.StatusNotFound {
		t.Errorf("sync of another tenant's customer: %d", p.Status)
	}
	if st := o.must(o.call("GET", "/api/v1/invoices/"+oInv, nil), 200).s("invoice_status"); st != "DRAFT" {
		t.Fatalf("another tenant's invoice changed: %s", st)
	}

	// A wrong key secret on the connection form is refused next to its field
	// and the secret is not put back in the page.
	wrongSecret := "wrong-secret-" + strings.Repeat("z", 20)
	cp := c.do("POST", "/console/connection", url.Values{"csrf": {csrf}, "name": {"Razorpay simulator"}, "key_id": {s.dev.KeyID},
		"key_secret": {wrongSecret}, "customer_sync": {"ON_DEMAND"}})
	if cp.Status != http.StatusBadRequest || !strings.Contains(cp.HTML, `id="key_secret-error"`) || !strings.Contains(cp.HTML, "Razorpay rejected") || strings.Contains(cp.HTML, wrongSecret) {
		t.Errorf("connection with a wrong secret: %d %.1500s", cp.Status, cp.HTML)
	}

	// Secrets are never in a page.
	p := s.must(s.call("POST", "/api/v1/payments", payReq(s.must(s.call("GET", "/api/v1/invoices/"+inv, nil), 200), 100)), 201)
	pages := []string{"/console/invoices", "/console/invoices/" + inv, "/console/customers", "/console/customers/" + cus, "/console/customers?email=asha",
		"/console/connection", "/console/gateway-events", "/console/payments/" + p.s("id"), "/console/sign-in"}
	for _, path := range pages {
		pg := c.do("GET", path, nil)
		if path != "/console/sign-in" && pg.Status != 200 {
			t.Errorf("GET %s: %d %.300s", path, pg.Status, pg.HTML)
		}
		for name, secret := range map[string]string{"key secret": s.dev.KeySecret, "webhook secret": s.dev.WebhookSecret, "API key": s.dev.APIKey, "admin token": s.st.AdminToken} {
			if strings.Contains(pg.HTML, secret) {
				t.Errorf("%s shows the %s", path, name)
			}
		}
	}
	if pg := c.do("GET", "/console/invoices/"+inv, nil); !strings.Contains(pg.HTML, p.s("payment_url")) {
		t.Errorf("the invoice page does not show the open link %s", p.s("payment_url"))
	}
	// A session whose key is revoked ends at its next page.
	k := s.must(s.call("POST", "/api/v1/api-keys", map[string]any{"name": "console"}), 201)
	kc := s.consoleClient()
	kc.signIn(k.s("key"), s.dev.EnvironmentID)
	s.must(s.call("DELETE", "/api/v1/api-keys/"+k.s("id"), nil), 200)
	if p := kc.do("GET", "/console/invoices", nil); p.Status != http.StatusSeeOther || p.Location != "/console/sign-in?done=keyended" || kc.cookies["rb_console"] != nil {
		t.Errorf("a revoked key's session: %d %s", p.Status, p.Location)
	}
	// Sign-out ends the session.
	if p := c.do("POST", "/console/sign-out", url.Values{"csrf": {csrf}}); p.Status != http.StatusSeeOther || c.cookies["rb_console"] != nil {
		t.Errorf("sign-out: %d, cookie %v", p.Status, c.cookies["rb_console"])
	}
	s.assertNoSecretsLogged()
}

func mustJSON(t *testing.T, raw string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		t.Fatalf("%v: %.300s", err, raw)
	}
}

// tenant creates another tenant through the admin API and returns a stack
// view that calls the API as its key in its sandbox environment.
func (s *stack) tenant(name string) *stack {
	s.t.Helper()
	var out struct {
		ID           string                      `json:"id"`
		Environments []struct{ ID, Name string } `json:"environments"`
		APIKey       struct{ Key string }        `json:"api_key"`
	}
	mustJSON(s.t, s.must(s.adminCall("POST", "/api/v1/tenants", map[string]any{"name": name}), 201).Raw, &out)
	o := &stack{t: s.t, st: s.st, dev: s.dev, logs: s.logs}
	o.dev.TenantID, o.dev.APIKey, o.dev.EnvironmentID = out.ID, out.APIKey.Key, ""
	for _, e := range out.Environments {
		if e.Name == "sandbox" {
			o.dev.EnvironmentID = e.ID
		}
	}
	if o.dev.EnvironmentID == "" {
		s.t.Fatalf("tenant %s has no sandbox environment", name)
	}
	return o
}
