package e2e

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// The examples of docs/rules.md, configured through the Admin API alone:
// each rule is created and activated there, events go through the Event
// API with ?wait=true, balances are read through the Customer API and the
// trace through GET /events/{eventId}.

// eventTrace is the trace of GET /events/{eventId} and of a dry run.
type eventTrace struct {
	Economy struct {
		ID         string `json:"id"`
		BasePoints int64  `json:"basePoints"`
		Reason     string `json:"reason"`
	} `json:"economy"`
	Rules []ruleTrace `json:"rules"`
}

type ruleTrace struct {
	RuleID         string `json:"ruleId"`
	Version        int    `json:"version"`
	Priority       int    `json:"priority"`
	Matched        bool   `json:"matched"`
	SkippedBecause string `json:"skippedBecause"`
	Criteria       []struct {
		Index  int    `json:"index"`
		Type   string `json:"type"`
		Held   bool   `json:"held"`
		Detail string `json:"detail"`
	} `json:"criteria"`
	Actions []struct {
		Index  int    `json:"index"`
		Type   string `json:"type"`
		Result string `json:"result"`
		Reason string `json:"reason"`
		Points *int64 `json:"points"`
	} `json:"actions"`
}

// ledgerEntry is the part of a ledger entry that a dry run and a real run
// must agree on; recordedAt is left out.
type ledgerEntry struct {
	EntryID      string  `json:"entryId"`
	Type         string  `json:"type"`
	Points       int64   `json:"points"`
	BalanceAfter int64   `json:"balanceAfter"`
	Source       string  `json:"source"`
	RuleID       *string `json:"ruleId"`
	RuleVersion  *int    `json:"ruleVersion"`
	ActionIndex  *int    `json:"actionIndex"`
}

// outcome is what GET /events/{eventId} and a dry run both show.
type outcome struct {
	Status        string        `json:"status"`
	LedgerEntries []ledgerEntry `json:"ledgerEntries"`
	Trace         eventTrace    `json:"trace"`
}

// rule finds a rule's trace, failing the test when the rule is absent.
func (tr eventTrace) rule(t *testing.T, id string) ruleTrace {
	t.Helper()
	for _, r := range tr.Rules {
		if r.RuleID == id {
			return r
		}
	}
	t.Fatalf("rule %s is not in the trace %+v", id, tr)
	return ruleTrace{}
}

// has reports whether the trace names the rule.
func (tr eventTrace) has(id string) bool {
	for _, r := range tr.Rules {
		if r.RuleID == id {
			return true
		}
	}
	return false
}

// activeRule creates a rule and activates it through the Admin API.
func (s *stack) activeRule(doc map[string]any) string {
	s.t.Helper()
	id := s.must(http.StatusCreated, "POST", "/admin/rules", doc, nil).body["id"].(string)
	s.must(http.StatusOK, "POST", "/admin/rules/"+id+"/status", map[string]any{"status": "Active"}, nil)
	return id
}

// activeSegment creates a segment and activates it through the Admin API.
func (s *stack) activeSegment(name string) string {
	s.t.Helper()
	id := s.must(http.StatusCreated, "POST", "/admin/segments", map[string]any{"name": name}, nil).body["id"].(string)
	s.must(http.StatusOK, "POST", "/admin/segments/"+id+"/status", map[string]any{"status": "Active"}, nil)
	return id
}

// post sends an event to /events/{kind}?wait=true, checks that it was
// assessed and returns its eventId.
func (s *stack) post(kind string, ev map[string]any) string {
	s.t.Helper()
	if ev["eventId"] == nil {
		ev["eventId"] = uuid.NewString()
	}
	r := s.must(http.StatusOK, "POST", "/events/"+kind+"?wait=true", ev, nil)
	if r.body["status"] != "assessed" {
		s.t.Fatalf("POST /events/%s: %s, want status assessed", kind, r.raw)
	}
	return ev["eventId"].(string)
}

