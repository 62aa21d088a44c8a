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

// eventAccepted is the answer of the asynchronous event endpoints.
type eventAccepted struct {
	EventID    string `json:"eventId"`
	CustomerID string `json:"customerId"`
	TenantID   string `json:"tenantId"`
	IsExisting bool   `json:"isExisting"`
}

// postEvent accepts an event of type typ: validated, then produced to the
// events topic. It answers 200 only after Kafka acknowledged the record
// (acks from all in-sync replicas, idempotent producer), 208 for an
// eventId already known, and 503 when Kafka did not acknowledge: then
// nothing was accepted and the client may retry with the same eventId.
func (s *Server) postEvent(typ schemas.EventType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p principal) error {
		body, err := readBody(r)
		if err != nil {
			return err
		}
		var req eventRequest
		if errs := decodeStrict(body, &req); errs != nil {
			return invalidRequest(errs)
		}
		now := s.cfg.Now()
		ev, errs := req.toEvent(typ, p.tenantID, now)
		if errs != nil {
			return invalidRequest(errs)
		}
		if ev.EventID == "" {
			// Without a client eventId the event cannot be deduplicated.
			ev.EventID = uuid.NewString()
		}

		answer := eventAccepted{EventID: ev.EventID, CustomerID: ev.CustomerID, TenantID: ev.TenantID}
		existing, err := s.seen(ev, now)
		if err != nil {
			return err
		}
		if existing {
			answer.IsExisting = true
			writeJSON(w, http.StatusAlreadyReported, answer)
			return nil
		}

		if err := s.produceEvent(r.Context(), ev); err != nil {
			return err
		}
		s.recent.add(ev.TenantID, ev.EventID, ev.CustomerID, now)
		writeJSON(w, http.StatusOK, answer)
		return nil
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
// applied, so the processor assesses it under at least that configuration.
func (s *Server) produceEvent(ctx context.Context, ev *schemas.Event) error {
	value, err := s.cfg.Codec.Encode(schemas.EventSchema, ev)
	if err != nil {
		return fmt.Errorf("encoding event %s: %w", ev.EventID, err)
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
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ProduceTimeout)
	defer cancel()
	if err := s.cfg.Producer.ProduceSync(ctx, rec).FirstErr(); err != nil {
		s.cfg.Log.Warn("producing event failed", "event_id", ev.EventID, "err", err)
		return errUnavailable
	}
	return nil
}
