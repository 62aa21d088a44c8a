package rules

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// body builds a rule body from its parts; empty parts take valid values.
func body(et, criteria, actions, extra string) string {
	if et == "" {
		et = "order"
	}
	if criteria == "" {
		criteria = `{"type":"everyEvent"}`
	}
	if actions == "" {
		actions = `{"type":"awardPoints","points":5}`
	}
	return `{"name":"Bonus","eventType":"` + et + `","criteria":[` + criteria + `],"actions":[` + actions + `]` +
		extra + `}`
}

func TestDecodeRuleErrors(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		params []string // the JSON pointers of the errors, in order
	}{
		{name: "unknown criterion type", body: body("", `{"type":"everyEvent"},{"type":"birthday"}`, "", ""),
			params: []string{"/criteria/1/type"}},
		{name: "unknown action type", body: body("", "", `{"type":"awardPoint","points":5}`, ""),
			params: []string{"/actions/0/type"}},
		{name: "wrong parameter type", body: body("", `{"type":"nameSpace","op":"equals","value":5}`, "", ""),
			params: []string{"/criteria/0/value"}},
		{name: "points must be an integer", body: body("", "", `{"type":"awardPoints","points":5.5}`, ""),
			params: []string{"/actions/0/points"}},
		{name: "points must be at least 1", body: body("", "", `{"type":"awardPoints","points":0}`, ""),
			params: []string{"/actions/0/points"}},
		{name: "points as a string", body: body("", "", `{"type":"awardPoints","points":"5"}`, ""),
			params: []string{"/actions/0/points"}},
		{name: "missing parameter", body: body("", "", `{"type":"awardPoints"}`, ""),
			params: []string{"/actions/0/points"}},
		{name: "unknown parameter", body: body("", "", `{"type":"awardPoints","points":5,"bonus":1}`, ""),
			params: []string{"/actions/0/bonus"}},
		{name: "parameter names are case-sensitive", body: body("", "", `{"type":"awardPoints","Points":5}`, ""),
			params: []string{"/actions/0/Points", "/actions/0/points"}},
		{name: "rate with 5 fractional digits",
			body:   body("", "", `{"type":"pointsPerSpend","pointsPerUnit":0.00001}`, ""),
			params: []string{"/actions/0/pointsPerUnit"}},
		{name: "rate as a string", body: body("", "", `{"type":"pointsPerSpend","pointsPerUnit":"1"}`, ""),
			params: []string{"/actions/0/pointsPerUnit"}},
		{name: "factor must be above 1", body: body("", "", `{"type":"multiplyBasePoints","factor":1}`, ""),
			params: []string{"/actions/0/factor"}},
		{name: "rounding unknown",
			body:   body("", "", `{"type":"pointsPerSpend","pointsPerUnit":1,"rounding":"half"}`, ""),
			params: []string{"/actions/0/rounding"}},
		{name: "action not allowed for the event type",
			body:   body("action", "", `{"type":"awardPoints","points":1},{"type":"pointsPerSpend","pointsPerUnit":1}`, ""),
			params: []string{"/actions/1/type"}},
		{name: "multiplyBasePoints not for baskets",
			body:   body("basket", "", `{"type":"multiplyBasePoints","factor":2}`, ""),
			params: []string{"/actions/0/type"}},
		{name: "basket rules may not change state",
			body: body("basket", "", `{"type":"addToSegment","segmentId":"s"},{"type":"sendEmail",`+
				`"subjectTemplate":"s","bodyTemplate":"b"},{"type":"createTrigger","triggerId":"t"}`, ""),
			params: []string{"/actions/0/type", "/actions/1/type", "/actions/2/type"}},
		{name: "basket outcomes only for baskets", body: body("order", "", `{"type":"voucherCode","code":"X"}`, ""),
			params: []string{"/actions/0/type"}},
		{name: "counting criteria not for baskets", body: body("basket", `{"type":"nthEvent","n":1}`, "", ""),
			params: []string{"/criteria/0/type"}},
		{name: "order criteria not for actions", body: body("action", `{"type":"skuIn","skus":["A"]}`, "", ""),
			params: []string{"/criteria/0/type"}},
		{name: "points criteria only for points", body: body("order", `{"type":"balance","op":"gt","value":1}`, "", ""),
			params: []string{"/criteria/0/type"}},
		{name: "transactions spend only total",
			body:   body("transaction", "", `{"type":"pointsPerSpend","pointsPerUnit":1,"of":"itemsTotal"}`, ""),
			params: []string{"/actions/0/of"}},
		{name: "unknown event type", body: body("error", "", "", ""), params: []string{"/eventType"}},
		{name: "validTo before validFrom",
			body: body("", "", "", `,"validFrom":"2026-03-02","validTo":"2026-03-01"`), params: []string{"/validTo"}},
		{name: "validTo equal to validFrom",
			body:   body("", "", "", `,"validFrom":"2026-03-02T00:00:00Z","validTo":"2026-03-02T00:00:00Z"`),
			params: []string{"/validTo"}},
		{name: "bad date", body: body("", "", "", `,"validFrom":"2026-02-30"`), params: []string{"/validFrom"}},
		{name: "instant without offset", body: body("", "", "", `,"validFrom":"2026-02-01T00:00:00"`),
			params: []string{"/validFrom"}},
		{name: "cap period n other than 1",
			body: body("", "", `{"type":"awardPoints","points":5,"maxPerCustomerPerPeriod":`+
				`{"points":10,"period":{"n":2,"unit":"week"}}}`, ""),
			params: []string{"/actions/0/maxPerCustomerPerPeriod/period/n"}},
		{name: "cap period unit and points",
			body: body("", "", `{"type":"awardPoints","points":5,"maxPerCustomerPerPeriod":`+
				`{"points":0,"period":{"n":1,"unit":"fortnight"}}}`, ""),
			params: []string{"/actions/0/maxPerCustomerPerPeriod/points",
				"/actions/0/maxPerCustomerPerPeriod/period/unit"}},
		{name: "caps only on points actions",
			body:   body("", "", `{"type":"callWebhook","webhookId":"w","maxPerEvent":1}`, ""),
			params: []string{"/actions/0/maxPerEvent"}},
		{name: "maxPerEvent and budget at least 1",
			body:   body("", "", `{"type":"awardPoints","points":5,"maxPerEvent":0,"budget":-1}`, ""),
			params: []string{"/actions/0/maxPerEvent", "/actions/0/budget"}},
		{name: "xOverT period over 12 months",
			body:   body("", `{"type":"xOverT","x":2,"period":{"n":13,"unit":"month"}}`, "", ""),
			params: []string{"/criteria/0/period/n"}},
		{name: "attribute equals needs a value",
			body:   body("", `{"type":"attribute","key":"k","op":"equals"}`, "", ""),
			params: []string{"/criteria/0/value"}},
		{name: "attribute exists takes no value",
			body:   body("", `{"type":"attribute","key":"k","op":"exists","value":"v"}`, "", ""),
			params: []string{"/criteria/0/value"}},
		{name: "empty list", body: body("", `{"type":"skuIn","skus":[]}`, "", ""),
			params: []string{"/criteria/0/skus"}},
		{name: "list entry of the wrong type", body: body("", `{"type":"skuIn","skus":["A",1]}`, "", ""),
			params: []string{"/criteria/0/skus/1"}},
		{name: "percent above 100", body: body("basket", "", `{"type":"basketDiscountPercent","value":101}`, ""),
			params: []string{"/actions/0/value"}},
		{name: "no criteria, no actions",
			body:   `{"name":"x","eventType":"order","criteria":[],"actions":null}`,
			params: []string{"/criteria", "/actions"}},
		{name: "every problem at once",
			body: `{"name":"","eventType":"order","status":"Live","priority":1.5,"exclusive":"yes",` +
				`"colour":"red","criteria":[{"type":"total","op":"over","value":"100"}],` +
				`"actions":[{"points":5}]}`,
			params: []string{"/colour", "/name", "/status", "/priority", "/exclusive",
				"/criteria/0/op", "/criteria/0/value", "/actions/0/type"}},
		{name: "duplicate field", body: `{"name":"a","name":"b","eventType":"order",` +
			`"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":1}]}`,
			params: []string{"/name"}},
		{name: "pointer escaping", body: body("", "", "", `,"a/b~c":1`), params: []string{"/a~1b~0c"}},
		{name: "malformed JSON", body: `{"name":`, params: []string{""}},
		{name: "trailing data", body: body("", "", "", "") + `{}`, params: []string{""}},
		{name: "not an object", body: `[]`, params: []string{""}},
		{name: "too deep", body: strings.Repeat("[", 100) + strings.Repeat("]", 100), params: []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, errs := DecodeRule([]byte(tc.body), nil)
			var got []string
			for _, e := range errs {
				got = append(got, e.Param)
				if e.Message == "" {
					t.Errorf("error at %q has no message", e.Param)
				}
			}
			if !reflect.DeepEqual(got, tc.params) {
				t.Fatalf("errors at %q, want %q\n%+v", got, tc.params, errs)
			}
			if r != nil {
				t.Fatal("a rule came back with errors")
			}
		})
	}
}

