package rules

import (
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// traceSummary lists the rules of a trace with their skip reason
// or whether they matched: "a:matched", "b:-", "c:self_caused".
func traceSummary(a Assessment) string {
	var parts []string
	for _, rt := range a.Trace.Rules {
		s := rt.RuleID + ":"
		switch {
		case rt.SkippedBecause != "":
			s += rt.SkippedBecause
		case rt.Matched:
			s += "matched"
		default:
			s += "-"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

const award1 = `{"type":"awardPoints","points":1}`

func TestAssessOrderAndExclusive(t *testing.T) {
	every := `{"type":"everyEvent"}`
	never := `{"type":"nameSpace","op":"equals","value":"nothing"}`
	mk := func(id string, prio int, created time.Duration, exclusive bool, crit string) *Rule {
		r := activeRule(t, id, schemas.TypeOrder, crit, award1)
		r.Priority, r.CreatedAt, r.Exclusive = prio, t0.Add(created), exclusive
		return r
	}
	tests := []struct {
		name  string
		rules []*Rule
		want  string
	}{
		{name: "priority, then creation, then id", rules: []*Rule{
			mk("d", 1, 2*time.Hour, false, every), mk("c", 1, time.Hour, false, every),
			mk("b", 1, time.Hour, false, every), mk("a", 5, 3*time.Hour, false, every),
		}, want: "a:matched b:matched c:matched d:matched"},
		{name: "an exclusive rule that matches stops lower priorities", rules: []*Rule{
			mk("low", 1, 0, false, every), mk("excl", 9, 0, true, every), mk("high", 10, 0, false, every),
		}, want: "high:matched excl:matched low:exclusive_rule_matched"},
		{name: "and rules of equal priority created later", rules: []*Rule{
			mk("later", 5, time.Hour, false, every), mk("excl", 5, 0, true, every),
		}, want: "excl:matched later:exclusive_rule_matched"},
		{name: "an exclusive rule that does not match stops nothing", rules: []*Rule{
			mk("excl", 5, 0, true, never), mk("next", 1, 0, false, every),
		}, want: "excl:- next:matched"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Assess(tc.rules, Subject{Event: eventOf(schemas.TypeOrder), Customer: newCustomer()})
			if s := traceSummary(got); s != tc.want {
				t.Fatalf("trace %s, want %s", s, tc.want)
			}
			var matched []string
			for _, m := range got.Matched {
				matched = append(matched, m.ID)
			}
			if n := strings.Count(tc.want, ":matched"); len(matched) != n || len(got.Awards) != n {
				t.Fatalf("matched %v and %d awards, want %d", matched, len(got.Awards), n)
			}
		})
	}
}

func TestAssessIgnoresOtherTypesAndStatuses(t *testing.T) {
	active := activeRule(t, "active", schemas.TypeOrder, `{"type":"everyEvent"}`, award1)
	test := activeRule(t, "test", schemas.TypeOrder, `{"type":"everyEvent"}`, award1)
	test.Status = StatusTest
	inactive := activeRule(t, "inactive", schemas.TypeOrder, `{"type":"everyEvent"}`, award1)
	inactive.Status = StatusInactive
	action := activeRule(t, "action", schemas.TypeAction, `{"type":"everyEvent"}`, award1)
	rules := []*Rule{active, test, inactive, action, nil}

	real := Assess(rules, Subject{Event: eventOf(schemas.TypeOrder)})
	if s := traceSummary(real); s != "active:matched" {
		t.Fatalf("real run: %s", s)
	}
	dry := Assess(rules, Subject{Event: eventOf(schemas.TypeOrder), DryRun: true})
	if s := traceSummary(dry); s != "active:matched test:matched" {
		t.Fatalf("dry run: %s", s)
	}
	if got := Assess(rules, Subject{}); len(got.Trace.Rules) != 0 {
		t.Fatalf("no event: %+v", got)
	}
}

// TestAssessSeesEarlierRules checks that a later rule sees the segment
// changes and points of the rules before it on the same event.
func TestAssessSeesEarlierRules(t *testing.T) {
	add := activeRule(t, "add", schemas.TypePoints, `{"type":"everyEvent"}`,
		`{"type":"addToSegment","segmentId":"new"},{"type":"removeFromSegment","segmentId":"vip"},`+
			`{"type":"awardPoints","points":50}`)
	add.Priority = 10
	in := activeRule(t, "in", schemas.TypePoints,
		`{"type":"inSegment","segmentId":"new"},{"type":"notInSegment","segmentId":"vip"},`+
			`{"type":"balance","op":"eq","value":300},{"type":"lifetimeEarned","op":"eq","value":950},`+
			`{"type":"previousBalance","op":"eq","value":200}`, award1)

	got := Assess([]*Rule{in, add}, Subject{Event: eventOf(schemas.TypePoints), Customer: newCustomer()})
	if s := traceSummary(got); s != "add:matched in:matched" {
		t.Fatalf("trace %s: %+v", s, got.Trace.Rules[1].Criteria)
	}

	// Without the earlier rule, the same criteria fail.
	alone := Assess([]*Rule{in}, Subject{Event: eventOf(schemas.TypePoints), Customer: newCustomer()})
	if s := traceSummary(alone); s != "in:-" {
		t.Fatalf("alone: %s", s)
	}
}

func TestAssessValidityWindowAcrossDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	// 2026-03-29 is the day Berlin moves from +01:00 to +02:00: the local
	// day runs from 2026-03-28T23:00Z to 2026-03-29T22:00Z, 23 hours.
	r := activeRule(t, "r", schemas.TypeAction, `{"type":"everyEvent"}`, award1)
	from, to := Bound{Date: Date{2026, 3, 29}}, Bound{Date: Date{2026, 3, 29}}
	r.ValidFrom, r.ValidTo = &from, &to

	instant := Bound{Instant: time.Date(2026, 3, 29, 3, 0, 0, 0, berlin)} // 01:00Z, after the change
	rInstant := activeRule(t, "i", schemas.TypeAction, `{"type":"everyEvent"}`, award1)
	rInstant.ValidFrom = &instant

	tests := []struct {
		at   string
		want string
	}{
		{"2026-03-28T22:59:59Z", "i:not_yet_valid r:not_yet_valid"},
		{"2026-03-28T23:00:00Z", "i:not_yet_valid r:matched"},
		{"2026-03-29T01:00:00Z", "i:matched r:matched"},
		{"2026-03-29T21:59:59.999Z", "i:matched r:matched"},
		{"2026-03-29T22:00:00Z", "i:matched r:no_longer_valid"},
	}
	for _, tc := range tests {
		t.Run(tc.at, func(t *testing.T) {
			ev := eventOf(schemas.TypeAction)
			ev.CreatedAt, _ = time.Parse(time.RFC3339Nano, tc.at)
			got := Assess([]*Rule{rInstant, r}, Subject{Event: ev, Location: berlin})
			if s := traceSummary(got); s != tc.want {
				t.Fatalf("trace %s, want %s", s, tc.want)
			}
		})
	}
}

func TestDateStartInAMidnightGap(t *testing.T) {
	tests := []struct {
		zone string
		day  Date
		want string
	}{
		// Santiago skipped from 00:00 to 01:00 on 2025-09-07.
		{"America/Santiago", Date{2025, 9, 7}, "2025-09-07T01:00:00-03:00"},
		// Havana skipped from 00:00 to 01:00 on 2025-03-09.
		{"America/Havana", Date{2025, 3, 9}, "2025-03-09T01:00:00-04:00"},
		{"Europe/Berlin", Date{2026, 3, 29}, "2026-03-29T00:00:00+01:00"},
	}
	for _, tc := range tests {
		loc, err := time.LoadLocation(tc.zone)
		if err != nil {
			t.Skip("no tzdata:", err)
		}
		if got := tc.day.Start(loc).Format(time.RFC3339); got != tc.want {
			t.Errorf("%s %s starts %s, want %s", tc.zone, tc.day, got, tc.want)
		}
	}
}

func TestAssessSelfCausedAndDepth(t *testing.T) {
	a := activeRule(t, "a", schemas.TypePoints, `{"type":"everyEvent"}`, award1)
	b := activeRule(t, "b", schemas.TypePoints, `{"type":"everyEvent"}`, award1)
	b.CreatedAt = a.CreatedAt.Add(time.Second)

	ev := eventOf(schemas.TypePoints)
	ev.Origin, ev.Depth = schemas.OriginSystem, 2
	got := Assess([]*Rule{a, b}, Subject{Event: ev, CausalChain: []string{"x", "a"}})
	if s := traceSummary(got); s != "a:self_caused b:matched" {
		t.Fatalf("depth 2: %s", s)
	}

	ev.Depth = MaxDepth
	got = Assess([]*Rule{a, b}, Subject{Event: ev})
	if s := traceSummary(got); s != "a:depth_limit b:depth_limit" || len(got.Awards) != 0 {
		t.Fatalf("depth 3: %s", s)
	}
}

func TestCaps(t *testing.T) {
	loc, err := time.LoadLocation("Pacific/Auckland")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	// t0 (Sunday 2026-03-01 12:00Z) is Monday 2 March 01:00 in Auckland:
	// the week, month and day of the cap are Auckland's.
	customer := func(period string) CapKey {
		return CapKey{Scope: ScopeCustomer, RuleID: "r", ActionIndex: 0, Period: period}
	}
	budget := CapKey{Scope: ScopeBudget, RuleID: "r", ActionIndex: 0}
	tests := []struct {
		name   string
		act    string
		used   fakeUsage
		setup  func(*Subject)
		result string
		reason string
		points int64
		uses   []CapUse
		req    []BudgetRequest
	}{
		{name: "maxPerEvent clamps", act: `{"type":"awardPoints","points":10,"maxPerEvent":4}`,
			result: ResultRan, reason: ReasonCapPerEvent, points: 4},
		{name: "maxPerEvent above the award", act: `{"type":"awardPoints","points":3,"maxPerEvent":4}`,
			result: ResultRan, points: 3},
		{name: "per customer clamps to what is left of the week",
			act:    `{"type":"awardPoints","points":10,"maxPerCustomerPerPeriod":{"points":100,"period":{"n":1,"unit":"week"}}}`,
			used:   fakeUsage{customer("2026-W10"): 95, customer("2026-W09"): 100},
			result: ResultRan, reason: ReasonCapPerCustomer, points: 5,
			uses: []CapUse{{Key: customer("2026-W10"), Points: 5,
				PeriodEnd: time.Date(2026, 3, 9, 0, 0, 0, 0, loc)}}},
		{name: "per customer used up skips",
			act:    `{"type":"awardPoints","points":10,"maxPerCustomerPerPeriod":{"points":100,"period":{"n":1,"unit":"day"}}}`,
			used:   fakeUsage{customer("2026-03-02"): 100},
			result: ResultSkipped, reason: ReasonCapPerCustomer, points: noPoints},
		{name: "per customer month and year keys",
			act:    `{"type":"awardPoints","points":10,"maxPerCustomerPerPeriod":{"points":100,"period":{"n":1,"unit":"month"}}}`,
			used:   fakeUsage{customer("2026-03"): 1},
			result: ResultRan, points: 10,
			uses: []CapUse{{Key: customer("2026-03"), Points: 10,
				PeriodEnd: time.Date(2026, 4, 1, 0, 0, 0, 0, loc)}}},
		{name: "budget clamps after the other caps",
			act: `{"type":"awardPoints","points":10,"maxPerEvent":8,` +
				`"maxPerCustomerPerPeriod":{"points":100,"period":{"n":1,"unit":"year"}},"budget":1000}`,
			used:   fakeUsage{budget: 994},
			result: ResultRan, reason: ReasonBudgetExhausted, points: 6,
			uses: []CapUse{
				{Key: customer("2026"), Points: 6, PeriodEnd: time.Date(2027, 1, 1, 0, 0, 0, 0, loc)},
				{Key: budget, Points: 6},
			}},
		{name: "budget exhausted skips", act: `{"type":"awardPoints","points":10,"budget":1000}`,
			used:   fakeUsage{budget: 1000},
			result: ResultSkipped, reason: ReasonBudgetExhausted, points: noPoints},
		{name: "a dry run evaluates caps without consuming them",
			act:    `{"type":"awardPoints","points":10,"budget":1000}`,
			used:   fakeUsage{budget: 995},
			setup:  func(s *Subject) { s.DryRun = true },
			result: ResultRan, reason: ReasonBudgetExhausted, points: 5},
		{name: "a deferred budget asks the keeper",
			act:    `{"type":"awardPoints","points":10,"maxPerEvent":7,"budget":1000}`,
			setup:  func(s *Subject) { s.DeferBudget = true },
			result: ResultPending, reason: ReasonPendingBudget, points: 7,
			req: []BudgetRequest{{RuleID: "r", RuleVersion: 1, ActionIndex: 0, Budget: 1000, Points: 7}}},
		{name: "a dry run reads the budget even when deferred",
			act:    `{"type":"awardPoints","points":10,"budget":1000}`,
			used:   fakeUsage{budget: 1000},
			setup:  func(s *Subject) { s.DryRun, s.DeferBudget = true, true },
			result: ResultSkipped, reason: ReasonBudgetExhausted, points: noPoints},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := activeRule(t, "r", schemas.TypeOrder, `{"type":"everyEvent"}`, tc.act)
			s := Subject{Event: eventOf(schemas.TypeOrder), Usage: tc.used, Location: loc}
			if tc.setup != nil {
				tc.setup(&s)
			}
			got := Assess([]*Rule{r}, s)
			at := got.Trace.Rules[0].Actions[0]
			if at.Result != tc.result || at.Reason != tc.reason {
				t.Fatalf("result %s/%s, want %s/%s", at.Result, at.Reason, tc.result, tc.reason)
			}
			if (at.Points == nil) != (tc.points == noPoints) || (at.Points != nil && *at.Points != tc.points) {
				t.Fatalf("points %v, want %d", at.Points, tc.points)
			}
			if !reflect.DeepEqual(got.CapUses, tc.uses) && len(got.CapUses)+len(tc.uses) > 0 {
				t.Fatalf("cap uses %+v, want %+v", got.CapUses, tc.uses)
			}
			if !reflect.DeepEqual(got.BudgetRequests, tc.req) && len(got.BudgetRequests)+len(tc.req) > 0 {
				t.Fatalf("budget requests %+v, want %+v", got.BudgetRequests, tc.req)
			}
			wantAwards := 0
			if tc.result == ResultRan {
				wantAwards = 1
			}
			if len(got.Awards) != wantAwards {
				t.Fatalf("awards %+v", got.Awards)
			}
		})
	}
}

