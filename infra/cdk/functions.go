package main

import (
	"time"

	"github.com/razorbill/razorbill/internal/schema"
)

// tableAccess is the set of DynamoDB actions a function may use on the
// table: exactly the calls its code makes (internal/dynamo). A transaction
// (TransactWriteItems) needs the action of each of its parts: PutItem for a
// Put, UpdateItem for an Update, DeleteItem for a Delete.
type tableAccess int

const (
	tableGet    tableAccess = 1 << iota // GetItem
	tableQuery                          // Query, on the table and its indexes
	tablePut                            // PutItem
	tableUpdate                         // UpdateItem
	tableDelete                         // DeleteItem
	// BatchGetItem, on the table: a list reads the items its KEYS_ONLY
	// index query found (internal/dynamo), the aggregator its buckets.
	tableBatchGet
)

const (
	noTable    tableAccess = 0
	readTable              = tableGet | tableQuery
	writeTable             = readTable | tablePut | tableUpdate | tableDelete
)

// actions lists the IAM actions of a.
func (a tableAccess) actions() []string {
	var out []string
	for _, x := range []struct {
		bit    tableAccess
		action string
	}{{tableGet, "dynamodb:GetItem"}, {tableQuery, "dynamodb:Query"}, {tablePut, "dynamodb:PutItem"}, {tableUpdate, "dynamodb:UpdateItem"}, {tableDelete, "dynamodb:DeleteItem"}, {tableBatchGet, "dynamodb:BatchGetItem"}} {
		if a&x.bit != 0 {
			out = append(out, x.action)
		}
	}
	return out
}

// writes reports whether a includes a write.
func (a tableAccess) writes() bool { return a&(tablePut|tableUpdate|tableDelete) != 0 }

// keyAccess is what a function may do with the connection-secrets key.
type keyAccess int

const (
	noKey      keyAccess = iota
	decryptKey           // unwrap a connection's data key to call Razorpay or verify a webhook
	encryptKey           // also wrap new data keys (only the api stores connection secrets)
)

// Sealed connection fields: the last part of the "record" encryption context
// ("<tenant>/<environment>/<field>", internal/httpapi's connectionAAD) each
// secret is sealed under.
const (
	fieldKeySecret     = "key_secret"
	fieldWebhookSecret = "webhook_secret"
)

// fnSpec is one Lambda function: everything the stack derives its
// configuration, environment and permissions from. Adding a function is one
// entry in functionSpecs (and its name in schema.Functions).
type fnSpec struct {
	Name        string
	Description string
	MemoryMB    int
	Timeout     time.Duration
	Table       tableAccess
	Key         keyAccess
	// Opens lists the sealed connection fields the function may decrypt
	// (nil: fieldKeySecret, the Razorpay key secret); an encryptKey
	// function may seal every field.
	Opens []string
	// Sends lists the queues the function sends to; it gets
	// sqs:SendMessage on each and its URL under Queue.EnvVar.
	Sends []schema.Queue
	// Consumes is the queue that triggers the function (nil if none). The
	// function's timeout must equal Queue.ConsumerTimeoutSeconds.
	Consumes  *schema.Queue
	BatchSize int
	// Stream makes the table's stream the function's trigger (nil: none).
	Stream *streamTrigger
	// Usage: the function reads the usage settings
	// (RAZORBILL_USAGE_LATENESS, RAZORBILL_USAGE_RETENTION), set from
	// Config when it sets them.
	Usage bool
	// Razorpay: the function calls Razorpay (RAZORPAY_BASE_URL).
	Razorpay bool
	// Admin: the function checks the bootstrap admin token (reads the
	// SSM parameter named by RAZORBILL_ADMIN_TOKEN_PARAM).
	Admin bool
	// Webhooks: the function prints webhook URLs (RAZORBILL_WEBHOOK_BASE_URL).
	Webhooks bool
	// RazorpayLimited caps the function's concurrency (reserved concurrency
	// and the SQS mapping's maximum concurrency) so a backlog cannot burst
	// past Razorpay's per-account rate limits.
	RazorpayLimited bool
	// ReservedConcurrency, when set, reserves (and so caps) the function's
	// concurrency, with Config.ReserveConcurrency.
	ReservedConcurrency int
}

