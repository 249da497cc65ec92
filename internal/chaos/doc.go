// Package chaos holds Razorbill's chaos run (`make chaos`, issues 10 and
// 13): a bounded, loopback-only test that drives thousands of invoices
// through the money lifecycle — payment links and synced Razorpay invoices
// paid at their short_url (in full and in parts), failed tries, new links
// racing the old one, voids and cancels racing the customer, refunds with
// Razorpay faults and client retries settled by lookups — through the real
// handlers, DynamoDB Local and the SQS emulator while injecting faults
// (duplicates, shuffled order, SQS send failures, DynamoDB throttling and
// conditional races, Razorpay 5xx, 409 and timeouts, consumers killed
// mid-batch), with two more tenants whose webhook Razorpay disabled (for
// the whole run, and halfway through their payments; issue 16) whose money
// the gateway-sweeper pulls before their events are replayed. It then checks, from the simulator's objects and the store,
// that every capture landed exactly once (or was parked with a reason), no
// refund was sent twice, no invoice was paid through two instruments and
// no refund reservation was left, and that the sweeper applied every
// capture no webhook announced. The test lives in chaos_test.go; with
// RAZORBILL_CHAOS=1 it runs at full scale and writes docs/reliability.md,
// without it (make test) it runs 24 invoices with a fixed seed.
package chaos
