package pricing

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/razorbill/razorbill/internal/apperr"
	"github.com/razorbill/razorbill/internal/money"
)

// MaxCharges bounds a plan's charges.
const MaxCharges = 50

// PlanVersion is one version of a plan as stored and shown: decimals are
// kept as the text sent. Versions are immutable; editing a plan makes the
// next version.
type PlanVersion struct {
	ID        string      `dynamodbav:"id" json:"id"`
	Version   int         `dynamodbav:"version" json:"version"`
	Name      string      `dynamodbav:"name" json:"name"`
	Currency  string      `dynamodbav:"currency" json:"currency"` // lower-case in answers
	Charges   []ChargeDoc `dynamodbav:"charges" json:"charges"`
	CreatedAt time.Time   `dynamodbav:"created_at" json:"created_at"`
}

// ChargeDoc is a charge as the API takes it (api.md's Plans section).
type ChargeDoc struct {
	Type          string    `dynamodbav:"type" json:"type"`
	DisplayName   string    `dynamodbav:"display_name" json:"display_name"`
	Amount        string    `dynamodbav:"amount,omitempty" json:"amount,omitempty"`
	Period        string    `dynamodbav:"period,omitempty" json:"period,omitempty"`
	MeterID       string    `dynamodbav:"meter_id,omitempty" json:"meter_id,omitempty"`
	Model         string    `dynamodbav:"model,omitempty" json:"model,omitempty"`
	UnitAmount    string    `dynamodbav:"unit_amount,omitempty" json:"unit_amount,omitempty"`
	PackageSize   string    `dynamodbav:"package_size,omitempty" json:"package_size,omitempty"`
	PackageAmount string    `dynamodbav:"package_amount,omitempty" json:"package_amount,omitempty"`
	Tiers         []TierDoc `dynamodbav:"tiers,omitempty" json:"tiers,omitempty"`
	TaxRate       string    `dynamodbav:"tax_rate,omitempty" json:"tax_rate,omitempty"`
	SACCode       string    `dynamodbav:"sac_code,omitempty" json:"sac_code,omitempty"`
}

// TierDoc is a tier as the API takes it; UpTo nil is the last tier.
type TierDoc struct {
	UpTo       *string `dynamodbav:"up_to" json:"up_to"`
	UnitAmount string  `dynamodbav:"unit_amount" json:"unit_amount"`
	FlatAmount string  `dynamodbav:"flat_amount,omitempty" json:"flat_amount,omitempty"`
}

// moneyText is an amount of cur as money is shown: with the currency's
// exponent ("4999" INR → "4999.00"). An amount with more decimals than that
// (a package or tier price below the minor unit) keeps them: it is padded,
// never rounded.
func moneyText(d decimal.Decimal, cur money.Currency) string {
	if -d.Exponent() > int32(cur.Exponent) {
		return d.String()
	}
	return d.StringFixed(int32(cur.Exponent))
}

func field(i int, name string) string { return fmt.Sprintf("charges[%d].%s", i, name) }

func decimalField(f, s string, required bool) (decimal.Decimal, error) {
	if s == "" {
		if required {
			return decimal.Zero, invalid(f, "%s is required", f)
		}
		return decimal.Zero, nil
	}
	v, err := money.ParseDecimal(s)
	if err != nil {
		return decimal.Zero, invalid(f, "%s: %s", f, err.Error())
	}
	if v.IsNegative() {
		return decimal.Zero, invalid(f, "%s must not be negative", f)
	}
	return v, nil
}

// Validate checks a new plan version (name, currency, 1–50 charges) and
// normalizes it (currency upper-case, charge types and models upper-case,
// default tax rate 18). meterExists reports whether a usage charge's meter
// is one of the environment's.
func (p *PlanVersion) Validate(meterExists func(id string) bool) error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" || utf8.RuneCountInString(p.Name) > 255 {
		return invalid("name", "name is required, at most 255 characters")
	}
	cur, err := money.LookupCurrency(p.Currency)
	if err != nil {
		return invalid("currency", "currency %q is not one Razorpay accepts", p.Currency)
	}
	p.Currency = cur.Code
	if len(p.Charges) == 0 || len(p.Charges) > MaxCharges {
		return invalid("charges", "a plan has 1 to %d charges", MaxCharges)
	}
	for i := range p.Charges {
		if _, err := p.Charges[i].normalize(i, cur, meterExists); err != nil {
			return err
		}
	}
	return nil
}