func TestDecodeRuleMessages(t *testing.T) {
	_, errs := DecodeRule([]byte(body("action", "", `{"type":"pointsPerSpend","pointsPerUnit":1}`, "")), nil)
	want := "action pointsPerSpend is not available for action rules; it applies to order, transaction, basket"
	if len(errs) != 1 || errs[0].Message != want || errs[0].Value != "pointsPerSpend" {
		t.Fatalf("errors %+v", errs)
	}
	_, errs = DecodeRule([]byte(body("", `{"type":"birthday"}`, "", "")), nil)
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Message, "unknown criterion type; expected one of attribute,") {
		t.Fatalf("errors %+v", errs)
	}
	_, errs = DecodeRule([]byte(body("", "", `{"type":"awardPoints","points":1.5}`, "")), nil)
	if len(errs) != 1 || errs[0].Value != json.Number("1.5") {
		t.Fatalf("errors %+v", errs)
	}
}

// TestDecodeRuleRoundTrip decodes a rule using every parameter kind,
// marshals it and decodes it again: the same rule, defaults filled in.
func TestDecodeRuleRoundTrip(t *testing.T) {
	in := `{"id":"r1","name":"Spring","description":"d","eventType":"order","status":"Test",` +
		`"validFrom":"2026-03-01","validTo":"2026-06-01T00:00:00+02:00","priority":-3,"exclusive":true,` +
		`"version":4,"createdAt":"2026-02-01T10:00:00Z","criteria":[` +
		`{"type":"nameSpace","op":"beginsWith","value":"Order."},` +
		`{"type":"total","op":"gte","value":99.95},` +
		`{"type":"xOverT","x":2,"period":{"n":30,"unit":"day"}},` +
		`{"type":"xSinceT","x":2,"since":"2026-01-01"},` +
		`{"type":"skuIn","skus":["A","B"]},` +
		`{"type":"attribute","key":"k","op":"exists"},` +
		`{"type":"inSegment","segmentId":"seg1"},{"type":"level","levelId":"gold"}],"actions":[` +
		`{"type":"pointsPerSpend","pointsPerUnit":1.25,"maxPerEvent":100,` +
		`"maxPerCustomerPerPeriod":{"points":500,"period":{"n":1,"unit":"month"}},"budget":100000},` +
		`{"type":"callWebhook","webhookId":"wh1"},{"type":"createTrigger","triggerId":"tr1"},` +
		`{"type":"removeFromSegment","segmentId":"seg2"}]}`
	r := mustRule(t, in)
	if r.Actions[0].Of != OfTotal || r.Actions[0].Rounding != RoundDown {
		t.Fatalf("defaults not filled: %+v", r.Actions[0])
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"r1","name":"Spring","description":"d","eventType":"order","criteria":[` +
		`{"type":"nameSpace","op":"beginsWith","value":"Order."},{"type":"total","op":"gte","value":99.95},` +
		`{"type":"xOverT","x":2,"period":{"n":30,"unit":"day"}},{"type":"xSinceT","x":2,"since":"2026-01-01"},` +
		`{"type":"skuIn","skus":["A","B"]},{"type":"attribute","key":"k","op":"exists"},` +
		`{"type":"inSegment","segmentId":"seg1"},{"type":"level","levelId":"gold"}],"actions":[` +
		`{"type":"pointsPerSpend","pointsPerUnit":1.25,"of":"total","rounding":"down","maxPerEvent":100,` +
		`"maxPerCustomerPerPeriod":{"points":500,"period":{"n":1,"unit":"month"}},"budget":100000},` +
		`{"type":"callWebhook","webhookId":"wh1"},{"type":"createTrigger","triggerId":"tr1"},` +
		`{"type":"removeFromSegment","segmentId":"seg2"}],"status":"Test","validFrom":"2026-03-01",` +
		`"validTo":"2026-06-01T00:00:00+02:00","priority":-3,"exclusive":true,"version":4,` +
		`"createdAt":"2026-02-01T10:00:00Z"}`
	if string(out) != want {
		t.Fatalf("marshalled\n%s\nwant\n%s", out, want)
	}
	var again Rule
	if err := json.Unmarshal(out, &again); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&again, r) {
		t.Fatalf("round trip changed the rule:\n%+v\n%+v", again, *r)
	}

	refs := r.References()
	wantRefs := []Reference{
		{RefSegment, "seg1", "/criteria/6/segmentId"}, {RefLevel, "gold", "/criteria/7/levelId"},
		{RefWebhook, "wh1", "/actions/1/webhookId"}, {RefTrigger, "tr1", "/actions/2/triggerId"},
		{RefSegment, "seg2", "/actions/3/segmentId"},
	}
	if !reflect.DeepEqual(refs, wantRefs) {
		t.Fatalf("references %+v", refs)
	}
}

func TestDecodeRuleBoundsInZone(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	// Tokyo's 1 March starts at 28 February 15:00Z, so a validTo of
	// 28 February 20:00Z leaves a window there but not in UTC.
	b := []byte(body("", "", "", `,"validFrom":"2026-03-01","validTo":"2026-02-28T20:00:00Z"`))
	if _, errs := DecodeRule(b, tokyo); errs != nil {
		t.Fatalf("Tokyo: %+v", errs)
	}
	if _, errs := DecodeRule(b, nil); len(errs) != 1 || errs[0].Param != "/validTo" {
		t.Fatalf("UTC: %+v", errs)
	}
}

func TestFromRecord(t *testing.T) {
	active := StatusActive
	rec := &schemas.ConfigRecord{
		TenantID: "t", Kind: "rule", ID: "r9", Version: 7, Status: &active,
		CreatedAt: t0, ChangedAt: t0.Add(time.Hour),
		Body: body("", "", "", `,"id":"other","version":1`),
	}
	r, err := FromRecord(rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "r9" || r.Version != 7 || r.Status != StatusActive || !r.CreatedAt.Equal(t0) {
		t.Fatalf("record fields not applied: %+v", r)
	}

	rec.Body = `{"name":1}`
	_, err = FromRecord(rec, nil)
	var invalid *InvalidRuleError
	if !errors.As(err, &invalid) || invalid.RuleID != "r9" || len(invalid.Errors) != 4 {
		t.Fatalf("error %v", err)
	}
}

func TestAllowedTables(t *testing.T) {
	tests := []struct {
		typ   string
		et    schemas.EventType
		crit  bool
		allow bool
	}{
		{"nthEvent", schemas.TypeBasket, true, false},
		{"lifetimeThreshold", schemas.TypeBasket, true, false},
		{"lifetimeValue", schemas.TypeBasket, true, true},
		{"inSegment", schemas.TypeBasket, true, true},
		{"skuIn", schemas.TypeBasket, true, true},
		{"yearsSinceJoining", schemas.TypeOrder, true, false},
		{"level", schemas.TypeAnniversary, true, true},
		{"pointsPerSpend", schemas.TypeBasket, false, true},
		{"multiplyBasePoints", schemas.TypeTransaction, false, true},
		{"multiplyBasePoints", schemas.TypeBasket, false, false},
		{"callWebhook", schemas.TypeBasket, false, true},
		{"sendSms", schemas.TypeBasket, false, false},
		{"message", schemas.TypeOrder, false, false},
		{"awardPoints", schemas.TypeError, false, false},
	}
	for _, tc := range tests {
		got := ActionAllowed(tc.typ, tc.et)
		if tc.crit {
			got = CriterionAllowed(tc.typ, tc.et)
		}
		if got != tc.allow {
			t.Errorf("%s for %s: %v, want %v", tc.typ, tc.et, got, tc.allow)
		}
	}
}
