package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tallymarks/tallymarks/processors/customer"
	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

// replyWait bounds how long a request waits for the processor's outcome.
const replyWait = 5 * time.Second

// Event statuses an answer can carry.
const (
	statusAccepted = "accepted"
	statusRefused  = customer.StatusRefused
)

// eventAccepted is the answer of the asynchronous event endpoints. Status
// is set only when the client asked to wait (?wait=true).
type eventAccepted struct {
	EventID    string `json:"eventId"`
	CustomerID string `json:"customerId"`
	TenantID   string `json:"tenantId"`
	IsExisting bool   `json:"isExisting"`
	Status     string `json:"status,omitempty"`
}

// redemptionAnswer is the answer of POST /events/redemptions.
type redemptionAnswer struct {
	EventID         string `json:"eventId"`
	CustomerID      string `json:"customerId"`
	TenantID        string `json:"tenantId"`
	IsExisting      bool   `json:"isExisting"`
	PreviousBalance *int64 `json:"previousBalance,omitempty"`
	PendingBalance  *int64 `json:"pendingBalance,omitempty"`
	Status          string `json:"status,omitempty"`
}

// postEvent accepts an event of type typ: validated, then produced to the
// events topic. It answers 200 only after Kafka acknowledged the record
// (acks from all in-sync replicas, idempotent producer), 208 for an
// eventId already known, and 503 when Kafka did not acknowledge: then
// nothing was accepted and the client may retry with the same eventId.
//
// With ?wait=true it answers once the processor has assessed the event, or
// after 5 s with status accepted. A spend the processor refused then
// answers 409 insufficient_points or 423 account_locked.
func (s *Server) postEvent(typ schemas.EventType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p principal) error {
		ev, err := s.readEvent(r, typ, p)
		if err != nil {
			return err
		}
		answer := eventAccepted{EventID: ev.EventID, CustomerID: ev.CustomerID, TenantID: ev.TenantID}
		existing, err := s.seen(ev, ev.ReceivedAt)
		if err != nil {
			return err
		}
		if existing {
			answer.IsExisting = true
			writeJSON(w, http.StatusAlreadyReported, answer)
			return nil
		}

		if r.URL.Query().Get("wait") != "true" {
			if err := s.produceEvent(r.Context(), ev, ""); err != nil {
				return err
			}
			s.recent.add(ev.TenantID, ev.EventID, ev.CustomerID, ev.ReceivedAt)
			writeJSON(w, http.StatusOK, answer)
			return nil
		}

		rep, ok, err := s.produceAndWait(r.Context(), ev)
		if err != nil {
			return err
		}
		answer.Status = statusAccepted
		if ok {
			if err := refusalError(rep); err != nil {
				return err
			}
			answer.Status = rep.Status
			answer.IsExisting = rep.IsExisting
		}
		writeJSON(w, statusFor(answer.IsExisting), answer)
		return nil
	}
}

// postRedemption spends points synchronously (section 5): it answers after
// the processor applied or refused the redemption, 202 with status
// accepted when no decision came within 5 s. A duplicate gets the original
// answer: 208 with its body, or the same refusal.
func (s *Server) postRedemption(w http.ResponseWriter, r *http.Request, p principal) error {
	ev, err := s.readEvent(r, schemas.TypeRedemption, p)
	if err != nil {
		return err
	}
	// Duplicates are answered by the processor, which knows the original
	// outcome; only a conflict with another customer is caught here.
	if cust, ok := s.recent.lookup(ev.TenantID, ev.EventID, ev.ReceivedAt); ok && cust != ev.CustomerID {
		return eventIDConflict(ev.EventID)
	}

	rep, ok, err := s.produceAndWait(r.Context(), ev)
	if err != nil {
		return err
	}
	answer := redemptionAnswer{EventID: ev.EventID, CustomerID: ev.CustomerID, TenantID: ev.TenantID}
	if !ok {
		answer.Status = statusAccepted
		writeJSON(w, http.StatusAccepted, answer)
		return nil
	}
	if err := refusalError(rep); err != nil {
		return err
	}
	answer.IsExisting = rep.IsExisting
	answer.PreviousBalance, answer.PendingBalance = &rep.PreviousBalance, &rep.Balance
	writeJSON(w, statusFor(rep.IsExisting), answer)
	return nil
}

func statusFor(existing bool) int {
	if existing {
		return http.StatusAlreadyReported
	}
	return http.StatusOK
}

// refusalError maps a refused outcome to its error answer.
func refusalError(rep schemas.Reply) error {
	if rep.Status != statusRefused || rep.Code == nil {
		return nil
	}
	if *rep.Code == customer.CodeAccountLocked {
		return errAccountLocked
	}
	return errInsufficientPoints
}

