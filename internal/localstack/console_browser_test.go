package localstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// screenshotDir is where the browser test writes a picture of each page
// (shown in the README).
var screenshotDir = filepath.Join("..", "..", "docs", "console")

// chromiumPath finds the Debian chromium; the test fails (never skips)
// without it: make test installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	t.Fatal("chromium is not installed: the console's browser test needs the Debian package chromium (make test installs it: apt-get install -y chromium)")
	return ""
}

// browser starts a headless Chromium with a fresh profile, a 1000×700
// window, and no background traffic (this network refuses it).
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 700),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first call starts the browser and must have no deadline (the
	// browser lives as long as its context).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// shot writes the visible page to docs/console/name.png.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if len(png) > 400<<10 {
		t.Fatalf("screenshot %s is %d bytes (keep each under 400 KiB)", name, len(png))
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs the steps, each step list within 30 s, and fails t with the
// page it stopped at.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		lctx, lcancel := context.WithTimeout(ctx, 5*time.Second)
		defer lcancel()
		loc, _ := chromedp.Run(lctx, chromedp.Location())
		body, _ := chromedp.Run(lctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %v (at %s: %.600s)", what, err, loc, body)
	}
}

// get reads one value from the page within 30 s.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// simCall is a call to the simulator's control API (/_sim/).
func (s *stack) simCall(method, path string, body, out any) {
	s.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.st.RazorpayURL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		s.t.Fatalf("%s %s: %d", method, path, res.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			s.t.Fatal(err)
		}
	}
}

