// Command period-close is the Lambda the EventBridge schedule starts: it
// makes the invoice of every subscription billing step that is due
// (internal/periodclose), exactly once each.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/razorbill/razorbill/internal/wire/periodclose"
)

func main() {
	c, err := periodclose.Load(os.Getenv, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(c.Handle)
}
