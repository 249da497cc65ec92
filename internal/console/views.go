package console

import "strings"

// The console's pages (html.go says why they are Go code and how values
// are escaped). Each writes its page's content; layout writes the frame.

// view writes one page's content.
type view func(d *doc, p page)

// viewOf is the page named name (nil: none).
func viewOf(name string) view {
	switch name {
	case "signin":
		return signInView
	case "error":
		return errorView
	case "invoices":
		return invoicesView
	case "invoice":
		return invoiceView
	case "customers":
		return customersView
	case "customer":
		return customerView
	case "connection":
		return connectionView
	case "payment":
		return paymentView
	case "events":
		return eventsView
	case "subscriptions":
		return subscriptionsView
	case "subscription":
		return subscriptionView
	}
	return nil
}

func layout(d *doc, p page, content view) {
	d.m(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>`)
	d.t(p.Title)
	d.m(` · Razorbill console</title>
<link rel="stylesheet" href="/console/static/console.css">
<script src="/console/static/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">Razorbill console</span>
`)
	if p.Signed {
		d.m(`  <nav aria-label="Sections">
`)
		navLink(d, p.Nav, "invoices", `/console/invoices`, `Invoices`)
		navLink(d, p.Nav, "customers", `/console/customers`, `Customers`)
		navLink(d, p.Nav, "subscriptions", `/console/subscriptions`, `Subscriptions`)
		navLink(d, p.Nav, "connection", `/console/connection`, `Connection`)
		navLink(d, p.Nav, "events", `/console/gateway-events`, `Gateway events`)
		d.m(`  </nav>
  <form class="signout" method="post" action="/console/sign-out">
    <span class="env" title="Environment `)
		d.t(p.Env)
		d.m(`">`)
		d.t(p.Env)
		d.m(`</span>
    `)
		d.hidden(p.CSRF, "")
		d.m(`
    <button type="submit" class="link">Sign out</button>
  </form>
`)
	}
	d.m(`</header>
<main id="main" tabindex="-1">
<h1>`)
	d.t(p.Title)
	d.m(`</h1>
`)
	if p.Flash != "" {
		d.m(`<p class="flash" role="status">`)
		d.t(p.Flash)
		d.m(`</p>
`)
	}
	if p.Err != nil && !p.Inline() {
		d.m(`<p class="error" role="alert" id="error"><strong>`)
		d.t(p.Err.Message)
		d.m(`</strong>`)
		if p.Err.Code != "" {
			d.m(` <code>`)
			d.t(p.Err.Code)
			d.m(`</code>`)
		}
		d.m(`</p>
`)
	}
	content(d, p)
	d.m(`
</main>
</body>
</html>`)
}

func navLink(d *doc, cur, name string, href, label markup) {
	d.m(`    <a href="`, href, `"`)
	if cur == name {
		d.m(` aria-current="page"`)
	}
	d.m(`>`, label, `</a>
`)
}

// code writes x in a <code>.
func code(d *doc, x any) {
	d.m(`<code>`)
	d.v(x)
	d.m(`</code>`)
}

// idLink writes a link to prefix + id showing text.
func idLink(d *doc, prefix markup, id, text any) {
	d.m(`<a href="`, prefix)
	d.path(id)
	d.m(`">`)
	d.v(text)
	d.m(`</a>`)
}

// urlLink writes a link to the URL u showing it; id, when set, is the
// link's id attribute.
func urlLink(d *doc, u any, id markup) {
	d.m(`<a href="`)
	d.href(str(u))
	d.m(`"`)
	if id != "" {
		d.m(` id="`, id, `"`)
	}
	d.m(`>`)
	d.v(u)
	d.m(`</a>`)
}

// dd writes a <dt>/<dd> pair whose value is x as text.
func dd(d *doc, term markup, x any) {
	d.m(`<dt>`, term, `</dt><dd>`)
	d.v(x)
	d.m(`</dd>`)
}

// errorText writes x as a field's last error, or alt when x is empty.
func errorText(d *doc, x any, alt markup) {
	if truth(x) {
		d.m(`<span class="error-text">`)
		d.v(x)
		d.m(`</span>`)
		return
	}
	d.m(alt)
}

// input writes a text input filled from the submitted form.
func input(d *doc, p page, name, typ, extra markup) {
	d.m(`<input id="`, name, `" name="`, name, `" type="`, typ, `" value="`)
	d.t(p.Form.Get(string(name)))
	d.m(`"`, extra, `>`)
}

func signInView(d *doc, p page) {
	d.m(`
<form method="post" action="/console/sign-in" class="card narrow" id="sign-in">
  `)
	d.hidden(p.CSRF, "")
	d.m(`
  <p>Sign in with one of your tenant's API keys and the environment to work in.
     The key stays on the server, sealed inside your session cookie; it is never shown again.</p>
  <label for="api_key">API key</label>
  <input id="api_key" name="api_key" type="password" autocomplete="off" required`)
	signInError(d, p, "api_key")
	d.m(`
  <label for="environment_id">Environment id</label>
  <input id="environment_id" name="environment_id" type="text" placeholder="env_…" value="`)
	d.t(p.Form.Get("environment_id"))
	d.m(`" required`)
	signInError(d, p, "environment_id")
	d.m(`
  <button type="submit">Sign in</button>
</form>
`)
}

