// Command invoice-syncer is the Lambda that consumes invoice-sync and
// creates (or finds) each finalized invoice at Razorpay.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/razorbill/razorbill/internal/wire/syncers"
)

func main() {
	h, err := syncers.Invoices(os.Getenv, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h.HandleInvoices)
}
