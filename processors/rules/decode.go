package rules

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tallymarks/tallymarks/schemas"
)

// ruleFields are the fields a rule body may carry.
var ruleFields = []string{
	"id", "name", "description", "eventType", "criteria", "actions", "status",
	"validFrom", "validTo", "priority", "exclusive", "version", "createdAt", "changedAt",
}

var statuses = []string{StatusConfigure, StatusTest, StatusActive, StatusInactive, StatusArchived}

// DecodeRule decodes a rule body strictly and validates all of it,
// returning either the rule or every problem found, each named by a JSON
// pointer. It refuses malformed JSON, unknown and duplicate fields, names
// in the wrong case, values of the wrong type or range, unknown criterion
// and action types, criteria and actions not available for the rule's
// eventType, caps of the wrong shape, and a validTo not after validFrom.
// Absent optional parameters take their defaults (status Configure,
// pointsPerSpend of total and rounding down), so the rule marshals back
// complete.
//
// loc is the tenant's zone, used only to compare validFrom and validTo
// when one is a bare date and the other an instant; nil means UTC.
// DecodeRule does not check that referenced segments, webhooks, triggers
// and levels exist: References lists them for the caller.
func DecodeRule(body []byte, loc *time.Location) (*Rule, []FieldError) {
	root, errs := parseTree(body)
	if root == nil {
		return nil, errs
	}
	if loc == nil {
		loc = time.UTC
	}
	d := decoder{errs: errs, loc: loc}
	r := d.rule(root)
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	return r, nil
}

// decoder collects every problem of one body.
type decoder struct {
	errs []FieldError
	loc  *time.Location
}

func (d *decoder) fail(ptr string, n *jnode, format string, args ...any) {
	fe := FieldError{Message: fmt.Sprintf(format, args...), Param: ptr}
	if n != nil {
		fe.Value = n.scalar()
	}
	d.errs = append(d.errs, fe)
}

// present reports whether n carries a value: absent and null are the same.
func present(n *jnode) bool { return n != nil && n.kind != jNull }

func (d *decoder) rule(n *jnode) *Rule {
	if n.kind != jObject {
		d.fail("", n, "must be a JSON object, not %s", n.kind)
		return nil
	}
	d.unknownFields(n, "", ruleFields, "")

	// Identity and description.
	r := &Rule{Status: StatusConfigure}
	r.ID = d.optString(n.field("id"), "/id")
	r.Name = d.reqString(n.field("name"), "/name")
	r.Description = d.optString(n.field("description"), "/description")
	if v := n.field("status"); present(v) {
		r.Status = d.enum(v, "/status", statuses)
	}
	r.Version = int(d.optInt(n.field("version"), "/version", 0, 1<<31-1))
	r.CreatedAt = d.optTime(n.field("createdAt"), "/createdAt")
	r.ChangedAt = d.optTime(n.field("changedAt"), "/changedAt")

	// Event type: criteria and actions are checked against it only when
	// it is valid, so one typo does not bury the body in errors.
	if et := n.field("eventType"); !present(et) {
		d.fail("/eventType", nil, "is required")
	} else if s := d.enum(et, "/eventType", typeNames()); s != "" {
		r.EventType = schemas.EventType(s)
	}

	// Ordering and validity window.
	r.Priority = int(d.optInt(n.field("priority"), "/priority", -maxPriority, maxPriority))
	if v := n.field("exclusive"); present(v) {
		if v.kind != jBool {
			d.fail("/exclusive", v, "must be a JSON boolean, not %s", v.kind)
		}
		r.Exclusive = v.flag
	}
	r.ValidFrom = d.bound(n.field("validFrom"), "/validFrom")
	r.ValidTo = d.bound(n.field("validTo"), "/validTo")
	if r.ValidFrom != nil && r.ValidTo != nil &&
		!r.ValidTo.Until(d.loc).After(r.ValidFrom.From(d.loc)) {
		d.fail("/validTo", n.field("validTo"), "must be after validFrom")
	}

	// Criteria and actions.
	for i, c := range d.list(n.field("criteria"), "/criteria") {
		r.Criteria = append(r.Criteria, d.criterion(c, "/criteria/"+itoa(i), r.EventType))
	}
	for i, a := range d.list(n.field("actions"), "/actions") {
		r.Actions = append(r.Actions, d.action(a, "/actions/"+itoa(i), r.EventType))
	}
	return r
}

func typeNames() []string {
	out := make([]string, len(ruleTypes))
	for i, t := range ruleTypes {
		out[i] = string(t)
	}
	return out
}

