// Command cdk is Razorbill's AWS CDK app: it synthesizes one CloudFormation
// stack (default name "Razorbill") with the table, the queues and their
// dead-letter queues and alarms, the functions, the HTTP API, the webhook
// function URL, the KMS key for connection secrets and the project data key
// the table, its stream and the log groups are encrypted with.
//
// The table, the queues, the stream filters and the function list come from
// internal/schema — the same definitions the local stack provisions — so the
// deployed topology and `make run` cannot drift.
//
// One stack, built by constructor helpers (table, queues, key, functions,
// HTTP API, webhook URL) rather than one stack per concern: the resources
// share one lifecycle, `cdk deploy` and `sam local invoke` take one template,
// and cross-stack exports would pin the queues and the table (an exported
// value cannot change while another stack imports it) for no gain.
//
// The stack uses CDK's default synthesizer: `cdk deploy` publishes the
// function assets to the bootstrap bucket and deploys with the bootstrap
// roles, and the template's BootstrapVersion parameter and
// CheckBootstrapVersion rule refuse an account/region whose bootstrap stack
// is too old for them (`cdk bootstrap` once per account/region).
//
// The app does no lookups and is environment-agnostic, so `go run .`
// synthesizes offline, with no AWS credentials.
package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/schema"
)

// Config is what varies between deployments. Everything else is fixed by
// internal/schema and functionSpecs.
type Config struct {
	// AssetRoot holds <function>/bootstrap for every function (what
	// `make build` writes to build/).
	AssetRoot string
	// AdminTokenParam names the SSM SecureString parameter holding the
	// bootstrap admin token. CloudFormation cannot create SecureString
	// parameters, and the token must never be in the template, so the
	// operator creates it (see the README); only `api` may read it.
	AdminTokenParam string
	// RazorpayBaseURL is Razorpay's API (the functions' RAZORPAY_BASE_URL).
	RazorpayBaseURL string
	// RazorpayConcurrency caps each Razorpay-calling queue consumer: the SQS
	// mapping's maximum concurrency and, with ReserveConcurrency, the
	// function's reserved concurrency.
	RazorpayConcurrency int
	// ReserveConcurrency reserves RazorpayConcurrency for those consumers.
	// Turn it off in accounts whose concurrency quota is still the new-account
	// 10 (Lambda refuses reservations that leave fewer than 10 unreserved).
	ReserveConcurrency bool
	// AlarmEmail, if set, subscribes an address to the alarm topic.
	AlarmEmail string
	// Throttling of the HTTP API's default stage (requests/s and burst),
	// for the whole API across tenants.
	ThrottleRate  float64
	ThrottleBurst float64
	// SweepInterval is how often the gateway-sweeper runs (EventBridge
	// rate; whole minutes, at least one).
	SweepInterval time.Duration
	// PeriodCloseInterval is how often the period-close runs (EventBridge
	// rate; whole minutes, at least one).
	PeriodCloseInterval time.Duration
	// UsageLateness and UsageRetention, when set, are the functions'
	// RAZORBILL_USAGE_LATENESS (how old an event's timestamp may be) and
	// RAZORBILL_USAGE_RETENTION (how long raw events stay listable); unset,
	// the functions use internal/config's defaults, 35 and 400 days.
	UsageLateness  time.Duration
	UsageRetention time.Duration
}

// DefaultConfig is the configuration `make synth` uses unless context says
// otherwise.
func DefaultConfig() Config {
	return Config{
		AdminTokenParam:     "/razorbill/admin-token",
		RazorpayBaseURL:     "https://api.razorpay.com",
		RazorpayConcurrency: 5,
		ReserveConcurrency:  true,
		ThrottleRate:        100,
		ThrottleBurst:       200,
		SweepInterval:       5 * time.Minute,
		PeriodCloseInterval: 15 * time.Minute,
	}
}

// Environment variables (besides the schema's table and queue variables).
const (
	envKMSKey          = "RAZORBILL_KMS_KEY_ID"
	envAdminTokenParam = "RAZORBILL_ADMIN_TOKEN_PARAM"
	envRazorpayBaseURL = "RAZORPAY_BASE_URL"
	envWebhookBaseURL  = "RAZORBILL_WEBHOOK_BASE_URL"
	envUsageLateness   = "RAZORBILL_USAGE_LATENESS"
	envUsageRetention  = "RAZORBILL_USAGE_RETENTION"
)

