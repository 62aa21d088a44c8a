package customer

import (
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

func basket(id string, total *big.Rat) *schemas.Event {
	return &schemas.Event{
		EventID: id, TenantID: tenant, CustomerID: cust,
		CreatedAt: t0, ReceivedAt: t0, NameSpace: "Basket.Web", Attributes: []schemas.Attribute{},
		Basket: &schemas.Order{Total: total, Items: []schemas.OrderItem{}, Tags: []string{}},
	}
}

// basketRules are Basket rules in the order they are assessed, an Order
// rule that a basket ignores, and a Basket rule that does not match.
func basketRules(t *testing.T) []*rules.Rule {
	t.Helper()
	return []*rules.Rule{
		rule(t, "discount", t0, `{"name":"Discount","eventType":"basket","priority":2,
			"criteria":[{"type":"total","op":"gte","value":50}],
			"actions":[{"type":"basketDiscountPercent","value":12.5}]}`),
		rule(t, "voucher", t0, `{"name":"Voucher","eventType":"basket","priority":1,
			"criteria":[{"type":"everyEvent"}],"actions":[{"type":"voucherCode","code":"SPRING"}]}`),
		rule(t, "points", t0, `{"name":"Five more","eventType":"basket",
			"criteria":[{"type":"everyEvent"}],
			"actions":[{"type":"awardPoints","points":5,
				"maxPerCustomerPerPeriod":{"points":10,"period":{"n":1,"unit":"day"}}},
				{"type":"callWebhook","webhookId":"hook"}]}`),
		rule(t, "big", t0, `{"name":"Big baskets","eventType":"basket",
			"criteria":[{"type":"total","op":"gt","value":1000}],"actions":[{"type":"message","text":"wow"}]}`),
		rule(t, "orders", t0, `{"name":"Orders","eventType":"order",
			"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":7}]}`),
	}
}

// TestApplyBasket checks the basket branch of Apply (finding 10): potential
// points are base plus the rules' points, outcomes and matched rules come
// in evaluation order, and nothing about the customer changes.
func TestApplyBasket(t *testing.T) {
	econ := economy(t, "1", "")
	set := basketRules(t)
	in := func(off int64) Input { return Input{Offset: off, Economy: econ, Now: t0, Rules: set} }

	// A customer with 50 points and one order.
	known := Apply(nil, order("o1", big.NewRat(50, 1), "Order.Web"), in(0)).State
	used := func(points int64) *schemas.CustomerState {
		st := clone(known, nil)
		st.CapUsage = append(st.CapUsage, schemas.CapUsage{
			Key: "points/0/2026-03-01", Points: points, PeriodEnd: t0.Add(24 * time.Hour)})
		return st
	}

	tests := []struct {
		name      string
		st        *schemas.CustomerState
		ev        *schemas.Event
		potential int64
		result    string // the BasketResult as JSON
	}{
		{name: "known customer", st: known, ev: basket("o1", big.NewRat(100, 1)), potential: 105,
			result: `{"potentialPoints":105,"outcomes":[` +
				`{"ruleId":"discount","ruleVersion":1,"type":"basketDiscountPercent","value":12.5},` +
				`{"ruleId":"voucher","ruleVersion":1,"type":"voucherCode","code":"SPRING"}],` +
				`"matchedRules":[{"id":"discount","name":"Discount","version":1},` +
				`{"id":"voucher","name":"Voucher","version":1},{"id":"points","name":"Five more","version":1}]}`},
		{name: "unknown customer", st: nil, ev: basket("b2", big.NewRat(1999, 100)), potential: 24,
			result: `{"potentialPoints":24,"outcomes":[` +
				`{"ruleId":"voucher","ruleVersion":1,"type":"voucherCode","code":"SPRING"}],` +
				`"matchedRules":[{"id":"voucher","name":"Voucher","version":1},` +
				`{"id":"points","name":"Five more","version":1}]}`},
		{name: "cap read, not consumed", st: used(8), ev: basket("b3", big.NewRat(10, 1)), potential: 12},
		{name: "cap exhausted", st: used(10), ev: basket("b4", big.NewRat(10, 1)), potential: 10},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, tt.st)
			res := Apply(tt.st, tt.ev, in(int64(i+1)))

			// Nothing changes: the state is the one given, as it was.
			if res.Outcome != Evaluated || res.State != tt.st || len(res.Entries) != 0 ||
				len(res.Errors) != 0 || len(res.Schedules) != 0 {
				t.Fatalf("outcome %d, state %p (want %p), entries %v, errors %v",
					res.Outcome, res.State, tt.st, res.Entries, res.Errors)
			}
			if after := snapshot(t, tt.st); after != before {
				t.Fatalf("the state changed:\n got %s\nwant %s", after, before)
			}
			if _, seen := Seen(tt.st, tt.ev.EventID); seen && tt.ev.EventID != "o1" {
				t.Fatal("the basket was remembered in the dedup window")
			}

			// The answer, the record for the status, and the webhook.
			if res.Basket == nil || res.Basket.PotentialPoints != tt.potential {
				t.Fatalf("basket result %+v, want potentialPoints %d; trace %+v",
					res.Basket, tt.potential, res.Trace.Rules)
			}
			if tt.result != "" {
				b, err := json.Marshal(res.Basket)
				if err != nil || string(b) != tt.result {
					t.Fatalf("result JSON\n got %s (%v)\nwant %s", b, err, tt.result)
				}
			}
			var balance int64
			if tt.st != nil {
				balance = tt.st.Points.Balance
			}
			if res.Record.Status != StatusAssessed || res.Record.BalanceBefore != balance ||
				res.Record.BalanceAfter != balance {
				t.Fatalf("record %+v, want assessed at balance %d", res.Record, balance)
			}
			base := tt.ev.Basket.Total.Num().Int64() / tt.ev.Basket.Total.Denom().Int64()
			if res.Trace.Economy.BasePoints != base || len(res.Trace.Rules) != 4 {
				t.Fatalf("trace: economy %+v, %d rules, want base %d and the 4 Basket rules",
					res.Trace.Economy, len(res.Trace.Rules), base)
			}
			if len(res.Deliveries) != 1 || res.Deliveries[0].WebhookID != "hook" {
				t.Fatalf("deliveries %+v, want the webhook", res.Deliveries)
			}
			req := basketDelivery(tt.ev, res, res.Deliveries[0], t0)
			var ctx struct {
				Customer struct {
					CustomerID string `json:"customerId"`
				} `json:"customer"`
				Balance struct {
					Amount int64 `json:"amount"`
				} `json:"customerPointsBalance"`
			}
			if err := json.Unmarshal([]byte(req.Context), &ctx); err != nil ||
				ctx.Customer.CustomerID != cust || ctx.Balance.Amount != balance {
				t.Fatalf("template context %s (%v)", req.Context, err)
			}
		})
	}
}