// streamTrigger is a function's event source mapping on the table's
// stream: which records reach it, how they are batched and retried, and
// what pages when it falls behind or gives up. Each stream consumer gets its
// own on-failure queue, <Function>FailuresQueue, with a depth alarm.
//
// A DynamoDB stream serves at most two concurrent readers per shard before
// GetRecords throttles; every mapping is one reader, so the stack allows at
// most maxStreamConsumers of them (Config.validate).
type streamTrigger struct {
	// Patterns are the mapping's filter criteria (Lambda event filtering):
	// only matching records invoke the function.
	Patterns  []string
	BatchSize int
	// MaxBatchingWindow is how long the poller may gather records before
	// it invokes (0: none).
	MaxBatchingWindow time.Duration
	// Parallelization is how many batches of one shard are processed at
	// once (1 to 10; 1 keeps every record of a shard in order).
	Parallelization int
	// RetryAttempts of a failing batch; -1 retries until MaxRecordAge.
	RetryAttempts int
	// MaxRecordAge: records older than this are given up on and sent to
	// the on-failure queue.
	MaxRecordAge time.Duration
	// IteratorAgeAlarm is how far behind the stream the function may fall
	// before it pages.
	IteratorAgeAlarm time.Duration
	// FailureAlarm describes the on-failure queue's depth alarm: what was
	// lost and what to do.
	FailureAlarm string
}

// maxStreamConsumers: DynamoDB streams allow two concurrent readers per
// shard.
const maxStreamConsumers = 2

// opens is s.Opens with its default.
func (s fnSpec) opens() []string {
	if len(s.Opens) == 0 {
		return []string{fieldKeySecret}
	}
	return s.Opens
}

// webhookConcurrency is the webhook receiver's reserved concurrency.
const webhookConcurrency = 20

func queueRef(q schema.Queue) *schema.Queue { return &q }

func consumerTimeout(q schema.Queue) time.Duration {
	return time.Duration(q.ConsumerTimeoutSeconds) * time.Second
}

// relayPatterns are the relay's filter criteria: every schema stream filter.
func relayPatterns() []string {
	var ps []string
	for _, f := range schema.StreamFilters {
		ps = append(ps, f.Pattern)
	}
	return ps
}

// relayTargets are the queues the stream relay feeds: the queue of every
// stream filter, once each.
func relayTargets() []schema.Queue {
	var qs []schema.Queue
	seen := map[string]bool{}
	for _, f := range schema.StreamFilters {
		if !seen[f.Queue.LogicalName] {
			seen[f.Queue.LogicalName] = true
			qs = append(qs, f.Queue)
		}
	}
	return qs
}