// internal/config's usage defaults and bounds, for Config.validate.
const (
	defaultUsageLateness  = 35 * 24 * time.Hour
	defaultUsageRetention = 400 * 24 * time.Hour
)

// HTTP API 5xx alarm: the rate (percent) and the fewest requests in the
// period for the rate to count.
const (
	api5xxRatePercent = 5
	api5xxMinRequests = 20
)

// Stream relay mapping settings (finite retries; the on-failure queue keeps
// what could not be relayed).
const (
	streamBatchSize     = 100
	streamRetryAttempts = 10
	streamMaxRecordAge  = 6 * time.Hour
	// streamIteratorAgeAlarm: how far behind the stream the relay may fall.
	streamIteratorAgeAlarm = 10 * time.Minute
)

// queuePair is a schema queue with its dead-letter queue.
type queuePair struct {
	Spec schema.Queue
	Main awssqs.Queue
	DLQ  awssqs.Queue
}

// razorbill holds the constructs the helpers wire together.
type razorbill struct {
	stack       awscdk.Stack
	cfg         Config
	alarmAction awscloudwatch.IAlarmAction
	table       awsdynamodb.Table
	queues      map[string]*queuePair // by schema LogicalName
	// streamFailures: each stream consumer's on-failure queue, by function.
	streamFailures map[string]awssqs.Queue
	key            awskms.Key
	dataKey        awskms.Key // the table (and its stream) and the log groups
	functions      map[string]awslambda.Function
	api            awsapigatewayv2.HttpApi
	stage          awsapigatewayv2.HttpStage
	webhookURL     awslambda.FunctionUrl
}

// NewRazorbillStack builds the whole stack.
func NewRazorbillStack(scope constructs.Construct, id string, cfg Config, props *awscdk.StackProps) awscdk.Stack {
	if err := cfg.validate(); err != nil {
		panic(err)
	}
	if props == nil {
		props = &awscdk.StackProps{}
	}
	if props.Description == nil {
		props.Description = jsii.String("Razorbill: usage-billing ledger synced to Razorpay (API, webhooks, queues, table)")
	}
	r := &razorbill{stack: awscdk.NewStack(scope, jsii.String(id), props), cfg: cfg}
	awscdk.Tags_Of(r.stack).Add(jsii.String("app"), jsii.String("razorbill"), nil)
	r.newAlarmTopic()
	r.newTable()
	r.newQueues()
	r.newKey()
	r.newFunctions()
	r.newSweepSchedule()
	r.newPeriodCloseSchedule()
	r.newWebhookURL()
	r.newHTTPAPI()
	r.newOutputs()
	return r.stack
}

