package customer

import (
	"math/big"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// rule decodes a rule body and gives it an id, version and status.
func rule(t *testing.T, id string, created time.Time, body string) *rules.Rule {
	t.Helper()
	r, errs := rules.DecodeRule([]byte(body), time.UTC)
	if errs != nil {
		t.Fatalf("rule %s: %+v", id, errs)
	}
	r.ID, r.Version, r.Status, r.CreatedAt = id, 1, rules.StatusActive, created
	return r
}

// TestRulesInApply runs the documented examples through Apply: the rules'
// awards become ledger entries that name the rule and version, and later
// rules see earlier rules' segments.
func TestRulesInApply(t *testing.T) {
	econ := economy(t, "1", "")
	set := []*rules.Rule{
		rule(t, "registration", t0, `{"name":"Welcome","eventType":"action",
			"criteria":[{"type":"nameSpace","op":"equals","value":"Customer.Registration"}],
			"actions":[{"type":"awardPoints","points":5},{"type":"addToSegment","segmentId":"members"}]}`),
		rule(t, "bonus", t0, `{"name":"Bonus per dollar","eventType":"order",
			"criteria":[{"type":"nameSpace","op":"equals","value":"Order.Bonus"}],
			"actions":[{"type":"pointsPerSpend","pointsPerUnit":1}]}`),
		rule(t, "third", t0.Add(time.Second), `{"name":"Every third order","eventType":"order",
			"criteria":[{"type":"everyNthEvent","n":3}],"actions":[{"type":"awardPoints","points":50}]}`),
		rule(t, "members", t0.Add(2*time.Second), `{"name":"Members get 2","eventType":"order",
			"criteria":[{"type":"inSegment","segmentId":"members"}],"actions":[{"type":"awardPoints","points":2}]}`),
	}
	in := func(off int64) Input {
		return Input{Offset: off, Economy: econ, Now: t0, Rules: set}
	}

	st := Apply(nil, action("reg"), in(0))
	reg := st.State
	if reg.Points.Balance != 5 || len(st.Entries) != 1 || *st.Entries[0].RuleID != "registration" ||
		*st.Entries[0].RuleVersion != 1 || *st.Entries[0].ActionIndex != 0 || st.Entries[0].Source != schemas.SourceRule {
		t.Fatalf("registration: balance %d, entries %+v", reg.Points.Balance, st.Entries)
	}
	if len(reg.Segments) != 1 || reg.Segments[0].SegmentID != "members" {
		t.Fatalf("segments after registration: %+v", reg.Segments)
	}

	tests := []struct {
		name  string
		ev    *schemas.Event
		delta int64 // balance change
	}{
		{name: "plain order: base 10 + member 2", ev: order("o1", big.NewRat(10, 1), "Order.Web"), delta: 12},
		{name: "bonus order: base 20 + 20 per dollar + member 2", ev: order("o2", big.NewRat(20, 1), "Order.Bonus"), delta: 42},
		{name: "third order: base 1 + 50 + member 2", ev: order("o3", big.NewRat(1, 1), "Order.Web"), delta: 53},
		{name: "fourth order: base 1 + member 2", ev: order("o4", big.NewRat(1, 1), "Order.Web"), delta: 3},
	}
	cur := reg
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Apply(cur, tt.ev, in(int64(i+1)))
			checkInvariant(t, res.State)
			if got := res.State.Points.Balance - cur.Points.Balance; got != tt.delta {
				t.Fatalf("balance grew by %d, want %d; trace %+v", got, tt.delta, res.Trace.Rules)
			}
			ids := map[string]bool{}
			for _, e := range res.Entries {
				if ids[e.EntryID] {
					t.Fatalf("entry id %s used twice", e.EntryID)
				}
				ids[e.EntryID] = true
			}
			if len(res.Trace.Rules) != 3 {
				t.Fatalf("trace lists %d order rules, want 3", len(res.Trace.Rules))
			}
			cur = res.State
		})
	}
}

func TestExclusiveRuleMasksLowerOnes(t *testing.T) {
	set := []*rules.Rule{
		rule(t, "low", t0, `{"name":"low","eventType":"action","priority":1,
			"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":1}]}`),
		rule(t, "high", t0, `{"name":"high","eventType":"action","priority":10,"exclusive":true,
			"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":100}]}`),
	}
	res := Apply(nil, action("a"), Input{Now: t0, Rules: set})
	if res.State.Points.Balance != 100 {
		t.Fatalf("balance = %d, want 100 from the exclusive rule alone", res.State.Points.Balance)
	}
	if tr := res.Trace.Rules; len(tr) != 2 || tr[0].RuleID != "high" || !tr[0].Matched ||
		tr[1].SkippedBecause != "exclusive_rule_matched" {
		t.Fatalf("trace %+v", tr)
	}
}

func TestPerCustomerCapHoldsAcrossEvents(t *testing.T) {
	set := []*rules.Rule{rule(t, "capped", t0, `{"name":"capped","eventType":"action",
		"criteria":[{"type":"everyEvent"}],
		"actions":[{"type":"awardPoints","points":30,"maxPerCustomerPerPeriod":{"points":100,"period":{"n":1,"unit":"day"}}}]}`)}
	var st *schemas.CustomerState
	for i := range 6 {
		st = Apply(st, action("a"+itoa(i)), Input{Offset: int64(i), Now: t0, Rules: set}).State
	}
	if st.Points.Balance != 100 {
		t.Fatalf("balance = %d after 6 × 30 with a daily cap of 100, want 100", st.Points.Balance)
	}
	next := action("tomorrow")
	next.CreatedAt = t0.Add(24 * time.Hour)
	st = Apply(st, next, Input{Offset: 99, Now: t0, Rules: set}).State
	if st.Points.Balance != 130 {
		t.Fatalf("balance = %d the next day, want 130", st.Points.Balance)
	}
}

