package metering

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/usage"
)

// Aggregator is the usage-aggregator function: it gets the table's stream
// records of new usage events (schema.UsageStreamFilter) and counts each
// once into its meters' buckets.
type Aggregator struct {
	Store Store
	Log   *slog.Logger
}

// Handle counts a batch. Records are grouped by environment; when one
// environment's events fail to apply, the batch reports its first record's
// sequence number and the stream delivers again from there (what was
// counted comes back as duplicates and changes nothing).
func (a *Aggregator) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	type group struct {
		sc    billing.Scope
		first string // sequence number of its first record
		evs   []usage.Event
	}
	var groups []*group
	byScope := map[billing.Scope]*group{}
	for _, rec := range ev.Records {
		if rec.EventName != "INSERT" {
			continue
		}
		sc, e, err := usagedb.DecodeEvent(FromStreamImage(rec.Change.NewImage))
		if err != nil {
			// Not a usage event this code can read: counting it is impossible,
			// retrying it would block the shard. Logged for an operator.
			a.Log.ErrorContext(ctx, "stream record is not a readable usage event; skipped", "sequence_number", rec.Change.SequenceNumber, "error", err.Error())
			continue
		}
		g := byScope[sc]
		if g == nil {
			g = &group{sc: sc, first: rec.Change.SequenceNumber}
			byScope[sc] = g
			groups = append(groups, g)
		}
		g.evs = append(g.evs, e)
	}
	failed := ""
	for _, g := range groups {
		meters, err := a.Store.Meters(ctx, g.sc)
		var res usagedb.Applied
		if err == nil {
			res, err = a.Store.Apply(ctx, g.sc, meters, g.evs)
		}
		if err != nil {
			a.Log.ErrorContext(ctx, "usage not counted; the stream delivers it again", "tenant_id", g.sc.TenantID, "environment_id", g.sc.EnvironmentID,
				"events", len(g.evs), "error", err.Error())
			if failed == "" || seqLess(g.first, failed) {
				failed = g.first
			}
			continue
		}
		a.Log.InfoContext(ctx, "usage counted", "tenant_id", g.sc.TenantID, "environment_id", g.sc.EnvironmentID, "counted", res.Counted, "duplicates", res.Duplicates)
	}
	if failed != "" {
		resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: failed}}
	}
	return resp, nil
}

// seqLess orders DynamoDB stream sequence numbers (decimal strings).
func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
