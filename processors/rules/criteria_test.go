package rules

import (
	"testing"

	"github.com/tallymarks/tallymarks/schemas"
)

// TestCriteria covers every criterion of SPEC section 3 with a case that
// holds and one that does not; TestCriteriaCovered checks that none is
// missing.
var criterionCases = []struct {
	name string
	et   schemas.EventType
	crit string
	ev   func(*schemas.Event)
	cust func(*fakeCustomer)
	want bool
}{
	// Shared criteria.
	{name: "everyEvent", et: schemas.TypeAction, crit: `{"type":"everyEvent"}`, want: true},
	{name: "nameSpace equals", et: schemas.TypeOrder,
		crit: `{"type":"nameSpace","op":"equals","value":"Order.Web"}`, want: true},
	{name: "nameSpace equals other", et: schemas.TypeOrder,
		crit: `{"type":"nameSpace","op":"equals","value":"Order.Shop"}`},
	{name: "nameSpace beginsWith", et: schemas.TypeOrder,
		crit: `{"type":"nameSpace","op":"beginsWith","value":"Order."}`, want: true},
	{name: "nameSpace beginsWith is case-sensitive", et: schemas.TypeOrder,
		crit: `{"type":"nameSpace","op":"beginsWith","value":"order."}`},
	{name: "reference", et: schemas.TypeOrder, crit: `{"type":"reference","value":"ORD-1"}`, want: true},
	{name: "reference other", et: schemas.TypeOrder, crit: `{"type":"reference","value":"ORD-2"}`},
	{name: "reference absent", et: schemas.TypeOrder, crit: `{"type":"reference","value":"ORD-1"}`,
		ev: func(e *schemas.Event) { e.Reference = nil }},
	{name: "campaign", et: schemas.TypeTransfer, crit: `{"type":"campaign","value":"spring"}`, want: true},
	{name: "campaign other", et: schemas.TypeTransfer, crit: `{"type":"campaign","value":"autumn"}`},
	{name: "inSegment", et: schemas.TypeAction, crit: `{"type":"inSegment","segmentId":"vip"}`, want: true},
	{name: "inSegment not a member", et: schemas.TypeAction, crit: `{"type":"inSegment","segmentId":"new"}`},
	{name: "notInSegment", et: schemas.TypeAction, crit: `{"type":"notInSegment","segmentId":"new"}`, want: true},
	{name: "notInSegment member", et: schemas.TypeAction, crit: `{"type":"notInSegment","segmentId":"vip"}`},
	{name: "nthEvent", et: schemas.TypeOrder, crit: `{"type":"nthEvent","n":5}`, want: true},
	{name: "nthEvent other n", et: schemas.TypeOrder, crit: `{"type":"nthEvent","n":4}`},
	{name: "nthEvent on a refund, which is not counted", et: schemas.TypeOrder,
		crit: `{"type":"nthEvent","n":5}`, ev: func(e *schemas.Event) { e.NameSpace = "Refund.Order" }},
	{name: "nthEvent on a system event", et: schemas.TypePoints, crit: `{"type":"nthEvent","n":2}`,
		ev: func(e *schemas.Event) { e.Origin = schemas.OriginSystem }},
	{name: "everyNthEvent", et: schemas.TypeOrder, crit: `{"type":"everyNthEvent","n":5}`, want: true},
	{name: "everyNthEvent other n", et: schemas.TypeOrder, crit: `{"type":"everyNthEvent","n":2}`},
	{name: "xOverT 7 days", et: schemas.TypeOrder,
		crit: `{"type":"xOverT","x":2,"period":{"n":7,"unit":"day"}}`, want: true},
	{name: "xOverT 7 days too few", et: schemas.TypeOrder,
		crit: `{"type":"xOverT","x":3,"period":{"n":7,"unit":"day"}}`},
	{name: "xOverT 2 months", et: schemas.TypeOrder,
		crit: `{"type":"xOverT","x":3,"period":{"n":2,"unit":"month"}}`, want: true},
	{name: "xOverT 1 month leaves out mid-January", et: schemas.TypeOrder,
		crit: `{"type":"xOverT","x":3,"period":{"n":1,"unit":"month"}}`},
	{name: "xOverT counts only this nameSpace", et: schemas.TypeOrder,
		crit: `{"type":"xOverT","x":4,"period":{"n":7,"unit":"day"}}`,
		ev:   func(e *schemas.Event) { e.NameSpace = "Order.Shop" }, want: true},
	{name: "xSinceT", et: schemas.TypeOrder, crit: `{"type":"xSinceT","x":3,"since":"2026-01-01"}`, want: true},
	{name: "xSinceT too few", et: schemas.TypeOrder, crit: `{"type":"xSinceT","x":3,"since":"2026-02-01"}`},
	{name: "xSinceT event before since", et: schemas.TypeOrder,
		crit: `{"type":"xSinceT","x":1,"since":"2026-03-02"}`},
	{name: "attribute equals", et: schemas.TypeOrder,
		crit: `{"type":"attribute","key":"channel","op":"equals","value":"web"}`, want: true},
	{name: "attribute equals other", et: schemas.TypeOrder,
		crit: `{"type":"attribute","key":"channel","op":"equals","value":"app"}`},
	{name: "attribute exists", et: schemas.TypeOrder,
		crit: `{"type":"attribute","key":"channel","op":"exists"}`, want: true},
	{name: "attribute exists missing", et: schemas.TypeOrder,
		crit: `{"type":"attribute","key":"store","op":"exists"}`},
	{name: "lifetimeValue", et: schemas.TypeOrder,
		crit: `{"type":"lifetimeValue","op":"gte","value":500}`, want: true},
	{name: "lifetimeValue gt equal", et: schemas.TypeOrder,
		crit: `{"type":"lifetimeValue","op":"gt","value":520.5}`},
	{name: "lifetimeValue of a basket reads orders", et: schemas.TypeBasket,
		crit: `{"type":"lifetimeValue","op":"eq","value":520.5}`, want: true},
	{name: "lifetimeValue of points is signed", et: schemas.TypePoints,
		crit: `{"type":"lifetimeValue","op":"lt","value":0}`, want: true},
	{name: "lifetimeThreshold crossed", et: schemas.TypeOrder,
		crit: `{"type":"lifetimeThreshold","value":500}`, want: true},
	{name: "lifetimeThreshold crossed before", et: schemas.TypeOrder,
		crit: `{"type":"lifetimeThreshold","value":300}`},
	{name: "lifetimeThreshold not reached", et: schemas.TypeOrder,
		crit: `{"type":"lifetimeThreshold","value":600}`},
	{name: "lifetimeThreshold after refund and re-purchase", et: schemas.TypeOrder,
		crit: `{"type":"lifetimeThreshold","value":500}`,
		cust: func(c *fakeCustomer) { c.peaks[schemas.TypeOrder] = dec("560") }},
	{name: "lifetimeSpend", et: schemas.TypeAction, crit: `{"type":"lifetimeSpend","op":"gte","value":600}`, want: true},
	{name: "lifetimeSpend lt", et: schemas.TypeAction, crit: `{"type":"lifetimeSpend","op":"lt","value":600}`},
	{name: "level", et: schemas.TypeRedemption, crit: `{"type":"level","levelId":"gold"}`, want: true},
	{name: "level other", et: schemas.TypeRedemption, crit: `{"type":"level","levelId":"silver"}`},
	{name: "level none", et: schemas.TypeRedemption, crit: `{"type":"level","levelId":"gold"}`,
		cust: func(c *fakeCustomer) { c.level = "" }},

	// Order and Basket.
	{name: "total order", et: schemas.TypeOrder, crit: `{"type":"total","op":"gte","value":100}`, want: true},
	{name: "total order lt", et: schemas.TypeOrder, crit: `{"type":"total","op":"lt","value":100}`},
	{name: "total basket", et: schemas.TypeBasket, crit: `{"type":"total","op":"eq","value":120.5}`, want: true},
	{name: "total transaction", et: schemas.TypeTransaction,
		crit: `{"type":"total","op":"eq","value":80}`, want: true},
	{name: "taxTotal", et: schemas.TypeOrder, crit: `{"type":"taxTotal","op":"eq","value":10}`, want: true},
	{name: "taxTotal gt", et: schemas.TypeOrder, crit: `{"type":"taxTotal","op":"gt","value":10}`},
	{name: "shippingTotal", et: schemas.TypeOrder,
		crit: `{"type":"shippingTotal","op":"lte","value":5}`, want: true},
	{name: "shippingTotal lt", et: schemas.TypeOrder, crit: `{"type":"shippingTotal","op":"lt","value":5}`},
	{name: "paymentAmount", et: schemas.TypeBasket,
		crit: `{"type":"paymentAmount","op":"eq","value":100}`, want: true},
	{name: "paymentAmount absent", et: schemas.TypeOrder,
		crit: `{"type":"paymentAmount","op":"lte","value":100}`,
		ev:   func(e *schemas.Event) { e.Order.PaymentAmount = nil }},
	{name: "skuIn", et: schemas.TypeOrder, crit: `{"type":"skuIn","skus":["Z","B"]}`, want: true},
	{name: "skuIn none", et: schemas.TypeOrder, crit: `{"type":"skuIn","skus":["Z"]}`},
	{name: "vendorIn", et: schemas.TypeOrder, crit: `{"type":"vendorIn","vendors":["V1"]}`, want: true},
	{name: "vendorIn none", et: schemas.TypeOrder, crit: `{"type":"vendorIn","vendors":["V2"]}`},
	{name: "categoryIn", et: schemas.TypeBasket, crit: `{"type":"categoryIn","categories":["C1"]}`, want: true},
	{name: "categoryIn none", et: schemas.TypeBasket, crit: `{"type":"categoryIn","categories":["c1"]}`},
	{name: "productTypeIn", et: schemas.TypeOrder,
		crit: `{"type":"productTypeIn","productTypes":["P1"]}`, want: true},
	{name: "productTypeIn none", et: schemas.TypeOrder, crit: `{"type":"productTypeIn","productTypes":["P2"]}`},
	{name: "productQuantity sums lines", et: schemas.TypeOrder,
		crit: `{"type":"productQuantity","sku":"A","op":"eq","value":3}`, want: true},
	{name: "productQuantity gt", et: schemas.TypeOrder,
		crit: `{"type":"productQuantity","sku":"A","op":"gt","value":3}`},
	{name: "productQuantity absent sku is 0", et: schemas.TypeOrder,
		crit: `{"type":"productQuantity","sku":"Q","op":"eq","value":0}`, want: true},
	{name: "payment scheme", et: schemas.TypeOrder,
		crit: `{"type":"payment","field":"scheme","value":"visa"}`, want: true},
	{name: "payment bank other", et: schemas.TypeOrder, crit: `{"type":"payment","field":"bank","value":"Other"}`},
	{name: "payment bin", et: schemas.TypeOrder,
		crit: `{"type":"payment","field":"bin","value":"411111"}`, want: true},
	{name: "payment transaction scheme", et: schemas.TypeTransaction,
		crit: `{"type":"payment","field":"scheme","value":"visa"}`, want: true},
	{name: "payment transaction bank absent", et: schemas.TypeTransaction,
		crit: `{"type":"payment","field":"bank","value":"Acme"}`},
	{name: "tagPresent", et: schemas.TypeOrder, crit: `{"type":"tagPresent","tag":"vip"}`, want: true},
	{name: "tagPresent missing", et: schemas.TypeOrder, crit: `{"type":"tagPresent","tag":"sale"}`},
	{name: "tagCount", et: schemas.TypeOrder, crit: `{"type":"tagCount","op":"eq","value":2}`, want: true},
	{name: "tagCount gt", et: schemas.TypeOrder, crit: `{"type":"tagCount","op":"gt","value":2}`},

	// Transaction and Points.
	{name: "quantity transaction", et: schemas.TypeTransaction,
		crit: `{"type":"quantity","op":"gte","value":3}`, want: true},
	{name: "quantity transaction gt", et: schemas.TypeTransaction, crit: `{"type":"quantity","op":"gt","value":3}`},
	{name: "quantity points", et: schemas.TypePoints, crit: `{"type":"quantity","op":"eq","value":50}`, want: true},
	{name: "previousBalance", et: schemas.TypePoints,
		crit: `{"type":"previousBalance","op":"eq","value":200}`, want: true},
	{name: "previousBalance gt", et: schemas.TypePoints, crit: `{"type":"previousBalance","op":"gt","value":200}`},
	{name: "balance", et: schemas.TypePoints, crit: `{"type":"balance","op":"eq","value":250}`, want: true},
	{name: "balance lt", et: schemas.TypePoints, crit: `{"type":"balance","op":"lt","value":250}`},
	{name: "lifetimeEarned", et: schemas.TypePoints,
		crit: `{"type":"lifetimeEarned","op":"gte","value":900}`, want: true},
	{name: "lifetimeEarned gt", et: schemas.TypePoints, crit: `{"type":"lifetimeEarned","op":"gt","value":900}`},

	// Anniversary.
	{name: "yearsSinceJoining", et: schemas.TypeAnniversary,
		crit: `{"type":"yearsSinceJoining","op":"eq","value":3}`, want: true},
	{name: "yearsSinceJoining gte", et: schemas.TypeAnniversary,
		crit: `{"type":"yearsSinceJoining","op":"gte","value":5}`},
}

