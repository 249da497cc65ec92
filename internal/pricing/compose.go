package pricing

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/razorbill/razorbill/internal/money"
)

// Charge types of a plan.
const (
	Fixed = "FIXED" // a fee per period, billed in advance
	Usage = "USAGE" // a meter's quantity priced by a model, billed in arrears
)

// DefaultTaxRate is the GST rate of a charge that names none (percent).
var DefaultTaxRate = decimal.NewFromInt(18)

// Charge is one charge of a plan version.
type Charge struct {
	Type        string
	DisplayName string
	Amount      decimal.Decimal // FIXED: the fee per period
	MeterID     string          // USAGE
	Price       Price           // USAGE
	TaxRate     decimal.Decimal // percent
	SACCode     string
}

// Line is one line of a composed invoice.
type Line struct {
	Type        string
	DisplayName string
	Description string
	Quantity    decimal.Decimal
	UnitAmount  *decimal.Decimal // PER_UNIT and FIXED; nil for package and tiered prices
	MeterID     string
	Period      Period
	Amount      int64 // before discount, minor units
	Discount    int64
	TaxRate     decimal.Decimal
	SACCode     string
}

// Bill is a composed invoice: lines, subtotal (before discount), discount,
// taxes and total (subtotal − discount + tax), all in minor units.
type Bill struct {
	Lines    []Line
	Subtotal int64
	// Discount is the coupon's and the credit's; Credit is the credit's
	// part, UnappliedCredit what the lines could not absorb.
	Discount        int64
	Credit          int64
	UnappliedCredit int64
	Taxes           []TaxLine
	Tax             int64
	Total           int64
}

// BillInput is what one invoice of a subscription is made from.
type BillInput struct {
	Currency money.Currency
	Charges  []Charge
	// UsagePeriod is the period whose usage is billed (in arrears); Usage
	// holds each meter's quantity over it. Nil: no usage on this invoice.
	UsagePeriod *Period
	Usage       map[string]decimal.Decimal
	// FixedPeriod is the period whose fixed fees are billed (in advance),
	// prorated by its days over the whole period's. Nil: no fixed fee.
	FixedPeriod *Period
	Coupon      *Coupon
	// CreditPeriod is days of fixed fees billed earlier and given back (a
	// cancel inside a period): each fixed charge's prorated fee for them is
	// taken off the lines, in order, after the coupon, never below zero.
	CreditPeriod *Period
	// PeriodNumber is the subscription's period this invoice is for (1 = first).
	PeriodNumber int
	IntraState   bool
}

// Compose prices every charge, applies the coupon (before tax) and GST.
func Compose(in BillInput) (Bill, error) {
	var b Bill
	for _, c := range in.Charges {
		rate := c.TaxRate
		switch c.Type {
		case Fixed:
			if in.FixedPeriod == nil {
				continue
			}
			fee, err := Round(c.Amount, in.Currency)
			if err != nil {
				return b, err
			}
			p := *in.FixedPeriod
			amount, err := Prorate(fee, p.Days(), p.FullDays(), in.Currency)
			if err != nil {
				return b, err
			}
			q := decimal.NewFromInt(1)
			desc := fmt.Sprintf("%s to %s", day(p.Start), day(p.End))
			if p.Days() != p.FullDays() {
				q = decimal.NewFromInt(int64(p.Days())).DivRound(decimal.NewFromInt(int64(p.FullDays())), 6)
				desc += fmt.Sprintf(" (%d of %d days)", p.Days(), p.FullDays())
			}
			unit := c.Amount
			b.Lines = append(b.Lines, Line{Type: Fixed, DisplayName: c.DisplayName, Description: desc, Quantity: q, UnitAmount: &unit,
				Period: p, Amount: amount, TaxRate: rate, SACCode: c.SACCode})
		case Usage:
			if in.UsagePeriod == nil {
				continue
			}
			q := in.Usage[c.MeterID]
			exact, err := c.Price.Amount(q)
			if err != nil {
				return b, err
			}
			amount, err := Round(exact, in.Currency)
			if err != nil {
				return b, err
			}
			var unit *decimal.Decimal
			if c.Price.Model == PerUnit {
				u := c.Price.UnitAmount
				unit = &u
			}
			p := *in.UsagePeriod
			b.Lines = append(b.Lines, Line{Type: Usage, DisplayName: c.DisplayName, MeterID: c.MeterID, Quantity: q, UnitAmount: unit, Period: p,
				Description: fmt.Sprintf("usage %s to %s, meter %s", day(p.Start), day(p.End), c.MeterID), Amount: amount, TaxRate: rate, SACCode: c.SACCode})
		default:
			return b, fmt.Errorf("charge type %q", c.Type)
		}
	}
	amounts := make([]int64, len(b.Lines))
	for i, l := range b.Lines {
		amounts[i] = l.Amount
		var err error
		if b.Subtotal, err = money.Add(b.Subtotal, l.Amount); err != nil { // fails rather than wrap around
			return b, err
		}
	}
	if in.Coupon != nil && in.Coupon.AppliesTo(in.PeriodNumber) {
		ds, err := in.Coupon.Discounts(amounts, in.Currency)
		if err != nil {
			return b, err
		}
		for i := range b.Lines {
			b.Lines[i].Discount = ds[i]
			b.Discount += ds[i]
		}
	}
	if p := in.CreditPeriod; p != nil {
		var credit int64
		for _, c := range in.Charges {
			if c.Type != Fixed {
				continue
			}
			fee, err := Round(c.Amount, in.Currency)
			if err != nil {
				return b, err
			}
			part, err := Prorate(fee, p.Days(), p.FullDays(), in.Currency)
			if err != nil {
				return b, err
			}
			credit += part
		}
		for i := range b.Lines {
			take := min(credit, b.Lines[i].Amount-b.Lines[i].Discount)
			b.Lines[i].Discount += take
			b.Discount += take
			b.Credit += take
			credit -= take
		}
		b.UnappliedCredit = credit
	}
	taxable := make([]int64, len(b.Lines))
	rates := make([]decimal.Decimal, len(b.Lines))
	for i, l := range b.Lines {
		taxable[i], rates[i] = l.Amount-l.Discount, l.TaxRate
	}
	taxes, err := GST(taxable, rates, in.IntraState, in.Currency)
	if err != nil {
		return b, err
	}
	b.Taxes = taxes
	for _, t := range taxes {
		if b.Tax, err = money.Add(b.Tax, t.Amount); err != nil {
			return b, err
		}
	}
	b.Total, err = money.Add(b.Subtotal, -b.Discount, b.Tax)
	return b, err
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
