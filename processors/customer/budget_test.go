package customer

import (
	"encoding/json"
	"math/big"
	"testing"

	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// launchRule awards 30 points per order from a budget of 100, at most 50 a
// day per customer.
func launchRule(t *testing.T) *rules.Rule {
	return rule(t, "launch", t0, `{"name":"Launch","eventType":"order","criteria":[{"type":"total","op":"gt","value":0}],
		"actions":[{"type":"awardPoints","points":30,"budget":100,
			"maxPerCustomerPerPeriod":{"points":50,"period":{"n":1,"unit":"day"}}}]}`)
}

func grantFor(req schemas.BudgetRequest, granted int64) *schemas.BudgetGrant {
	return &schemas.BudgetGrant{
		RequestID: req.RequestID, TenantID: req.TenantID, CustomerID: req.CustomerID, EventID: req.EventID,
		RuleID: req.RuleID, RuleVersion: req.RuleVersion, ActionIndex: req.ActionIndex,
		Requested: req.Points, Granted: granted, Budget: req.Budget,
	}
}

// actionOf returns the trace of the launch rule's action in a status.
func actionOf(t *testing.T, raw string) rules.ActionTrace {
	t.Helper()
	var tr Trace
	if err := json.Unmarshal([]byte(raw), &tr); err != nil {
		t.Fatal(err)
	}
	for _, r := range tr.Rules {
		if r.RuleID == "launch" && len(r.Actions) == 1 {
			return r.Actions[0]
		}
	}
	t.Fatalf("no launch action in %s", raw)
	return rules.ActionTrace{}
}

// TestBudgetedAwardWaitsForGrant follows budgeted awards from the request
// to the grant: the event stays accepted with the action pending, the
// grant becomes the rule's earn entry, what is not granted goes back to the
// per-customer cap, and the event ends assessed with its trace updated.
func TestBudgetedAwardWaitsForGrant(t *testing.T) {
	in := Input{Economy: economy(t, "1", ""), Now: t0, Rules: []*rules.Rule{launchRule(t)}, DeferBudget: true}

	res := Apply(nil, order("o1", big.NewRat(10, 1), "Order.Web"), in)
	st := res.State
	if res.Record.Status != StatusAccepted || len(res.Requests) != 1 || len(st.Pending) != 1 {
		t.Fatalf("status %s, requests %+v, pending %+v", res.Record.Status, res.Requests, st.Pending)
	}
	req := res.Requests[0]
	if req.Points != 30 || req.Budget != 100 || req.RuleID != "launch" || req.EventID != "o1" {
		t.Fatalf("request %+v", req)
	}
	if st.Points.Balance != 10 || len(res.Entries) != 1 {
		t.Fatalf("before the grant: balance %d, entries %+v", st.Points.Balance, res.Entries)
	}
	if at := actionOf(t, st.Pending[0].Status.Trace); at.Result != rules.ResultPending || at.Reason != rules.ReasonPendingBudget {
		t.Fatalf("pending action %+v", at)
	}
	if s, _ := Seen(st, "o1"); s != StatusAccepted {
		t.Fatalf("dedup status %q", s)
	}

	// A redelivery asks again under the same id.
	in.Partition, in.Offset = 0, 0
	again := Apply(st, order("o1", big.NewRat(10, 1), "Order.Web"), in)
	if again.Outcome != Redelivered || len(again.Requests) != 1 || again.Requests[0].RequestID != req.RequestID {
		t.Fatalf("redelivery: outcome %v, requests %+v", again.Outcome, again.Requests)
	}

	// Granted 20 of 30: awarded, clamped in the trace, 10 back to the cap.
	set := Settle(st, grantFor(req, 20), in)
	st = set.State
	checkInvariant(t, st)
	if !set.Done || set.Status.Status != StatusAssessed || len(st.Pending) != 0 || set.Record.Status != StatusAssessed {
		t.Fatalf("settlement %+v", set)
	}
	if len(set.Entries) != 1 || set.Entries[0].Points != 20 || *set.Entries[0].RuleID != "launch" ||
		set.Entries[0].EntryID != entryID(req.TenantID, "o1", schemas.SourceRule, "launch", 0, 0) {
		t.Fatalf("grant entries %+v", set.Entries)
	}
	if st.Points.Balance != 30 || len(set.Status.LedgerEntryIDs) != 2 {
		t.Fatalf("balance %d, status entries %v", st.Points.Balance, set.Status.LedgerEntryIDs)
	}
	if at := actionOf(t, set.Status.Trace); at.Result != rules.ResultRan || at.Reason != rules.ReasonBudgetExhausted || *at.Points != 20 {
		t.Fatalf("settled action %+v", at)
	}
	if s, _ := Seen(st, "o1"); s != StatusAssessed {
		t.Fatalf("dedup status %q", s)
	}
	if len(st.CapUsage) != 1 || st.CapUsage[0].Points != 20 {
		t.Fatalf("cap usage %+v, want 20", st.CapUsage)
	}
	// Caused: the system event of the grant's earn entry.
	if len(set.Caused) != 1 || set.Caused[0].Event.Points.Quantity != 20 || len(set.Status.CausedEventIDs) != 2 {
		t.Fatalf("caused %+v, ids %v", set.Caused, set.Status.CausedEventIDs)
	}

	// The same grant again re-emits its entry and changes nothing.
	if dup := Settle(st, grantFor(req, 20), in); dup.State != nil || len(dup.Entries) != 1 || dup.Entries[0].EntryID != set.Entries[0].EntryID {
		t.Fatalf("repeated grant: %+v", dup)
	}

	// Nothing granted: skipped, and the whole request back to the cap.
	in.Offset = 1
	res = Apply(st, order("o2", big.NewRat(10, 1), "Order.Web"), in)
	if len(res.Requests) != 1 || res.Requests[0].Points != 30 || res.State.CapUsage[0].Points != 50 {
		t.Fatalf("second order: requests %+v, cap %+v", res.Requests, res.State.CapUsage)
	}
	set = Settle(res.State, grantFor(res.Requests[0], 0), in)
	if len(set.Entries) != 0 || set.State.Points.Balance != 40 || set.State.CapUsage[0].Points != 20 || !set.Done {
		t.Fatalf("nothing granted: entries %+v, balance %d, cap %+v", set.Entries, set.State.Points.Balance, set.State.CapUsage)
	}
	if at := actionOf(t, set.Status.Trace); at.Result != rules.ResultSkipped || at.Reason != rules.ReasonBudgetExhausted || at.Points != nil {
		t.Fatalf("skipped action %+v", at)
	}
}

// TestBudgetInDryRun checks that a dry run reads the budget's use and
// asks the keeper for nothing.
func TestBudgetInDryRun(t *testing.T) {
	in := Input{Economy: economy(t, "1", ""), Now: t0, Rules: []*rules.Rule{launchRule(t)},
		DeferBudget: true, DryRun: true,
		BudgetUsed: func(ruleID string, i int) int64 {
			if ruleID == "launch" && i == 0 {
				return 90
			}
			return 0
		}}
	res := Apply(nil, order("o1", big.NewRat(10, 1), "Order.Web"), in)
	if res.Record.Status != StatusAssessed || len(res.Requests) != 0 || len(res.State.Pending) != 0 {
		t.Fatalf("dry run: status %s, requests %+v", res.Record.Status, res.Requests)
	}
	if res.State.Points.Balance != 20 {
		t.Fatalf("dry run balance %d, want 10 base + 10 left of the budget", res.State.Points.Balance)
	}
}
