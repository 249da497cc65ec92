package razorpay

import (
	"encoding/json"
	"strings"
	"time"
)

// Customer is a Razorpay customer (cust_…).
type Customer struct {
	ID        string
	Name      string
	Email     string
	Contact   string
	GSTIN     string
	Notes     map[string]string
	CreatedAt time.Time
}

func (c *Customer) UnmarshalJSON(b []byte) error {
	var w struct {
		ID        wireString `json:"id"`
		Name      wireString `json:"name"`
		Email     wireString `json:"email"`
		Contact   wireString `json:"contact"`
		GSTIN     wireString `json:"gstin"`
		Notes     wireNotes  `json:"notes"`
		CreatedAt wireTime   `json:"created_at"`
	}
	if err := decodeObject(b, &w); err != nil {
		return err
	}
	*c = Customer{ID: string(w.ID), Name: string(w.Name), Email: string(w.Email), Contact: string(w.Contact),
		GSTIN: string(w.GSTIN), Notes: w.Notes.Map(), CreatedAt: w.CreatedAt.Time()}
	return nil
}

// InvoiceLineItem is a line of a Razorpay invoice. Amount is per unit in the
// currency's smallest unit; the line's total is Amount × Quantity.
type InvoiceLineItem struct {
	ID          string // li_…, set on results only
	Name        string
	Description string
	Amount      int64
	Quantity    int64
	Currency    string
}

func (li *InvoiceLineItem) UnmarshalJSON(b []byte) error {
	var w struct {
		ID          wireString `json:"id"`
		Name        wireString `json:"name"`
		Description wireString `json:"description"`
		Amount      wireInt    `json:"amount"`
		UnitAmount  wireInt    `json:"unit_amount"`
		Quantity    wireInt    `json:"quantity"`
		Currency    wireString `json:"currency"`
	}
	if err := decodeObject(b, &w); err != nil {
		return err
	}
	amount := w.Amount
	if amount == 0 {
		amount = w.UnitAmount
	}
	*li = InvoiceLineItem{ID: string(w.ID), Name: string(w.Name), Description: string(w.Description),
		Amount: int64(amount), Quantity: int64(w.Quantity), Currency: upper(w.Currency)}
	return nil
}

// Invoice is a Razorpay invoice (inv_…). Status is one of draft, issued,
// partially_paid, paid, cancelled, expired, deleted.
type Invoice struct {
	ID             string
	Status         string
	CustomerID     string
	Receipt        string
	InvoiceNumber  string
	Description    string
	Currency       string
	Amount         int64
	AmountPaid     int64
	AmountDue      int64
	ShortURL       string
	OrderID        string
	PaymentID      string
	PartialPayment bool
	LineItems      []InvoiceLineItem
	Notes          map[string]string
	ExpireBy       time.Time
	IssuedAt       time.Time
	PaidAt         time.Time
	CancelledAt    time.Time
	ExpiredAt      time.Time
	CreatedAt      time.Time
}

