// Package metering runs Razorbill's usage pipeline over the store
// (dynamo/usagedb): the usage-ingest function's Service.Ingest checks
// events against the environment's meters and writes each once; the
// usage-aggregator's Aggregator folds the stored events, from the table's
// stream, into hourly buckets exactly once; Service.Usage reads them back
// per window.
package metering

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/billing"
	"github.com/razorbill/razorbill/internal/dynamo/usagedb"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/usage"
)

// Store is what the pipeline reads and writes.
type Store interface {
	CreateMeter(ctx context.Context, sc billing.Scope, m usage.Meter) error
	Meters(ctx context.Context, sc billing.Scope) ([]usage.Meter, error)
	Meter(ctx context.Context, sc billing.Scope, id string) (usage.Meter, error)
	ArchiveMeter(ctx context.Context, sc billing.Scope, id string, at time.Time) (usage.Meter, error)
	PutEvent(ctx context.Context, sc billing.Scope, e usage.Event) (bool, error)
	Event(ctx context.Context, sc billing.Scope, id string) (usage.Event, bool, error)
	ListEvents(ctx context.Context, sc billing.Scope, custs []string, start, end time.Time, limit int, after string) ([]usage.Event, bool, error)
	Usage(ctx context.Context, sc billing.Scope, m usage.Meter, custs []string, start, end time.Time) (usagedb.HourUsage, error)
	Apply(ctx context.Context, sc billing.Scope, meters []usage.Meter, evs []usage.Event) (usagedb.Applied, error)
}

// Customers resolves the customers events and queries name.
type Customers interface {
	Customer(ctx context.Context, sc billing.Scope, id string) (billing.Customer, error)
}

