package localaws_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/razorbill/razorbill/internal/localaws"
	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv("RAZORBILL_PDEATH_CHILD") == "1" {
		stopWithParentChild() // the child process of TestAStackWhoseParentDiesStops
	}
	testenv.Main(m)
}

func TestCheckToolsNamesWhatIsMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := localaws.CheckTools(context.Background(), true)
	if err == nil {
		t.Fatal("CheckTools with an empty PATH: want an error")
	}
	for _, want := range []string{"java is not on PATH", "Java 17", "node is not on PATH", "npm is not on PATH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestUpRunsAProvisionedStackAndStopsWithoutOrphans(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := localaws.Up(ctx, localaws.UpOptions{Prefix: "up-"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	if !strings.HasPrefix(st.Endpoints.DynamoDB, "http://127.0.0.1:") || !strings.HasPrefix(st.Endpoints.SQS, "http://127.0.0.1:") {
		t.Errorf("endpoints %+v", st.Endpoints)
	}
	tables, err := st.DynamoDB.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tables.TableNames) != 1 || tables.TableNames[0] != "up-razorbill" {
		t.Errorf("tables = %v", tables.TableNames)
	}
	env := st.Env()
	if env["RAZORBILL_TABLE"] != "up-razorbill" || env["AWS_ENDPOINT_URL_DYNAMODB"] != st.Endpoints.DynamoDB || env["RAZORBILL_EVENTS_QUEUE_URL"] == "" {
		t.Errorf("Env = %v", env)
	}
	procs := st.Processes()
	ddb, sq := procs[0], procs[1]
	for _, p := range procs {
		if !alive(p.Pid()) {
			t.Fatalf("%s pid %d is not running after start", p.Name, p.Pid())
		}
	}

	// Stop kills and reaps the whole process group.
	if err := ddb.Stop(); err != nil {
		t.Fatal(err)
	}
	if alive(ddb.Pid()) || syscall.Kill(-ddb.Pid(), 0) == nil {
		t.Errorf("dynamodb pid %d (or its group) still exists after Stop", ddb.Pid())
	}
	if ddb.Err() != nil {
		t.Errorf("Err after Stop = %v, want nil", ddb.Err())
	}
	select {
	case <-st.Done():
	case <-time.After(time.Second):
		t.Error("Stack.Done not closed after an emulator stopped")
	}
	// Cancelling the context stops the other one.
	cancel()
	select {
	case <-sq.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("sqs emulator still running 10 s after its context was cancelled")
	}
	if alive(sq.Pid()) {
		t.Errorf("sqs pid %d still exists after its context was cancelled", sq.Pid())
	}
}

func TestRequestedPortTaken(t *testing.T) {
	ctx := context.Background()
	if err := localaws.Install(ctx, ""); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, _, err = localaws.StartSQS(ctx, "", port)
	if !errors.Is(err, localaws.ErrPortInUse) || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Fatalf("StartSQS on a taken port: err = %v, want ErrPortInUse naming %d", err, port)
	}
	_, _, err = localaws.StartDynamoDB(ctx, "", port)
	if !errors.Is(err, localaws.ErrPortInUse) {
		t.Fatalf("StartDynamoDB on a taken port: err = %v, want ErrPortInUse", err)
	}
}

