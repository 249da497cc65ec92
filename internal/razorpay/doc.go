// Package razorpay is Razorbill's client for the part of Razorpay's API it
// uses (customers, invoices, payment links, payments, refunds) and its
// webhook helpers (Sign, VerifySignature, ParseEvent, BuildEventBody).
//
// # How razorpay-go is used, and why
//
// The design card requires github.com/razorpay/razorpay-go (v1.3.3). Read
// as source, it has four traps for a multi-tenant Lambda:
//
//   - razorpay.NewClient writes the package-global razorpay.Request, and
//     Client.AddHeaders / SetTimeout mutate that global: two tenants'
//     clients in one process race, and one tenant's headers or timeout
//     leak into another's calls. (AddHeaders on a NewClient-made request
//     even panics: its Headers map is nil.)
//   - requests are built with http.NewRequest, without a context: a
//     Lambda's deadline cannot cancel a call.
//   - a non-2xx answer is reduced to an error carrying only the
//     description; the HTTP status and Razorpay's code, field, source,
//     step and reason are lost, so 429 and 5xx cannot be told from 400. An
//     error body whose internal_error_code is BAD_REQUEST_ERROR is even
//     returned as an empty result with a nil error, and a non-JSON body (an
//     HTML 502 from a proxy) yields an empty message.
//   - results are map[string]interface{} with float64 amounts, and the SDK
//     panics on a base URL it cannot parse.
//
// This package therefore never calls razorpay.NewClient and never touches
// the global. For every attempt it builds a fresh requests.Request (the
// SDK's own exported request type: Auth, HTTPClient, Headers and BaseURL are
// exported fields) holding the tenant's key pair and a fresh *http.Client
// whose RoundTripper (recorder) re-attaches the attempt's context to the
// SDK's context-less request and records the HTTP status, headers and raw
// body before handing the body back to the SDK. The SDK's resources
// (resources.Customer, Invoice, PaymentLink, Payment) then build the URL,
// the JSON body, Basic auth and the User-Agent exactly as they do for any
// SDK user. Nothing is shared between calls except the underlying
// http.RoundTripper (which is safe for concurrent use), so tenants cannot
// race or see each other's keys; the -race test TestTwoTenantsInParallel
// proves it against the simulator.
//
// The SDK's returned map and error are not trusted: the recorded status and
// body are. A 2xx body is decoded straight into typed results (int64 minor
// units, time.Time, map[string]string notes) with tolerant decoders for
// Razorpay's PHP-flavoured JSON ("notes": [], numbers as strings, nulls); an
// amount that arrives as a non-integer JSON number goes through
// money.FromJSONFloat, which refuses anything inexact. No float ever holds
// an amount otherwise. A non-2xx body is decoded into *APIError.
//
// Calling the HTTP API directly was considered and rejected: the SDK can be
// made safe this way and stays the single place that knows Razorpay's paths
// and request encoding, as the design card asks.
//
// # Errors
//
// Every failure is an *apperr.Error whose Err is an *APIError (HTTP status
// and Razorpay's code, description, field, source, step, reason):
//
//	401                         Unauthorized  invalid_razorpay_credentials
//	400                         Permanent     razorpay_bad_request (Field = Razorpay's field, Message = its description)
//	400 "The id provided does not exist", 404 (payment links answer 404)
//	                            NotFound      razorpay_not_found
//	429                         Throttled     razorpay_throttled
//	5xx, timeout, connection error, non-JSON body, unreadable 2xx
//	                            Transient     razorpay_unavailable
//	refused before sending      Invalid       razorpay_invalid_input
//
// Correction to shared/razorpay.md: Razorpay answers an unknown id (or one
// of another account) with HTTP 400 BAD_REQUEST_ERROR "The id provided does
// not exist", not 404; the client maps that description to NotFound.
//
// # Retries
//
// Transient and Throttled failures are retried with full-jitter exponential
// backoff (Config.MinBackoff doubling up to Config.MaxBackoff, a 429's
// Retry-After honoured within that bound), at most Config.MaxRetries times,
// never past ctx's deadline, and only when repeating cannot duplicate an
// object:
//
//   - GETs; CreateCustomer without FailExisting (fail_existing "0" returns
//     the existing customer); Refund with an IdempotencyKey
//     (X-Refund-Idempotency).
//   - CreateInvoice: Razorpay does not refuse a repeated receipt, so after
//     an attempt of unknown outcome (no answer, 5xx, non-JSON) the retry
//     first looks the receipt up and returns the invoice found (the one
//     whose notes carry the same razorbill_invoice_id, when the input has
//     one) instead of sending again.
//   - CreatePaymentLink: likewise by reference_id; a 400 duplicate
//     reference_id refusal (IsDuplicateReference: "payment link with given
//     reference_id: <id> already exists…" observed live, "payment link
//     creation with reference ID already attempted" in the docs) after such
//     an attempt is healed by the same lookup.
//   - CancelPaymentLink, CancelInvoice: the retry first fetches the object.
//
// When retries run out the error stays Transient: the caller (a queue
// consumer) retries later and must look up by receipt / reference_id
// (FindInvoicesByReceipt, FindPaymentLinkByReference) before creating again.
//
// # Testing
//
// Tests run against internal/razorpaysim in-process. The contract suite
// (TestContract) runs against the simulator in make test, and against
// Razorpay test mode when RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET and
// RAZORPAY_CONTRACT=1 are set (make contract).
package razorpay