func TestTriggerActionsShowPendingWithoutScheduler(t *testing.T) {
	set := []*rules.Rule{rule(t, "remind", t0, `{"name":"remind","eventType":"action",
		"criteria":[{"type":"everyEvent"}],"actions":[{"type":"createTrigger","triggerId":"t1"}]}`)}
	res := Apply(nil, action("a"), Input{Now: t0, Rules: set})
	if len(res.Schedules) != 1 {
		t.Fatalf("schedules = %+v, want the trigger", res.Schedules)
	}
	act := res.Trace.Rules[0].Actions[0]
	if act.Result != rules.ResultPending || act.Reason != ReasonNoScheduler {
		t.Fatalf("trigger action traced as %+v, want pending for lack of a scheduler", act)
	}
}

// TestSystemPointsEventsAreAssessedInline follows finding 13: every ledger
// entry makes a system Points event, assessed inline against Points rules,
// and the chain stops at rules that caused it and at depth 3.
func TestSystemPointsEventsAreAssessedInline(t *testing.T) {
	econ := economy(t, "1", "")
	bigEarn := rule(t, "big-earn", t0, `{"name":"Big earner","eventType":"points",
		"criteria":[{"type":"nameSpace","op":"equals","value":"Points.Earn"},{"type":"quantity","op":"gte","value":100}],
		"actions":[{"type":"awardPoints","points":10}]}`)
	echo := rule(t, "echo", t0.Add(time.Second), `{"name":"Every points event","eventType":"points",
		"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":1}]}`)
	echo2 := rule(t, "echo2", t0.Add(2*time.Second), `{"name":"Every points event too","eventType":"points",
		"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":1}]}`)

	tests := []struct {
		name    string
		set     []*rules.Rule
		balance int64
		caused  int
	}{
		// base 120 → Points.Earn 120 (depth 1) → +10 → Points.Earn 10 (depth 2), which does not qualify.
		{name: "a rule on system earn events", set: []*rules.Rule{bigEarn}, balance: 130, caused: 2},
		// base 120 → event (d1) → echo +1 → event (d2): echo caused it, so it is skipped.
		{name: "a rule never fires on an event it caused", set: []*rules.Rule{echo}, balance: 121, caused: 2},
		// d1: echo +1, echo2 +1; d2 (from echo): echo2 +1; d2 (from echo2): echo +1;
		// d3 events are recorded but not assessed.
		{name: "the chain stops at depth 3", set: []*rules.Rule{echo, echo2}, balance: 124, caused: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Apply(nil, order("o1", big.NewRat(120, 1), "Order.Web"),
				Input{Economy: econ, Now: t0, Rules: tt.set})
			checkInvariant(t, res.State)
			if res.State.Points.Balance != tt.balance || len(res.Caused) != tt.caused {
				t.Fatalf("balance %d with %d caused events, want %d and %d", res.State.Points.Balance,
					len(res.Caused), tt.balance, tt.caused)
			}
			for _, c := range res.Caused {
				if c.Event.Origin != schemas.OriginSystem || c.Event.Depth < 1 || c.Event.Depth > rules.MaxDepth ||
					c.Event.Points == nil || c.Event.NameSpace != "Points.Earn" {
					t.Fatalf("caused event %+v", c.Event)
				}
			}
		})
	}

	// The same event again gives the same caused events: their ids derive
	// from the entries'.
	a := Apply(nil, order("o1", big.NewRat(120, 1), "Order.Web"), Input{Economy: econ, Now: t0, Rules: []*rules.Rule{bigEarn}})
	b := Apply(nil, order("o1", big.NewRat(120, 1), "Order.Web"),
		Input{Economy: econ, Now: t0.Add(time.Hour), Rules: []*rules.Rule{bigEarn}})
	if a.Caused[0].Event.EventID != b.Caused[0].Event.EventID {
		t.Fatal("system event ids are not deterministic")
	}
}

func TestRedeliveryReemitsEntriesOfCausedEvents(t *testing.T) {
	econ := economy(t, "1", "")
	bigEarn := rule(t, "big-earn", t0, `{"name":"Big earner","eventType":"points",
		"criteria":[{"type":"quantity","op":"gte","value":100}],"actions":[{"type":"awardPoints","points":10}]}`)
	in := Input{Partition: 1, Offset: 5, Economy: econ, Now: t0, Rules: []*rules.Rule{bigEarn}}
	first := Apply(nil, order("o1", big.NewRat(120, 1), "Order.Web"), in)
	again := Apply(first.State, order("o1", big.NewRat(120, 1), "Order.Web"), in)
	if again.Outcome != Redelivered || len(again.Entries) != 2 || len(first.Entries) != 2 ||
		again.Entries[1].EntryID != first.Entries[1].EntryID {
		t.Fatalf("redelivery re-emitted %d entries, want the base entry and the caused event's award", len(again.Entries))
	}
}
