package api

import (
	"strings"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		params []string // nil: no error
	}{
		{name: "valid", body: `{"customerId":"x","order":{"total":1,"items":[{"sku":"a"}]}}`},
		{name: "null is accepted", body: `{"customerId":null,"order":null}`},
		{name: "unknown fields everywhere", body: `{"a":1,"order":{"b":2,"items":[{"c":3}]}}`,
			params: []string{"/a", "/order/b", "/order/items/0/c"}},
		{name: "wrong types", body: `{"customerId":5,"order":{"total":"1","items":{}},"attributes":[1]}`,
			params: []string{"/customerId", "/order/total", "/order/items", "/attributes/0"}},
		{name: "integer expected", body: `{"points":{"quantity":1.5}}`, params: []string{"/points/quantity"}},
		{name: "duplicate", body: `{"nameSpace":"a","nameSpace":"b"}`, params: []string{"/nameSpace"}},
		{name: "pointer escaping", body: `{"a/b~c":1}`, params: []string{"/a~1b~0c"}},
		{name: "truncated", body: `{"order":{"total":1`, params: []string{""}},
		{name: "trailing data", body: `{} {}`, params: []string{""}},
		{name: "empty body", body: ``, params: []string{""}},
		{name: "top level array", body: `[]`, params: []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req eventRequest
			errs := decodeStrict([]byte(tt.body), &req)
			var got []string
			for _, e := range errs {
				got = append(got, e.Param)
			}
			if strings.Join(got, ",") != strings.Join(tt.params, ",") || (errs == nil) != (tt.params == nil) {
				t.Fatalf("errors at %q, want %q (%+v)", got, tt.params, errs)
			}
		})
	}
}

// FuzzDecodeEvent feeds arbitrary bodies through strict decoding and
// validation, as the Event API does: it must never panic, and a body it
// accepts must convert to an event with exactly one payload.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{
		`{"customerId":"6f1d3c2a-8f47-4a8e-9d1c-2b7e5a9c0d11","nameSpace":"Order.Web","order":{"total":120.50}}`,
		`{"customerId":"6f1d3c2a-8f47-4a8e-9d1c-2b7e5a9c0d11","nameSpace":"A","action":{"amount":1e3,"count":2},` +
			`"attributes":[{"name":"k","value":"v"}],"createdAt":"2026-01-01T00:00:00+02:00"}`,
		`{"order":{"items":[{"sku":"a","quantity":0.3333,"unitPrice":0.3333}]}}`,
		`{"a":[[[[{}]]]]}`, `"x"`, `{"customerId":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, typ := range []schemas.EventType{schemas.TypeOrder, schemas.TypeAction} {
			var req eventRequest
			if errs := decodeStrict(body, &req); errs != nil {
				continue
			}
			ev, errs := req.toEvent(typ, "11111111-1111-4111-8111-111111111111", now)
			if errs != nil {
				continue
			}
			if got, n := ev.Type(); n != 1 || got != typ {
				t.Fatalf("accepted event has payload %s (%d slots), want %s", got, n, typ)
			}
		}
	})
}
