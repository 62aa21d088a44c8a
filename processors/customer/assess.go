package customer

import (
	"math/big"
	"time"

	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// subject is the customer state as the rules engine reads it: after the
// current event was counted and its base points applied (step 4), and
// after the awards and segment changes of the rules before (the engine
// tracks those itself).
type subject struct {
	st *schemas.CustomerState
	// balanceBefore is the balance before the event.
	balanceBefore int64
	// peakBefore is the highest lifetime sum of the event's type before the
	// event was counted, so that a threshold is crossed only once.
	typ        schemas.EventType
	peakBefore *big.Rat
	active     func(segmentID string) bool
}

var _ rules.Customer = (*subject)(nil)

func (s *subject) Count(t schemas.EventType) int64 { return s.counter(t).Count }

func (s *subject) CountOnDays(t schemas.EventType, ns string, from, to rules.Date) int64 {
	return CountInWindow(s.st, t, ns, from.Start(time.UTC), to.Start(time.UTC))
}

func (s *subject) LifetimeSum(t schemas.EventType) *big.Rat { return s.counter(t).Sum }

func (s *subject) PreviousPeak(t schemas.EventType) *big.Rat {
	if t == s.typ {
		return s.peakBefore
	}
	return s.counter(t).MaxSum
}

func (s *subject) LifetimeSpend() *big.Rat {
	return new(big.Rat).Add(s.counter(schemas.TypeOrder).Sum, s.counter(schemas.TypeTransaction).Sum)
}

// InSegment reports live membership: added at or before t, not expired at
// t, and the segment Active.
func (s *subject) InSegment(id string, t time.Time) bool {
	if s.active != nil && !s.active(id) {
		return false
	}
	for _, m := range s.st.Segments {
		if m.SegmentID == id && !m.AddedAt.After(t) && (m.ExpiresAt == nil || t.Before(*m.ExpiresAt)) {
			return true
		}
	}
	return false
}

// Level returns "": levels are not kept yet.
func (s *subject) Level() string { return "" }

func (s *subject) Points() rules.Balance {
	return rules.Balance{
		Balance:         s.st.Points.Balance,
		PreviousBalance: s.balanceBefore,
		LifetimeEarned:  s.st.Points.LifetimeEarned,
	}
}

func (s *subject) Contact() rules.Contact {
	p := s.st.Profile
	c := rules.Contact{OptinEmail: p.OptinEmail, OptinSMS: p.OptinSMS}
	if p.EmailAddress != nil {
		c.EmailAddress = *p.EmailAddress
	}
	if p.MobileNumber != nil {
		c.MobileNumber = *p.MobileNumber
	}
	return c
}

// counter returns the counter of t without adding one to the state.
func (s *subject) counter(t schemas.EventType) schemas.TypeCounter {
	for _, c := range s.st.Counters {
		if c.Type == string(t) {
			return c
		}
	}
	return schemas.TypeCounter{Type: string(t), Sum: new(big.Rat), MaxSum: new(big.Rat)}
}

// usage reads per-customer cap counters from the state, and budgets, which
// are counted over all customers, through budget (nil reads 0).
type usage struct {
	st     *schemas.CustomerState
	budget func(ruleID string, actionIndex int) int64
}

func (u usage) Used(k rules.CapKey) int64 {
	if k.Scope == rules.ScopeBudget {
		if u.budget == nil {
			return 0
		}
		return u.budget(k.RuleID, k.ActionIndex)
	}
	if k.Scope != rules.ScopeCustomer {
		return 0
	}
	key := k.String()
	for _, c := range u.st.CapUsage {
		if c.Key == key {
			return c.Points
		}
	}
	return 0
}

// applyAssessment applies the rules' effects to st in order: awards as
// earn entries (source rule, with rule id, version and action index),
// segment changes, and per-customer cap counters.
func applyAssessment(st *schemas.CustomerState, ev *schemas.Event, in Input, a rules.Assessment) []schemas.LedgerEntry {
	var entries []schemas.LedgerEntry
	for _, aw := range a.Awards {
		entries = append(entries, ruleEarn(st, ev, in, aw))
	}
	for _, c := range a.Segments {
		if c.Remove {
			removeMembership(st, c.SegmentID)
			continue
		}
		var exp *time.Time
		if in.SegmentExpiry != nil {
			exp = in.SegmentExpiry(c.SegmentID, ev.CreatedAt, st.Profile.CreatedAt)
		}
		addMembership(st, c.SegmentID, ev.CreatedAt, exp)
	}
	for _, u := range a.CapUses {
		if u.Key.Scope == rules.ScopeCustomer {
			useCap(st, u, ev.CreatedAt)
		}
	}
	return entries
}

// ruleEarn applies a rule's award to st as an earn entry with the rule's
// id, version and action index, and returns it. Its id derives from the
// event, rule and action, whether the award needed a budget grant or not.
func ruleEarn(st *schemas.CustomerState, ev *schemas.Event, in Input, aw rules.Award) schemas.LedgerEntry {
	e := newEntry(ev, in, schemas.EntryEarn, schemas.SourceRule, aw.Points)
	e.EntryID = entryID(ev.TenantID, ev.EventID, schemas.SourceRule, aw.RuleID, aw.ActionIndex, 0)
	ruleID, version, index := aw.RuleID, aw.RuleVersion, aw.ActionIndex
	e.RuleID, e.RuleVersion, e.ActionIndex = &ruleID, &version, &index
	return earnEntry(st, in, e)
}

// ReasonNoScheduler is the trace reason of a createTrigger action while
// no scheduler runs.
const ReasonNoScheduler = "scheduler_not_available"

// markUnscheduled shows every createTrigger action of a as pending in the
// trace.
//
// Limitation: this version has no scheduler, so the trigger's event is not
// scheduled; the trace says so rather than report the action as run.
func markUnscheduled(a rules.Assessment) {
	for _, sc := range a.Schedules {
		for i := range a.Trace.Rules {
			rt := &a.Trace.Rules[i]
			if rt.RuleID != sc.RuleID {
				continue
			}
			for j := range rt.Actions {
				if rt.Actions[j].Index == sc.ActionIndex {
					rt.Actions[j].Result, rt.Actions[j].Reason = rules.ResultPending, ReasonNoScheduler
				}
			}
		}
	}
}

// addMembership adds or refreshes a membership; a refresh keeps the later
// of the old and new expiry (finding 23).
func addMembership(st *schemas.CustomerState, id string, at time.Time, exp *time.Time) {
	for i := range st.Segments {
		m := &st.Segments[i]
		if m.SegmentID != id {
			continue
		}
		switch {
		case m.ExpiresAt == nil || exp == nil:
			m.ExpiresAt = nil
		case exp.After(*m.ExpiresAt):
			m.ExpiresAt = exp
		}
		return
	}
	st.Segments = append(st.Segments, schemas.Membership{SegmentID: id, AddedAt: at, ExpiresAt: exp})
}

func removeMembership(st *schemas.CustomerState, id string) {
	out := st.Segments[:0]
	for _, m := range st.Segments {
		if m.SegmentID != id {
			out = append(out, m)
		}
	}
	st.Segments = out
}

// useCap adds a cap use and drops counters of periods ended by now.
func useCap(st *schemas.CustomerState, u rules.CapUse, now time.Time) {
	key := u.Key.String()
	kept := st.CapUsage[:0]
	found := false
	for _, c := range st.CapUsage {
		if c.Key == key {
			c.Points += u.Points
			found = true
		}
		if c.PeriodEnd.After(now) {
			kept = append(kept, c)
		}
	}
	st.CapUsage = kept
	if !found {
		st.CapUsage = append(st.CapUsage, schemas.CapUsage{Key: key, Points: u.Points, PeriodEnd: u.PeriodEnd})
	}
}
