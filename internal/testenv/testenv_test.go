package testenv_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/razorbill/razorbill/internal/schema"
	"github.com/razorbill/razorbill/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestEachTestGetsItsOwnResourcesAndLosesThemAfter(t *testing.T) {
	var first *testenv.Env
	t.Run("a", func(t *testing.T) { first = testenv.AWS(t) })
	second := testenv.AWS(t)
	if first.Prefix == second.Prefix || first.Table() == second.Table() || first.QueueURL(schema.RazorpayEvents) == second.QueueURL(schema.RazorpayEvents) {
		t.Fatalf("two tests share resources: %q %q", first.Table(), second.Table())
	}
	if !strings.HasPrefix(first.Table(), first.Prefix) || !strings.HasSuffix(first.Table(), schema.Main.LogicalName) {
		t.Errorf("table name %q", first.Table())
	}
	// The first test's table was deleted when it ended.
	_, err := second.DynamoDB.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(first.Table())})
	var nf *ddbtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("table of a finished test: DescribeTable err = %v, want ResourceNotFound", err)
	}
	if second.Getenv(schema.Main.EnvVar) != second.Table() || second.Getenv(schema.CustomerSync.EnvVar) != second.QueueURL(schema.CustomerSync) ||
		second.Getenv("AWS_ENDPOINT_URL_SQS") != second.Endpoints.SQS || second.Getenv("RAZORBILL_INVOICE_SYNC_QUEUE_DLQ_URL") != second.DLQURL(schema.InvoiceSync) {
		t.Errorf("Getenv does not give the function environment")
	}
	if second.StreamARN() == "" {
		t.Error("no stream ARN")
	}
}
