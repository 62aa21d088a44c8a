// Package api is the REST proxy: the Event, Customer and Admin APIs of
// section 9, over Kafka producers and goka views.
package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tallymarks/tallymarks/connectors/api/openapi"
	"github.com/tallymarks/tallymarks/connectors/replay"
	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

// CustomerReader reads customer state, as a goka view of the customer table
// provides it.
type CustomerReader interface {
	// Customer returns the state of a customer, or nil when unknown.
	Customer(tenantID, customerID string) (*schemas.CustomerState, error)
	// Recovered reports whether the reader has caught up with the table.
	Recovered() bool
}

// BudgetReader reads the budget keeper's table.
type BudgetReader interface {
	// Used returns the points granted under a rule action's budget.
	Used(tenantID, ruleID string, actionIndex int) (int64, error)
}

// Config holds a Server's dependencies.
type Config struct {
	Catalog   *catalog.Catalog
	Producer  *kgo.Client
	Codec     schemas.Codec
	Topics    topics.Names
	Customers CustomerReader
	// Replies delivers the processor's outcomes to waiting requests; the
	// redemption endpoint and ?wait=true need it.
	Replies *Replies
	// Statuses reads the event-status table for GET /events/{eventId}.
	Statuses StatusReader
	// Budgets reads what rules' budgets have used, for dry runs; nil reads
	// every budget as unused.
	Budgets BudgetReader
	// Backtests runs backtest jobs and reads their state; nil: the
	// backtest routes answer 503.
	Backtests *replay.Runner
	Log       *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// ProduceTimeout bounds how long an event waits for Kafka's
	// acknowledgement before the API answers 503; default 10 s.
	ProduceTimeout time.Duration
}

// Server serves the HTTP APIs. It is safe for concurrent use.
type Server struct {
	cfg    Config
	auth   *authenticator
	mux    *http.ServeMux
	recent *recentEvents
	// patterns lists the registered routes, "METHOD /path/{param}".
	patterns []string
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ProduceTimeout <= 0 {
		cfg.ProduceTimeout = 10 * time.Second
	}
	s := &Server{
		cfg: cfg,
		auth: &authenticator{catalog: cfg.Catalog, now: cfg.Now, verified: map[[32]byte]time.Time{},
			uses: newKeyUses(cfg.Catalog, cfg.Log)},
		mux:    http.NewServeMux(),
		recent: newRecentEvents(10 * time.Minute),
	}
	s.routes()
	return s
}

// handlerFunc is an API handler; a returned error is written as the error
// body.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p principal) error

func (s *Server) routes() {
	s.handle("POST /api/v1/events/actions", catalog.ScopeEvents, s.postEvent(schemas.TypeAction))
	s.handle("POST /api/v1/events/orders", catalog.ScopeEvents, s.postEvent(schemas.TypeOrder))
	s.handle("POST /api/v1/events/transactions", catalog.ScopeEvents, s.postEvent(schemas.TypeTransaction))
	s.handle("POST /api/v1/events/transfers", catalog.ScopeEvents, s.postEvent(schemas.TypeTransfer))
	s.handle("POST /api/v1/events/points", catalog.ScopeEvents, s.postEvent(schemas.TypePoints))
	s.handle("POST /api/v1/events/redemptions", catalog.ScopeEvents, s.postRedemption)
	s.handle("POST /api/v1/events/baskets", catalog.ScopeEvents, s.postBasket)
	s.handle("GET /api/v1/events/{eventId}", catalog.ScopeEvents, s.getEvent)
	s.handle("POST /api/v1/events:batch", catalog.ScopeEvents, s.postBatch)
	s.handle("GET /api/v1/customers/{customerId}", catalog.ScopeCustomers, s.getCustomer)
	s.adminRoutes()
}

type principalKey struct{}

// RecordKeyUses writes the API keys' lastUsedAt to the config topic as
// they are used, until ctx ends (see keyUses).
func (s *Server) RecordKeyUses(ctx context.Context) error { return s.auth.uses.Run(ctx) }

// Routes returns every route the server serves behind credentials, as
// "METHOD /path/{param}" patterns. The OpenAPI test checks them against the
// document.
func (s *Server) Routes() []string { return append([]string(nil), s.patterns...) }

func (s *Server) handle(pattern, scope string, h handlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		p, _ := r.Context().Value(principalKey{}).(principal)
		if !p.key.Covers(scope) {
			writeError(w, errForbidden)
			return
		}
		if err := h(w, r, p); err != nil {
			s.logFailure(r, err)
			writeError(w, err)
		}
	})
}

// ServeHTTP answers in the order of section 12: credentials (401), route
// (404), scope (403), then the handler's own checks.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return
	case "/api/v1/openapi.json":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi.JSON) // the client may be gone; nothing to do
		return
	case "/readyz":
		if !s.ready() {
			writeError(w, errNotReady)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return
	}

	p, err := s.auth.authenticate(r.Header.Get("x-tenant-id"),
		r.Header.Get("x-api-key"), r.Header.Get("x-api-secret"))
	if err != nil {
		writeError(w, err)
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		writeError(w, errRouteNotFound)
		return
	}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
}

func (s *Server) ready() bool {
	select {
	case <-s.cfg.Catalog.Ready():
	default:
		return false
	}
	if s.cfg.Replies != nil {
		select {
		case <-s.cfg.Replies.Ready():
		default:
			return false
		}
	}
	if s.cfg.Statuses != nil && !s.cfg.Statuses.Recovered() {
		return false
	}
	return s.cfg.Customers == nil || s.cfg.Customers.Recovered()
}

// readBody checks the content type (415) and size (413) of a JSON body and
// returns it.
func readBody(r *http.Request) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, errUnsupportedMediaType
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return nil, errUnsupportedMediaType
		}
	}
	if r.ContentLength > maxBodyBytes {
		return nil, errPayloadTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, invalidRequest([]FieldError{{Message: "the body could not be read"}})
	}
	if len(body) > maxBodyBytes {
		return nil, errPayloadTooLarge
	}
	return body, nil
}

func (s *Server) logFailure(r *http.Request, err error) {
	var e *Error
	if errors.As(err, &e) && e.Status < 500 {
		s.cfg.Log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "code", e.Code)
		return
	}
	s.cfg.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
}
