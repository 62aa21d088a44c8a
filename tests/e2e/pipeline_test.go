package e2e

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// TestOrderEarnsBasePoints is the walking skeleton's promise: a new
// customer registers and orders 120.50 under the demo economy (1 point per
// unit, rounded down) and has 120 points; the same order again changes
// nothing.
func TestOrderEarnsBasePoints(t *testing.T) {
	s := startStack(t, stackOptions{})
	cust := uuid.NewString()

	reg := s.do("POST", "/events/actions", map[string]any{
		"eventId": uuid.NewString(), "customerId": cust, "nameSpace": "Customer.Registration",
		"action": map[string]any{},
	}, nil)
	if reg.status != http.StatusOK || reg.body["isExisting"] != false || reg.body["customerId"] != cust {
		t.Fatalf("registration: %d %s", reg.status, reg.raw)
	}
	s.waitBalance(cust, 0)

	orderID := uuid.NewString()
	order := map[string]any{
		"eventId": orderID, "customerId": cust, "nameSpace": "Order.Web", "reference": "ORD-1",
		"order": map[string]any{"total": 120.50, "currency": "EUR",
			"items": []any{map[string]any{"sku": "SKU-1", "quantity": 1, "unitPrice": 120.50}}},
	}
	first := s.do("POST", "/events/orders", order, nil)
	if first.status != http.StatusOK || first.body["eventId"] != orderID ||
		first.body["tenantId"] != s.creds.TenantID || first.body["isExisting"] != false {
		t.Fatalf("order: %d %s", first.status, first.raw)
	}
	s.waitBalance(cust, 120)

	again := s.do("POST", "/events/orders", order, nil)
	if again.status != http.StatusAlreadyReported || again.body["isExisting"] != true {
		t.Fatalf("same order again: %d %s, want 208 isExisting true", again.status, again.raw)
	}
	if got := s.balance(cust); got != 120 {
		t.Fatalf("balance after duplicate = %d, want 120", got)
	}

	r := s.do("GET", "/customers/"+cust, nil, nil)
	pts := r.body["points"].(map[string]any)
	if r.body["customerId"] != cust || r.body["tenantId"] != s.creds.TenantID ||
		pts["lifetimeEarned"] != float64(120) || pts["lifetimeSpent"] != float64(0) {
		t.Fatalf("customer view: %s", r.raw)
	}
}

// TestUnknownCustomerIs404 checks the Customer API's answer for a customer
// that has sent no event.
func TestUnknownCustomerIs404(t *testing.T) {
	s := startStack(t, stackOptions{})
	r := s.do("GET", "/customers/"+uuid.NewString(), nil, nil)
	if r.status != http.StatusNotFound || r.body["code"] != "not_found" {
		t.Fatalf("unknown customer: %d %s", r.status, r.raw)
	}
}
