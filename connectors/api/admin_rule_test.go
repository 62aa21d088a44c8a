package api

import (
	"sort"
	"strings"
	"testing"
)

// ruleDocument returns an action rule awarding 5 points on
// Customer.Registration, with extra top-level fields merged in.
func ruleDocument(extra map[string]any) map[string]any {
	doc := map[string]any{
		"name": "Welcome", "eventType": "action",
		"criteria": []any{map[string]any{"type": "nameSpace", "op": "equals", "value": "Customer.Registration"}},
		"actions":  []any{map[string]any{"type": "awardPoints", "points": 5}},
	}
	for k, v := range extra {
		doc[k] = v
	}
	return doc
}

// params returns the sorted params of an error answer's errors[].
func params(a adminAnswer) string {
	var out []string
	errs, _ := a.body["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["param"].(string))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestAdminRuleLifecycle(t *testing.T) {
	h := newAdminHarness(t)

	created := h.must(201, "POST", "/rules", ruleDocument(map[string]any{"priority": 3}))
	id, _ := created.body["id"].(string)
	want := `"name":"Welcome","description":null,"eventType":"action",` +
		`"criteria":[{"type":"nameSpace","op":"equals","value":"Customer.Registration"}],` +
		`"actions":[{"type":"awardPoints","points":5}],"validFrom":null,"validTo":null,` +
		`"priority":3,"exclusive":false}`
	if created.body["status"] != "Configure" || created.body["version"] != 1.0 ||
		!strings.HasSuffix(strings.TrimSpace(created.raw), want) {
		t.Fatalf("created: %s", created.raw)
	}
	if got := h.must(200, "GET", "/rules/"+id, nil); got.raw != created.raw {
		t.Fatalf("read %s, created %s", got.raw, created.raw)
	}

	// Defaults are filled in, and a GET answer can be sent back as a PUT.
	patched := h.must(200, "PATCH", "/rules/"+id, map[string]any{"eventType": "order",
		"actions": []any{map[string]any{"type": "pointsPerSpend", "pointsPerUnit": 1}}})
	if patched.body["version"] != 2.0 || !strings.Contains(patched.raw,
		`{"type":"pointsPerSpend","pointsPerUnit":1,"of":"total","rounding":"down"}`) {
		t.Fatalf("patched: %s", patched.raw)
	}
	put := h.must(200, "PUT", "/rules/"+id, patched.body, "If-Match", `"2"`)
	if put.body["version"] != 3.0 {
		t.Fatalf("replaced: %s", put.raw)
	}

	// Active rules are read-only (SPEC section 3; docs/rules.md says why
	// not even name, description and validTo may change).
	h.must(200, "POST", "/rules/"+id+"/status", map[string]any{"status": "Active"})
	for _, a := range []adminAnswer{
		h.must(409, "PATCH", "/rules/"+id, map[string]any{"name": "Renamed"}),
		h.must(409, "DELETE", "/rules/"+id, nil),
	} {
		if a.body["code"] != "illegal_transition" {
			t.Fatalf("want illegal_transition: %s", a.raw)
		}
	}
	h.must(200, "POST", "/rules/"+id+"/status", map[string]any{"status": "Inactive"})
	h.must(409, "POST", "/rules/"+id+"/status", map[string]any{"status": "Active"})

	draft := h.must(201, "POST", "/rules", ruleDocument(map[string]any{"status": "Test"}))
	h.must(204, "DELETE", "/rules/"+draft.body["id"].(string), nil)
}

func TestAdminRuleValidation(t *testing.T) {
	h := newAdminHarness(t)
	cases := []struct {
		name string
		doc  map[string]any
		want string // sorted params of errors[]
	}{
		{"unknown criterion", ruleDocument(map[string]any{
			"criteria": []any{map[string]any{"type": "birthday"}}}), "/criteria/0/type"},
		{"wrong parameter type", ruleDocument(map[string]any{
			"actions": []any{map[string]any{"type": "awardPoints", "points": "5"}}}), "/actions/0/points"},
		{"action not for the event type", ruleDocument(map[string]any{
			"actions": []any{map[string]any{"type": "pointsPerSpend", "pointsPerUnit": 1}}}), "/actions/0/type"},
		{"budget below 1", ruleDocument(map[string]any{
			"actions": []any{map[string]any{"type": "awardPoints", "points": 5, "budget": 0}}}),
			"/actions/0/budget"},
		{"every problem at once", map[string]any{"name": "", "eventType": "order", "colour": "red",
			"criteria": []any{map[string]any{"type": "total", "op": "gte", "value": "50"}},
			"actions": []any{
				map[string]any{"type": "awardPoints", "points": 5, "budget": "10"},
				map[string]any{"type": "awardPoints", "points": 5.5, "budget": 10},
			}}, "/actions/0/budget /actions/1/points /colour /criteria/0/value /name"},
		{"status on creation", ruleDocument(map[string]any{"status": "Archived"}), "/status"},
		{"not an object", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any = c.doc
			if c.doc == nil {
				body = "[1]"
			}
			a := h.must(400, "POST", "/rules", body)
			if a.body["code"] != "invalid_request" || params(a) != c.want {
				t.Fatalf("errors at %q, want %q: %s", params(a), c.want, a.raw)
			}
		})
	}
	// A budget is a cap like the others.
	h.must(201, "POST", "/rules", ruleDocument(map[string]any{
		"actions": []any{map[string]any{"type": "awardPoints", "points": 5, "budget": 1000}}}))
}

