// Package backtest evaluates rules over past events (SPEC-DECISIONS
// finding 34): what each rule would have matched and awarded had it been
// Active, judged on the customer as the processor saw them for each event.
//
// It is pure: it reads events and snapshots from the assessments records it
// is given, and nothing else. Where the records come from (Kafka or
// ClickHouse) is the caller's concern.
package backtest

import (
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/processors/customer"
	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// DefaultMaxKeys is the default of MaxKeys.
const DefaultMaxKeys = 2_000_000

// recentEvents is how many event ids the evaluator remembers to drop
// copies of a record. The processor writes a copy only for events it read
// again after a crash, which lie within one commit interval of the
// original: far fewer records apart than this.
const recentEvents = 100_000

// Result is what one rule would have done over the window.
type Result struct {
	RuleID  string `json:"ruleId"`
	Version int    `json:"version"`
	// EventsConsidered counts the client events of the rule's type in the
	// window.
	EventsConsidered int64 `json:"eventsConsidered"`
	// EventsMatched counts those on which every criterion held, within
	// the rule's validity.
	EventsMatched int64 `json:"eventsMatched"`
	// CustomersMatched counts the distinct customers of those events.
	CustomersMatched int64 `json:"customersMatched"`
	// Points is the sum of the points its actions would have awarded,
	// after caps.
	Points int64 `json:"points"`
	// Actions counts, by action type, the actions that would have run or
	// been handed on (deliveries); skipped actions are not counted.
	Actions map[string]int64 `json:"actions"`
}

// Evaluator evaluates a fixed set of rules, each in isolation, over
// assessment records fed to Add. It is not safe for concurrent use.
//
// Each rule is assessed alone, as if Active, with rules.Assess: no
// priority, exclusive or chain interplay with other rules, and no system
// events. Its maxPerEvent and maxPerCustomerPerPeriod caps and its budget
// are counted from zero at the window's start and used up as the
// evaluation goes, in the order records are added.
type Evaluator struct {
	from, to time.Time
	rules    []*rules.Rule
	results  []Result
	// customers holds, per rule, the customers it matched.
	customers []map[uuid.UUID]struct{}
	// used holds the cap counters: per customer for per-customer caps
	// (the customer is part of the key), uuid.Nil for budgets.
	used    map[usageKey]int64
	keys    int
	maxKeys int
	zones   map[string]*time.Location
	// seen and ring remember the latest recentEvents event ids.
	seen map[uuid.UUID]struct{}
	ring []uuid.UUID
	next int
}

// usageKey names one cap counter of the evaluation.
type usageKey struct {
	customer uuid.UUID
	key      rules.CapKey
}

// Option configures an Evaluator.
type Option func(*Evaluator)

// MaxKeys bounds the memory an evaluation holds: the matched customers
// of all rules plus the cap counters. Add fails with ErrTooLarge past it.
// Default DefaultMaxKeys, about 200 MB at worst.
func MaxKeys(n int) Option { return func(e *Evaluator) { e.maxKeys = n } }

// New returns an Evaluator of rs over events with createdAt in [from, to).
// rs are not modified.
func New(rs []*rules.Rule, from, to time.Time, opts ...Option) *Evaluator {
	e := &Evaluator{
		from: from, to: to,
		used:    map[usageKey]int64{},
		maxKeys: DefaultMaxKeys,
		zones:   map[string]*time.Location{},
		seen:    map[uuid.UUID]struct{}{},
		ring:    make([]uuid.UUID, 0, recentEvents),
	}
	for _, o := range opts {
		o(e)
	}
	for _, r := range rs {
		// A copy marked Active: a backtest counts rules in any status.
		active := *r
		active.Status = rules.StatusActive
		e.rules = append(e.rules, &active)
		e.results = append(e.results, Result{RuleID: r.ID, Version: r.Version, Actions: map[string]int64{}})
		e.customers = append(e.customers, map[uuid.UUID]struct{}{})
	}
	return e
}

// Add evaluates every rule on one assessment record. Records outside the
// window, those not of a client event, and a copy of a record among the
// latest 100,000 added (written again after a processor crash) are
// ignored. Add fails only with ErrTooLarge.
//
// Limitation: a copy further apart than that would be counted twice; the
// processor never writes one that far from the original.
func (e *Evaluator) Add(a *schemas.Assessment) error {
	ev := &a.Event
	if ev.Origin == schemas.OriginSystem || ev.CreatedAt.Before(e.from) || !ev.CreatedAt.Before(e.to) {
		return nil
	}
	typ, _ := ev.Type()
	cust, err1 := uuid.Parse(a.CustomerID)
	id, err2 := uuid.Parse(a.EventID)
	if err1 != nil || err2 != nil || e.copied(id) {
		return nil // a copy, or ids the processor never writes
	}
	subject := rules.Subject{
		Event:      ev,
		Customer:   customer.SnapshotCustomer(a),
		Usage:      customerUsage{e: e, customer: cust},
		Location:   e.zone(a.Snapshot.TimeZone),
		BasePoints: a.Snapshot.BasePoints,
	}
	for i, r := range e.rules {
		if r.EventType != typ {
			continue
		}
		e.results[i].EventsConsidered++
		out := rules.Assess(e.rules[i:i+1], subject)
		if len(out.Matched) == 0 {
			continue
		}
		if err := e.record(i, cust, out); err != nil {
			return err
		}
	}
	return nil
}

// record adds one matching assessment of rule i to its result and uses
// its caps.
func (e *Evaluator) record(i int, cust uuid.UUID, out rules.Assessment) error {
	res := &e.results[i]
	res.EventsMatched++
	res.Points += out.Points()
	for _, rt := range out.Trace.Rules {
		for _, at := range rt.Actions {
			if at.Result == rules.ResultRan || at.Result == rules.ResultPending {
				res.Actions[at.Type]++
			}
		}
	}
	if _, ok := e.customers[i][cust]; !ok {
		if err := e.grow(); err != nil {
			return err
		}
		e.customers[i][cust] = struct{}{}
		res.CustomersMatched++
	}
	for _, u := range out.CapUses {
		k := usageKey{key: u.Key}
		if u.Key.Scope == rules.ScopeCustomer {
			k.customer = cust
		}
		if _, ok := e.used[k]; !ok {
			if err := e.grow(); err != nil {
				return err
			}
		}
		e.used[k] += u.Points
	}
	return nil
}

// copied reports whether id was added recently, and remembers it.
func (e *Evaluator) copied(id uuid.UUID) bool {
	if _, ok := e.seen[id]; ok {
		return true
	}
	if len(e.ring) < recentEvents {
		e.ring = append(e.ring, id)
	} else {
		delete(e.seen, e.ring[e.next])
		e.ring[e.next] = id
		e.next = (e.next + 1) % recentEvents
	}
	e.seen[id] = struct{}{}
	return false
}

// grow counts one more key held, failing past the bound.
func (e *Evaluator) grow() error {
	if e.keys >= e.maxKeys {
		return fmt.Errorf("%w: more than %d customers and cap counters", ErrTooLarge, e.maxKeys)
	}
	e.keys++
	return nil
}

// Results returns a result per rule, in the order the rules were given.
func (e *Evaluator) Results() []Result {
	out := make([]Result, len(e.results))
	for i, r := range e.results {
		r.Actions = make(map[string]int64, len(r.Actions))
		for k, v := range e.results[i].Actions {
			r.Actions[k] = v
		}
		out[i] = r
	}
	return out
}

// zone returns the named zone, UTC when it cannot be loaded, as the
// processor does.
func (e *Evaluator) zone(name string) *time.Location {
	if loc, ok := e.zones[name]; ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	e.zones[name] = loc
	return loc
}

// customerUsage reads the evaluation's cap counters for one customer.
type customerUsage struct {
	e        *Evaluator
	customer uuid.UUID
}

func (u customerUsage) Used(k rules.CapKey) int64 {
	key := usageKey{key: k}
	if k.Scope == rules.ScopeCustomer {
		key.customer = u.customer
	}
	return u.e.used[key]
}

// SortByTime orders records by createdAt, then eventId: the order a
// backtest over one source evaluates them in, so that caps are used up in
// time order.
func SortByTime(as []*schemas.Assessment) {
	sort.SliceStable(as, func(i, j int) bool {
		if !as[i].Event.CreatedAt.Equal(as[j].Event.CreatedAt) {
			return as[i].Event.CreatedAt.Before(as[j].Event.CreatedAt)
		}
		return as[i].EventID < as[j].EventID
	})
}