// signInError ends a sign-in input, marked invalid with its error after it
// when the error is its field's.
func signInError(d *doc, p page, field markup) {
	if p.Err == nil || p.Err.Field != string(field) || p.Err.Message == "" {
		d.m(`>`)
		return
	}
	d.m(` aria-invalid="true" aria-describedby="`, field, `-error">
  <p class="field-error" id="`, field, `-error" role="alert">`)
	d.t(p.Err.Message)
	d.m(`</p>`)
}

func errorView(d *doc, p page) {
	if p.Signed {
		d.m(`
<p><a href="/console/invoices">Back to invoices</a></p>
`)
		return
	}
	d.m(`
<p><a href="/console/sign-in">Sign in</a></p>
`)
}

// statusOptions writes the <option>s of statuses, the current one selected.
func statusOptions(d *doc, p page) {
	cur := p.Form.Get("status")
	statuses, _ := p.Data["statuses"].([]string)
	for _, s := range statuses {
		d.m(`<option value="`)
		d.t(s)
		d.m(`"`)
		d.selected(s, cur)
		d.m(`>`)
		d.t(s)
		d.m(`</option>`)
	}
}

func invoicesView(d *doc, p page) {
	d.m(`
<form method="get" action="/console/invoices" class="filters">
  <label for="status">Status</label>
  <select id="status" name="status">
    <option value="">All</option>
    `)
	statusOptions(d, p)
	d.m(`
  </select>
  <button type="submit">Filter</button>
</form>

<div class="scroll">
<table>
  <thead><tr><th scope="col">Number</th><th scope="col">Customer</th><th scope="col">Invoice</th><th scope="col">Payment</th><th scope="col" class="num">Amount due</th><th scope="col">Razorpay sync</th><th scope="col">Created</th></tr></thead>
  <tbody>
`)
	invs := items(p.Data["invoices"])
	for _, inv := range invs {
		d.m(`  <tr>
    <td>`)
		idLink(d, `/console/invoices/`, get(inv, "id"), get(inv, "invoice_number"))
		d.m(`</td>
    <td>`)
		idLink(d, `/console/customers/`, get(inv, "customer_id"), get(inv, "customer_id"))
		d.m(`</td>
    <td><span class="badge">`)
		d.v(get(inv, "invoice_status"))
		d.m(`</span></td>
    <td>`)
		payBadge(d, get(inv, "payment_status"), "")
		d.m(`</td>
    <td class="num">`)
		d.v(get(inv, "amount_due"))
		d.m(` `)
		d.v(get(inv, "currency"))
		d.m(`</td>
    <td>`)
		d.v(get(inv, "razorpay", "sync_status"))
		d.m(`</td>
    <td>`)
		d.v(get(inv, "created_at"))
		d.m(`</td>
  </tr>
`)
	}
	if len(invs) == 0 {
		d.m(`  <tr><td colspan="7">No invoices`)
		if s := p.Form.Get("status"); s != "" {
			d.m(` with status `)
			d.t(s)
		}
		d.m(`.</td></tr>
`)
	}
	d.m(`  </tbody>
</table>
</div>
`)
	if truth(p.Data["more"]) {
		d.m(`<p>Showing the newest 50.</p>
`)
	}
}

// payBadge writes a payment status badge (class pay-<status in lower
// case>); id, when set, is its id attribute.
func payBadge(d *doc, status any, id markup) {
	d.m(`<span class="badge pay-`)
	d.t(lower(str(status)))
	d.m(`"`)
	if id != "" {
		d.m(` id="`, id, `"`)
	}
	d.m(`>`)
	d.v(status)
	d.m(`</span>`)
}