// outcome reads GET /events/{eventId}.
func (s *stack) outcome(eventID string) outcome {
	s.t.Helper()
	r := s.must(http.StatusOK, "GET", "/events/"+eventID, nil, nil)
	var out outcome
	if err := json.Unmarshal([]byte(r.raw), &out); err != nil {
		s.t.Fatalf("decoding %s: %v", r.raw, err)
	}
	return out
}

// wantBalance fails the test unless the customer's balance is want. After
// ?wait=true the answering instance shows the event's effects at once.
func (s *stack) wantBalance(cust string, want int64) {
	s.t.Helper()
	if got := s.balance(cust); got != want {
		s.t.Fatalf("balance of %s = %d, want %d", cust, got, want)
	}
}

func action(cust, nameSpace string) map[string]any {
	return map[string]any{"customerId": cust, "nameSpace": nameSpace, "action": map[string]any{}}
}

func order(cust, nameSpace string, total float64) map[string]any {
	return map[string]any{"customerId": cust, "nameSpace": nameSpace, "order": map[string]any{"total": total}}
}

func nameSpaceIs(ns string) map[string]any {
	return map[string]any{"type": "nameSpace", "op": "equals", "value": ns}
}

func award(points int) map[string]any { return map[string]any{"type": "awardPoints", "points": points} }

