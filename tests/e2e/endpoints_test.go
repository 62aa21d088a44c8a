package e2e

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// TestTransactionsTransfersAndPoints posts one event of each asynchronous
// type beyond orders and actions, and follows the balance: transactions earn
// base points, transfers earn none, Points events earn and spend, and a
// spend the balance cannot cover is refused without changing it.
func TestTransactionsTransfersAndPoints(t *testing.T) {
	s := startStack(t, stackOptions{})
	cust := uuid.NewString()
	post := func(path string, body map[string]any) {
		t.Helper()
		body["customerId"] = cust
		body["eventId"] = uuid.NewString()
		if r := s.do("POST", path, body, nil); r.status != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, r.status, r.raw)
		}
	}

	post("/events/transactions", map[string]any{"nameSpace": "Card.Purchase",
		"transaction": map[string]any{"total": 42.75, "currency": "EUR", "payment": map[string]any{"scheme": "visa"}}})
	s.waitBalance(cust, 42)
	post("/events/transfers", map[string]any{"nameSpace": "Account.Transfer",
		"transfer": map[string]any{"total": 500, "fromAccount": "A", "toAccount": "B"}})
	post("/events/points", map[string]any{"nameSpace": "Points.Goodwill", "points": map[string]any{"quantity": 10}})
	s.waitBalance(cust, 52)
	post("/events/points", map[string]any{"nameSpace": "Points.Shop", "points": map[string]any{"quantity": -60}})
	post("/events/points", map[string]any{"nameSpace": "Points.Shop", "points": map[string]any{"quantity": -50}})
	s.waitBalance(cust, 2)

	r := s.do("GET", "/customers/"+cust, nil, nil)
	pts := r.body["points"].(map[string]any)
	if pts["lifetimeEarned"] != float64(52) || pts["lifetimeSpent"] != float64(50) {
		t.Fatalf("points after a refused and an applied spend: %s", r.raw)
	}

	bad := s.do("POST", "/events/points", map[string]any{"customerId": cust, "nameSpace": "Points.Shop",
		"points": map[string]any{"quantity": 0}}, nil)
	if bad.status != http.StatusBadRequest {
		t.Fatalf("zero quantity: %d %s", bad.status, bad.raw)
	}
}
