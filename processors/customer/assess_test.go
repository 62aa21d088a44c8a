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