func (c Config) validate() error {
	if c.AssetRoot == "" {
		return fmt.Errorf("config: AssetRoot is empty")
	}
	if !strings.HasPrefix(c.AdminTokenParam, "/") || strings.ContainsAny(c.AdminTokenParam, " *") {
		return fmt.Errorf("config: admin token parameter %q must be an SSM parameter name like /razorbill/admin-token", c.AdminTokenParam)
	}
	if c.RazorpayConcurrency < 2 {
		return fmt.Errorf("config: Razorpay concurrency %d: an SQS mapping's maximum concurrency is at least 2", c.RazorpayConcurrency)
	}
	if c.SweepInterval < time.Minute || c.SweepInterval%time.Minute != 0 {
		return fmt.Errorf("config: sweep interval %s: want whole minutes, at least 1m (an EventBridge rate)", c.SweepInterval)
	}
	if c.PeriodCloseInterval < time.Minute || c.PeriodCloseInterval%time.Minute != 0 {
		return fmt.Errorf("config: period-close interval %s: want whole minutes, at least 1m (an EventBridge rate)", c.PeriodCloseInterval)
	}
	// The bounds internal/config enforces when the function starts.
	lateness, retention := defaultUsageLateness, defaultUsageRetention
	if c.UsageLateness != 0 {
		lateness = c.UsageLateness
		if lateness < time.Hour || lateness > 400*24*time.Hour {
			return fmt.Errorf("config: usage lateness %s: want 1h to 9600h", lateness)
		}
	}
	if c.UsageRetention != 0 {
		retention = c.UsageRetention
		if retention < 24*time.Hour {
			return fmt.Errorf("config: usage retention %s: want at least 24h", retention)
		}
	}
	if retention <= lateness {
		return fmt.Errorf("config: usage retention %s must be longer than the lateness %s: an event is kept at least as long as it may arrive late", retention, lateness)
	}
	for _, q := range schema.Queues {
		if q.MaxReceiveCount < 5 {
			return fmt.Errorf("schema: queue %s: maxReceiveCount %d < 5", q.Name(), q.MaxReceiveCount)
		}
		if q.VisibilityTimeoutSeconds < 6*q.ConsumerTimeoutSeconds {
			return fmt.Errorf("schema: queue %s: visibility timeout %ds < 6 × consumer timeout %ds", q.Name(), q.VisibilityTimeoutSeconds, q.ConsumerTimeoutSeconds)
		}
	}
	names := map[string]bool{}
	readers := 0
	for _, s := range functionSpecs {
		names[s.Name] = true
		if s.Consumes != nil && s.Timeout != consumerTimeout(*s.Consumes) {
			return fmt.Errorf("function %s: timeout %s ≠ queue %s consumer timeout %ds", s.Name, s.Timeout, s.Consumes.Name(), s.Consumes.ConsumerTimeoutSeconds)
		}
		if t := s.Stream; t != nil {
			readers++
			switch {
			case len(t.Patterns) == 0:
				return fmt.Errorf("function %s: a stream trigger without filter patterns", s.Name)
			case t.BatchSize < 1 || t.BatchSize > 10000:
				return fmt.Errorf("function %s: stream batch size %d: want 1 to 10000", s.Name, t.BatchSize)
			case t.Parallelization < 1 || t.Parallelization > 10:
				return fmt.Errorf("function %s: stream parallelization %d: want 1 to 10", s.Name, t.Parallelization)
			case t.RetryAttempts < -1 || t.RetryAttempts > 10000:
				return fmt.Errorf("function %s: stream retry attempts %d: want -1 (until the record's age limit) to 10000", s.Name, t.RetryAttempts)
			case t.MaxRecordAge < time.Minute || t.MaxRecordAge > 24*time.Hour:
				return fmt.Errorf("function %s: stream record age limit %s: want 1m to the stream's 24h", s.Name, t.MaxRecordAge)
			case t.MaxBatchingWindow < 0 || t.MaxBatchingWindow > 5*time.Minute:
				return fmt.Errorf("function %s: stream batching window %s: want 0 to 5m", s.Name, t.MaxBatchingWindow)
			case t.IteratorAgeAlarm <= 0 || t.FailureAlarm == "":
				return fmt.Errorf("function %s: a stream trigger needs an iterator age alarm and a failure alarm text", s.Name)
			}
		}
	}
	// Each mapping on the stream reads every shard; DynamoDB streams serve
	// at most two concurrent readers per shard before throttling them.
	if readers > maxStreamConsumers {
		return fmt.Errorf("%d functions read the table's stream; DynamoDB streams allow %d readers per shard", readers, maxStreamConsumers)
	}
	for _, n := range schema.Functions {
		if !names[n] {
			return fmt.Errorf("function %s is in schema.Functions but has no entry in functionSpecs", n)
		}
	}
	if len(names) != len(schema.Functions) {
		return fmt.Errorf("functionSpecs has %d functions, schema.Functions %d", len(names), len(schema.Functions))
	}
	return nil
}

// camel turns "payment-link-creator" into "PaymentLinkCreator".
func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// FunctionLogicalID is the CloudFormation logical id of a function: stable
// and readable, for `sam local invoke <id>`.
func FunctionLogicalID(name string) string { return camel(name) + "Function" }

func (r *razorbill) newAlarmTopic() {
	topic := awssns.NewTopic(r.stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("Razorbill alarms"),
	})
	if r.cfg.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(r.cfg.AlarmEmail), nil))
	}
	r.alarmAction = awscloudwatchactions.NewSnsAction(topic)
	awscdk.NewCfnOutput(r.stack, jsii.String("AlarmTopicArn"), &awscdk.CfnOutputProps{
		Value:       topic.TopicArn(),
		Description: jsii.String("SNS topic every alarm notifies (subscribe on-call to it)"),
	})
}

