package app

import (
	"github.com/razorbill/razorbill/internal/console"
	"github.com/razorbill/razorbill/internal/httpapi"
)

// Console is the operator console over the api router rt and the
// payment-link-creator's routes (built here, in the api function's
// process), its sessions sealed with a key derived from the admin token.
func (d *Deps) Console(rt *httpapi.Router) *console.Console {
	return console.New(console.Options{API: rt.Handle, Payments: d.PaymentsHandler().Handle,
		SessionKey: console.KeyFromSecret(d.AdminToken), Log: d.Log})
}
