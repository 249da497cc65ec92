package billing

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/money"
)

// Limits on input.
const (
	MaxLineItems       = 250
	MaxMetadataKeys    = 20
	MaxMetadataKeyLen  = 40
	MaxMetadataValLen  = 500
	MaxNameLen         = 200
	MaxExternalIDLen   = 255
	MaxInvoiceNumLen   = 40 // Razorpay's receipt limit: the number is sent as the receipt
	MaxDisplayNameLen  = 250
	MaxDescriptionLen  = 1000
	MaxIdempotencyKey  = 255
	MaxLineItemsPerRzp = 50
	// MaxInvoiceText bounds the text an invoice holds (line names,
	// descriptions, quantities, metadata), keeping its record well inside
	// DynamoDB's 400 KB item limit together with its other attributes.
	MaxInvoiceText = 300_000
)

// MoneyError turns a money package error into an API error on field.
func MoneyError(err error, field string) error {
	var me *money.Error
	if errors.As(err, &me) {
		code := me.Code
		if code == "negative_amount" || code == "too_many_decimals" || code == "invalid_amount" || code == "amount_overflow" {
			code = "validation_failed"
		}
		return apperr.InvalidField(code, field, "%s: %s", field, me.Message)
	}
	return apperr.InvalidField("validation_failed", field, "%s: %v", field, err)
}

// Currency parses a currency field.
func Currency(code, field string) (money.Currency, error) {
	c, err := money.LookupCurrency(code)
	if err != nil {
		return money.Currency{}, apperr.InvalidField("validation_failed", field, "%v", err)
	}
	return c, nil
}

// ValidateMetadata checks metadata's size.
func ValidateMetadata(m map[string]string, field string) error {
	if len(m) > MaxMetadataKeys {
		return apperr.InvalidField("validation_failed", field, "metadata has %d keys; at most %d are allowed", len(m), MaxMetadataKeys)
	}
	for k, v := range m {
		if k == "" || len(k) > MaxMetadataKeyLen {
			return apperr.InvalidField("validation_failed", field, "metadata key %q must be 1–%d characters", k, MaxMetadataKeyLen)
		}
		if len(v) > MaxMetadataValLen {
			return apperr.InvalidField("validation_failed", field+"."+k, "metadata value is longer than %d characters", MaxMetadataValLen)
		}
	}
	return nil
}

// isE164 reports whether s is ^\+[1-9][0-9]{6,14}$ (written out, so that
// no regular expression is compiled at every function's init).
func isE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidateEmail checks an optional email address.
func ValidateEmail(s, field string) error {
	if s == "" {
		return nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndex(s, "@"):], ".") {
		return apperr.InvalidField("validation_failed", field, "%q is not an email address like name@example.com", s)
	}
	return nil
}

// ValidatePhone checks an optional phone number in E.164 form.
func ValidatePhone(s, field string) error {
	if s == "" {
		return nil
	}
	if !isE164(s) {
		return apperr.InvalidField("validation_failed", field, "%q is not a phone number in E.164 form like +919876543210", s)
	}
	return nil
}

// ValidateText checks a required or optional text field's length.
func ValidateText(s, field string, required bool, max int) error {
	if required && strings.TrimSpace(s) == "" {
		return apperr.InvalidField("validation_failed", field, "%s is required", field)
	}
	if !utf8.ValidString(s) {
		return apperr.InvalidField("validation_failed", field, "%s is not valid UTF-8", field)
	}
	if utf8.RuneCountInString(s) > max {
		return apperr.InvalidField("validation_failed", field, "%s is longer than %d characters", field, max)
	}
	return nil
}

// LineItemInput is a requested line.
type LineItemInput struct {
	DisplayName string
	Description string
	PriceType   string
	Quantity    string
	UnitAmount  string
}

// InvoiceInput is a requested invoice.
type InvoiceInput struct {
	CustomerID    string
	Currency      string
	InvoiceNumber string
	DueDate       *time.Time
	PeriodStart   *time.Time
	PeriodEnd     *time.Time
	LineItems     []LineItemInput
	Metadata      map[string]string
}

func invoiceText(in InvoiceInput) int {
	n := len(in.InvoiceNumber)
	for _, li := range in.LineItems {
		n += len(li.DisplayName) + len(li.Description) + len(li.Quantity) + len(li.UnitAmount) + len(li.PriceType)
	}
	for k, v := range in.Metadata {
		n += len(k) + len(v)
	}
	return n
}

