package main

// route is one HTTP API route and the function that serves it.
type route struct {
	Method   string
	Path     string
	Function string
}

// httpRoutes are the routes of the HTTP API (docs/openapi.yaml, the contract
// in api.md). Every route is declared, so API Gateway's route table is the
// documentation of what is served; payments go to payment-link-creator,
// usage events to usage-ingest, the rest to api. The `$default` route also
// goes to `api`, whose router answers unknown paths with the JSON error
// envelope instead of API Gateway's bare {"message":"Not Found"}. The webhook path is not here:
// Razorpay calls the webhook-receiver's function URL.
var httpRoutes = []route{
	{"GET", "/health", "api"},

	{"POST", "/api/v1/tenants", "api"},
	{"POST", "/api/v1/api-keys", "api"},
	{"GET", "/api/v1/api-keys", "api"},
	{"DELETE", "/api/v1/api-keys/{id}", "api"},
	{"GET", "/api/v1/tenants/{id}/api-keys", "api"},
	{"POST", "/api/v1/tenants/{id}/api-keys", "api"},
	{"DELETE", "/api/v1/tenants/{id}/api-keys/{key_id}", "api"},

	{"PUT", "/api/v1/environments/{id}/tax", "api"},
	{"GET", "/api/v1/environments/{id}/tax", "api"},

	{"PUT", "/api/v1/connections/razorpay", "api"},
	{"GET", "/api/v1/connections/razorpay", "api"},
	{"DELETE", "/api/v1/connections/razorpay", "api"},
	{"POST", "/api/v1/connections/razorpay/webhook-secret/revoke", "api"},

	{"POST", "/api/v1/customers", "api"},
	{"GET", "/api/v1/customers", "api"},
	{"GET", "/api/v1/customers/{id}", "api"},
	{"PATCH", "/api/v1/customers/{id}", "api"},
	{"POST", "/api/v1/customers/{id}/sync", "api"},

	{"POST", "/api/v1/invoices", "api"},
	{"GET", "/api/v1/invoices", "api"},
	{"GET", "/api/v1/invoices/{id}", "api"},
	{"POST", "/api/v1/invoices/{id}/finalize", "api"},
	{"POST", "/api/v1/invoices/{id}/void", "api"},
	{"POST", "/api/v1/invoices/{id}/sync", "api"},
	{"POST", "/api/v1/invoices/{id}/refresh", "api"},

	{"POST", "/api/v1/payments", "payment-link-creator"},
	{"GET", "/api/v1/payments", "payment-link-creator"},
	{"GET", "/api/v1/payments/{id}", "payment-link-creator"},
	{"POST", "/api/v1/payments/{id}/refund", "payment-link-creator"},
	{"GET", "/api/v1/payments/{id}/refunds", "payment-link-creator"},
	{"POST", "/api/v1/payments/{id}/cancel", "payment-link-creator"},
	{"POST", "/api/v1/payments/{id}/refresh", "payment-link-creator"},

	{"GET", "/api/v1/gateway-events", "api"},
	{"POST", "/api/v1/gateway-events/{id}/retry", "api"},

	{"POST", "/api/v1/plans", "api"},
	{"GET", "/api/v1/plans", "api"},
	{"GET", "/api/v1/plans/{id}", "api"},
	{"PUT", "/api/v1/plans/{id}", "api"},
	{"POST", "/api/v1/subscriptions", "api"},
	{"GET", "/api/v1/subscriptions/{id}", "api"},
	{"POST", "/api/v1/subscriptions/{id}/cancel", "api"},
	{"POST", "/api/v1/subscriptions/{id}/change-plan", "api"},
	{"GET", "/api/v1/subscriptions/{id}/upcoming-invoice", "api"},

	{"POST", "/api/v1/meters", "api"},
	{"GET", "/api/v1/meters", "api"},
	{"GET", "/api/v1/meters/{id}", "api"},
	{"POST", "/api/v1/meters/{id}/archive", "api"},
	{"GET", "/api/v1/usage", "api"},

	{"POST", "/api/v1/events", "usage-ingest"},
	{"GET", "/api/v1/events", "usage-ingest"},
	{"POST", "/api/v1/events/bulk", "usage-ingest"},
}

// defaultRouteFunction serves `$default`.
const defaultRouteFunction = "api"

// webhookFunction is the function behind the public function URL.
const webhookFunction = "webhook-receiver"