func (r *razorbill) alarm(id string, metric awscloudwatch.IMetric, threshold float64, description string) {
	a := awscloudwatch.NewAlarm(r.stack, jsii.String(id), &awscloudwatch.AlarmProps{
		Metric:             metric,
		Threshold:          jsii.Number(threshold),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		AlarmDescription:   jsii.String(description),
	})
	a.AddAlarmAction(r.alarmAction)
	a.AddOkAction(r.alarmAction)
}

// newTable creates every table of schema.Tables. Functions use schema.Main.
func (r *razorbill) newTable() {
	r.newDataKey()
	for _, t := range schema.Tables {
		props := &awsdynamodb.TableProps{
			// The stream and the backups are encrypted with the table's key.
			Encryption:    awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
			EncryptionKey: r.dataKey,
			PartitionKey:  &awsdynamodb.Attribute{Name: jsii.String(t.PartitionKey), Type: awsdynamodb.AttributeType_STRING},
			SortKey:       &awsdynamodb.Attribute{Name: jsii.String(t.SortKey), Type: awsdynamodb.AttributeType_STRING},
			BillingMode:   awsdynamodb.BillingMode_PAY_PER_REQUEST,
			PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
				PointInTimeRecoveryEnabled: jsii.Bool(true),
			},
			DeletionProtection: jsii.Bool(true),
			RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
		}
		if t.TTLAttribute != "" {
			props.TimeToLiveAttribute = jsii.String(t.TTLAttribute)
		}
		if t.StreamNewAndOldImages {
			props.Stream = awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES
		}
		table := awsdynamodb.NewTable(r.stack, jsii.String(camel(t.LogicalName)+"Table"), props)
		for _, idx := range t.Indexes {
			table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
				IndexName:      jsii.String(idx.Name),
				PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(idx.PartitionKey), Type: awsdynamodb.AttributeType_STRING},
				SortKey:        &awsdynamodb.Attribute{Name: jsii.String(idx.SortKey), Type: awsdynamodb.AttributeType_STRING},
				ProjectionType: awsdynamodb.ProjectionType(schema.IndexProjection),
			})
		}
		if t.LogicalName == schema.Main.LogicalName {
			r.table = table
		}
	}
	if r.table == nil {
		panic("schema.Tables does not contain schema.Main")
	}
}

// newQueues creates every queue of schema.Queues with its DLQ (FIFO for a
// FIFO queue), SQS-managed encryption, TLS-only access, and alarms: any
// message in a DLQ, and a main queue whose oldest message is older than a
// message that is failing its way to the DLQ could be
// (maxReceiveCount × visibility timeout, plus five minutes).
func (r *razorbill) newQueues() {
	r.queues = map[string]*queuePair{}
	for _, q := range schema.Queues {
		id := camel(q.LogicalName)
		var fifo *bool
		if q.FIFO {
			fifo = jsii.Bool(true)
		}
		dlq := awssqs.NewQueue(r.stack, jsii.String(id+"DLQ"), &awssqs.QueueProps{
			Fifo:            fifo,
			Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:      jsii.Bool(true),
			RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		})
		props := &awssqs.QueueProps{
			Fifo:              fifo,
			Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:        jsii.Bool(true),
			VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(float64(q.VisibilityTimeoutSeconds))),
			RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
			DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(float64(q.MaxReceiveCount))},
		}
		if q.FIFO {
			// Razorbill always sets an explicit deduplication id.
			props.ContentBasedDeduplication = jsii.Bool(false)
		}
		main := awssqs.NewQueue(r.stack, jsii.String(id+"Queue"), props)
		r.queues[q.LogicalName] = &queuePair{Spec: q, Main: main, DLQ: dlq}

		r.alarm(id+"DLQDepthAlarm", dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(1)), Statistic: jsii.String("Maximum"),
		}), 0, fmt.Sprintf("%s has messages: they failed %d times; inspect them and redrive to %s", q.DLQName(), q.MaxReceiveCount, q.Name()))
		maxAge := q.MaxReceiveCount*q.VisibilityTimeoutSeconds + 300
		r.alarm(id+"AgeAlarm", main.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(1)), Statistic: jsii.String("Maximum"),
		}), float64(maxAge), fmt.Sprintf("%s: oldest message older than %ds; its consumer is failing or falling behind", q.Name(), maxAge))
	}

	// Each stream consumer's on-failure destination: the records (their
	// shard and sequence numbers) it gave up on after every retry.
	r.streamFailures = map[string]awssqs.Queue{}
	for _, s := range functionSpecs {
		if s.Stream == nil {
			continue
		}
		id := camel(s.Name) + "Failures"
		q := awssqs.NewQueue(r.stack, jsii.String(id+"Queue"), &awssqs.QueueProps{
			Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:      jsii.Bool(true),
			RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		})
		r.streamFailures[s.Name] = q
		r.alarm(id+"DepthAlarm", q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(1)), Statistic: jsii.String("Maximum"),
		}), 0, s.Stream.FailureAlarm)
	}
}

