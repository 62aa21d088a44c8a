package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/schemas"
)

// keyUseResolution is how stale a key's recorded lastUsedAt may get before
// a use records it again: a key used all day is written once per period,
// not on every request.
const keyUseResolution = 5 * time.Minute

// keyUse is the body of an api-key-use record.
type keyUse struct {
	LastUsedAt time.Time `json:"lastUsedAt"`
}

// lastUsed returns when an API key was last used, as recorded on the
// config topic; nil when it never was.
func lastUsed(st configStore, tenantID, keyID string) *time.Time {
	rec, ok := st.Object(tenantID, catalog.KindAPIKeyUse, keyID)
	if !ok {
		return nil
	}
	var u keyUse
	if json.Unmarshal([]byte(rec.Body), &u) != nil || u.LastUsedAt.IsZero() {
		return nil
	}
	return &u.LastUsedAt
}

// keyUses records API key uses. The authenticator notes each use; when
// the key's recorded lastUsedAt is missing or older than keyUseResolution,
// the use is queued and Run writes it to the config topic, so that every
// instance's Admin API shows it.
type keyUses struct {
	store configStore
	log   *slog.Logger

	mu sync.Mutex
	// recorded caches each key's recorded lastUsedAt, so that a request
	// costs a map lookup, not a catalog read and a JSON decode.
	recorded map[[2]string]time.Time
	pending  map[[2]string]time.Time // tenant, key → newest use not yet written
	wake     chan struct{}
}

func newKeyUses(store configStore, log *slog.Logger) *keyUses {
	return &keyUses{store: store, log: log, recorded: map[[2]string]time.Time{},
		pending: map[[2]string]time.Time{}, wake: make(chan struct{}, 1)}
}

// note records a use of a key at t.
func (u *keyUses) note(tenantID, keyID string, t time.Time) {
	k := [2]string{tenantID, keyID}
	u.mu.Lock()
	last, cached := u.recorded[k]
	u.mu.Unlock()
	if !cached {
		if at := lastUsed(u.store, tenantID, keyID); at != nil {
			last = *at
		}
	}
	if !last.IsZero() && t.Sub(last) < keyUseResolution {
		u.remember(k, last)
		return
	}
	u.mu.Lock()
	if t.After(u.pending[k]) {
		u.pending[k] = t
	}
	u.mu.Unlock()
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// remember caches t as the key's recorded lastUsedAt unless a later time
// is cached.
func (u *keyUses) remember(k [2]string, t time.Time) {
	u.mu.Lock()
	if t.After(u.recorded[k]) {
		u.recorded[k] = t
	}
	u.mu.Unlock()
}

// Run writes queued uses until ctx ends. A write that fails is logged and
// dropped: the next use of the key queues it again.
func (u *keyUses) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-u.wake:
		}
		u.mu.Lock()
		batch := u.pending
		u.pending = map[[2]string]time.Time{}
		u.mu.Unlock()
		for k, t := range batch {
			if err := u.write(ctx, k[0], k[1], t); err != nil && ctx.Err() == nil {
				u.log.Warn("recording API key use failed", "key", k[1], "err", err)
			}
		}
	}
}

// write records t as the key's lastUsedAt unless a later use is recorded
// already (by another instance).
func (u *keyUses) write(ctx context.Context, tenantID, keyID string, t time.Time) error {
	k := [2]string{tenantID, keyID}
	if last := lastUsed(u.store, tenantID, keyID); last != nil && !t.After(*last) {
		u.remember(k, *last)
		return nil
	}
	t = t.UTC().Truncate(time.Millisecond)
	body, err := json.Marshal(keyUse{LastUsedAt: t})
	if err != nil {
		return fmt.Errorf("encoding key use: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, adminWriteTimeout)
	defer cancel()
	if _, err := u.store.Put(ctx, &schemas.ConfigRecord{
		TenantID: tenantID, Kind: catalog.KindAPIKeyUse, ID: keyID, Version: 1,
		CreatedAt: t, ChangedAt: t, Body: string(body),
	}); err != nil {
		return fmt.Errorf("writing key use: %w", err)
	}
	u.remember(k, t)
	return nil
}