func TestCriteria(t *testing.T) {
	for _, tc := range criterionCases {
		t.Run(tc.name, func(t *testing.T) {
			r := activeRule(t, "r", tc.et, tc.crit, `{"type":"awardPoints","points":1}`)
			ev, cust := eventOf(tc.et), newCustomer()
			if tc.ev != nil {
				tc.ev(ev)
			}
			if tc.cust != nil {
				tc.cust(cust)
			}
			got := Assess([]*Rule{r}, Subject{Event: ev, Customer: cust})
			if len(got.Trace.Rules) != 1 {
				t.Fatalf("trace has %d rules, want 1", len(got.Trace.Rules))
			}
			rt := got.Trace.Rules[0]
			ct := rt.Criteria[0]
			if ct.Held != tc.want || rt.Matched != tc.want {
				t.Fatalf("held %v, matched %v, want %v (%s)", ct.Held, rt.Matched, tc.want, ct.Detail)
			}
			if ct.Detail == "" || ct.Type == "" {
				t.Fatalf("criterion trace %+v lacks type or detail", ct)
			}
		})
	}
}

func TestCriteriaCovered(t *testing.T) {
	held, failed := map[string]bool{}, map[string]bool{}
	for _, tc := range criterionCases {
		r := mustRule(t, `{"name":"x","eventType":"`+string(tc.et)+`","criteria":[`+tc.crit+
			`],"actions":[{"type":"awardPoints","points":1}]}`)
		if tc.want {
			held[r.Criteria[0].Type] = true
		} else {
			failed[r.Criteria[0].Type] = true
		}
	}
	for _, typ := range CriterionTypes() {
		if !held[typ] {
			t.Errorf("criterion %s has no case that holds", typ)
		}
		// everyEvent holds on every event by definition.
		if !failed[typ] && typ != "everyEvent" {
			t.Errorf("criterion %s has no case that fails", typ)
		}
	}
}

// TestCriteriaAllEvaluated checks that a failing criterion does not hide
// the others from the trace, and that the rule then does not match.
func TestCriteriaAllEvaluated(t *testing.T) {
	r := activeRule(t, "r", schemas.TypeOrder,
		`{"type":"total","op":"gt","value":1000},{"type":"tagPresent","tag":"vip"}`,
		`{"type":"awardPoints","points":1}`)
	got := Assess([]*Rule{r}, Subject{Event: eventOf(schemas.TypeOrder), Customer: newCustomer()})
	rt := got.Trace.Rules[0]
	if rt.Matched || len(rt.Criteria) != 2 || rt.Criteria[0].Held || !rt.Criteria[1].Held {
		t.Fatalf("trace %+v", rt)
	}
	if len(rt.Actions) != 0 || len(got.Awards) != 0 || len(got.Matched) != 0 {
		t.Fatalf("a rule that did not match acted: %+v", got)
	}
}