// TestBasketNeverDuplicate checks that the same basket is evaluated each
// time it comes, and that each evaluation's webhook is a delivery of its
// own while a redelivered record asks for the same one.
func TestBasketNeverDuplicate(t *testing.T) {
	econ := economy(t, "1", "")
	in := func(off int64) Input { return Input{Offset: off, Economy: econ, Now: t0, Rules: basketRules(t)} }
	st := Apply(nil, order("o1", big.NewRat(50, 1), "Order.Web"), in(0)).State

	ids := map[string]int64{}
	for _, off := range []int64{1, 2, 2} {
		ev := basket("b1", big.NewRat(100, 1))
		res := Apply(st, ev, in(off))
		if res.Outcome != Evaluated || res.Basket.PotentialPoints != 105 || len(res.Deliveries) != 1 {
			t.Fatalf("evaluation at offset %d: outcome %d, result %+v", off, res.Outcome, res.Basket)
		}
		req := basketDelivery(ev, res, res.Deliveries[0], t0)
		var ctx struct {
			DeliveryID string `json:"deliveryId"`
		}
		if err := json.Unmarshal([]byte(req.Context), &ctx); err != nil || ctx.DeliveryID != req.DeliveryID {
			t.Fatalf("template context names delivery %q, want %q (%v)", ctx.DeliveryID, req.DeliveryID, err)
		}
		ids[req.DeliveryID] = off
	}
	if len(ids) != 2 {
		t.Fatalf("delivery ids %v, want one per record", ids)
	}
}

// snapshot returns st as JSON, to tell whether anything in it changed.
func snapshot(t *testing.T, st *schemas.CustomerState) string {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
