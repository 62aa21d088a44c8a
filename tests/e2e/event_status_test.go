package e2e

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// TestEventStatus reads GET /events/{eventId} for an assessed order, a
// refused redemption and unknown events: "why did I get these points".
func TestEventStatus(t *testing.T) {
	s := startStack(t, stackOptions{})
	cust, orderID := uuid.NewString(), uuid.NewString()

	r := s.do("POST", "/events/orders?wait=true", map[string]any{"eventId": orderID, "customerId": cust,
		"nameSpace": "Order.Web", "reference": "ORD-9", "attributes": []any{map[string]any{"name": "store", "value": "42"}},
		"order": map[string]any{"total": 120.50, "items": []any{
			map[string]any{"sku": "MUG", "quantity": 2, "unitPrice": 60.25}}}}, nil)
	if r.status != http.StatusOK || r.body["status"] != "assessed" {
		t.Fatalf("order: %d %s", r.status, r.raw)
	}

	var got struct {
		EventID    string `json:"eventId"`
		CustomerID string `json:"customerId"`
		Status     string `json:"status"`
		Event      struct {
			NameSpace  string              `json:"nameSpace"`
			Reference  string              `json:"reference"`
			Attributes []map[string]string `json:"attributes"`
			Order      struct {
				Total json.Number `json:"total"`
				Items []struct {
					SKU   string      `json:"sku"`
					Total json.Number `json:"total"`
				} `json:"items"`
			} `json:"order"`
		} `json:"event"`
		LedgerEntries []struct {
			Type   string `json:"type"`
			Points int64  `json:"points"`
			Source string `json:"source"`
		} `json:"ledgerEntries"`
		Trace struct {
			Economy struct {
				ID         string `json:"id"`
				BasePoints int64  `json:"basePoints"`
			} `json:"economy"`
			Rules []any `json:"rules"`
		} `json:"trace"`
	}
	st := s.do("GET", "/events/"+orderID, nil, nil)
	if st.status != http.StatusOK {
		t.Fatalf("GET event: %d %s", st.status, st.raw)
	}
	if err := json.Unmarshal([]byte(st.raw), &got); err != nil {
		t.Fatal(err)
	}
	if got.EventID != orderID || got.CustomerID != cust || got.Status != "assessed" ||
		got.Event.NameSpace != "Order.Web" || got.Event.Reference != "ORD-9" ||
		got.Event.Order.Total != "120.5" || len(got.Event.Order.Items) != 1 || got.Event.Order.Items[0].Total != "120.5" ||
		len(got.Event.Attributes) != 1 || got.Event.Attributes[0]["key"] != "store" {
		t.Fatalf("event status body: %s", st.raw)
	}
	if len(got.LedgerEntries) != 1 || got.LedgerEntries[0].Points != 120 || got.LedgerEntries[0].Source != "base" ||
		got.Trace.Economy.BasePoints != 120 || got.Trace.Economy.ID == "" || got.Trace.Rules == nil {
		t.Fatalf("entries and trace: %s", st.raw)
	}

	redeemID := uuid.NewString()
	if r := s.do("POST", "/events/redemptions", map[string]any{"eventId": redeemID, "customerId": cust,
		"nameSpace": "Reward.TV", "redemption": map[string]any{"quantity": 500}}, nil); r.status != http.StatusConflict {
		t.Fatalf("redemption: %d %s", r.status, r.raw)
	}
	refused := s.do("GET", "/events/"+redeemID, nil, nil)
	if refused.status != http.StatusOK || refused.body["status"] != "refused" ||
		refused.body["code"] != "insufficient_points" || len(refused.body["errorEventIds"].([]any)) != 1 {
		t.Fatalf("refused redemption status: %d %s", refused.status, refused.raw)
	}

	if r := s.do("GET", "/events/"+uuid.NewString(), nil, nil); r.status != http.StatusNotFound || r.body["code"] != "not_found" {
		t.Fatalf("unknown event: %d %s", r.status, r.raw)
	}
	if r := s.do("GET", "/events/not-a-uuid", nil, nil); r.status != http.StatusBadRequest {
		t.Fatalf("bad id: %d %s", r.status, r.raw)
	}
}
