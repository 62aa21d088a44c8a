package e2e

import (
	"net/http"
	"sync"
	"testing"

	"github.com/tallymarks/tallymarks/cmd/tallymarks/app"
)

// TestConfigWritesRaceAcrossInstances edits one rule through two API
// instances at once, 20 times over. Each instance checks a change against
// its own catalog, which may not have the other's latest write yet; the
// config writer must let exactly one change per version through and
// answer the other 409 version_conflict. Every successful edit must get a
// version of its own, and the rule's final version must count them all.
func TestConfigWritesRaceAcrossInstances(t *testing.T) {
	a := startStack(t, stackOptions{})
	b := startStack(t, stackOptions{roles: []string{app.RoleAPI}, brokers: a.brokers, registry: a.regURL,
		prefix: a.cfg.TopicPrefix, creds: a.creds})

	created := a.must(http.StatusCreated, "POST", "/admin/rules", map[string]any{
		"name": "Raced", "eventType": "action",
		"criteria": []any{map[string]any{"type": "everyEvent"}},
		"actions":  []any{map[string]any{"type": "awardPoints", "points": 1}},
	}, nil).body
	path := "/admin/rules/" + created["id"].(string)

	versions := map[float64]string{}
	var mu sync.Mutex
	ok, conflicts := 0, 0
	for round := range 20 {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, s := range []*stack{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				name := "Raced " + itoa(int64(round)) + "/" + itoa(int64(i))
				r := s.do("PATCH", path, map[string]any{"name": name}, nil)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case r.status == http.StatusOK:
					ok++
					v := r.body["version"].(float64)
					if other, dup := versions[v]; dup {
						t.Errorf("version %v given to two edits: %q and %q", v, other, name)
					}
					versions[v] = name
				case r.status == http.StatusConflict && r.body["code"] == "version_conflict":
					conflicts++
				default:
					t.Errorf("PATCH: %d %s", r.status, r.raw)
				}
			}()
		}
		close(start)
		wg.Wait()
	}
	final := a.must(http.StatusOK, "GET", path, nil, nil).body
	if int(final["version"].(float64)) != ok+1 {
		t.Fatalf("final version %v after %d successful edits, want %d", final["version"], ok, ok+1)
	}
	if last := versions[final["version"].(float64)]; final["name"] != last {
		t.Fatalf("final name %v, want the last successful edit's %q", final["name"], last)
	}
	t.Logf("%d edits written, %d refused as version_conflict", ok, conflicts)
}
