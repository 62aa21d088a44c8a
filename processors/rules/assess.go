package rules

import (
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// MaxDepth is the depth at which events are no longer assessed: client and
// Anniversary events have depth 0, and an event made while processing one
// of depth d has d+1 (finding 13).
const MaxDepth = 3

// Customer is the customer's state as rules read it, implemented by the
// customer processor over its stored state. It must already include the
// current event (SPEC section 12, step 3: counters and lifetime sums count
// it when it counts; base points applied) and nothing the rules of this
// event do: Assess overlays their segment changes and awards itself.
// Assess calls it only from the calling goroutine.
type Customer interface {
	// Count returns how many counted client events of type t the customer
	// has, the current one included when it counts (finding 12).
	Count(t schemas.EventType) int64
	// CountOnDays returns how many counted events of type t with exactly
	// this nameSpace have a createdAt whose local day, in the tenant's
	// zone, lies in [from, to].
	CountOnDays(t schemas.EventType, nameSpace string, from, to Date) int64
	// LifetimeSum returns the lifetime sum of type t (Action amount,
	// Order/Transaction/Transfer total, Points and Redemption quantity),
	// net of refunds, the current event included. Nil means 0.
	LifetimeSum(t schemas.EventType) *big.Rat
	// PreviousPeak returns the highest LifetimeSum(t) ever reached before
	// the current event was counted. Nil means 0.
	PreviousPeak(t schemas.EventType) *big.Rat
	// LifetimeSpend returns the lifetime Order + Transaction total, net of
	// refunds. Nil means 0.
	LifetimeSpend() *big.Rat
	// InSegment reports whether the customer has a live membership of the
	// segment at t: addedAt ≤ t < expiresAt, in an Active segment.
	InSegment(segmentID string, t time.Time) bool
	// Level returns the id of the customer's current level, "" for none.
	Level() string
	// Points returns the balance figures for Points criteria.
	Points() Balance
	// Contact returns what sendEmail and sendSms need from the profile.
	Contact() Contact
}

// Balance holds the points figures Points rules compare.
type Balance struct {
	// Balance is the balance with the current event applied.
	Balance int64
	// PreviousBalance is the balance before the current event.
	PreviousBalance int64
	// LifetimeEarned is every point ever earned, the current event
	// included.
	LifetimeEarned int64
}

// Contact is the profile fields that decide whether e-mail and SMS go out.
type Contact struct {
	EmailAddress string
	OptinEmail   bool
	MobileNumber string
	OptinSMS     bool
}

// Usage reads cap counters: the points a capped action has already
// awarded under key (CapKey.Scope says which counter). Assessment.CapUses
// says what to add after an event; a caller assessing several events in
// one step (inline system events) must add them before the next Assess.
type Usage interface {
	Used(key CapKey) int64
}

// Subject is one event to assess and everything Assess needs besides the
// rules. Only Event is required.
type Subject struct {
	Event *schemas.Event
	// Customer is the customer's state; nil reads as a new, empty customer.
	Customer Customer
	// Usage reads cap counters; nil reads every counter as 0.
	Usage Usage
	// Location is the tenant's zone, for dates, calendar periods and
	// windows; nil means UTC.
	Location *time.Location
	// BasePoints is the economy's base points for this event, before any
	// rule: what multiplyBasePoints multiplies.
	BasePoints int64
	// CausalChain lists the ids of every rule whose effects, directly or
	// through other events, made this event. Those rules are skipped
	// (self_caused).
	CausalChain []string
	// DryRun assesses Test rules too, lets segments that are not Active
	// be added, and evaluates caps without consuming them (finding 24).
	DryRun bool
	// DeferBudget makes budgeted awards pending: Assess asks for them in
	// BudgetRequests instead of reading the budget counter (finding 27,
	// strict budgets). Ignored in dry runs and for baskets, which never
	// consume.
	//
	// The per-customer allowance of a deferred award is used for the points
	// requested; the processor gives back what the keeper does not grant
	// (BudgetRequest.CustomerCap).
	DeferBudget bool
	// SegmentActive reports whether a segment is Active; adding to one
	// that is not is skipped in real runs (finding 23). Nil: all are.
	SegmentActive func(segmentID string) bool
}

// Assessment is the result of Assess: the trace and every effect, in
// evaluation order. Nothing in it has been applied; the processor applies
// awards, segment changes and cap uses, and emits deliveries and
// schedules after all rules.
type Assessment struct {
	Trace          Trace
	Matched        []MatchedRule
	Awards         []Award
	Segments       []SegmentChange
	Deliveries     []Delivery
	Schedules      []Schedule
	Outcomes       []Outcome
	CapUses        []CapUse
	BudgetRequests []BudgetRequest
}

// Points returns the sum of the awards: for a basket, the rules' part of
// potentialPoints.
func (a Assessment) Points() int64 {
	var sum int64
	for _, aw := range a.Awards {
		sum = addSat(sum, aw.Points)
	}
	return sum
}

// Assess evaluates rules against one event (SPEC section 12, "Processing
// one event", step 5, and the effects step 6 emits). rules may hold every
// rule of the tenant: those of other event types, and those not Active
// (or Test in a dry run), are ignored and left out of the trace. Eligible
// rules run by priority descending, then createdAt, then id; a rule
// matches when all its criteria hold; a matching exclusive rule stops
// every later rule; actions run in array order; each rule sees the
// segment changes and awards of the rules before it.
//
// Assess is pure: it reads the clock, Kafka and storage through nothing
// but s, and never modifies rules or s. It is safe for concurrent use
// when s's interfaces are.
func Assess(rules []*Rule, s Subject) Assessment {
	var out Assessment
	out.Trace.Rules = []RuleTrace{}
	if s.Event == nil {
		return out
	}
	a := newAssessor(&s, &out)

	// The rules of this event's type, in evaluation order.
	eligible := make([]*Rule, 0, len(rules))
	for _, r := range rules {
		if r != nil && r.EventType == a.typ && a.statusEligible(r.Status) {
			eligible = append(eligible, r)
		}
	}
	slices.SortStableFunc(eligible, func(x, y *Rule) int {
		switch {
		case before(x, y):
			return -1
		case before(y, x):
			return 1
		}
		return 0
	})

	// Each rule in turn: a skip reason, or criteria and then actions.
	stopped := false
	for _, r := range eligible {
		rt := RuleTrace{
			RuleID: r.ID, Version: r.Version, Priority: r.Priority,
			Criteria: []CriterionTrace{}, Actions: []ActionTrace{},
		}
		switch {
		case stopped:
			rt.SkippedBecause = ReasonExcluded
		case s.Event.Depth >= MaxDepth:
			rt.SkippedBecause = ReasonDepthLimit
		default:
			rt.SkippedBecause = a.windowReason(r)
			if rt.SkippedBecause == "" && slices.Contains(s.CausalChain, r.ID) {
				rt.SkippedBecause = ReasonSelfCaused
			}
		}
		if rt.SkippedBecause == "" {
			rt.Matched = a.criteria(r, &rt)
			if rt.Matched {
				out.Matched = append(out.Matched, MatchedRule{ID: r.ID, Name: r.Name, Version: r.Version})
				a.actions(r, &rt)
				stopped = r.Exclusive
			}
		}
		out.Trace.Rules = append(out.Trace.Rules, rt)
	}
	return out
}

// assessor holds what one Assess call works with.
type assessor struct {
	s        *Subject
	out      *Assessment
	ev       *schemas.Event
	typ      schemas.EventType
	loc      *time.Location
	cust     Customer
	usage    Usage
	counted  bool // the event counts (step 3), so counting criteria apply
	refund   bool
	consume  bool // caps are consumed: not a dry run, not a basket
	awarded  int64
	segments map[string]bool // segment changes made by earlier rules
}

func newAssessor(s *Subject, out *Assessment) *assessor {
	typ, _ := s.Event.Type()
	a := &assessor{
		s: s, out: out, ev: s.Event, typ: typ,
		loc: s.Location, cust: s.Customer, usage: s.Usage,
		counted: Counts(s.Event),
		refund:  IsRefund(s.Event),
		consume: !s.DryRun && typ != schemas.TypeBasket,
	}
	if a.loc == nil {
		a.loc = time.UTC
	}
	if a.cust == nil {
		a.cust = emptyCustomer{}
	}
	if a.usage == nil {
		a.usage = noUsage{}
	}
	return a
}

func (a *assessor) statusEligible(status string) bool {
	return status == StatusActive || (a.s.DryRun && status == StatusTest)
}

// windowReason returns why r is not valid at the event's createdAt, or "".
func (a *assessor) windowReason(r *Rule) string {
	at := a.ev.CreatedAt
	if r.ValidFrom != nil && at.Before(r.ValidFrom.From(a.loc)) {
		return ReasonNotYetValid
	}
	if r.ValidTo != nil && !at.Before(r.ValidTo.Until(a.loc)) {
		return ReasonNoLongerValid
	}
	return ""
}

// IsRefund reports whether ev is a refund or return: an Order or
// Transaction whose nameSpace begins with "Refund." or "Return."
// (case-sensitive, finding 3).
func IsRefund(ev *schemas.Event) bool {
	if ev.Order == nil && ev.Transaction == nil {
		return false
	}
	return strings.HasPrefix(ev.NameSpace, "Refund.") || strings.HasPrefix(ev.NameSpace, "Return.")
}

// Counts reports whether ev is counted in counters and lifetime sums
// (step 3, finding 12): client events only, and neither baskets, refunds
// and returns, nor anniversaries and error events.
func Counts(ev *schemas.Event) bool {
	if ev.Origin == schemas.OriginSystem || IsRefund(ev) {
		return false
	}
	switch typ, _ := ev.Type(); typ {
	case schemas.TypeBasket, schemas.TypeAnniversary, schemas.TypeError, "":
		return false
	}
	return true
}

// inSegment answers a segment criterion with this event's earlier changes
// laid over the stored membership.
func (a *assessor) inSegment(id string) bool {
	if in, changed := a.segments[id]; changed {
		return in
	}
	return a.cust.InSegment(id, a.ev.CreatedAt)
}

// emptyCustomer is a customer with no history.
type emptyCustomer struct{}

func (emptyCustomer) Count(schemas.EventType) int64                           { return 0 }
func (emptyCustomer) CountOnDays(schemas.EventType, string, Date, Date) int64 { return 0 }
func (emptyCustomer) LifetimeSum(schemas.EventType) *big.Rat                  { return nil }
func (emptyCustomer) PreviousPeak(schemas.EventType) *big.Rat                 { return nil }
func (emptyCustomer) LifetimeSpend() *big.Rat                                 { return nil }
func (emptyCustomer) InSegment(string, time.Time) bool                        { return false }
func (emptyCustomer) Level() string                                           { return "" }
func (emptyCustomer) Points() Balance                                         { return Balance{} }
func (emptyCustomer) Contact() Contact                                        { return Contact{} }

type noUsage struct{}

func (noUsage) Used(CapKey) int64 { return 0 }