// functionSpecs: memory and timeouts, and why.
//
// Go on arm64 needs little memory; Lambda allots CPU in proportion to memory,
// so the api gets 512 MB for CPU (key checks with TLS to Razorpay, JSON,
// the console's pages) and the other functions 256 MB. The
// payment-link-creator spends its time waiting on Razorpay (one or two calls
// per link), which a bigger share of CPU does not shorten: at 512 MB it was
// two thirds of the modelled GB-s of a paid invoice (docs/benchmarks.md §6).
// Timeouts:
//   - api 15 s: DynamoDB calls plus at most one Razorpay call (connection
//     key check, 8 s client timeout), well under API Gateway's 30 s limit.
//   - payment-link-creator 25 s: may sync the customer and then create the
//     link — two Razorpay calls of up to 8 s each — still under 30 s.
//   - webhook-receiver 5 s: Razorpay gives up after 5 s and retries, so
//     running longer helps nobody; the work is one read, one decrypt, one
//     SendMessage.
//   - queue consumers: exactly schema's ConsumerTimeoutSeconds, the value the
//     queue's visibility timeout (≥ 6×) is computed from.
//   - stream-relay 30 s: only SendMessage calls, batch of 100.
//   - usage-ingest 20 s and usage-aggregator 60 s: see their entries.
//
// Concurrency: the queue consumers that call Razorpay (customer-syncer,
// invoice-syncer) are capped (RazorpayLimited), so a backlog of thousands of
// syncs drains at a steady rate instead of bursting into Razorpay's rate
// limits. payment-link-creator also calls Razorpay but is synchronous: a
// reservation would turn bursts into throttling errors for API clients, so it
// is bounded by the HTTP API stage's throttling instead.
//
// The webhook receiver is public (a function URL anyone can call): its
// reserved concurrency (webhookConcurrency) caps what a flood of requests
// can cost and keeps it from starving the other functions of the account's
// concurrency; excess calls get 429s, which Razorpay retries.
//
// Permissions follow what each main loads (internal/config Need*): the
// reconciler decrypts the connection's key (kms:Decrypt) to confirm at
// Razorpay a payment matched only by its notes; only the api wraps new data
// keys (kms:Encrypt). The reconciler is not RazorpayLimited: it calls
// Razorpay only for those payments, and FIFO groups already bound it.
var functionSpecs = []fnSpec{
	{
		Name:        "api",
		Description: "Ledger API: tenants, API keys, the Razorpay connection, customers, invoices, parked gateway events",
		MemoryMB:    512, Timeout: 15 * time.Second,
		Table: writeTable | tableBatchGet, Key: encryptKey,
		Sends:    []schema.Queue{schema.CustomerSync, schema.InvoiceSync}, // POST …/sync
		Razorpay: true, Admin: true, Webhooks: true,
		Usage: true, // meters and GET /api/v1/usage
	},
	{
		Name:        "payment-link-creator",
		Description: "Payments: one Razorpay payment link per invoice, refunds",
		MemoryMB:    256, Timeout: 25 * time.Second,
		// DeleteItem: releasing an Idempotency-Key claim.
		Table: writeTable | tableBatchGet, Key: decryptKey, Razorpay: true,
	},
	{
		Name:        "webhook-receiver",
		Description: "Razorpay webhooks (function URL): verify the signature, queue the event, answer 200",
		MemoryMB:    256, Timeout: 5 * time.Second,
		// Reads only: the connection, and refs/payments to pick the FIFO group.
		Table: tableGet, Key: decryptKey, Opens: []string{fieldWebhookSecret},
		Sends:               []schema.Queue{schema.RazorpayEvents},
		ReservedConcurrency: webhookConcurrency,
	},
	{
		Name:        "payment-reconciler",
		Description: "Applies each Razorpay payment to its invoice exactly once (razorpay-events.fifo)",
		MemoryMB:    256, Timeout: consumerTimeout(schema.RazorpayEvents),
		// No Query and no DeleteItem: it reads by key (one item, or the few a
		// capture needs in one BatchGetItem), writes whole items and
		// transactions of Puts, and stamps the connection (UpdateItem).
		Table: tableGet | tableBatchGet | tablePut | tableUpdate, Key: decryptKey, Razorpay: true,
		Consumes: queueRef(schema.RazorpayEvents), BatchSize: 10,
	},
	{
		Name:        "stream-relay",
		Description: "Relays filtered table stream records to the sync queues",
		MemoryMB:    256, Timeout: 30 * time.Second,
		Sends: relayTargets(),
		Stream: &streamTrigger{
			Patterns:  relayPatterns(),
			BatchSize: streamBatchSize,
			// Per-item order within a shard: a customer's sync is relayed
			// before its invoices'.
			Parallelization: 1,
			// Finite: a relay failure is a queue outage; what it gives up
			// on can be synced again with POST …/sync.
			RetryAttempts:    streamRetryAttempts,
			MaxRecordAge:     streamMaxRecordAge,
			IteratorAgeAlarm: streamIteratorAgeAlarm,
			FailureAlarm:     "stream-relay gave up on table stream records: the syncs they carried were not queued; retry them with POST …/sync",
		},
	},
	{
		Name:        "customer-syncer",
		Description: "Finds or creates the Razorpay customer (customer-sync)",
		MemoryMB:    256, Timeout: consumerTimeout(schema.CustomerSync),
		Table: tableGet | tablePut, Key: decryptKey, Razorpay: true,
		Consumes: queueRef(schema.CustomerSync), BatchSize: 5,
		RazorpayLimited: true,
	},
	{
		Name:        "invoice-syncer",
		Description: "Finds or creates the Razorpay invoice (invoice-sync)",
		MemoryMB:    256, Timeout: consumerTimeout(schema.InvoiceSync),
		// Query: a synced customer's invoices that were waiting for it.
		// UpdateItem: records on the connection that Razorpay refused a
		// non-INR invoice (international payments off).
		Table: tableGet | tableQuery | tableBatchGet | tablePut | tableUpdate, Key: decryptKey, Razorpay: true,
		Consumes: queueRef(schema.InvoiceSync), BatchSize: 5,
		RazorpayLimited: true,
	},
	{
		// The EventBridge schedule (sweeper.go) invokes it to fan out one
		// message per environment onto gateway-sweep.fifo, which it also
		// consumes, one environment per invocation (batch 1), so one slow
		// Razorpay account holds up only its own sweep. Each environment
		// calls its own Razorpay account, so it is not RazorpayLimited.
		Name:        "gateway-sweeper",
		Description: "Pulls open payment links, Razorpay invoices and pending refunds from Razorpay when webhooks do not come",
		MemoryMB:    256, Timeout: consumerTimeout(schema.GatewaySweep),
		// Query: the open-instruments index; Put/Update: the reconciler's
		// money transactions and the connection's missed-webhook count.
		Table: tableGet | tableQuery | tableBatchGet | tablePut | tableUpdate, Key: decryptKey, Razorpay: true,
		Sends:    []schema.Queue{schema.GatewaySweep},
		Consumes: queueRef(schema.GatewaySweep), BatchSize: 1,
	},
	{
		// Behind POST /api/v1/events, POST /api/v1/events/bulk and GET
		// /api/v1/events. A bulk call writes up to 1,000 events, each a
		// conditional PutItem, 16 at a time: about 63 rounds of one write,
		// well under a second, but the SDK's backoff under throttling can
		// stretch it to seconds; 20 s leaves room and stays under API
		// Gateway's 30 s. 512 MB for CPU: decoding and checking a 1 MiB
		// body of exact decimals.
		Name:        "usage-ingest",
		Description: "Usage events: checks each against the environment's meters and stores it once (POST/GET /api/v1/events)",
		MemoryMB:    512, Timeout: 20 * time.Second,
		// GetItem/Query: API key, customers, meters, events; PutItem: each
		// event (conditional on its id), idempotency records; UpdateItem:
		// the API key's last use; DeleteItem: releasing an Idempotency-Key
		// claim. No KMS, no queues, no Razorpay.
		Table: writeTable,
		Usage: true,
	},
	{
		// The EventBridge schedule (periodclose.go) starts it: it makes
		// the invoice of each subscription billing step that is due.
		// Each due subscription costs a few reads (subscription, plan,
		// customer, connection, each usage meter's buckets) and one
		// transaction; 5 minutes covers thousands per run, and a run cut
		// short leaves the rest due for the next.
		Name:        "period-close",
		Description: "Makes one invoice per subscription billing period that is due (EventBridge schedule)",
		MemoryMB:    256, Timeout: 5 * time.Minute,
		// GetItem: subscriptions, plans, customers, connection, meters;
		// Query: the due index and usage buckets; UpdateItem: the invoice
		// number sequence; PutItem: the transaction's marker, invoice,
		// number claim and subscription. No queues, no Razorpay, no
		// connection secrets (kms:Decrypt only for the table's own key).
		Table: tableGet | tableQuery | tablePut | tableUpdate,
		Usage: true,
	},
	{
		// Counts each new usage event once into its meters' hourly
		// buckets. Its failures are storage failures (throttling, a
		// transaction cancelled by a concurrent batch) that pass on retry,
		// and a record given up on is usage never counted, so it retries
		// until the record is about to leave the stream (see
		// usageAggregatorTrigger). 512 MB: batches of 500 events folded in
		// exact decimals.
		Name:        "usage-aggregator",
		Description: "Counts each new usage event once into its meters' hourly buckets (table stream)",
		MemoryMB:    512, Timeout: 60 * time.Second,
		// Query: the environment's meters; BatchGetItem: the buckets,
		// timeline items and chunk markers a batch touches; PutItem: each
		// event's timeline item (its claim, only if absent or from an
		// aborted chunk), an abandoned chunk's marker, and transactions of
		// Puts (buckets, each conditional on the version read, and the
		// chunk's marker, only if absent).
		Table:  tableQuery | tableBatchGet | tablePut,
		Stream: usageAggregatorTrigger,
		Usage:  true,
	},
}