func (inv *Invoice) UnmarshalJSON(b []byte) error {
	var w struct {
		ID             wireString      `json:"id"`
		Status         wireString      `json:"status"`
		CustomerID     wireString      `json:"customer_id"`
		Receipt        wireString      `json:"receipt"`
		InvoiceNumber  wireString      `json:"invoice_number"`
		Description    wireString      `json:"description"`
		Currency       wireString      `json:"currency"`
		Amount         wireInt         `json:"amount"`
		AmountPaid     wireInt         `json:"amount_paid"`
		AmountDue      wireInt         `json:"amount_due"`
		ShortURL       wireString      `json:"short_url"`
		OrderID        wireString      `json:"order_id"`
		PaymentID      wireString      `json:"payment_id"`
		PartialPayment wireBool        `json:"partial_payment"`
		LineItems      json.RawMessage `json:"line_items"`
		Notes          wireNotes       `json:"notes"`
		ExpireBy       wireTime        `json:"expire_by"`
		IssuedAt       wireTime        `json:"issued_at"`
		PaidAt         wireTime        `json:"paid_at"`
		CancelledAt    wireTime        `json:"cancelled_at"`
		ExpiredAt      wireTime        `json:"expired_at"`
		CreatedAt      wireTime        `json:"created_at"`
	}
	if err := decodeObject(b, &w); err != nil {
		return err
	}
	var items []InvoiceLineItem
	if err := decodeList(w.LineItems, &items); err != nil {
		return err
	}
	*inv = Invoice{ID: string(w.ID), Status: string(w.Status), CustomerID: string(w.CustomerID), Receipt: string(w.Receipt),
		InvoiceNumber: string(w.InvoiceNumber), Description: string(w.Description), Currency: upper(w.Currency),
		Amount: int64(w.Amount), AmountPaid: int64(w.AmountPaid), AmountDue: int64(w.AmountDue),
		ShortURL: string(w.ShortURL), OrderID: string(w.OrderID), PaymentID: string(w.PaymentID),
		PartialPayment: bool(w.PartialPayment), LineItems: items, Notes: w.Notes.Map(),
		ExpireBy: w.ExpireBy.Time(), IssuedAt: w.IssuedAt.Time(), PaidAt: w.PaidAt.Time(),
		CancelledAt: w.CancelledAt.Time(), ExpiredAt: w.ExpiredAt.Time(), CreatedAt: w.CreatedAt.Time()}
	return nil
}

// LinkPayment is one payment made on a payment link, as Razorpay lists them
// in the link's "payments".
type LinkPayment struct {
	PaymentID string
	Amount    int64
	Method    string
	Status    string
	CreatedAt time.Time
}

func (p *LinkPayment) UnmarshalJSON(b []byte) error {
	var w struct {
		PaymentID wireString `json:"payment_id"`
		Amount    wireInt    `json:"amount"`
		Method    wireString `json:"method"`
		Status    wireString `json:"status"`
		CreatedAt wireTime   `json:"created_at"`
	}
	if err := decodeObject(b, &w); err != nil {
		return err
	}
	*p = LinkPayment{PaymentID: string(w.PaymentID), Amount: int64(w.Amount), Method: string(w.Method), Status: string(w.Status), CreatedAt: w.CreatedAt.Time()}
	return nil
}

// PaymentLink is a Razorpay payment link (plink_…). Status is one of
// created, partially_paid, paid, cancelled, expired.
type PaymentLink struct {
	ID                    string
	Status                string
	ShortURL              string
	Amount                int64
	AmountPaid            int64
	Currency              string
	Description           string
	ReferenceID           string
	AcceptPartial         bool
	FirstMinPartialAmount int64
	CallbackURL           string
	CallbackMethod        string
	Notes                 map[string]string
	OrderID               string
	Payments              []LinkPayment
	ExpireBy              time.Time
	ExpiredAt             time.Time
	CancelledAt           time.Time
	CreatedAt             time.Time
}

func (l *PaymentLink) UnmarshalJSON(b []byte) error {
	var w struct {
		ID                    wireString      `json:"id"`
		Status                wireString      `json:"status"`
		ShortURL              wireString      `json:"short_url"`
		Amount                wireInt         `json:"amount"`
		AmountPaid            wireInt         `json:"amount_paid"`
		Currency              wireString      `json:"currency"`
		Description           wireString      `json:"description"`
		ReferenceID           wireString      `json:"reference_id"`
		AcceptPartial         wireBool        `json:"accept_partial"`
		FirstMinPartialAmount wireInt         `json:"first_min_partial_amount"`
		CallbackURL           wireString      `json:"callback_url"`
		CallbackMethod        wireString      `json:"callback_method"`
		Notes                 wireNotes       `json:"notes"`
		OrderID               wireString      `json:"order_id"`
		Payments              json.RawMessage `json:"payments"`
		ExpireBy              wireTime        `json:"expire_by"`
		ExpiredAt             wireTime        `json:"expired_at"`
		CancelledAt           wireTime        `json:"cancelled_at"`
		CreatedAt             wireTime        `json:"created_at"`
	}
	if err := decodeObject(b, &w); err != nil {
		return err
	}
	var pays []LinkPayment
	if err := decodeList(w.Payments, &pays); err != nil {
		return err
	}
	*l = PaymentLink{ID: string(w.ID), Status: string(w.Status), ShortURL: string(w.ShortURL),
		Amount: int64(w.Amount), AmountPaid: int64(w.AmountPaid), Currency: upper(w.Currency),
		Description: string(w.Description), ReferenceID: string(w.ReferenceID), AcceptPartial: bool(w.AcceptPartial),
		FirstMinPartialAmount: int64(w.FirstMinPartialAmount), CallbackURL: string(w.CallbackURL),
		CallbackMethod: string(w.CallbackMethod), Notes: w.Notes.Map(), OrderID: string(w.OrderID), Payments: pays,
		ExpireBy: w.ExpireBy.Time(), ExpiredAt: w.ExpiredAt.Time(), CancelledAt: w.CancelledAt.Time(), CreatedAt: w.CreatedAt.Time()}
	return nil
}

