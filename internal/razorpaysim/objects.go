package razorpaysim

import (
	"crypto/rand"
	"encoding/json"
	"math/big"
)

// The objects below are rendered field for field as Razorpay renders them
// (PHP-flavoured: notes [] when empty, null for absent strings, integer
// amounts, Unix seconds).

// notes marshals as [] when empty, as Razorpay's PHP does.
type notes map[string]string

func (n notes) MarshalJSON() ([]byte, error) {
	if len(n) == 0 {
		return []byte("[]"), nil
	}
	return json.Marshal(map[string]string(n))
}

// lnotes is a payment link's notes: null when empty, as Razorpay renders
// them on links.
type lnotes map[string]string

func (n lnotes) MarshalJSON() ([]byte, error) {
	if len(n) == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(map[string]string(n))
}

func (n notes) clone() notes {
	if len(n) == 0 {
		return nil
	}
	out := make(notes, len(n))
	for k, v := range n {
		out[k] = v
	}
	return out
}

// nstr is a string rendered as null when empty.
type nstr string

func (s nstr) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(s))
}

// nint is an integer rendered as null when not set.
type nint struct {
	V   int64
	Set bool
}

func (n nint) MarshalJSON() ([]byte, error) {
	if !n.Set {
		return []byte("null"), nil
	}
	return json.Marshal(n.V)
}

func some(v int64) nint { return nint{V: v, Set: true} }

// ntime is Unix seconds, null when zero.
type ntime int64

func (t ntime) MarshalJSON() ([]byte, error) {
	if t == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(int64(t))
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomID is Razorpay-like: 14 base62 characters.
func randomID(n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(idAlphabet)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b[i] = idAlphabet[v.Int64()]
	}
	return string(b)
}

func newID(prefix string) string { return prefix + "_" + randomID(14) }

type customerObj struct {
	ID        string `json:"id"`
	Entity    string `json:"entity"`
	Name      nstr   `json:"name"`
	Email     nstr   `json:"email"`
	Contact   nstr   `json:"contact"`
	GSTIN     nstr   `json:"gstin"`
	Notes     notes  `json:"notes"`
	CreatedAt int64  `json:"created_at"`
}

type customerDetails struct {
	ID              string `json:"id"`
	Name            nstr   `json:"name"`
	Email           nstr   `json:"email"`
	Contact         nstr   `json:"contact"`
	GSTIN           nstr   `json:"gstin"`
	BillingAddress  any    `json:"billing_address"`
	ShippingAddress any    `json:"shipping_address"`
	CustomerName    nstr   `json:"customer_name"`
	CustomerEmail   nstr   `json:"customer_email"`
	CustomerContact nstr   `json:"customer_contact"`
}

type lineItemObj struct {
	ID            string `json:"id"`
	ItemID        nstr   `json:"item_id"`
	RefID         nstr   `json:"ref_id"`
	RefType       nstr   `json:"ref_type"`
	Name          string `json:"name"`
	Description   nstr   `json:"description"`
	Amount        int64  `json:"amount"`
	UnitAmount    int64  `json:"unit_amount"`
	GrossAmount   int64  `json:"gross_amount"`
	TaxAmount     int64  `json:"tax_amount"`
	TaxableAmount int64  `json:"taxable_amount"`
	NetAmount     int64  `json:"net_amount"`
	Currency      string `json:"currency"`
	Type          string `json:"type"`
	TaxInclusive  bool   `json:"tax_inclusive"`
	HSNCode       nstr   `json:"hsn_code"`
	SACCode       nstr   `json:"sac_code"`
	TaxRate       nstr   `json:"tax_rate"`
	Unit          nstr   `json:"unit"`
	Quantity      int64  `json:"quantity"`
	Taxes         []any  `json:"taxes"`
}

