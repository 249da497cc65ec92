// Package lambdahost runs Razorbill's Lambda handlers on one machine the way
// AWS invokes them: an HTTP router that turns requests into API Gateway
// HTTP API (payload 2.0) and function URL events, an SQS poller that
// delivers events.SQSEvent batches and honours partial batch failures, and a
// DynamoDB stream poller that applies Lambda event filters and honours
// BatchItemFailures by sequence number. Handlers are the same functions the
// Lambda binaries hand to lambda.Start.
package lambdahost

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Account and region that appear in ARNs of the local stack.
const (
	LocalAccountID = "123456789012"
	LocalRegion    = "us-east-1"
)

// ErrFunctionTimeout is returned (wrapped) when a handler runs past its
// function timeout; Lambda would have stopped it.
var ErrFunctionTimeout = errors.New("task timed out")

// timeoutGrace is how long past its deadline a handler may take to return
// before the invocation is reported as timed out.
const timeoutGrace = 250 * time.Millisecond

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func functionARN(name string) string {
	if name == "" {
		name = "local"
	}
	return "arn:aws:lambda:" + LocalRegion + ":" + LocalAccountID + ":function:" + name
}

// invoke calls fn as one Lambda invocation: a context carrying
// lambdacontext (request id, function ARN) and a deadline of timeout from
// now, not cancelled by parent (Lambda does not abort a running invocation
// when the poller stops). A panic becomes an error; a handler still running
// after its deadline is abandoned with ErrFunctionTimeout.
func invoke[T any](parent context.Context, log *slog.Logger, function string, timeout time.Duration, fn func(context.Context) (T, error)) (T, string, error) {
	requestID := newUUID()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), timeout)
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       requestID,
		InvokedFunctionArn: functionARN(function),
	})
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				log.Error("handler panicked", "function", function, "request_id", requestID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				r.err = fmt.Errorf("handler panicked: %v", p)
			}
			done <- r
		}()
		r.v, r.err = fn(ctx)
	}()
	timer := time.NewTimer(timeout + timeoutGrace)
	defer timer.Stop()
	select {
	case r := <-done:
		cancel()
		return r.v, requestID, r.err
	case <-timer.C:
		cancel()
		var zero T
		log.Error("handler timed out", "function", function, "request_id", requestID, "timeout", timeout)
		return zero, requestID, fmt.Errorf("%w after %s", ErrFunctionTimeout, timeout)
	}
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func loggerOr(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

// sleepCtx sleeps d or until ctx is done; it reports whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func isTimeout(err error) bool { return errors.Is(err, ErrFunctionTimeout) }

// InvokeScheduled runs fn as one invocation of function by an EventBridge
// schedule: with lambdacontext (request id, the function's ARN) and a
// deadline of timeout, as Lambda would.
func InvokeScheduled[T any](parent context.Context, log *slog.Logger, function string, timeout time.Duration, fn func(context.Context) (T, error)) (T, error) {
	v, _, err := invoke(parent, log, function, timeout, fn)
	return v, err
}
