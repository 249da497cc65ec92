// Package razorpaysim is an in-memory Razorpay: the subset of the API that
// Razorbill calls, with Razorpay's shapes, rules and error bodies, a
// checkout page at every short_url, and signed webhook delivery with
// retries. It exists so that Razorbill is never tested against a
// hand-written stub; the client's contract tests run the same cases
// against it and against Razorpay test mode.
//
// # Starting it
//
// In a test, in-process:
//
//	sim := razorpaysim.New(razorpaysim.Options{RetrySchedule: []time.Duration{10 * time.Millisecond}})
//	ts := httptest.NewServer(sim) // short_urls then use ts.URL (the request's Host)
//	defer func() { ts.Close(); sim.Close() }()
//	acct := sim.DefaultAccount() // acct.KeyID starts rzp_test_
//	client := razorpay.NewClient(razorpay.Config{BaseURL: ts.URL})
//
// or sim.Start("127.0.0.1:0"), which returns the base URL. As a process:
// go run ./infra/local/razorpaysim (see its doc). The local stack
// (internal/localstack) serves it beside the functions.
//
// # API (HTTP Basic auth with an account's key id and secret)
//
//	POST /v1/customers                 name, email, contact, gstin, notes, fail_existing (Rules below);
//	                                   fail_existing: "0" or 0 returns the customer with the same email+contact;
//	                                   "1", 1, true or absent → 400 "Customer already exists for the merchant";
//	                                   false → 400 (Laravel's in:0,1 rule reads it as "")
//	GET  /v1/customers[?count&skip&from&to], GET /v1/customers/{id}
//	POST /v1/invoices                  type "invoice", customer_id (must exist), currency (default INR),
//	                                   receipt 1–40 chars (repeats are accepted), 1–50 line_items with positive
//	                                   integer amount/quantity in the invoice's currency (three-decimal currencies:
//	                                   amounts end in 0), expire_by ≥ 15 min ahead, sms_notify/email_notify,
//	                                   partial_payment, draft "1", notes; creates the order and short_url
//	GET  /v1/invoices[?receipt&customer_id&payment_id&type&count&skip], GET /v1/invoices/{id}
//	POST /v1/invoices/{id}/issue, /cancel (cancel: only an issued invoice, Rules below)
//	POST /v1/payment_links             amount ≥ the currency's minimum (INR 100 paise, money.DefaultMinimums),
//	                                   reference_id ≤ 40 and unique per account (Rules below),
//	                                   accept_partial/first_min_partial_amount, customer, notify, reminder_enable,
//	                                   notes (≤ 15 keys, values ≤ 255 chars), callback_url + callback_method "get",
//	                                   expire_by (15 min to 6 months ahead), options, upi_link
//	GET  /v1/payment_links[?reference_id&payment_id] → {"payment_links":[…]}; GET /v1/payment_links/{id}
//	                                   (an unknown id → 404)
//	POST /v1/payment_links/{id}/cancel only a "created" link; partially_paid, paid, cancelled or expired
//	                                   → 400 (razorpay.com/docs/payments/payment-links/cancel: "You can only
//	                                   cancel Payment Links that are in the created state")
//	GET  /v1/payments/{id}; POST /v1/payments/{id}/refund (amount, notes, receipt, speed; header
//	                                   X-Refund-Idempotency, see Refunds below)
//	GET  /v1/payments/{id}/refunds[?count&skip] (collection, newest first), GET /v1/refunds/{id},
//	GET  /v1/orders/{id}; POST /v1/orders (amount, currency, receipt ≤ 40, notes)
//
// # International payments
//
// Non-INR invoices, payment links and orders need international payments
// activated on the account (razorpay.com/docs/payments/payments/international-payments/:
// "To enable international payments for the first time, you need to place a
// request from the Razorpay Dashboard"). Without them an invoice or link in
// another currency is refused with 400 "The merchant doesn't have
// international activated" (field currency; the wording is shared/razorpay.md's),
// and an order with 400 "Currency is not supported" (observed live:
// razorpay/razorpay-php#95, razorpay/razorpay-python#129, where Razorpay's
// staff name the missing activation as the cause). Each account has them ON
// unless InternationalOff — SetInternational(key, on), or
// POST /_sim/accounts/{key}/international {"on": false} — so tests of
// non-INR money work without a switch.
//
// # Rules (issue 14), and where each comes from
//
// Documented by Razorpay:
//
//   - Customer name 3–50 characters: letters, digits, space, period,
//     apostrophe (' or ’), forward slash, @ and parentheses, else 400
//     field "name" "The name format is invalid." (length: "… at least 3
//     / may not be greater than 50 characters"); email at most 64
//     characters; contact at most 15 characters including the country code
//     (and, as before, 8+ digits). Docs: razorpay.com/docs/api/customers/create
//     ("Create a Customer", request parameters name, contact, email). The
//     contact rule applies to a payment link's customer.contact too (the
//     simulator's choice: the link reference does not state it).
//   - Customer notes: at most 15 keys, values at most 256 characters
//     (razorpay.com/docs/api/customers/fetch-with-id: "a maximum of 15
//     key-value pairs, 256 characters (maximum) each"); invoices and
//     refunds are held to the same limit (shared/razorpay.md's general
//     rule for notes; their own pages were not checked).
//   - Payment link expire_by at most 6 months after creation
//     (razorpay.com/docs/api/payments/payment-links/entity: "the expire by
//     date cannot exceed more than six months from the date of creation"),
//     and at least 15 minutes ahead (stated in shared/razorpay.md and issue
//     14 and enforced as for invoices; not found in the link pages
//     searched).
//     0 (no expiry) is accepted. Wording of both refusals is the
//     simulator's.
//   - Only issued invoices can be cancelled: a draft is refused with 400
//     (razorpay.com/docs/payments/invoices/cancel: "You can cancel an
//     unpaid invoice which is in issued state"; drafts are deleted with
//     DELETE /v1/invoices/{id}, which the simulator does not serve).
//   - Webhook retries keep the secret of their first attempt
//     (razorpay.com/docs/webhooks/faqs: "use the old secret for webhook
//     signature validation while retrying older requests"), and the order
//     of events is not guaranteed (docs/payments/payment-gateway/…/
//     webhooks-and-fetch-apis: "Do not rely on the order of events").
//
// Observed live (live error captures in public projects, recorded in issue
// 14 and shared/razorpay.md; not found in Razorpay's published reference
// when searched — the live contract run, make contract, checks them):
//
//   - A second link with a used reference_id → 400 "payment link with given
//     reference_id: <id> already exists. Please create a payment link with a
//     different reference_id" (field and reason null). The docs also show
//     "payment link creation with reference ID already attempted"; the
//     simulator answers the live wording, razorpay.IsDuplicateReference
//     matches both.
//   - Unknown request fields → 400 "<field> is/are not required and should
//     not be sent" (several fields: sorted, comma-separated, the
//     simulator's choice). Accepted per endpoint: customers — name, email,
//     contact, gstin, notes, fail_existing; invoices — type, description,
//     draft, customer_id, customer, line_items, expire_by, sms_notify,
//     email_notify, partial_payment, currency, receipt, notes, comment,
//     terms, date (nested objects are not checked); payment links —
//     amount, currency, accept_partial, first_min_partial_amount,
//     expire_by, reference_id, description, customer, notify,
//     reminder_enable, notes, callback_url, callback_method, options,
//     upi_link; refunds — amount, speed, notes, receipt; the link and
//     invoice cancel calls — none (an empty body or none at all). Whether
//     Razorpay accepts receipt on invoice create is what the live contract
//     run (make contract) confirms.
//   - Payment link notes values at most 255 characters (issue 14 and
//     shared/razorpay.md; not confirmed: the link reference's update page
//     says 256).
//   - Payment-link API errors carry "field": null and "reason": null (the
//     simulator sends "source"/"step" "NA", its own choice), and an unknown
//     link id is 404 (the main API answers 400 "The id provided does not
//     exist" with field "id").
//   - A dashboard resend of an event is signed with the webhook's current
//     secret (RedeliverOptions.Secret still overrides it).
//   - Deliveries are concurrent: the simulator sends first attempts at
//     once, each after a random delay of up to 10 ms, unless
//     Options.OrderedWebhooks (one at a time per account, in emission
//     order) — for a test that needs a fixed order; ReleaseWebhooks always
//     sends in the order asked.
//   - A payment link description longer than 2,048 characters → 400
//     "The description may not be greater than 2048 characters." (field
//     description). Not found in Razorpay's published reference: the limit
//     and wording are the simulator's, to be confirmed by the live contract
//     run; Razorbill's link descriptions stay within it.
//
// # Refunds
//
// Documented by Razorpay (docs: "Refunds" API reference — Create a Normal
// Refund, Fetch Multiple Refunds for a Payment — and "Refunds: Idempotency"):
// X-Refund-Idempotency is at least 10 characters of letters, digits, '-' and
// '_' (else 400); the same key with the same request (payment, amount,
// notes, receipt, speed) returns the same refund; the same key with another
// request → 400 "Different request with the same idempotency key has
// already been processed…"; while the first request with a key is still in
// progress Razorpay answers 409 — retry later, it is not a refusal (faults
// 409 / 409_after_create model it); a refund is at least the currency's
// minimum (INR 1.00, money.DefaultMinimums: 400 "The amount must be atleast
// INR 1.00."); GET /v1/payments/{id}/refunds is a collection with count
// (default 10, at most 100) and skip. The 409 body's wording is the
// simulator's (its status is Razorpay's).
//
// Answers are Razorpay's PHP-flavoured JSON: HTTP 200 for creates, "notes":
// [] when empty (null on payment links, as Razorpay renders them), null for
// absent strings, integer amounts, Unix seconds, lists as
// {"entity":"collection","count":N,"items":[…]} newest first. Errors are
// {"error":{"code","description","field","source","step","reason",
// "metadata"}}: a wrong key is 401 with exactly Razorpay's body ("The api
// key provided is invalid"); an unknown id (or another account's) is 400
// "The id provided does not exist", as Razorpay answers it (payment links:
// 404, with field and reason null). Descriptions
// documented in shared/razorpay.md are Razorpay's exact words; the other
// validation messages are written in Razorpay's (Laravel) style and name
// the same field, but their wording is the simulator's.
//
// # Accounts
//
// New makes a default account (Options.DefaultKeyID/…, generated when
// empty: key id rzp_test_…, account id acc_…). CreateAccount adds more;
// each has its own objects, keys, webhook URL and secret (SetWebhook,
// RotateWebhookSecret). Objects of one account are invisible to another.
//
// # Checkout pages
//
// Every short_url ({base}/i/{code}) opens an HTML page showing what is due
// with three actions: pay in full, pay part (when the link/invoice accepts
// partial payments; the first part must reach first_min_partial_amount),
// and fail. Paying a link with a callback_url redirects (303) there with
// razorpay_payment_id, razorpay_payment_link_id,
// razorpay_payment_link_reference_id, razorpay_payment_link_status and
// razorpay_signature (HMAC-SHA256 with the key secret of
// "link_id|reference_id|status|payment_id"), as Razorpay does.
//
// # State and webhooks
//
// Paying moves the objects as Razorpay does and emits the same events,
// each payload a snapshot at that moment:
//
//	pay a link      payment.authorized, payment.captured, [order.paid when the order is fully paid],
//	                payment_link.paid | payment_link.partially_paid (contains payment_link, order, payment)
//	pay an invoice  payment.authorized, payment.captured, [order.paid],
//	                invoice.paid | invoice.partially_paid (contains payment, order, invoice)
//	fail            payment.failed (the order becomes "attempted")
//	refund          refund.created, refund.processed (contains refund, payment);
//	                with manual refunds: refund.created, then refund.processed | refund.failed (ProcessRefund)
//	cancel/expire   payment_link.cancelled | payment_link.expired; invoice.expired
//
// A link's payments carry the link's notes (Razorpay copies them) and its
// order_id (the order is created at the first attempt); an invoice's
// payments carry invoice_id and customer_id. Links and invoices past
// expire_by expire on the sweeper (Options.ExpirySweep) or Sweep.
//
// Events are POSTed to the account's webhook URL with Content-Type
// application/json, X-Razorpay-Event-Id and X-Razorpay-Signature (hex
// HMAC-SHA256 of the raw body with the webhook secret bound when the event
// was first sent: as with Razorpay, retries of older events keep the old
// secret after a rotation; a Redeliver, like a resend from the dashboard,
// uses the current secret). First attempts go out concurrently and
// unordered (Options.OrderedWebhooks: in order, one at a time per
// account); anything but a 2xx within Options.DeliveryTimeout (5 s) is
// retried on Options.RetrySchedule (default ≈ 24 h of backoff), after which
// the event is marked GaveUp. An account without a webhook URL gets
// nothing sent (the event is still listed). Razorpay's "Webhooks → Best
// practices / disable logic" page: a webhook that keeps failing for 24 h is
// disabled and nothing more is sent until it is re-enabled in the
// dashboard; the simulator disables it after Options.WebhookDisableAfter
// failed automatic attempts in a row within Options.WebhookDisableWindow
// (scaled), sends no first attempt nor retry while disabled, and sends
// nothing skipped when re-enabled (a dashboard replay, RedeliverAll, does).
// GET /v1/payment_links/{id} shows its "payments" list (Razorpay's "Fetch
// Payment Link by ID" response); webhook snapshots omit it; the simulator
// lists captured payments there. GET /v1/orders/{id}/payments ("Fetch Payments for
// an Order") lists every attempt on a link's order, failed ones included. The shapes are checked against
// events/razorpay field for field (TestEmittedEventsMatchSamples).
//
// # Control (Go methods, and JSON over HTTP under /_sim/, no auth)
//
//	CreateAccount, Accounts, DefaultAccount      GET/POST /_sim/accounts
//	SetWebhook, RotateWebhookSecret             PUT /_sim/accounts/{key}/webhook {url,secret}; POST …/rotate_secret {secret}
//	SetManualRefunds                            POST /_sim/accounts/{key}/manual_refunds {on}
//	SetInternational                            POST /_sim/accounts/{key}/international {on}
//	PayPaymentLink, FailPaymentLink             POST /_sim/payment_links/{id}/pay {amount,method} | /fail {error_code,…}
//	ExpirePaymentLink, CancelPaymentLink        POST /_sim/payment_links/{id}/expire | /cancel
//	PayInvoice, FailInvoice, ExpireInvoice      POST /_sim/invoices/{id}/pay | /fail | /expire
//	ProcessRefund                               POST /_sim/refunds/{id}/process {ok}
//	InjectFault, Faults, ClearFaults            POST/GET/DELETE /_sim/faults {kind,method,path,key_id,count}
//	Redeliver (twice, bad signature, secret)    POST /_sim/events/{id}/redeliver {times,bad_signature,secret}
//	                                            (signed with the current secret unless secret is given)
//	HoldWebhooks, ReleaseWebhooks (fifo, reverse, shuffle: out of order)
//	                                            POST /_sim/accounts/{key}/hold {hold}; …/release {order}
//	SetWebhookEnabled, RedeliverAll             POST /_sim/accounts/{key}/webhooks/disable | /enable | /redeliver_all
//	Objects, Events, Deliveries                 GET /_sim/objects | /_sim/events | /_sim/deliveries [?key_id=]
//	Sweep, WaitDeliveries                       POST /_sim/sweep; POST /_sim/wait?timeout_ms=
//	dashboard (accounts, checkout links, deliveries)  GET / and GET /_sim/
//
// Faults apply to the next Count matching /v1 calls: 429 and 500 with
// Razorpay's bodies, html_502 (a proxy's HTML page), timeout (hang until
// the client gives up, or 504 after Options.MaxHang), crash_after_create
// (carry the request out, then drop the connection without an answer),
// drop (drop it without doing anything), 409 (a refund key in progress),
// 409_after_create, 500_after_create, timeout_after_create (carry the
// request out, then answer 409 / 500 / hang) and slow (wait delay_ms,
// default 2 s, then carry the request out and answer, even to a client
// that has hung up). Nothing is done for the first four nor for 409. Calls
// counts the API calls received by method and path (faulted ones included).
//
// State is in memory and lost on exit. The control API and dashboard are
// unauthenticated and show secrets: the simulator is a local tool, never
// linked into a Lambda binary.
package razorpaysim
