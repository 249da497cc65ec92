// Command hello is the baseline for the init-time benchmark: the smallest
// aws-lambda-go function, built the same way as Razorbill's functions.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "hello", nil })
}