// newKey creates the key-encryption key for connection secrets (AES-GCM
// envelope: each secret's data key is wrapped with kms:Encrypt). The default
// key policy delegates to IAM, so only the grants below can use it.
func (r *razorbill) newKey() {
	r.key = awskms.NewKey(r.stack, jsii.String("ConnectionSecretsKey"), &awskms.KeyProps{
		Description:       jsii.String("Razorbill: wraps the data keys of Razorpay key secrets and webhook secrets"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
		Alias:             jsii.String("alias/" + *r.stack.StackName() + "/connection-secrets"),
	})
	// Whoever holds kms:Encrypt/Decrypt through IAM (the root statement
	// delegates to IAM), the key works only for a connection secret's
	// record: an encryption context of exactly one key, "record", naming a
	// tenant, an environment and a sealed field (internal/secrets KMSKEK).
	crypto := jsii.Strings("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")
	deny := func(sid string, cond map[string]any) {
		r.key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String(sid), Effect: awsiam.Effect_DENY,
			Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
			Actions:    crypto, Resources: jsii.Strings("*"),
			Conditions: &cond,
		}), nil)
	}
	deny("DenyUseWithoutARecordContext", map[string]any{"Null": map[string]any{contextRecord: "true"}})
	deny("DenyUseForAnythingButAConnectionSecret", map[string]any{"StringNotLike": map[string]any{contextRecord: recordPatterns(fieldKeySecret, fieldWebhookSecret)}})
	deny("DenyOtherContextKeys", map[string]any{"ForAnyValue:StringNotEquals": map[string]any{"kms:EncryptionContextKeys": "record"}})
}

// contextRecord is the condition key of the connection secrets' encryption
// context (internal/secrets: {"record": "<tenant>/<environment>/<field>"}).
const contextRecord = "kms:EncryptionContext:record"

// recordPatterns are the record contexts of the given sealed fields.
func recordPatterns(fields ...string) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = ids.Tenant + "*/" + ids.Environment + "*/" + f
	}
	return out
}

// newDataKey creates the project key the table (with its stream and
// backups) and every log group are encrypted with. CloudWatch Logs may use
// it only for this account's log groups in this region; functions use it
// only through DynamoDB (grantTable) or the stream mapping.
func (r *razorbill) newDataKey() {
	r.dataKey = awskms.NewKey(r.stack, jsii.String("DataKey"), &awskms.KeyProps{
		Description:       jsii.String("Razorbill: encrypts the table, its stream and backups, and the log groups"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
		Alias:             jsii.String("alias/" + *r.stack.StackName() + "/data"),
	})
	r.dataKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchLogsForThisAccountsLogGroups"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logs."+*awscdk.Aws_REGION()+".amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{"kms:EncryptionContext:aws:logs:arn": r.stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("logs"), Resource: jsii.String("log-group"), ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})}},
	}), nil)
}

// grantTable allows fn exactly the DynamoDB actions of access on the table
// (Query also on its indexes), and the data key's use through DynamoDB.
func (r *razorbill) grantTable(fn awslambda.Function, access tableAccess) {
	if access == noTable {
		return
	}
	if items := (access &^ tableQuery).actions(); len(items) > 0 {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(items...),
			Resources: &[]*string{r.table.TableArn()},
		}))
	}
	if access&tableQuery != 0 {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("dynamodb:Query"),
			Resources: &[]*string{r.table.TableArn(), jsii.String(*r.table.TableArn() + "/index/*")},
		}))
	}
	keyActions := []string{"kms:Decrypt", "kms:DescribeKey"}
	if access.writes() {
		keyActions = append(keyActions, "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")
	}
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings(keyActions...),
		Resources:  jsii.Strings(*r.dataKey.KeyArn()),
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": "dynamodb." + *awscdk.Aws_REGION() + ".amazonaws.com"}},
	}))
}

