package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tallymarks/tallymarks/schemas"
)

// StatusReader reads what became of events, as a goka view of the
// event-status table provides it.
type StatusReader interface {
	// Status returns an event's status, or nil when unknown.
	Status(tenantID, eventID string) (*schemas.EventStatus, error)
	// Recovered reports whether the reader has caught up with the table.
	Recovered() bool
}

// eventStatusView is the body of GET /events/{eventId} (finding 22).
type eventStatusView struct {
	EventID       string             `json:"eventId"`
	CustomerID    string             `json:"customerId"`
	Status        string             `json:"status"`
	Code          *string            `json:"code,omitempty"`
	Event         *schemas.EventView `json:"event,omitempty"`
	AssessedAt    string             `json:"assessedAt,omitempty"`
	LedgerEntries []ledgerEntryView  `json:"ledgerEntries"`
	ErrorEventIDs []string           `json:"errorEventIds"`
	CausedEvents  []string           `json:"causedEvents"`
	Trace         json.RawMessage    `json:"trace,omitempty"`
}

// getEvent answers GET /events/{eventId}: the event, its status and the
// assessment trace, from the event-status table (7 days after processing).
// An event this instance accepted and the processor has not assessed yet
// is "accepted".
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request, p principal) error {
	id := r.PathValue("eventId")
	if !uuidPattern.MatchString(id) {
		return invalidRequest([]FieldError{{
			Message: "must be a UUID (8-4-4-4-12 hex digits)", Param: "eventId", Value: id,
		}})
	}
	id = strings.ToLower(id)
	if s.cfg.Statuses == nil || !s.cfg.Statuses.Recovered() {
		return errNotReady
	}
	st, err := s.cfg.Statuses.Status(p.tenantID, id)
	if err != nil {
		return err
	}
	if st == nil {
		cust, ok := s.recent.lookup(p.tenantID, id, s.cfg.Now())
		if !ok {
			return notFound("event")
		}
		writeJSON(w, http.StatusOK, eventStatusView{
			EventID: id, CustomerID: cust, Status: statusAccepted,
			LedgerEntries: []ledgerEntryView{}, ErrorEventIDs: []string{}, CausedEvents: []string{},
		})
		return nil
	}

	v := eventStatusView{
		EventID: st.EventID, CustomerID: st.CustomerID, Status: st.Status, Code: st.Code,
		AssessedAt: formatTime(st.AssessedAt), LedgerEntries: []ledgerEntryView{},
		ErrorEventIDs: st.ErrorEventIDs, CausedEvents: st.CausedEventIDs, Trace: json.RawMessage(st.Trace),
	}
	ev := schemas.NewEventView(&st.Event)
	v.Event = &ev
	if len(st.LedgerEntryIDs) > 0 {
		entries, err := s.entries(p.tenantID, st.CustomerID, st.LedgerEntryIDs)
		if err != nil {
			return err
		}
		v.LedgerEntries = entries
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// entries returns the customer's ledger entries with the given ids, as far
// as the customer state still holds them (the newest 50).
func (s *Server) entries(tenantID, customerID string, ids []string) ([]ledgerEntryView, error) {
	out := []ledgerEntryView{}
	if s.cfg.Customers == nil {
		return out, nil
	}
	st, err := s.cfg.Customers.Customer(tenantID, customerID)
	if err != nil || st == nil {
		return out, err
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for _, e := range st.RecentEntries {
		if want[e.EntryID] {
			out = append(out, newLedgerEntryView(e))
		}
	}
	return out, nil
}
