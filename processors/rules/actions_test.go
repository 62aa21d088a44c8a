package rules

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/tallymarks/tallymarks/schemas"
)

// noPoints marks a case whose trace carries no points.
const noPoints = -1

// actionCases cover every action of SPEC section 3's table with a case
// that runs and one that does not; TestActionsCovered checks that none is
// missing. nomatch cases use a rule whose criterion fails.
var actionCases = append([]actionCase{
	{name: "awardPoints", et: schemas.TypeAction, act: `{"type":"awardPoints","points":5}`,
		result: ResultRan, points: 5, check: wantAward(5)},
	{name: "awardPoints on a refund", et: schemas.TypeOrder, act: `{"type":"awardPoints","points":5}`,
		setup:  func(s *Subject, _ *fakeCustomer) { s.Event.NameSpace = "Refund.Order" },
		result: ResultSkipped, reason: ReasonRefundEvent, points: noPoints, check: wantAward()},
	{name: "awardPoints rule does not match", et: schemas.TypeAction, act: `{"type":"awardPoints","points":5}`,
		nomatch: true, check: wantAward()},

	{name: "pointsPerSpend total rounds down", et: schemas.TypeOrder,
		act: `{"type":"pointsPerSpend","pointsPerUnit":1}`, result: ResultRan, points: 120, check: wantAward(120)},
	{name: "pointsPerSpend paymentAmount", et: schemas.TypeOrder,
		act:    `{"type":"pointsPerSpend","pointsPerUnit":0.5,"of":"paymentAmount"}`,
		result: ResultRan, points: 50},
	{name: "pointsPerSpend itemsTotal", et: schemas.TypeOrder,
		act:    `{"type":"pointsPerSpend","pointsPerUnit":2,"of":"itemsTotal"}`,
		result: ResultRan, points: 241},
	{name: "pointsPerSpend totalExTaxAndShipping", et: schemas.TypeOrder,
		act:    `{"type":"pointsPerSpend","pointsPerUnit":1,"of":"totalExTaxAndShipping","rounding":"up"}`,
		result: ResultRan, points: 106},
	{name: "pointsPerSpend transaction", et: schemas.TypeTransaction,
		act: `{"type":"pointsPerSpend","pointsPerUnit":0.25}`, result: ResultRan, points: 20},
	{name: "pointsPerSpend basket is potential points", et: schemas.TypeBasket,
		act: `{"type":"pointsPerSpend","pointsPerUnit":1,"rounding":"nearest"}`, result: ResultRan, points: 121,
		check: func(t *testing.T, a *Assessment) {
			if a.Points() != 121 {
				t.Fatalf("potential points %d, want 121", a.Points())
			}
		}},
	{name: "pointsPerSpend without the amount", et: schemas.TypeOrder,
		act:    `{"type":"pointsPerSpend","pointsPerUnit":1,"of":"paymentAmount"}`,
		setup:  func(s *Subject, _ *fakeCustomer) { s.Event.Order.PaymentAmount = nil },
		result: ResultSkipped, reason: ReasonNoAmount, points: noPoints, check: wantAward()},
	{name: "pointsPerSpend rounding to zero", et: schemas.TypeOrder,
		act:    `{"type":"pointsPerSpend","pointsPerUnit":0.001}`,
		result: ResultSkipped, reason: ReasonZeroPoints, points: noPoints, check: wantAward()},

	{name: "multiplyBasePoints doubles", et: schemas.TypeOrder, act: `{"type":"multiplyBasePoints","factor":2}`,
		setup:  func(s *Subject, _ *fakeCustomer) { s.BasePoints = 120 },
		result: ResultRan, points: 120, check: wantAward(120)},
	{name: "multiplyBasePoints rounds down", et: schemas.TypeTransaction,
		act:    `{"type":"multiplyBasePoints","factor":1.5}`,
		setup:  func(s *Subject, _ *fakeCustomer) { s.BasePoints = 3 },
		result: ResultRan, points: 1},
	{name: "multiplyBasePoints without base points", et: schemas.TypeOrder,
		act:    `{"type":"multiplyBasePoints","factor":2}`,
		result: ResultSkipped, reason: ReasonNoBasePoints, points: noPoints, check: wantAward()},

	{name: "addToSegment", et: schemas.TypeAction, act: `{"type":"addToSegment","segmentId":"new"}`,
		result: ResultRan, points: noPoints, check: wantSegments(SegmentChange{SegmentID: "new"})},
	{name: "addToSegment of a segment not Active", et: schemas.TypeAction,
		act: `{"type":"addToSegment","segmentId":"new"}`,
		setup: func(s *Subject, _ *fakeCustomer) {
			s.SegmentActive = func(id string) bool { return id != "new" }
		},
		result: ResultSkipped, reason: ReasonSegmentNotActive, points: noPoints, check: wantSegments()},
	{name: "addToSegment of a segment not Active in a dry run", et: schemas.TypeAction,
		act: `{"type":"addToSegment","segmentId":"new"}`,
		setup: func(s *Subject, _ *fakeCustomer) {
			s.DryRun, s.SegmentActive = true, func(string) bool { return false }
		},
		result: ResultRan, points: noPoints, check: wantSegments(SegmentChange{SegmentID: "new"})},

	{name: "removeFromSegment", et: schemas.TypePoints, act: `{"type":"removeFromSegment","segmentId":"vip"}`,
		result: ResultRan, points: noPoints, check: wantSegments(SegmentChange{SegmentID: "vip", Remove: true})},
	{name: "removeFromSegment not a member", et: schemas.TypePoints,
		act:    `{"type":"removeFromSegment","segmentId":"new"}`,
		result: ResultSkipped, reason: ReasonNotMember, points: noPoints, check: wantSegments()},

	{name: "callWebhook", et: schemas.TypeOrder, act: `{"type":"callWebhook","webhookId":"wh"}`,
		result: ResultPending, points: noPoints,
		check: wantDeliveries(Delivery{Channel: ChannelWebhook, WebhookID: "wh"})},
	{name: "callWebhook on a refund still runs", et: schemas.TypeOrder,
		act:    `{"type":"callWebhook","webhookId":"wh"}`,
		setup:  func(s *Subject, _ *fakeCustomer) { s.Event.NameSpace = "Return.Order" },
		result: ResultPending, points: noPoints,
		check: wantDeliveries(Delivery{Channel: ChannelWebhook, WebhookID: "wh"})},
	{name: "callWebhook rule does not match", et: schemas.TypeBasket,
		act: `{"type":"callWebhook","webhookId":"wh"}`, nomatch: true, check: wantDeliveries()},

	{name: "sendEmail", et: schemas.TypeAction,
		act:    `{"type":"sendEmail","subjectTemplate":"Hi {{customer.firstName}}","bodyTemplate":"b"}`,
		result: ResultPending, points: noPoints,
		check: wantDeliveries(Delivery{Channel: ChannelEmail,
			SubjectTemplate: "Hi {{customer.firstName}}", BodyTemplate: "b"})},
	{name: "sendEmail without opt-in", et: schemas.TypeAction,
		act:    `{"type":"sendEmail","subjectTemplate":"s","bodyTemplate":"b"}`,
		setup:  func(_ *Subject, c *fakeCustomer) { c.contact.OptinEmail = false },
		result: ResultSkipped, reason: ReasonNoOptin, points: noPoints, check: wantDeliveries()},
	{name: "sendEmail to an invalid address", et: schemas.TypeAction,
		act:    `{"type":"sendEmail","subjectTemplate":"s","bodyTemplate":"b"}`,
		setup:  func(_ *Subject, c *fakeCustomer) { c.contact.EmailAddress = "Jane <jane@example.com>" },
		result: ResultSkipped, reason: ReasonInvalidEmail, points: noPoints, check: wantDeliveries()},

	{name: "sendSms", et: schemas.TypeAction, act: `{"type":"sendSms","bodyTemplate":"b"}`,
		result: ResultPending, points: noPoints,
		check: wantDeliveries(Delivery{Channel: ChannelSMS, BodyTemplate: "b"})},
	{name: "sendSms without opt-in", et: schemas.TypeAction, act: `{"type":"sendSms","bodyTemplate":"b"}`,
		setup:  func(_ *Subject, c *fakeCustomer) { c.contact.OptinSMS = false },
		result: ResultSkipped, reason: ReasonNoOptin, points: noPoints, check: wantDeliveries()},
	{name: "sendSms to a number that is not E.164", et: schemas.TypeAction,
		act:    `{"type":"sendSms","bodyTemplate":"b"}`,
		setup:  func(_ *Subject, c *fakeCustomer) { c.contact.MobileNumber = "07700 900123" },
		result: ResultSkipped, reason: ReasonInvalidPhone, points: noPoints, check: wantDeliveries()},

	{name: "createTrigger", et: schemas.TypeAnniversary, act: `{"type":"createTrigger","triggerId":"tr"}`,
		result: ResultRan, points: noPoints, check: func(t *testing.T, a *Assessment) {
			want := []Schedule{{RuleID: "r", RuleVersion: 1, ActionIndex: 0, TriggerID: "tr"}}
			if !reflect.DeepEqual(a.Schedules, want) {
				t.Fatalf("schedules %+v, want %+v", a.Schedules, want)
			}
		}},
	{name: "createTrigger rule does not match", et: schemas.TypeAnniversary,
		act: `{"type":"createTrigger","triggerId":"tr"}`, nomatch: true,
		check: func(t *testing.T, a *Assessment) {
			if len(a.Schedules) != 0 {
				t.Fatalf("schedules %+v", a.Schedules)
			}
		}},
}, basketOutcomeCases()...)

