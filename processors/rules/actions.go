package rules

import (
	"math"
	"math/big"
	"net/mail"
	"strings"

	"github.com/tallymarks/tallymarks/schemas"
)

// actions runs the actions of a matched rule in array order.
func (a *assessor) actions(r *Rule, rt *RuleTrace) {
	for i := range r.Actions {
		rt.Actions = append(rt.Actions, a.action(r, i, &r.Actions[i]))
	}
}

// action runs one action and returns its trace entry.
func (a *assessor) action(r *Rule, i int, act *Action) ActionTrace {
	at := ActionTrace{Index: i, Type: act.Type, Result: ResultRan}
	sp, known := actionSpecs[act.Type]
	switch {
	case !known:
		return skipped(at, ResultFailed, ReasonUnknownType)
	case sp.points:
		return a.pointsAction(r, i, act, at)
	}

	switch act.Type {
	case "addToSegment":
		if !a.s.DryRun && a.s.SegmentActive != nil && !a.s.SegmentActive(act.SegmentID) {
			return skipped(at, ResultSkipped, ReasonSegmentNotActive)
		}
		a.setSegment(r, i, act.SegmentID, true)
	case "removeFromSegment":
		if !a.inSegment(act.SegmentID) {
			return skipped(at, ResultSkipped, ReasonNotMember)
		}
		a.setSegment(r, i, act.SegmentID, false)
	case "callWebhook":
		a.deliver(r, i, Delivery{Channel: ChannelWebhook, WebhookID: act.WebhookID})
		at.Result = ResultPending
	case "sendEmail":
		c := a.cust.Contact()
		switch {
		case !c.OptinEmail:
			return skipped(at, ResultSkipped, ReasonNoOptin)
		case !validEmail(c.EmailAddress):
			return skipped(at, ResultSkipped, ReasonInvalidEmail)
		}
		a.deliver(r, i, Delivery{Channel: ChannelEmail,
			SubjectTemplate: act.SubjectTemplate, BodyTemplate: act.BodyTemplate})
		at.Result = ResultPending
	case "sendSms":
		c := a.cust.Contact()
		switch {
		case !c.OptinSMS:
			return skipped(at, ResultSkipped, ReasonNoOptin)
		case !validE164(c.MobileNumber):
			return skipped(at, ResultSkipped, ReasonInvalidPhone)
		}
		a.deliver(r, i, Delivery{Channel: ChannelSMS, BodyTemplate: act.BodyTemplate})
		at.Result = ResultPending
	case "createTrigger":
		a.out.Schedules = append(a.out.Schedules, Schedule{
			RuleID: r.ID, RuleVersion: r.Version, ActionIndex: i, TriggerID: act.TriggerID,
		})
	default: // basket outcomes
		a.out.Outcomes = append(a.out.Outcomes, Outcome{
			RuleID: r.ID, RuleVersion: r.Version, Type: act.Type,
			Value: act.Value, SKU: act.SKU, Code: act.Code, Text: act.Text,
		})
	}
	return at
}

func skipped(at ActionTrace, result, reason string) ActionTrace {
	at.Result, at.Reason = result, reason
	return at
}

// setSegment records a segment change and lays it over the customer's
// membership, so that later rules of this event see it.
func (a *assessor) setSegment(r *Rule, i int, id string, in bool) {
	a.out.Segments = append(a.out.Segments, SegmentChange{
		RuleID: r.ID, RuleVersion: r.Version, ActionIndex: i, SegmentID: id, Remove: !in,
	})
	if a.segments == nil {
		a.segments = map[string]bool{}
	}
	a.segments[id] = in
}

func (a *assessor) deliver(r *Rule, i int, d Delivery) {
	d.RuleID, d.RuleVersion, d.ActionIndex = r.ID, r.Version, i
	a.out.Deliveries = append(a.out.Deliveries, d)
}

// pointsAction computes a points action, applies its caps and records the
// award.
func (a *assessor) pointsAction(r *Rule, i int, act *Action, at ActionTrace) ActionTrace {
	// A refund earns nothing; its reversal is the processor's (finding 3).
	if a.refund {
		return skipped(at, ResultSkipped, ReasonRefundEvent)
	}
	raw, reason := a.rawPoints(act)
	if reason != "" {
		return skipped(at, ResultSkipped, reason)
	}
	if raw <= 0 {
		return skipped(at, ResultSkipped, ReasonZeroPoints)
	}

	g := a.capped(r, i, act, raw)
	switch {
	case g.skip:
		return skipped(at, ResultSkipped, g.reason)
	case g.pending:
		at.Result, at.Reason, at.Points = ResultPending, ReasonPendingBudget, &g.points
		return at
	}
	a.out.Awards = append(a.out.Awards, Award{
		RuleID: r.ID, RuleVersion: r.Version, ActionIndex: i, Points: g.points,
	})
	a.awarded = addSat(a.awarded, g.points)
	at.Reason, at.Points = g.reason, &g.points
	return at
}