// TestRulesDocsExamples runs the examples of docs/rules.md in one tenant,
// in order: each later rule is written so that it leaves the earlier
// examples' events alone.
func TestRulesDocsExamples(t *testing.T) {
	s := startStack(t, stackOptions{})
	var welcome string

	t.Run("award for an action", func(t *testing.T) {
		welcome = s.activeRule(map[string]any{"name": "Welcome", "eventType": "action",
			"criteria": []any{nameSpaceIs("Customer.Registration")}, "actions": []any{award(5)}})
		cust := uuid.NewString()
		id := s.post("actions", action(cust, "Customer.Registration"))
		s.wantBalance(cust, 5)
		rt := s.outcome(id).Trace.rule(t, welcome)
		if !rt.Matched || len(rt.Actions) != 1 || rt.Actions[0].Result != "ran" || *rt.Actions[0].Points != 5 {
			t.Fatalf("trace: %+v", rt)
		}
		other := uuid.NewString()
		s.post("actions", action(other, "Customer.Login"))
		s.wantBalance(other, 0)
	})

	t.Run("points per dollar on bonus orders", func(t *testing.T) {
		bonus := s.activeRule(map[string]any{"name": "Bonus orders", "eventType": "order",
			"criteria": []any{nameSpaceIs("Order.Bonus")},
			"actions":  []any{map[string]any{"type": "pointsPerSpend", "pointsPerUnit": 1}}})
		cust := uuid.NewString()
		id := s.post("orders", order(cust, "Order.Bonus", 25.5))
		s.wantBalance(cust, 50) // base 25 (demo economy, 1 per unit) + 25
		out := s.outcome(id)
		if out.Trace.Economy.BasePoints != 25 || *out.Trace.rule(t, bonus).Actions[0].Points != 25 ||
			len(out.LedgerEntries) != 2 || out.LedgerEntries[1].Source != "rule" ||
			*out.LedgerEntries[1].RuleID != bonus || *out.LedgerEntries[1].RuleVersion != 1 {
			t.Fatalf("outcome: %+v", out)
		}
		web := uuid.NewString()
		s.post("orders", order(web, "Order.Web", 25.5))
		s.wantBalance(web, 25)
	})

	t.Run("every third order", func(t *testing.T) {
		third := s.activeRule(map[string]any{"name": "Every third order", "eventType": "order",
			"criteria": []any{map[string]any{"type": "everyNthEvent", "n": 3}}, "actions": []any{award(100)}})
		cust := uuid.NewString()
		var ids []string
		for i, want := range []int64{10, 20, 130, 140} {
			ids = append(ids, s.post("orders", order(cust, "Order.Web", 10)))
			s.wantBalance(cust, want)
			if matched := s.outcome(ids[i]).Trace.rule(t, third).Matched; matched != (i == 2) {
				t.Fatalf("order %d: matched = %v", i+1, matched)
			}
		}
	})

	t.Run("segment added by one rule and required by another", func(t *testing.T) {
		seg := s.must(http.StatusCreated, "POST", "/admin/segments", map[string]any{"name": "Club"}, nil).body["id"].(string)
		join := s.must(http.StatusCreated, "POST", "/admin/rules", map[string]any{"name": "Join the club",
			"eventType": "action", "priority": 10, "criteria": []any{nameSpaceIs("Club.Join")},
			"actions": []any{map[string]any{"type": "addToSegment", "segmentId": seg}}}, nil).body["id"].(string)

		// Activation waits for the segment (SPEC-DECISIONS finding 16).
		blocked := s.must(http.StatusConflict, "POST", "/admin/rules/"+join+"/status",
			map[string]any{"status": "Active"}, nil)
		if blocked.body["detail"] != seg || !strings.Contains(blocked.raw, seg) {
			t.Fatalf("activating before the segment: %s", blocked.raw)
		}
		s.must(http.StatusOK, "POST", "/admin/segments/"+seg+"/status", map[string]any{"status": "Active"}, nil)
		s.must(http.StatusOK, "POST", "/admin/rules/"+join+"/status", map[string]any{"status": "Active"}, nil)
		perk := s.activeRule(map[string]any{"name": "Club perk", "eventType": "action",
			"criteria": []any{
				map[string]any{"type": "inSegment", "segmentId": seg},
				map[string]any{"type": "nameSpace", "op": "beginsWith", "value": "Club."},
			},
			"actions": []any{award(20)}})

		cust := uuid.NewString()
		id := s.post("actions", action(cust, "Club.Join"))
		s.wantBalance(cust, 20) // the membership counts for the later rule at once
		tr := s.outcome(id).Trace
		if j, p := tr.rule(t, join), tr.rule(t, perk); !j.Matched || j.Actions[0].Result != "ran" ||
			!p.Matched || !p.Criteria[0].Held {
			t.Fatalf("trace: %+v", tr)
		}
		s.post("actions", action(cust, "Club.Visit")) // the stored membership
		s.wantBalance(cust, 40)

		stranger := uuid.NewString()
		id = s.post("actions", action(stranger, "Club.Visit"))
		s.wantBalance(stranger, 0)
		if p := s.outcome(id).Trace.rule(t, perk); p.Matched || p.Criteria[0].Held {
			t.Fatalf("a customer outside the segment: %+v", p)
		}
	})

	t.Run("exclusive rule masks a lower one", func(t *testing.T) {
		high := s.activeRule(map[string]any{"name": "Exclusive promo", "eventType": "action",
			"priority": 100, "exclusive": true,
			"criteria": []any{nameSpaceIs("Promo.Exclusive")}, "actions": []any{award(50)}})
		low := s.activeRule(map[string]any{"name": "Any promo", "eventType": "action", "priority": 1,
			"criteria": []any{map[string]any{"type": "nameSpace", "op": "beginsWith", "value": "Promo."}},
			"actions":  []any{award(10)}})

		cust := uuid.NewString()
		id := s.post("actions", action(cust, "Promo.Exclusive"))
		s.wantBalance(cust, 50)
		tr := s.outcome(id).Trace
		if !tr.rule(t, high).Matched || tr.rule(t, low).SkippedBecause != "exclusive_rule_matched" ||
			tr.rule(t, welcome).SkippedBecause != "exclusive_rule_matched" || tr.Rules[0].RuleID != high {
			t.Fatalf("trace: %+v", tr)
		}
		id = s.post("actions", action(cust, "Promo.Other"))
		s.wantBalance(cust, 60)
		if tr := s.outcome(id).Trace; tr.rule(t, high).Matched || !tr.rule(t, low).Matched {
			t.Fatalf("trace: %+v", tr)
		}
	})

	t.Run("invalid configurations", func(t *testing.T) {
		base := func(extra map[string]any) map[string]any {
			doc := map[string]any{"name": "Bad", "eventType": "action",
				"criteria": []any{map[string]any{"type": "everyEvent"}}, "actions": []any{award(1)}}
			for k, v := range extra {
				doc[k] = v
			}
			return doc
		}
		cases := []struct {
			name   string
			doc    map[string]any
			status int
			code   string
			param  string
		}{
			{"unknown criterion", base(map[string]any{"criteria": []any{map[string]any{"type": "birthday"}}}),
				400, "invalid_request", "/criteria/0/type"},
			{"wrong parameter type", base(map[string]any{"actions": []any{
				map[string]any{"type": "awardPoints", "points": "5"}}}), 400, "invalid_request", "/actions/0/points"},
			{"action not allowed for the event type", base(map[string]any{"actions": []any{
				map[string]any{"type": "multiplyBasePoints", "factor": 2}}}), 400, "invalid_request", "/actions/0/type"},
			{"budget below 1", base(map[string]any{"actions": []any{
				map[string]any{"type": "awardPoints", "points": 5, "budget": 0}}}), 400, "invalid_request",
				"/actions/0/budget"},
			{"missing segment", base(map[string]any{"criteria": []any{
				map[string]any{"type": "inSegment", "segmentId": uuid.NewString()}}}), 422, "unprocessable",
				"/criteria/0/segmentId"},
			{"missing level", base(map[string]any{"criteria": []any{
				map[string]any{"type": "level", "levelId": "gold"}}}), 422, "unprocessable", "/criteria/0/levelId"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := s.must(c.status, "POST", "/admin/rules", c.doc, nil)
				if r.body["code"] != c.code || errorParams(r) != c.param {
					t.Fatalf("want %s naming %s: %s", c.code, c.param, r.raw)
				}
			})
		}

		edit := s.must(http.StatusConflict, "PATCH", "/admin/rules/"+welcome, map[string]any{"name": "Hello"}, nil)
		if edit.body["code"] != "illegal_transition" {
			t.Fatalf("editing an Active rule: %s", edit.raw)
		}
		if r := s.must(http.StatusOK, "GET", "/admin/rules/"+welcome, nil, nil); r.body["name"] != "Welcome" ||
			r.body["version"] != 1.0 {
			t.Fatalf("the Active rule changed: %s", r.raw)
		}
	})
}

