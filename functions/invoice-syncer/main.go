// Command invoice-syncer is the Lambda that consumes invoice-sync and
// creates (or finds) each finalized invoice at Razorpay.
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
	d, err := app.Load(context.Background(), os.Getenv, os.Stdout, config.NeedTable|config.NeedSecrets|config.NeedRazorpay)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(d.InvoiceWorker().HandleInvoices)
}