// list checks a required array of 1 to maxItems objects and returns its
// items.
func (d *decoder) list(n *jnode, ptr string) []*jnode {
	switch {
	case !present(n):
		d.fail(ptr, nil, "is required: give at least one")
		return nil
	case n.kind != jArray:
		d.fail(ptr, n, "must be a JSON array, not %s", n.kind)
		return nil
	case len(n.items) == 0:
		d.fail(ptr, nil, "must not be empty")
	case len(n.items) > maxItems:
		d.fail(ptr, nil, "must have at most %d entries", maxItems)
		return nil
	}
	return n.items
}

// unknownFields reports every field of object n not in known. what names
// the object in the message ("" for the rule itself).
func (d *decoder) unknownFields(n *jnode, ptr string, known []string, what string) {
	for _, k := range n.keys {
		if slices.Contains(known, k) {
			continue
		}
		msg := "unknown field"
		if what != "" {
			msg = "unknown parameter of " + what
		}
		if len(known) > 0 {
			msg += "; expected one of " + strings.Join(known, ", ")
		}
		d.fail(ptr+"/"+escapePointer(k), nil, "%s", msg)
	}
}

func (d *decoder) criterion(n *jnode, ptr string, et schemas.EventType) Criterion {
	typ, sp, ok := d.header(n, ptr, "criterion", criterionSpecs, et)
	c := Criterion{Type: typ}
	if !ok {
		return c
	}
	d.params(n, ptr, typ, sp.params, c.set)

	// attribute: value goes with equals and only with it.
	if typ == "attribute" {
		switch {
		case c.Op == "equals" && !present(n.field("value")):
			d.fail(ptr+"/value", nil, "is required when op is equals")
		case c.Op == "exists" && present(n.field("value")):
			d.fail(ptr+"/value", n.field("value"), "must be absent when op is exists")
		}
	}
	return c
}

func (d *decoder) action(n *jnode, ptr string, et schemas.EventType) Action {
	typ, sp, ok := d.header(n, ptr, "action", actionSpecs, et)
	a := Action{Type: typ}
	if !ok {
		return a
	}
	d.params(n, ptr, typ, sp.params, a.set)

	// Transactions carry only a total (finding 21).
	if typ == "pointsPerSpend" && et == schemas.TypeTransaction && a.Of != OfTotal {
		d.fail(ptr+"/of", n.field("of"), "must be total: transactions carry no other amount")
	}
	return a
}

// header checks that n is an object with a known type that the rule's
// event type allows, and returns the type and its spec. ok is false when
// the parameters cannot be checked.
func (d *decoder) header(n *jnode, ptr, what string, specs map[string]spec,
	et schemas.EventType) (typ string, sp spec, ok bool) {
	if n == nil || n.kind != jObject {
		d.fail(ptr, n, "must be a JSON object")
		return "", spec{}, false
	}
	t := n.field("type")
	if !present(t) {
		d.fail(ptr+"/type", nil, "is required")
		return "", spec{}, false
	}
	if t.kind != jString {
		d.fail(ptr+"/type", t, "must be a JSON string, not %s", t.kind)
		return "", spec{}, false
	}
	sp, ok = specs[t.text]
	if !ok {
		d.fail(ptr+"/type", t, "unknown %s type; expected one of %s",
			what, strings.Join(sortedKeys(specs), ", "))
		return t.text, spec{}, false
	}
	if et != "" && !sp.types.has(et) {
		d.fail(ptr+"/type", t, "%s %s is not available for %s rules; it applies to %s",
			what, t.text, et, sp.types)
	}
	return t.text, sp, true
}

// params decodes the parameters of a criterion or action of type typ.
func (d *decoder) params(n *jnode, ptr, typ string, params []param, set func(param, any)) {
	known := []string{"type"}
	for _, p := range params {
		known = append(known, p.name)
	}
	d.unknownFields(n, ptr, known, typ)
	for _, p := range params {
		v := n.field(p.name)
		pptr := ptr + "/" + p.name
		if !present(v) {
			switch {
			case p.required:
				d.fail(pptr, nil, "is required")
			case p.def != "":
				set(p, p.def)
			}
			continue
		}
		if val, ok := d.value(v, pptr, p); ok {
			set(p, val)
		}
	}
}

// value decodes one parameter value of kind p.kind.
func (d *decoder) value(n *jnode, ptr string, p param) (any, bool) {
	switch p.kind {
	case kString:
		s := d.reqString(n, ptr)
		return s, s != ""
	case kText:
		s := d.str(n, ptr, maxTemplate)
		return s, s != ""
	case kEnum:
		s := d.enum(n, ptr, p.enum)
		return s, s != ""
	case kInt:
		i, ok := d.integer(n, ptr, p.min, p.max)
		return i, ok
	case kDecimal:
		r := d.decimal(n, ptr, p.dec)
		return r, r != nil
	case kStrings:
		l := d.strings(n, ptr)
		return l, l != nil
	case kWindow:
		w := d.window(n, ptr)
		return w, w != nil
	case kDate:
		s := d.reqString(n, ptr)
		if s == "" {
			return nil, false
		}
		day, err := ParseDate(s)
		if err != nil || len(s) != len(dateLayout) {
			d.fail(ptr, n, "must be a date, YYYY-MM-DD")
			return nil, false
		}
		return &day, true
	case kPeriodCap:
		c := d.periodCap(n, ptr)
		return c, c != nil
	}
	return nil, false
}

