// Command customer-syncer is the Lambda that consumes customer-sync and
// creates (or finds) each customer at Razorpay.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/razorbill/razorbill/internal/wire/syncers"
)

func main() {
	h, err := syncers.Customers(os.Getenv, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h.HandleCustomers)
}
