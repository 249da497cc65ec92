// Package schema is the one definition of Razorbill's DynamoDB table, its
// indexes, its stream and the stream filters, and of the SQS queues. The
// local stack creates tables and queues from it and the CDK app (infra/cdk)
// synthesizes them from it, so the two cannot drift. It imports nothing.
package schema

// Attribute names shared by every item.
const (
	AttrPK     = "PK"
	AttrSK     = "SK"
	AttrGSI1PK = "GSI1PK"
	AttrGSI2PK = "GSI2PK"
	// GSI1 and GSI2 sort on the entity's own id attribute, not on a copy
	// of it (a copy made every indexed item 72 bytes bigger).
	AttrGSI1SK = "id"
	AttrGSI2SK = "id"
	AttrGSI3PK = "GSI3PK"
	AttrGSI3SK = "GSI3SK"
	AttrTTL    = "ttl"    // epoch seconds; DynamoDB's TTL deletes expired idempotency and dedupe records
	AttrEntity = "entity" // customer, invoice, payment, … (the stream filters key on it)
)

// Item flags the stream filters require (BOOL true, absent otherwise): the
// dynamodbav names of billing.Customer.SyncOnCreate and
// billing.Invoice.SyncOnFinalize.
const (
	AttrSyncOnCreate   = "sync_on_create"
	AttrSyncOnFinalize = "sync_on_finalize"
)

// IndexProjection is every index's projection: only the keys (the index's
// and the table's PK/SK). An update that changes no index key writes
// nothing to the index, so a record's updates are billed once, not once
// more per index; lists read the items from the table by key.
const IndexProjection = "KEYS_ONLY"

// Index is a global secondary index with string keys, projected IndexProjection.
type Index struct {
	Name         string
	PartitionKey string
	SortKey      string
}

// Table is a DynamoDB table with string PK/SK, on-demand billing.
type Table struct {
	// LogicalName is the stack-independent name; the local stack uses it as
	// the table name, CDK lets CloudFormation name it and passes the name in
	// the functions' environment under EnvVar.
	LogicalName  string
	EnvVar       string
	PartitionKey string
	SortKey      string
	Indexes      []Index
	TTLAttribute string
	// StreamNewAndOldImages turns on a NEW_AND_OLD_IMAGES stream.
	StreamNewAndOldImages bool
}

// Main is Razorbill's single table. Access patterns (every hot-path read is a
// key or index lookup, never a scan) are listed in the README.
var Main = Table{
	LogicalName:  "razorbill",
	EnvVar:       "RAZORBILL_TABLE",
	PartitionKey: AttrPK,
	SortKey:      AttrSK,
	Indexes: []Index{
		// GSI1: every entity of a kind in an environment, newest first
		// (customers, invoices, payments, gateway events).
		{Name: "GSI1", PartitionKey: AttrGSI1PK, SortKey: AttrGSI1SK},
		// GSI2: children of a parent (a customer's invoices, an invoice's
		// payments, gateway events by status), newest first.
		{Name: "GSI2", PartitionKey: AttrGSI2PK, SortKey: AttrGSI2SK},
		// GSI3 (sparse): what the gateway-sweeper visits — an environment's
		// open instruments (payment links, unpaid Razorpay invoices, pending
		// refunds), and the environments with an ACTIVE connection. The
		// attributes exist only while the item is open, so a sweep reads
		// O(open items), never every invoice.
		{Name: "GSI3", PartitionKey: AttrGSI3PK, SortKey: AttrGSI3SK},
	},
	TTLAttribute:          AttrTTL,
	StreamNewAndOldImages: true,
}

// Tables lists every table.
var Tables = []Table{Main}

// Queue is an SQS queue with its dead-letter queue.
type Queue struct {
	LogicalName string // local name; ".fifo" is appended for FIFO queues
	EnvVar      string // the functions read the queue URL from this variable
	FIFO        bool
	// ContentBasedDeduplication on FIFO queues; Razorbill always sets an
	// explicit deduplication id, so this is off.
	MaxReceiveCount int
	// VisibilityTimeoutSeconds is at least 6 × the consumer's timeout.
	VisibilityTimeoutSeconds int
	// ConsumerTimeoutSeconds is the consuming function's timeout.
	ConsumerTimeoutSeconds int
}

// Name is the queue's name (with .fifo for FIFO queues).
func (q Queue) Name() string {
	if q.FIFO {
		return q.LogicalName + ".fifo"
	}
	return q.LogicalName
}

// DLQName is its dead-letter queue's name.
func (q Queue) DLQName() string {
	if q.FIFO {
		return q.LogicalName + "-dlq.fifo"
	}
	return q.LogicalName + "-dlq"
}