// usageAggregatorTrigger: the usage-aggregator's mapping on the table's
// stream.
var usageAggregatorTrigger = &streamTrigger{
	// Only a new usage event's item (written once per event_id).
	Patterns:  []string{schema.UsageEventsFilter},
	BatchSize: 500,
	// A second of gathering fills batches under load and keeps usage
	// queryable within seconds of acceptance.
	MaxBatchingWindow: time.Second,
	// Two batches of a shard at once. Safe: every bucket write is
	// conditional on the version the batch read (optimistic), so two
	// batches touching one bucket cannot both apply; the loser's
	// transaction is cancelled and retried on a fresh read (a bounded
	// number of times, then the stream delivers it again), and an event
	// already counted (its timeline item exists) is not counted again.
	// Order does not matter: each event is its own stream item.
	Parallelization: 2,
	// Until the record's age limit: -1 is Lambda's "retry until
	// MaximumRecordAge". 23 h is an hour short of the stream's 24 h
	// retention, so Lambda sends a record it gives up on (its shard and
	// sequence numbers) to the on-failure queue before the stream trims
	// it; the usage_event item itself stays in the table (no TTL).
	// ReportBatchItemFailures checkpoints the records before the first one
	// whose environment failed; BisectBatchOnError halves a batch whose
	// invocation fails outright (a timeout, a crash).
	RetryAttempts:    -1,
	MaxRecordAge:     23 * time.Hour,
	IteratorAgeAlarm: 5 * time.Minute,
	FailureAlarm:     "usage-aggregator gave up on usage events after 23 h of retries: they are stored but not counted in usage; see its log group",
}
