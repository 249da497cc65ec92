// Command webhook-receiver is the Lambda behind the function URL that
// Razorpay calls: verify, then queue; nothing else.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/razorbill/razorbill/internal/wire/webhookreceiver"
)

func main() {
	h, err := webhookreceiver.Load(os.Getenv, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
