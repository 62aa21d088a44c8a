package rules

import (
	"strconv"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// BenchmarkAssess assesses an order against 20 Active order rules of
// typical shapes: half match, with points actions, caps, segments and a
// webhook, and one exclusive rule near the end.
func BenchmarkAssess(b *testing.B) {
	shapes := []struct{ crit, act string }{
		{`{"type":"nameSpace","op":"beginsWith","value":"Order."},{"type":"total","op":"gte","value":50}`,
			`{"type":"pointsPerSpend","pointsPerUnit":1.5,"rounding":"nearest","maxPerEvent":500}`},
		{`{"type":"inSegment","segmentId":"vip"},{"type":"skuIn","skus":["X","Y","B"]}`,
			`{"type":"multiplyBasePoints","factor":2},{"type":"addToSegment","segmentId":"buyers"}`},
		{`{"type":"xOverT","x":2,"period":{"n":30,"unit":"day"}},{"type":"attribute","key":"channel","op":"exists"}`,
			`{"type":"awardPoints","points":25,"maxPerCustomerPerPeriod":{"points":100,"period":{"n":1,"unit":"month"}}}`},
		{`{"type":"campaign","value":"autumn"}`, `{"type":"awardPoints","points":5,"budget":100000}`},
		{`{"type":"lifetimeSpend","op":"gte","value":1000},{"type":"level","levelId":"gold"}`,
			`{"type":"callWebhook","webhookId":"wh"}`},
	}
	rules := make([]*Rule, 20)
	for i := range rules {
		sh := shapes[i%len(shapes)]
		r := activeRule(b, "rule-"+strconv.Itoa(i), schemas.TypeOrder, sh.crit, sh.act)
		r.Priority, r.CreatedAt = i%3, t0.Add(-time.Duration(i)*time.Hour)
		r.Exclusive = i == 18
		rules[i] = r
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		loc = time.UTC
	}
	s := Subject{Event: eventOf(schemas.TypeOrder), Customer: newCustomer(), Usage: fakeUsage{},
		Location: loc, BasePoints: 120}

	b.ReportAllocs()
	for b.Loop() {
		a := Assess(rules, s)
		if len(a.Awards) == 0 {
			b.Fatal("nothing awarded")
		}
	}
}
