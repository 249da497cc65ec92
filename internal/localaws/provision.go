package localaws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/razorbill/razorbill/internal/schema"
)

// DLQRetentionSeconds keeps dead letters for 14 days, SQS's maximum.
const DLQRetentionSeconds = 14 * 24 * 3600

// TableResource is one provisioned table.
type TableResource struct {
	Schema    schema.Table
	Name      string
	ARN       string
	StreamARN string // "" when the table has no stream
}

// QueueResource is one provisioned queue with its dead-letter queue.
type QueueResource struct {
	Schema  schema.Queue
	Name    string
	URL     string
	ARN     string
	DLQName string
	DLQURL  string
	DLQARN  string
}

// DLQEnvVar is the variable holding the dead-letter queue's URL: the queue's
// EnvVar with _URL replaced by _DLQ_URL (RAZORBILL_EVENTS_QUEUE_URL →
// RAZORBILL_EVENTS_QUEUE_DLQ_URL).
func (q QueueResource) DLQEnvVar() string { return DLQEnvVar(q.Schema) }

// DLQEnvVar is the variable holding q's dead-letter queue URL.
func DLQEnvVar(q schema.Queue) string { return strings.TrimSuffix(q.EnvVar, "_URL") + "_DLQ_URL" }

// StreamEnvVar is the variable holding t's stream ARN (RAZORBILL_TABLE_STREAM_ARN).
func StreamEnvVar(t schema.Table) string { return t.EnvVar + "_STREAM_ARN" }

// Resources are the names, ARNs and URLs Provision made, keyed by schema
// logical name.
type Resources struct {
	Prefix string
	Tables map[string]TableResource
	Queues map[string]QueueResource
}

// Table is the provisioned t; it panics if t was not provisioned.
func (r Resources) Table(t schema.Table) TableResource {
	tr, ok := r.Tables[t.LogicalName]
	if !ok {
		panic("localaws: table " + t.LogicalName + " was not provisioned")
	}
	return tr
}

// Queue is the provisioned q; it panics if q was not provisioned.
func (r Resources) Queue(q schema.Queue) QueueResource {
	qr, ok := r.Queues[q.LogicalName]
	if !ok {
		panic("localaws: queue " + q.LogicalName + " was not provisioned")
	}
	return qr
}

// Env is what the functions read: each table's name under its EnvVar (and
// its stream ARN under StreamEnvVar), each queue's URL under its EnvVar and
// its DLQ's URL under DLQEnvVar.
func (r Resources) Env() map[string]string {
	env := map[string]string{}
	for _, t := range r.Tables {
		env[t.Schema.EnvVar] = t.Name
		if t.StreamARN != "" {
			env[StreamEnvVar(t.Schema)] = t.StreamARN
		}
	}
	for _, q := range r.Queues {
		env[q.Schema.EnvVar] = q.URL
		env[q.DLQEnvVar()] = q.DLQURL
	}
	return env
}

var prefixRE = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)

// Provision creates every table of schema.Tables and every queue of
// schema.Queues (with its dead-letter queue) named prefix+name, and returns
// what it made. Tables get their keys, GSIs, TTL and a NEW_AND_OLD_IMAGES
// stream; queues their FIFO flag, visibility timeout and RedrivePolicy. It is
// idempotent: what exists is reused (queue attributes are set again).
func Provision(ctx context.Context, ddb *dynamodb.Client, sqsc *sqs.Client, prefix string) (Resources, error) {
	if !prefixRE.MatchString(prefix) || len(prefix) > 40 {
		return Resources{}, fmt.Errorf("localaws: prefix %q: use at most 40 letters, digits, '-' or '_'", prefix)
	}
	res := Resources{Prefix: prefix, Tables: map[string]TableResource{}, Queues: map[string]QueueResource{}}
	for _, t := range schema.Tables {
		tr, err := ProvisionTable(ctx, ddb, prefix, t)
		if err != nil {
			return res, err
		}
		res.Tables[t.LogicalName] = tr
	}
	for _, q := range schema.Queues {
		qr, err := ProvisionQueue(ctx, sqsc, prefix, q)
		if err != nil {
			return res, err
		}
		res.Queues[q.LogicalName] = qr
	}
	return res, nil
}

