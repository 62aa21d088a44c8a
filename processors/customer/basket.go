package customer

import (
	"math"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// BasketResult is the answer to a basket (SPEC section 12, "Baskets";
// finding 10): what the cart would earn if it were ordered now, and what
// the caller should do to it. It marshals to the fields of the basket
// response, decimals as exact JSON numbers; the processor sends it to the
// waiting API instance in schemas.Reply.Result.
type BasketResult struct {
	// PotentialPoints is the economy's base points on the basket total,
	// as an Order would earn them, plus the points actions of the
	// matching rules after their caps. Caps are read, never consumed.
	PotentialPoints int64 `json:"potentialPoints"`
	// Outcomes are the basket outcomes of the matching rules, in
	// evaluation order. Never nil.
	Outcomes []rules.Outcome `json:"outcomes"`
	// MatchedRules are the rules that matched, in evaluation order. Never
	// nil.
	MatchedRules []rules.MatchedRule `json:"matchedRules"`

	// customer is the state the basket was evaluated against, which the
	// delivery templates render; a new, empty customer for an unknown one.
	// It is read only and never written.
	customer *schemas.CustomerState
}

// evaluateBasket assesses a basket against the customer's current state
// and changes nothing: no counting, no lots, no ledger entries, no dedup
// record, no cap use, and an unknown customer is not created. The result
// carries st unchanged, the answer, the trace and the record for the
// event's status; callWebhook deliveries are the only effect (finding 10).
func evaluateBasket(st *schemas.CustomerState, ev *schemas.Event, in Input) Result {
	// An unknown customer is evaluated as a new, empty one; the empty
	// state exists only for this evaluation.
	cur := st
	if cur == nil {
		cur = clone(nil, ev)
	}
	loc := in.Location
	if loc == nil {
		loc = time.UTC
	}

	// Base points as for an Order, then the Basket rules. Neither is
	// applied: the subject is the state as it is, and Assess never
	// consumes caps for a basket.
	base, why := basePointsWhy(ev, in.Economy)
	trace := Trace{Economy: EconomyTrace{BasePoints: base, Reason: why}, Rules: []rules.RuleTrace{}}
	if in.Economy != nil {
		trace.Economy.ID = in.Economy.ID
	}
	sub := &subject{st: cur, balanceBefore: cur.Points.Balance, typ: schemas.TypeBasket,
		active: in.SegmentActive}
	sub.peakBefore = sub.counter(schemas.TypeBasket).MaxSum
	a := rules.Assess(in.Rules, rules.Subject{
		Event:         ev,
		Customer:      sub,
		Usage:         usage{st: cur},
		Location:      loc,
		BasePoints:    base,
		CausalChain:   in.CausalChain,
		SegmentActive: in.SegmentActive,
		DryRun:        in.DryRun,
	})
	trace.Rules = a.Trace.Rules

	// The answer. The record's balances are the current balance: a basket
	// moves nothing.
	basket := &BasketResult{
		PotentialPoints: addPoints(base, a.Points()),
		Outcomes:        a.Outcomes,
		MatchedRules:    a.Matched,
		customer:        cur,
	}
	if basket.Outcomes == nil {
		basket.Outcomes = []rules.Outcome{}
	}
	if basket.MatchedRules == nil {
		basket.MatchedRules = []rules.MatchedRule{}
	}
	rec := processed(ev, in, StatusAssessed)
	rec.BalanceBefore, rec.BalanceAfter = cur.Points.Balance, cur.Points.Balance
	return Result{
		Outcome:    Evaluated,
		State:      st,
		Record:     rec,
		Trace:      trace,
		Deliveries: a.Deliveries,
		Basket:     basket,
	}
}

// basketDelivery builds the request of one delivery a Basket rule asked
// for. The templates render the state the basket was evaluated against (a
// new, empty customer for an unknown one). Its id also names the basket
// record's partition and offset: the same basket sent again is a new
// evaluation whose webhook is called again, while a redelivery of one
// record asks for the same delivery, which the dispatcher sends once.
func basketDelivery(ev *schemas.Event, res Result, d rules.Delivery, now time.Time) schemas.DeliveryRequest {
	view := res
	view.State = res.Basket.customer
	req := deliveryRequest(ev, view, d, now)
	cause := ev.TenantID + "/" + ev.EventID + "/" + strconv.Itoa(int(res.Record.Partition)) + "@" +
		strconv.FormatInt(res.Record.Offset, 10) + "/" + d.RuleID + "/" + strconv.Itoa(d.ActionIndex)
	req.DeliveryID = uuid.NewSHA1(deliveryNamespace, []byte(cause)).String()
	req.Context = templateContext(ev, view, d, req.DeliveryID)
	return req
}

// addPoints adds point amounts, saturating at math.MaxInt64 instead of
// wrapping to a negative potential.
func addPoints(x, y int64) int64 {
	if x > 0 && y > math.MaxInt64-x {
		return math.MaxInt64
	}
	return x + y
}