// A person's path through the console in a real browser: sign in, set up
// the connection against the simulator, finalize an invoice made through
// the API and create its payment link, pay it on the simulator's checkout
// page, and see the invoice SUCCEEDED in the console within seconds.
func TestConsoleInBrowser(t *testing.T) {
	t.Parallel()
	s := start(t)
	o := s.tenant("Console demo") // a tenant with no connection yet
	var acct struct {
		KeyID     string `json:"key_id"`
		KeySecret string `json:"key_secret"`
	}
	s.simCall("POST", "/_sim/accounts", map[string]any{}, &acct) // a Razorpay account of its own
	ctx := browser(t)
	base := s.st.APIURL + "/console"

	// Sign in: /console/ without a session lands on the sign-in page.
	run(t, ctx, "sign-in page",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("api_key")),
		chromedp.SendKeys(chromedp.ID("environment_id"), o.dev.EnvironmentID))
	shot(t, ctx, "sign-in")
	// From the keyboard: type the key and press Enter.
	run(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.ID("api_key"), o.dev.APIKey+"\r"),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label="Sections"]`)))

	// Set up the connection; the webhook secret is generated and shown once.
	var secret, hookURL, mode string
	run(t, ctx, "connection",
		chromedp.Navigate(base+"/connection"),
		chromedp.WaitVisible(chromedp.ID("key_id")),
		chromedp.SendKeys(chromedp.ID("name"), "Razorpay simulator"),
		chromedp.SendKeys(chromedp.ID("key_id"), acct.KeyID),
		chromedp.SendKeys(chromedp.ID("key_secret"), acct.KeySecret),
		chromedp.Click(chromedp.ID("save-connection")),
		chromedp.WaitVisible(chromedp.ID("new-webhook-secret")))
	secret = get(t, ctx, "secret", chromedp.Text(chromedp.ID("new-webhook-secret")))
	hookURL = get(t, ctx, "webhook URL", chromedp.Value(chromedp.ID("webhook-url")))
	mode = get(t, ctx, "mode", chromedp.Text(chromedp.ID("mode")))
	if !strings.HasPrefix(secret, "whsec_") || !strings.Contains(hookURL, "/api/v1/webhooks/razorpay/"+o.dev.TenantID+"/"+o.dev.EnvironmentID) || mode != "test" {
		t.Fatalf("connection page: secret %q, webhook URL %q, mode %q", secret, hookURL, mode)
	}
	shot(t, ctx, "connection")
	// What the person does next in Razorpay's dashboard: paste the URL and
	// the secret into the account's webhook.
	s.simCall("PUT", "/_sim/accounts/"+acct.KeyID+"/webhook", map[string]any{"url": hookURL, "secret": secret}, nil)

	// A customer and an invoice through the API.
	o.dev.KeyID = acct.KeyID
	cus := o.customer("acct-browser", "meera@example.com")
	inv := o.must(o.call("POST", "/api/v1/invoices", map[string]any{"customer_id": cus, "currency": "inr", "line_items": []map[string]any{
		{"display_name": "API calls", "price_type": "USAGE", "quantity": "120000", "unit_amount": "0.0015"},
		{"display_name": "Platform fee", "price_type": "FIXED", "quantity": "1", "unit_amount": "4999"}}}), 201)
	invID := inv.s("id")

	// Finalize it and create its payment link in the console.
	var link string
	run(t, ctx, "invoice list",
		chromedp.Navigate(base+"/invoices"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`a[href="/console/invoices/%s"]`, invID))))
	shot(t, ctx, "invoices")
	run(t, ctx, "finalize and link",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/console/invoices/%s"]`, invID))),
		chromedp.WaitVisible(chromedp.ID("finalize")),
		chromedp.Click(chromedp.ID("finalize")),
		chromedp.WaitVisible(chromedp.ID("create-link")),
		chromedp.Click(chromedp.ID("create-link")),
		chromedp.WaitVisible(chromedp.ID("payment-link")))
	link = get(t, ctx, "link", chromedp.Text(chromedp.ID("payment-link")))
	if !strings.HasPrefix(link, s.st.RazorpayURL+"/") {
		t.Fatalf("payment link %q is not the simulator's", link)
	}
	shot(t, ctx, "invoice-link")

	// Pay it on the simulator's checkout page.
	var msg string
	run(t, ctx, "checkout",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/pay"] button[type="submit"]`)))
	shot(t, ctx, "checkout")
	run(t, ctx, "pay",
		chromedp.Click(chromedp.CSS(`form[action$="/pay"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".ok")))
	msg = get(t, ctx, "checkout message", chromedp.Text(chromedp.CSS(".ok")))
	if !strings.Contains(msg, "successful") {
		t.Fatalf("checkout said %q", msg)
	}

	// The console shows the invoice SUCCEEDED within seconds.
	deadline := time.Now().Add(15 * time.Second)
	var status string
	for {
		run(t, ctx, "invoice page",
			chromedp.Navigate(base+"/invoices/"+invID),
			chromedp.WaitVisible(chromedp.ID("payment-status")))
		status = get(t, ctx, "payment status", chromedp.Text(chromedp.ID("payment-status")))
		if status == "SUCCEEDED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the console still shows the invoice %s 15 s after paying", status)
		}
		time.Sleep(500 * time.Millisecond)
	}
	shot(t, ctx, "invoice-paid")

	// The other pages, for the README.
	run(t, ctx, "payment page",
		chromedp.Click(chromedp.CSS(`a[href^="/console/payments/"]`)),
		chromedp.WaitVisible(chromedp.ID("refund")))
	shot(t, ctx, "payment")
	run(t, ctx, "customers",
		chromedp.Navigate(base+"/customers?email=meera"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`a[href="/console/customers/%s"]`, cus))))
	shot(t, ctx, "customers")
	run(t, ctx, "customer",
		chromedp.Navigate(base+"/customers/"+cus),
		chromedp.WaitVisible(chromedp.ID("sync-now")))
	shot(t, ctx, "customer")
	run(t, ctx, "gateway events",
		chromedp.Navigate(base+"/gateway-events"),
		chromedp.WaitVisible(chromedp.CSS("main h1")))
	shot(t, ctx, "gateway-events")

	m := o.must(o.call("POST", "/api/v1/meters", map[string]any{"name": "API calls", "event_name": "api_call", "aggregation": "COUNT"}), 201)
	plan := o.must(o.call("POST", "/api/v1/plans", map[string]any{"name": "Growth", "currency": "inr", "charges": []any{
		map[string]any{"type": "FIXED", "display_name": "Platform fee", "amount": "4999", "period": "MONTHLY", "sac_code": "998314"},
		map[string]any{"type": "USAGE", "display_name": "API calls", "meter_id": m.s("id"), "model": "PER_UNIT", "unit_amount": "0.5"}}}), 201)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	sub := o.must(o.call("POST", "/api/v1/subscriptions", map[string]any{"customer_id": cus, "plan_id": plan.s("id"),
		"start": today.Format(time.RFC3339), "billing_period": "MONTHLY", "anchor_day": today.Day()}), 201)
	run(t, ctx, "subscription",
		chromedp.Navigate(base+"/subscriptions/"+sub.s("id")),
		chromedp.WaitVisible(chromedp.ID("upcoming-total")))
	shot(t, ctx, "subscription")

	// On a phone: the invoice page fits a 390 px screen (tables scroll in
	// their own box, the page does not scroll sideways).
	run(t, ctx, "phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(base+"/invoices/"+invID),
		chromedp.WaitVisible(chromedp.ID("payment-status")))
	if over := get(t, ctx, "page width", chromedp.Evaluate[int]("document.documentElement.scrollWidth - document.documentElement.clientWidth")); over > 0 {
		t.Errorf("on a 390 px phone the invoice page scrolls sideways by %d px", over)
	}
	shot(t, ctx, "phone-invoice")
}
