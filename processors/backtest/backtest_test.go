package backtest

import (
	"errors"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/processors/customer"
	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

var (
	tenant = uuid.NewString()
	ann    = uuid.NewString()
	bob    = uuid.NewString()
	day0   = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
)

// history is a stream of events per customer, made into assessment
// records by the processor's own Apply.
type history []*schemas.Event

func order(cust string, at time.Time, total int64, ns string) *schemas.Event {
	return &schemas.Event{
		EventID: uuid.NewString(), TenantID: tenant, CustomerID: cust,
		CreatedAt: at, ReceivedAt: at, NameSpace: ns,
		Order: &schemas.Order{Total: big.NewRat(total, 1)},
	}
}

func action(cust string, at time.Time, ns string) *schemas.Event {
	return &schemas.Event{
		EventID: uuid.NewString(), TenantID: tenant, CustomerID: cust,
		CreatedAt: at, ReceivedAt: at, NameSpace: ns, Action: &schemas.Action{},
	}
}

// records runs h through customer.Apply, with the given rules live, and
// returns each event's assessment record.
func (h history) records(t *testing.T, live []*rules.Rule) []*schemas.Assessment {
	t.Helper()
	states := map[string]*schemas.CustomerState{}
	var out []*schemas.Assessment
	for i, ev := range h {
		res := customer.Apply(states[ev.CustomerID], ev, customer.Input{Offset: int64(i), Now: day0, Rules: live})
		states[ev.CustomerID] = res.State
		if res.Assessment == nil {
			t.Fatalf("event %d: no assessment record", i)
		}
		out = append(out, res.Assessment)
	}
	return out
}

func rule(t *testing.T, id, status, body string) *rules.Rule {
	t.Helper()
	r, errs := rules.DecodeRule([]byte(body), time.UTC)
	if errs != nil {
		t.Fatalf("rule %s: %+v", id, errs)
	}
	r.ID, r.Version, r.Status, r.CreatedAt = id, 3, status, day0
	return r
}

func TestEvaluator(t *testing.T) {
	at := func(days, hours int) time.Time { return day0.AddDate(0, 0, days).Add(time.Duration(hours) * time.Hour) }
	from, to := at(0, 0), at(10, 0)
	segment := rule(t, "join", rules.StatusActive, `{"name":"Join","eventType":"action",
		"criteria":[{"type":"everyEvent"}],"actions":[{"type":"addToSegment","segmentId":"vip"}]}`)

	// Ann orders twice before the window and three times in it; Bob
	// orders once in it, once on its last instant, and once at its end.
	h := history{
		order(ann, at(-5, 0), 10, "Order.Web"),
		order(ann, at(-1, 0), 10, "Order.Web"),
		order(ann, at(0, 0), 10, "Order.Web"),
		order(ann, at(1, 0), 50, "Order.App"),
		order(ann, at(1, 2), 10, "Order.Web"),
		action(bob, at(1, 0), "Customer.Vip"),
		order(bob, at(2, 0), 10, "Order.Web"),
		order(bob, to.Add(-time.Millisecond), 10, "Order.Web"),
		order(bob, to, 10, "Order.Web"),
	}
	recs := h.records(t, []*rules.Rule{segment})

	tests := []struct {
		name string
		rule *rules.Rule
		want Result
	}{
		{
			name: "a Configure rule counts, only within [from, to)",
			rule: rule(t, "web", rules.StatusConfigure, `{"name":"Web","eventType":"order",
				"criteria":[{"type":"nameSpace","op":"equals","value":"Order.Web"}],
				"actions":[{"type":"awardPoints","points":5},{"type":"callWebhook","webhookId":"w"}]}`),
			want: Result{EventsConsidered: 5, EventsMatched: 4, CustomersMatched: 2, Points: 20,
				Actions: map[string]int64{"awardPoints": 4, "callWebhook": 4}},
		},
		{
			name: "every 3rd order counts the orders before the window",
			rule: rule(t, "third", rules.StatusTest, `{"name":"Third","eventType":"order",
				"criteria":[{"type":"everyNthEvent","n":3}],"actions":[{"type":"awardPoints","points":100}]}`),
			want: Result{EventsConsidered: 5, EventsMatched: 1, CustomersMatched: 1, Points: 100,
				Actions: map[string]int64{"awardPoints": 1}},
		},
		{
			name: "a lifetime threshold is crossed once, by the 50 order",
			rule: rule(t, "sixty", rules.StatusInactive, `{"name":"Sixty","eventType":"order",
				"criteria":[{"type":"lifetimeThreshold","value":60}],"actions":[{"type":"awardPoints","points":7}]}`),
			want: Result{EventsConsidered: 5, EventsMatched: 1, CustomersMatched: 1, Points: 7,
				Actions: map[string]int64{"awardPoints": 1}},
		},
		{
			name: "segments come from the snapshot",
			rule: rule(t, "vip", rules.StatusActive, `{"name":"Vip","eventType":"order",
				"criteria":[{"type":"inSegment","segmentId":"vip"}],"actions":[{"type":"awardPoints","points":3}]}`),
			want: Result{EventsConsidered: 5, EventsMatched: 2, CustomersMatched: 1, Points: 6,
				Actions: map[string]int64{"awardPoints": 2}},
		},
		{
			name: "a daily cap per customer counts from zero at from",
			rule: rule(t, "capped", rules.StatusActive, `{"name":"Capped","eventType":"order",
				"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":7,
					"maxPerCustomerPerPeriod":{"points":10,"period":{"n":1,"unit":"day"}}}]}`),
			// Ann: day 0 → 7, day 1 → 7 then 3; Bob: 7, 7 on other days.
			want: Result{EventsConsidered: 5, EventsMatched: 5, CustomersMatched: 2, Points: 31,
				Actions: map[string]int64{"awardPoints": 5}},
		},
		{
			name: "a budget counts from zero and runs out",
			rule: rule(t, "budget", rules.StatusArchived, `{"name":"Budget","eventType":"order",
				"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":6,"budget":15}]}`),
			want: Result{EventsConsidered: 5, EventsMatched: 5, CustomersMatched: 2, Points: 15,
				Actions: map[string]int64{"awardPoints": 3}},
		},
		{
			name: "maxPerEvent clamps each award",
			rule: rule(t, "spend", rules.StatusActive, `{"name":"Spend","eventType":"order",
				"criteria":[{"type":"everyEvent"}],"actions":[{"type":"pointsPerSpend","pointsPerUnit":1,"maxPerEvent":20}]}`),
			want: Result{EventsConsidered: 5, EventsMatched: 5, CustomersMatched: 2, Points: 60,
				Actions: map[string]int64{"pointsPerSpend": 5}},
		},
		{
			name: "a rule no longer valid matches nothing",
			rule: rule(t, "old", rules.StatusActive, `{"name":"Old","eventType":"order",
				"validTo":"2026-01-01","criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":1}]}`),
			want: Result{EventsConsidered: 5, Actions: map[string]int64{}},
		},
		{
			name: "events of other types are not considered",
			rule: rule(t, "acts", rules.StatusActive, `{"name":"Acts","eventType":"transfer",
				"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":1}]}`),
			want: Result{Actions: map[string]int64{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New([]*rules.Rule{tt.rule}, from, to)
			for _, a := range recs {
				if err := e.Add(a); err != nil {
					t.Fatal(err)
				}
			}
			tt.want.RuleID, tt.want.Version = tt.rule.ID, 3
			if got := e.Results(); len(got) != 1 || !reflect.DeepEqual(got[0], tt.want) {
				t.Fatalf("results = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestEvaluatorRulesAreIsolated gives two rules that would interplay in a
// real run: an exclusive one of higher priority does not stop the other.
func TestEvaluatorRulesAreIsolated(t *testing.T) {
	first := rule(t, "first", rules.StatusActive, `{"name":"First","eventType":"action","priority":9,
		"exclusive":true,"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":1}]}`)
	second := rule(t, "second", rules.StatusActive, `{"name":"Second","eventType":"action",
		"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":2}]}`)
	recs := history{action(ann, day0, "A"), action(bob, day0, "B")}.records(t, nil)

	e := New([]*rules.Rule{first, second}, day0, day0.Add(time.Hour))
	for _, a := range recs {
		if err := e.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	got := e.Results()
	if got[0].Points != 2 || got[1].Points != 4 || got[1].EventsMatched != 2 {
		t.Fatalf("results = %+v, want 2 points for first and 4 for second", got)
	}
}

// TestEvaluatorDropsCopies adds every record twice, as a processor that
// crashed before committing may have written them.
func TestEvaluatorDropsCopies(t *testing.T) {
	r := rule(t, "all", rules.StatusActive, `{"name":"All","eventType":"action",
		"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":1}]}`)
	recs := history{action(ann, day0, "A"), action(ann, day0, "B")}.records(t, nil)
	e := New([]*rules.Rule{r}, day0, day0.Add(time.Hour))
	for _, a := range append(recs, recs...) {
		if err := e.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.Results()[0]; got.EventsConsidered != 2 || got.Points != 2 {
		t.Fatalf("result = %+v, want 2 events and 2 points", got)
	}
}

func TestEvaluatorIsBounded(t *testing.T) {
	r := rule(t, "all", rules.StatusActive, `{"name":"All","eventType":"action",
		"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":1}]}`)
	recs := history{action(ann, day0, "A"), action(bob, day0, "B")}.records(t, nil)
	e := New([]*rules.Rule{r}, day0, day0.Add(time.Hour), MaxKeys(1))
	if err := e.Add(recs[0]); err != nil {
		t.Fatalf("first customer: %v", err)
	}
	if err := e.Add(recs[1]); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("second customer over a bound of 1: err = %v, want ErrTooLarge", err)
	}
}
