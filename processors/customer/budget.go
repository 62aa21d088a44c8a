package customer

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// Budgets are strict (finding 27): a rule's budget is shared by customers
// on every partition, so no customer processor can decide alone whether it
// has points left. A budgeted award is sent to the budget keeper as a
// request; the event is applied without it and stays accepted, its trace
// showing the action pending, until the keeper's grant comes back on the
// budget-grants topic. Settle then applies the grant as the award it
// replaces. Later rules of the same event do not see budgeted points; the
// customer's later events are not held back.

// StatusAccepted is the status of an event applied but for the budgeted
// awards it waits for.
const StatusAccepted = "accepted"

// budgetNamespace is the UUIDv5 namespace of budget request ids.
var budgetNamespace = uuid.MustParse("3c8f1a7e-92d4-4b6a-8e15-7d0c2b9f4e63")

// requestID derives a budget request's id from what asked, so that a
// redelivered event asks again under the same id and the keeper grants it
// once.
func requestID(tenantID, eventID, ruleID string, actionIndex int) string {
	return uuid.NewSHA1(budgetNamespace,
		[]byte(tenantID+"/"+eventID+"/"+ruleID+"/"+strconv.Itoa(actionIndex))).String()
}

// addPending records status's event as waiting for reqs, with the causal
// chain the events its grants cause will extend.
func addPending(st *schemas.CustomerState, status schemas.EventStatus, chain []string, reqs []rules.BudgetRequest) {
	p := schemas.PendingAssessment{
		Status:      status,
		CausalChain: append([]string{}, chain...),
		Requests:    make([]schemas.PendingBudget, 0, len(reqs)),
	}
	for _, r := range reqs {
		p.Requests = append(p.Requests, schemas.PendingBudget{
			RequestID:   requestID(status.TenantID, status.EventID, r.RuleID, r.ActionIndex),
			RuleID:      r.RuleID,
			RuleVersion: r.RuleVersion,
			ActionIndex: r.ActionIndex,
			Budget:      r.Budget,
			Points:      r.Points,
			CapKey:      r.CustomerCap,
		})
	}
	st.Pending = append(st.Pending, p)
}

// BudgetRequests returns the requests to send for the pending events of st
// named by eventIDs, or for every pending event when none is named: a
// redelivered event asks again for everything still open, and the keeper
// answers a request it has seen with its original grant.
func BudgetRequests(st *schemas.CustomerState, now time.Time, eventIDs ...string) []schemas.BudgetRequest {
	if st == nil {
		return nil
	}
	var out []schemas.BudgetRequest
	for _, p := range st.Pending {
		if len(eventIDs) > 0 && !slices.Contains(eventIDs, p.Status.EventID) {
			continue
		}
		for _, r := range p.Requests {
			out = append(out, schemas.BudgetRequest{
				RequestID:   r.RequestID,
				TenantID:    p.Status.TenantID,
				CustomerID:  p.Status.CustomerID,
				EventID:     p.Status.EventID,
				RuleID:      r.RuleID,
				RuleVersion: r.RuleVersion,
				ActionIndex: r.ActionIndex,
				Budget:      r.Budget,
				Points:      r.Points,
				RequestedAt: now.UTC().Truncate(time.Millisecond),
			})
		}
	}
	return out
}

// PendingEvent returns the pending event a grant answers, if st has it.
func PendingEvent(st *schemas.CustomerState, eventID string) (*schemas.Event, bool) {
	if st == nil {
		return nil, false
	}
	for i := range st.Pending {
		if st.Pending[i].Status.EventID == eventID {
			return &st.Pending[i].Status.Event, true
		}
	}
	return nil, false
}

// SetReplyTo notes who waits for a pending event's outcome, so that the
// answer is sent when its last grant is settled.
func SetReplyTo(st *schemas.CustomerState, eventID, replyTo, correlationID string) {
	for i := range st.Pending {
		if st.Pending[i].Status.EventID == eventID {
			st.Pending[i].ReplyTo, st.Pending[i].CorrelationID = replyTo, correlationID
		}
	}
}

// Settlement is the effect of one budget grant.
type Settlement struct {
	// State is the state to write; nil when the grant changed nothing.
	State *schemas.CustomerState
	// Entries are the ledger entries to emit: the award, then what the
	// rules of its system event awarded. A grant seen again re-emits its
	// award with the same id.
	Entries []schemas.LedgerEntry
	// Caused are the system Points events of the entries, assessed inline.
	Caused     []Caused
	Deliveries []rules.Delivery
	// Requests are new budget requests made by the caused events' rules.
	Requests []schemas.BudgetRequest
	// Status is the event's updated status, nil when there is none to
	// record. Once every request is settled it is assessed, and Reply
	// names who waits for the answer.
	Status *schemas.EventStatus
	// Done is set when the grant settled the event's last request.
	Done          bool
	ReplyTo       string
	CorrelationID string
	// Record is the event's dedup entry, for the reply.
	Record schemas.ProcessedEvent
}