// grantSecrets allows fn the connection key for the records it seals or
// opens, and nothing else: each action is conditioned on the record
// encryption context.
func (r *razorbill) grantSecrets(fn awslambda.Function, s fnSpec) {
	grant := func(action string, fields []string) {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(action),
			Resources: jsii.Strings(*r.key.KeyArn()),
			Conditions: &map[string]any{
				"StringLike":                map[string]any{contextRecord: recordPatterns(fields...)},
				"ForAllValues:StringEquals": map[string]any{"kms:EncryptionContextKeys": []string{"record"}},
			},
		}))
	}
	switch s.Key {
	case decryptKey:
		grant("kms:Decrypt", s.opens())
	case encryptKey:
		// The envelope generates data keys locally and wraps them with
		// Encrypt; no GenerateDataKey is needed.
		grant("kms:Encrypt", []string{fieldKeySecret, fieldWebhookSecret})
		grant("kms:Decrypt", s.opens())
	}
}

func (r *razorbill) newFunctions() {
	r.functions = map[string]awslambda.Function{}
	for _, s := range functionSpecs {
		r.functions[s.Name] = r.newFunction(s)
	}
}

func (r *razorbill) newFunction(s fnSpec) awslambda.Function {
	id := camel(s.Name)
	env := map[string]*string{}
	if s.Table != noTable {
		env[schema.Main.EnvVar] = r.table.TableName()
	}
	for _, q := range s.Sends {
		env[q.EnvVar] = r.queues[q.LogicalName].Main.QueueUrl()
	}
	if s.Key != noKey {
		env[envKMSKey] = r.key.KeyArn()
	}
	if s.Razorpay {
		env[envRazorpayBaseURL] = jsii.String(r.cfg.RazorpayBaseURL)
	}
	if s.Admin {
		env[envAdminTokenParam] = jsii.String(r.cfg.AdminTokenParam)
	}
	if s.Usage && r.cfg.UsageLateness != 0 {
		env[envUsageLateness] = jsii.String(r.cfg.UsageLateness.String())
	}
	if s.Usage && r.cfg.UsageRetention != 0 {
		env[envUsageRetention] = jsii.String(r.cfg.UsageRetention.String())
	}

	logs := awslogs.NewLogGroup(r.stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		EncryptionKey: r.dataKey,
	})
	props := &awslambda.FunctionProps{
		Description:           jsii.String(s.Description),
		Runtime:               awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:          awslambda.Architecture_ARM_64(),
		Handler:               jsii.String("bootstrap"),
		Code:                  awslambda.Code_FromAsset(jsii.String(filepath.Join(r.cfg.AssetRoot, s.Name)), nil),
		MemorySize:            jsii.Number(float64(s.MemoryMB)),
		Timeout:               awscdk.Duration_Seconds(jsii.Number(s.Timeout.Seconds())),
		Environment:           &env,
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2: awslambda.ApplicationLogLevel_INFO,
		LogGroup:              logs,
	}
	if s.RazorpayLimited && r.cfg.ReserveConcurrency {
		props.ReservedConcurrentExecutions = jsii.Number(float64(r.cfg.RazorpayConcurrency))
	}
	if s.ReservedConcurrency > 0 && r.cfg.ReserveConcurrency {
		props.ReservedConcurrentExecutions = jsii.Number(float64(s.ReservedConcurrency))
	}
	fn := awslambda.NewFunction(r.stack, jsii.String(id), props)
	fn.Node().DefaultChild().(awslambda.CfnFunction).OverrideLogicalId(jsii.String(FunctionLogicalID(s.Name)))

	r.grantTable(fn, s.Table)
	r.grantSecrets(fn, s)
	// SendMessage only: the queue URLs come from the environment.
	for _, q := range s.Sends {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("sqs:SendMessage"),
			Resources: jsii.Strings(*r.queues[q.LogicalName].Main.QueueArn()),
		}))
	}
	// Any error (a crash, a timeout, an unhandled failure) or throttle of
	// any function pages: per-message failures are reported as batch item
	// failures and show in the queue alarms instead.
	r.alarm(id+"ErrorsAlarm", fn.MetricErrors(&awscloudwatch.MetricOptions{
		Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum"),
	}), 0, fmt.Sprintf("%s: invocations failed (crash, timeout or unhandled error); see its log group", s.Name))
	r.alarm(id+"ThrottlesAlarm", fn.MetricThrottles(&awscloudwatch.MetricOptions{
		Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum"),
	}), 0, fmt.Sprintf("%s: invocations throttled (reserved concurrency or the account's limit reached)", s.Name))
	if s.Admin {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("ssm:GetParameter"),
			Resources: jsii.Strings(*r.stack.FormatArn(&awscdk.ArnComponents{
				Service:      jsii.String("ssm"),
				Resource:     jsii.String("parameter"),
				ResourceName: jsii.String(strings.TrimPrefix(r.cfg.AdminTokenParam, "/")),
				ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
			})),
		}))
	}
	if s.Consumes != nil {
		sp := &awslambdaeventsources.SqsEventSourceProps{
			BatchSize:               jsii.Number(float64(s.BatchSize)),
			ReportBatchItemFailures: jsii.Bool(true),
		}
		if s.RazorpayLimited {
			// The poller never invokes more copies than this, so the
			// reservation is never exceeded and throttling never bumps a
			// message's receive count toward the DLQ.
			sp.MaxConcurrency = jsii.Number(float64(r.cfg.RazorpayConcurrency))
		}
		fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(r.queues[s.Consumes.LogicalName].Main, sp))
	}
	if t := s.Stream; t != nil {
		filters := make([]*map[string]interface{}, 0, len(t.Patterns))
		for _, p := range t.Patterns {
			filters = append(filters, &map[string]interface{}{"pattern": p})
		}
		sp := &awslambdaeventsources.DynamoEventSourceProps{
			StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
			BatchSize:               jsii.Number(float64(t.BatchSize)),
			ParallelizationFactor:   jsii.Number(float64(t.Parallelization)),
			BisectBatchOnError:      jsii.Bool(true),
			RetryAttempts:           jsii.Number(float64(t.RetryAttempts)),
			MaxRecordAge:            awscdk.Duration_Seconds(jsii.Number(t.MaxRecordAge.Seconds())),
			ReportBatchItemFailures: jsii.Bool(true),
			Filters:                 &filters,
			OnFailure:               awslambdaeventsources.NewSqsDlq(r.streamFailures[s.Name]),
		}
		if t.MaxBatchingWindow > 0 {
			sp.MaxBatchingWindow = awscdk.Duration_Seconds(jsii.Number(t.MaxBatchingWindow.Seconds()))
		}
		fn.AddEventSource(awslambdaeventsources.NewDynamoEventSource(r.table, sp))
		// A consumer that falls behind delays its work (syncs, usage); one
		// that is stuck gives records up at their age limit.
		r.alarm(id+"IteratorAgeAlarm", awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String("AWS/Lambda"),
			MetricName:    jsii.String("IteratorAge"),
			DimensionsMap: &map[string]*string{"FunctionName": fn.FunctionName()},
			Statistic:     jsii.String("Maximum"),
			Period:        awscdk.Duration_Minutes(jsii.Number(1)),
		}), float64(t.IteratorAgeAlarm.Milliseconds()), fmt.Sprintf("%s is more than %s behind the table stream", s.Name, t.IteratorAgeAlarm))
	}
	return fn
}

