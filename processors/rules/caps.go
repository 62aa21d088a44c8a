package rules

// grant is what a points action may award after its caps.
type grant struct {
	points  int64
	reason  string // the cap that clamped or skipped it
	skip    bool
	pending bool
}

// capped applies the caps of finding 14 to raw points, in order:
// maxPerEvent, then the customer's allowance in the calendar period that
// contains createdAt, then the rule's budget for this action. Each clamps
// what the previous one left; a result of 0 skips the action with the
// cap's reason. Uses are recorded for the processor only when caps are
// consumed: never in dry runs or for baskets.
//
// Counters are read once per event: a rule runs once per event, so no
// counter is read twice within one Assess.
func (a *assessor) capped(r *Rule, i int, act *Action, raw int64) grant {
	g := grant{points: raw}

	// 1. Per event.
	if act.MaxPerEvent > 0 && g.points > act.MaxPerEvent {
		g.points, g.reason = act.MaxPerEvent, ReasonCapPerEvent
	}

	// 2. Per customer and calendar period, in the tenant's zone.
	var uses []CapUse
	if pc := act.MaxPerCustomerPerPeriod; pc != nil {
		period, end := calendarPeriod(a.ev.CreatedAt, pc.Period.Unit, a.loc)
		key := CapKey{Scope: ScopeCustomer, RuleID: r.ID, ActionIndex: i, Period: period}
		if left := max(pc.Points-a.usage.Used(key), 0); g.points > left {
			g.points, g.reason = left, ReasonCapPerCustomer
		}
		if g.points == 0 {
			return grant{skip: true, reason: ReasonCapPerCustomer}
		}
		uses = append(uses, CapUse{Key: key, PeriodEnd: end})
	}

	// 3. The budget, across all customers. Strict budgets are decided by
	// the budget keeper, which alone sees every partition's awards
	// (finding 27): the award waits for its grant.
	if act.Budget > 0 {
		key := CapKey{Scope: ScopeBudget, RuleID: r.ID, ActionIndex: i}
		if a.consume && a.s.DeferBudget {
			req := BudgetRequest{
				RuleID: r.ID, RuleVersion: r.Version, ActionIndex: i,
				Budget: act.Budget, Points: g.points,
			}
			if len(uses) > 0 {
				req.CustomerCap = uses[0].Key.String()
			}
			a.out.BudgetRequests = append(a.out.BudgetRequests, req)
			g.pending = true
		} else {
			if left := max(act.Budget-a.usage.Used(key), 0); g.points > left {
				g.points, g.reason = left, ReasonBudgetExhausted
			}
			if g.points == 0 {
				return grant{skip: true, reason: ReasonBudgetExhausted}
			}
			uses = append(uses, CapUse{Key: key})
		}
	}

	// What to add to the counters, once the amount is final.
	if a.consume {
		for _, u := range uses {
			u.Points = g.points
			a.out.CapUses = append(a.out.CapUses, u)
		}
	}
	return g
}
