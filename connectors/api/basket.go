package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// errProcessingTimeout answers a basket that the processor did not assess
// within 5 s (finding 28). A basket changes nothing, so sending it again,
// with the same eventId, is always safe.
var errProcessingTimeout = &Error{Status: http.StatusServiceUnavailable, Code: "processing_timeout",
	Message: "the basket was not assessed within 5 s; nothing changed, send it again", RetryAfter: 5}

// basketIDConflict answers a basket whose eventId already names another
// event, whose status the basket's would overwrite.
func basketIDConflict(eventID string) *Error {
	return &Error{Status: http.StatusConflict, Code: "event_id_conflict",
		Message: "eventId " + eventID + " already names an event that is not a basket"}
}

// basketAnswer is the answer of POST /events/baskets (section 12,
// "Baskets"; finding 10). Outcomes and MatchedRules are passed on from the
// processor as it wrote them, so that discount values stay exact decimals.
type basketAnswer struct {
	EventID         string          `json:"eventId"`
	PotentialPoints int64           `json:"potentialPoints"`
	Outcomes        json.RawMessage `json:"outcomes"`
	MatchedRules    json.RawMessage `json:"matchedRules"`
}

// postBasket assesses a basket synchronously: what the cart would earn if
// it were ordered, and the outcomes of the matching Basket rules. The
// processor evaluates it in the customer's partition against the current
// state and changes nothing but the basket's own status record; a
// callWebhook action is delivered. Baskets are never deduplicated: the
// same eventId is evaluated afresh each time and answers 200. No answer
// within 5 s gives 503 processing_timeout.
func (s *Server) postBasket(w http.ResponseWriter, r *http.Request, p principal) error {
	ev, err := s.readEvent(r, schemas.TypeBasket, p)
	if err != nil {
		return err
	}
	if err := s.checkBasketID(ev); err != nil {
		return err
	}

	rep, ok, err := s.produceBasket(r.Context(), ev)
	switch {
	case err != nil:
		return err
	case !ok:
		return errProcessingTimeout
	}
	answer, err := newBasketAnswer(ev.EventID, rep)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, answer)
	return nil
}

// checkBasketID refuses a basket whose eventId this instance accepted
// lately for another event, or whose recorded status is another event's.
// Events share one status per eventId: answering the basket would replace
// the status of, say, the order that reused the cart's id. A basket of the
// same id is no conflict, since baskets are never deduplicated.
func (s *Server) checkBasketID(ev *schemas.Event) error {
	// Baskets are never added to recent events, so a hit is another event.
	if _, ok := s.recent.lookup(ev.TenantID, ev.EventID, ev.ReceivedAt); ok {
		return basketIDConflict(ev.EventID)
	}
	if s.cfg.Statuses == nil {
		return nil
	}
	st, err := s.cfg.Statuses.Status(ev.TenantID, ev.EventID)
	if err != nil {
		return err
	}
	if st != nil && st.Event.Basket == nil {
		return basketIDConflict(ev.EventID)
	}
	return nil
}

// produceBasket produces ev asking the processor for its answer, and waits
// for it at most replyWait, then, within the same 5 s, for this instance's
// view of event statuses to show this evaluation. ok is false when no
// answer came.
//
// It differs from produceAndWait on purpose: a basket is not remembered
// among recent events (that would answer a later basket of the same id
// 208) and never appears in the customer's state, which produceAndWait
// would wait for until the deadline.
func (s *Server) produceBasket(ctx context.Context, ev *schemas.Event) (rep schemas.Reply, ok bool, err error) {
	if s.cfg.Replies == nil {
		return rep, false, errNotReady
	}
	corr, ch := s.cfg.Replies.expect()
	if err := s.produceEvent(ctx, ev, corr); err != nil {
		s.cfg.Replies.forget(corr)
		return rep, false, err
	}
	deadline := time.Now().Add(replyWait)
	ok = s.cfg.Replies.wait(ctx, corr, ch, replyWait, schemas.ReplySchema, &rep)
	if ok {
		s.awaitBasketStatus(ctx, ev, deadline)
	}
	return rep, ok, nil
}

// awaitBasketStatus waits, until deadline at most, for this instance's
// view of event statuses to hold ev's evaluation, so that GET
// /events/{eventId} right after the answer shows it (finding 1). An
// earlier evaluation of the same basket is told apart by its receivedAt.
func (s *Server) awaitBasketStatus(ctx context.Context, ev *schemas.Event, deadline time.Time) {
	if s.cfg.Statuses == nil {
		return
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		st, err := s.cfg.Statuses.Status(ev.TenantID, ev.EventID)
		if err != nil {
			return
		}
		// Another event's status under this id means the processor kept
		// it and wrote none for the basket: there is nothing to wait for.
		if st != nil && (st.Event.Basket == nil || st.Event.ReceivedAt.Equal(ev.ReceivedAt)) {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// newBasketAnswer builds the answer from the processor's reply. A reply
// without a result comes from a processor that predates baskets, or from a
// bug: an internal error, whose text stays in the log.
func newBasketAnswer(eventID string, rep schemas.Reply) (basketAnswer, error) {
	if rep.Result == "" {
		return basketAnswer{}, fmt.Errorf("reading the answer to basket %s: the reply carries no result", eventID)
	}
	var res struct {
		PotentialPoints int64           `json:"potentialPoints"`
		Outcomes        json.RawMessage `json:"outcomes"`
		MatchedRules    json.RawMessage `json:"matchedRules"`
	}
	if err := json.Unmarshal([]byte(rep.Result), &res); err != nil {
		return basketAnswer{}, fmt.Errorf("decoding the answer to basket %s: %w", eventID, err)
	}
	return basketAnswer{
		EventID:         eventID,
		PotentialPoints: res.PotentialPoints,
		Outcomes:        jsonList(res.Outcomes),
		MatchedRules:    jsonList(res.MatchedRules),
	}, nil
}

// jsonList returns raw, or an empty JSON array for an absent or null one:
// the answer's lists are never null.
func jsonList(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return json.RawMessage("[]")
	}
	return raw
}
