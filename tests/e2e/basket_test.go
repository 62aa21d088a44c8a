package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/cmd/tallymarks/app"
	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/schemas"
)

// basketAnswer is the body of POST /events/baskets, decimals kept exact.
type basketAnswer struct {
	EventID         string `json:"eventId"`
	PotentialPoints int64  `json:"potentialPoints"`
	Outcomes        []struct {
		RuleID      string      `json:"ruleId"`
		RuleVersion int         `json:"ruleVersion"`
		Type        string      `json:"type"`
		Value       json.Number `json:"value"`
		Code        string      `json:"code"`
	} `json:"outcomes"`
	MatchedRules []struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Version int    `json:"version"`
	} `json:"matchedRules"`
}

// postBasket sends a basket of total (a JSON number literal) and decodes
// the 200 answer.
func postBasket(t *testing.T, s *stack, eventID, customerID, total string) basketAnswer {
	t.Helper()
	body := `{"customerId":"` + customerID + `","nameSpace":"Basket.Web","basket":{"total":` + total + `}}`
	if eventID != "" {
		body = `{"eventId":"` + eventID + `",` + body[1:]
	}
	r := s.do("POST", "/events/baskets", body, nil)
	if r.status != http.StatusOK {
		t.Fatalf("basket: %d %s", r.status, r.raw)
	}
	var a basketAnswer
	if err := json.Unmarshal([]byte(r.raw), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestBaskets covers POST /events/baskets (section 12, "Baskets", and
// finding 10): potential points are the demo economy's base points plus
// the Basket rules' points; outcomes and matched rules come in evaluation
// order; nothing about the customer changes, an unknown customer is not
// created, and the same basket answers 200 every time.
func TestBaskets(t *testing.T) {
	s := startStack(t, stackOptions{})
	cust, orderID := uuid.NewString(), uuid.NewString()

	// No rules yet: base points only, for a customer the basket does not
	// create.
	first := postBasket(t, s, "", cust, "100.00")
	if _, err := uuid.Parse(first.EventID); err != nil || first.PotentialPoints != 100 ||
		first.Outcomes == nil || len(first.Outcomes) != 0 || first.MatchedRules == nil || len(first.MatchedRules) != 0 {
		t.Fatalf("basket without rules: %+v", first)
	}
	if got := s.balance(cust); got != -1 {
		t.Fatalf("a basket created its customer: balance %d", got)
	}

	// A customer with 20 points, then the rules: three Basket rules that
	// match, one that does not, and an Order rule that baskets ignore.
	if r := s.do("POST", "/events/orders?wait=true", map[string]any{"eventId": orderID, "customerId": cust,
		"nameSpace": "Order.Web", "order": map[string]any{"total": 20}}, nil); r.status != http.StatusOK {
		t.Fatalf("order: %d %s", r.status, r.raw)
	}
	discount := addRule(t, s, `{"name":"Spring discount","eventType":"basket","priority":3,
		"criteria":[{"type":"total","op":"gte","value":50}],"actions":[{"type":"basketDiscountPercent","value":12.5}]}`)
	voucher := addRule(t, s, `{"name":"Voucher","eventType":"basket","priority":2,
		"criteria":[{"type":"everyEvent"}],"actions":[{"type":"voucherCode","code":"SPRING10"}]}`)
	points := addRule(t, s, `{"name":"Five more","eventType":"basket","priority":1,
		"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":5}]}`)
	addRule(t, s, `{"name":"Big baskets","eventType":"basket",
		"criteria":[{"type":"total","op":"gt","value":1000}],"actions":[{"type":"message","text":"big"}]}`)
	addRule(t, s, `{"name":"Orders","eventType":"order",
		"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":50}]}`)

	basketID := uuid.NewString()
	for i := range 2 { // the same eventId twice: never a duplicate
		a := postBasket(t, s, basketID, cust, "100.00")
		if a.EventID != basketID || a.PotentialPoints != 105 || len(a.Outcomes) != 2 || len(a.MatchedRules) != 3 {
			t.Fatalf("basket %d: %+v", i, a)
		}
		o := a.Outcomes
		if o[0].RuleID != discount || o[0].RuleVersion != 1 || o[0].Type != "basketDiscountPercent" ||
			o[0].Value != "12.5" || o[1].RuleID != voucher || o[1].Type != "voucherCode" || o[1].Code != "SPRING10" {
			t.Fatalf("outcomes: %+v", o)
		}
		m := a.MatchedRules
		if m[0].ID != discount || m[0].Name != "Spring discount" || m[0].Version != 1 ||
			m[1].ID != voucher || m[2].ID != points {
			t.Fatalf("matched rules: %+v", m)
		}
	}
	if got := s.balance(cust); got != 20 {
		t.Fatalf("balance after baskets = %d, want 20", got)
	}
	other := uuid.NewString()
	if a := postBasket(t, s, "", other, "100"); a.PotentialPoints != 105 || len(a.Outcomes) != 2 {
		t.Fatalf("unknown customer's basket: %+v", a)
	}
	if got := s.balance(other); got != -1 {
		t.Fatalf("a basket created its customer: balance %d", got)
	}

	// The basket is recorded: assessed, with its trace.
	var st struct {
		Status string `json:"status"`
		Event  struct {
			Basket struct {
				Total json.Number `json:"total"`
			} `json:"basket"`
		} `json:"event"`
		LedgerEntries []any `json:"ledgerEntries"`
		Trace         struct {
			Economy struct {
				BasePoints int64 `json:"basePoints"`
			} `json:"economy"`
			Rules []struct {
				RuleID  string `json:"ruleId"`
				Matched bool   `json:"matched"`
			} `json:"rules"`
		} `json:"trace"`
	}
	r := s.do("GET", "/events/"+basketID, nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET basket: %d %s", r.status, r.raw)
	}
	if err := json.Unmarshal([]byte(r.raw), &st); err != nil {
		t.Fatal(err)
	}
	if st.Status != "assessed" || st.Event.Basket.Total != "100" || len(st.LedgerEntries) != 0 ||
		st.Trace.Economy.BasePoints != 100 || len(st.Trace.Rules) != 4 || !st.Trace.Rules[0].Matched {
		t.Fatalf("basket status: %s", r.raw)
	}

	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{name: "the eventId of an order", status: http.StatusConflict, code: "event_id_conflict",
			body: `{"eventId":"` + orderID + `","customerId":"` + cust + `","nameSpace":"Basket.Web","basket":{"total":1}}`},
		{name: "no total", status: http.StatusBadRequest, code: "invalid_request",
			body: `{"customerId":"` + cust + `","nameSpace":"Basket.Web","basket":{}}`},
		{name: "an order slot", status: http.StatusBadRequest, code: "invalid_request",
			body: `{"customerId":"` + cust + `","nameSpace":"Basket.Web","order":{"total":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do("POST", "/events/baskets", tt.body, nil)
			if r.status != tt.status || r.body["code"] != tt.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.raw, tt.status, tt.code)
			}
		})
	}
	if got := s.balance(cust); got != 20 {
		t.Fatalf("balance at the end = %d, want 20", got)
	}
}

// TestBasketTimeout checks the answer when no processor assesses the basket
// within 5 s (finding 28): 503 processing_timeout with Retry-After.
func TestBasketTimeout(t *testing.T) {
	s := startStack(t, stackOptions{roles: []string{app.RoleAPI}})
	start := time.Now()
	r := s.do("POST", "/events/baskets", map[string]any{"customerId": uuid.NewString(),
		"nameSpace": "Basket.Web", "basket": map[string]any{"total": 10}}, nil)
	if r.status != http.StatusServiceUnavailable || r.body["code"] != "processing_timeout" ||
		r.header.Get("Retry-After") == "" {
		t.Fatalf("basket without a processor: %d %s, Retry-After %q", r.status, r.raw, r.header.Get("Retry-After"))
	}
	if waited := time.Since(start); waited < 5*time.Second || waited > 10*time.Second {
		t.Fatalf("answered after %s, want 5 s", waited)
	}
}

// addRule writes an Active rule straight into the stack's catalog, as the
// processor reads rules, and returns its id.
func addRule(t *testing.T, s *stack, body string) string {
	t.Helper()
	id := uuid.NewString()
	now := time.Now().UTC().Truncate(time.Millisecond)
	active := catalog.StatusActive
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.app.Catalog().Put(ctx, &schemas.ConfigRecord{
		TenantID: s.creds.TenantID, Kind: catalog.KindRule, ID: id, Version: 1, Status: &active,
		CreatedAt: now, ChangedAt: now, Body: body,
	}); err != nil {
		t.Fatal(err)
	}
	return id
}
