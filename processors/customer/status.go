package customer

import (
	"encoding/json"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// StatusOf is the event-status record of ev after res: its status, the
// entries, error events and system events it made itself, and its trace.
func StatusOf(ev *schemas.Event, res Result, now time.Time) schemas.EventStatus {
	trace, err := json.Marshal(res.Trace)
	if err != nil {
		trace = []byte("{}")
	}
	st := schemas.EventStatus{
		TenantID:       ev.TenantID,
		EventID:        ev.EventID,
		CustomerID:     ev.CustomerID,
		Status:         res.Record.Status,
		Code:           res.Record.Code,
		Event:          *ev,
		AssessedAt:     now.UTC().Truncate(time.Millisecond),
		LedgerEntryIDs: []string{},
		ErrorEventIDs:  []string{},
		CausedEventIDs: []string{},
		Trace:          string(trace),
	}
	// Entries of the events this one caused belong to those events.
	for _, e := range res.Entries {
		if e.EventID == ev.EventID {
			st.LedgerEntryIDs = append(st.LedgerEntryIDs, e.EntryID)
		}
	}
	for _, e := range res.Errors {
		st.ErrorEventIDs = append(st.ErrorEventIDs, e.EventID)
	}
	for _, c := range res.Caused {
		if c.Event.CausedBy != nil && *c.Event.CausedBy == ev.EventID {
			st.CausedEventIDs = append(st.CausedEventIDs, c.Event.EventID)
		}
	}
	return st
}
