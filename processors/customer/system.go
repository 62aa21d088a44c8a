package customer

import (
	"time"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// systemNameSpaces names the system Points event of each entry type
// (finding 13).
var systemNameSpaces = map[string]string{
	schemas.EntryEarn:    "Points.Earn",
	schemas.EntrySpend:   "Points.Spend",
	schemas.EntryExpire:  "Points.Expire",
	schemas.EntryReverse: "Points.Reverse",
	schemas.EntryAdjust:  "Points.Adjust",
}

// systemEventNamespace is the UUIDv5 namespace of system event ids.
var systemEventNamespace = uuid.MustParse("9d2e7c41-3b5a-4f8e-a1c6-2f7b8d9e0a52")

// Caused is an event made while processing another: a system Points event
// reporting one ledger entry. It is assessed inline, in the same step as
// its cause, and recorded on the events topic afterwards.
type Caused struct {
	Event   schemas.Event
	Entries []schemas.LedgerEntry // what its own rules awarded
	Trace   Trace
	// Chain is the event's causal chain, for the loop guard.
	Chain []string
	// Requests are its rules' budgeted awards, waiting for the keeper.
	Requests []rules.BudgetRequest
}

// Status returns the caused event's status: assessed, or accepted while
// budget grants are pending.
func (c Caused) Status() string {
	if len(c.Requests) > 0 {
		return StatusAccepted
	}
	return StatusAssessed
}

// pendCaused records the caused events that wait for budget grants as
// pending and returns their ids.
func pendCaused(st *schemas.CustomerState, caused []Caused, now time.Time) []string {
	var ids []string
	for _, c := range caused {
		if len(c.Requests) == 0 {
			continue
		}
		res := Result{Record: schemas.ProcessedEvent{Status: StatusAccepted}, Entries: c.Entries, Trace: c.Trace}
		addPending(st, StatusOf(&c.Event, res, now), c.Chain, c.Requests)
		ids = append(ids, c.Event.EventID)
	}
	return ids
}

// pointsEventFor returns the system Points event of entry, caused by ev. It
// reports a change already applied; it never changes the balance itself.
// Its id derives from the entry's, so a redelivery makes the same event.
func pointsEventFor(ev *schemas.Event, entry schemas.LedgerEntry, now time.Time) schemas.Event {
	cause := ev.EventID
	return schemas.Event{
		EventID:    uuid.NewSHA1(systemEventNamespace, []byte(entry.EntryID)).String(),
		TenantID:   ev.TenantID,
		CustomerID: ev.CustomerID,
		CreatedAt:  ev.CreatedAt,
		ReceivedAt: now.UTC().Truncate(time.Millisecond),
		NameSpace:  systemNameSpaces[entry.Type],
		Reference:  &cause,
		Attributes: []schemas.Attribute{},
		Origin:     schemas.OriginSystem,
		Depth:      ev.Depth + 1,
		CausedBy:   &cause,
		Points:     &schemas.Points{Quantity: entry.Points},
	}
}

// chainOf returns the causal chain of the events an entry of ev causes:
// ev's own chain plus the rule that made the entry.
func chainOf(chain []string, entry schemas.LedgerEntry) []string {
	out := append([]string(nil), chain...)
	if entry.RuleID != nil {
		out = append(out, *entry.RuleID)
	}
	return out
}

// assessCaused makes the system Points event of every entry and assesses
// each inline against the tenant's rules, breadth first: the entries those
// rules award make events of their own, one level deeper. The rules engine
// assesses nothing at depth rules.MaxDepth, which ends the chain, and skips
// a rule on an event its own effects caused. A client Points event reports
// itself: its own entry makes no system event.
func assessCaused(st *schemas.CustomerState, ev *schemas.Event, in Input, entries []schemas.LedgerEntry) (
	[]Caused, []schemas.LedgerEntry, []rules.Delivery, []rules.Schedule,
) {
	type pending struct {
		event schemas.Event
		chain []string
	}
	var queue []pending
	for _, e := range entries {
		if ev.Points != nil && e.Source == schemas.SourcePoints && e.EventID == ev.EventID {
			continue
		}
		queue = append(queue, pending{pointsEventFor(ev, e, in.Now), chainOf(in.CausalChain, e)})
	}

	var caused []Caused
	var more []schemas.LedgerEntry
	var deliveries []rules.Delivery
	var schedules []rules.Schedule
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		c := Caused{Event: p.event, Trace: Trace{Rules: []rules.RuleTrace{}}, Chain: p.chain}
		if len(in.Rules) > 0 {
			before := st.Points.Balance - p.event.Points.Quantity
			a := rules.Assess(in.Rules, rules.Subject{
				Event: &c.Event,
				Customer: &subject{st: st, balanceBefore: before, typ: schemas.TypePoints,
					active: in.SegmentActive},
				Usage:         usage{st: st, budget: in.BudgetUsed},
				Location:      in.Location,
				CausalChain:   p.chain,
				SegmentActive: in.SegmentActive,
				DryRun:        in.DryRun,
				DeferBudget:   in.DeferBudget,
			})
			c.Requests = a.BudgetRequests
			c.Entries = applyAssessment(st, &c.Event, in, a)
			markUnscheduled(a)
			c.Trace.Rules = a.Trace.Rules
			deliveries = append(deliveries, a.Deliveries...)
			schedules = append(schedules, a.Schedules...)
			for _, e := range c.Entries {
				queue = append(queue, pending{pointsEventFor(&c.Event, e, in.Now), chainOf(p.chain, e)})
			}
			more = append(more, c.Entries...)
		}
		caused = append(caused, c)
	}
	return caused, more, deliveries, schedules
}