type invoiceObj struct {
	ID                  string          `json:"id"`
	Entity              string          `json:"entity"`
	Receipt             nstr            `json:"receipt"`
	InvoiceNumber       nstr            `json:"invoice_number"`
	CustomerID          string          `json:"customer_id"`
	CustomerDetails     customerDetails `json:"customer_details"`
	OrderID             string          `json:"order_id"`
	LineItems           []lineItemObj   `json:"line_items"`
	PaymentID           nstr            `json:"payment_id"`
	Status              string          `json:"status"`
	ExpireBy            ntime           `json:"expire_by"`
	IssuedAt            ntime           `json:"issued_at"`
	PaidAt              ntime           `json:"paid_at"`
	CancelledAt         ntime           `json:"cancelled_at"`
	ExpiredAt           ntime           `json:"expired_at"`
	SMSStatus           nstr            `json:"sms_status"`
	EmailStatus         nstr            `json:"email_status"`
	Date                int64           `json:"date"`
	Terms               nstr            `json:"terms"`
	PartialPayment      bool            `json:"partial_payment"`
	GrossAmount         int64           `json:"gross_amount"`
	TaxAmount           int64           `json:"tax_amount"`
	TaxableAmount       int64           `json:"taxable_amount"`
	Amount              int64           `json:"amount"`
	AmountPaid          int64           `json:"amount_paid"`
	AmountDue           int64           `json:"amount_due"`
	Currency            string          `json:"currency"`
	CurrencySymbol      string          `json:"currency_symbol"`
	Description         nstr            `json:"description"`
	Notes               notes           `json:"notes"`
	Comment             nstr            `json:"comment"`
	ShortURL            string          `json:"short_url"`
	ViewLess            bool            `json:"view_less"`
	BillingStart        ntime           `json:"billing_start"`
	BillingEnd          ntime           `json:"billing_end"`
	Type                string          `json:"type"`
	GroupTaxesDiscounts bool            `json:"group_taxes_discounts"`
	CreatedAt           int64           `json:"created_at"`
	IdempotencyKey      nstr            `json:"idempotency_key"`

	code string
}

type linkCustomer struct {
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
	Contact string `json:"contact,omitempty"`
}

type linkNotify struct {
	Email    bool `json:"email"`
	SMS      bool `json:"sms"`
	WhatsApp bool `json:"whatsapp"`
}

type linkPaymentObj struct {
	Amount    int64  `json:"amount"`
	CreatedAt int64  `json:"created_at"`
	Method    string `json:"method"`
	PaymentID string `json:"payment_id"`
	PlinkID   string `json:"plink_id"`
	Status    string `json:"status"`
	UpdatedAt int64  `json:"updated_at"`
}

type linkObj struct {
	AcceptPartial         bool              `json:"accept_partial"`
	Amount                int64             `json:"amount"`
	AmountPaid            int64             `json:"amount_paid"`
	CallbackMethod        string            `json:"callback_method,omitempty"`
	CallbackURL           string            `json:"callback_url,omitempty"`
	CancelledAt           int64             `json:"cancelled_at"`
	CreatedAt             int64             `json:"created_at"`
	Currency              string            `json:"currency"`
	Customer              linkCustomer      `json:"customer"`
	Description           string            `json:"description"`
	ExpireBy              int64             `json:"expire_by"`
	ExpiredAt             int64             `json:"expired_at"`
	FirstMinPartialAmount int64             `json:"first_min_partial_amount"`
	ID                    string            `json:"id"`
	Notes                 lnotes            `json:"notes"`
	Notify                linkNotify        `json:"notify"`
	OrderID               string            `json:"order_id,omitempty"`
	Payments              *[]linkPaymentObj `json:"payments,omitempty"`
	ReferenceID           string            `json:"reference_id"`
	ReminderEnable        bool              `json:"reminder_enable"`
	Reminders             any               `json:"reminders"`
	ShortURL              string            `json:"short_url"`
	Status                string            `json:"status"`
	UpdatedAt             int64             `json:"updated_at"`
	UPILink               bool              `json:"upi_link"`
	UserID                string            `json:"user_id"`
	WhatsAppLink          bool              `json:"whatsapp_link"`

	payments []linkPaymentObj
	code     string
}

// api renders the link as the API answers it (with its payments list);
// the webhook snapshot has no "payments" key, as in Razorpay's samples.
func (l linkObj) api() linkObj {
	p := append([]linkPaymentObj(nil), l.payments...)
	if len(p) == 0 {
		p = nil
	}
	l.Payments = &p
	return l
}