// Payment is a Razorpay payment (pay_…). Status is one of created,
// authorized, captured, refunded, failed.
type Payment struct {
	ID               string
	Status           string
	Amount           int64
	AmountRefunded   int64
	RefundStatus     string // "", "partial", "full"
	Captured         bool
	Currency         string
	OrderID          string
	InvoiceID        string
	CustomerID       string
	Method           string
	Description      string
	Email            string
	Contact          string
	ErrorCode        string
	ErrorDescription string
	ErrorSource      string
	ErrorStep        string
	ErrorReason      string
	Notes            map[string]string
	CreatedAt        time.Time
}

func (p *Payment) UnmarshalJSON(b []byte) error {
	var w struct {
		ID               wireString `json:"id"`
		Status           wireString `json:"status"`
		Amount           wireInt    `json:"amount"`
		AmountRefunded   wireInt    `json:"amount_refunded"`
		RefundStatus     wireString `json:"refund_status"`
		Captured         wireBool   `json:"captured"`
		Currency         wireString `json:"currency"`
		OrderID          wireString `json:"order_id"`
		InvoiceID        wireString `json:"invoice_id"`
		CustomerID       wireString `json:"customer_id"`
		Method           wireString `json:"method"`
		Description      wireString `json:"description"`
		Email            wireString `json:"email"`
		Contact          wireString `json:"contact"`
		ErrorCode        wireString `json:"error_code"`
		ErrorDescription wireString `json:"error_description"`
		ErrorSource      wireString `json:"error_source"`
		ErrorStep        wireString `json:"error_step"`
		ErrorReason      wireString `json:"error_reason"`
		Notes            wireNotes  `json:"notes"`
		CreatedAt        wireTime   `json:"created_at"`
	}
	if err := decodeObject(b, &w); err != nil {
		return err
	}
	*p = Payment{ID: string(w.ID), Status: string(w.Status), Amount: int64(w.Amount), AmountRefunded: int64(w.AmountRefunded),
		RefundStatus: string(w.RefundStatus), Captured: bool(w.Captured), Currency: upper(w.Currency),
		OrderID: string(w.OrderID), InvoiceID: string(w.InvoiceID), CustomerID: string(w.CustomerID),
		Method: string(w.Method), Description: string(w.Description), Email: string(w.Email), Contact: string(w.Contact),
		ErrorCode: string(w.ErrorCode), ErrorDescription: string(w.ErrorDescription), ErrorSource: string(w.ErrorSource),
		ErrorStep: string(w.ErrorStep), ErrorReason: string(w.ErrorReason), Notes: w.Notes.Map(), CreatedAt: w.CreatedAt.Time()}
	return nil
}

// Refund is a Razorpay refund (rfnd_…). Status is one of pending,
// processed, failed.
type Refund struct {
	ID             string
	PaymentID      string
	Amount         int64
	Status         string
	Currency       string
	Receipt        string
	SpeedProcessed string
	Notes          map[string]string
	CreatedAt      time.Time
}

