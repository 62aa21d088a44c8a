package api

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

const dryRunCustomer = "c0ffee00-0000-4000-8000-000000000001"

func newTestDryRun() *dryRun {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return &dryRun{s: &Server{cfg: Config{Now: func() time.Time { return now }}}}
}

func TestDryRunRequest(t *testing.T) {
	d := newTestDryRun()
	cases := []struct {
		name string
		body string
		typ  schemas.EventType // "" when refused
		want string            // the first error's param
	}{
		{"order", `{"customerId":"` + dryRunCustomer + `","event":{"nameSpace":"Order.Web","order":{"total":1}}}`,
			schemas.TypeOrder, ""},
		{"redemption", `{"customerId":"` + dryRunCustomer + `","event":{"customerId":"` + dryRunCustomer +
			`","nameSpace":"R.X","redemption":{"quantity":5}}}`, schemas.TypeRedemption, ""},
		{"no event", `{"customerId":"` + dryRunCustomer + `"}`, "", "/event"},
		{"two payloads", `{"customerId":"` + dryRunCustomer +
			`","event":{"nameSpace":"A.B","action":{},"points":{"quantity":1}}}`, "", "/event"},
		{"bad total", `{"customerId":"` + dryRunCustomer + `","event":{"nameSpace":"A.B","order":{"total":-1}}}`,
			"", "/event/order/total"},
		{"unknown field", `{"customerId":"` + dryRunCustomer + `","event":{"nameSpace":"A.B","action":{},"x":1}}`,
			"", "/event/x"},
		{"bad customer", `{"customerId":"nope","event":{"nameSpace":"A.B","action":{}}}`, "", "/customerId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := d.readEvent([]byte(c.body), principal{tenantID: tenantA})
			if c.typ != "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if typ, _ := ev.Type(); typ != c.typ || ev.CustomerID != dryRunCustomer || ev.EventID == "" ||
					ev.TenantID != tenantA {
					t.Fatalf("event: %+v", ev)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || len(e.Errors) == 0 ||
				e.Errors[0].Param != c.want {
				t.Fatalf("want 400 naming %s, got %+v", c.want, err)
			}
		})
	}
}

// FuzzDryRunRequest feeds arbitrary bodies to the dry run's decoder: it
// must never panic, and it returns an event or a 400, never both.
func FuzzDryRunRequest(f *testing.F) {
	for _, s := range []string{
		`{"customerId":"` + dryRunCustomer + `","event":{"nameSpace":"Order.Web","order":{"total":1}}}`,
		`{"customerId":"` + dryRunCustomer + `","event":{"nameSpace":"B","basket":{"total":1}}}`,
		`{"customerId":null,"event":null}`, `[]`, `{"event":{"customerId":7}}`, `{`,
	} {
		f.Add([]byte(s))
	}
	d := newTestDryRun()
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := d.readEvent(b, principal{tenantID: tenantA})
		var e *Error
		switch {
		case err == nil && ev == nil:
			t.Fatal("neither an event nor an error")
		case err != nil && (ev != nil || !errors.As(err, &e) || e.Status != http.StatusBadRequest):
			t.Fatalf("event %v with error %v", ev, err)
		}
	})
}

// FuzzDecodeRuleDocument feeds arbitrary rule documents to the Admin
// API's decoder: it must never panic, and an accepted rule's stored body
// must decode again in the processor (rules.FromRecord).
func FuzzDecodeRuleDocument(f *testing.F) {
	for _, s := range []string{
		`{"name":"W","eventType":"action","criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":5}]}`,
		`{"name":"O","eventType":"order","criteria":[{"type":"total","op":"gte","value":50}],` +
			`"actions":[{"type":"pointsPerSpend","pointsPerUnit":1.5,"budget":9}],"validTo":"2027-01-01"}`,
		`{"actions":[1,{"budget":null},{"budget":"x"}]}`, `{"status":"Active"}`, `null`, `[`,
	} {
		f.Add([]byte(s))
	}
	store := catalog.NewStore()
	f.Fuzz(func(t *testing.T, b []byte) {
		d, errs := decodeRule(&decodeInput{tenantID: tenantA, doc: b, store: &fakeStore{Store: store}})
		if (d == nil) == (len(errs) == 0) {
			t.Fatalf("decoded %v with %d errors", d, len(errs))
		}
		if d == nil {
			return
		}
		body, err := marshalBody(d.body)
		if err != nil {
			t.Fatalf("encoding an accepted rule: %v", err)
		}
		rec := &schemas.ConfigRecord{TenantID: tenantA, Kind: catalog.KindRule, ID: "r", Version: 1, Body: body}
		if _, err := rules.FromRecord(rec, time.UTC); err != nil {
			t.Fatalf("the stored body %s does not decode: %v", body, err)
		}
	})
}