func invoiceView(d *doc, p page) {
	inv := p.Data["inv"]
	f := func(k ...string) any { return get(inv, k...) }
	invStatus, payStatus := str(f("invoice_status")), str(f("payment_status"))
	d.m(`
<section class="card" aria-labelledby="summary-h">
  <h2 id="summary-h">Summary</h2>
  <dl class="grid">
    <dt>Id</dt><dd>`)
	code(d, f("id"))
	d.m(`</dd>
    <dt>Customer</dt><dd>`)
	idLink(d, `/console/customers/`, f("customer_id"), f("customer_id"))
	d.m(`</dd>
`)
	if s := f("subscription_id"); truth(s) {
		d.m(`    <dt>Subscription</dt><dd>`)
		idLink(d, `/console/subscriptions/`, s, s)
		d.m(`</dd>
`)
	}
	d.m(`    <dt>Invoice status</dt><dd><span class="badge" id="invoice-status">`)
	d.t(invStatus)
	d.m(`</span></dd>
    <dt>Payment status</dt><dd>`)
	payBadge(d, payStatus, "payment-status")
	d.m(`</dd>
`)
	if x := f("due_date"); truth(x) {
		dd(d, `Due date`, x)
		d.m(`
`)
	}
	if x := f("period_start"); truth(x) {
		d.m(`<dt>Period</dt><dd>`)
		d.v(x)
		d.m(` – `)
		d.v(f("period_end"))
		d.m(`</dd>
`)
	}
	d.m(`    <dt>Amount due</dt><dd>`)
	d.v(f("amount_due"))
	d.m(` `)
	d.v(f("currency"))
	d.m(` (remaining `)
	d.v(f("amount_remaining"))
	d.m(`)</dd>
  </dl>
</section>

<section class="card" aria-labelledby="actions-h">
  <h2 id="actions-h">Actions</h2>
`)
	openLink := p.Data["open_link"]
	if truth(openLink) {
		d.m(`  <p class="link-box">Payment link: `)
		urlLink(d, openLink, "payment-link")
		d.m(`
    <button type="button" class="copy" data-copy="#payment-link" hidden>Copy link</button></p>
`)
	}
	d.m(`  <div class="actions">
`)
	id := f("id")
	if invStatus == "DRAFT" {
		d.form(`/console/invoices/`, id, `/finalize`, p.CSRF, p.Idem+"-f", `<button type="submit" id="finalize">Finalize</button>`)
		d.m(`
`)
	}
	if invStatus == "FINALIZED" && !truth(openLink) && (payStatus == "PENDING" || payStatus == "PARTIALLY_PAID") {
		d.form(`/console/invoices/`, id, `/payment-link`, p.CSRF, p.Idem+"-l", `<button type="submit" id="create-link">Create payment link</button>`)
		d.m(`
`)
	}
	if invStatus != "VOIDED" && payStatus == "PENDING" {
		d.form(`/console/invoices/`, id, `/void`, p.CSRF, p.Idem+"-v", `<button type="submit" class="danger" id="void">Void</button>`)
		d.m(`
`)
	}
	if invStatus == "FINALIZED" {
		if str(f("razorpay", "sync_status")) != "SYNCED" {
			d.form(`/console/invoices/`, id, `/sync`, p.CSRF, p.Idem+"-s", `<button type="submit" class="secondary">Sync to Razorpay now</button>`)
			d.m(`
`)
		}
		d.form(`/console/invoices/`, id, `/refresh`, p.CSRF, p.Idem+"-r", `<button type="submit" class="secondary">Refresh from Razorpay</button>`)
		d.m(`
`)
	}
	d.m(`  </div>
</section>

<section class="card" aria-labelledby="lines-h">
  <h2 id="lines-h">Lines</h2>
  <div class="scroll">
  <table>
    <thead><tr><th scope="col">Item</th><th scope="col">Type</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Unit amount</th><th scope="col" class="num">Amount</th></tr></thead>
    <tbody>
`)
	for _, l := range items(f("line_items")) {
		d.m(`<tr><td>`)
		d.v(get(l, "display_name"))
		if x := get(l, "description"); truth(x) {
			d.m(`<br><small>`)
			d.v(x)
			d.m(`</small>`)
		}
		d.m(`</td><td>`)
		d.v(get(l, "price_type"))
		d.m(`</td><td class="num">`)
		d.v(get(l, "quantity"))
		d.m(`</td><td class="num">`)
		d.v(get(l, "unit_amount"))
		d.m(`</td><td class="num">`)
		d.v(get(l, "amount"))
		d.m(`</td></tr>`)
	}
	d.m(`
    </tbody>
    <tfoot>
      <tr><th scope="row" colspan="4">Subtotal</th><td class="num">`)
	d.v(f("subtotal"))
	d.m(`</td></tr>
`)
	taxLines(d, f("tax_lines"), `4`)
	d.m(`      <tr><th scope="row" colspan="4">Amount due (`)
	d.v(f("currency"))
	d.m(`)</th><td class="num" id="amount-due">`)
	d.v(f("amount_due"))
	d.m(`</td></tr>
      <tr><th scope="row" colspan="4">Paid</th><td class="num" id="amount-paid">`)
	d.v(f("amount_paid"))
	d.m(`</td></tr>
      <tr><th scope="row" colspan="4">Remaining</th><td class="num">`)
	d.v(f("amount_remaining"))
	d.m(`</td></tr>
      <tr><th scope="row" colspan="4">Refunded</th><td class="num">`)
	d.v(f("amount_refunded"))
	d.m(`</td></tr>
    </tfoot>
  </table>
  </div>
</section>

<section class="card" aria-labelledby="rzp-h">
  <h2 id="rzp-h">Razorpay</h2>
`)
	if rz := f("razorpay"); truth(rz) {
		d.m(`  <dl class="grid">
    <dt>Sync status</dt><dd>`)
		d.v(get(rz, "sync_status"))
		attempts(d, get(rz, "attempts"))
		d.m(`</dd>
    <dt>Last error</dt><dd>`)
		errorText(d, get(rz, "last_error"), `none`)
		d.m(`</dd>
    <dt>Razorpay invoice</dt><dd>`)
		if x := get(rz, "invoice_id"); truth(x) {
			code(d, x)
		} else {
			d.m(`not created`)
		}
		d.m(`</dd>
    <dt>Short URL</dt><dd>`)
		if x := get(rz, "short_url"); truth(x) {
			urlLink(d, x, "short-url")
			d.m(` <button type="button" class="copy" data-copy="#short-url" hidden>Copy</button>`)
		} else {
			d.m(`none`)
		}
		d.m(`</dd>
  </dl>
`)
	}
	d.m(`</section>

<section class="card" aria-labelledby="pay-h">
  <h2 id="pay-h">Payments</h2>
  <div class="scroll">
  <table>
    <thead><tr><th scope="col">Payment</th><th scope="col">Status</th><th scope="col" class="num">Amount</th><th scope="col">Link</th><th scope="col">Created</th></tr></thead>
    <tbody>
`)
	pays := items(p.Data["payments"])
	for _, py := range pays {
		d.m(`<tr><td>`)
		idLink(d, `/console/payments/`, get(py, "id"), get(py, "id"))
		d.m(`</td><td><span class="badge">`)
		d.v(get(py, "payment_status"))
		d.m(`</span></td><td class="num">`)
		d.v(get(py, "amount"))
		d.m(` `)
		d.v(get(py, "currency"))
		d.m(`</td><td>`)
		if u := get(py, "payment_url"); truth(u) {
			urlLink(d, u, "")
		}
		d.m(`</td><td>`)
		d.v(get(py, "created_at"))
		d.m(`</td></tr>
`)
	}
	if len(pays) == 0 {
		d.m(`<tr><td colspan="5">No payments yet.</td></tr>`)
	}
	d.m(`
    </tbody>
  </table>
  </div>
</section>
`)
}

