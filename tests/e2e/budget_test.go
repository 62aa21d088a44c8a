package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/processors/topics"
)

// TestBudgetHoldsAcrossPartitionsAndRestart gives a rule a budget of 1,000
// points at 30 per event. One event waits for its grant (?wait=true), then
// 60 customers on every partition send an event each at once, and the
// processor and budget keeper are killed with SIGKILL before they commit,
// while budget is left, and restarted. The rule must award exactly 1,000
// points in all, whatever was redelivered: a request granted twice would
// leave less, an award applied twice more. An event past the budget ends
// assessed with its action skipped as budget_exhausted.
func TestBudgetHoldsAcrossPartitionsAndRestart(t *testing.T) {
	s := startAPIStack(t)

	created := s.must(http.StatusCreated, "POST", "/admin/rules", map[string]any{
		"name": "Launch week", "eventType": "action", "status": "Active",
		"criteria": []any{map[string]any{"type": "nameSpace", "op": "equals", "value": "Launch.Play"}},
		"actions":  []any{map[string]any{"type": "awardPoints", "points": 30, "budget": 1000}},
	}, nil).body
	ruleID, _ := created["id"].(string)

	// Commits an hour apart: everything consumed before the kill is
	// consumed again after the restart.
	proc := startProcessor(t, s, "--commit-interval=1h")

	play := func(cust string) map[string]any {
		return map[string]any{"eventId": uuid.NewString(), "customerId": cust, "nameSpace": "Launch.Play",
			"action": map[string]any{}}
	}

	// The first event waits for its grant: the answer is assessed, and the
	// points are visible.
	first := uuid.NewString()
	answer := s.must(http.StatusOK, "POST", "/events/actions?wait=true", play(first), nil).body
	if answer["status"] != "assessed" {
		t.Fatalf("first event answered %v, want status assessed after its grant", answer)
	}
	if b := s.balance(first); b != 30 {
		t.Fatalf("first customer's balance %d, want 30", b)
	}

	var evs []any
	for range 60 {
		evs = append(evs, play(uuid.NewString()))
	}
	s.must(http.StatusOK, "POST", "/events:batch", map[string]any{"events": evs}, nil)

	names := topics.New(s.cfg.TopicPrefix)
	eventually(t, 60*time.Second, "grants part-way", func() (bool, string) {
		n := topicEnd(t, s, names.BudgetGrants())
		return n > 3, "grants " + itoa(n)
	})
	if err := proc.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	startProcessor(t, s)

	// Every event, request and grant processed and committed.
	settled := func() (bool, string) {
		ev, evEnd := committed(t, s.brokers, string(names.CustomerGroup()), names.Events()), eventRecords(t, s)
		rq, rqEnd := committed(t, s.brokers, string(names.BudgetGroup()), names.BudgetRequests()), topicEnd(t, s, names.BudgetRequests())
		gr, grEnd := committed(t, s.brokers, string(names.CustomerGroup()), names.BudgetGrants()), topicEnd(t, s, names.BudgetGrants())
		return ev == evEnd && rq == rqEnd && gr == grEnd,
			"events " + itoa(ev) + "/" + itoa(evEnd) + ", requests " + itoa(rq) + "/" + itoa(rqEnd) +
				", grants " + itoa(gr) + "/" + itoa(grEnd)
	}
	eventually(t, 90*time.Second, "everything settled after the restart", settled)

	byID := map[string]int64{}
	customers := map[string]bool{}
	for _, e := range ledgerEntries(t, s, names.Ledger()) {
		if e.RuleID != nil && *e.RuleID == ruleID {
			byID[e.EntryID] = e.Points
			customers[e.CustomerID] = true
		}
	}
	var total int64
	for _, p := range byID {
		total += p
	}
	if total != 1000 || len(customers) != 34 {
		t.Fatalf("the rule awarded %d points to %d customers, want exactly its budget of 1000 to 34 (33×30+10)",
			total, len(customers))
	}

	// Past the budget: a dry run reads the keeper's table and shows the
	// action skipped, and so does the real event, which ends assessed.
	late := play(uuid.NewString())
	dry, _ := s.dryRun(late["customerId"].(string), late)
	if act := dry.Trace.rule(t, ruleID).Actions[0]; act.Result != "skipped" || act.Reason != "budget_exhausted" {
		t.Fatalf("dry run past the budget: %+v", act)
	}
	late = play(uuid.NewString())
	answer = s.must(http.StatusOK, "POST", "/events/actions?wait=true", late, nil).body
	if answer["status"] != "assessed" {
		t.Fatalf("late event answered %v", answer)
	}
	var status outcome
	r := s.must(http.StatusOK, "GET", "/events/"+late["eventId"].(string), nil, nil)
	if err := json.Unmarshal([]byte(r.raw), &status); err != nil {
		t.Fatal(err)
	}
	if act := status.Trace.rule(t, ruleID).Actions[0]; status.Status != "assessed" ||
		act.Result != "skipped" || act.Reason != "budget_exhausted" {
		t.Fatalf("late event: status %s, action %+v", status.Status, act)
	}
}
