package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// meterUsage is one meter's total for a customer in a window.
type meterUsage struct {
	Meter obj
	Total string
	Err   *apiError
}

// monthUsage is the customer's usage of every active meter this calendar
// month (UTC), from GET /api/v1/usage.
func (c *Console) monthUsage(r *http.Request, s session, customerID string) ([]meterUsage, *apiError) {
	var meters list
	if e := c.call(ctx(r), s, http.MethodGet, "/api/v1/meters", url.Values{"limit": {"100"}}, nil, "", &meters); e != nil {
		return nil, e
	}
	now := c.opt.Now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 1, 0)
	var out []meterUsage
	for _, m := range meters.Data {
		if str(m["status"]) == "ARCHIVED" {
			continue
		}
		var u obj
		q := url.Values{"meter_id": {str(m["id"])}, "customer_id": {customerID}, "start": {start.Format(time.RFC3339)},
			"end": {end.Format(time.RFC3339)}, "window": {"MONTH"}}
		e := c.call(ctx(r), s, http.MethodGet, "/api/v1/usage", q, nil, "", &u)
		out = append(out, meterUsage{Meter: m, Total: str(u["total"]), Err: e})
	}
	return out, nil
}

// --- subscriptions ---

func (c *Console) subscriptions(w http.ResponseWriter, r *http.Request, s session) {
	if id := strings.TrimSpace(r.URL.Query().Get("id")); id != "" {
		http.Redirect(w, r, Prefix+"/subscriptions/"+esc(id), http.StatusSeeOther)
		return
	}
	c.render(w, http.StatusOK, "subscriptions", pageFor(s, r, "Subscriptions", "subscriptions"))
}

func (c *Console) subscription(w http.ResponseWriter, r *http.Request, s session) {
	c.showSubscription(w, r, s, nil)
}

func (c *Console) showSubscription(w http.ResponseWriter, r *http.Request, s session, e *apiError) {
	p := pageFor(s, r, "Subscription", "subscriptions")
	id := r.PathValue("id")
	var sub obj
	if err := c.call(ctx(r), s, http.MethodGet, "/api/v1/subscriptions/"+esc(id), nil, nil, "", &sub); err != nil {
		c.fail(w, p, err)
		return
	}
	p.Data["sub"] = sub
	var up obj
	if err := c.call(ctx(r), s, http.MethodGet, "/api/v1/subscriptions/"+esc(id)+"/upcoming-invoice", nil, nil, "", &up); err != nil {
		p.Data["upcoming_error"] = err.Message
	} else {
		p.Data["upcoming"] = up
	}
	status := http.StatusOK
	if e != nil {
		p.Err, p.Flash, status = e, "", e.Status
	}
	c.render(w, status, "subscription", p)
}

func (c *Console) cancelSubscription(w http.ResponseWriter, r *http.Request, s session) {
	id := r.PathValue("id")
	body := map[string]any{"at": r.PostForm.Get("at")}
	if e := c.call(ctx(r), s, http.MethodPost, "/api/v1/subscriptions/"+esc(id)+"/cancel", nil, body, r.PostForm.Get("idem"), nil); e != nil {
		if e.Status == http.StatusNotFound {
			c.fail(w, pageFor(s, r, "Not found", "subscriptions"), e)
			return
		}
		c.showSubscription(w, r, s, e)
		return
	}
	http.Redirect(w, r, Prefix+"/subscriptions/"+esc(id)+"?done=canceled", http.StatusSeeOther)
}
