package e2e

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// TestRedemptions covers the synchronous spend of section 5 and finding 7:
// applied, duplicated, refused, unknown customer, and ?wait=true on an
// asynchronous endpoint.
func TestRedemptions(t *testing.T) {
	s := startStack(t, stackOptions{})
	cust := uuid.NewString()

	earn := s.do("POST", "/events/points?wait=true", map[string]any{"customerId": cust,
		"nameSpace": "Points.Welcome", "points": map[string]any{"quantity": 100}}, nil)
	if earn.status != http.StatusOK || earn.body["status"] != "assessed" {
		t.Fatalf("points with wait=true: %d %s", earn.status, earn.raw)
	}
	// Assessed means applied: the balance is readable at once.
	if got := s.balance(cust); got != 100 {
		t.Fatalf("balance after an assessed answer = %d, want 100", got)
	}

	redeemID := uuid.NewString()
	redeem := map[string]any{"eventId": redeemID, "customerId": cust, "nameSpace": "Reward.Coffee",
		"redemption": map[string]any{"quantity": 30, "reward": "coffee"}}
	r := s.do("POST", "/events/redemptions", redeem, nil)
	if r.status != http.StatusOK || r.body["previousBalance"] != float64(100) ||
		r.body["pendingBalance"] != float64(70) || r.body["isExisting"] != false || r.body["eventId"] != redeemID {
		t.Fatalf("redemption: %d %s", r.status, r.raw)
	}
	again := s.do("POST", "/events/redemptions", redeem, nil)
	if again.status != http.StatusAlreadyReported || again.body["isExisting"] != true ||
		again.body["previousBalance"] != float64(100) || again.body["pendingBalance"] != float64(70) {
		t.Fatalf("duplicate redemption: %d %s, want 208 with the original body", again.status, again.raw)
	}
	if got := s.balance(cust); got != 70 {
		t.Fatalf("balance = %d, want 70", got)
	}

	tests := []struct {
		name   string
		path   string
		body   map[string]any
		status int
		code   string
	}{
		{name: "more than the balance", path: "/events/redemptions", body: map[string]any{
			"customerId": cust, "nameSpace": "Reward.TV", "redemption": map[string]any{"quantity": 71}},
			status: http.StatusConflict, code: "insufficient_points"},
		{name: "unknown customer", path: "/events/redemptions", body: map[string]any{
			"customerId": uuid.NewString(), "nameSpace": "Reward.TV", "redemption": map[string]any{"quantity": 1}},
			status: http.StatusConflict, code: "insufficient_points"},
		{name: "negative points with wait", path: "/events/points?wait=true", body: map[string]any{
			"customerId": cust, "nameSpace": "Points.Fix", "points": map[string]any{"quantity": -71}},
			status: http.StatusConflict, code: "insufficient_points"},
		{name: "zero quantity", path: "/events/redemptions", body: map[string]any{
			"customerId": cust, "nameSpace": "Reward.TV", "redemption": map[string]any{"quantity": 0}},
			status: http.StatusBadRequest, code: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do("POST", tt.path, tt.body, nil)
			if r.status != tt.status || r.body["code"] != tt.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.raw, tt.status, tt.code)
			}
		})
	}
	if got := s.balance(cust); got != 70 {
		t.Fatalf("balance after refusals = %d, want 70", got)
	}
	if r := s.do("GET", "/customers/"+uuid.NewString(), nil, nil); r.status != http.StatusNotFound {
		t.Fatalf("a refused redemption created its unknown customer: %d", r.status)
	}
}