// errorParams returns the sorted params of an error answer's errors[].
func errorParams(r response) string {
	var out []string
	errs, _ := r.body["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["param"].(string))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestRulesLifecycle takes a rule through create, list, read, PATCH, PUT,
// status and DELETE, every edit bumping its version.
func TestRulesLifecycle(t *testing.T) {
	s := startStack(t, stackOptions{})
	created := s.must(http.StatusCreated, "POST", "/admin/rules", map[string]any{"name": "Draft",
		"eventType": "order", "criteria": []any{map[string]any{"type": "total", "op": "gte", "value": 50}},
		"actions": []any{map[string]any{"type": "multiplyBasePoints", "factor": 2}}}, nil)
	id := created.body["id"].(string)
	if created.body["status"] != "Configure" || created.body["version"] != 1.0 {
		t.Fatalf("created: %s", created.raw)
	}
	if got := s.must(http.StatusOK, "GET", "/admin/rules/"+id, nil, nil); got.raw != created.raw {
		t.Fatalf("read %s, created %s", got.raw, created.raw)
	}
	if !listed(s, "/admin/rules", id, nil) {
		t.Fatal("the rule is not listed")
	}
	patched := s.must(http.StatusOK, "PATCH", "/admin/rules/"+id, map[string]any{"description": "x2"}, nil)
	put := s.must(http.StatusOK, "PUT", "/admin/rules/"+id, patched.body, map[string]string{"If-Match": `"2"`})
	if patched.body["version"] != 2.0 || put.body["version"] != 3.0 || put.body["description"] != "x2" {
		t.Fatalf("patched %s, replaced %s", patched.raw, put.raw)
	}
	s.must(http.StatusOK, "POST", "/admin/rules/"+id+"/status", map[string]any{"status": "Test"}, nil)
	s.must(http.StatusConflict, "POST", "/admin/rules/"+id+"/status", map[string]any{"status": "Inactive"}, nil)
	s.must(http.StatusNoContent, "DELETE", "/admin/rules/"+id, nil, nil)
	s.must(http.StatusNotFound, "GET", "/admin/rules/"+id, nil, nil)
}

// dryRun posts POST /admin/rules/test and decodes the answer.
func (s *stack) dryRun(cust string, ev map[string]any) (outcome, response) {
	s.t.Helper()
	r := s.must(http.StatusOK, "POST", "/admin/rules/test", map[string]any{"customerId": cust, "event": ev}, nil)
	var out outcome
	if err := json.Unmarshal([]byte(r.raw), &out); err != nil {
		s.t.Fatalf("decoding %s: %v", r.raw, err)
	}
	return out, r
}

// TestRulesDryRunMatchesRealRun posts a dry run, checks that it changed
// nothing, then posts the same event for real: the trace and ledger
// entries must be the same (SPEC-DECISIONS finding 24).
func TestRulesDryRunMatchesRealRun(t *testing.T) {
	s := startStack(t, stackOptions{})
	seg := s.activeSegment("Bonus buyers")
	hook := s.must(http.StatusCreated, "POST", "/admin/webhooks", map[string]any{"name": "CRM",
		"url": "https://example.com/hook", "bodyTemplate": `{"id": {{event.eventId}} }`}, nil).body["id"].(string)
	bonus := s.activeRule(map[string]any{"name": "Bonus orders", "eventType": "order",
		"criteria": []any{nameSpaceIs("Order.Bonus")},
		"actions": []any{
			map[string]any{"type": "pointsPerSpend", "pointsPerUnit": 1},
			map[string]any{"type": "addToSegment", "segmentId": seg},
			map[string]any{"type": "callWebhook", "webhookId": hook},
		}})
	second := s.activeRule(map[string]any{"name": "Every second order", "eventType": "order",
		"criteria": []any{map[string]any{"type": "everyNthEvent", "n": 2}, map[string]any{"type": "inSegment",
			"segmentId": seg}}, "actions": []any{award(7)}})

	cust := uuid.NewString()
	s.post("orders", order(cust, "Order.Web", 10))
	s.wantBalance(cust, 10)

	// The dry run: base 30, pointsPerSpend 30, and the second order in a
	// segment the first rule has just added: 7.
	ev := order(cust, "Order.Bonus", 30.5)
	ev["eventId"] = uuid.NewString()
	dry, raw := s.dryRun(cust, ev)
	if dry.Status != "assessed" || raw.body["knownCustomer"] != true || raw.body["previousBalance"] != 10.0 ||
		raw.body["balance"] != 77.0 || len(dry.LedgerEntries) != 3 ||
		!dry.Trace.rule(t, bonus).Matched || !dry.Trace.rule(t, second).Matched {
		t.Fatalf("dry run: %s", raw.raw)
	}
	if d, _ := raw.body["deliveries"].([]any); len(d) != 1 || d[0].(map[string]any)["webhookId"] != hook {
		t.Fatalf("deliveries: %s", raw.raw)
	}

	// No side effects: the balance, the counters (a second dry run
	// agrees) and the event's status are as before.
	s.wantBalance(cust, 10)
	s.must(http.StatusNotFound, "GET", "/events/"+ev["eventId"].(string), nil, nil)
	if again, _ := s.dryRun(cust, ev); !reflect.DeepEqual(again, dry) {
		t.Fatalf("a second dry run differs: %+v, then %+v", dry, again)
	}

	// The real run gives the same entries and trace.
	real := s.outcome(s.post("orders", ev))
	s.wantBalance(cust, 77)
	if !reflect.DeepEqual(real.LedgerEntries, dry.LedgerEntries) {
		t.Fatalf("entries: dry run %+v, real %+v", dry.LedgerEntries, real.LedgerEntries)
	}
	if !reflect.DeepEqual(real.Trace, dry.Trace) {
		t.Fatalf("trace: dry run %+v, real %+v", dry.Trace, real.Trace)
	}

	// Deduplication is ignored: the processed event runs again, as the
	// customer's third order.
	if after, r := s.dryRun(cust, ev); after.Status != "assessed" || after.Trace.rule(t, second).Matched ||
		r.body["previousBalance"] != 77.0 {
		t.Fatalf("dry run of a processed event: %s", r.raw)
	}
}

// TestRulesDryRunTestObjects checks that dry runs, and only they, count
// Test rules and prefer a Test economy, and that an unknown customer is
// assessed as a new one and not created.
func TestRulesDryRunTestObjects(t *testing.T) {
	s := startStack(t, stackOptions{})
	trial := s.must(http.StatusCreated, "POST", "/admin/rules", map[string]any{"name": "Trial", "status": "Test",
		"eventType": "action", "criteria": []any{nameSpaceIs("Try.Me")}, "actions": []any{award(9)}},
		nil).body["id"].(string)

	cust := uuid.NewString()
	dry, raw := s.dryRun(cust, action(cust, "Try.Me"))
	if raw.body["knownCustomer"] != false || raw.body["balance"] != 9.0 || !dry.Trace.rule(t, trial).Matched {
		t.Fatalf("dry run: %s", raw.raw)
	}
	s.must(http.StatusNotFound, "GET", "/customers/"+cust, nil, nil)
	real := s.outcome(s.post("actions", action(cust, "Try.Me")))
	if real.Trace.has(trial) || len(real.LedgerEntries) != 0 {
		t.Fatalf("a Test rule ran for real: %+v", real)
	}
	s.wantBalance(cust, 0)

	// A Test economy governs dry runs only.
	eco := s.must(http.StatusCreated, "POST", "/admin/economies", map[string]any{"name": "Triple",
		"effectiveFrom": "2001-01-01T00:00:00Z", "basePointsPerUnit": 3, "status": "Test"}, nil).body["id"].(string)
	dry, raw = s.dryRun(cust, order(cust, "Order.Web", 10))
	if dry.Trace.Economy.ID != eco || dry.Trace.Economy.BasePoints != 30 {
		t.Fatalf("dry run under a Test economy: %s", raw.raw)
	}
	if real := s.outcome(s.post("orders", order(cust, "Order.Web", 10))); real.Trace.Economy.ID == eco ||
		real.Trace.Economy.BasePoints != 10 {
		t.Fatalf("real run: %+v", real.Trace)
	}

	// The event is validated as the event endpoints do, under /event.
	cases := []struct {
		name  string
		body  map[string]any
		param string
	}{
		{"no nameSpace", map[string]any{"customerId": cust, "event": map[string]any{"action": map[string]any{}}},
			"/event/nameSpace"},
		{"no payload", map[string]any{"customerId": cust, "event": map[string]any{"nameSpace": "A.B"}}, "/event"},
		{"another customer", map[string]any{"customerId": cust, "event": action(uuid.NewString(), "A.B")},
			"/event/customerId"},
		{"no customer", map[string]any{"event": action(cust, "A.B")}, "/customerId"},
		{"unknown field", map[string]any{"customerId": cust, "event": map[string]any{"nameSpace": "A.B",
			"action": map[string]any{}, "colour": "red"}}, "/event/colour"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.must(http.StatusBadRequest, "POST", "/admin/rules/test", c.body, nil)
			if errorParams(r) != c.param {
				t.Fatalf("want an error at %s: %s", c.param, r.raw)
			}
		})
	}

	// A basket dry-runs as POST /events/baskets would answer it, under the
	// Test economy (3 points per unit) that dry runs prefer: 42.5 × 3 → 127.
	r := s.must(http.StatusOK, "POST", "/admin/rules/test", map[string]any{"customerId": cust,
		"event": map[string]any{"nameSpace": "Basket.Web", "basket": map[string]any{"total": 42.5}}}, nil)
	if r.body["potentialPoints"] != float64(127) || len(r.body["ledgerEntries"].([]any)) != 0 {
		t.Fatalf("basket dry run: %s", r.raw)
	}
}
