// Command api is the api Lambda: tenants, API keys, the Razorpay
// connection, customers, invoices and parked gateway events, behind API
// Gateway (HTTP API).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/razorbill/razorbill/internal/wire/api"
)

func main() {
	h, err := api.Load(os.Getenv, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
