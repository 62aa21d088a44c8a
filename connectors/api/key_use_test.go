package api

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// TestKeyUses checks that a key's first use is recorded at once, that
// uses within keyUseResolution of the recorded one are not written again,
// and that a later use is.
func TestKeyUses(t *testing.T) {
	h := newAdminHarness(t)
	u := newKeyUses(h.store, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = u.Run(ctx) }()

	recorded := func(want time.Time) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := lastUsed(h.store, tenantA, "tmk_key")
			if got != nil && got.Equal(want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("lastUsedAt = %v, want %v", got, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if lastUsed(h.store, tenantA, "tmk_key") != nil {
		t.Fatal("a key never used has a lastUsedAt")
	}
	u.note(tenantA, "tmk_key", t0)
	recorded(t0)

	u.note(tenantA, "tmk_key", t0.Add(time.Minute))
	u.mu.Lock()
	queued := len(u.pending)
	u.mu.Unlock()
	if queued != 0 {
		t.Fatalf("a use within %v of the recorded one was queued", keyUseResolution)
	}

	later := t0.Add(keyUseResolution + time.Second)
	u.note(tenantA, "tmk_key", later)
	recorded(later)
	// An older use, seen late, never moves lastUsedAt back.
	if err := u.write(ctx, tenantA, "tmk_key", t0); err != nil {
		t.Fatal(err)
	}
	recorded(later)
}
