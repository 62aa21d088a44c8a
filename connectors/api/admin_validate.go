package api

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Limits of configuration fields. Strings are counted in UTF-8 bytes.
const (
	maxNameBytes        = 255
	maxDescriptionBytes = 1024
)

// decodeDocument decodes a configuration document into v, a request type
// of pointer fields, with decodeStrict. When it finds unknown fields or
// values of the wrong type but the document is a well-formed object, it
// still fills v as far as it can and reports ok, so that the caller's
// checks of the other fields run too and one answer names every bad field.
func decodeDocument(doc []byte, v any) (errs []FieldError, ok bool) {
	errs = decodeStrict(doc, v)
	if errs == nil {
		return nil, true
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(doc, &obj) != nil {
		return errs, false // malformed, or not an object
	}
	err := json.Unmarshal(doc, v)
	var te *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &te) {
		return errs, false // a value type refused its value and decoding stopped
	}
	return errs, true
}

// mergeFieldErrors appends to first the errors of second whose field, or
// a field containing it, first does not name already.
func mergeFieldErrors(first, second []FieldError) []FieldError {
	out := first
	for _, e := range second {
		dup := false
		for _, f := range first {
			if e.Param == f.Param || strings.HasPrefix(e.Param, f.Param+"/") {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out
}

// requiredName checks a required display name: non-blank, at most 255
// bytes.
func (v *validator) requiredName(param string, s *string) string {
	switch {
	case s == nil:
		v.add(param, "is required", nil)
	case strings.TrimSpace(*s) == "":
		v.add(param, "must not be blank", *s)
	case len(*s) > maxNameBytes:
		v.add(param, "must be at most "+strconv.Itoa(maxNameBytes)+" bytes", nil)
	default:
		return *s
	}
	return ""
}

// text checks an optional string of at most limit bytes.
func (v *validator) text(param string, s *string, limit int) *string {
	if s != nil && len(*s) > limit {
		v.add(param, "must be at most "+strconv.Itoa(limit)+" bytes", nil)
		return nil
	}
	return s
}

// enum checks that s is one of allowed. An absent s takes def, or is
// reported as required when def is "".
func (v *validator) enum(param string, s *string, def string, allowed ...string) string {
	switch {
	case s == nil && def == "":
		v.add(param, "is required", nil)
	case s == nil:
		return def
	case !contains(allowed, *s):
		v.add(param, "must be one of "+strings.Join(allowed, ", "), *s)
	default:
		return *s
	}
	return ""
}

// instant checks a required RFC 3339 date-time with an offset and returns
// it as the API writes instants: UTC with milliseconds.
func (v *validator) instant(param string, s *string) (string, time.Time) {
	if s == nil {
		v.add(param, "is required", nil)
		return "", time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		v.add(param, "must be an RFC 3339 date-time with an offset, such as 2026-01-01T00:00:00Z", *s)
		return "", time.Time{}
	}
	t = t.UTC().Truncate(time.Millisecond)
	return formatTime(t), t
}

// periodJSON is a period as clients send it: {"n": 1, "unit": "year"}.
type periodJSON struct {
	N    *int64  `json:"n"`
	Unit *string `json:"unit"`
}

// period is a validated period.
type period struct {
	N    int64  `json:"n"`
	Unit string `json:"unit"`
}

// periodBounds gives, per allowed unit, the smallest and largest n.
type periodBounds map[string][2]int64

// units lists the bounds' units in a stable order for messages.
func (b periodBounds) units() []string {
	order := []string{"minute", "hour", "day", "month", "year"}
	out := make([]string, 0, len(b))
	for _, u := range order {
		if _, ok := b[u]; ok {
			out = append(out, u)
		}
	}
	return out
}

// Period bounds used by several kinds. Five years is taken as 1827 days,
// the most five calendar years can hold.
var (
	// upToFiveYears: at least one unit, at most five years.
	upToFiveYears = periodBounds{"day": {1, 1827}, "month": {1, 60}, "year": {1, 5}}
	// oneToFiveYears: from one year to five years.
	oneToFiveYears = periodBounds{"month": {12, 60}, "year": {1, 5}}
)

// period checks a required period against bounds.
func (v *validator) period(param string, p *periodJSON, bounds periodBounds) *period {
	if p == nil {
		v.add(param, "is required", nil)
		return nil
	}
	return v.periodFields(param, p.N, p.Unit, bounds)
}

// periodFields checks the n and unit members of a period, which segment
// expiry holds beside its mode rather than in a nested object.
func (v *validator) periodFields(param string, n *int64, unit *string, bounds periodBounds) *period {
	before := len(v.errs)
	u := v.enum(param+"/unit", unit, "", bounds.units()...)
	if n == nil {
		v.add(param+"/n", "is required", nil)
	}
	if len(v.errs) > before {
		return nil
	}
	lim := bounds[u]
	if *n < lim[0] || *n > lim[1] {
		v.add(param+"/n", "must be from "+strconv.FormatInt(lim[0], 10)+" to "+
			strconv.FormatInt(lim[1], 10)+" when unit is "+u, *n)
		return nil
	}
	return &period{N: *n, Unit: u}
}

// absent reports a member that the chosen mode does not take.
func (v *validator) absent(param string, set bool, why string) {
	if set {
		v.add(param, "must be absent "+why, nil)
	}
}
