// Command stream-relay is the Lambda on the table's stream: it forwards the
// filtered records (new customer, invoice finalized, customer synced) to the
// sync queues.
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
	d, err := app.Load(context.Background(), os.Getenv, os.Stdout, config.NeedSyncQueues)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(d.Relay().Handle)
}
