package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tallymarks/tallymarks/connectors/replay"
	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/processors/rules"
)

// Limits of a backtest request.
const (
	// maxBacktestWindow is the longest window (finding 34).
	maxBacktestWindow = 366 * 24 * time.Hour
	// maxBacktestRules is how many rules one backtest evaluates.
	maxBacktestRules = 50
)

var (
	errBacktestsUnavailable = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
		Message: "this instance runs no backtests", RetryAfter: 5}
	errBacktestsBusy = &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
		Message: "this instance has as many backtests queued as it takes", RetryAfter: 30}
)

// backtestRequest is the body of POST /admin/rules/backtest.
type backtestRequest struct {
	RuleIDs []string `json:"ruleIds"`
	From    *string  `json:"from"`
	To      *string  `json:"to"`
}

// backtestAccepted is the answer to POST /admin/rules/backtest.
type backtestAccepted struct {
	JobID string `json:"jobId"`
}

// postBacktest serves POST /admin/rules/backtest: it validates the window
// and rules and starts a job, which GET /admin/rules/backtest/{jobId}
// follows on any instance.
func (s *Server) postBacktest(w http.ResponseWriter, r *http.Request, p principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req backtestRequest
	if errs := decodeStrict(body, &req); errs != nil {
		return invalidRequest(errs)
	}
	from, to, errs := backtestWindow(&req)
	if errs != nil {
		return invalidRequest(errs)
	}
	rs, err := s.backtestRules(p.tenantID, req.RuleIDs)
	if err != nil {
		return err
	}
	if s.cfg.Backtests == nil {
		return errBacktestsUnavailable
	}

	id, err := s.cfg.Backtests.Start(r.Context(), p.tenantID, rs, from, to)
	switch {
	case errors.Is(err, replay.ErrBusy):
		return errBacktestsBusy
	case errors.Is(err, catalog.ErrLagging):
		return errConfigLagging
	case err != nil:
		s.cfg.Log.Warn("starting backtest failed", "tenant_id", p.tenantID, "err", err)
		return errUnavailable
	}
	writeJSON(w, http.StatusAccepted, backtestAccepted{JobID: id})
	return nil
}

// backtestWindow validates the request's fields and returns the window.
func backtestWindow(req *backtestRequest) (from, to time.Time, errs []FieldError) {
	v := &validator{}
	switch n := len(req.RuleIDs); {
	case req.RuleIDs == nil:
		v.add("/ruleIds", "is required", nil)
	case n == 0 || n > maxBacktestRules:
		v.add("/ruleIds", fmt.Sprintf("must list 1 to %d rule ids", maxBacktestRules), nil)
	}
	seen := map[string]bool{}
	for i, id := range req.RuleIDs {
		if seen[id] {
			v.add(fmt.Sprintf("/ruleIds/%d", i), "is listed twice", id)
		}
		seen[id] = true
	}
	_, from = v.instant("/from", req.From)
	_, to = v.instant("/to", req.To)
	if req.From != nil && req.To != nil && len(v.errs) == 0 {
		switch {
		case !to.After(from):
			v.add("/to", "must be after from", *req.To)
		case to.Sub(from) > maxBacktestWindow:
			v.add("/to", "must be at most 366 days after from", *req.To)
		}
	}
	return from, to, v.errs
}

// backtestRules returns the listed rules in any status, decoded as the
// processor decodes them; 422 names each id the tenant has no rule of.
func (s *Server) backtestRules(tenantID string, ids []string) ([]*rules.Rule, error) {
	loc := tenantLocation(s.cfg.Catalog, tenantID)
	var out []*rules.Rule
	var missing []FieldError
	for i, id := range ids {
		rec, ok := s.cfg.Catalog.Object(tenantID, catalog.KindRule, id)
		if !ok {
			missing = append(missing, FieldError{Message: "names no rule of this tenant",
				Param: fmt.Sprintf("/ruleIds/%d", i), Value: id})
			continue
		}
		rule, err := rules.FromRecord(&rec, loc)
		if err != nil {
			return nil, fmt.Errorf("decoding rule %s for a backtest: %w", id, err)
		}
		out = append(out, rule)
	}
	if len(missing) > 0 {
		return nil, &Error{Status: http.StatusUnprocessableEntity, Code: "unprocessable",
			Message: "the backtest names rules that do not exist", Errors: missing}
	}
	return out, nil
}

// getBacktest serves GET /admin/rules/backtest/{jobId}: the job's status,
// progress and, once done, its results. Another tenant's job is not found.
func (s *Server) getBacktest(w http.ResponseWriter, r *http.Request, p principal) error {
	if s.cfg.Backtests == nil {
		return errBacktestsUnavailable
	}
	v, ok, err := s.cfg.Backtests.Job(p.tenantID, r.PathValue("jobId"))
	if err != nil {
		return err
	}
	if !ok {
		return notFound("backtest job")
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