func TestCapsNeverConsumedByBaskets(t *testing.T) {
	r := activeRule(t, "r", schemas.TypeBasket, `{"type":"everyEvent"}`,
		`{"type":"awardPoints","points":10,"budget":5}`)
	got := Assess([]*Rule{r}, Subject{Event: eventOf(schemas.TypeBasket), DeferBudget: true})
	if got.Points() != 5 || len(got.CapUses) != 0 || len(got.BudgetRequests) != 0 {
		t.Fatalf("basket: points %d, uses %+v, requests %+v", got.Points(), got.CapUses, got.BudgetRequests)
	}
}

func TestCapKeyString(t *testing.T) {
	k := CapKey{Scope: ScopeCustomer, RuleID: "r1", ActionIndex: 2, Period: "2026-W09"}
	if k.String() != "r1/2/2026-W09" {
		t.Fatalf("key %s", k)
	}
}

func TestRound(t *testing.T) {
	tests := []struct {
		in   string
		mode string
		want int64
	}{
		{"2.5", RoundNearest, 3},
		{"2.4999", RoundNearest, 2},
		{"3.5", RoundNearest, 4},
		{"-2.5", RoundNearest, -3},
		{"-2.4999", RoundNearest, -2},
		{"2.9999", RoundDown, 2},
		{"-0.5", RoundDown, -1},
		{"2.0001", RoundUp, 3},
		{"2", RoundUp, 2},
		{"7", RoundNearest, 7},
	}
	for _, tc := range tests {
		if got := round(dec(tc.in), tc.mode); got != tc.want {
			t.Errorf("round(%s, %s) = %d, want %d", tc.in, tc.mode, got, tc.want)
		}
	}
	huge := new(big.Rat).SetFrac(new(big.Int).Lsh(big.NewInt(1), 80), big.NewInt(1))
	if got := round(huge, RoundDown); got != math.MaxInt64 {
		t.Errorf("round(2^80) = %d, want saturation", got)
	}
}