// The queues.
var (
	RazorpayEvents = Queue{LogicalName: "razorpay-events", EnvVar: "RAZORBILL_EVENTS_QUEUE_URL", FIFO: true, MaxReceiveCount: 8, VisibilityTimeoutSeconds: 180, ConsumerTimeoutSeconds: 30}
	CustomerSync   = Queue{LogicalName: "customer-sync", EnvVar: "RAZORBILL_CUSTOMER_SYNC_QUEUE_URL", MaxReceiveCount: 6, VisibilityTimeoutSeconds: 180, ConsumerTimeoutSeconds: 30}
	InvoiceSync    = Queue{LogicalName: "invoice-sync", EnvVar: "RAZORBILL_INVOICE_SYNC_QUEUE_URL", MaxReceiveCount: 6, VisibilityTimeoutSeconds: 180, ConsumerTimeoutSeconds: 30}
	// GatewaySweep carries one message per environment to sweep (the
	// gateway-sweeper fans its scheduled run out through it). FIFO with the
	// environment as message group: one environment is never swept twice
	// at once, different environments are swept in parallel.
	GatewaySweep = Queue{LogicalName: "gateway-sweep", EnvVar: "RAZORBILL_SWEEP_QUEUE_URL", FIFO: true, MaxReceiveCount: 5, VisibilityTimeoutSeconds: 540, ConsumerTimeoutSeconds: 90}
)

// Queues lists every queue.
var Queues = []Queue{RazorpayEvents, CustomerSync, InvoiceSync, GatewaySweep}

// StreamFilter is one Lambda event-filtering pattern on the table's stream,
// with the queue that matching records are relayed to.
type StreamFilter struct {
	Name    string
	Pattern string // Lambda event filter pattern (JSON)
	Queue   Queue
}

// StreamFilters are the only stream records that leave the table: a new
// customer whose connection syncs on creation (customer-sync), an invoice's
// DRAFT→FINALIZED transition or a new invoice written FINALIZED when its
// connection has outbound sync on (invoice-sync), and a customer whose Razorpay sync just succeeded
// (invoice-sync, to retry invoices that waited on it).
//
// The API decides the first two when it writes the record, from the
// connection at that moment, and marks the item (AttrSyncOnCreate,
// AttrSyncOnFinalize): a record whose sync would be a no-op (no active
// connection, ON_DEMAND customer sync, outbound invoice sync off, nothing
// due) invokes no relay and sends no message. The syncers still check the
// connection when the message arrives.
var StreamFilters = []StreamFilter{
	{
		Name:    "customer-created",
		Pattern: `{"eventName":["INSERT"],"dynamodb":{"NewImage":{"entity":{"S":["customer"]},"` + AttrSyncOnCreate + `":{"BOOL":[true]}}}}`,
		Queue:   CustomerSync,
	},
	{
		Name:    "invoice-finalized",
		Pattern: `{"eventName":["MODIFY"],"dynamodb":{"OldImage":{"entity":{"S":["invoice"]},"invoice_status":{"S":["DRAFT"]}},"NewImage":{"invoice_status":{"S":["FINALIZED"]},"` + AttrSyncOnFinalize + `":{"BOOL":[true]}}}}`,
		Queue:   InvoiceSync,
	},
	{
		// An invoice written FINALIZED at once (a subscription's period
		// close, internal/periodclose).
		Name:    "invoice-issued",
		Pattern: `{"eventName":["INSERT"],"dynamodb":{"NewImage":{"entity":{"S":["invoice"]},"invoice_status":{"S":["FINALIZED"]},"` + AttrSyncOnFinalize + `":{"BOOL":[true]}}}}`,
		Queue:   InvoiceSync,
	},
	{
		Name:    "customer-synced",
		Pattern: `{"eventName":["MODIFY"],"dynamodb":{"OldImage":{"entity":{"S":["customer"]},"sync_status":{"S":[{"anything-but":["SYNCED"]}]}},"NewImage":{"sync_status":{"S":["SYNCED"]}}}}`,
		Queue:   InvoiceSync,
	},
}

// The gateway-sweeper's CloudWatch metrics (embedded metric format); the
// CDK app alarms on MetricMissedWebhooks above 0 (a SILENT webhook).
const (
	MetricNamespace      = "Razorbill"
	MetricMissedWebhooks = "MissedWebhookEvents"
	MetricSwept          = "OpenInstrumentsSwept"
)

// Functions are the Lambda functions, one job each.
var Functions = []string{"api", "payment-link-creator", "webhook-receiver", "payment-reconciler", "stream-relay", "customer-syncer", "invoice-syncer", "gateway-sweeper", "usage-ingest", "usage-aggregator", "period-close"}

// UsageEventsFilter is the usage-aggregator's filter on the table's stream:
// only a new usage event (its id's guard item, written once) reaches it.
const UsageEventsFilter = `{"eventName":["INSERT"],"dynamodb":{"NewImage":{"entity":{"S":["usage_event"]}}}}`
