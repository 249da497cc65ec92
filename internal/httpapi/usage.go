package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/ids"
	"github.com/razorbill/razorbill/internal/metering"
	"github.com/razorbill/razorbill/internal/usage"
)

// MaxBulkEvents is the most events one bulk call carries.
const MaxBulkEvents = 1000

// Meters serves meters and usage queries (the api function).
type Meters struct {
	Service *metering.Service
}

// Routes are the meter and usage routes.
func (h *Meters) Routes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/api/v1/meters", Auth: AuthScoped, Handle: h.create},
		{Method: "GET", Pattern: "/api/v1/meters", Auth: AuthScoped, Handle: h.list},
		{Method: "GET", Pattern: "/api/v1/meters/{id}", Auth: AuthScoped, Handle: h.get},
		{Method: "POST", Pattern: "/api/v1/meters/{id}/archive", Auth: AuthScoped, Handle: h.archive},
		{Method: "GET", Pattern: "/api/v1/usage", Auth: AuthScoped, Handle: h.usage},
	}
}

type meterInput struct {
	Name        string              `json:"name"`
	EventName   string              `json:"event_name"`
	Aggregation string              `json:"aggregation"`
	Property    string              `json:"property"`
	Filters     map[string][]string `json:"filters"`
}

func meterView(m usage.Meter) map[string]any {
	filters := m.Filters
	if filters == nil {
		filters = map[string][]string{}
	}
	v := map[string]any{"id": m.ID, "object": "meter", "name": m.Name, "event_name": m.EventName, "aggregation": m.Aggregation,
		"property": nil, "filters": filters, "status": m.Status, "created_at": m.CreatedAt.UTC().Format(time.RFC3339), "archived_at": nil}
	if m.Property != "" {
		v["property"] = m.Property
	}
	if m.ArchivedAt != nil {
		v["archived_at"] = m.ArchivedAt.UTC().Format(time.RFC3339)
	}
	return v
}

func (h *Meters) create(ctx context.Context, r *Request) (Response, error) {
	var in meterInput
	if err := Decode(r.Body, &in); err != nil {
		return Response{}, err
	}
	m, err := h.Service.CreateMeter(ctx, r.Scope, usage.Meter{Name: in.Name, EventName: in.EventName, Aggregation: in.Aggregation, Property: in.Property, Filters: in.Filters})
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusCreated, Body: meterView(m)}, nil
}

// list pages through the environment's meters like every list: newest
// first, limit (default 20) and starting_after (meter ids sort by creation).
func (h *Meters) list(ctx context.Context, r *Request) (Response, error) {
	opt, err := listOptions(r)
	if err != nil {
		return Response{}, err
	}
	ms, err := h.Service.Store.Meters(ctx, r.Scope)
	if err != nil {
		return Response{}, err
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID > ms[j].ID })
	data := make([]any, 0, min(len(ms), opt.Limit))
	more := false
	for _, m := range ms {
		if opt.StartingAfter != "" && m.ID >= opt.StartingAfter {
			continue
		}
		if len(data) == opt.Limit {
			more = true
			break
		}
		data = append(data, meterView(m))
	}
	return Response{Body: map[string]any{"data": data, "has_more": more}}, nil
}

func (h *Meters) get(ctx context.Context, r *Request) (Response, error) {
	m, err := h.Service.Store.Meter(ctx, r.Scope, r.Params["id"])
	if err != nil {
		return Response{}, err
	}
	return Response{Body: meterView(m)}, nil
}

func (h *Meters) archive(ctx context.Context, r *Request) (Response, error) {
	m, err := h.Service.Store.ArchiveMeter(ctx, r.Scope, r.Params["id"], time.Now())
	if err != nil {
		return Response{}, err
	}
	return Response{Body: meterView(m)}, nil
}

func queryTime(r *Request, name string) (time.Time, error) {
	v, ok := r.Query[name]
	if !ok || v == "" {
		return time.Time{}, apperr.InvalidField("validation_failed", name, "%s is required (RFC 3339, e.g. 2026-12-01T00:00:00Z)", name)
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, apperr.InvalidField("validation_failed", name, "%s %q is not an RFC 3339 timestamp", name, truncateID(v))
	}
	return t.UTC(), nil
}

