package budget

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hamba/avro/v2"

	"github.com/tallymarks/tallymarks/schemas"
)

var now = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// requestID returns the UUID a request named name has in these tests.
func requestID(name string) uuid.UUID { return uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)) }

func request(name string, action int, budget, points int64) *schemas.BudgetRequest {
	return &schemas.BudgetRequest{
		RequestID: requestID(name).String(), TenantID: "t", CustomerID: "c-" + name, EventID: "e-" + name,
		RuleID: "launch", RuleVersion: 1, ActionIndex: action, Budget: budget, Points: points,
	}
}

// TestDecide grants requests in order until the budget is used up: in
// full, then clamped, then nothing.
func TestDecide(t *testing.T) {
	var st *schemas.BudgetState
	steps := []struct {
		req           *schemas.BudgetRequest
		granted, used int64
	}{
		{request("a", 0, 100, 40), 40, 40},
		{request("b", 0, 100, 40), 40, 80},
		{request("c", 0, 100, 40), 20, 100},
		{request("d", 0, 100, 40), 0, 100},
		// Another action of the rule has a budget of its own.
		{request("e", 1, 10, 4), 4, 4},
		// A raised budget (a new rule version) counts what was used.
		{request("f", 0, 130, 40), 30, 130},
	}
	for _, s := range steps {
		var g schemas.BudgetGrant
		st, g = Decide(st, s.req, now)
		if g.Granted != s.granted || g.Used != s.used || g.Requested != s.req.Points ||
			g.CustomerID != s.req.CustomerID || g.EventID != s.req.EventID || g.RequestID != s.req.RequestID {
			t.Fatalf("request %s: grant %+v, want granted %d, used %d", s.req.RequestID, g, s.granted, s.used)
		}
	}
	if Used(st, 0) != 130 || Used(st, 1) != 4 || Used(st, 2) != 0 || Used(nil, 0) != 0 {
		t.Fatalf("used: %+v", st.Used)
	}
}

// TestDecideRepeatedRequest checks that a request seen again gets its
// original grant and changes nothing, even once the budget is used up.
func TestDecideRepeatedRequest(t *testing.T) {
	st, first := Decide(nil, request("a", 0, 50, 30), now)
	st, _ = Decide(st, request("b", 0, 50, 30), now)
	again, g := Decide(st, request("a", 0, 50, 30), now)
	if again != st {
		t.Fatal("a repeated request wrote a new state")
	}
	if g.Granted != first.Granted || g.Granted != 30 || Used(again, 0) != 50 {
		t.Fatalf("repeated grant %+v, first %+v, used %d", g, first, Used(again, 0))
	}
}

// TestDecideRemembersRecentGrants bounds the memory of grants and keeps
// the newest.
func TestDecideRemembersRecentGrants(t *testing.T) {
	var st *schemas.BudgetState
	for i := range RecentGrants + 20 {
		st, _ = Decide(st, request(fmt.Sprint(i), 0, 1e9, 1), now)
	}
	if len(st.Recent) != RecentGrants {
		t.Fatalf("%d recent grants kept, want %d", len(st.Recent), RecentGrants)
	}
	if st.Recent[0].RequestID != requestID("20") || st.Recent[RecentGrants-1].RequestID != requestID(fmt.Sprint(RecentGrants+19)) {
		t.Fatalf("kept %x..%x", st.Recent[0].RequestID, st.Recent[RecentGrants-1].RequestID)
	}
	if Used(st, 0) != RecentGrants+20 {
		t.Fatalf("used %d", Used(st, 0))
	}
}

// BenchmarkDecide decides a request against a rule whose state holds the
// full window of recent grants, the keeper's steady state.
func BenchmarkDecide(b *testing.B) {
	var st *schemas.BudgetState
	for i := range RecentGrants {
		st, _ = Decide(st, request(fmt.Sprint(i), 0, 1e12, 1), now)
	}
	reqs := make([]*schemas.BudgetRequest, 1024)
	for i := range reqs {
		reqs[i] = request(fmt.Sprint("n", i), 0, 1e12, 1)
	}
	// The record the keeper writes per request, without framing.
	enc, err := avro.Marshal(schemas.MustSchema(schemas.BudgetStateSchema), st)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		_, _ = Decide(st, reqs[i%len(reqs)], now)
	}
	b.ReportMetric(float64(len(enc)), "state-bytes")
}