func TestProvisionIsIdempotentAndComplete(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	ctx := context.Background()
	again, err := localaws.Provision(ctx, env.DynamoDB, env.SQS, env.Prefix)
	if err != nil {
		t.Fatalf("second Provision: %v", err)
	}
	if a, b := again.Table(schema.Main), env.Resources.Table(schema.Main); a.Name != b.Name || a.StreamARN != b.StreamARN {
		t.Errorf("second Provision table = %+v, first = %+v", a, b)
	}

	d, err := env.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(env.Table())})
	if err != nil {
		t.Fatal(err)
	}
	if d.Table.StreamSpecification == nil || d.Table.StreamSpecification.StreamViewType != ddbtypes.StreamViewTypeNewAndOldImages {
		t.Errorf("stream = %+v, want NEW_AND_OLD_IMAGES", d.Table.StreamSpecification)
	}
	var gsis []string
	for _, g := range d.Table.GlobalSecondaryIndexes {
		gsis = append(gsis, aws.ToString(g.IndexName))
	}
	if len(gsis) != len(schema.Main.Indexes) {
		t.Errorf("GSIs = %v, want %d", gsis, len(schema.Main.Indexes))
	}
	ttl, err := env.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(env.Table())})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(ttl.TimeToLiveDescription.AttributeName) != schema.AttrTTL || ttl.TimeToLiveDescription.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled {
		t.Errorf("TTL = %+v", ttl.TimeToLiveDescription)
	}

	for _, q := range schema.Queues {
		qr := again.Queue(q)
		if qr.URL != env.QueueURL(q) || qr.DLQURL != env.DLQURL(q) {
			t.Errorf("%s: second Provision URLs differ", q.LogicalName)
		}
		a, err := env.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(qr.URL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		var rp struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			MaxReceiveCount     any    `json:"maxReceiveCount"`
		}
		if err := json.Unmarshal([]byte(a.Attributes["RedrivePolicy"]), &rp); err != nil {
			t.Fatalf("%s RedrivePolicy %q: %v", q.LogicalName, a.Attributes["RedrivePolicy"], err)
		}
		if rp.DeadLetterTargetArn != qr.DLQARN || toString(rp.MaxReceiveCount) != strconv.Itoa(q.MaxReceiveCount) {
			t.Errorf("%s RedrivePolicy = %+v, want DLQ %s max %d", q.LogicalName, rp, qr.DLQARN, q.MaxReceiveCount)
		}
		if a.Attributes["VisibilityTimeout"] != strconv.Itoa(q.VisibilityTimeoutSeconds) {
			t.Errorf("%s VisibilityTimeout = %s", q.LogicalName, a.Attributes["VisibilityTimeout"])
		}
		if (a.Attributes["FifoQueue"] == "true") != q.FIFO {
			t.Errorf("%s FifoQueue = %q", q.LogicalName, a.Attributes["FifoQueue"])
		}
	}

	e := again.Env()
	for _, want := range []string{"RAZORBILL_TABLE", "RAZORBILL_TABLE_STREAM_ARN", "RAZORBILL_EVENTS_QUEUE_URL", "RAZORBILL_EVENTS_QUEUE_DLQ_URL", "RAZORBILL_CUSTOMER_SYNC_QUEUE_URL", "RAZORBILL_CUSTOMER_SYNC_QUEUE_DLQ_URL", "RAZORBILL_INVOICE_SYNC_QUEUE_URL", "RAZORBILL_INVOICE_SYNC_QUEUE_DLQ_URL"} {
		if e[want] == "" {
			t.Errorf("Env()[%s] is empty", want)
		}
	}
	if !strings.HasSuffix(e["RAZORBILL_EVENTS_QUEUE_URL"], env.Prefix+"razorpay-events.fifo") {
		t.Errorf("events queue URL = %s", e["RAZORBILL_EVENTS_QUEUE_URL"])
	}
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.Itoa(int(v))
	}
	return ""
}

func TestItemWriteAndReadBack(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	ctx := context.Background()
	item := map[string]ddbtypes.AttributeValue{
		"PK":     &ddbtypes.AttributeValueMemberS{Value: "TENANT#t1#ENV#e1"},
		"SK":     &ddbtypes.AttributeValueMemberS{Value: "CUSTOMER#c1"},
		"entity": &ddbtypes.AttributeValueMemberS{Value: "customer"},
		"amount": &ddbtypes.AttributeValueMemberN{Value: "12345"},
	}
	if _, err := env.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(env.Table()), Item: item}); err != nil {
		t.Fatal(err)
	}
	got, err := env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(env.Table()),
		Key:            map[string]ddbtypes.AttributeValue{"PK": item["PK"], "SK": item["SK"]},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := got.Item["amount"].(*ddbtypes.AttributeValueMemberN); !ok || n.Value != "12345" {
		t.Fatalf("read back %v", got.Item)
	}
}