// readEvent reads, decodes and validates the body of an event endpoint.
func (s *Server) readEvent(r *http.Request, typ schemas.EventType, p principal) (*schemas.Event, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	var req eventRequest
	if errs := decodeStrict(body, &req); errs != nil {
		return nil, invalidRequest(errs)
	}
	ev, errs := req.toEvent(typ, p.tenantID, s.cfg.Now())
	if errs != nil {
		return nil, invalidRequest(errs)
	}
	if ev.EventID == "" {
		// Without a client eventId the event cannot be deduplicated.
		ev.EventID = uuid.NewString()
	}
	return ev, nil
}

// produceAndWait produces ev asking the processor for its outcome, and
// waits for it at most replyWait. ok is false when no outcome came.
func (s *Server) produceAndWait(ctx context.Context, ev *schemas.Event) (rep schemas.Reply, ok bool, err error) {
	if s.cfg.Replies == nil {
		return rep, false, errNotReady
	}
	corr, ch := s.cfg.Replies.expect()
	if err := s.produceEvent(ctx, ev, corr); err != nil {
		s.cfg.Replies.forget(corr)
		return rep, false, err
	}
	s.recent.add(ev.TenantID, ev.EventID, ev.CustomerID, ev.ReceivedAt)
	deadline := time.Now().Add(replyWait)
	ok = s.cfg.Replies.wait(ctx, corr, ch, replyWait, schemas.ReplySchema, &rep)
	if ok {
		// A refused spend changed no balance (and an unknown customer stays
		// unknown): only its status is to be waited for.
		s.awaitVisible(ctx, ev, deadline, rep.Status == statusRefused)
	}
	return rep, ok, nil
}

// awaitVisible waits, until deadline at most, for this instance's views
// of the customer and of event statuses to include ev. The reply, the state
// change and the status leave the processor together, but each view reads
// its own topic: an answer must not let the client read from before the
// event.
func (s *Server) awaitVisible(ctx context.Context, ev *schemas.Event, deadline time.Time, statusOnly bool) {
	if s.cfg.Customers == nil {
		return
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		st, err := s.cfg.Customers.Customer(ev.TenantID, ev.CustomerID)
		if err != nil {
			return
		}
		_, seen := customer.Seen(st, ev.EventID)
		seen = seen || statusOnly
		if seen && s.cfg.Statuses != nil {
			status, err := s.cfg.Statuses.Status(ev.TenantID, ev.EventID)
			if err != nil {
				return
			}
			seen = status != nil
		}
		if seen {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// seen reports whether ev's eventId is already known: accepted by this
// instance lately, or recorded by the processor. The same eventId used for
// another customer is a conflict.
func (s *Server) seen(ev *schemas.Event, now time.Time) (bool, error) {
	if cust, ok := s.recent.lookup(ev.TenantID, ev.EventID, now); ok {
		if cust != ev.CustomerID {
			return false, eventIDConflict(ev.EventID)
		}
		return true, nil
	}
	if s.cfg.Customers == nil {
		return false, nil
	}
	st, err := s.cfg.Customers.Customer(ev.TenantID, ev.CustomerID)
	if err != nil {
		return false, err
	}
	_, ok := customer.Seen(st, ev.EventID)
	return ok, nil
}

// produceEvent writes ev to the events topic and waits for the broker's
// acknowledgement. The record carries the config offset this instance has
// applied, so the processor assesses it under at least that configuration,
// and, when corr is set, where to send the outcome.
func (s *Server) produceEvent(ctx context.Context, ev *schemas.Event, corr string) error {
	rec, err := s.eventRecord(ev, corr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ProduceTimeout)
	defer cancel()
	if err := s.cfg.Producer.ProduceSync(ctx, rec).FirstErr(); err != nil {
		s.cfg.Log.Warn("producing event failed", "event_id", ev.EventID, "err", err)
		return errUnavailable
	}
	return nil
}

// eventRecord returns the Kafka record of ev on the events topic.
func (s *Server) eventRecord(ev *schemas.Event, corr string) (*kgo.Record, error) {
	value, err := s.cfg.Codec.Encode(schemas.EventSchema, ev)
	if err != nil {
		return nil, fmt.Errorf("encoding event %s: %w", ev.EventID, err)
	}
	rec := &kgo.Record{
		Topic: s.cfg.Topics.Events(),
		Key:   []byte(topics.Key(ev.TenantID, ev.CustomerID)),
		Value: value,
		Headers: []kgo.RecordHeader{{
			Key:   customer.HeaderConfigOffset,
			Value: []byte(strconv.FormatInt(s.cfg.Catalog.Applied(), 10)),
		}},
	}
	if corr != "" {
		rec.Headers = append(rec.Headers,
			kgo.RecordHeader{Key: customer.HeaderReplyTo, Value: []byte(s.cfg.Replies.Instance())},
			kgo.RecordHeader{Key: customer.HeaderCorrelationID, Value: []byte(corr)})
	}
	return rec, nil
}