// rawPoints computes a points action before caps, rounded once. A
// non-empty reason skips the action.
func (a *assessor) rawPoints(act *Action) (int64, string) {
	switch act.Type {
	case "awardPoints":
		return act.Points, ""
	case "pointsPerSpend":
		amount := spendAmount(a.ev, act.Of)
		if amount == nil || act.PointsPerUnit == nil {
			return 0, ReasonNoAmount
		}
		return round(new(big.Rat).Mul(amount, act.PointsPerUnit), act.Rounding), ""
	default: // multiplyBasePoints
		if a.s.BasePoints <= 0 {
			return 0, ReasonNoBasePoints
		}
		if act.Factor == nil {
			return 0, ReasonZeroPoints
		}
		// Only the extra points: factor 2 pays base once more, and two
		// actions of factors 2 and 3 pay 1× and 2× base (finding 5).
		extra := new(big.Rat).Sub(act.Factor, big.NewRat(1, 1))
		return round(extra.Mul(extra, new(big.Rat).SetInt64(a.s.BasePoints)), RoundDown), ""
	}
}

// spendAmount returns the amount pointsPerSpend multiplies, or nil when
// the event does not carry it.
func spendAmount(ev *schemas.Event, of string) *big.Rat {
	if ev.Transaction != nil {
		return ev.Transaction.Total // transactions only have a total
	}
	o := ev.Order
	if o == nil {
		o = ev.Basket
	}
	if o == nil {
		return nil
	}
	switch of {
	case OfPaymentAmount:
		return o.PaymentAmount
	case OfItemsTotal:
		return itemsTotal(o.Items)
	case OfTotalExTaxAndShipping:
		if o.Total == nil {
			return nil
		}
		v := new(big.Rat).Set(o.Total)
		for _, x := range []*big.Rat{o.TaxTotal, o.ShippingTotal} {
			if x != nil {
				v.Sub(v, x)
			}
		}
		if v.Sign() < 0 {
			v.SetInt64(0) // tax and shipping above the total: earn nothing, never a debit
		}
		return v
	default:
		return o.Total
	}
}

// itemsTotal sums the item totals, taking quantity × unitPrice for an
// item without one; nil when there are no items.
func itemsTotal(items []schemas.OrderItem) *big.Rat {
	if len(items) == 0 {
		return nil
	}
	sum := new(big.Rat)
	for i := range items {
		it := &items[i]
		switch {
		case it.Total != nil:
			sum.Add(sum, it.Total)
		case it.Quantity != nil && it.UnitPrice != nil:
			sum.Add(sum, new(big.Rat).Mul(it.Quantity, it.UnitPrice))
		}
	}
	return sum
}

// round rounds r to an integer: down (toward −∞), up (toward +∞), or
// nearest with halves away from zero (2.5 → 3, −2.5 → −3). The result
// saturates at the int64 range rather than wrapping.
func round(r *big.Rat, mode string) int64 {
	num, den := r.Num(), r.Denom()
	q, m := new(big.Int).DivMod(num, den, new(big.Int)) // Euclidean: q = floor, m ≥ 0
	switch mode {
	case RoundUp:
		if m.Sign() != 0 {
			q.Add(q, big.NewInt(1))
		}
	case RoundNearest:
		// Compare the fraction m/den with 1/2. For r < 0 the half rounds
		// down (away from zero), so it takes strictly more than half to
		// round up.
		twice := new(big.Int).Lsh(m, 1)
		c := twice.Cmp(den)
		if c > 0 || (c == 0 && r.Sign() > 0) {
			q.Add(q, big.NewInt(1))
		}
	}
	switch {
	case !q.IsInt64() && q.Sign() > 0:
		return math.MaxInt64
	case !q.IsInt64():
		return math.MinInt64
	}
	return q.Int64()
}

// addSat adds without wrapping.
func addSat(x, y int64) int64 {
	s := x + y
	switch {
	case x > 0 && y > 0 && s < 0:
		return math.MaxInt64
	case x < 0 && y < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}

// validEmail accepts a bare address with a dotted domain: jane@example.com,
// not "Jane <jane@example.com>" and not jane@localhost.
func validEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// validE164 accepts +, a non-zero digit, and 1 to 14 more digits.
func validE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