func TestTransactionWithFailedConditionChangesNothing(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	ctx := context.Background()
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	marker := map[string]ddbtypes.AttributeValue{"PK": s("PAYMENT#pay_1"), "SK": s("APPLIED")}
	if _, err := env.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(env.Table()), Item: marker}); err != nil {
		t.Fatal(err)
	}
	// Apply the payment again: the marker's condition fails, so the invoice
	// update in the same transaction must not happen.
	_, err := env.DynamoDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: aws.String(env.Table()), Item: marker, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &ddbtypes.Put{TableName: aws.String(env.Table()), Item: map[string]ddbtypes.AttributeValue{"PK": s("INVOICE#inv_1"), "SK": s("INVOICE"), "paid": s("yes")}}},
	}})
	var tce *ddbtypes.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("TransactWriteItems err = %v, want TransactionCanceledException", err)
	}
	if len(tce.CancellationReasons) != 2 || aws.ToString(tce.CancellationReasons[0].Code) != "ConditionalCheckFailed" {
		t.Errorf("cancellation reasons = %+v", tce.CancellationReasons)
	}
	got, err := env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(env.Table()), Key: map[string]ddbtypes.AttributeValue{"PK": s("INVOICE#inv_1"), "SK": s("INVOICE")}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Item != nil {
		t.Fatalf("the cancelled transaction wrote %v", got.Item)
	}
}

func TestFIFODeduplicatesAndRedrivesToDLQ(t *testing.T) {
	t.Parallel()
	env := testenv.AWS(t)
	ctx := context.Background()
	q := schema.RazorpayEvents
	url := env.QueueURL(q)
	for range 2 { // the same deduplication id twice: one message
		if _, err := env.SQS.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(url), MessageBody: aws.String(`{"event":"payment.captured"}`),
			MessageGroupId: aws.String("inv_1"), MessageDeduplicationId: aws.String("evt_1"),
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Receive without deleting (a consumer failing) maxReceiveCount times,
	// each time with a 1 s visibility timeout. (Short polls: the emulator's
	// long poll keeps collecting for the whole wait, and would hand out the
	// same message again within one answer once its visibility runs out.)
	for i := 1; i <= q.MaxReceiveCount; i++ {
		msgs := receiveWithin(t, env.SQS, url, 5*time.Second, 1)
		if len(msgs) != 1 {
			t.Fatalf("receive %d: got %d messages, want exactly 1 (deduplicated)", i, len(msgs))
		}
		if rc := msgs[0].Attributes["ApproximateReceiveCount"]; rc != strconv.Itoa(i) {
			t.Errorf("receive %d: ApproximateReceiveCount = %s", i, rc)
		}
		if g := msgs[0].Attributes["MessageGroupId"]; g != "inv_1" {
			t.Errorf("MessageGroupId = %q", g)
		}
	}
	time.Sleep(1500 * time.Millisecond) // the last visibility timeout runs out
	if msgs := receiveWithin(t, env.SQS, url, time.Second, 30); len(msgs) != 0 {
		t.Fatalf("after %d receives the message is still delivered from the source queue", q.MaxReceiveCount)
	}
	dlq := receiveWithin(t, env.SQS, env.DLQURL(q), 3*time.Second, 30)
	if len(dlq) != 1 || aws.ToString(dlq[0].Body) != `{"event":"payment.captured"}` {
		t.Fatalf("DLQ holds %v, want the one message", dlq)
	}
}

// receiveWithin short-polls url until a message comes or d passes.
func receiveWithin(t *testing.T, c *sqs.Client, url string, d time.Duration, visibility int32) []sqstypes.Message {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: visibility,
			AttributeNames:              []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}, // the emulator reads only this one
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) > 0 || time.Now().After(deadline) {
			return out.Messages
		}
		time.Sleep(100 * time.Millisecond)
	}
}
