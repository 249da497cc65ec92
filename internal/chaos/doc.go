// Package chaos holds Razorbill's chaos run (`make chaos`, issue 10): a
// bounded, loopback-only test that drives thousands of simulator webhooks
// for thousands of invoices through the real handlers, DynamoDB Local and
// the SQS emulator while injecting faults — duplicates, shuffled order, SQS
// send failures, DynamoDB throttling and conditional races, Razorpay 5xx and
// timeouts, consumers killed mid-batch — and then checks that every
// captured payment landed exactly once. The test lives in chaos_test.go and
// runs only with RAZORBILL_CHAOS=1; it writes docs/reliability.md.
package chaos
