package razorpaysim

import (
	"net/http"
	"strings"

	"github.com/razorbill/razorbill/internal/money"
)

// International payments (see doc.go): an account takes non-INR invoices,
// payment links and orders only with international payments activated.
// Every simulated account has them on unless InternationalOff is set, so
// tests of non-INR money keep working without a switch.

// descInternationalOff is Razorpay's answer to a non-INR invoice or payment
// link on an account without international payments.
const descInternationalOff = "The merchant doesn't have international activated"

// SetInternational turns international payments on or off for an account.
func (s *Simulator) SetInternational(keyID string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byKey[keyID]
	if !ok {
		return ErrUnknownKey
	}
	a.InternationalOff = !on
	return nil
}

// refuseInternational answers Razorpay's 400 and reports true when code is
// not INR and the account has international payments off.
func (s *Simulator) refuseInternational(w http.ResponseWriter, a *account, code, desc string) bool {
	if strings.EqualFold(code, "INR") {
		return false
	}
	s.mu.Lock()
	off := a.InternationalOff
	s.mu.Unlock()
	if off {
		badRequest(w, "currency", "%s", desc)
	}
	return off
}

// createOrder is POST /v1/orders: amount, currency, receipt, notes.
func (s *Simulator) createOrder(w http.ResponseWriter, r *http.Request, a *account) {
	b, err := readBody(r)
	if err != nil {
		badRequest(w, "", "%v", err)
		return
	}
	amount, cur, ok := b.amountCurrency(w, badRequest)
	if !ok {
		return
	}
	if s.refuseInternational(w, a, cur.Code, "Currency is not supported") {
		return
	}
	if min := money.DefaultMinimums().Of(cur); amount < min {
		badRequest(w, "amount", "The amount must be atleast %s %s", cur.Code, money.Format(min, cur))
		return
	}
	receipt, _ := b.str("receipt")
	if len([]rune(receipt)) > 40 {
		badRequest(w, "receipt", "The receipt may not be greater than 40 characters.")
		return
	}
	nts, desc := readNotes(b)
	if desc != "" {
		badRequest(w, "notes", "%s", desc)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := &orderObj{ID: newID("order"), Entity: "order", Amount: amount, AmountDue: amount, Currency: cur.Code, Receipt: nstr(receipt),
		Status: "created", Notes: nts, CreatedAt: s.now().Unix()}
	a.orders = append(a.orders, o)
	s.owner[o.ID] = a
	writeJSON(w, http.StatusOK, o)
}

// internationalRoutes adds POST /_sim/accounts/{key}/international {"on": bool}.
func (s *Simulator) internationalRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /_sim/accounts/{key}/international", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			On *bool `json:"on"`
		}
		if err := readJSON(r, &in); err != nil {
			ctlFail(w, err)
			return
		}
		if in.On == nil {
			writeJSON(w, http.StatusBadRequest, ctlError{Error: `"on" (true or false) is required`})
			return
		}
		if err := s.SetInternational(r.PathValue("key"), *in.On); err != nil {
			ctlFail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"key_id": r.PathValue("key"), "international": *in.On})
	})
}
