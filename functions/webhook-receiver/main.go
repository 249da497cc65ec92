// Command webhook-receiver is the Lambda behind the function URL that
// Razorpay calls: verify, then queue; nothing else.
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
	d, err := app.Load(context.Background(), os.Getenv, os.Stdout, config.NeedTable|config.NeedSecrets|config.NeedEventsQueue)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(d.WebhookReceiver().Handle)
}
