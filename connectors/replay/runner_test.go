package replay

import (
	"context"
	"errors"
	"log/slog"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// memStore is a Store in memory.
type memStore struct {
	mu   sync.Mutex
	recs map[string]schemas.ConfigRecord
}

func (m *memStore) Object(tenantID, kind, id string) (schemas.ConfigRecord, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.recs[tenantID+"/"+kind+"/"+id]
	return rec, ok
}

func (m *memStore) Objects(tenantID, kind string) []schemas.ConfigRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []schemas.ConfigRecord
	for _, rec := range m.recs {
		if rec.TenantID == tenantID && rec.Kind == kind {
			out = append(out, rec)
		}
	}
	return out
}

func (m *memStore) Delete(_ context.Context, tenantID, kind, id string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, tenantID+"/"+kind+"/"+id)
	return 0, nil
}

func (m *memStore) Put(_ context.Context, rec *schemas.ConfigRecord) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[rec.TenantID+"/"+rec.Kind+"/"+rec.ID] = *rec
	return 0, nil
}

// listSource serves fixed records, then fails with err if set.
type listSource struct {
	recs []*schemas.Assessment
	err  error
}

func (l *listSource) Name() string { return SourceKafka }

func (l *listSource) Read(_ context.Context, _ string, _, _ time.Time,
	progress func(float64), fn func(*schemas.Assessment) error) error {
	for _, a := range l.recs {
		if err := fn(a); err != nil {
			return err
		}
	}
	progress(1)
	return l.err
}

func TestRunner(t *testing.T) {
	tenant, from := uuid.NewString(), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	r, errs := rules.DecodeRule([]byte(`{"name":"All","eventType":"order",
		"criteria":[{"type":"everyEvent"}],"actions":[{"type":"awardPoints","points":4}]}`), time.UTC)
	if errs != nil {
		t.Fatal(errs)
	}
	r.ID, r.Version = "all", 2
	var recs []*schemas.Assessment
	for range 3 {
		recs = append(recs, &schemas.Assessment{TenantID: tenant, CustomerID: uuid.NewString(),
			EventID: uuid.NewString(), Event: schemas.Event{CreatedAt: from.Add(time.Hour),
				Order: &schemas.Order{Total: big.NewRat(1, 1)}},
			Snapshot: schemas.CustomerSnapshot{TimeZone: "UTC", PeakBefore: new(big.Rat)}})
	}

	tests := []struct {
		name    string
		source  *listSource
		maxKeys int
		status  string
		points  int64
		err     string
	}{
		{name: "done", source: &listSource{recs: recs}, status: StatusDone, points: 12},
		{name: "source fails", source: &listSource{recs: recs, err: errors.New("broker gone")},
			status: StatusFailed, err: msgSource},
		{name: "too large", source: &listSource{recs: recs}, maxKeys: 2, status: StatusFailed, err: msgTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &memStore{recs: map[string]schemas.ConfigRecord{}}
			run := NewRunner(Config{Store: store, Source: tt.source, MaxKeys: tt.maxKeys,
				Log: slog.New(slog.DiscardHandler)})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- run.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run() = %v after cancel, want nil", err)
				}
			}()

			id, err := run.Start(ctx, tenant, []*rules.Rule{r}, from, from.Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := run.Job(uuid.NewString(), id); ok {
				t.Fatal("another tenant sees the job")
			}
			var v View
			deadline := time.Now().Add(10 * time.Second)
			for v.Status == "" || v.Status == StatusRunning {
				if time.Now().After(deadline) {
					t.Fatalf("job still %q", v.Status)
				}
				time.Sleep(10 * time.Millisecond)
				v, _, err = run.Job(tenant, id)
				if err != nil {
					t.Fatal(err)
				}
			}
			if v.Status != tt.status || v.Error != tt.err {
				t.Fatalf("job = %+v, want status %q and error %q", v, tt.status, tt.err)
			}
			if tt.status == StatusDone && (len(v.Results) != 1 || v.Results[0].Points != tt.points ||
				v.Results[0].Version != 2 || v.Progress != 1) {
				t.Fatalf("results = %+v, want %d points of rule version 2", v.Results, tt.points)
			}
		})
	}
}

// TestStaleJobShowsFailed reads a running job whose record has not been
// rewritten for longer than StaleAfter.
func TestStaleJobShowsFailed(t *testing.T) {
	running := StatusRunning
	changed := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rec := schemas.ConfigRecord{ID: "j", Status: &running, ChangedAt: changed,
		Body: `{"ruleIds":["a"],"from":"2026-04-01T00:00:00Z","to":"2026-05-01T00:00:00Z","source":"kafka"}`}
	tests := []struct {
		name   string
		now    time.Time
		status string
	}{
		{"heartbeat recent", changed.Add(StaleAfter), StatusRunning},
		{"heartbeat missed", changed.Add(StaleAfter + time.Second), StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := viewOf(&rec, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if v.Status != tt.status || v.Results == nil {
				t.Fatalf("view = %+v, want status %q and results []", v, tt.status)
			}
		})
	}
}

// TestRunnerPrunesOldJobs checks that starting a job deletes the tenant's
// jobs unchanged for JobRetention, and only those.
func TestRunnerPrunesOldJobs(t *testing.T) {
	tenant, other := uuid.NewString(), uuid.NewString()
	now := time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)
	st := &memStore{recs: map[string]schemas.ConfigRecord{}}
	done := StatusDone
	for id, age := range map[string]time.Duration{"old": JobRetention + time.Hour, "recent": time.Hour} {
		for _, tn := range []string{tenant, other} {
			if _, err := st.Put(context.Background(), &schemas.ConfigRecord{TenantID: tn, Kind: KindJob, ID: id,
				Version: 1, Status: &done, CreatedAt: now.Add(-age), ChangedAt: now.Add(-age)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := NewRunner(Config{Store: st, Source: &listSource{}, Log: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return now }})
	if _, err := r.Start(context.Background(), tenant, nil, now.Add(-time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Object(tenant, KindJob, "old"); ok {
		t.Fatal("a job older than the retention was kept")
	}
	if _, ok := st.Object(tenant, KindJob, "recent"); !ok {
		t.Fatal("a recent job was deleted")
	}
	if _, ok := st.Object(other, KindJob, "old"); !ok {
		t.Fatal("another tenant's job was deleted")
	}
}
