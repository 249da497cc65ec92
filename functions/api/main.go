// Command api is the api Lambda: tenants, API keys, the Razorpay
// connection, customers, invoices and parked gateway events, behind API
// Gateway (HTTP API).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/razorbill/razorbill/internal/app"
	"github.com/razorbill/razorbill/internal/config"
)

func main() {
	d, err := app.Load(context.Background(), os.Getenv, os.Stdout,
		config.NeedTable|config.NeedSyncQueues|config.NeedSecrets|config.NeedAdmin|config.NeedWebhooks|config.NeedRazorpay)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(d.APIHandler().Handle)
}