// Settle applies a budget grant to st: the granted points as the award of
// the rule action that asked (an earn entry with the rule's id, version
// and action index, like an award that needed no grant), what was not
// granted back to the per-customer cap, and the trace updated. It never
// modifies st. A grant whose request is no longer pending was settled
// before: its award, if still among the recent entries, is re-emitted.
func Settle(st *schemas.CustomerState, g *schemas.BudgetGrant, in Input) Settlement {
	if st == nil {
		return Settlement{}
	}
	pi, ri := findRequest(st, g.EventID, g.RequestID)
	if ri < 0 {
		id := entryID(g.TenantID, g.EventID, schemas.SourceRule, g.RuleID, g.ActionIndex, 0)
		for _, e := range st.RecentEntries {
			if e.EntryID == id {
				return Settlement{Entries: []schemas.LedgerEntry{e}}
			}
		}
		return Settlement{}
	}
	if in.Location == nil {
		in.Location = time.UTC
	}

	next := clone(st, nil)
	p := clonePending(st.Pending[pi])
	ev := &p.Status.Event
	req := p.Requests[ri]
	p.Requests = slices.Delete(p.Requests, ri, ri+1)
	granted := max(min(g.Granted, req.Points), 0)

	var out Settlement
	var entries []schemas.LedgerEntry
	if granted > 0 {
		aw := rules.Award{RuleID: req.RuleID, RuleVersion: req.RuleVersion,
			ActionIndex: req.ActionIndex, Points: granted}
		entries = append(entries, ruleEarn(next, ev, in, aw))
		p.Status.LedgerEntryIDs = append(p.Status.LedgerEntryIDs, entries[0].EntryID)
	}
	if short := req.Points - granted; short > 0 && req.CapKey != "" {
		giveBack(next, req.CapKey, short)
	}
	p.Status.Trace = settledTrace(p.Status.Trace, req, granted)

	in.CausalChain = p.CausalChain
	caused, more, deliveries, _ := assessCaused(next, ev, in, entries)
	entries = append(entries, more...)
	for _, c := range caused {
		if c.Event.CausedBy != nil && *c.Event.CausedBy == ev.EventID {
			p.Status.CausedEventIDs = append(p.Status.CausedEventIDs, c.Event.EventID)
		}
	}
	p.Status.AssessedAt = in.Now.UTC().Truncate(time.Millisecond)

	if len(p.Requests) == 0 {
		p.Status.Status = StatusAssessed
		next.Pending = slices.Delete(next.Pending, pi, pi+1)
		out.Done, out.ReplyTo, out.CorrelationID = true, p.ReplyTo, p.CorrelationID
		out.Record = markAssessed(next, ev.EventID)
	} else {
		next.Pending[pi] = p
	}
	if ids := pendCaused(next, caused, in.Now); len(ids) > 0 {
		out.Requests = BudgetRequests(next, in.Now, ids...)
	}

	next.RecentEntries = appendCapped(next.RecentEntries, entries, RecentEntries)
	out.State, out.Entries, out.Caused, out.Deliveries = next, entries, caused, deliveries
	out.Status = &p.Status
	return out
}

// findRequest returns the indexes of a pending event and of one of its
// requests; ri is -1 when there is no such request.
func findRequest(st *schemas.CustomerState, eventID, requestID string) (pi, ri int) {
	for i, p := range st.Pending {
		if p.Status.EventID != eventID {
			continue
		}
		for j, r := range p.Requests {
			if r.RequestID == requestID {
				return i, j
			}
		}
	}
	return -1, -1
}

// clonePending copies the lists of p that Settle changes.
func clonePending(p schemas.PendingAssessment) schemas.PendingAssessment {
	p.Requests = slices.Clone(p.Requests)
	p.Status.LedgerEntryIDs = slices.Clone(p.Status.LedgerEntryIDs)
	p.Status.CausedEventIDs = slices.Clone(p.Status.CausedEventIDs)
	return p
}

// markAssessed sets the dedup entry of an event whose last grant came to
// assessed and returns it.
func markAssessed(st *schemas.CustomerState, eventID string) schemas.ProcessedEvent {
	st.Processed = slices.Clone(st.Processed)
	for i := len(st.Processed) - 1; i >= 0; i-- {
		if st.Processed[i].EventID == eventID {
			st.Processed[i].Status = StatusAssessed
			return st.Processed[i]
		}
	}
	return schemas.ProcessedEvent{EventID: eventID, Status: StatusAssessed}
}

// giveBack returns points the keeper did not grant to the per-customer cap
// counter that counted them.
func giveBack(st *schemas.CustomerState, key string, points int64) {
	for i := range st.CapUsage {
		if st.CapUsage[i].Key == key {
			st.CapUsage[i].Points = max(st.CapUsage[i].Points-points, 0)
		}
	}
}

// settledTrace rewrites the trace's pending action of req with what was
// granted: ran with the points, clamped or skipped as budget_exhausted.
// A trace that cannot be read is kept as it is.
func settledTrace(raw string, req schemas.PendingBudget, granted int64) string {
	var tr Trace
	if err := json.Unmarshal([]byte(raw), &tr); err != nil {
		return raw
	}
	for i := range tr.Rules {
		rt := &tr.Rules[i]
		if rt.RuleID != req.RuleID {
			continue
		}
		for j := range rt.Actions {
			at := &rt.Actions[j]
			if at.Index != req.ActionIndex || at.Result != rules.ResultPending {
				continue
			}
			switch {
			case granted == 0:
				at.Result, at.Reason, at.Points = rules.ResultSkipped, rules.ReasonBudgetExhausted, nil
			case granted < req.Points:
				at.Result, at.Reason, at.Points = rules.ResultRan, rules.ReasonBudgetExhausted, &granted
			default:
				at.Result, at.Reason, at.Points = rules.ResultRan, "", &granted
			}
		}
	}
	b, err := json.Marshal(tr)
	if err != nil {
		return raw
	}
	return string(b)
}
