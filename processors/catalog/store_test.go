package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

const tenant = "11111111-1111-4111-8111-111111111111"

func economyRecord(id, status, effectiveFrom string, changed time.Time) *schemas.ConfigRecord {
	return &schemas.ConfigRecord{
		TenantID: tenant, Kind: KindEconomy, ID: id, Status: &status, ChangedAt: changed,
		Body: `{"name":"` + id + `","basePointsPerUnit":"1","effectiveFrom":"` + effectiveFrom + `"}`,
	}
}

func TestEconomyAt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewStore()
	recs := []*schemas.ConfigRecord{
		economyRecord("old", StatusActive, "2020-01-01T00:00:00Z", t0),
		economyRecord("new", StatusActive, "2026-06-01T00:00:00Z", t0),
		economyRecord("tie-early", StatusActive, "2025-01-01T00:00:00Z", t0),
		economyRecord("tie-late", StatusActive, "2025-01-01T00:00:00Z", t0.Add(time.Hour)),
		economyRecord("draft", StatusConfigure, "2026-03-01T00:00:00Z", t0),
		economyRecord("stopped", StatusInactive, "2026-04-01T00:00:00Z", t0),
	}
	for i, r := range recs {
		if err := s.Apply("k", r, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		at   string
		want string
	}{
		{name: "before any", at: "2019-12-31T23:59:59Z", want: ""},
		{name: "only the old one", at: "2024-06-01T00:00:00Z", want: "old"},
		{name: "tie goes to the latest activated", at: "2025-06-01T00:00:00Z", want: "tie-late"},
		{name: "non-active ignored", at: "2026-05-01T00:00:00Z", want: "tie-late"},
		{name: "effective exactly now", at: "2026-06-01T00:00:00Z", want: "new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, _ := time.Parse(time.RFC3339, tt.at)
			e, ok := s.EconomyAt(tenant, at)
			if got := map[bool]string{true: e.ID, false: ""}[ok]; got != tt.want {
				t.Fatalf("EconomyAt(%s) = %q, want %q", tt.at, got, tt.want)
			}
		})
	}
}

func TestApplyTombstoneAndBadRecord(t *testing.T) {
	s := NewStore()
	key := "k"
	if err := s.Apply(key, &schemas.ConfigRecord{TenantID: tenant, Kind: KindAPIKey, ID: "tmk_1",
		Body: `{"name":"n","scope":"admin","enabled":true}`}, 0); err != nil {
		t.Fatal(err)
	}
	if k, ok := s.APIKey(tenant, "tmk_1"); !ok || !k.Covers(ScopeEvents) {
		t.Fatalf("key not applied: %+v %v", k, ok)
	}
	if err := s.Apply(tenant+"/"+KindAPIKey+"/tmk_1", nil, 1); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.APIKey(tenant, "tmk_1"); ok {
		t.Fatal("tombstone did not remove the key")
	}
	bad := economyRecord("bad", StatusActive, "2020-01-01T00:00:00Z", time.Time{})
	bad.Body = `{"basePointsPerUnit":"-1"}`
	if err := s.Apply(key, bad, 2); err == nil {
		t.Fatal("negative rate accepted")
	}
	if s.Applied() != 3 {
		t.Fatalf("Applied() = %d, want 3: a bad record still counts as applied", s.Applied())
	}
}

func TestWaitFor(t *testing.T) {
	s := NewStore()
	ctx := context.Background()
	if err := s.WaitFor(ctx, 1, 20*time.Millisecond); !errors.Is(err, ErrLagging) {
		t.Fatalf("WaitFor before apply = %v, want ErrLagging", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.WaitFor(ctx, 2, 5*time.Second) }()
	_ = s.Apply("k", &schemas.ConfigRecord{TenantID: tenant, Kind: KindTenant, Body: `{}`}, 0)
	_ = s.Apply("k", &schemas.ConfigRecord{TenantID: tenant, Kind: KindTenant, Body: `{}`}, 1)
	if err := <-done; err != nil {
		t.Fatalf("WaitFor after apply = %v", err)
	}
	if tn, ok := s.Tenant(tenant); !ok || tn.TimeZone != "UTC" {
		t.Fatalf("tenant = %+v, want default time zone UTC", tn)
	}
}

func TestObjects(t *testing.T) {
	s := NewStore()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	put := func(off int64, id string, created time.Time) {
		t.Helper()
		rec := &schemas.ConfigRecord{TenantID: tenant, Kind: KindWebhook, ID: id, Version: 1,
			CreatedAt: created, ChangedAt: created, Body: `{"name":"` + id + `"}`}
		if err := s.Apply(tenant+"/"+KindWebhook+"/"+id, rec, off); err != nil {
			t.Fatal(err)
		}
	}
	put(0, "b", t0)
	put(1, "c", t0.Add(-time.Hour))
	put(2, "a", t0)
	put(3, "b", t0) // a new version replaces the old
	var ids []string
	for _, r := range s.Objects(tenant, KindWebhook) {
		ids = append(ids, r.ID)
	}
	if got := strings.Join(ids, ","); got != "c,a,b" {
		t.Fatalf("Objects = %s, want c,a,b (by createdAt, then id)", got)
	}
	if len(s.Objects("other", KindWebhook)) != 0 {
		t.Fatal("another tenant sees the objects")
	}
	if err := s.Apply(tenant+"/"+KindWebhook+"/a", nil, 4); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Object(tenant, KindWebhook, "a"); ok {
		t.Fatal("tombstone did not remove the object")
	}

	// An economy the engine refuses is not kept as an object either.
	bad := economyRecord("bad", StatusActive, "2020-01-01T00:00:00Z", t0)
	bad.Body = `{"basePointsPerUnit":"x"}`
	_ = s.Apply("k", bad, 5)
	if _, ok := s.Object(tenant, KindEconomy, "bad"); ok {
		t.Fatal("a refused economy is listed")
	}
}

func TestDecimal(t *testing.T) {
	tests := []struct {
		body string
		rate string
		json string
	}{
		{body: `{"basePointsPerUnit":2}`, rate: "2", json: `2`},
		{body: `{"basePointsPerUnit":"1.50"}`, rate: "3/2", json: `1.5`},
		{body: `{"basePointsPerUnit":0.1}`, rate: "1/10", json: `0.1`},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			rec := economyRecord("e", StatusActive, "2020-01-01T00:00:00Z", time.Time{})
			rec.Body = `{"name":"e","effectiveFrom":"2020-01-01T00:00:00Z",` + tt.body[1:]
			e, err := decodeEconomy(rec)
			if err != nil {
				t.Fatal(err)
			}
			if e.Rate().RatString() != tt.rate {
				t.Fatalf("rate = %s, want %s", e.Rate().RatString(), tt.rate)
			}
			b, err := json.Marshal(e.BasePointsPerUnit)
			if err != nil || string(b) != tt.json {
				t.Fatalf("marshalled %s, %v; want %s", b, err, tt.json)
			}
		})
	}
}
