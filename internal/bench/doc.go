// Package bench holds Razorbill's whole-stack measurements (`make bench`,
// issue 10); the micro-benchmarks live beside the code they measure
// (internal/webhook, internal/httpapi). Its tests run only with
// RAZORBILL_BENCH=1:
//
//   - TestBurst drives thousands of signed Razorpay webhooks over HTTP
//     through the local stack (real DynamoDB Local and SQS emulator) and
//     measures ack latency, time until every payment is applied, and every
//     AWS request the functions make, with DynamoDB's consumed capacity;
//   - TestInitTime builds every function the way `make build` does and times
//     process start → first poll of the Lambda Runtime API against a fake
//     one, next to a hello-world aws-lambda-go function (./hello);
//   - TestUsageBench posts usage events in bulk over HTTP through the local
//     stack (issue 18) and measures accepted events/s, the time until
//     sampled events are counted, a hot customer against the others, and
//     the DynamoDB calls, write units and per-partition-key writes per event;
//   - TestReport turns those results and the micro-benchmarks' output into
//     docs/benchmarks.md, with a paper estimate of the AWS bill; it rewrites
//     only the regions between generated:begin/end marker comments and keeps
//     the hand-written text around them.
package bench