// newWebhookURL gives the webhook receiver a public function URL: Razorpay
// cannot sign AWS requests, and the HMAC signature over the body (checked
// with the tenant's webhook secret) is the authentication.
func (r *razorbill) newWebhookURL() {
	fn := r.functions[webhookFunction]
	// With AuthType NONE, CDK adds both permissions a public function URL
	// needs since October 2025: lambda:InvokeFunctionUrl, and
	// lambda:InvokeFunction limited to calls made through the URL.
	r.webhookURL = fn.AddFunctionUrl(&awslambda.FunctionUrlOptions{
		AuthType:   awslambda.FunctionUrlAuthType_NONE,
		InvokeMode: awslambda.InvokeMode_BUFFERED,
	})
	for _, s := range functionSpecs {
		if s.Webhooks {
			r.functions[s.Name].AddEnvironment(jsii.String(envWebhookBaseURL), r.webhookURL.Url(), nil)
		}
	}
}

// accessLogFormat is the HTTP API access log line (JSON; no headers, so no
// API key or token is ever logged).
const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","method":"$context.httpMethod","routeKey":"$context.routeKey","path":"$context.path","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength","latency":"$context.responseLatency","integrationLatency":"$context.integrationLatency","integrationStatus":"$context.integrationStatus","integrationError":"$context.integrationErrorMessage"}`