// TestAdminRuleZone checks that bare dates are read in the tenant's zone:
// validTo 03:00 UTC is after the start of 2 March in UTC, but before it in
// New York (05:00 UTC).
func TestAdminRuleZone(t *testing.T) {
	h := newAdminHarness(t)
	doc := ruleDocument(map[string]any{"validFrom": "2026-03-02", "validTo": "2026-03-02T03:00:00Z"})
	h.must(201, "POST", "/rules", doc)
	h.must(200, "PATCH", "/tenant", map[string]any{"timeZone": "America/New_York"})
	if a := h.must(400, "POST", "/rules", doc); params(a) != "/validTo" {
		t.Fatalf("errors: %s", a.raw)
	}
}

func TestAdminRuleReferences(t *testing.T) {
	h := newAdminHarness(t)
	missing := "0d4e2b6a-4bb3-4b65-9c3e-7d5a0c1f2e3d"
	segment := func(id, status string) map[string]any {
		return ruleDocument(map[string]any{"status": status, "criteria": []any{
			map[string]any{"type": "inSegment", "segmentId": id}}})
	}

	// 422 names every missing object, levels included while no Active
	// economy defines them.
	a := h.must(422, "POST", "/rules", ruleDocument(map[string]any{
		"criteria": []any{
			map[string]any{"type": "inSegment", "segmentId": missing},
			map[string]any{"type": "level", "levelId": "gold"},
		},
		"actions": []any{
			map[string]any{"type": "callWebhook", "webhookId": missing},
			map[string]any{"type": "createTrigger", "triggerId": missing},
		}}))
	want := "/actions/0/webhookId /actions/1/triggerId /criteria/0/segmentId /criteria/1/levelId"
	if a.body["code"] != "unprocessable" || params(a) != want {
		t.Fatalf("errors at %q, want %q: %s", params(a), want, a.raw)
	}
	eco := economyBodyDoc("Levels")
	eco["levels"] = []any{map[string]any{"id": "gold", "name": "Gold", "spendThreshold": 100}}
	eco["status"] = "Active"
	h.must(201, "POST", "/economies", eco)
	h.must(201, "POST", "/rules", ruleDocument(map[string]any{"criteria": []any{
		map[string]any{"type": "level", "levelId": "gold"}}}))

	// A segment that is not Active blocks activation, by create or by
	// status change, with a 409 naming it.
	seg := h.must(201, "POST", "/segments", map[string]any{"name": "VIP"}).body["id"].(string)
	blocked := h.must(409, "POST", "/rules", segment(seg, "Active"))
	if msg, _ := blocked.body["message"].(string); blocked.body["code"] != "illegal_transition" ||
		!strings.Contains(msg, seg+" (Configure)") || blocked.body["detail"] != seg ||
		params(blocked) != "/criteria/0/segmentId" {
		t.Fatalf("create as Active: %s", blocked.raw)
	}
	rule := h.must(201, "POST", "/rules", segment(seg, "Configure")).body["id"].(string)
	if a := h.must(409, "DELETE", "/segments/"+seg, nil); a.body["code"] != "in_use" {
		t.Fatalf("delete a segment a rule names: %s", a.raw)
	}
	h.must(200, "POST", "/segments/"+seg+"/status", map[string]any{"status": "Test"})
	h.must(409, "POST", "/rules/"+rule+"/status", map[string]any{"status": "Active"})
	h.must(200, "POST", "/segments/"+seg+"/status", map[string]any{"status": "Active"})
	h.must(200, "POST", "/rules/"+rule+"/status", map[string]any{"status": "Active"})
}
