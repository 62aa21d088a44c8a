// Package budget is the budget keeper: the single writer of every rule's
// budget (finding 27, strict budgets). Customer processors on every
// partition send it their budgeted awards as requests keyed by tenant and
// rule, so one keeper sees every request of a rule, in order, and grants
// min(requested, remaining). A budget is never exceeded, across
// partitions, restarts and redeliveries.
package budget

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"

	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

// RecentGrants is how many grants a rule's state remembers. A request seen
// again, because its event or the keeper's own input was redelivered, is
// answered with its original grant instead of being granted twice; only a
// request older than the newest RecentGrants of its rule would be granted
// again, and redeliveries reach back no further than the last commit. Even
// then the budget holds: the customer processor applies one grant per
// request, so a request counted twice only leaves budget unawarded.
const RecentGrants = 500

// Decide answers one request against a rule's state. It never modifies st;
// the returned state is to be written. A request already granted gets its
// original grant again and leaves the state as it is.
func Decide(st *schemas.BudgetState, req *schemas.BudgetRequest, now time.Time) (
	*schemas.BudgetState, schemas.BudgetGrant,
) {
	g := schemas.BudgetGrant{
		RequestID:   req.RequestID,
		TenantID:    req.TenantID,
		CustomerID:  req.CustomerID,
		EventID:     req.EventID,
		RuleID:      req.RuleID,
		RuleVersion: req.RuleVersion,
		ActionIndex: req.ActionIndex,
		Requested:   req.Points,
		Budget:      req.Budget,
		GrantedAt:   now.UTC().Truncate(time.Millisecond),
	}
	if st == nil {
		st = &schemas.BudgetState{Used: []schemas.BudgetUse{}, Recent: []schemas.RecentGrant{}}
	}
	used := Used(st, req.ActionIndex)
	// Request ids are UUIDs made by the customer processor; one that is
	// not would only go unremembered.
	id, idErr := uuid.Parse(req.RequestID)
	for _, r := range st.Recent {
		if idErr == nil && r.RequestID == id {
			g.Granted, g.Used = r.Granted, used
			return st, g
		}
	}

	g.Granted = max(min(req.Points, req.Budget-used), 0)
	g.Used = used + g.Granted

	next := &schemas.BudgetState{
		Used:   make([]schemas.BudgetUse, 0, len(st.Used)+1),
		Recent: make([]schemas.RecentGrant, 0, min(len(st.Recent)+1, RecentGrants)),
	}
	found := false
	for _, u := range st.Used {
		if u.ActionIndex == req.ActionIndex {
			u.Points, found = g.Used, true
		}
		next.Used = append(next.Used, u)
	}
	if !found {
		next.Used = append(next.Used, schemas.BudgetUse{ActionIndex: req.ActionIndex, Points: g.Used})
	}
	keep := st.Recent[max(len(st.Recent)+1-RecentGrants, 0):]
	next.Recent = append(next.Recent, keep...)
	if idErr == nil {
		next.Recent = append(next.Recent, schemas.RecentGrant{RequestID: id, Granted: g.Granted})
	}
	return next, g
}

// Used returns the points granted under a rule action's budget.
func Used(st *schemas.BudgetState, actionIndex int) int64 {
	if st == nil {
		return 0
	}
	for _, u := range st.Used {
		if u.ActionIndex == actionIndex {
			return u.Points
		}
	}
	return 0
}

// Config configures a Keeper.
type Config struct {
	Brokers []string
	Topics  topics.Names
	Codec   schemas.Codec
	Log     *slog.Logger
	Goka    topics.GokaOptions
	// Storage is the local storage of the budget table; default in memory,
	// recovered from the changelog at start.
	Storage storage.Builder
	// Retryable reports whether a decoding error is passing (the schema
	// registry did not answer); such a request is retried, holding the
	// partition. Default: no error is retryable.
	Retryable func(error) bool
}

// Keeper is the goka processor of budgets.
type Keeper struct {
	cfg  Config
	proc *goka.Processor
}

// New builds the keeper's group graph. Topics must exist (topics.Ensure).
func New(cfg Config) (*Keeper, error) {
	k := &Keeper{cfg: cfg}
	graph := goka.DefineGroup(cfg.Topics.BudgetGroup(),
		goka.Input(goka.Stream(cfg.Topics.BudgetRequests()), new(codec.Bytes), k.consume),
		goka.Persist(StateCodec{Codec: cfg.Codec}),
		goka.Output(goka.Stream(cfg.Topics.BudgetGrants()), new(codec.Bytes)),
	)
	proc, err := topics.NewProcessor(cfg.Brokers, graph, cfg.Goka, cfg.Storage, cfg.Log)
	if err != nil {
		return nil, err
	}
	k.proc = proc
	return k, nil
}

// Run keeps budgets until ctx ends; it returns nil on cancellation.
func (k *Keeper) Run(ctx context.Context) error { return topics.RunProcessor(ctx, k.proc, k.cfg.Log) }

// consume decides one request. The state is written before the grant is
// emitted; goka commits the request only after both, so a crash between
// them redelivers the request, which then finds itself among the recent
// grants and gets the same grant again.
func (k *Keeper) consume(ctx goka.Context, msg any) {
	raw, _ := msg.([]byte)
	req := new(schemas.BudgetRequest)
	// A request dropped leaves its event accepted.
	if !topics.DecodeOrDrop(ctx, k.cfg.Log, k.cfg.Codec, schemas.BudgetRequestSchema, raw, req, k.cfg.Retryable) {
		return
	}
	st, _ := ctx.Value().(*schemas.BudgetState)
	next, g := Decide(st, req, time.Now())
	if next != st {
		ctx.SetValue(next)
	}
	b, err := k.cfg.Codec.Encode(schemas.BudgetGrantSchema, &g)
	if err != nil {
		ctx.Fail(fmt.Errorf("encoding budget grant: %w", err))
	}
	ctx.Emit(goka.Stream(k.cfg.Topics.BudgetGrants()), topics.Key(g.TenantID, g.CustomerID), b)
}

// StateCodec is the goka codec of the budget table.
type StateCodec struct {
	Codec schemas.Codec
}

// Encode encodes a *schemas.BudgetState.
func (c StateCodec) Encode(v any) ([]byte, error) {
	return c.Codec.Encode(schemas.BudgetStateSchema, v)
}

// Decode decodes a *schemas.BudgetState.
func (c StateCodec) Decode(b []byte) (any, error) {
	st := new(schemas.BudgetState)
	if err := c.Codec.Decode(b, schemas.BudgetStateSchema, st); err != nil {
		return nil, fmt.Errorf("decoding budget state: %w", err)
	}
	return st, nil
}