type actionCase struct {
	name    string
	et      schemas.EventType
	act     string
	setup   func(*Subject, *fakeCustomer)
	nomatch bool
	result  string
	reason  string
	points  int64
	check   func(*testing.T, *Assessment)
}

// basketOutcomeCases runs every basket outcome, and does not when its
// rule does not match.
func basketOutcomeCases() []actionCase {
	var out []actionCase
	for _, o := range []struct{ typ, params, want string }{
		{"basketDiscountPercent", `"value":12.5`, `"value":12.5`},
		{"basketDiscountAmount", `"value":5`, `"value":5`},
		{"deliveryDiscountPercent", `"value":100`, `"value":100`},
		{"deliveryDiscountAmount", `"value":4.99`, `"value":4.99`},
		{"productDiscountPercent", `"sku":"A","value":10`, `"value":10,"sku":"A"`},
		{"productDiscountAmount", `"sku":"A","value":1`, `"value":1,"sku":"A"`},
		{"voucherCode", `"code":"SPRING10"`, `"code":"SPRING10"`},
		{"message", `"text":"Free gift over 100"`, `"text":"Free gift over 100"`},
	} {
		act := `{"type":"` + o.typ + `",` + o.params + `}`
		want := `[{"ruleId":"r","ruleVersion":1,"type":"` + o.typ + `",` + o.want + `}]`
		out = append(out,
			actionCase{name: o.typ, et: schemas.TypeBasket, act: act, result: ResultRan, points: noPoints,
				check: wantOutcomes(want)},
			actionCase{name: o.typ + " rule does not match", et: schemas.TypeBasket, act: act, nomatch: true,
				check: wantOutcomes("null")})
	}
	return out
}