// Priced returns the plan's charges as pricing.Charge values (after Validate).
func (p PlanVersion) Priced() ([]Charge, error) {
	cur, err := money.LookupCurrency(p.Currency)
	if err != nil {
		return nil, err
	}
	out := make([]Charge, len(p.Charges))
	for i := range p.Charges {
		c := p.Charges[i]
		if out[i], err = c.normalize(i, cur, func(string) bool { return true }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *ChargeDoc) normalize(i int, cur money.Currency, meterExists func(string) bool) (Charge, error) {
	var out Charge
	c.Type = strings.ToUpper(strings.TrimSpace(c.Type))
	c.DisplayName = strings.TrimSpace(c.DisplayName)
	if c.DisplayName == "" || utf8.RuneCountInString(c.DisplayName) > 255 {
		return out, invalid(field(i, "display_name"), "%s is required, at most 255 characters", field(i, "display_name"))
	}
	rate := DefaultTaxRate
	if c.TaxRate != "" {
		r, err := decimalField(field(i, "tax_rate"), c.TaxRate, false)
		if err != nil {
			return out, err
		}
		if r.GreaterThan(decimal.NewFromInt(100)) {
			return out, invalid(field(i, "tax_rate"), "%s is a percentage from 0 to 100", field(i, "tax_rate"))
		}
		rate = r
	}
	if len(c.SACCode) > 8 || strings.Trim(c.SACCode, "0123456789") != "" {
		return out, invalid(field(i, "sac_code"), "%s is digits (SAC codes are 6 digits, e.g. 998314)", field(i, "sac_code"))
	}
	out = Charge{Type: c.Type, DisplayName: c.DisplayName, TaxRate: rate, SACCode: c.SACCode}
	switch c.Type {
	case Fixed:
		a, err := decimalField(field(i, "amount"), c.Amount, true)
		if err != nil {
			return out, err
		}
		if -a.Exponent() > int32(cur.Exponent) {
			return out, invalid(field(i, "amount"), "%s %s has more decimals than %s allows", field(i, "amount"), c.Amount, cur.Code)
		}
		if c.Period != "" {
			c.Period = strings.ToUpper(c.Period)
			if _, err := months(c.Period); err != nil {
				return out, invalid(field(i, "period"), "%s: %s", field(i, "period"), err.Error())
			}
		}
		if c.MeterID != "" || c.Model != "" || len(c.Tiers) > 0 {
			return out, invalid(field(i, "type"), "a FIXED charge has an amount, not a meter or a model")
		}
		out.Amount = a
		c.Amount = moneyText(a, cur) // "4999" is shown "4999.00" (api.md: money has the currency's exponent)
	case Usage:
		if c.MeterID == "" || !meterExists(c.MeterID) {
			return out, invalid(field(i, "meter_id"), "%s %q is not a meter of this environment", field(i, "meter_id"), c.MeterID)
		}
		c.Model = strings.ToUpper(strings.TrimSpace(c.Model))
		pr := Price{Model: c.Model}
		var err error
		switch c.Model {
		case PerUnit:
			pr.UnitAmount, err = decimalField(field(i, "unit_amount"), c.UnitAmount, true)
		case Package:
			if pr.PackageSize, err = decimalField(field(i, "package_size"), c.PackageSize, true); err == nil {
				if pr.PackageAmount, err = decimalField(field(i, "package_amount"), c.PackageAmount, true); err == nil {
					c.PackageAmount = moneyText(pr.PackageAmount, cur)
				}
			}
		case TieredGraduated, TieredVolume:
			for j, t := range c.Tiers {
				var tier Tier
				if t.UpTo != nil {
					u, err := decimalField(field(i, fmt.Sprintf("tiers[%d].up_to", j)), *t.UpTo, true)
					if err != nil {
						return out, err
					}
					tier.UpTo = &u
				}
				if tier.UnitAmount, err = decimalField(field(i, fmt.Sprintf("tiers[%d].unit_amount", j)), t.UnitAmount, true); err != nil {
					return out, err
				}
				if tier.FlatAmount, err = decimalField(field(i, fmt.Sprintf("tiers[%d].flat_amount", j)), t.FlatAmount, false); err != nil {
					return out, err
				}
				if t.FlatAmount != "" {
					c.Tiers[j].FlatAmount = moneyText(tier.FlatAmount, cur)
				}
				pr.Tiers = append(pr.Tiers, tier)
			}
		default:
			return out, invalid(field(i, "model"), "%s must be one of %s", field(i, "model"), strings.Join(Models, ", "))
		}
		if err != nil {
			return out, err
		}
		if err := pr.Validate(); err != nil {
			ae := apperr.As(err)
			return out, invalid(field(i, ae.Field), "%s: %s", field(i, ae.Field), ae.Message)
		}
		if c.Amount != "" {
			return out, invalid(field(i, "amount"), "a USAGE charge is priced by its model, not an amount")
		}
		out.MeterID, out.Price = c.MeterID, pr
	default:
		return out, invalid(field(i, "type"), "%s must be FIXED or USAGE", field(i, "type"))
	}
	return out, nil
}