// newHTTPAPI maps every route of httpRoutes to its function on an HTTP API
// with a throttled, access-logged $default stage.
func (r *razorbill) newHTTPAPI() {
	integrations := map[string]awsapigatewayv2.HttpRouteIntegration{}
	integration := func(name string) awsapigatewayv2.HttpRouteIntegration {
		if i, ok := integrations[name]; ok {
			return i
		}
		fn, ok := r.functions[name]
		if !ok {
			panic(fmt.Sprintf("route to unknown function %q", name))
		}
		i := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(camel(name)+"Integration"), fn, nil)
		integrations[name] = i
		return i
	}
	r.api = awsapigatewayv2.NewHttpApi(r.stack, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String(*r.stack.StackName() + "-api"),
		Description:        jsii.String("Razorbill ledger API (/api/v1)"),
		CreateDefaultStage: jsii.Bool(false),
		DefaultIntegration: integration(defaultRouteFunction),
	})
	for _, rt := range httpRoutes {
		r.api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(rt.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(rt.Method)},
			Integration: integration(rt.Function),
		})
	}
	r.stage = awsapigatewayv2.NewHttpStage(r.stack, jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    r.api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(r.cfg.ThrottleRate),
			BurstLimit: jsii.Number(r.cfg.ThrottleBurst),
		},
	})
	logs := awslogs.NewLogGroup(r.stack, jsii.String("HttpApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		EncryptionKey: r.dataKey,
	})
	// 5xx rate over five minutes, once there are enough requests for a
	// rate to mean something.
	period := awscdk.Duration_Minutes(jsii.Number(5))
	r.alarm("HttpApi5xxRateAlarm", awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf("IF(requests >= %d, 100 * errors / requests, 0)", api5xxMinRequests)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"errors":   r.api.MetricServerError(&awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Sum")}),
			"requests": r.api.MetricCount(&awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Sum")}),
		},
		Label:  jsii.String("HTTP API 5xx %"),
		Period: period,
	}), api5xxRatePercent, fmt.Sprintf("HTTP API: more than %d%% of requests answered 5xx over 5 minutes", api5xxRatePercent))
	// The access log is set on the L1 stage: its destination is the
	// encrypted log group above and its format accessLogFormat.
	r.stage.Node().DefaultChild().(awsapigatewayv2.CfnStage).SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: logs.LogGroupArn(),
		Format:         jsii.String(accessLogFormat),
	})
}

func (r *razorbill) newOutputs() {
	out := func(id string, value *string, description string) {
		awscdk.NewCfnOutput(r.stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(description)})
	}
	out("ApiUrl", r.stage.Url(), "RAZORBILL_API_URL: the HTTP API's base URL (routes under /api/v1)")
	out("WebhookBaseUrl", r.webhookURL.Url(), "RAZORBILL_WEBHOOK_BASE_URL: Razorpay webhooks go to <this>api/v1/webhooks/razorpay/{tenant_id}/{environment_id}")
	out("AdminTokenParameterName", jsii.String(r.cfg.AdminTokenParam), "SSM SecureString the api reads the admin token from (create it: see README)")
	out("TableName", r.table.TableName(), "DynamoDB table")
	out("ConnectionSecretsKeyArn", r.key.KeyArn(), "KMS key wrapping connection secrets")
	for _, q := range schema.Queues {
		p := r.queues[q.LogicalName]
		out(camel(q.LogicalName)+"QueueUrl", p.Main.QueueUrl(), q.Name()+" ("+q.EnvVar+")")
		out(camel(q.LogicalName)+"DLQUrl", p.DLQ.QueueUrl(), q.DLQName())
	}
	for _, s := range functionSpecs {
		if q, ok := r.streamFailures[s.Name]; ok {
			out(camel(s.Name)+"FailuresQueueUrl", q.QueueUrl(), "table stream records "+s.Name+" gave up on")
		}
	}
}