// str reads a string of at most limit bytes; "" reports a problem.
func (d *decoder) str(n *jnode, ptr string, limit int) string {
	switch {
	case n.kind != jString:
		d.fail(ptr, n, "must be a JSON string, not %s", n.kind)
	case n.text == "":
		d.fail(ptr, n, "must not be empty")
	case len(n.text) > limit:
		d.fail(ptr, nil, "must be at most %d bytes", limit)
	case !utf8.ValidString(n.text):
		d.fail(ptr, nil, "must be valid UTF-8")
	default:
		return n.text
	}
	return ""
}

func (d *decoder) reqString(n *jnode, ptr string) string {
	if !present(n) {
		d.fail(ptr, nil, "is required")
		return ""
	}
	return d.str(n, ptr, maxString)
}

func (d *decoder) optString(n *jnode, ptr string) string {
	if !present(n) {
		return ""
	}
	if n.kind == jString && n.text == "" {
		return ""
	}
	return d.str(n, ptr, maxString)
}

func (d *decoder) enum(n *jnode, ptr string, allowed []string) string {
	if n.kind != jString {
		d.fail(ptr, n, "must be a JSON string, not %s", n.kind)
		return ""
	}
	if !slices.Contains(allowed, n.text) {
		d.fail(ptr, n, "must be one of %s", strings.Join(allowed, ", "))
		return ""
	}
	return n.text
}

func (d *decoder) integer(n *jnode, ptr string, lo, hi int64) (int64, bool) {
	if n.kind != jNumber {
		d.fail(ptr, n, "must be a JSON number, not %s", n.kind)
		return 0, false
	}
	i, err := strconv.ParseInt(n.text, 10, 64)
	switch {
	case err != nil:
		d.fail(ptr, n, "must be an integer")
	case i < lo || i > hi:
		d.fail(ptr, n, "must be between %d and %d", lo, hi)
	default:
		return i, true
	}
	return 0, false
}

func (d *decoder) optInt(n *jnode, ptr string, lo, hi int64) int64 {
	if !present(n) {
		return 0
	}
	i, _ := d.integer(n, ptr, lo, hi)
	return i
}

func (d *decoder) optTime(n *jnode, ptr string) time.Time {
	if !present(n) {
		return time.Time{}
	}
	if n.kind == jString {
		if t, err := time.Parse(time.RFC3339Nano, n.text); err == nil {
			return t
		}
	}
	d.fail(ptr, n, "must be an RFC 3339 time with an offset")
	return time.Time{}
}

func (d *decoder) bound(n *jnode, ptr string) *Bound {
	if !present(n) {
		return nil
	}
	if n.kind == jString {
		if b, ok := parseBound(n.text); ok {
			return &b
		}
	}
	d.fail(ptr, n, "must be a date (YYYY-MM-DD) or an RFC 3339 time with an offset")
	return nil
}

// decimal reads a JSON number with at most 4 fractional digits and checks
// it against rule. Strings are refused: "1.5" in quotes is a typo that
// would hide a unit mistake.
func (d *decoder) decimal(n *jnode, ptr string, rule decimalRule) *big.Rat {
	if n.kind != jNumber {
		d.fail(ptr, n, "must be a JSON number, not %s", n.kind)
		return nil
	}
	if !smallExponent(n.text) {
		d.fail(ptr, n, "must be a decimal below 10^14 with at most 4 fractional digits")
		return nil
	}
	r, err := schemas.ParseDecimal(n.text)
	if err != nil {
		d.fail(ptr, n, "must be a decimal: %v", err)
		return nil
	}
	one := big.NewRat(1, 1)
	bad := ""
	switch rule {
	case decRate:
		if r.Sign() <= 0 || r.Cmp(big.NewRat(maxRate, 1)) > 0 {
			bad = fmt.Sprintf("must be above 0 and at most %d", maxRate)
		}
	case decFactor:
		if r.Cmp(one) <= 0 || r.Cmp(big.NewRat(maxFactor, 1)) > 0 {
			bad = fmt.Sprintf("must be above 1 and at most %d: 2 doubles the base points", maxFactor)
		}
	case decPercent:
		if r.Sign() <= 0 || r.Cmp(big.NewRat(100, 1)) > 0 {
			bad = "must be a percentage above 0 and at most 100"
		}
	case decPositive:
		if r.Sign() <= 0 {
			bad = "must be above 0"
		}
	}
	if bad != "" {
		d.fail(ptr, n, "%s", bad)
		return nil
	}
	return r
}

