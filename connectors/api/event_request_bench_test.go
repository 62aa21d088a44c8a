package api

import (
	"strings"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// BenchmarkDecodeOrder measures strict decoding and validation of an order
// with 10 items and 5 attributes, as the Event API does per request.
func BenchmarkDecodeOrder(b *testing.B) {
	var items []string
	for range 10 {
		items = append(items, `{"sku":"SKU-1","name":"Mug","category":"Home","quantity":2,"unitPrice":12.5}`)
	}
	body := []byte(`{"eventId":"0b0e5c1a-4d6c-4a55-9a8f-3f5a1c2b7d10",` +
		`"customerId":"6f1d3c2a-8f47-4a8e-9d1c-2b7e5a9c0d11","nameSpace":"Order.Web",` +
		`"reference":"ORD-1","createdAt":"2026-03-01T10:00:00+01:00",` +
		`"attributes":[{"key":"a","value":"1"},{"key":"b","value":"2"},{"key":"c","value":"3"},` +
		`{"key":"d","value":"4"},{"key":"e","value":"5"}],` +
		`"order":{"total":250.00,"taxTotal":40.5,"currency":"EUR","items":[` + strings.Join(items, ",") + `]}}`)
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var req eventRequest
		if errs := decodeStrict(body, &req); errs != nil {
			b.Fatal(errs)
		}
		if _, errs := req.toEvent(schemas.TypeOrder, "11111111-1111-4111-8111-111111111111", now); errs != nil {
			b.Fatal(errs)
		}
	}
}
