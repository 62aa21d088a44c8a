package rules

import (
	"encoding/json"
	"math/big"
	"sort"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// Lifecycle statuses of a rule: the strings the catalog uses for every
// object with a lifecycle (SPEC section 3).
const (
	StatusConfigure = "Configure"
	StatusTest      = "Test"
	StatusActive    = "Active"
	StatusInactive  = "Inactive"
	StatusArchived  = "Archived"
)

// Rule is a marketer's rule: when an event of EventType meets every
// criterion, its actions run in order. A Rule is only meaningful once
// validated: obtain it from DecodeRule, FromRecord or json.Unmarshal, which
// all validate, and treat it as read-only afterwards, since Assess reads it
// from many goroutines.
type Rule struct {
	// ID, Version, CreatedAt and ChangedAt are set by the server; in a
	// create or replace body they are accepted and then overwritten.
	ID          string            `json:"id,omitempty"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	EventType   schemas.EventType `json:"eventType"`
	Criteria    []Criterion       `json:"criteria"`
	Actions     []Action          `json:"actions"`
	// Status defaults to StatusConfigure.
	Status string `json:"status"`
	// ValidFrom and ValidTo bound the events' createdAt: the rule is
	// eligible when ValidFrom ≤ createdAt < ValidTo, a bare date meaning
	// the start of that local day for ValidFrom and the end of that local
	// day (inclusive) for ValidTo. Nil means unbounded.
	ValidFrom *Bound `json:"validFrom,omitempty"`
	ValidTo   *Bound `json:"validTo,omitempty"`
	// Priority orders rules, higher first; default 0.
	Priority int `json:"priority"`
	// Exclusive stops every rule after this one, equal priority included,
	// when this rule matches.
	Exclusive bool      `json:"exclusive"`
	Version   int       `json:"version,omitempty"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
	ChangedAt time.Time `json:"changedAt,omitzero"`
}

// UnmarshalJSON decodes and validates a rule exactly as DecodeRule does,
// with bare dates read in UTC. It returns an *InvalidRuleError naming
// every problem.
func (r *Rule) UnmarshalJSON(body []byte) error {
	got, errs := DecodeRule(body, time.UTC)
	if len(errs) > 0 {
		return &InvalidRuleError{Errors: errs}
	}
	*r = *got
	return nil
}

// Criterion is one condition of a rule. Type names it; the other fields
// are its parameters, and only those of its type are set (see
// docs/rules.md). In JSON it is an object with "type" and the
// parameters beside it.
type Criterion struct {
	Type string
	// Op is a comparison (gte, gt, lte, lt, eq) or, for nameSpace,
	// equals/beginsWith and, for attribute, equals/exists.
	Op string
	// Value is the text compared by nameSpace, reference, campaign,
	// attribute and payment.
	Value string
	// Amount is the number compared by every op+value criterion and by
	// lifetimeThreshold; its JSON name is "value".
	Amount    *big.Rat
	SegmentID string
	LevelID   string
	// N is nthEvent's and everyNthEvent's n; X is xOverT's and xSinceT's x.
	N      int64
	X      int64
	Period *Window
	Since  *Date
	// Key is the attribute key; SKU is productQuantity's sku; Field is
	// payment's bin, bank or scheme; Tag is tagPresent's tag.
	Key          string
	SKU          string
	Field        string
	Tag          string
	SKUs         []string
	Vendors      []string
	Categories   []string
	ProductTypes []string
}

// MarshalJSON writes the criterion as {"type": …, parameters…}, the
// parameters in the order docs/rules.md lists them.
func (c Criterion) MarshalJSON() ([]byte, error) {
	sp := criterionSpecs[c.Type]
	return marshalParams(c.Type, sp.params, c.param)
}

// Action is one effect of a rule. Type names it; the other fields are its
// parameters, and only those of its type are set (see docs/rules.md). In
// JSON it is an object with "type" and the parameters beside it.
type Action struct {
	Type string
	// Points is awardPoints' flat award.
	Points int64
	// PointsPerUnit, Of (default total) and Rounding (default down) are
	// pointsPerSpend's.
	PointsPerUnit *big.Rat
	Of            string
	Rounding      string
	// Factor is multiplyBasePoints' factor, > 1.
	Factor          *big.Rat
	SegmentID       string
	WebhookID       string
	TriggerID       string
	SubjectTemplate string
	BodyTemplate    string
	// Value, SKU, Code and Text are the basket outcomes' parameters.
	Value *big.Rat
	SKU   string
	Code  string
	Text  string
	// Caps of the points actions; zero or nil means no cap.
	MaxPerEvent             int64
	MaxPerCustomerPerPeriod *PeriodCap
	Budget                  int64
}

// MarshalJSON writes the action as {"type": …, parameters…}, the
// parameters in the order docs/rules.md lists them.
func (a Action) MarshalJSON() ([]byte, error) {
	sp := actionSpecs[a.Type]
	return marshalParams(a.Type, sp.params, a.param)
}

// IsPoints reports whether the action awards points: awardPoints,
// pointsPerSpend or multiplyBasePoints. Only these take caps, and refunds
// skip them.
func (a *Action) IsPoints() bool { return actionSpecs[a.Type].points }

// Window is a trailing period of xOverT: {n, unit: day|month}.
type Window struct {
	N    int    `json:"n"`
	Unit string `json:"unit"`
}

// PeriodCap is maxPerCustomerPerPeriod: at most Points per customer in
// each calendar Period of the tenant's zone.
type PeriodCap struct {
	Points int64     `json:"points"`
	Period CapPeriod `json:"period"`
}

// CapPeriod is a calendar period of a cap: N is always 1, Unit one of
// day, week (Monday to Sunday), month or year.
type CapPeriod struct {
	N    int    `json:"n"`
	Unit string `json:"unit"`
}

// Reference kinds: the configuration objects a rule can name.
const (
	RefSegment = "segment"
	RefWebhook = "webhook"
	RefTrigger = "trigger"
	RefLevel   = "level"
)

// Reference is one id a rule names, with the JSON pointer of the
// parameter that names it, so that the Admin API can answer 422 for a
// missing object with the field named.
type Reference struct {
	Kind  string // RefSegment, RefWebhook, RefTrigger or RefLevel
	ID    string
	Param string // e.g. "/criteria/1/segmentId"
}

// References lists every id r names, in rule order: segments of
// inSegment, notInSegment, addToSegment and removeFromSegment, levels of
// level, webhooks of callWebhook and triggers of createTrigger.
func (r *Rule) References() []Reference {
	var out []Reference
	add := func(kind, id, ptr string) {
		if id != "" {
			out = append(out, Reference{Kind: kind, ID: id, Param: ptr})
		}
	}
	for i := range r.Criteria {
		c := &r.Criteria[i]
		ptr := "/criteria/" + itoa(i)
		add(RefSegment, c.SegmentID, ptr+"/segmentId")
		add(RefLevel, c.LevelID, ptr+"/levelId")
	}
	for i := range r.Actions {
		a := &r.Actions[i]
		ptr := "/actions/" + itoa(i)
		add(RefSegment, a.SegmentID, ptr+"/segmentId")
		add(RefWebhook, a.WebhookID, ptr+"/webhookId")
		add(RefTrigger, a.TriggerID, ptr+"/triggerId")
	}
	return out
}

// FromRecord decodes a rule stored on the config topic. The record's id,
// version, status and timestamps win over the body's. loc is the tenant's
// zone, used only to check validFrom < validTo when one of them is a bare
// date; nil means UTC. A body that does not validate gives an
// *InvalidRuleError.
func FromRecord(rec *schemas.ConfigRecord, loc *time.Location) (*Rule, error) {
	r, errs := DecodeRule([]byte(rec.Body), loc)
	if len(errs) > 0 {
		return nil, &InvalidRuleError{RuleID: rec.ID, Errors: errs}
	}
	r.ID = rec.ID
	r.Version = rec.Version
	if rec.Status != nil {
		r.Status = *rec.Status
	}
	r.CreatedAt = rec.CreatedAt
	r.ChangedAt = rec.ChangedAt
	return r, nil
}

// Sort orders rules as they are assessed: priority descending, then
// createdAt, then id. Assess sorts its own copy; Sort lets a caller that
// keeps rules sorted (a catalog) show them in that order.
func Sort(rules []*Rule) {
	sort.SliceStable(rules, func(i, j int) bool { return before(rules[i], rules[j]) })
}

func before(a, b *Rule) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

// marshal is json.Marshal for values that cannot fail to encode.
func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("null")
	}
	return b
}
