package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

// TestBadInputIsRefused sends the two event endpoints every kind of bad
// request and checks the status, the error body, and that nothing reached
// Kafka.
func TestBadInputIsRefused(t *testing.T) {
	s := startStack(t, stackOptions{})
	customersKey, customersSecret := addKey(t, s, catalog.ScopeCustomers)
	cust := uuid.NewString()
	good := `{"customerId":"` + cust + `","nameSpace":"Order.Web","order":{"total":10}}`

	tests := []struct {
		name   string
		path   string
		body   string
		hdr    map[string]string
		status int
		code   string
		params []string // JSON pointers named in errors[], in order
	}{
		{name: "malformed JSON", path: "/events/orders", body: `{"customerId": "` + cust,
			status: 400, code: "invalid_request", params: []string{""}},
		{name: "not an object", path: "/events/actions", body: `[1,2]`,
			status: 400, code: "invalid_request", params: []string{""}},
		{name: "unknown top-level field", path: "/events/orders",
			body:   `{"customerId":"` + cust + `","nameSpace":"Order.Web","order":{"total":10},"colour":"red"}`,
			status: 400, code: "invalid_request", params: []string{"/colour"}},
		{name: "unknown nested field", path: "/events/orders",
			body:   `{"customerId":"` + cust + `","nameSpace":"Order.Web","order":{"total":10,"items":[{"sku":"a","quantity":1,"unitPrice":1,"colour":"red"}]}}`,
			status: 400, code: "invalid_request", params: []string{"/order/items/0/colour"}},
		{name: "field in the wrong case", path: "/events/orders",
			body:   `{"CustomerId":"` + cust + `","nameSpace":"Order.Web","order":{"total":10}}`,
			status: 400, code: "invalid_request", params: []string{"/CustomerId"}},
		{name: "duplicate field", path: "/events/orders",
			body:   `{"customerId":"` + cust + `","customerId":"` + cust + `","nameSpace":"Order.Web","order":{"total":10}}`,
			status: 400, code: "invalid_request", params: []string{"/customerId"}},
		{name: "missing customerId", path: "/events/actions",
			body:   `{"nameSpace":"Customer.Registration","action":{}}`,
			status: 400, code: "invalid_request", params: []string{"/customerId"}},
		{name: "customerId not a UUID", path: "/events/actions",
			body:   `{"customerId":"bob","nameSpace":"Customer.Registration","action":{}}`,
			status: 400, code: "invalid_request", params: []string{"/customerId"}},
		{name: "amount as a string", path: "/events/orders",
			body:   `{"customerId":"` + cust + `","nameSpace":"Order.Web","order":{"total":"10"}}`,
			status: 400, code: "invalid_request", params: []string{"/order/total"}},
		{name: "five fractional digits", path: "/events/orders",
			body:   `{"customerId":"` + cust + `","nameSpace":"Order.Web","order":{"total":10.00001}}`,
			status: 400, code: "invalid_request", params: []string{"/order/total"}},
		{name: "negative total", path: "/events/orders",
			body:   `{"customerId":"` + cust + `","nameSpace":"Order.Web","order":{"total":-1}}`,
			status: 400, code: "invalid_request", params: []string{"/order/total"}},
		{name: "missing slot and namespace", path: "/events/orders",
			body:   `{"customerId":"` + cust + `"}`,
			status: 400, code: "invalid_request", params: []string{"/nameSpace", "/order"}},
		{name: "other slot on this endpoint", path: "/events/actions",
			body:   `{"customerId":"` + cust + `","nameSpace":"X","action":{},"order":{"total":1}}`,
			status: 400, code: "invalid_request", params: []string{"/order"}},
		{name: "reserved namespace", path: "/events/actions",
			body:   `{"customerId":"` + cust + `","nameSpace":"Error.Assessment","action":{}}`,
			status: 400, code: "invalid_request", params: []string{"/nameSpace"}},
		{name: "tenantId of another tenant", path: "/events/actions",
			body:   `{"customerId":"` + cust + `","tenantId":"` + uuid.NewString() + `","nameSpace":"X","action":{}}`,
			status: 400, code: "invalid_request", params: []string{"/tenantId"}},
		{name: "createdAt without offset", path: "/events/actions",
			body:   `{"customerId":"` + cust + `","createdAt":"2026-01-01T10:00:00","nameSpace":"X","action":{}}`,
			status: 400, code: "invalid_request", params: []string{"/createdAt"}},
		{name: "wrong secret", path: "/events/orders", body: good,
			hdr: map[string]string{"x-api-secret": "nope"}, status: 401, code: "unauthorized"},
		{name: "missing tenant header", path: "/events/orders", body: good,
			hdr: map[string]string{"x-tenant-id": ""}, status: 401, code: "unauthorized"},
		{name: "unknown key", path: "/events/orders", body: good,
			hdr: map[string]string{"x-api-key": "tmk_unknown"}, status: 401, code: "unauthorized"},
		{name: "unknown tenant", path: "/events/orders", body: good,
			hdr: map[string]string{"x-tenant-id": uuid.NewString()}, status: 401, code: "unauthorized"},
		{name: "wrong auth wins over oversize body", path: "/events/orders",
			body: strings.Repeat(" ", 2<<20) + good,
			hdr:  map[string]string{"x-api-secret": "nope"}, status: 401, code: "unauthorized"},
		{name: "key without the events scope", path: "/events/orders", body: good,
			hdr:    map[string]string{"x-api-key": customersKey, "x-api-secret": customersSecret},
			status: 403, code: "forbidden"},
		{name: "unknown route", path: "/events/parcels", body: good, status: 404, code: "not_found"},
		{name: "not JSON", path: "/events/orders", body: good,
			hdr: map[string]string{"content-type": "text/plain"}, status: 415, code: "unsupported_media_type"},
		{name: "oversize body", path: "/events/orders", body: strings.Repeat(" ", 1<<20) + good,
			status: 413, code: "payload_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do("POST", tt.path, tt.body, tt.hdr)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.status, r.raw)
			}
			var body struct {
				Code    string `json:"code"`
				Message string `json:"message"`
				Errors  []struct {
					Message string `json:"message"`
					Param   string `json:"param"`
				} `json:"errors"`
			}
			if err := json.Unmarshal([]byte(r.raw), &body); err != nil {
				t.Fatalf("error body is not JSON: %q", r.raw)
			}
			if body.Code != tt.code || body.Message == "" {
				t.Fatalf("body = %s, want code %q and a message", r.raw, tt.code)
			}
			if r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("content type %q", r.header.Get("Content-Type"))
			}
			var params []string
			for _, e := range body.Errors {
				if e.Message == "" {
					t.Fatalf("error without message: %s", r.raw)
				}
				params = append(params, e.Param)
			}
			if strings.Join(params, ",") != strings.Join(tt.params, ",") {
				t.Fatalf("errors name %q, want %q: %s", params, tt.params, r.raw)
			}
		})
	}

	// The customers key reads customers: its 403 above was about scope.
	r := s.do("GET", "/customers/"+cust, nil,
		map[string]string{"x-api-key": customersKey, "x-api-secret": customersSecret})
	if r.status != http.StatusNotFound {
		t.Fatalf("customers key reading a customer: %d %s", r.status, r.raw)
	}

	if n := eventRecords(t, s); n != 0 {
		t.Fatalf("%d records reached the events topic; refused requests must produce nothing", n)
	}
}

// addKey creates an enabled key of scope for the stack's tenant.
func addKey(t *testing.T, s *stack, scope string) (id, secret string) {
	t.Helper()
	id, _ = catalog.NewKeyID()
	secret, _ = catalog.NewSecret()
	hash, err := catalog.HashSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(catalog.APIKey{Name: scope + "-key", Scope: scope, Enabled: true, SecretHash: hash})
	now := time.Now().UTC()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.app.Catalog().Put(ctx, &schemas.ConfigRecord{
		TenantID: s.creds.TenantID, Kind: catalog.KindAPIKey, ID: id, Version: 1,
		CreatedAt: now, ChangedAt: now, Body: string(body),
	}); err != nil {
		t.Fatal(err)
	}
	return id, secret
}

// eventRecords returns how many records the stack's events topic holds.
func eventRecords(t *testing.T, s *stack) int64 {
	t.Helper()
	return topicEnd(t, s, topics.New(s.cfg.TopicPrefix).Events())
}

// topicEnd returns the sum of a topic's end offsets: how many records it
// has had.
func topicEnd(t *testing.T, s *stack, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}
