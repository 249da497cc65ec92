package razorpaysim

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Razorpay's disable logic (doc.go): a webhook whose deliveries keep
// failing is disabled — nothing more is sent, first attempts nor retries,
// until it is re-enabled. The simulator disables an account's webhook after
// Options.WebhookDisableAfter failed automatic attempts with no success in
// between, within Options.WebhookDisableWindow (Razorpay: 24 h; scaled in
// tests). A control call disables or enables it directly.

// webhookDisabledLocked reports whether a's webhook is disabled.
func (a *account) webhookDisabledLocked() bool { return a.WebhookDisabled }

// noteDeliveryLocked counts an automatic delivery's outcome toward the
// disable logic (manual redeliveries do not count).
func (s *Simulator) noteDeliveryLocked(ev *eventRecord, d Delivery, manual bool) {
	a := s.byKey[ev.KeyID]
	if a == nil || manual {
		return
	}
	if d.OK() {
		a.failStreak, a.failingSince = 0, time.Time{}
		return
	}
	now := s.now()
	if a.failStreak == 0 || (s.opt.WebhookDisableWindow > 0 && now.Sub(a.failingSince) > s.opt.WebhookDisableWindow) {
		a.failStreak, a.failingSince = 0, now
	}
	a.failStreak++
	if s.opt.WebhookDisableAfter > 0 && a.failStreak >= s.opt.WebhookDisableAfter && !a.WebhookDisabled {
		a.WebhookDisabled = true
		s.log.Warn("razorpaysim: webhook disabled after failed deliveries", "key_id", a.KeyID, "failures", a.failStreak)
	}
}

// SetWebhookEnabled disables or re-enables an account's webhook. While it
// is disabled no event is sent; re-enabling does not send what was
// skipped (RedeliverAll does, as a dashboard replay would).
func (s *Simulator) SetWebhookEnabled(keyID string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.byKey[keyID]
	if a == nil {
		return ErrUnknownKey
	}
	a.WebhookDisabled = !on
	a.failStreak, a.failingSince = 0, time.Time{}
	return nil
}

// RedeliverAll redelivers every event of the account once, oldest first,
// and returns the deliveries.
func (s *Simulator) RedeliverAll(ctx context.Context, keyID string) ([]Delivery, error) {
	var out []Delivery
	for _, e := range s.Events(keyID) {
		d, err := s.Redeliver(ctx, e.ID, RedeliverOptions{})
		if err != nil {
			return out, err
		}
		out = append(out, d...)
	}
	return out, nil
}

func (s *Simulator) webhookControlRoutes(m *http.ServeMux) {
	set := func(on bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if err := s.SetWebhookEnabled(r.PathValue("key"), on); err != nil {
				ctlFail(w, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]bool{"webhook_disabled": !on})
		}
	}
	m.HandleFunc("POST /_sim/accounts/{key}/webhooks/disable", set(false))
	m.HandleFunc("POST /_sim/accounts/{key}/webhooks/enable", set(true))
	m.HandleFunc("POST /_sim/accounts/{key}/webhooks/redeliver_all", func(w http.ResponseWriter, r *http.Request) {
		ds, err := s.RedeliverAll(r.Context(), r.PathValue("key"))
		if err != nil {
			ctlFail(w, err)
			return
		}
		if ds == nil {
			ds = []Delivery{}
		}
		writeJSON(w, http.StatusOK, map[string]json.RawMessage{"deliveries": mustJSON(ds)})
	})
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