func TestActions(t *testing.T) {
	for _, tc := range actionCases {
		t.Run(tc.name, func(t *testing.T) {
			crit := `{"type":"everyEvent"}`
			if tc.nomatch {
				crit = `{"type":"nameSpace","op":"equals","value":"nothing"}`
			}
			r := activeRule(t, "r", tc.et, crit, tc.act)
			cust := newCustomer()
			s := Subject{Event: eventOf(tc.et), Customer: cust}
			if tc.setup != nil {
				tc.setup(&s, cust)
			}
			got := Assess([]*Rule{r}, s)
			rt := got.Trace.Rules[0]

			if tc.nomatch {
				if rt.Matched || len(rt.Actions) != 0 {
					t.Fatalf("rule matched or acted: %+v", rt)
				}
			} else {
				at := rt.Actions[0]
				if at.Result != tc.result || at.Reason != tc.reason {
					t.Fatalf("result %s/%s, want %s/%s", at.Result, at.Reason, tc.result, tc.reason)
				}
				switch {
				case tc.points == noPoints && at.Points != nil:
					t.Fatalf("points %d, want none", *at.Points)
				case tc.points != noPoints && (at.Points == nil || *at.Points != tc.points):
					t.Fatalf("points %v, want %d", at.Points, tc.points)
				}
			}
			if tc.check != nil {
				tc.check(t, &got)
			}
		})
	}
}

func TestActionsCovered(t *testing.T) {
	ran, notRun := map[string]bool{}, map[string]bool{}
	for _, tc := range actionCases {
		r := mustRule(t, `{"name":"x","eventType":"`+string(tc.et)+`","criteria":[{"type":"everyEvent"}],`+
			`"actions":[`+tc.act+`]}`)
		typ := r.Actions[0].Type
		if tc.nomatch || tc.result == ResultSkipped {
			notRun[typ] = true
		} else {
			ran[typ] = true
		}
	}
	for _, typ := range ActionTypes() {
		if !ran[typ] || !notRun[typ] {
			t.Errorf("action %s: a case that runs %v, one that does not %v", typ, ran[typ], notRun[typ])
		}
	}
}

func wantAward(points ...int64) func(*testing.T, *Assessment) {
	return func(t *testing.T, a *Assessment) {
		t.Helper()
		var got []int64
		for _, aw := range a.Awards {
			if aw.RuleID != "r" || aw.RuleVersion != 1 || aw.Points <= 0 {
				t.Fatalf("award %+v", aw)
			}
			got = append(got, aw.Points)
		}
		if !reflect.DeepEqual(got, points) && len(got)+len(points) > 0 {
			t.Fatalf("awards %v, want %v", got, points)
		}
	}
}

func wantSegments(want ...SegmentChange) func(*testing.T, *Assessment) {
	for i := range want {
		want[i].RuleID, want[i].RuleVersion = "r", 1
	}
	return func(t *testing.T, a *Assessment) {
		t.Helper()
		if !reflect.DeepEqual(a.Segments, want) && len(a.Segments)+len(want) > 0 {
			t.Fatalf("segment changes %+v, want %+v", a.Segments, want)
		}
	}
}

func wantDeliveries(want ...Delivery) func(*testing.T, *Assessment) {
	for i := range want {
		want[i].RuleID, want[i].RuleVersion = "r", 1
	}
	return func(t *testing.T, a *Assessment) {
		t.Helper()
		if !reflect.DeepEqual(a.Deliveries, want) && len(a.Deliveries)+len(want) > 0 {
			t.Fatalf("deliveries %+v, want %+v", a.Deliveries, want)
		}
	}
}

func wantOutcomes(want string) func(*testing.T, *Assessment) {
	return func(t *testing.T, a *Assessment) {
		t.Helper()
		got, err := json.Marshal(a.Outcomes)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Fatalf("outcomes %s, want %s", got, want)
		}
	}
}