// ProvisionTable creates (or finds) the table prefix+t.LogicalName.
func ProvisionTable(ctx context.Context, ddb *dynamodb.Client, prefix string, t schema.Table) (TableResource, error) {
	name := prefix + t.LogicalName
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema:   keySchema(t.PartitionKey, t.SortKey),
	}
	attrs := map[string]bool{}
	addAttr := func(n string) {
		if n != "" && !attrs[n] {
			attrs[n] = true
			in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(n), AttributeType: ddbtypes.ScalarAttributeTypeS})
		}
	}
	addAttr(t.PartitionKey)
	addAttr(t.SortKey)
	for _, ix := range t.Indexes {
		addAttr(ix.PartitionKey)
		addAttr(ix.SortKey)
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName:  aws.String(ix.Name),
			KeySchema:  keySchema(ix.PartitionKey, ix.SortKey),
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(schema.IndexProjection)},
		})
	}
	if t.StreamNewAndOldImages {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages}
	}
	if _, err := ddb.CreateTable(ctx, in); err != nil {
		var inUse *ddbtypes.ResourceInUseException
		if !errors.As(err, &inUse) {
			return TableResource{}, fmt.Errorf("localaws: create table %s: %w", name, err)
		}
	}
	w := dynamodb.NewTableExistsWaiter(ddb, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second })
	desc, err := w.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute)
	if err != nil {
		return TableResource{}, fmt.Errorf("localaws: table %s did not become active: %w", name, err)
	}
	if t.TTLAttribute != "" {
		ttl, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		if err != nil {
			return TableResource{}, fmt.Errorf("localaws: describe TTL of %s: %w", name, err)
		}
		if d := ttl.TimeToLiveDescription; d == nil || (d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled && d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabling) {
			if _, err := ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName:               aws.String(name),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(t.TTLAttribute), Enabled: aws.Bool(true)},
			}); err != nil {
				return TableResource{}, fmt.Errorf("localaws: enable TTL on %s.%s: %w", name, t.TTLAttribute, err)
			}
		}
	}
	tr := TableResource{Schema: t, Name: name, ARN: aws.ToString(desc.Table.TableArn)}
	if t.StreamNewAndOldImages {
		tr.StreamARN = aws.ToString(desc.Table.LatestStreamArn)
		if tr.StreamARN == "" {
			return tr, fmt.Errorf("localaws: table %s exists without a stream; delete it (or restart the emulator) and provision again", name)
		}
	}
	return tr, nil
}

func keySchema(pk, sk string) []ddbtypes.KeySchemaElement {
	ks := []ddbtypes.KeySchemaElement{{AttributeName: aws.String(pk), KeyType: ddbtypes.KeyTypeHash}}
	if sk != "" {
		ks = append(ks, ddbtypes.KeySchemaElement{AttributeName: aws.String(sk), KeyType: ddbtypes.KeyTypeRange})
	}
	return ks
}

// ProvisionQueue creates (or updates) the dead-letter queue and then the
// queue prefix+q.Name() with its RedrivePolicy.
func ProvisionQueue(ctx context.Context, sqsc *sqs.Client, prefix string, q schema.Queue) (QueueResource, error) {
	qr := QueueResource{Schema: q, Name: prefix + q.Name(), DLQName: prefix + q.DLQName()}
	dlqAttrs := map[string]string{"MessageRetentionPeriod": strconv.Itoa(DLQRetentionSeconds)}
	attrs := map[string]string{"VisibilityTimeout": strconv.Itoa(q.VisibilityTimeoutSeconds)}
	if q.FIFO {
		dlqAttrs["FifoQueue"] = "true"
		attrs["FifoQueue"] = "true"
		attrs["ContentBasedDeduplication"] = "false"
	}
	var err error
	if qr.DLQURL, qr.DLQARN, err = ensureQueue(ctx, sqsc, qr.DLQName, dlqAttrs); err != nil {
		return qr, err
	}
	policy, _ := json.Marshal(map[string]string{"deadLetterTargetArn": qr.DLQARN, "maxReceiveCount": strconv.Itoa(q.MaxReceiveCount)})
	attrs["RedrivePolicy"] = string(policy)
	if qr.URL, qr.ARN, err = ensureQueue(ctx, sqsc, qr.Name, attrs); err != nil {
		return qr, err
	}
	return qr, nil
}

// ensureQueue creates the queue, or sets attrs on it when it already exists
// with other attributes, and returns its URL and ARN.
func ensureQueue(ctx context.Context, sqsc *sqs.Client, name string, attrs map[string]string) (url, arn string, err error) {
	out, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err == nil {
		url = aws.ToString(out.QueueUrl)
	} else {
		var exists *sqstypes.QueueNameExists
		if !errors.As(err, &exists) {
			return "", "", fmt.Errorf("localaws: create queue %s: %w", name, err)
		}
		got, gerr := sqsc.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if gerr != nil {
			return "", "", fmt.Errorf("localaws: queue %s exists but its URL is unknown: %w", name, gerr)
		}
		url = aws.ToString(got.QueueUrl)
		settable := map[string]string{}
		for k, v := range attrs {
			if k != "FifoQueue" { // immutable
				settable[k] = v
			}
		}
		if _, err := sqsc.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: settable}); err != nil {
			return "", "", fmt.Errorf("localaws: update queue %s: %w", name, err)
		}
	}
	a, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", fmt.Errorf("localaws: get ARN of queue %s: %w", name, err)
	}
	arn = a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if arn == "" {
		return "", "", fmt.Errorf("localaws: queue %s has no QueueArn attribute", name)
	}
	return url, arn, nil
}

// Teardown deletes every table and queue of r. It keeps going past errors
// and returns them joined.
func Teardown(ctx context.Context, ddb *dynamodb.Client, sqsc *sqs.Client, r Resources) error {
	var errs []error
	for _, t := range r.Tables {
		if _, err := ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(t.Name)}); err != nil {
			var nf *ddbtypes.ResourceNotFoundException
			if !errors.As(err, &nf) {
				errs = append(errs, fmt.Errorf("delete table %s: %w", t.Name, err))
			}
		}
	}
	for _, q := range r.Queues {
		for _, u := range []string{q.URL, q.DLQURL} {
			if u == "" {
				continue
			}
			if _, err := sqsc.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(u)}); err != nil {
				var nf *sqstypes.QueueDoesNotExist
				if !errors.As(err, &nf) {
					errs = append(errs, fmt.Errorf("delete queue %s: %w", u, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}
