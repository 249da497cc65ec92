package razorpaysim

import "net/http"

// orderPayments is GET /v1/orders/{id}/payments (Razorpay's "Fetch
// Payments for an Order"): every payment attempted on the order, failed
// ones included, newest first, as a collection.
func (s *Simulator) orderPayments(w http.ResponseWriter, r *http.Request, a *account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	found := false
	for _, o := range a.orders {
		found = found || o.ID == id
	}
	if !found {
		idNotFound(w)
		return
	}
	items := []*paymentObj{}
	for i := len(a.payments) - 1; i >= 0; i-- {
		if string(a.payments[i].OrderID) == id {
			items = append(items, a.payments[i])
		}
	}
	writeJSON(w, http.StatusOK, collection{Entity: "collection", Count: len(items), Items: items})
}