func (l linkObj) webhook() linkObj {
	l.Payments = nil
	l.Reminders = map[string]string{"status": "failed"}
	return l
}

type orderObj struct {
	ID         string `json:"id"`
	Entity     string `json:"entity"`
	Amount     int64  `json:"amount"`
	AmountPaid int64  `json:"amount_paid"`
	AmountDue  int64  `json:"amount_due"`
	Currency   string `json:"currency"`
	Receipt    nstr   `json:"receipt"`
	OfferID    nstr   `json:"offer_id"`
	Status     string `json:"status"`
	Attempts   int64  `json:"attempts"`
	Notes      notes  `json:"notes"`
	CreatedAt  int64  `json:"created_at"`
}

type acquirerData struct {
	RRN           nstr `json:"rrn,omitempty"`
	UPITxnID      nstr `json:"upi_transaction_id,omitempty"`
	AuthCode      nstr `json:"auth_code,omitempty"`
	BankTxnID     nstr `json:"bank_transaction_id,omitempty"`
	TransactionID nstr `json:"transaction_id,omitempty"`
}

type upiObj struct {
	PayerAccountType string `json:"payer_account_type"`
	VPA              string `json:"vpa"`
}

type cardObj struct {
	ID            string `json:"id"`
	Entity        string `json:"entity"`
	Name          string `json:"name"`
	Last4         string `json:"last4"`
	Network       string `json:"network"`
	Type          string `json:"type"`
	Issuer        nstr   `json:"issuer"`
	International bool   `json:"international"`
	EMI           bool   `json:"emi"`
	SubType       string `json:"sub_type"`
}

type paymentObj struct {
	ID               string   `json:"id"`
	Entity           string   `json:"entity"`
	Amount           int64    `json:"amount"`
	Currency         string   `json:"currency"`
	Status           string   `json:"status"`
	OrderID          nstr     `json:"order_id"`
	InvoiceID        nstr     `json:"invoice_id"`
	International    bool     `json:"international"`
	Method           string   `json:"method"`
	AmountRefunded   int64    `json:"amount_refunded"`
	RefundStatus     nstr     `json:"refund_status"`
	Captured         bool     `json:"captured"`
	Description      nstr     `json:"description"`
	CardID           nstr     `json:"card_id"`
	Card             *cardObj `json:"card,omitempty"`
	Bank             nstr     `json:"bank"`
	Wallet           nstr     `json:"wallet"`
	VPA              nstr     `json:"vpa"`
	UPI              *upiObj  `json:"upi,omitempty"`
	Email            nstr     `json:"email"`
	Contact          nstr     `json:"contact"`
	CustomerID       nstr     `json:"customer_id,omitempty"`
	Notes            notes    `json:"notes"`
	Fee              nint     `json:"fee"`
	Tax              nint     `json:"tax"`
	ErrorCode        nstr     `json:"error_code"`
	ErrorDescription nstr     `json:"error_description"`
	ErrorSource      nstr     `json:"error_source"`
	ErrorStep        nstr     `json:"error_step"`
	ErrorReason      nstr     `json:"error_reason"`
	AcquirerData     any      `json:"acquirer_data"`
	CreatedAt        int64    `json:"created_at"`
}

type refundObj struct {
	ID             string         `json:"id"`
	Entity         string         `json:"entity"`
	Amount         int64          `json:"amount"`
	Currency       string         `json:"currency"`
	PaymentID      string         `json:"payment_id"`
	Notes          notes          `json:"notes"`
	Receipt        nstr           `json:"receipt"`
	AcquirerData   map[string]any `json:"acquirer_data"`
	CreatedAt      int64          `json:"created_at"`
	BatchID        nstr           `json:"batch_id"`
	Status         string         `json:"status"`
	SpeedProcessed string         `json:"speed_processed"`
	SpeedRequested string         `json:"speed_requested"`

	idempotencyKey string
	fingerprint    string // the request a keyed refund was made from
}

// snapshot marshals v now: a webhook payload is the entity as it was.
func snapshot(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

var currencySymbols = map[string]string{"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "SGD": "S$", "MYR": "RM", "AED": "د.إ"}

func currencySymbol(code string) string {
	if s, ok := currencySymbols[code]; ok {
		return s
	}
	return code
}
