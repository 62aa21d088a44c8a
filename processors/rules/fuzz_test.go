package rules

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeRule feeds arbitrary bodies to DecodeRule: it must never
// panic, it returns a rule or errors but never both, and an accepted rule
// marshals to a body that decodes to the same JSON again and can be
// assessed.
func FuzzDecodeRule(f *testing.F) {
	for _, s := range []string{
		body("", "", "", ""),
		body("basket", `{"type":"skuIn","skus":["A"]},{"type":"lifetimeValue","op":"gt","value":1e2}`,
			`{"type":"basketDiscountPercent","value":12.5},{"type":"pointsPerSpend","pointsPerUnit":0.0001,`+
				`"rounding":"nearest","maxPerCustomerPerPeriod":{"points":5,"period":{"n":1,"unit":"week"}}}`, ""),
		body("points", `{"type":"xOverT","x":1,"period":{"n":1,"unit":"month"}},{"type":"balance","op":"lt","value":-3}`,
			`{"type":"sendSms","bodyTemplate":"{{x}}"}`, `,"validFrom":"2026-01-01","validTo":"2027-01-01T00:00:00Z"`),
		`{"name":"a","name":"b"}`, `[]`, `{"a":[[[[{}]]]]}`, `{"criteria":[{"type":null}]}`, `"x"`,
		`{"name":"\u0000","eventType":"order","criteria":[{"type":"attribute","key":"k","op":"exists"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, errs := DecodeRule(b, nil)
		if (r == nil) == (len(errs) == 0) {
			t.Fatalf("rule %v with %d errors", r, len(errs))
		}
		if r == nil {
			return
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("marshalling an accepted rule: %v", err)
		}
		again, errs := DecodeRule(out, nil)
		if len(errs) > 0 {
			t.Fatalf("the marshalled rule %s does not decode: %+v", out, errs)
		}
		if out2, _ := json.Marshal(again); string(out2) != string(out) {
			t.Fatalf("round trip changed\n%s\ninto\n%s", out, out2)
		}
		r.Status = StatusActive
		ev := eventOf(r.EventType)
		_ = Assess([]*Rule{r}, Subject{Event: ev, Customer: newCustomer(), BasePoints: 100})
	})
}