// attempts writes ", attempts: n" when n is set.
func attempts(d *doc, n any) {
	if truth(n) {
		d.m(`, attempts: `)
		d.v(n)
	}
}

// taxLines writes a tax line per row of a totals footer whose label spans
// cols columns.
func taxLines(d *doc, lines any, cols markup) {
	for _, t := range items(lines) {
		d.m(`<tr><th scope="row" colspan="`, cols, `">`)
		d.v(get(t, "name"))
		d.m(`</th><td class="num">`)
		d.v(get(t, "amount"))
		d.m(`</td></tr>
`)
	}
}

func customersView(d *doc, p page) {
	d.m(`
<form method="get" action="/console/customers" class="filters">
  <label for="external_id">External id</label>
  `)
	input(d, p, "external_id", "search", "")
	d.m(`
  <label for="email">Email</label>
  `)
	input(d, p, "email", "search", "")
	d.m(`
  <button type="submit">Search</button>
</form>
`)
	if truth(p.Data["email_note"]) {
		d.m(`<p class="note">Email search looks through the newest 100 customers.</p>
`)
	}
	d.m(`<div class="scroll">
<table>
  <thead><tr><th scope="col">Name</th><th scope="col">External id</th><th scope="col">Email</th><th scope="col">Razorpay id</th><th scope="col">Sync</th><th scope="col">Last error</th></tr></thead>
  <tbody>
`)
	cus := items(p.Data["customers"])
	for _, cu := range cus {
		d.m(`  <tr>
    <td>`)
		idLink(d, `/console/customers/`, get(cu, "id"), get(cu, "name"))
		d.m(`</td>
    <td>`)
		d.v(get(cu, "external_id"))
		d.m(`</td>
    <td>`)
		d.v(get(cu, "email"))
		d.m(`</td>
    `)
		if rz := get(cu, "razorpay"); truth(rz) {
			d.m(`<td>`)
			if x := get(rz, "customer_id"); truth(x) {
				code(d, x)
			}
			d.m(`</td><td><span class="badge">`)
			d.v(get(rz, "sync_status"))
			d.m(`</span></td><td class="error-text">`)
			d.v(get(rz, "last_error"))
			d.m(`</td>`)
		}
		d.m(`
  </tr>
`)
	}
	if len(cus) == 0 {
		d.m(`<tr><td colspan="6">No customers found.</td></tr>`)
	}
	d.m(`
  </tbody>
</table>
</div>
`)
}