func TestPointsPerSpendRounding(t *testing.T) {
	for _, tc := range []struct {
		total, rounding string
		want            int64
	}{
		{"2.5", "nearest", 3}, {"2.5", "down", 2}, {"2.5", "up", 3},
		{"2.4999", "nearest", 2}, {"2.0001", "up", 3}, {"2.0001", "nearest", 2},
	} {
		r := activeRule(t, "r", schemas.TypeOrder, `{"type":"everyEvent"}`,
			`{"type":"pointsPerSpend","pointsPerUnit":1,"rounding":"`+tc.rounding+`"}`)
		ev := eventOf(schemas.TypeOrder)
		ev.Order.Total = dec(tc.total)
		if got := Assess([]*Rule{r}, Subject{Event: ev}).Points(); got != tc.want {
			t.Errorf("%s rounded %s: %d, want %d", tc.total, tc.rounding, got, tc.want)
		}
	}
}

// TestMultiplyFactorsAddUp: factors 2 and 3 pay +1× and +2× base
// (finding 5), so the customer ends with base × 4.
func TestMultiplyFactorsAddUp(t *testing.T) {
	double := activeRule(t, "double", schemas.TypeOrder, `{"type":"everyEvent"}`,
		`{"type":"multiplyBasePoints","factor":2}`)
	triple := activeRule(t, "triple", schemas.TypeOrder, `{"type":"everyEvent"}`,
		`{"type":"multiplyBasePoints","factor":3,"maxPerEvent":1000}`)
	got := Assess([]*Rule{double, triple}, Subject{Event: eventOf(schemas.TypeOrder), BasePoints: 120})
	var pts []int64
	for _, aw := range got.Awards {
		pts = append(pts, aw.Points)
	}
	if !reflect.DeepEqual(pts, []int64{120, 240}) || 120+got.Points() != 4*120 {
		t.Fatalf("awards %v", pts)
	}
}

