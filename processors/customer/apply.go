// Package customer is the customer processor: a goka processor that keeps
// each customer's state (profile, points, lots, dedup window) in the
// compacted group table and turns each event into ledger entries.
//
// The decision logic lives in Apply, a pure function of the state and the
// event, so that processing, redelivery and dry runs share one code path
// and tests need no broker.
package customer

import (
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// Limits of the state kept per customer.
const (
	// DedupWindow is how long an eventId is remembered after processing,
	// measured on the events' receivedAt, never on the wall clock.
	DedupWindow = 30 * 24 * time.Hour
	// DedupMaxEvents caps the remembered eventIds per customer.
	DedupMaxEvents = 1000
	// RecentEntries is how many ledger entries the state keeps, newest
	// last. They are what a redelivered event re-emits.
	RecentEntries = 50
)

// Processing statuses recorded in the dedup window.
const (
	StatusAssessed = "assessed"
	StatusFailed   = "failed"
	StatusRefused  = "refused"
)

// entryNamespace is the UUIDv5 namespace of ledger entry ids.
var entryNamespace = uuid.MustParse("5b6f2f9e-8d3c-4f0a-9a44-6c1f1e7d2b10")

// Input is what Apply needs besides the state and the event.
type Input struct {
	// Partition and Offset locate the event on the events topic. The same
	// pair seen again is a redelivery, not a resubmission.
	Partition int32
	Offset    int64
	// Economy governs the event, if the tenant has one in force.
	Economy *catalog.Economy
	// Location is the tenant's time zone, which decides local days;
	// default UTC.
	Location *time.Location
	// Rules are the tenant's rules; Assess picks those of the event's type
	// and status.
	Rules []*rules.Rule
	// SegmentActive reports whether a segment is Active; nil: all are.
	SegmentActive func(segmentID string) bool
	// SegmentExpiry returns when a membership added at addedAt ends, given
	// the customer's join date; nil, or a nil result: never.
	SegmentExpiry func(segmentID string, addedAt, joined time.Time) *time.Time
	// CausalChain lists the rules upstream of the event (self-causation).
	CausalChain []string
	// DeferBudget sends budgeted awards to the budget keeper instead of
	// awarding them (strict budgets, see budget.go); the processor sets
	// it. Ignored in dry runs.
	DeferBudget bool
	// BudgetUsed returns what an action's budget has used over all
	// customers, which dry runs check budgets against; nil reads 0.
	BudgetUsed func(ruleID string, actionIndex int) int64
	// DryRun assesses Test rules too, lets segments that are not Active be
	// added, and evaluates caps without consuming them (finding 24). The
	// caller discards the resulting state: a dry run changes nothing.
	DryRun bool
	// Now stamps recordedAt on new entries. It decides nothing.
	Now time.Time
}

// Outcome says what Apply did with an event.
type Outcome int

// Outcomes of Apply.
const (
	// Processed: the event was new and State holds its effects.
	Processed Outcome = iota
	// Redelivered: the event was processed before, from this very
	// partition and offset, so an earlier run may have died before its
	// outputs were written. State must be written again and Entries
	// re-emitted; their ids are unchanged, so consumers drop the copies.
	Redelivered
	// Duplicate: the same eventId was processed from another record.
	// Nothing changes and nothing is emitted.
	Duplicate
	// Evaluated: a basket was assessed against the current state (finding
	// 10). State is that state, unchanged (nil for an unknown customer, who
	// is not created), and must not be written; nothing is remembered and
	// Basket holds the answer. Deliveries (callWebhook) are its only side
	// effect, and its status is recorded like any event's.
	Evaluated
)

// Result is the effect of one event.
type Result struct {
	Outcome Outcome
	// State is the state to write; nil when nothing is to be written (a
	// spend refused for an unknown customer, who is not created). For a
	// Duplicate or Evaluated event it is the state as it was, not to be
	// written.
	State *schemas.CustomerState
	// Entries are the ledger entries to emit, in order.
	Entries []schemas.LedgerEntry
	// Refused holds the code of a refused spend (CodeInsufficientPoints or
	// CodeAccountLocked); the event then changed nothing but the dedup
	// window.
	Refused string
	// Errors are the error events to emit: an Error.Assessment for a
	// refusal. Their ids derive from the event's, like entries' ids.
	Errors []schemas.Event
	// Record is the event's entry in the dedup window: for a Duplicate or
	// Redelivered event the original one, with its status and balances.
	Record schemas.ProcessedEvent
	// Trace explains the assessment: "why did I get these points".
	Trace Trace
	// Deliveries are the webhooks, e-mails and SMS the rules asked for, to
	// emit after all rules.
	Deliveries []rules.Delivery
	// Schedules are the triggers the rules asked to schedule.
	Schedules []rules.Schedule
	// Caused are the system Points events the event's entries made, in the
	// order they were assessed, each with its own entries and trace.
	Caused []Caused
	// Basket is the answer to a basket; set only when Outcome is
	// Evaluated.
	Basket *BasketResult
	// Requests are the budget requests to send to the budget keeper: those
	// of the event and its system events, or for a Redelivered event every
	// request still pending, which the keeper answers once.
	Requests []schemas.BudgetRequest
	// Assessment is the record for the assessments topic: the event and
	// the customer as its rules saw it, for backtests. Set only for a
	// client event Processed now, neither refused nor a dry run; a
	// Redelivered event does not have it, since the state it was
	// assessed on is gone.
	Assessment *schemas.Assessment
}

// Trace explains how an event was assessed. It is kept with the event's
// status and shown by GET /events/{eventId}.
type Trace struct {
	Economy EconomyTrace `json:"economy"`
	// Rules lists every rule considered, in order: which criteria held and
	// which actions ran or were skipped, and why.
	Rules []rules.RuleTrace `json:"rules"`
}

// EconomyTrace tells which economy governed the event and its base points.
type EconomyTrace struct {
	ID         string `json:"id,omitempty"`
	BasePoints int64  `json:"basePoints"`
	// Reason says why there were no base points.
	Reason string `json:"reason,omitempty"`
}

// Refusal codes of spends, as the API and error events name them.
const (
	CodeInsufficientPoints = "insufficient_points"
	CodeAccountLocked      = "account_locked"
)

// Apply processes ev against st, which is nil for an unknown customer. It
// never modifies st: the returned State is a new value. A basket is
// evaluated, never deduplicated and never written (see Evaluated).
func Apply(st *schemas.CustomerState, ev *schemas.Event, in Input) Result {
	// A basket asks what an order would get; it is not a fact about the
	// customer. Were it looked up in or added to the dedup window, the same
	// cart asked about twice would get no answer the second time.
	if ev.Basket != nil {
		return evaluateBasket(st, ev, in)
	}
	if res, seen := alreadyProcessed(st, ev, in); seen {
		return res
	}
	// A spend is checked before anything changes: refused, it is only
	// remembered, so that a resubmission gets the same refusal.
	if code := refusal(st, ev); code != "" {
		return refuse(st, ev, in, code)
	}
	if in.Location == nil {
		in.Location = time.UTC
	}

	// Steps 3 and 4: count the event, then its own points.
	next := clone(st, ev)
	before := next.Points.Balance
	typ, _ := ev.Type()
	peakBefore := (&subject{st: next}).counter(typ).MaxSum
	count(next, ev, in.Location)
	entries, economy := ownPoints(next, ev, in)
	trace := Trace{Economy: economy, Rules: []rules.RuleTrace{}}

	// The balance after the event's own points, before its rules: a
	// redemption's pendingBalance.
	rec := processed(ev, in, StatusAssessed)
	rec.BalanceBefore, rec.BalanceAfter = before, next.Points.Balance

	// Step 5: the rules, on the state the steps before left.
	res := Result{Outcome: Processed, State: next, Record: rec}
	var requests []rules.BudgetRequest
	if ev.Origin != schemas.OriginSystem && !in.DryRun {
		res.Assessment = newAssessment(&subject{st: next, balanceBefore: before, typ: typ,
			peakBefore: peakBefore, active: in.SegmentActive}, ev, in.Location, economy.BasePoints)
	}
	if len(in.Rules) > 0 {
		a := rules.Assess(in.Rules, rules.Subject{
			Event: ev,
			Customer: &subject{st: next, balanceBefore: before, typ: typ,
				peakBefore: peakBefore, active: in.SegmentActive},
			Usage:         usage{st: next, budget: in.BudgetUsed},
			Location:      in.Location,
			BasePoints:    economy.BasePoints,
			CausalChain:   in.CausalChain,
			SegmentActive: in.SegmentActive,
			DryRun:        in.DryRun,
			DeferBudget:   in.DeferBudget,
		})
		entries = append(entries, applyAssessment(next, ev, in, a)...)
		markUnscheduled(a)
		trace.Rules = a.Trace.Rules
		res.Deliveries, res.Schedules = a.Deliveries, a.Schedules
		requests = a.BudgetRequests
	}

	// The system Points events of the entries, assessed inline after the
	// event's own rules (finding 13), so that "assessed" covers them too.
	caused, more, deliveries, schedules := assessCaused(next, ev, in, entries)
	entries = append(entries, more...)
	res.Caused = caused
	res.Deliveries = append(res.Deliveries, deliveries...)
	res.Schedules = append(res.Schedules, schedules...)

	res.Entries, res.Trace = entries, trace
	if len(requests) > 0 {
		res.Record.Status = StatusAccepted
		addPending(next, StatusOf(ev, res, in.Now), in.CausalChain, requests)
	}
	pending := pendCaused(next, caused, in.Now)
	if len(requests) > 0 {
		pending = append([]string{ev.EventID}, pending...)
	}
	if len(pending) > 0 {
		res.Requests = BudgetRequests(next, in.Now, pending...)
	}
	remember(next, res.Record)
	next.RecentEntries = appendCapped(next.RecentEntries, entries, RecentEntries)
	return res
}

// alreadyProcessed answers an event found in st's dedup window: from the
// same partition and offset it is a redelivery, whose outputs are made
// again with their original ids; otherwise a duplicate, which changes
// nothing.
func alreadyProcessed(st *schemas.CustomerState, ev *schemas.Event, in Input) (Result, bool) {
	if st == nil {
		return Result{}, false
	}
	seen, ok := findProcessed(st, ev.EventID)
	if !ok {
		return Result{}, false
	}
	if seen.Partition != in.Partition || seen.Offset != in.Offset {
		return Result{Outcome: Duplicate, State: st, Record: seen}, true
	}
	res := Result{Outcome: Redelivered, State: st, Entries: entriesOf(st, ev.EventID), Record: seen,
		Requests: BudgetRequests(st, in.Now)}
	if seen.Code != nil {
		res.Refused = *seen.Code
		res.Errors = []schemas.Event{refusalEvent(ev, *seen.Code, in.Now)}
	}
	return res, true
}

// refuse records a refused spend: the dedup window keeps it with its code
// (an unknown customer is not created), and an Error.Assessment event
// reports it.
func refuse(st *schemas.CustomerState, ev *schemas.Event, in Input, code string) Result {
	res := Result{Outcome: Processed, Refused: code, Errors: []schemas.Event{refusalEvent(ev, code, in.Now)},
		Trace: Trace{Rules: []rules.RuleTrace{}}}
	res.Record = processed(ev, in, StatusRefused)
	res.Record.Code = &code
	if st != nil {
		res.State = clone(st, ev)
		res.Record.BalanceBefore = st.Points.Balance
		res.Record.BalanceAfter = st.Points.Balance
		remember(res.State, res.Record)
	}
	return res
}

// ownPoints applies the points of the event itself (step 4): the economy's
// base points, a Points event's quantity, a redemption's spend. It returns
// their entries and the economy's part of the trace.
func ownPoints(st *schemas.CustomerState, ev *schemas.Event, in Input) ([]schemas.LedgerEntry, EconomyTrace) {
	var entries []schemas.LedgerEntry
	base, why := basePointsWhy(ev, in.Economy)
	economy := EconomyTrace{BasePoints: base, Reason: why}
	if in.Economy != nil {
		economy.ID = in.Economy.ID
	}
	if base > 0 {
		entries = append(entries, earn(st, ev, in, base, schemas.SourceBase))
	}
	switch {
	case ev.Points != nil && ev.Points.Quantity > 0:
		entries = append(entries, earn(st, ev, in, ev.Points.Quantity, schemas.SourcePoints))
	case ev.Points != nil && ev.Points.Quantity < 0:
		entries = append(entries, spend(st, ev, in, -ev.Points.Quantity, schemas.SourcePoints))
	case ev.Redemption != nil:
		entries = append(entries, spend(st, ev, in, ev.Redemption.Quantity, schemas.SourceRedemption))
	}
	return entries, economy
}

func processed(ev *schemas.Event, in Input, status string) schemas.ProcessedEvent {
	return schemas.ProcessedEvent{
		EventID:     ev.EventID,
		Partition:   in.Partition,
		Offset:      in.Offset,
		ProcessedAt: ev.ReceivedAt,
		Status:      status,
	}
}

// refusalEvent returns the Error.Assessment event of a refused spend.
func refusalEvent(ev *schemas.Event, code string, now time.Time) schemas.Event {
	cause := ev.EventID
	msg := "the customer's balance does not cover the spend"
	if code == CodeAccountLocked {
		msg = "the customer's account is locked"
	}
	return schemas.Event{
		EventID:    uuid.NewSHA1(entryNamespace, []byte(ev.TenantID+"/"+ev.EventID+"/error")).String(),
		TenantID:   ev.TenantID,
		CustomerID: ev.CustomerID,
		CreatedAt:  ev.CreatedAt,
		ReceivedAt: now.UTC().Truncate(time.Millisecond),
		NameSpace:  "Error.Assessment",
		Attributes: []schemas.Attribute{},
		Origin:     schemas.OriginSystem,
		Depth:      ev.Depth + 1,
		CausedBy:   &cause,
		ErrorAction: &schemas.Error{
			Event: ev, Source: "processor", Code: &code, Message: msg,
		},
	}
}

// refusal returns why a client spend cannot be applied, or "": a locked
// account, or a balance below the quantity. Spends never create debt, and
// an unknown customer has nothing to spend.
func refusal(st *schemas.CustomerState, ev *schemas.Event) string {
	var want int64
	switch {
	case ev.Points != nil && ev.Points.Quantity < 0 && ev.Origin != schemas.OriginSystem:
		want = -ev.Points.Quantity
	case ev.Redemption != nil:
		want = ev.Redemption.Quantity
	default:
		return ""
	}
	switch {
	case st == nil:
		return CodeInsufficientPoints
	case st.Profile.IsAccountLocked:
		return CodeAccountLocked
	case st.Points.Balance < want:
		return CodeInsufficientPoints
	}
	return ""
}

// Reasons the economy awarded no base points, as the trace names them.
const (
	reasonNoEconomy        = "no_economy"
	reasonNotEarning       = "no_base_for_event_type"
	reasonRefund           = "refund_event"
	reasonCurrencyMismatch = "currency_mismatch"
)

// basePointsWhy returns the economy's base points for ev: down(total ×
// rate) for Orders and Transactions that are not refunds or returns, in
// the economy's currency or without one; when there are none, the reason,
// for the trace. A basket gets what the same Order would (finding 10): its
// potential base points. Its nameSpace never makes it a refund, since a
// basket reverses nothing.
func basePointsWhy(ev *schemas.Event, e *catalog.Economy) (points int64, reason string) {
	var total *big.Rat
	var currency *string
	switch {
	case ev.Order != nil:
		total, currency = ev.Order.Total, ev.Order.Currency
	case ev.Transaction != nil:
		total, currency = ev.Transaction.Total, ev.Transaction.Currency
	case ev.Basket != nil:
		total, currency = ev.Basket.Total, ev.Basket.Currency
	default:
		return 0, reasonNotEarning
	}
	switch {
	case e == nil || e.Rate() == nil:
		return 0, reasonNoEconomy
	case ev.Basket == nil && isRefund(ev.NameSpace):
		return 0, reasonRefund
	case total == nil:
		return 0, reasonNotEarning
	case e.Currency != "" && currency != nil && !strings.EqualFold(*currency, e.Currency):
		return 0, reasonCurrencyMismatch
	}
	return schemas.FloorInt(new(big.Rat).Mul(total, e.Rate())), ""
}

// isRefund reports whether an Order or Transaction namespace marks a
// refund or return, which reverses points instead of earning them.
func isRefund(nameSpace string) bool {
	return strings.HasPrefix(nameSpace, "Refund.") || strings.HasPrefix(nameSpace, "Return.")
}

// newEntry returns a ledger entry of ev with its deterministic id.
func newEntry(ev *schemas.Event, in Input, typ, source string, points int64) schemas.LedgerEntry {
	return schemas.LedgerEntry{
		EntryID:    entryID(ev.TenantID, ev.EventID, source, "", -1, 0),
		TenantID:   ev.TenantID,
		CustomerID: ev.CustomerID,
		Type:       typ,
		Points:     points,
		EventID:    ev.EventID,
		Source:     source,
		OccurredAt: ev.CreatedAt,
		RecordedAt: in.Now.UTC().Truncate(time.Millisecond),
		Lots:       []schemas.LotAmount{},
	}
}

// earn adds points to st as a new lot, paying off a debt lot first, and
// returns the earn entry.
func earn(st *schemas.CustomerState, ev *schemas.Event, in Input, points int64, source string) schemas.LedgerEntry {
	return earnEntry(st, in, newEntry(ev, in, schemas.EntryEarn, source, points))
}

// earnEntry applies a prepared earn entry to st: a new lot named after the
// entry, after paying off a debt lot first. It returns the completed entry.
func earnEntry(st *schemas.CustomerState, in Input, entry schemas.LedgerEntry) schemas.LedgerEntry {
	id, points := entry.EntryID, entry.Points
	if in.Economy != nil {
		entry.EconomyID = &in.Economy.ID
	}

	// Debt is paid first: a negative lot left by a reversal absorbs new
	// earnings until it is zero, so balance = Σ open lots keeps holding.
	left := points
	for i := range st.Lots {
		lot := &st.Lots[i]
		if lot.Points >= 0 || left == 0 {
			continue
		}
		pay := min(left, -lot.Points)
		lot.Points += pay
		left -= pay
		entry.Lots = append(entry.Lots, schemas.LotAmount{LotID: lot.LotID, Points: pay})
	}
	st.Lots = dropEmpty(st.Lots)
	if left > 0 {
		st.Lots = append(st.Lots, schemas.Lot{LotID: id, EarnedAt: entry.OccurredAt, Points: left})
		entry.Lots = append(entry.Lots, schemas.LotAmount{LotID: id, Points: left})
	}

	st.Points.Balance += points
	st.Points.LifetimeEarned += points
	entry.BalanceAfter = st.Points.Balance
	return entry
}

// spend takes points from st's positive lots, soonest-expiring first, then
// oldest, then lowest lotId, and returns the spend entry naming each lot it
// consumed. The caller has checked that the balance covers points.
func spend(st *schemas.CustomerState, ev *schemas.Event, in Input, points int64, source string) schemas.LedgerEntry {
	entry := newEntry(ev, in, schemas.EntrySpend, source, -points)
	order := make([]int, 0, len(st.Lots))
	for i, l := range st.Lots {
		if l.Points > 0 {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return consumeBefore(st.Lots[order[a]], st.Lots[order[b]]) })

	left := points
	for _, i := range order {
		if left == 0 {
			break
		}
		lot := &st.Lots[i]
		take := min(left, lot.Points)
		lot.Points -= take
		left -= take
		entry.Lots = append(entry.Lots, schemas.LotAmount{LotID: lot.LotID, Points: -take})
	}
	st.Lots = dropEmpty(st.Lots)
	st.Points.Balance -= points
	st.Points.LifetimeSpent += points
	entry.BalanceAfter = st.Points.Balance
	return entry
}

// consumeBefore orders lots for spending, expiry and reversal: soonest
// expiring first (lots that never expire last), then oldest, then lowest id.
func consumeBefore(a, b schemas.Lot) bool {
	switch {
	case a.ExpiresAt != nil && b.ExpiresAt == nil:
		return true
	case a.ExpiresAt == nil && b.ExpiresAt != nil:
		return false
	case a.ExpiresAt != nil && !a.ExpiresAt.Equal(*b.ExpiresAt):
		return a.ExpiresAt.Before(*b.ExpiresAt)
	case !a.EarnedAt.Equal(b.EarnedAt):
		return a.EarnedAt.Before(b.EarnedAt)
	}
	return a.LotID < b.LotID
}

// entryID derives a ledger entry id from what caused it, so that the same
// cause always yields the same id, on every redelivery and replay.
func entryID(tenantID, eventID, source, ruleID string, actionIndex, seq int) string {
	name := strings.Join([]string{
		tenantID, eventID, source, ruleID, itoa(actionIndex), itoa(seq),
	}, "/")
	return uuid.NewSHA1(entryNamespace, []byte(name)).String()
}

func itoa(i int) string { return strconv.Itoa(i) }

// clone returns a deep enough copy of st for Apply to change, or a new
// customer created by ev.
func clone(st *schemas.CustomerState, ev *schemas.Event) *schemas.CustomerState {
	if st == nil {
		return &schemas.CustomerState{
			Profile: schemas.Customer{
				CustomerID: ev.CustomerID,
				TenantID:   ev.TenantID,
				Attributes: []schemas.Attribute{},
				CreatedAt:  ev.CreatedAt,
				ChangedAt:  ev.CreatedAt,
			},
			Lots:          []schemas.Lot{},
			Processed:     []schemas.ProcessedEvent{},
			RecentEntries: []schemas.LedgerEntry{},
			Counters:      []schemas.TypeCounter{},
			Windows:       []schemas.NameSpaceWindow{},
			Segments:      []schemas.Membership{},
			CapUsage:      []schemas.CapUsage{},
			Pending:       []schemas.PendingAssessment{},
		}
	}
	// Each list gets room for what one event adds, so that appending does
	// not copy it a second time.
	next := *st
	next.Lots = append(make([]schemas.Lot, 0, len(st.Lots)+2), st.Lots...)
	next.Processed = append(make([]schemas.ProcessedEvent, 0, len(st.Processed)+1), st.Processed...)
	next.RecentEntries = append(make([]schemas.LedgerEntry, 0, len(st.RecentEntries)+4), st.RecentEntries...)
	next.Counters = append([]schemas.TypeCounter(nil), st.Counters...)
	next.Windows = append([]schemas.NameSpaceWindow(nil), st.Windows...)
	next.Segments = append([]schemas.Membership(nil), st.Segments...)
	next.CapUsage = append([]schemas.CapUsage(nil), st.CapUsage...)
	next.Pending = append([]schemas.PendingAssessment(nil), st.Pending...)
	return &next
}

func findProcessed(st *schemas.CustomerState, eventID string) (schemas.ProcessedEvent, bool) {
	for i := len(st.Processed) - 1; i >= 0; i-- {
		if st.Processed[i].EventID == eventID {
			return st.Processed[i], true
		}
	}
	return schemas.ProcessedEvent{}, false
}

// Seen reports whether st has processed eventID within the dedup window,
// and with which status.
func Seen(st *schemas.CustomerState, eventID string) (status string, ok bool) {
	if st == nil {
		return "", false
	}
	p, ok := findProcessed(st, eventID)
	return p.Status, ok
}

// entriesOf returns the recent entries an event made, including those of
// the system events it caused inline: each entry's system event has an id
// derived from the entry's, and entries are kept in the order they were
// made, so a cause always comes before its effects.
func entriesOf(st *schemas.CustomerState, eventID string) []schemas.LedgerEntry {
	var out []schemas.LedgerEntry
	mine := map[string]bool{eventID: true}
	for _, e := range st.RecentEntries {
		if mine[e.EventID] {
			out = append(out, e)
			mine[uuid.NewSHA1(systemEventNamespace, []byte(e.EntryID)).String()] = true
		}
	}
	return out
}

// remember adds p to the dedup window and drops what fell out of it: ids
// older than DedupWindow before p, and all but the newest DedupMaxEvents.
func remember(st *schemas.CustomerState, p schemas.ProcessedEvent) {
	st.Processed = append(st.Processed, p)
	cutoff := p.ProcessedAt.Add(-DedupWindow)
	drop := 0
	for drop < len(st.Processed) && st.Processed[drop].ProcessedAt.Before(cutoff) {
		drop++
	}
	if over := len(st.Processed) - drop - DedupMaxEvents; over > 0 {
		drop += over
	}
	// Reslicing is enough: the state is encoded, and so copied, on write.
	st.Processed = st.Processed[drop:]
}

func appendCapped(list, add []schemas.LedgerEntry, limit int) []schemas.LedgerEntry {
	list = append(list, add...)
	if over := len(list) - limit; over > 0 {
		list = list[over:]
	}
	return list
}

func dropEmpty(lots []schemas.Lot) []schemas.Lot {
	out := lots[:0]
	for _, l := range lots {
		if l.Points != 0 {
			out = append(out, l)
		}
	}
	return out
}