func customerView(d *doc, p page) {
	cu := p.Data["cu"]
	d.m(`
<section class="card" aria-labelledby="cu-h">
  <h2 id="cu-h">Details</h2>
  <dl class="grid">
    <dt>Id</dt><dd>`)
	code(d, get(cu, "id"))
	d.m(`</dd>
    `)
	dd(d, `External id`, get(cu, "external_id"))
	d.m(`
    `)
	dd(d, `Email`, get(cu, "email"))
	d.m(`
    `)
	dd(d, `Phone`, get(cu, "phone"))
	d.m(`
  </dl>
</section>
<section class="card" aria-labelledby="rzp-h">
  <h2 id="rzp-h">Razorpay</h2>
`)
	if rz := get(cu, "razorpay"); truth(rz) {
		d.m(`  <dl class="grid">
    <dt>Razorpay customer id</dt><dd>`)
		if x := get(rz, "customer_id"); truth(x) {
			d.m(`<code id="rzp-customer-id">`)
			d.v(x)
			d.m(`</code> <button type="button" class="copy" data-copy="#rzp-customer-id" hidden>Copy</button>`)
		} else {
			d.m(`not synced yet`)
		}
		d.m(`</dd>
    <dt>Sync status</dt><dd><span class="badge" id="sync-status">`)
		d.v(get(rz, "sync_status"))
		d.m(`</span>`)
		attempts(d, get(rz, "attempts"))
		d.m(`</dd>
    <dt>Last error</dt><dd>`)
		errorText(d, get(rz, "last_error"), `none`)
		d.m(`</dd>
    `)
		dd(d, `Synced at`, get(rz, "synced_at"))
		d.m(`
  </dl>
`)
	}
	d.m(`  `)
	d.form(`/console/customers/`, get(cu, "id"), `/sync`, p.CSRF, p.Idem, `
    <button type="submit" id="sync-now">Sync now</button>
  `)
	d.m(`
</section>
<section class="card" aria-labelledby="usage-h">
  <h2 id="usage-h">Usage this month</h2>
  <div class="scroll">
  <table id="usage">
    <thead><tr><th scope="col">Meter</th><th scope="col">Event</th><th scope="col">Aggregation</th><th scope="col" class="num">This month</th></tr></thead>
    <tbody>
`)
	usage, _ := p.Data["usage"].([]meterUsage)
	for _, u := range usage {
		d.m(`<tr><td>`)
		d.v(u.Meter["name"])
		d.m(`</td><td>`)
		code(d, u.Meter["event_name"])
		d.m(`</td><td>`)
		d.v(u.Meter["aggregation"])
		d.m(`</td><td class="num">`)
		if u.Err != nil {
			d.m(`<span class="error-text">`)
			d.t(u.Err.Message)
			d.m(`</span>`)
		} else {
			d.t(u.Total)
		}
		d.m(`</td></tr>
`)
	}
	if len(usage) == 0 {
		d.m(`<tr><td colspan="4">No meters.</td></tr>`)
	}
	d.m(`
    </tbody>
  </table>
  </div>
</section>
<section class="card" aria-labelledby="inv-h">
  <h2 id="inv-h">Invoices</h2>
  <ul>`)
	invs := items(p.Data["invoices"])
	for _, inv := range invs {
		d.m(`<li>`)
		idLink(d, `/console/invoices/`, get(inv, "id"), get(inv, "invoice_number"))
		d.m(` · `)
		d.v(get(inv, "invoice_status"))
		d.m(` · `)
		d.v(get(inv, "payment_status"))
		d.m(` · `)
		d.v(get(inv, "amount_due"))
		d.m(` `)
		d.v(get(inv, "currency"))
		d.m(`</li>`)
	}
	if len(invs) == 0 {
		d.m(`<li>None.</li>`)
	}
	d.m(`</ul>
</section>
`)
}