// BuildInvoice validates in and computes every amount exactly: each line's
// amount is quantity × unit_amount rounded half-up to the currency's
// exponent, the subtotal their sum, and amount_due the subtotal.
func BuildInvoice(in InvoiceInput) (Invoice, error) {
	if in.CustomerID == "" {
		return Invoice{}, apperr.InvalidField("validation_failed", "customer_id", "customer_id is required")
	}
	cur, err := Currency(in.Currency, "currency")
	if err != nil {
		return Invoice{}, err
	}
	if in.InvoiceNumber != "" {
		if err := ValidateText(in.InvoiceNumber, "invoice_number", false, MaxInvoiceNumLen); err != nil {
			return Invoice{}, err
		}
	}
	if in.PeriodStart != nil && in.PeriodEnd != nil && in.PeriodEnd.Before(*in.PeriodStart) {
		return Invoice{}, apperr.InvalidField("validation_failed", "period_end", "period_end is before period_start")
	}
	if len(in.LineItems) == 0 {
		return Invoice{}, apperr.InvalidField("validation_failed", "line_items", "an invoice needs at least one line item")
	}
	if len(in.LineItems) > MaxLineItems {
		return Invoice{}, apperr.InvalidField("validation_failed", "line_items", "an invoice has at most %d line items; got %d", MaxLineItems, len(in.LineItems))
	}
	if err := ValidateMetadata(in.Metadata, "metadata"); err != nil {
		return Invoice{}, err
	}
	if n := invoiceText(in); n > MaxInvoiceText {
		return Invoice{}, apperr.InvalidField("invoice_too_large", "line_items", "the invoice holds %d bytes of text; at most %d are allowed (shorten descriptions or split the invoice)", n, MaxInvoiceText)
	}
	inv := Invoice{
		CustomerID:    in.CustomerID,
		Currency:      cur.Code,
		InvoiceNumber: in.InvoiceNumber,
		DueDate:       utc(in.DueDate),
		PeriodStart:   utc(in.PeriodStart),
		PeriodEnd:     utc(in.PeriodEnd),
		Metadata:      nonNil(in.Metadata),
		InvoiceStatus: InvoiceDraft,
		PaymentStatus: PaymentPending,
		SyncStatus:    SyncNotSynced,
	}
	var total int64
	for i, li := range in.LineItems {
		f := fmt.Sprintf("line_items[%d]", i)
		if err := ValidateText(li.DisplayName, f+".display_name", true, MaxDisplayNameLen); err != nil {
			return Invoice{}, err
		}
		if err := ValidateText(li.Description, f+".description", false, MaxDescriptionLen); err != nil {
			return Invoice{}, err
		}
		pt := strings.ToUpper(li.PriceType)
		if pt == "" {
			pt = PriceFixed
		}
		if pt != PriceFixed && pt != PriceUsage {
			return Invoice{}, apperr.InvalidField("validation_failed", f+".price_type", "price_type must be USAGE or FIXED")
		}
		q, err := money.ParseDecimal(li.Quantity)
		if err != nil {
			return Invoice{}, MoneyError(err, f+".quantity")
		}
		if q.IsNegative() {
			return Invoice{}, apperr.InvalidField("validation_failed", f+".quantity", "quantity must not be negative")
		}
		u, err := money.ParseDecimal(li.UnitAmount)
		if err != nil {
			return Invoice{}, MoneyError(err, f+".unit_amount")
		}
		if u.IsNegative() {
			return Invoice{}, apperr.InvalidField("validation_failed", f+".unit_amount", "unit_amount must not be negative; model a discount as a lower unit amount")
		}
		amt, err := money.LineAmount(q, u, cur)
		if err != nil {
			return Invoice{}, MoneyError(err, f)
		}
		if total, err = money.Add(total, amt); err != nil {
			return Invoice{}, MoneyError(err, "line_items")
		}
		inv.LineItems = append(inv.LineItems, LineItem{
			DisplayName: li.DisplayName, Description: li.Description, PriceType: pt,
			Quantity: q.String(), UnitAmount: u.String(), Amount: amt,
		})
	}
	inv.Subtotal = total
	inv.AmountDue = total
	return inv, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
