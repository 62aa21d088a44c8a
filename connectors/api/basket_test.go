package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tallymarks/tallymarks/schemas"
)

// TestNewBasketAnswer checks that the processor's result reaches the client
// as written, decimals untouched, and that lists are never null.
func TestNewBasketAnswer(t *testing.T) {
	const id = "8d0e7f4c-1b2a-4c3d-9e8f-0a1b2c3d4e5f"
	tests := []struct {
		name   string
		result string
		want   string // "": an error
	}{
		{name: "outcomes and rules",
			result: `{"potentialPoints":105,"outcomes":[{"ruleId":"r","ruleVersion":2,` +
				`"type":"basketDiscountPercent","value":12.3450}],"matchedRules":[{"id":"r","name":"R","version":2}]}`,
			want: `{"eventId":"` + id + `","potentialPoints":105,"outcomes":[{"ruleId":"r","ruleVersion":2,` +
				`"type":"basketDiscountPercent","value":12.3450}],"matchedRules":[{"id":"r","name":"R","version":2}]}`},
		{name: "null lists become empty", result: `{"potentialPoints":0,"outcomes":null}`,
			want: `{"eventId":"` + id + `","potentialPoints":0,"outcomes":[],"matchedRules":[]}`},
		{name: "no result", result: ""},
		{name: "not JSON", result: "{"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := newBasketAnswer(id, schemas.Reply{Result: tt.result})
			if tt.want == "" {
				var e *Error
				if err == nil || errors.As(err, &e) {
					t.Fatalf("error %v, want an internal error", err)
				}
				return
			}
			b, _ := json.Marshal(a)
			if err != nil || string(b) != tt.want {
				t.Fatalf("answer %s (%v)\nwant %s", b, err, tt.want)
			}
		})
	}
}

// TestProcessingTimeoutAnswer checks the 503 a basket gets without an
// answer: code processing_timeout and a Retry-After header.
func TestProcessingTimeoutAnswer(t *testing.T) {
	w := httptest.NewRecorder()
	writeError(w, errProcessingTimeout)
	var body Error
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusServiceUnavailable || body.Code != "processing_timeout" ||
		w.Header().Get("Retry-After") != "5" {
		t.Fatalf("%d %s, Retry-After %q", w.Code, w.Body, w.Header().Get("Retry-After"))
	}
}