func connectionView(d *doc, p page) {
	c := p.Data["conn"]
	has := truth(c)
	if s := p.Data["shown_secret"]; truth(s) {
		d.m(`
<section class="card secret-once" aria-labelledby="secret-h" role="status">
  <h2 id="secret-h">Your new webhook secret</h2>
  <p>Paste it into Razorpay's dashboard (Settings → Webhooks) now. It is shown only this once.</p>
  <p><code id="new-webhook-secret">`)
		d.v(s)
		d.m(`</code> <button type="button" class="copy" data-copy="#new-webhook-secret" hidden>Copy secret</button></p>
</section>
`)
	}
	if has {
		d.m(`
<section class="card" aria-labelledby="state-h">
  <h2 id="state-h">Current connection</h2>
  <dl class="grid">
    `)
		dd(d, `Name`, get(c, "name"))
		d.m(`
    <dt>Status</dt><dd><span class="badge" id="connection-status">`)
		d.v(get(c, "status"))
		d.m(`</span></dd>
    <dt>Mode</dt><dd><span class="badge" id="mode">`)
		d.v(get(c, "mode"))
		d.m(`</span></dd>
    <dt>Key id</dt><dd>`)
		code(d, get(c, "key_id"))
		d.m(`</dd>
    <dt>Key secret</dt><dd>`)
		code(d, get(c, "key_secret"))
		d.m(`</dd>
    <dt>Webhook secret</dt><dd>`)
		code(d, get(c, "webhook_secret"))
		d.m(`</dd>
    <dt>Account</dt><dd>`)
		if x := get(c, "account_id"); truth(x) {
			code(d, x)
		} else {
			d.m(`learnt from the first webhook`)
		}
		d.m(`</dd>
    `)
		dd(d, `International`, get(c, "international"))
		d.m(`
    <dt>Webhook health</dt><dd>`)
		if w := get(c, "webhook"); truth(w) {
			d.m(`<span class="badge" id="webhook-health">`)
			d.v(get(w, "status"))
			d.m(`</span> last received `)
			if x := get(w, "last_received_at"); truth(x) {
				d.v(x)
			} else {
				d.m(`never`)
			}
			d.m(`; missed events: `)
			d.v(get(w, "missed_events"))
		}
		d.m(`</dd>
  </dl>
  <h3>Webhook set-up at Razorpay</h3>
  <p><label for="webhook-url">Webhook URL</label>
    <input id="webhook-url" type="text" readonly value="`)
		d.v(get(c, "webhook_url"))
		d.m(`">
    <button type="button" class="copy" data-copy="#webhook-url" hidden>Copy URL</button></p>
  <p>Tick these events:</p>
  <ul class="events" id="webhook-events">`)
		for _, e := range items(get(c, "webhook_events")) {
			d.m(`<li>`)
			code(d, e)
			d.m(`</li>`)
		}
		d.m(`</ul>
  <button type="button" class="copy" data-copy="#webhook-events" hidden>Copy event names</button>
</section>
`)
	}
	d.m(`
<form method="post" action="/console/connection" class="card" id="connection-form" aria-labelledby="form-h">
  <h2 id="form-h">`)
	if has {
		d.m(`Change or rotate`)
	} else {
		d.m(`Set up the Razorpay connection`)
	}
	d.m(`</h2>
  `)
	d.hidden(p.CSRF, "")
	d.m(`
  <label for="name">Name</label>
  `)
	input(d, p, "name", "text", ` placeholder="Razorpay India"`)
	d.m(`
  `)
	d.ferr(p.Err, "name")
	d.m(`
  <label for="key_id">Key id</label>
  `)
	input(d, p, "key_id", "text", ` placeholder="rzp_test_…" required autocomplete="off"`)
	d.m(`
  `)
	d.ferr(p.Err, "key_id")
	d.m(`
  <label for="key_secret">Key secret`)
	if has {
		d.m(` (leave empty to keep the current one)`)
	}
	d.m(`</label>
  <input id="key_secret" name="key_secret" type="password" autocomplete="off">
  `)
	d.ferr(p.Err, "key_secret")
	d.m(`
  <label for="webhook_secret">Webhook secret (at least 20 characters; leave empty to `)
	if has {
		d.m(`keep it`)
	} else {
		d.m(`have one generated`)
	}
	d.m(`)</label>
  <input id="webhook_secret" name="webhook_secret" type="password" autocomplete="off">
  `)
	d.ferr(p.Err, "webhook_secret")
	d.m(`
  `)
	if has {
		d.m(`<p class="check"><input id="generate_webhook_secret" name="generate_webhook_secret" type="checkbox"><label for="generate_webhook_secret">Generate a new webhook secret (the old one keeps working for 24 hours)</label></p>`)
	}
	d.m(`
  <p class="check"><input id="invoice_outbound_sync" name="invoice_outbound_sync" type="checkbox"`)
	if p.Form.Get("invoice_outbound_sync") != "" {
		d.m(` checked`)
	}
	d.m(`><label for="invoice_outbound_sync">Create each finalized invoice at Razorpay (its short URL is the payment link)</label></p>
  `)
	d.ferr(p.Err, "invoice_outbound_sync")
	cs := p.Form.Get("customer_sync")
	d.m(`
  <label for="customer_sync">Customer sync</label>
  <select id="customer_sync" name="customer_sync">
    <option value="ON_DEMAND"`)
	d.selected(cs, "ON_DEMAND")
	d.m(`>On demand (before a link or invoice sync)</option>
    <option value="ON_CREATE"`)
	d.selected(cs, "ON_CREATE")
	d.m(`>On create (every new customer)</option>
  </select>
  `)
	d.ferr(p.Err, "customer_sync")
	d.m(`
  <button type="submit" id="save-connection">Save connection</button>
</form>
`)
}