func (r *Refund) UnmarshalJSON(b []byte) error {
	var w struct {
		ID             wireString `json:"id"`
		PaymentID      wireString `json:"payment_id"`
		Amount         wireInt    `json:"amount"`
		Status         wireString `json:"status"`
		Currency       wireString `json:"currency"`
		Receipt        wireString `json:"receipt"`
		SpeedProcessed wireString `json:"speed_processed"`
		Notes          wireNotes  `json:"notes"`
		CreatedAt      wireTime   `json:"created_at"`
	}
	if err := decodeObject(b, &w); err != nil {
		return err
	}
	*r = Refund{ID: string(w.ID), PaymentID: string(w.PaymentID), Amount: int64(w.Amount), Status: string(w.Status),
		Currency: upper(w.Currency), Receipt: string(w.Receipt), SpeedProcessed: string(w.SpeedProcessed),
		Notes: w.Notes.Map(), CreatedAt: w.CreatedAt.Time()}
	return nil
}

// Order is a Razorpay order (order_…), as webhooks carry it. Status is one
// of created, attempted, paid.
type Order struct {
	ID         string
	Amount     int64
	AmountPaid int64
	AmountDue  int64
	Currency   string
	Receipt    string
	Status     string
	Attempts   int64
	Notes      map[string]string
	CreatedAt  time.Time
}

func (o *Order) UnmarshalJSON(b []byte) error {
	var w struct {
		ID         wireString `json:"id"`
		Amount     wireInt    `json:"amount"`
		AmountPaid wireInt    `json:"amount_paid"`
		AmountDue  wireInt    `json:"amount_due"`
		Currency   wireString `json:"currency"`
		Receipt    wireString `json:"receipt"`
		Status     wireString `json:"status"`
		Attempts   wireInt    `json:"attempts"`
		Notes      wireNotes  `json:"notes"`
		CreatedAt  wireTime   `json:"created_at"`
	}
	if err := decodeObject(b, &w); err != nil {
		return err
	}
	id := string(w.ID)
	// Razorpay's documented payment_link.paid sample shows the order's own
	// id without its "order_" prefix while the payment's order_id has it;
	// normalise so the two can be compared.
	if id != "" && !strings.HasPrefix(id, "order_") {
		id = "order_" + id
	}
	*o = Order{ID: id, Amount: int64(w.Amount), AmountPaid: int64(w.AmountPaid), AmountDue: int64(w.AmountDue),
		Currency: upper(w.Currency), Receipt: string(w.Receipt), Status: string(w.Status), Attempts: int64(w.Attempts),
		Notes: w.Notes.Map(), CreatedAt: w.CreatedAt.Time()}
	return nil
}

// decodeList decodes a JSON array into out; null, {} and absent are empty.
func decodeList[T any](b json.RawMessage, out *[]T) error {
	s := strings.TrimSpace(string(b))
	if s == "" || s[0] != '[' {
		*out = nil
		return nil
	}
	return json.Unmarshal(b, out)
}

// collection is Razorpay's list envelope.
type collection[T any] struct {
	Count int64
	Items []T
}

func (c *collection[T]) UnmarshalJSON(b []byte) error {
	var w struct {
		Count wireInt         `json:"count"`
		Items json.RawMessage `json:"items"`
	}
	if err := decodeObject(b, &w); err != nil {
		return err
	}
	c.Count = int64(w.Count)
	return decodeList(w.Items, &c.Items)
}

// linkList is the payment links list envelope {"payment_links":[…]}.
type linkList struct {
	Items []PaymentLink
}

func (l *linkList) UnmarshalJSON(b []byte) error {
	var w struct {
		Links json.RawMessage `json:"payment_links"`
		Items json.RawMessage `json:"items"`
	}
	if err := decodeObject(b, &w); err != nil {
		return err
	}
	if len(w.Links) > 0 {
		return decodeList(w.Links, &l.Items)
	}
	return decodeList(w.Items, &l.Items)
}
