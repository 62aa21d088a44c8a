package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tallymarks/tallymarks/schemas"
)

// maxBatchEvents is the largest batch POST /events:batch takes.
const maxBatchEvents = 500

// batchRequest is the body of POST /events:batch.
type batchRequest struct {
	Events []json.RawMessage `json:"events"`
}

// batchResult is the outcome of one event of a batch, in request order.
// Status is the HTTP status the event would have had alone: 200, 208, 400,
// 409 or 503; Error holds the error body when it is not 200 or 208.
type batchResult struct {
	Index      int    `json:"index"`
	Status     int    `json:"status"`
	EventID    string `json:"eventId,omitempty"`
	CustomerID string `json:"customerId,omitempty"`
	TenantID   string `json:"tenantId,omitempty"`
	IsExisting bool   `json:"isExisting"`
	Error      *Error `json:"error,omitempty"`
}

// asyncTypes are the event types a batch may carry, in slot order.
var asyncTypes = []schemas.EventType{
	schemas.TypeAction, schemas.TypeOrder, schemas.TypeTransaction, schemas.TypeTransfer, schemas.TypePoints,
}

// postBatch accepts up to 500 events of the asynchronous types at once.
// Each event is validated, deduplicated and answered on its own; the valid
// ones are produced together, and the answer (200) lists one result per
// event. An event's type is its payload slot.
func (s *Server) postBatch(w http.ResponseWriter, r *http.Request, p principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req batchRequest
	if errs := decodeStrict(body, &req); errs != nil {
		return invalidRequest(errs)
	}
	switch {
	case req.Events == nil:
		return invalidRequest([]FieldError{{Message: "is required", Param: "/events"}})
	case len(req.Events) > maxBatchEvents:
		return invalidRequest([]FieldError{{Message: "must have at most 500 events", Param: "/events"}})
	}

	now := s.cfg.Now()
	results := make([]batchResult, len(req.Events))
	var toProduce []int
	var events []*schemas.Event
	inBatch := map[string]string{} // eventId → customerId of its first occurrence
	for i, raw := range req.Events {
		res := &results[i]
		res.Index = i
		ev, ferr := s.batchEvent(raw, i, p, now)
		if ferr != nil {
			res.Status, res.Error = ferr.Status, ferr
			events = append(events, nil)
			continue
		}
		events = append(events, ev)
		res.EventID, res.CustomerID, res.TenantID = ev.EventID, ev.CustomerID, ev.TenantID

		// The second occurrence of an eventId within the batch is a
		// duplicate of the first.
		if cust, dup := inBatch[ev.EventID]; dup {
			if cust != ev.CustomerID {
				e := eventIDConflict(ev.EventID)
				res.Status, res.Error = e.Status, e
			} else {
				res.Status, res.IsExisting = http.StatusAlreadyReported, true
			}
			continue
		}
		inBatch[ev.EventID] = ev.CustomerID
		existing, err := s.seen(ev, now)
		var apiErr *Error
		switch {
		case errors.As(err, &apiErr):
			res.Status, res.Error = apiErr.Status, apiErr
		case err != nil:
			return err
		case existing:
			res.Status, res.IsExisting = http.StatusAlreadyReported, true
		default:
			toProduce = append(toProduce, i)
		}
	}

	s.produceBatch(r.Context(), events, toProduce, results)
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
	return nil
}

// batchEvent decodes and validates event i of a batch. Field pointers in
// its errors are absolute: /events/i/....
func (s *Server) batchEvent(raw json.RawMessage, i int, p principal, now time.Time) (*schemas.Event, *Error) {
	prefix := "/events/" + strconv.Itoa(i)
	var req eventRequest
	if errs := decodeStrict(raw, &req); errs != nil {
		return nil, invalidRequest(prefixed(prefix, errs))
	}
	typ, ok := slotOf(&req)
	if !ok {
		return nil, invalidRequest([]FieldError{{Param: prefix,
			Message: "must carry exactly one of action, order, transaction, transfer or points"}})
	}
	ev, errs := req.toEvent(typ, p.tenantID, now)
	if errs != nil {
		return nil, invalidRequest(prefixed(prefix, errs))
	}
	if ev.EventID == "" {
		ev.EventID = uuid.NewString()
	}
	return ev, nil
}

// slotOf returns the type of the one asynchronous slot req carries.
func slotOf(req *eventRequest) (schemas.EventType, bool) {
	set := req.setSlots()
	if len(set) != 1 || !slices.Contains(asyncTypes, set[0]) {
		return "", false
	}
	return set[0], true
}

func prefixed(prefix string, errs []FieldError) []FieldError {
	for i := range errs {
		errs[i].Param = prefix + errs[i].Param
	}
	return errs
}

// produceBatch produces the events at the indexes in which, and sets each
// one's result: 200 once Kafka acknowledged it, 503 if it did not.
func (s *Server) produceBatch(ctx context.Context, events []*schemas.Event, which []int, results []batchResult) {
	if len(which) == 0 {
		return
	}
	recs := make([]*kgo.Record, 0, len(which))
	for _, i := range which {
		rec, err := s.eventRecord(events[i], "")
		if err != nil {
			results[i].Status, results[i].Error = errInternal.Status, errInternal
			continue
		}
		rec.Context = context.WithValue(ctx, batchIndexKey{}, i)
		recs = append(recs, rec)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ProduceTimeout)
	defer cancel()
	for _, pr := range s.cfg.Producer.ProduceSync(ctx, recs...) {
		i, _ := pr.Record.Context.Value(batchIndexKey{}).(int)
		if pr.Err != nil {
			s.cfg.Log.Warn("producing batch event failed", "event_id", events[i].EventID, "err", pr.Err)
			results[i].Status, results[i].Error = errUnavailable.Status, errUnavailable
			continue
		}
		results[i].Status = http.StatusOK
		s.recent.add(events[i].TenantID, events[i].EventID, events[i].CustomerID, events[i].ReceivedAt)
	}
}

type batchIndexKey struct{}
