package customer

import (
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// TestSnapshotAnswersAsTheProcessor assesses every event of a customer's
// history twice: in Apply on the live state, and from the event's
// assessment record after an Avro round trip. The traces must be equal,
// criterion by criterion: their details quote the counts, sums, peaks,
// balances and memberships each criterion read.
func TestSnapshotAnswersAsTheProcessor(t *testing.T) {
	set := []*rules.Rule{
		rule(t, "join", t0, `{"name":"Join","eventType":"action",
			"criteria":[{"type":"nameSpace","op":"equals","value":"Customer.Registration"}],
			"actions":[{"type":"addToSegment","segmentId":"members"},
				{"type":"sendEmail","subjectTemplate":"Hi","bodyTemplate":"Welcome"}]}`),
		rule(t, "member", t0, `{"name":"Member","eventType":"order",
			"criteria":[{"type":"inSegment","segmentId":"members"}],"actions":[{"type":"awardPoints","points":1}]}`),
		rule(t, "second", t0, `{"name":"Second","eventType":"order",
			"criteria":[{"type":"everyNthEvent","n":2}],"actions":[{"type":"multiplyBasePoints","factor":2}]}`),
		rule(t, "week", t0, `{"name":"Week","eventType":"order",
			"criteria":[{"type":"xOverT","x":2,"period":{"n":3,"unit":"day"}}],"actions":[{"type":"awardPoints","points":1}]}`),
		rule(t, "threshold", t0, `{"name":"Threshold","eventType":"order",
			"criteria":[{"type":"lifetimeThreshold","value":30}],"actions":[{"type":"awardPoints","points":1}]}`),
		rule(t, "spend", t0, `{"name":"Spend","eventType":"order",
			"criteria":[{"type":"lifetimeSpend","op":"gte","value":40}],"actions":[{"type":"awardPoints","points":1}]}`),
		rule(t, "gold", t0, `{"name":"Gold","eventType":"order",
			"criteria":[{"type":"level","levelId":"gold"}],"actions":[{"type":"awardPoints","points":1}]}`),
		rule(t, "balance", t0, `{"name":"Balance","eventType":"points","criteria":[
			{"type":"balance","op":"gte","value":50},
			{"type":"previousBalance","op":"gte","value":40},
			{"type":"lifetimeEarned","op":"gte","value":60}],
			"actions":[{"type":"awardPoints","points":1}]}`),
	}
	email := "ann@example.com"
	st := Apply(nil, action("reg"), Input{Economy: economy(t, "1", ""), Now: t0, Rules: set}).State
	st.Profile.EmailAddress, st.Profile.OptinEmail = &email, true

	events := []*schemas.Event{
		order("o1", big.NewRat(12, 1), "Order.Web"),
		order("o2", big.NewRat(20, 1), "Order.Web"),
		order("r1", big.NewRat(5, 1), "Refund.Web"),
		order("o3", big.NewRat(4, 1), "Order.App"),
		order("o4", big.NewRat(9, 1), "Order.Web"),
		points("p1", 10),
		points("p2", -3),
		action("reg2"),
	}
	codec := schemas.MustSchema(schemas.AssessmentSchema)
	for i, ev := range events {
		ev.CreatedAt = t0.Add(time.Duration(i) * 26 * time.Hour)
		t.Run(ev.EventID, func(t *testing.T) {
			res := Apply(st, ev, Input{Offset: int64(i + 1), Economy: economy(t, "1", ""), Now: t0, Rules: set})
			st = res.State
			if res.Assessment == nil {
				t.Fatal("no assessment record for a processed client event")
			}
			b, err := avro.Marshal(codec, res.Assessment)
			if err != nil {
				t.Fatalf("encoding: %v", err)
			}
			var back schemas.Assessment
			if err := avro.Unmarshal(codec, b, &back); err != nil {
				t.Fatalf("decoding: %v", err)
			}
			replay := rules.Assess(set, rules.Subject{
				Event: &back.Event, Customer: SnapshotCustomer(&back),
				BasePoints: back.Snapshot.BasePoints, Location: time.UTC,
			})
			live, _ := json.Marshal(res.Trace.Rules)
			again, _ := json.Marshal(replay.Trace.Rules)
			if string(live) != string(again) {
				t.Fatalf("trace from the snapshot differs:\nlive   %s\nreplay %s", live, again)
			}
		})
	}

	// The history must have exercised the criteria both ways: a snapshot
	// that answered everything with zero would pass the loop above on
	// events that match nothing.
	res := Apply(st, order("o5", big.NewRat(1, 1), "Order.Web"),
		Input{Offset: 99, Economy: economy(t, "1", ""), Now: t0, Rules: set})
	if got := res.Assessment.Snapshot; got.Counters[1].Count != 5 || len(got.Segments) != 1 ||
		got.Window == nil || got.Window.Total != 4 || got.EmailAddress == nil {
		t.Fatalf("snapshot of the sixth order: %+v", got)
	}
}

// TestNoSnapshotWithoutAssessment lists the events that get no assessment
// record: refused spends, duplicates, redeliveries, system events, baskets
// and dry runs.
func TestNoSnapshotWithoutAssessment(t *testing.T) {
	st := Apply(nil, action("reg"), Input{Now: t0}).State
	system := action("sys")
	system.Origin = schemas.OriginSystem
	tests := []struct {
		name string
		ev   *schemas.Event
		in   Input
	}{
		{"refused spend", points("spend", -5), Input{Offset: 1}},
		{"duplicate", action("reg"), Input{Offset: 2}},
		{"redelivery", action("reg"), Input{Offset: 0}},
		{"system event", system, Input{Offset: 3}},
		{"basket", basket("cart", big.NewRat(3, 1)), Input{Offset: 4}},
		{"dry run", action("dry"), Input{Offset: 5, DryRun: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if res := Apply(st, tt.ev, tt.in); res.Assessment != nil {
				t.Fatalf("assessment record written: %+v", res.Assessment)
			}
		})
	}
	if res := Apply(st, action("new"), Input{Offset: 6}); res.Assessment == nil {
		t.Fatal("a new client event got no assessment record")
	}
}
