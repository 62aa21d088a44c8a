package rules

import (
	"bytes"
	"math/big"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// Reasons in a trace: why a rule was skipped (RuleTrace.SkippedBecause)
// or why an action was skipped, clamped or left pending
// (ActionTrace.Reason). They are stable codes that clients may match.
const (
	// Rules.
	ReasonSelfCaused    = "self_caused"            // the rule is on the event's causal chain
	ReasonDepthLimit    = "depth_limit"            // the event is at depth 3 or more
	ReasonExcluded      = "exclusive_rule_matched" // an earlier exclusive rule matched
	ReasonNotYetValid   = "not_yet_valid"          // createdAt is before validFrom
	ReasonNoLongerValid = "no_longer_valid"        // createdAt is at or after validTo

	// Actions.
	ReasonRefundEvent      = "refund_event"       // refunds and returns earn nothing
	ReasonNoBasePoints     = "no_base_points"     // multiplyBasePoints with base 0
	ReasonNoAmount         = "no_amount"          // pointsPerSpend's amount is absent
	ReasonZeroPoints       = "zero_points"        // the computed award rounds to 0
	ReasonCapPerEvent      = "cap_per_event"      // maxPerEvent clamped or skipped
	ReasonCapPerCustomer   = "cap_per_customer"   // maxPerCustomerPerPeriod clamped or skipped
	ReasonBudgetExhausted  = "budget_exhausted"   // budget clamped or skipped
	ReasonPendingBudget    = "pending_budget"     // the budget keeper decides (Subject.DeferBudget)
	ReasonSegmentNotActive = "segment_not_active" // adding to a segment not Active, in a real run
	ReasonNotMember        = "not_a_member"       // removing a segment the customer is not in
	ReasonNoOptin          = "no_optin"           // optinEmail or optinSms is false
	ReasonInvalidEmail     = "invalid_email"      // no valid e-mail address on the profile
	ReasonInvalidPhone     = "invalid_phone"      // no E.164 mobile number on the profile
	ReasonUnknownType      = "unknown_type"       // a rule built by hand names no known action
)

// Action results in a trace.
const (
	ResultRan     = "ran"
	ResultSkipped = "skipped"
	ResultFailed  = "failed"
	// ResultPending: the action is handed on (a delivery to the
	// dispatcher, a budgeted award to the budget keeper) and its outcome
	// comes later.
	ResultPending = "pending"
)

// Trace is the assessment trace of one event (finding 22's trace.rules):
// every rule of the event's type that was eligible by status, in
// evaluation order.
type Trace struct {
	Rules []RuleTrace `json:"rules"`
}

// RuleTrace is what happened to one rule.
type RuleTrace struct {
	RuleID         string           `json:"ruleId"`
	Version        int              `json:"version"`
	Priority       int              `json:"priority"`
	Matched        bool             `json:"matched"`
	SkippedBecause string           `json:"skippedBecause,omitempty"`
	Criteria       []CriterionTrace `json:"criteria"`
	Actions        []ActionTrace    `json:"actions"`
}

// CriterionTrace says whether one criterion held, and on what figures.
type CriterionTrace struct {
	Index  int    `json:"index"`
	Type   string `json:"type"`
	Held   bool   `json:"held"`
	Detail string `json:"detail"`
}

// ActionTrace says what one action did. Points is set for points actions
// that ran or are pending. A ran action with a Reason was clamped by that
// cap: Points is what it awarded.
type ActionTrace struct {
	Index  int    `json:"index"`
	Type   string `json:"type"`
	Result string `json:"result"`
	Reason string `json:"reason,omitempty"`
	Points *int64 `json:"points,omitempty"`
}

// Award is points a rule's action gives the customer: an earn entry for a
// real event, potential points for a basket. Points is always positive.
type Award struct {
	RuleID      string
	RuleVersion int
	ActionIndex int
	Points      int64
}

// SegmentChange adds the customer to a segment or, with Remove, removes
// them. Changes are listed in the order they happened.
type SegmentChange struct {
	RuleID      string
	RuleVersion int
	ActionIndex int
	SegmentID   string
	Remove      bool
}

// Delivery channels, as delivery_request.avsc names them.
const (
	ChannelWebhook = "webhook"
	ChannelEmail   = "email"
	ChannelSMS     = "sms"
)

// Delivery is a webhook call, e-mail or SMS to render and send after all
// rules (step 6). The templates are the rule's, unrendered; WebhookID is
// set for webhooks, SubjectTemplate for e-mail, BodyTemplate for e-mail
// and SMS.
type Delivery struct {
	RuleID          string
	RuleVersion     int
	ActionIndex     int
	Channel         string
	WebhookID       string
	SubjectTemplate string
	BodyTemplate    string
}

// Schedule asks for the trigger's Action event to be scheduled.
type Schedule struct {
	RuleID      string
	RuleVersion int
	ActionIndex int
	TriggerID   string
}

// Outcome is a basket outcome, as the basket response lists it:
// {ruleId, ruleVersion, type, value?, sku?, code?, text?}.
type Outcome struct {
	RuleID      string
	RuleVersion int
	Type        string
	Value       *big.Rat // discounts: a percentage 0–100 or an amount
	SKU         string
	Code        string
	Text        string
}

// MarshalJSON writes the outcome with value as an exact JSON number and
// absent fields left out.
func (o Outcome) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"ruleId":`)
	b.Write(marshal(o.RuleID))
	b.WriteString(`,"ruleVersion":`)
	b.WriteString(itoa(o.RuleVersion))
	b.WriteString(`,"type":`)
	b.Write(marshal(o.Type))
	if o.Value != nil {
		b.WriteString(`,"value":` + schemas.FormatDecimal(o.Value))
	}
	for _, f := range []struct{ name, v string }{{"sku", o.SKU}, {"code", o.Code}, {"text", o.Text}} {
		if f.v != "" {
			b.WriteString(`,"` + f.name + `":`)
			b.Write(marshal(f.v))
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// MatchedRule names a rule that matched, as the basket response lists it.
type MatchedRule struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version int    `json:"version"`
}

// Cap scopes.
const (
	// ScopeCustomer: maxPerCustomerPerPeriod, counted in the customer's
	// state.
	ScopeCustomer = "customer"
	// ScopeBudget: budget, counted over all customers.
	ScopeBudget = "budget"
)

// CapKey names a cap counter. Counters belong to (rule, action index)
// across versions (finding 14). Period is the calendar period's key for
// ScopeCustomer (2026-03-01, 2026-W09, 2026-03 or 2026) and empty for
// ScopeBudget, which never resets.
type CapKey struct {
	Scope       string
	RuleID      string
	ActionIndex int
	Period      string
}

// String writes the key as ruleId/actionIndex/period, the form the
// customer state stores.
func (k CapKey) String() string {
	return k.RuleID + "/" + itoa(k.ActionIndex) + "/" + k.Period
}

// CapUse is points to add to a cap counter. PeriodEnd is when a
// ScopeCustomer period ends, after which its counter can be dropped; zero
// for ScopeBudget.
type CapUse struct {
	Key       CapKey
	Points    int64
	PeriodEnd time.Time
}

// BudgetRequest asks the budget keeper for points (finding 27, strict
// budgets): it grants min(Points, remaining budget), and the grant
// becomes the award. Only made with Subject.DeferBudget.
type BudgetRequest struct {
	RuleID      string
	RuleVersion int
	ActionIndex int
	// Budget is the action's budget, so that the keeper needs no catalog.
	Budget int64
	Points int64
	// CustomerCap is the per-customer cap counter (CapKey.String) that
	// counted Points, "" for none: what the keeper does not grant goes back
	// to it.
	CustomerCap string
}
