package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestBatch posts events of every asynchronous type in one batch, with a
// duplicate, an invalid event and an already known one, and checks one
// result per event in order.
func TestBatch(t *testing.T) {
	s := startStack(t, stackOptions{})
	cust, known, dup := uuid.NewString(), uuid.NewString(), uuid.NewString()
	if r := s.do("POST", "/events/actions", map[string]any{"eventId": known, "customerId": cust,
		"nameSpace": "Customer.Registration", "action": map[string]any{}}, nil); r.status != 200 {
		t.Fatalf("seed: %d %s", r.status, r.raw)
	}

	ev := func(id string, slot string, payload map[string]any) map[string]any {
		return map[string]any{"eventId": id, "customerId": cust, "nameSpace": "Batch.Test", slot: payload}
	}
	r := s.do("POST", "/events:batch", map[string]any{"events": []any{
		ev(uuid.NewString(), "order", map[string]any{"total": 10.9}),
		ev(dup, "transaction", map[string]any{"total": 5}),
		ev(dup, "transaction", map[string]any{"total": 5}),
		ev(uuid.NewString(), "points", map[string]any{"quantity": 7}),
		ev(uuid.NewString(), "order", map[string]any{"total": "1"}),
		ev(known, "action", map[string]any{}),
		ev(uuid.NewString(), "transfer", map[string]any{"total": 1}),
		ev(uuid.NewString(), "redemption", map[string]any{"quantity": 1}),
	}}, nil)
	if r.status != http.StatusOK {
		t.Fatalf("batch: %d %s", r.status, r.raw)
	}
	results := r.body["results"].([]any)
	want := []struct {
		status   float64
		existing bool
		param    string
	}{{200, false, ""}, {200, false, ""}, {208, true, ""}, {200, false, ""},
		{400, false, "/events/4/order/total"}, {208, true, ""}, {200, false, ""}, {400, false, "/events/7"}}
	if len(results) != len(want) {
		t.Fatalf("%d results, want %d: %s", len(results), len(want), r.raw)
	}
	for i, w := range want {
		res := results[i].(map[string]any)
		if res["index"] != float64(i) || res["status"] != w.status || res["isExisting"] != w.existing {
			t.Fatalf("result %d = %v, want status %v existing %v", i, res, w.status, w.existing)
		}
		if w.param != "" {
			e := res["error"].(map[string]any)
			p := e["errors"].([]any)[0].(map[string]any)["param"].(string)
			if e["code"] != "invalid_request" || !strings.HasPrefix(p, w.param) {
				t.Fatalf("result %d error = %v, want invalid_request at %s", i, e, w.param)
			}
		}
	}
	s.waitBalance(cust, 10+5+7)

	over := make([]any, 501)
	for i := range over {
		over[i] = ev(uuid.NewString(), "action", map[string]any{})
	}
	if r := s.do("POST", "/events:batch", map[string]any{"events": over}, nil); r.status != http.StatusBadRequest {
		t.Fatalf("501 events: %d %s", r.status, r.raw)
	}
}
