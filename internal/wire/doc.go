// Package wire holds one composition root per Lambda function, each in its
// own package (wire/<function>) so that a function's binary links only the
// adapters its job uses: `go list -deps ./functions/<name>` shows them, and
// internal/wire/deps_test.go checks what each must not link. A root reads
// the configuration, builds the AWS configuration from the Lambda
// environment (internal/lambdaenv), constructs the adapters and returns the
// handler; functions/<name>/main.go hands it to the Lambda runtime.
//
// internal/app remains the builder of every adapter, used by the local
// stack (make run) and the chaos tests; every function has its root here.
package wire
