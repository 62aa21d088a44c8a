package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/cmd/tallymarks/app"
	"github.com/tallymarks/tallymarks/processors/backtest"
	"github.com/tallymarks/tallymarks/tests/testenv"
)

// backtestJob is GET /admin/rules/backtest/{jobId}; the results are in the
// evaluator's own type, whose JSON form the OpenAPI check holds to the
// document.
type backtestJob struct {
	Status   string            `json:"status"`
	Progress float64           `json:"progress"`
	Source   string            `json:"source"`
	Results  []backtest.Result `json:"results"`
	Error    string            `json:"error"`
}

// backtest starts a backtest and waits until its job is no longer running.
func (s *stack) backtest(ruleIDs []string, from, to time.Time) backtestJob {
	s.t.Helper()
	r := s.must(http.StatusAccepted, "POST", "/admin/rules/backtest", map[string]any{
		"ruleIds": ruleIDs, "from": from.Format(time.RFC3339Nano), "to": to.Format(time.RFC3339Nano),
	}, nil)
	path := "/admin/rules/backtest/" + r.body["jobId"].(string)
	var job backtestJob
	eventually(s.t, 60*time.Second, "backtest done", func() (bool, string) {
		g := s.must(http.StatusOK, "GET", path, nil, nil)
		job = backtestJob{}
		if err := json.Unmarshal([]byte(g.raw), &job); err != nil {
			s.t.Fatalf("decoding %s: %v", g.raw, err)
		}
		return job.Status != "running", g.raw
	})
	if job.Status != "done" {
		s.t.Fatalf("backtest %s: %+v", path, job)
	}
	return job
}

// backtestScenario sends the events of three customers and backtests three
// rules over a window of them, each with an exact expectation:
//
//   - web, in Configure: 5 points per Order.Web order;
//   - second, in Test: 100 points on every 2nd order, which needs the
//     orders before the window, known only from the snapshots;
//   - capped, Active since before the events: 7 points per order, at most
//     10 per customer and day, counted from zero at from although Ann's
//     order before the window used 7 of her day's 10 in the real run.
//
// wantSource is the source the job must have read.
func backtestScenario(t *testing.T, s *stack, wantSource string) {
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1).Add(10 * time.Hour)
	at := func(minutes int) string {
		return day.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339)
	}
	from, to := day.Add(time.Hour), day.Add(5*time.Hour)

	capped := s.activeRule(map[string]any{
		"name": "Capped", "eventType": "order", "criteria": []any{map[string]any{"type": "everyEvent"}},
		"actions": []any{map[string]any{"type": "awardPoints", "points": 7,
			"maxPerCustomerPerPeriod": map[string]any{"points": 10, "period": map[string]any{"n": 1, "unit": "day"}}}},
	})

	ann, bob, cara := uuid.NewString(), uuid.NewString(), uuid.NewString()
	dated := func(ev map[string]any, minutes int) map[string]any {
		ev["createdAt"] = at(minutes)
		return ev
	}
	annInWindow := dated(order(ann, "Order.Web", 20), 120)
	for _, ev := range []map[string]any{
		dated(order(ann, "Order.Web", 10), 0), // before the window
		annInWindow,
		dated(order(ann, "Order.App", 30), 180),
		dated(order(ann, "Order.Web", 40), 240),
		dated(order(bob, "Order.Web", 10), 150),
		dated(order(bob, "Order.Web", 10), 300), // at to: outside
		dated(action(cara, "Customer.Signup"), 120),
		dated(order(cara, "Order.App", 5), 130),
	} {
		s.post(map[bool]string{true: "orders", false: "actions"}[ev["order"] != nil], ev)
	}
	// The same order again: a duplicate, assessed once.
	s.must(http.StatusAlreadyReported, "POST", "/events/orders", annInWindow, nil)

	web := s.must(http.StatusCreated, "POST", "/admin/rules", map[string]any{
		"name": "Web", "eventType": "order", "criteria": []any{nameSpaceIs("Order.Web")},
		"actions": []any{award(5)},
	}, nil).body["id"].(string)
	second := s.must(http.StatusCreated, "POST", "/admin/rules", map[string]any{
		"name": "Second", "eventType": "order", "status": "Test",
		"criteria": []any{map[string]any{"type": "everyNthEvent", "n": 2}}, "actions": []any{award(100)},
	}, nil).body["id"].(string)

	want := []backtest.Result{
		{RuleID: web, Version: 1, EventsConsidered: 5, EventsMatched: 3, CustomersMatched: 2, Points: 15,
			Actions: map[string]int64{"awardPoints": 3}},
		{RuleID: second, Version: 1, EventsConsidered: 5, EventsMatched: 2, CustomersMatched: 1, Points: 200,
			Actions: map[string]int64{"awardPoints": 2}},
		// Ann 7 + 3 (her third order in the window is skipped), Bob 7, Cara 7.
		{RuleID: capped, Version: 1, EventsConsidered: 5, EventsMatched: 5, CustomersMatched: 3, Points: 24,
			Actions: map[string]int64{"awardPoints": 4}},
	}

	// The assessment records reach the source a moment after the events
	// are answered (ClickHouse about a second later): backtest again until
	// every event is there, then hold every figure to its exact value.
	var job backtestJob
	eventually(t, 60*time.Second, "every event in the backtest", func() (bool, string) {
		job = s.backtest([]string{web, second, capped}, from, to)
		return len(job.Results) == 3 && job.Results[0].EventsConsidered == 5, job.Source
	})
	if job.Source != wantSource || job.Progress != 1 {
		t.Errorf("source %q, progress %v; want %q and 1", job.Source, job.Progress, wantSource)
	}
	if !reflect.DeepEqual(job.Results, want) {
		t.Fatalf("results:\n got %+v\nwant %+v", job.Results, want)
	}
}

