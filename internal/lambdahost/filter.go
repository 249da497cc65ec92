package lambdahost

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Filter is a compiled Lambda event filter pattern (the Pattern of one
// FilterCriteria filter). It supports what Lambda's event filtering
// supports: exact string, number, boolean and null values; "" (empty);
// {"prefix"}, {"suffix"}, {"equals-ignore-case"}; {"anything-but"} with a
// value, a list, or a {"prefix"}/{"suffix"}/{"equals-ignore-case"}; {"exists"};
// {"numeric"} with =, <, <=, >, >=; nested objects; and "$or".
type Filter struct {
	pattern string
	root    map[string]any
}

// String is the pattern as given.
func (f *Filter) String() string { return f.pattern }

// CompileFilter parses and checks a pattern.
func CompileFilter(pattern string) (*Filter, error) {
	v, err := decodeJSON([]byte(pattern))
	if err != nil {
		return nil, fmt.Errorf("filter pattern %q: %w", pattern, err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("filter pattern %q: want a JSON object", pattern)
	}
	if err := checkObject(root, ""); err != nil {
		return nil, fmt.Errorf("filter pattern %q: %w", pattern, err)
	}
	return &Filter{pattern: pattern, root: root}, nil
}

// CompileFilters compiles every pattern.
func CompileFilters(patterns []string) ([]*Filter, error) {
	fs := make([]*Filter, 0, len(patterns))
	for _, p := range patterns {
		f, err := CompileFilter(p)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// MatchFilter reports whether record matches pattern. record is the record
// as Lambda sees it: a JSON-like map[string]any, JSON bytes
// (json.RawMessage or []byte), or any value that encodes to a JSON object
// (events.DynamoDBEventRecord, events.SQSMessage, …).
func MatchFilter(pattern string, record any) (bool, error) {
	f, err := CompileFilter(pattern)
	if err != nil {
		return false, err
	}
	return f.Match(record)
}

// Match reports whether record (see MatchFilter) matches f.
func (f *Filter) Match(record any) (bool, error) {
	m, err := normalizeRecord(record)
	if err != nil {
		return false, err
	}
	return matchObject(f.root, m), nil
}

// MatchAny reports whether record matches at least one filter, as Lambda
// does with a FilterCriteria's filters. No filters match everything.
func MatchAny(filters []*Filter, record any) (bool, error) {
	if len(filters) == 0 {
		return true, nil
	}
	m, err := normalizeRecord(record)
	if err != nil {
		return false, err
	}
	for _, f := range filters {
		if matchObject(f.root, m) {
			return true, nil
		}
	}
	return false, nil
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

// normalizeRecord is record as the filters see it: the value its JSON
// encoding decodes to (numbers as json.Number). A DynamoDB stream record —
// what every stream poll filters — is converted directly (streamRecordValue),
// without the encode and decode.
func normalizeRecord(record any) (map[string]any, error) {
	var b []byte
	switch r := record.(type) {
	case map[string]any:
		return r, nil
	case events.DynamoDBEventRecord:
		return streamRecordValue(r)
	case *events.DynamoDBEventRecord:
		if r != nil {
			return streamRecordValue(*r)
		}
		b = []byte("null")
	case json.RawMessage:
		b = r
	case []byte:
		b = r
	case string:
		b = []byte(r)
	default:
		var err error
		if b, err = json.Marshal(record); err != nil {
			return nil, fmt.Errorf("filter: encode record: %w", err)
		}
	}
	v, err := decodeJSON(b)
	if err != nil {
		return nil, fmt.Errorf("filter: record is not JSON: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("filter: record is not a JSON object")
	}
	return m, nil
}

// --- pattern checks ---

func checkObject(obj map[string]any, path string) error {
	if len(obj) == 0 {
		return fmt.Errorf("%s: empty object", orRoot(path))
	}
	for k, v := range obj {
		p := path + "." + k
		if k == "$or" {
			alts, ok := v.([]any)
			if !ok || len(alts) < 2 {
				return fmt.Errorf("%s: $or wants a list of at least two patterns", p)
			}
			for i, a := range alts {
				m, ok := a.(map[string]any)
				if !ok {
					return fmt.Errorf("%s[%d]: want an object", p, i)
				}
				if err := checkObject(m, p); err != nil {
					return err
				}
			}
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			if err := checkObject(v, p); err != nil {
				return err
			}
		case []any:
			if len(v) == 0 {
				return fmt.Errorf("%s: empty list of values", p)
			}
			for _, m := range v {
				if err := checkMatcher(m, p); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("%s: a rule must be a list of values or an object, got %s", p, jsonText(v))
		}
	}
	return nil
}

func orRoot(p string) string {
	if p == "" {
		return "pattern"
	}
	return strings.TrimPrefix(p, ".")
}

func checkMatcher(m any, path string) error {
	switch m := m.(type) {
	case nil, string, bool, json.Number:
		return nil
	case map[string]any:
		if len(m) != 1 {
			return fmt.Errorf("%s: a comparison object has exactly one operator, got %s", orRoot(path), jsonText(m))
		}
		for op, arg := range m {
			switch op {
			case "prefix", "suffix":
				if _, ok := arg.(string); ok {
					return nil
				}
				if eic, ok := arg.(map[string]any); ok && len(eic) == 1 {
					if _, ok := eic["equals-ignore-case"].(string); ok {
						return nil
					}
				}
				return fmt.Errorf("%s: %s wants a string", orRoot(path), op)
			case "equals-ignore-case":
				if _, ok := arg.(string); !ok {
					return fmt.Errorf("%s: equals-ignore-case wants a string", orRoot(path))
				}
			case "exists":
				if _, ok := arg.(bool); !ok {
					return fmt.Errorf("%s: exists wants true or false", orRoot(path))
				}
			case "anything-but":
				switch a := arg.(type) {
				case string, json.Number, bool:
				case []any:
					if len(a) == 0 {
						return fmt.Errorf("%s: anything-but wants a non-empty list", orRoot(path))
					}
					for _, x := range a {
						switch x.(type) {
						case string, json.Number, bool, nil:
						default:
							return fmt.Errorf("%s: anything-but lists only strings, numbers or booleans", orRoot(path))
						}
					}
				case map[string]any:
					if len(a) != 1 {
						return fmt.Errorf("%s: anything-but takes one of prefix, suffix, equals-ignore-case", orRoot(path))
					}
					for k, v := range a {
						if k != "prefix" && k != "suffix" && k != "equals-ignore-case" {
							return fmt.Errorf("%s: anything-but does not support %q", orRoot(path), k)
						}
						if _, ok := v.(string); !ok {
							if l, ok := v.([]any); !ok || k != "equals-ignore-case" || !allStrings(l) {
								return fmt.Errorf("%s: anything-but %s wants a string", orRoot(path), k)
							}
						}
					}
				default:
					return fmt.Errorf("%s: anything-but wants a value, a list or an object", orRoot(path))
				}
			case "numeric":
				return checkNumeric(arg, path)
			default:
				return fmt.Errorf("%s: unsupported operator %q (Lambda filters support prefix, suffix, equals-ignore-case, anything-but, exists, numeric)", orRoot(path), op)
			}
		}
		return nil
	default:
		return fmt.Errorf("%s: unsupported value %s", orRoot(path), jsonText(m))
	}
}

func allStrings(l []any) bool {
	for _, x := range l {
		if _, ok := x.(string); !ok {
			return false
		}
	}
	return len(l) > 0
}

func checkNumeric(arg any, path string) error {
	l, ok := arg.([]any)
	if !ok || (len(l) != 2 && len(l) != 4) {
		return fmt.Errorf("%s: numeric wants [op, number] or [op, number, op, number]", orRoot(path))
	}
	for i := 0; i < len(l); i += 2 {
		op, ok := l[i].(string)
		if !ok || !validNumericOp(op) {
			return fmt.Errorf("%s: numeric operator %s: want one of =, <, <=, >, >=", orRoot(path), jsonText(l[i]))
		}
		if _, ok := l[i+1].(json.Number); !ok {
			return fmt.Errorf("%s: numeric operand %s is not a number", orRoot(path), jsonText(l[i+1]))
		}
		if len(l) == 4 && (op == "=" || i == 2 && sameDirection(l[0].(string), op)) {
			return fmt.Errorf("%s: a numeric range needs a lower and an upper bound", orRoot(path))
		}
	}
	return nil
}

func validNumericOp(op string) bool {
	switch op {
	case "=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

func sameDirection(a, b string) bool {
	return strings.HasPrefix(a, "<") == strings.HasPrefix(b, "<")
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// --- matching ---

func matchObject(pat map[string]any, rec map[string]any) bool {
	// Deterministic order helps nothing semantically but keeps debugging sane.
	keys := make([]string, 0, len(pat))
	for k := range pat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := pat[k]
		if k == "$or" {
			ok := false
			for _, alt := range p.([]any) {
				if matchObject(alt.(map[string]any), rec) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
			continue
		}
		v, present := rec[k]
		switch p := p.(type) {
		case map[string]any:
			if !matchNested(p, v, present) {
				return false
			}
		case []any:
			if !matchLeaf(p, v, present) {
				return false
			}
		}
	}
	return true
}

func matchNested(p map[string]any, v any, present bool) bool {
	switch v := v.(type) {
	case map[string]any:
		return matchObject(p, v)
	case []any: // an array of objects matches if one element does
		for _, e := range v {
			if m, ok := e.(map[string]any); ok && matchObject(p, m) {
				return true
			}
		}
		return matchObject(p, nil)
	default:
		_ = present
		return matchObject(p, nil) // only exists:false rules can match
	}
}

func matchLeaf(matchers []any, v any, present bool) bool {
	if !present {
		for _, m := range matchers {
			if op, ok := m.(map[string]any); ok {
				if e, ok := op["exists"].(bool); ok && !e {
					return true
				}
			}
		}
		return false
	}
	if arr, ok := v.([]any); ok { // a list value matches if one element does
		for _, m := range matchers {
			if op, ok := m.(map[string]any); ok {
				if e, ok := op["exists"].(bool); ok {
					if e {
						return true
					}
					continue
				}
			}
			for _, e := range arr {
				if matchValue(m, e) {
					return true
				}
			}
		}
		return false
	}
	for _, m := range matchers {
		if matchValue(m, v) {
			return true
		}
	}
	return false
}

func matchValue(m, v any) bool {
	switch m := m.(type) {
	case nil:
		return v == nil
	case string:
		s, ok := v.(string)
		return ok && s == m
	case bool:
		b, ok := v.(bool)
		return ok && b == m
	case json.Number:
		return numEqual(m, v)
	case map[string]any:
		for op, arg := range m {
			return matchOp(op, arg, v)
		}
	}
	return false
}

func matchOp(op string, arg, v any) bool {
	switch op {
	case "exists":
		return arg.(bool) // v is present here
	case "prefix", "suffix":
		s, ok := v.(string)
		if !ok {
			return false
		}
		want, ignoreCase := affix(arg)
		if ignoreCase {
			s, want = strings.ToLower(s), strings.ToLower(want)
		}
		if op == "prefix" {
			return strings.HasPrefix(s, want)
		}
		return strings.HasSuffix(s, want)
	case "equals-ignore-case":
		s, ok := v.(string)
		return ok && strings.EqualFold(s, arg.(string))
	case "anything-but":
		switch a := arg.(type) {
		case []any:
			for _, x := range a {
				if matchValue(x, v) {
					return false
				}
			}
			return true
		case map[string]any:
			s, ok := v.(string)
			if !ok {
				return false
			}
			for k, x := range a {
				switch k {
				case "prefix":
					return !strings.HasPrefix(s, x.(string))
				case "suffix":
					return !strings.HasSuffix(s, x.(string))
				case "equals-ignore-case":
					if xs, ok := x.(string); ok {
						return !strings.EqualFold(s, xs)
					}
					for _, e := range x.([]any) {
						if strings.EqualFold(s, e.(string)) {
							return false
						}
					}
					return true
				}
			}
			return false
		default:
			return !matchValue(a, v)
		}
	case "numeric":
		n, ok := toRat(v)
		if !ok {
			return false
		}
		l := arg.([]any)
		for i := 0; i < len(l); i += 2 {
			bound, _ := toRat(l[i+1])
			c := n.Cmp(bound)
			var hold bool
			switch l[i].(string) {
			case "=":
				hold = c == 0
			case "<":
				hold = c < 0
			case "<=":
				hold = c <= 0
			case ">":
				hold = c > 0
			case ">=":
				hold = c >= 0
			}
			if !hold {
				return false
			}
		}
		return true
	}
	return false
}

func affix(arg any) (string, bool) {
	if s, ok := arg.(string); ok {
		return s, false
	}
	return arg.(map[string]any)["equals-ignore-case"].(string), true
}

func numEqual(m json.Number, v any) bool {
	a, ok1 := toRat(m)
	b, ok2 := toRat(v)
	return ok1 && ok2 && a.Cmp(b) == 0
}

// toRat reads a JSON number exactly (no float rounding for json.Number).
func toRat(v any) (*big.Rat, bool) {
	r := new(big.Rat)
	switch n := v.(type) {
	case json.Number:
		_, ok := r.SetString(string(n))
		return r, ok
	case int:
		return r.SetInt64(int64(n)), true
	case int64:
		return r.SetInt64(n), true
	case float64: // only from callers' own maps
		return r.SetString(strconv.FormatFloat(n, 'g', -1, 64))
	}
	return nil, false
}

// streamRecordValue is what json.Marshal(r) decodes to (decodeJSON), built
// from the struct: the field names of events.DynamoDBEventRecord's JSON
// tags, Keys and images omitted when empty, attribute values as
// DynamoDBAttributeValue.MarshalJSON writes them ({"S": …}, {"N": "…"}, B
// in base64, …). TestStreamRecordValueIsItsJSON holds it to that.
func streamRecordValue(r events.DynamoDBEventRecord) (map[string]any, error) {
	at, err := r.Change.ApproximateCreationDateTime.MarshalJSON() // what json.Marshal writes for it
	if err != nil {
		return nil, fmt.Errorf("filter: encode record: %w", err)
	}
	change := map[string]any{
		"ApproximateCreationDateTime": json.Number(at),
		"SequenceNumber":              r.Change.SequenceNumber,
		"SizeBytes":                   json.Number(strconv.FormatInt(r.Change.SizeBytes, 10)),
		"StreamViewType":              r.Change.StreamViewType,
	}
	for name, img := range map[string]map[string]events.DynamoDBAttributeValue{"Keys": r.Change.Keys, "NewImage": r.Change.NewImage, "OldImage": r.Change.OldImage} {
		if len(img) > 0 {
			v, err := attrMapValue(img)
			if err != nil {
				return nil, err
			}
			change[name] = v
		}
	}
	m := map[string]any{
		"awsRegion": r.AWSRegion, "dynamodb": change, "eventID": r.EventID, "eventName": r.EventName,
		"eventSource": r.EventSource, "eventVersion": r.EventVersion, "eventSourceARN": r.EventSourceArn,
	}
	if u := r.UserIdentity; u != nil {
		m["userIdentity"] = map[string]any{"type": u.Type, "principalId": u.PrincipalID}
	}
	return m, nil
}

func attrMapValue(img map[string]events.DynamoDBAttributeValue) (map[string]any, error) {
	if img == nil {
		return nil, nil
	}
	out := make(map[string]any, len(img))
	for k, av := range img {
		v, err := attrValue(av)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// attrValue is the decoded JSON of one attribute value; a nil list, set or
// binary is JSON null, as json.Marshal writes it.
func attrValue(av events.DynamoDBAttributeValue) (any, error) {
	var v any
	switch av.DataType() {
	case events.DataTypeString:
		return map[string]any{"S": av.String()}, nil
	case events.DataTypeNumber:
		return map[string]any{"N": av.Number()}, nil
	case events.DataTypeBoolean:
		return map[string]any{"BOOL": av.Boolean()}, nil
	case events.DataTypeNull:
		return map[string]any{"NULL": true}, nil
	case events.DataTypeBinary:
		if b := av.Binary(); b != nil {
			v = base64.StdEncoding.EncodeToString(b)
		}
		return map[string]any{"B": v}, nil
	case events.DataTypeStringSet:
		return map[string]any{"SS": stringsValue(av.StringSet())}, nil
	case events.DataTypeNumberSet:
		return map[string]any{"NS": stringsValue(av.NumberSet())}, nil
	case events.DataTypeBinarySet:
		if bs := av.BinarySet(); bs != nil {
			l := make([]any, len(bs))
			for i, b := range bs {
				if b != nil {
					l[i] = base64.StdEncoding.EncodeToString(b)
				}
			}
			v = l
		}
		return map[string]any{"BS": v}, nil
	case events.DataTypeList:
		if l := av.List(); l != nil {
			out := make([]any, len(l))
			for i, e := range l {
				var err error
				if out[i], err = attrValue(e); err != nil {
					return nil, err
				}
			}
			v = out
		}
		return map[string]any{"L": v}, nil
	case events.DataTypeMap:
		m, err := attrMapValue(av.Map())
		if err != nil {
			return nil, err
		}
		if m != nil {
			v = m
		}
		return map[string]any{"M": v}, nil
	}
	return nil, fmt.Errorf("filter: encode record: attribute value of unknown type %v", av.DataType())
}

func stringsValue(ss []string) any {
	if ss == nil {
		return nil
	}
	l := make([]any, len(ss))
	for i, s := range ss {
		l[i] = s
	}
	return l
}