func TestRefundSkipsOnlyPoints(t *testing.T) {
	r := activeRule(t, "r", schemas.TypeTransaction, `{"type":"everyEvent"}`,
		`{"type":"awardPoints","points":5},{"type":"pointsPerSpend","pointsPerUnit":1},`+
			`{"type":"multiplyBasePoints","factor":2},{"type":"addToSegment","segmentId":"s"}`)
	ev := eventOf(schemas.TypeTransaction)
	ev.NameSpace = "Refund.Card"
	got := Assess([]*Rule{r}, Subject{Event: ev, BasePoints: 10})
	var results []string
	for _, at := range got.Trace.Rules[0].Actions {
		results = append(results, at.Result+"/"+at.Reason)
	}
	want := "skipped/refund_event skipped/refund_event skipped/refund_event ran/"
	if strings.Join(results, " ") != want || len(got.Awards) != 0 || len(got.Segments) != 1 {
		t.Fatalf("actions %v, want %s", results, want)
	}
}

// TestTraceJSON pins the trace to finding 22's shape.
func TestTraceJSON(t *testing.T) {
	r := activeRule(t, "r1", schemas.TypeOrder, `{"type":"total","op":"gte","value":100}`,
		`{"type":"awardPoints","points":500,"maxPerEvent":50},{"type":"callWebhook","webhookId":"w"}`)
	r.Version, r.Priority = 3, 7
	got := Assess([]*Rule{r}, Subject{Event: eventOf(schemas.TypeOrder)})
	b, err := json.Marshal(got.Trace)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"rules":[{"ruleId":"r1","version":3,"priority":7,"matched":true,` +
		`"criteria":[{"index":0,"type":"total","held":true,"detail":"total 120.5 gte 100"}],` +
		`"actions":[{"index":0,"type":"awardPoints","result":"ran","reason":"cap_per_event","points":50},` +
		`{"index":1,"type":"callWebhook","result":"pending"}]}]}`
	if string(b) != want {
		t.Fatalf("trace\n%s\nwant\n%s", b, want)
	}
	m, _ := json.Marshal(got.Matched)
	if string(m) != `[{"id":"r1","name":"r1","version":3}]` {
		t.Fatalf("matched %s", m)
	}
}

// TestAssessDoesNotModifyInputs runs Assess twice on the same rules and
// checks the rule order and the results are unchanged.
func TestAssessDoesNotModifyInputs(t *testing.T) {
	a := activeRule(t, "a", schemas.TypeOrder, `{"type":"everyEvent"}`, award1)
	b := activeRule(t, "b", schemas.TypeOrder, `{"type":"everyEvent"}`, award1)
	b.Priority = 5
	rules := []*Rule{a, b}
	s := Subject{Event: eventOf(schemas.TypeOrder), Customer: newCustomer()}
	first := Assess(rules, s)
	second := Assess(rules, s)
	if rules[0] != a || !reflect.DeepEqual(first, second) {
		t.Fatal("Assess changed its inputs or is not deterministic")
	}
}