// Service is metering's API-facing side.
type Service struct {
	Store     Store
	Customers Customers
	// Lateness is how old an event's timestamp may be (0: 35 days).
	Lateness time.Duration
	// Concurrency is how many events of one bulk call are written at once (0: 16).
	Concurrency int
	Now         func() time.Time
	Log         *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// CreateMeter validates and stores a new meter.
func (s *Service) CreateMeter(ctx context.Context, sc billing.Scope, m usage.Meter) (usage.Meter, error) {
	if err := usage.ValidateMeter(&m); err != nil {
		return m, err
	}
	existing, err := s.Store.Meters(ctx, sc)
	if err != nil {
		return m, err
	}
	if len(existing) >= usage.MaxMetersPerEnv {
		return m, apperr.E(apperr.Conflict, "too_many_meters", "an environment has at most %d meters", usage.MaxMetersPerEnv)
	}
	same := 0
	for _, x := range existing {
		if x.EventName == m.EventName && x.Status == usage.MeterActive {
			same++
		}
	}
	if same >= usage.MaxMetersPerEvent {
		return m, apperr.E(apperr.Conflict, "too_many_meters", "at most %d active meters count one event name; archive one first", usage.MaxMetersPerEvent)
	}
	m.ID, m.Status, m.CreatedAt, m.ArchivedAt = ids.New(ids.Meter), usage.MeterActive, s.now(), nil
	return m, s.Store.CreateMeter(ctx, sc, m)
}

// Outcome of one ingested event, as POST /api/v1/events answers it
// (api.md: statuses are UPPER_CASE).
const (
	Accepted  = "ACCEPTED"
	Duplicate = "DUPLICATE"
	Rejected  = "REJECTED"
)

// Result is one event's outcome; Err is set when Rejected.
type Result struct {
	Status string
	Err    *apperr.Error
}

// Ingest checks and stores events: each is accepted (written once),
// a duplicate (its event_id was stored before; nothing written) or rejected
// with the reason. One bad event never affects the others. A storage
// failure fails the call (a transient error: the client retries the whole
// call, and what was stored comes back as duplicates).
func (s *Service) Ingest(ctx context.Context, sc billing.Scope, in []usage.Input) ([]Result, error) {
	meters, err := s.Store.Meters(ctx, sc)
	if err != nil {
		return nil, err
	}
	rules := usage.Rules{Now: s.now(), Lateness: s.Lateness, Meters: meters}
	out := make([]Result, len(in))
	valid := make([]usage.Event, len(in))
	known := map[string]error{}
	for i, x := range in {
		e, err := rules.Check(x)
		if err == nil && e.CustomerID != "" {
			cerr, seen := known[e.CustomerID]
			if !seen {
				_, cerr = s.Customers.Customer(ctx, sc, e.CustomerID)
				if cerr != nil && !apperr.Is(cerr, apperr.NotFound) {
					return nil, cerr
				}
				known[e.CustomerID] = cerr
			}
			if cerr != nil {
				err = apperr.InvalidField("customer_not_found", "customer_id", "no customer with id %q in this environment", e.CustomerID)
			}
		}
		if err != nil {
			ae := apperr.As(err)
			if ae == nil {
				ae = apperr.E(apperr.Invalid, "validation_failed", "%s", err.Error())
			}
			out[i] = Result{Status: Rejected, Err: ae}
			continue
		}
		valid[i] = e
	}
	workers := s.Concurrency
	if workers <= 0 {
		workers = 16
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, workers)
	// A repeat of an event_id inside one call is a duplicate of its first
	// occurrence (written concurrently, either could win otherwise).
	first := map[string]bool{}
	for i := range in {
		if out[i].Status == Rejected {
			continue
		}
		if first[valid[i].ID] {
			out[i].Status = Duplicate
			continue
		}
		first[valid[i].ID] = true
	}
	for i := range in {
		if out[i].Status == Rejected || out[i].Status == Duplicate {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			dup, err := s.Store.PutEvent(ctx, sc, valid[i])
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				if firstErr == nil {
					firstErr = err
				}
			case dup:
				out[i].Status = Duplicate
			default:
				out[i].Status = Accepted
			}
		}(i)
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// CustomerKeys are the keys a customer's usage is counted under: its id,
// and its external id (events sent before or without the customer's id).
func (s *Service) CustomerKeys(ctx context.Context, sc billing.Scope, customerID string) ([]string, error) {
	c, err := s.Customers.Customer(ctx, sc, customerID)
	if err != nil {
		return nil, err
	}
	keys := []string{usage.Event{CustomerID: c.ID}.CustomerKey()}
	if c.ExternalID != "" {
		keys = append(keys, usage.Event{CustomerExternalID: c.ExternalID}.CustomerKey())
	}
	return keys, nil
}

// Window is one row of a usage answer.
type Window struct {
	Start, End time.Time
	Value      string
}

// UsageQuery asks for a meter's usage by one customer.
type UsageQuery struct {
	MeterID, CustomerID string
	Start, End          time.Time
	Window              string // "" = one window over the whole range
}

// MaxWindows bounds the rows of one usage answer.
const MaxWindows = 2000

// Usage answers a usage query: per window and in total, exact decimals.
// Start and End must be whole UTC hours (the buckets' grain).
func (s *Service) Usage(ctx context.Context, sc billing.Scope, q UsageQuery) ([]Window, string, error) {
	if err := checkRange(q.Start, q.End); err != nil {
		return nil, "", err
	}
	switch q.Window {
	case "", usage.WindowHour, usage.WindowDay, usage.WindowMonth:
	default:
		return nil, "", apperr.InvalidField("validation_failed", "window", "window must be HOUR, DAY or MONTH")
	}
	wins := usage.Windows(q.Start, q.End, q.Window)
	if len(wins) > MaxWindows {
		return nil, "", apperr.InvalidField("too_many_windows", "window", "the range has %d windows; at most %d per query", len(wins), MaxWindows)
	}
	m, err := s.Store.Meter(ctx, sc, q.MeterID)
	if err != nil {
		return nil, "", err
	}
	keys, err := s.CustomerKeys(ctx, sc, q.CustomerID)
	if err != nil {
		return nil, "", err
	}
	hours, err := s.Store.Usage(ctx, sc, m, keys, q.Start, q.End)
	if err != nil {
		return nil, "", err
	}
	// Each hour into its window (they are contiguous and ordered): one pass
	// over the hours, not one per window.
	per := make([]usage.Bucket, len(wins))
	for h, hb := range hours {
		i := sort.Search(len(wins), func(i int) bool { return wins[i].End.After(h) })
		if i < len(wins) && !h.Before(wins[i].Start) {
			per[i] = usage.Merge(m.Aggregation, per[i], hb)
		}
	}
	out := make([]Window, len(wins))
	var total usage.Bucket
	for i, w := range wins {
		total = usage.Merge(m.Aggregation, total, per[i])
		out[i] = Window{Start: w.Start, End: w.End, Value: usage.Format(usage.Result(m.Aggregation, per[i]))}
	}
	return out, usage.Format(usage.Result(m.Aggregation, total)), nil
}

// MaxRange is the longest range a usage or events query covers.
const MaxRange = 400 * 24 * time.Hour

func checkRange(start, end time.Time) error {
	switch {
	case start.IsZero() || end.IsZero():
		return apperr.InvalidField("validation_failed", "start", "start and end are required (RFC 3339)")
	case !end.After(start):
		return apperr.InvalidField("validation_failed", "end", "end must be after start")
	case !start.Equal(start.Truncate(time.Hour)) || !end.Equal(end.Truncate(time.Hour)):
		return apperr.InvalidField("validation_failed", "start", "start and end must be whole UTC hours (usage is kept per hour)")
	case end.Sub(start) > MaxRange:
		return apperr.InvalidField("range_too_long", "end", "a query covers at most %d days", int(MaxRange/(24*time.Hour)))
	}
	return nil
}

// MaxEventsRange is the longest range one events listing covers.
const MaxEventsRange = 31 * 24 * time.Hour

// ListEvents pages through a customer's counted events in [start, end),
// newest first. customerID or externalID names the customer (an external
// id that no customer has yet lists the events kept for it).
func (s *Service) ListEvents(ctx context.Context, sc billing.Scope, customerID, externalID string, start, end time.Time, limit int, startingAfter string) ([]usage.Event, bool, error) {
	switch {
	case start.IsZero() || end.IsZero():
		return nil, false, apperr.InvalidField("validation_failed", "start", "start and end are required (RFC 3339)")
	case !end.After(start):
		return nil, false, apperr.InvalidField("validation_failed", "end", "end must be after start")
	case end.Sub(start) > MaxEventsRange:
		return nil, false, apperr.InvalidField("range_too_long", "end", "one events listing covers at most 31 days")
	}
	var keys []string
	switch {
	case customerID != "" && externalID != "":
		return nil, false, apperr.InvalidField("validation_failed", "customer_id", "give customer_id or customer_external_id, not both")
	case customerID != "":
		k, err := s.CustomerKeys(ctx, sc, customerID)
		if err != nil {
			return nil, false, err
		}
		keys = k
	case externalID != "":
		keys = []string{usage.Event{CustomerExternalID: externalID}.CustomerKey()}
	default:
		return nil, false, apperr.InvalidField("validation_failed", "customer_id", "customer_id or customer_external_id is required")
	}
	after := ""
	if startingAfter != "" {
		e, ok, err := s.Store.Event(ctx, sc, startingAfter)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			return nil, false, apperr.InvalidField("validation_failed", "starting_after", "no event with id %q", startingAfter)
		}
		after = usagedb.Cursor(e)
	}
	return s.Store.ListEvents(ctx, sc, keys, start, end, limit, after)
}