func paymentView(d *doc, p page) {
	pay := p.Data["pay"]
	f := func(k string) any { return get(pay, k) }
	status := str(f("payment_status"))
	d.m(`
<section class="card" aria-labelledby="pay-h">
  <h2 id="pay-h">Payment `)
	code(d, f("id"))
	d.m(`</h2>
  <dl class="grid">
    <dt>Status</dt><dd><span class="badge" id="payment-status">`)
	d.t(status)
	d.m(`</span></dd>
    <dt>Amount</dt><dd>`)
	d.v(f("amount"))
	d.m(` `)
	d.v(f("currency"))
	d.m(`</dd>
    <dt>Invoice</dt><dd>`)
	idLink(d, `/console/invoices/`, f("destination_id"), f("destination_id"))
	d.m(`</dd>
    <dt>Link</dt><dd>`)
	if u := f("payment_url"); truth(u) {
		urlLink(d, u, "payment-url")
		d.m(` <button type="button" class="copy" data-copy="#payment-url" hidden>Copy</button>`)
	} else {
		d.m(`none`)
	}
	d.m(`</dd>
    <dt>Razorpay payment</dt><dd>`)
	if x := f("gateway_payment_id"); truth(x) {
		code(d, x)
	} else {
		d.m(`none yet`)
	}
	d.m(`</dd>
    `)
	dd(d, `Method`, f("payment_method"))
	d.m(`
    `)
	dd(d, `Received`, f("amount_received"))
	d.m(`
    <dt>Refunded</dt><dd>`)
	d.v(f("refunded_amount"))
	if x := f("refund_pending"); nonzero(x) {
		d.m(` (pending `)
		d.v(x)
		d.m(`)`)
	}
	d.m(`</dd>
    <dt>Failed tries</dt><dd>`)
	d.v(f("attempts"))
	if x := f("error_message"); truth(x) {
		d.m(` — last: <span class="error-text">`)
		d.v(x)
		d.m(`</span>`)
	}
	d.m(`</dd>
  </dl>
  <h3>Timeline</h3>
  <ol class="timeline">
    <li>Created `)
	d.v(f("created_at"))
	d.m(`</li>
`)
	if x := f("failed_at"); truth(x) {
		d.m(`<li>Failed `)
		d.v(x)
		if c := f("error_code"); truth(c) {
			d.m(` (`)
			code(d, c)
			d.m(`)`)
		}
		d.m(`</li>
`)
	}
	if x := f("succeeded_at"); truth(x) {
		d.m(`<li>Succeeded `)
		d.v(x)
		d.m(`</li>
`)
	}
	for _, r := range items(p.Data["refunds"]) {
		d.m(`<li>Refund `)
		d.v(get(r, "id"))
		d.m(` of `)
		d.v(get(r, "amount"))
		d.m(`: `)
		d.v(get(r, "status"))
		d.m(` (`)
		d.v(get(r, "created_at"))
		d.m(`)</li>`)
	}
	d.m(`
    <li>Last change `)
	d.v(f("updated_at"))
	d.m(`</li>
  </ol>
</section>
<section class="card" aria-labelledby="pactions-h">
  <h2 id="pactions-h">Actions</h2>
  <div class="actions">
`)
	id := f("id")
	if status == "PENDING" || status == "INITIATED" {
		d.form(`/console/payments/`, id, `/cancel`, p.CSRF, p.Idem+"-c", `<button type="submit" class="danger" id="cancel-link">Cancel the link</button>`)
		d.m(`
`)
	}
	d.form(`/console/payments/`, id, `/refresh`, p.CSRF, p.Idem+"-r", `<button type="submit" class="secondary" id="refresh-payment">Refresh from Razorpay</button>`)
	d.m(`
  </div>
</section>
`)
	if status == "SUCCEEDED" || status == "PARTIALLY_REFUNDED" {
		d.m(`<form method="post" action="/console/payments/`)
		d.path(id)
		d.m(`/refund" class="card" aria-labelledby="refund-h">
  <h2 id="refund-h">Refund</h2>
  `)
		d.hidden(p.CSRF, p.Idem)
		d.m(`
  <label for="amount">Amount (leave empty to refund in full)</label>
  `)
		d.m(`<input id="amount" name="amount" type="text" inputmode="decimal" value="`)
		d.t(p.Form.Get("amount"))
		d.m(`" placeholder="50.00">`)
		d.m(`
  `)
		d.ferr(p.Err, "amount")
		d.m(`
  <label for="reason">Reason</label>
  `)
		input(d, p, "reason", "text", "")
		d.m(`
  `)
		d.ferr(p.Err, "reason")
		d.m(`
  <button type="submit" class="danger" id="refund">Refund</button>
</form>
`)
	}
}

func eventsView(d *doc, p page) {
	cur := p.Form.Get("status")
	d.m(`
<form method="get" action="/console/gateway-events" class="filters">
  <label for="status">Status</label>
  <select id="status" name="status">`)
	statusOptions(d, p)
	d.m(`</select>
  <button type="submit">Show</button>
</form>
<p class="note">Unmatched events are Razorpay webhooks that matched no payment or invoice. They are kept, never dropped; retry one once the record it belongs to exists.</p>
`)
	evs := items(p.Data["events"])
	for _, e := range evs {
		d.m(`<article class="card event">
  <h2>`)
		code(d, get(e, "event"))
		d.m(` <span class="badge">`)
		d.v(get(e, "status"))
		d.m(`</span></h2>
  <dl class="grid">
    <dt>Id</dt><dd>`)
		code(d, get(e, "id"))
		d.m(`</dd>
    `)
		dd(d, `Reason`, get(e, "reason"))
		d.m(`
    `)
		dd(d, `Received`, get(e, "received_at"))
		d.m(`
    `)
		dd(d, `Attempts`, get(e, "attempts"))
		d.m(`
  </dl>
  <details><summary>Payload</summary><pre>`)
		d.t(prettyJSON(get(e, "payload")))
		d.m(`</pre></details>
`)
		if str(get(e, "status")) == "UNMATCHED" {
			d.m(`  `)
			d.form(`/console/gateway-events/`, get(e, "id"), `/retry`, p.CSRF, p.Idem+"-"+str(get(e, "id")), `<button type="submit">Retry</button>`)
			d.m(`
`)
		}
		d.m(`</article>
`)
	}
	if len(evs) == 0 {
		d.m(`<p>No `)
		d.t(lower(cur))
		d.m(` events.</p>
`)
	}
}

