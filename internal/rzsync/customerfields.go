package rzsync

import (
	"net/mail"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/razorbill/razorbill/internal/billing"
)

// Razorpay's customer field rules (internal/razorpaysim/doc.go cites them):
// name 3–50 characters of a–z, A–Z, 0–9, space and . ' / @ ( ); email at
// most 64 characters; contact at most 15 characters including the "+";
// note values at most 256 characters.
const (
	nameMin      = 3
	nameMax      = 50
	emailMax     = 64
	contactMax   = 15
	noteValueMax = 256
)

// Notes CustomerFields may add.
const (
	NoteFullName = "full_name" // the ledger name, when the name sent differs
	NoteEmail    = "email"     // an email Razorpay would refuse, not sent
	NoteContact  = "contact"   // a phone number Razorpay would refuse, not sent
	NoteGSTIN    = "gstin"     // a GSTIN whose check character is wrong, not sent
)

// RazorpayCustomer is what Razorbill sends Razorpay for a ledger customer:
// only values Razorpay accepts, and notes keeping what had to change.
type RazorpayCustomer struct {
	Name, Email, Contact, GSTIN string
	Notes                       map[string]string // NoteFullName, NoteEmail, NoteContact, NoteGSTIN when they apply
}

// CustomerFields normalises a ledger customer for Razorpay. The name is
// ASCII-folded (é → e, ß → ss), "&" becomes "and", every other character
// Razorpay refuses becomes a space, spaces are collapsed; a name with no
// letter or digit left (Devanagari, Tamil, …) is replaced by one built from
// the email's local part, the external id or the customer id; a name
// shorter than 3 is padded with "."; a longer one is cut at 50 on a word
// boundary. An email or phone number Razorpay would refuse is left out and
// kept in the notes instead; so is a GSTIN whose check character is wrong
// (accepted by the API with a warning, billing.GSTINWarning).
func CustomerFields(c billing.Customer) RazorpayCustomer {
	out := RazorpayCustomer{Notes: map[string]string{}}
	local := ""
	if i := strings.LastIndex(c.Email, "@"); i > 0 {
		local = c.Email[:i]
	}
	out.Name = NormalizeName(c.Name, local, c.ExternalID, c.ID)
	if out.Name != strings.TrimSpace(c.Name) && c.Name != "" {
		out.Notes[NoteFullName] = truncateRunes(c.Name, noteValueMax)
	}
	if e := strings.TrimSpace(c.Email); e != "" {
		if validEmail(e) {
			out.Email = e
		} else {
			out.Notes[NoteEmail] = truncateRunes(e, noteValueMax)
		}
	}
	if p := strings.TrimSpace(c.Phone); p != "" {
		if n, ok := normalizeContact(p); ok {
			out.Contact = n
		} else {
			out.Notes[NoteContact] = truncateRunes(p, noteValueMax)
		}
	}
	if c.GSTIN != "" {
		if billing.GSTINWarning(c.GSTIN) == "" {
			out.GSTIN = c.GSTIN
		} else {
			out.Notes[NoteGSTIN] = c.GSTIN
		}
	}
	return out
}

// NormalizeName turns name into one Razorpay accepts, falling back in turn
// on each of fallbacks when nothing usable is left of it.
func NormalizeName(name string, fallbacks ...string) string {
	for _, cand := range append([]string{name}, fallbacks...) {
		n := foldName(cand)
		if hasAlnum(n) {
			return fitName(n)
		}
	}
	return "Customer"
}

// foldName maps every character to what Razorpay accepts (see
// NormalizeName) and collapses spaces.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		case strings.ContainsRune(".'/@()", r):
			b.WriteRune(r)
		case r == '’' || r == '‘' || r == 'ʼ':
			b.WriteByte('\'')
		case r == '&':
			b.WriteString(" and ")
		default:
			if f, ok := latinFold()[r]; ok {
				b.WriteString(f)
			} else {
				b.WriteByte(' ') // a separator, or a script Razorpay refuses
			}
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func hasAlnum(s string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return true
		}
	}
	return false
}

// fitName pads a short name and cuts a long one at a word boundary.
func fitName(n string) string {
	if len(n) > nameMax { // ASCII only by now: bytes are characters
		cut := n[:nameMax+1]
		if i := strings.LastIndexByte(cut, ' '); i >= nameMin {
			n = cut[:i]
		} else {
			n = n[:nameMax]
		}
		n = strings.TrimSpace(n)
	}
	for len(n) < nameMin {
		n += "."
	}
	return n
}

func validEmail(e string) bool {
	if utf8.RuneCountInString(e) > emailMax {
		return false
	}
	a, err := mail.ParseAddress(e)
	return err == nil && a.Address == e && strings.Contains(e[strings.LastIndex(e, "@"):], ".")
}

// normalizeContact drops the spaces, dashes, dots and parentheses people
// write in phone numbers; ok is false unless what is left is an optional
// "+" and 8 or more digits, 15 characters at most.
func normalizeContact(p string) (string, bool) {
	var b strings.Builder
	for i, r := range p {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case strings.ContainsRune(" -.()", r):
		default:
			return "", false
		}
	}
	n := b.String()
	digits := len(strings.TrimPrefix(n, "+"))
	return n, digits >= 8 && len(n) <= contactMax
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// latinFold spells accented Latin letters in ASCII. The map is built at its
// first use, not in package init (every function that links rzsync would
// pay for it at start: issue 17's init time).
var latinFold = sync.OnceValue(func() map[rune]string {
	m := map[rune]string{}
	add := func(ascii string, letters string) {
		for _, r := range letters {
			m[r] = ascii
		}
	}
	add("A", "ÀÁÂÃÄÅĀĂĄǍ")
	add("a", "àáâãäåāăąǎª")
	add("AE", "Æ")
	add("ae", "æ")
	add("C", "ÇĆĈĊČ")
	add("c", "çćĉċč")
	add("D", "ĎĐÐ")
	add("d", "ďđð")
	add("E", "ÈÉÊËĒĔĖĘĚ")
	add("e", "èéêëēĕėęě")
	add("G", "ĜĞĠĢ")
	add("g", "ĝğġģ")
	add("H", "ĤĦ")
	add("h", "ĥħ")
	add("I", "ÌÍÎÏĨĪĬĮİ")
	add("i", "ìíîïĩīĭįı")
	add("J", "Ĵ")
	add("j", "ĵ")
	add("K", "Ķ")
	add("k", "ķ")
	add("L", "ĹĻĽĿŁ")
	add("l", "ĺļľŀł")
	add("N", "ÑŃŅŇ")
	add("n", "ñńņň")
	add("O", "ÒÓÔÕÖØŌŎŐǑ")
	add("o", "òóôõöøōŏőǒº")
	add("OE", "Œ")
	add("oe", "œ")
	add("R", "ŔŖŘ")
	add("r", "ŕŗř")
	add("S", "ŚŜŞŠȘ")
	add("s", "śŝşšș")
	add("ss", "ß")
	add("T", "ŢŤŦȚ")
	add("t", "ţťŧț")
	add("TH", "Þ")
	add("th", "þ")
	add("U", "ÙÚÛÜŨŪŬŮŰŲǓ")
	add("u", "ùúûüũūŭůűųǔ")
	add("W", "Ŵ")
	add("w", "ŵ")
	add("Y", "ÝŶŸ")
	add("y", "ýÿŷ")
	add("Z", "ŹŻŽ")
	add("z", "źżž")
	return m
})
