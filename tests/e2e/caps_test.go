package e2e

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/processors/topics"
)

// TestDailyCapHoldsUnderLoadAndRestart sends 50 matching events for one
// customer at once, among events of 150 other customers spread over every
// partition, kills the processor with SIGKILL before it commits, and
// restarts it. A rule awarding 7 points per event with a daily cap of 100
// per customer must award exactly 100.
func TestDailyCapHoldsUnderLoadAndRestart(t *testing.T) {
	s := startAPIStack(t)

	s.must(http.StatusCreated, "POST", "/admin/rules", map[string]any{
		"name": "Play bonus", "eventType": "action", "status": "Active",
		"criteria": []any{map[string]any{"type": "nameSpace", "op": "equals", "value": "Game.Play"}},
		"actions": []any{map[string]any{"type": "awardPoints", "points": 7,
			"maxPerCustomerPerPeriod": map[string]any{"points": 100, "period": map[string]any{"n": 1, "unit": "day"}}}},
	}, nil)

	// Commits an hour apart: everything consumed before the kill is
	// consumed again after the restart.
	proc := startProcessor(t, s, "--commit-interval=1h")

	player := uuid.NewString()
	var ids []string
	var batches [][]any
	for b := range 4 {
		var evs []any
		for i := range 50 {
			cust := uuid.NewString()
			if i%4 == b { // the player's events, spread over all four batches
				cust = player
			}
			id := uuid.NewString()
			if cust == player {
				ids = append(ids, id)
			}
			evs = append(evs, map[string]any{"eventId": id, "customerId": cust, "nameSpace": "Game.Play",
				"action": map[string]any{}})
		}
		batches = append(batches, evs)
	}
	// 4 batches × ~12.5 player events = 50 in all.
	if len(ids) != 50 {
		t.Fatalf("test set-up: %d player events, want 50", len(ids))
	}

	var wg sync.WaitGroup
	for _, evs := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.do("POST", "/events:batch", map[string]any{"events": evs}, nil)
			if r.status != http.StatusOK {
				t.Errorf("batch: %d %s", r.status, r.raw)
			}
		}()
	}
	wg.Wait()

	// Kill the processor once it is part-way through the player's events.
	eventually(t, 60*time.Second, "some points awarded", func() (bool, string) {
		b := s.balance(player)
		return b > 0, "balance " + itoa(b)
	})
	if err := proc.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	startProcessor(t, s)

	// Every record processed and committed by the restarted processor, then
	// the balance is exactly the cap. (Statuses are not waited for: one
	// written just before the kill may be lost, a documented limitation.)
	names := topics.New(s.cfg.TopicPrefix)
	eventually(t, 90*time.Second, "every event processed after the restart", func() (bool, string) {
		n, end := committed(t, s.brokers, string(names.CustomerGroup()), names.Events()), eventRecords(t, s)
		return n == end, "committed " + itoa(n) + " of " + itoa(end)
	})
	if got := s.balance(player); got != 100 {
		t.Fatalf("balance = %d after 50 events of 7 points under a daily cap of 100, want exactly 100", got)
	}
}
