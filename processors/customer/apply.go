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
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/processors/catalog"
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
)

// Result is the effect of one event.
type Result struct {
	Outcome Outcome
	State   *schemas.CustomerState
	// Entries are the ledger entries to emit, in order.
	Entries []schemas.LedgerEntry
}

// Apply processes ev against st, which is nil for an unknown customer. It
// never modifies st: the returned State is a new value.
func Apply(st *schemas.CustomerState, ev *schemas.Event, in Input) Result {
	if st != nil {
		if seen, ok := findProcessed(st, ev.EventID); ok {
			if seen.Partition == in.Partition && seen.Offset == in.Offset {
				return Result{Outcome: Redelivered, State: st, Entries: entriesOf(st, ev.EventID)}
			}
			return Result{Outcome: Duplicate, State: st}
		}
	}

	next := clone(st, ev)
	var entries []schemas.LedgerEntry
	if base, ok := basePoints(ev, in.Economy); ok && base > 0 {
		entries = append(entries, earn(next, ev, in, base))
	}

	remember(next, schemas.ProcessedEvent{
		EventID:     ev.EventID,
		Partition:   in.Partition,
		Offset:      in.Offset,
		ProcessedAt: ev.ReceivedAt,
		Status:      StatusAssessed,
	})
	next.RecentEntries = appendCapped(next.RecentEntries, entries, RecentEntries)
	return Result{Outcome: Processed, State: next, Entries: entries}
}

// basePoints returns the economy's base points for ev: down(total × rate)
// for Orders and Transactions that are not refunds or returns, in the
// economy's currency or without one. ok is false when no base applies.
func basePoints(ev *schemas.Event, e *catalog.Economy) (points int64, ok bool) {
	if e == nil || isRefund(ev.NameSpace) {
		return 0, false
	}
	var total *big.Rat
	var currency *string
	switch {
	case ev.Order != nil:
		total, currency = ev.Order.Total, ev.Order.Currency
	case ev.Transaction != nil:
		total, currency = ev.Transaction.Total, ev.Transaction.Currency
	default:
		return 0, false
	}
	if total == nil || e.Rate() == nil {
		return 0, false
	}
	if e.Currency != "" && currency != nil && !strings.EqualFold(*currency, e.Currency) {
		return 0, false
	}
	return schemas.FloorInt(new(big.Rat).Mul(total, e.Rate())), true
}

// isRefund reports whether an Order or Transaction namespace marks a
// refund or return, which reverses points instead of earning them.
func isRefund(nameSpace string) bool {
	return strings.HasPrefix(nameSpace, "Refund.") || strings.HasPrefix(nameSpace, "Return.")
}

// earn adds points to st as a new lot, paying off a debt lot first, and
// returns the earn entry.
func earn(st *schemas.CustomerState, ev *schemas.Event, in Input, points int64) schemas.LedgerEntry {
	id := entryID(ev.TenantID, ev.EventID, schemas.SourceBase, "", -1, 0)
	entry := schemas.LedgerEntry{
		EntryID:    id,
		TenantID:   ev.TenantID,
		CustomerID: ev.CustomerID,
		Type:       schemas.EntryEarn,
		Points:     points,
		EventID:    ev.EventID,
		Source:     schemas.SourceBase,
		OccurredAt: ev.CreatedAt,
		RecordedAt: in.Now.UTC().Truncate(time.Millisecond),
	}
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
		st.Lots = append(st.Lots, schemas.Lot{LotID: id, EarnedAt: ev.CreatedAt, Points: left})
		entry.Lots = append(entry.Lots, schemas.LotAmount{LotID: id, Points: left})
	}

	st.Points.Balance += points
	st.Points.LifetimeEarned += points
	entry.BalanceAfter = st.Points.Balance
	return entry
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
		}
	}
	// Each list gets room for what one event adds, so that appending does
	// not copy it a second time.
	next := *st
	next.Lots = append(make([]schemas.Lot, 0, len(st.Lots)+2), st.Lots...)
	next.Processed = append(make([]schemas.ProcessedEvent, 0, len(st.Processed)+1), st.Processed...)
	next.RecentEntries = append(make([]schemas.LedgerEntry, 0, len(st.RecentEntries)+4), st.RecentEntries...)
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

func entriesOf(st *schemas.CustomerState, eventID string) []schemas.LedgerEntry {
	var out []schemas.LedgerEntry
	for _, e := range st.RecentEntries {
		if e.EventID == eventID {
			out = append(out, e)
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