func (h *Meters) usage(ctx context.Context, r *Request) (Response, error) {
	q := metering.UsageQuery{MeterID: r.Query["meter_id"], CustomerID: r.Query["customer_id"], Window: r.Query["window"]}
	if q.MeterID == "" {
		return Response{}, apperr.InvalidField("validation_failed", "meter_id", "meter_id is required")
	}
	if q.CustomerID == "" {
		return Response{}, apperr.InvalidField("validation_failed", "customer_id", "customer_id is required")
	}
	if !ids.Valid(ids.Meter, q.MeterID) {
		return Response{}, apperr.E(apperr.NotFound, "not_found", "no meter with id %q", truncateID(q.MeterID))
	}
	if !ids.Valid(ids.Customer, q.CustomerID) {
		return Response{}, apperr.E(apperr.NotFound, "not_found", "no customer with id %q", truncateID(q.CustomerID))
	}
	var err error
	if q.Start, err = queryTime(r, "start"); err != nil {
		return Response{}, err
	}
	if q.End, err = queryTime(r, "end"); err != nil {
		return Response{}, err
	}
	wins, total, err := h.Service.Usage(ctx, r.Scope, q)
	if err != nil {
		return Response{}, err
	}
	data := make([]any, len(wins))
	for i, w := range wins {
		data[i] = map[string]any{"start": w.Start.Format(time.RFC3339), "end": w.End.Format(time.RFC3339), "value": w.Value}
	}
	return Response{Body: map[string]any{"meter_id": q.MeterID, "customer_id": q.CustomerID, "start": q.Start.Format(time.RFC3339),
		"end": q.End.Format(time.RFC3339), "window": q.Window, "data": data, "total": total}}, nil
}

// Events serves ingestion and the raw-event listing (the usage-ingest function).
type Events struct {
	Service *metering.Service
}

// Routes are the event routes.
func (h *Events) Routes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/api/v1/events", Auth: AuthScoped, Handle: h.one},
		{Method: "POST", Pattern: "/api/v1/events/bulk", Auth: AuthScoped, Handle: h.bulk},
		{Method: "GET", Pattern: "/api/v1/events", Auth: AuthScoped, Handle: h.list},
	}
}

type eventInput struct {
	EventID            string                     `json:"event_id"`
	EventName          string                     `json:"event_name"`
	CustomerID         string                     `json:"customer_id"`
	CustomerExternalID string                     `json:"customer_external_id"`
	Timestamp          string                     `json:"timestamp"`
	Properties         map[string]json.RawMessage `json:"properties"`
}

// decodeEvent reads one event object strictly; its properties must be
// JSON strings or numbers (a number's digits are kept as sent).
func decodeEvent(raw []byte) (usage.Input, error) {
	var in eventInput
	if err := Decode(raw, &in); err != nil {
		return usage.Input{}, err
	}
	out := usage.Input{EventID: in.EventID, EventName: in.EventName, CustomerID: in.CustomerID,
		CustomerExternalID: in.CustomerExternalID, Timestamp: in.Timestamp}
	if len(in.Properties) > usage.MaxProperties {
		return out, apperr.InvalidField("too_many_properties", "properties", "an event has at most %d properties (got %d)", usage.MaxProperties, len(in.Properties))
	}
	out.Properties = make(map[string]usage.Property, len(in.Properties))
	for k, v := range in.Properties {
		v = bytes.TrimSpace(v)
		switch {
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return out, apperr.InvalidField("validation_failed", "properties."+k, "property %q is not a valid JSON string", truncateID(k))
			}
			out.Properties[k] = usage.Property{Text: s}
		case len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')):
			out.Properties[k] = usage.Property{Text: string(v), Number: true}
		default:
			return out, apperr.InvalidField("validation_failed", "properties."+k, "property %q must be a string or a number", truncateID(k))
		}
	}
	return out, nil
}

