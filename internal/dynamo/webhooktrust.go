package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/ddbjson"
)

// WebhookTrust reads, for the webhook receiver, only what verifying a
// webhook needs of a connection: its scope, status, Razorpay account and
// current and retired webhook secrets. Its Connection is the same strongly
// consistent GetItem as Store.Connection with a projection, so the
// receiver decodes a handful of attributes instead of the whole item (the
// key secret, hints, timestamps and settings it never reads are left at
// DynamoDB).
type WebhookTrust struct{ *Store }

const webhookTrustProjection = "tenant_id, environment_id, #status, account_id, webhook_secret_sealed, " +
	"prev_webhook_secret_sealed, prev_webhook_secret_until, prev_webhook_secrets"

// Connection reads the projected connection; ok is false when there is none.
func (w WebhookTrust) Connection(ctx context.Context, sc billing.Scope) (billing.Connection, bool, error) {
	var c billing.Connection
	res, err := w.db.GetItem(ctx, &ddbjson.GetItemInput{TableName: &w.table, Key: connKey(sc).av(), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String(webhookTrustProjection), ExpressionAttributeNames: map[string]string{"#status": "status"}})
	if err != nil {
		return c, false, transient(err, "get item")
	}
	if len(res.Item) == 0 {
		return c, false, nil
	}
	if err := attributevalue.UnmarshalMap(res.Item, &c); err != nil {
		return c, false, apperr.Wrap(err, apperr.Internal, "", "decode item")
	}
	return c, true, nil
}