func (d *decoder) strings(n *jnode, ptr string) []string {
	switch {
	case n.kind != jArray:
		d.fail(ptr, n, "must be a JSON array, not %s", n.kind)
		return nil
	case len(n.items) == 0:
		d.fail(ptr, nil, "must not be empty")
		return nil
	case len(n.items) > maxList:
		d.fail(ptr, nil, "must have at most %d entries", maxList)
		return nil
	}
	out := make([]string, 0, len(n.items))
	for i, it := range n.items {
		if s := d.str(it, ptr+"/"+itoa(i), maxString); s != "" {
			out = append(out, s)
		}
	}
	if len(out) != len(n.items) {
		return nil
	}
	return out
}

// window reads xOverT's period: {n ≥ 1, unit: day|month}, at most 12
// months (finding 12).
func (d *decoder) window(n *jnode, ptr string) *Window {
	if n.kind != jObject {
		d.fail(ptr, n, "must be a JSON object like {\"n\": 7, \"unit\": \"day\"}")
		return nil
	}
	d.unknownFields(n, ptr, []string{"n", "unit"}, "period")
	unit := d.reqEnum(n.field("unit"), ptr+"/unit", []string{"day", "month"})
	limit := int64(maxDays)
	if unit == "month" {
		limit = maxMonths
	}
	num, ok := d.reqInt(n.field("n"), ptr+"/n", 1, limit)
	if !ok || unit == "" {
		return nil
	}
	return &Window{N: int(num), Unit: unit}
}

// periodCap reads maxPerCustomerPerPeriod: {points ≥ 1, period: {n: 1,
// unit: day|week|month|year}} (finding 14).
func (d *decoder) periodCap(n *jnode, ptr string) *PeriodCap {
	if n.kind != jObject {
		d.fail(ptr, n, "must be a JSON object like {\"points\": 100, \"period\": {\"n\": 1, \"unit\": \"month\"}}")
		return nil
	}
	d.unknownFields(n, ptr, []string{"points", "period"}, "maxPerCustomerPerPeriod")
	pts, okPts := d.reqInt(n.field("points"), ptr+"/points", 1, maxPoints)

	per := n.field("period")
	pptr := ptr + "/period"
	switch {
	case !present(per):
		d.fail(pptr, nil, "is required")
		return nil
	case per.kind != jObject:
		d.fail(pptr, per, "must be a JSON object like {\"n\": 1, \"unit\": \"month\"}")
		return nil
	}
	d.unknownFields(per, pptr, []string{"n", "unit"}, "period")
	unit := d.reqEnum(per.field("unit"), pptr+"/unit", []string{"day", "week", "month", "year"})
	okN := false
	switch nn := per.field("n"); {
	case !present(nn):
		d.fail(pptr+"/n", nil, "is required")
	case nn.kind != jNumber || nn.text != "1":
		d.fail(pptr+"/n", nn, "must be 1: a cap counts one calendar %s at a time", unitOr(unit, "period"))
	default:
		okN = true
	}
	if !okPts || !okN || unit == "" {
		return nil
	}
	return &PeriodCap{Points: pts, Period: CapPeriod{N: 1, Unit: unit}}
}

func (d *decoder) reqEnum(n *jnode, ptr string, allowed []string) string {
	if !present(n) {
		d.fail(ptr, nil, "is required")
		return ""
	}
	return d.enum(n, ptr, allowed)
}

func (d *decoder) reqInt(n *jnode, ptr string, lo, hi int64) (int64, bool) {
	if !present(n) {
		d.fail(ptr, nil, "is required")
		return 0, false
	}
	return d.integer(n, ptr, lo, hi)
}

func sortedKeys(m map[string]spec) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func unitOr(unit, def string) string {
	if unit == "" {
		return def
	}
	return unit
}

// maxExponent bounds the exponent of a decimal literal. ParseDecimal
// builds 10^exponent exactly, and an exponent near a million costs tens of
// milliseconds per number: a 1 MiB body of them would hold a request for
// minutes. No valid amount needs more than 14 + a few digits of exponent.
const maxExponent = 40

// smallExponent reports whether a JSON number literal's exponent, if any,
// is within ±maxExponent.
func smallExponent(lit string) bool {
	i := strings.IndexAny(lit, "eE")
	if i < 0 {
		return true
	}
	e, err := strconv.Atoi(strings.TrimPrefix(lit[i+1:], "+"))
	return err == nil && e >= -maxExponent && e <= maxExponent
}