func (h *Events) one(ctx context.Context, r *Request) (Response, error) {
	in, err := decodeEvent(r.Body)
	if err != nil {
		return Response{}, err
	}
	res, err := h.Service.Ingest(ctx, r.Scope, []usage.Input{in})
	if err != nil {
		return Response{}, err
	}
	if res[0].Status == metering.Rejected {
		return Response{}, res[0].Err
	}
	return Response{Status: http.StatusAccepted, Body: map[string]any{"event_id": in.EventID, "status": res[0].Status}}, nil
}

func (h *Events) bulk(ctx context.Context, r *Request) (Response, error) {
	var body struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := Decode(r.Body, &body); err != nil {
		return Response{}, err
	}
	if len(body.Events) == 0 {
		return Response{}, apperr.InvalidField("validation_failed", "events", "events is required: a list of 1 to %d events", MaxBulkEvents)
	}
	if len(body.Events) > MaxBulkEvents {
		return Response{}, apperr.InvalidField("too_many_events", "events", "a bulk call carries at most %d events (got %d); split it", MaxBulkEvents, len(body.Events))
	}
	inputs := make([]usage.Input, len(body.Events))
	decodeErr := make([]error, len(body.Events))
	var ok []usage.Input
	var okIndex []int
	for i, raw := range body.Events {
		in, err := decodeEvent(raw)
		inputs[i] = in // its event_id, when it had one, names a rejection
		if err != nil {
			decodeErr[i] = err
			continue
		}
		ok = append(ok, in)
		okIndex = append(okIndex, i)
	}
	res, err := h.Service.Ingest(ctx, r.Scope, ok)
	if err != nil {
		return Response{}, err
	}
	accepted, dups := 0, 0
	rejected := []any{}
	rej := func(i int, err error) {
		ae := apperr.As(err)
		if ae == nil {
			ae = apperr.E(apperr.Invalid, "validation_failed", "%s", err.Error())
		}
		v := map[string]any{"index": i, "code": ae.Code, "message": ae.Message}
		if ae.Field != "" {
			v["field"] = ae.Field
		}
		if i < len(inputs) && inputs[i].EventID != "" {
			v["event_id"] = inputs[i].EventID
		}
		rejected = append(rejected, v)
	}
	j := 0
	for i := range body.Events {
		if decodeErr[i] != nil {
			rej(i, decodeErr[i])
			continue
		}
		switch res[j].Status {
		case metering.Accepted:
			accepted++
		case metering.Duplicate:
			dups++
		default:
			rej(okIndex[j], res[j].Err)
		}
		j++
	}
	return Response{Status: http.StatusAccepted, Body: map[string]any{"accepted": accepted, "duplicates": dups, "rejected": rejected}}, nil
}

func (h *Events) list(ctx context.Context, r *Request) (Response, error) {
	opt, err := listOptions(r)
	if err != nil {
		return Response{}, err
	}
	cus, ext := r.Query["customer_id"], r.Query["customer_external_id"]
	if cus != "" && !ids.Valid(ids.Customer, cus) {
		return Response{}, apperr.E(apperr.NotFound, "not_found", "no customer with id %q", truncateID(cus))
	}
	start, err := queryTime(r, "start")
	if err != nil {
		return Response{}, err
	}
	end, err := queryTime(r, "end")
	if err != nil {
		return Response{}, err
	}
	evs, more, err := h.Service.ListEvents(ctx, r.Scope, cus, ext, start, end, opt.Limit, opt.StartingAfter)
	if err != nil {
		return Response{}, err
	}
	data := make([]any, len(evs))
	for i, e := range evs {
		props := e.Properties
		if props == nil {
			props = map[string]string{}
		}
		v := map[string]any{"event_id": e.ID, "object": "event", "event_name": e.Name, "customer_id": nil, "customer_external_id": nil,
			"timestamp": e.Timestamp.Format(time.RFC3339Nano), "properties": props, "accepted_at": e.AcceptedAt.Format(time.RFC3339Nano)}
		if e.CustomerID != "" {
			v["customer_id"] = e.CustomerID
		}
		if e.CustomerExternalID != "" {
			v["customer_external_id"] = e.CustomerExternalID
		}
		data[i] = v
	}
	return Response{Body: map[string]any{"data": data, "has_more": more}}, nil
}