// TestBacktestFromKafka backtests over the assessments topic.
func TestBacktestFromKafka(t *testing.T) {
	s := startStack(t, stackOptions{})
	backtestScenario(t, s, "kafka")
}

// TestBacktestFromClickHouse backtests over the sink's assessments table.
func TestBacktestFromClickHouse(t *testing.T) {
	chAddr := testenv.ClickHouse(t)
	s := startStack(t, stackOptions{
		roles:      []string{app.RoleAPI, app.RoleProcessor, app.RoleSink},
		clickhouse: chAddr,
	})
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{chAddr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+s.cfg.ClickHouseDatabase)
		_ = conn.Close()
	})
	backtestScenario(t, s, "clickhouse")
}

// TestBacktestRequests checks what is refused, and that a job is visible
// only to its own tenant.
func TestBacktestRequests(t *testing.T) {
	s := startStack(t, stackOptions{})
	rule := s.must(http.StatusCreated, "POST", "/admin/rules", map[string]any{
		"name": "Any", "eventType": "action", "criteria": []any{map[string]any{"type": "everyEvent"}},
		"actions": []any{award(1)},
	}, nil).body["id"].(string)
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }

	tests := []struct {
		name   string
		body   any
		status int
		params string
	}{
		{"missing fields", map[string]any{}, 400, "/from /ruleIds /to"},
		{"from after to", map[string]any{"ruleIds": []string{rule}, "from": ts(0), "to": ts(-time.Hour)}, 400, "/to"},
		{"window over 366 days", map[string]any{"ruleIds": []string{rule}, "from": ts(-367 * 24 * time.Hour),
			"to": ts(0)}, 400, "/to"},
		{"rule listed twice", map[string]any{"ruleIds": []string{rule, rule}, "from": ts(-time.Hour), "to": ts(0)},
			400, "/ruleIds/1"},
		{"unknown rule", map[string]any{"ruleIds": []string{rule, "nope"}, "from": ts(-time.Hour), "to": ts(0)},
			422, "/ruleIds/1"},
		{"unknown field", map[string]any{"ruleIds": []string{rule}, "from": ts(-time.Hour), "to": ts(0),
			"dryRun": true}, 400, "/dryRun"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.must(tt.status, "POST", "/admin/rules/backtest", tt.body, nil)
			if got := errorParams(r); got != tt.params {
				t.Fatalf("error params %q, want %q: %s", got, tt.params, r.raw)
			}
		})
	}

	// An empty window is done at once with zeros; another tenant cannot
	// see the job.
	job := s.must(http.StatusAccepted, "POST", "/admin/rules/backtest",
		map[string]any{"ruleIds": []string{rule}, "from": ts(-time.Hour), "to": ts(0)}, nil).body["jobId"].(string)
	other, err := app.SeedDemo(context.Background(), s.app.Catalog(), app.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	s.must(http.StatusNotFound, "GET", "/admin/rules/backtest/"+job, nil,
		as(other.TenantID, other.APIKey, other.APISecret))
	s.must(http.StatusNotFound, "GET", "/admin/rules/backtest/"+uuid.NewString(), nil, nil)
	eventually(t, 30*time.Second, "empty backtest done", func() (bool, string) {
		r := s.must(http.StatusOK, "GET", "/admin/rules/backtest/"+job, nil, nil)
		return r.body["status"] == "done", r.raw
	})
}