func subscriptionsView(d *doc, _ page) {
	d.m(`
<form method="get" action="/console/subscriptions" class="filters">
  <label for="id">Subscription id</label>
  <input id="id" name="id" type="search" placeholder="sub_…" required>
  <button type="submit">Open</button>
</form>
<p class="note">An invoice made for a subscription period links to its subscription.</p>
`)
}

func subscriptionView(d *doc, p page) {
	sub := p.Data["sub"]
	f := func(k string) any { return get(sub, k) }
	d.m(`
<section class="card" aria-labelledby="sub-h">
  <h2 id="sub-h">Subscription `)
	code(d, f("id"))
	d.m(`</h2>
  <dl class="grid">
    <dt>Status</dt><dd><span class="badge" id="subscription-status">`)
	d.v(f("status"))
	d.m(`</span>`)
	if x := f("cancel_at"); truth(x) {
		d.m(` — ends `)
		d.v(x)
	}
	d.m(`</dd>
    <dt>Customer</dt><dd>`)
	idLink(d, `/console/customers/`, f("customer_id"), f("customer_id"))
	d.m(`</dd>
    <dt>Plan</dt><dd>`)
	code(d, f("plan_id"))
	d.m(` version `)
	d.v(f("plan_version"))
	d.m(`</dd>
    <dt>Billing period</dt><dd>`)
	d.v(f("billing_period"))
	d.m(` (anchor day `)
	d.v(f("anchor_day"))
	d.m(`)</dd>
    <dt>Current period</dt><dd>`)
	d.v(f("current_period_start"))
	d.m(` – `)
	d.v(f("current_period_end"))
	d.m(`</dd>
`)
	if x := f("trial_end"); truth(x) {
		dd(d, `Trial ends`, x)
		d.m(`
`)
	}
	d.m(`  </dl>
</section>
<section class="card" aria-labelledby="up-h">
  <h2 id="up-h">Upcoming invoice</h2>
`)
	if up := p.Data["upcoming"]; truth(up) {
		d.m(`  <p>For `)
		d.v(get(up, "period_start"))
		d.m(` – `)
		d.v(get(up, "period_end"))
		d.m(`, usage counted up to `)
		d.v(get(up, "usage_through"))
		d.m(`.</p>
  <div class="scroll">
  <table id="upcoming">
    <thead><tr><th scope="col">Item</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Unit amount</th><th scope="col" class="num">Amount</th></tr></thead>
    <tbody>`)
		for _, l := range items(get(up, "lines")) {
			d.m(`<tr><td>`)
			d.v(get(l, "display_name"))
			d.m(`</td><td class="num">`)
			d.v(get(l, "quantity"))
			d.m(`</td><td class="num">`)
			d.v(get(l, "unit_amount"))
			d.m(`</td><td class="num">`)
			d.v(get(l, "amount"))
			d.m(`</td></tr>`)
		}
		d.m(`</tbody>
    <tfoot>
      <tr><th scope="row" colspan="3">Subtotal</th><td class="num">`)
		d.v(get(up, "subtotal"))
		d.m(`</td></tr>
`)
		if x := get(up, "discount"); nonzero(x) {
			d.m(`<tr><th scope="row" colspan="3">Discount</th><td class="num">`)
			d.v(x)
			d.m(`</td></tr>
`)
		}
		taxLines(d, get(up, "tax_lines"), `3`)
		d.m(`      <tr><th scope="row" colspan="3">Total (`)
		d.v(get(up, "currency"))
		d.m(`)</th><td class="num" id="upcoming-total">`)
		d.v(get(up, "total"))
		d.m(`</td></tr>
    </tfoot>
  </table>
  </div>
`)
	} else {
		d.m(`<p>`)
		d.v(p.Data["upcoming_error"])
		d.m(`</p>
`)
	}
	d.m(`</section>
`)
	if str(f("status")) == "ACTIVE" && !truth(f("cancel_at")) {
		id := f("id")
		d.m(`<section class="card" aria-labelledby="cancel-h">
  <h2 id="cancel-h">Cancel</h2>
  <div class="actions">
  `)
		d.form(`/console/subscriptions/`, id, `/cancel`, p.CSRF, p.Idem+"-end", `<input type="hidden" name="at" value="PERIOD_END"><button type="submit" class="secondary" id="cancel-period-end">Cancel at the end of this period</button>`)
		d.m(`
  `)
		d.form(`/console/subscriptions/`, id, `/cancel`, p.CSRF, p.Idem+"-now", `<input type="hidden" name="at" value="NOW"><button type="submit" class="danger" id="cancel-now">Cancel now</button>`)
		d.m(`
  </div>
</section>
`)
	}
}

func lower(s string) string { return strings.ToLower(s) }

// nonzero reports whether a decimal amount is not zero.
func nonzero(v any) bool { return strings.ContainsAny(str(v), "123456789") }
