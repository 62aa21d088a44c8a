package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// Store is the in-memory catalog of every tenant's configuration. It is
// safe for concurrent use; readers get copies.
type Store struct {
	mu        sync.RWMutex
	tenants   map[string]Tenant
	keys      map[string]APIKey               // by tenantId/keyId
	economies map[string]map[string]*Economy  // by tenantId, then id
	objects   map[string]map[string]objectMap // every record: by tenantId, then kind
	applied   int64                           // offsets below this are applied
	changed   chan struct{}                   // closed and replaced on each apply
}

// NewStore returns an empty store that has applied nothing.
func NewStore() *Store {
	return &Store{
		tenants:   map[string]Tenant{},
		keys:      map[string]APIKey{},
		economies: map[string]map[string]*Economy{},
		objects:   map[string]map[string]objectMap{},
		changed:   make(chan struct{}),
	}
}

// objectMap holds one tenant's records of one kind by id.
type objectMap map[string]schemas.ConfigRecord

// Apply applies the config record at offset; a nil rec is a tombstone for
// the object named by key. A record that cannot be understood is skipped
// (and its error returned) but still counts as applied, so that one bad
// record never blocks readers waiting for later offsets.
func (s *Store) Apply(key string, rec *schemas.ConfigRecord, offset int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.advance(offset + 1)

	if rec == nil {
		return s.remove(key)
	}
	switch rec.Kind {
	case KindTenant:
		var t Tenant
		if err := json.Unmarshal([]byte(rec.Body), &t); err != nil {
			return fmt.Errorf("decoding tenant %s: %w", rec.TenantID, err)
		}
		t.ID = rec.TenantID
		if t.TimeZone == "" {
			t.TimeZone = "UTC"
		}
		s.tenants[rec.TenantID] = t
	case KindAPIKey:
		var k APIKey
		if err := json.Unmarshal([]byte(rec.Body), &k); err != nil {
			return fmt.Errorf("decoding api key %s: %w", rec.ID, err)
		}
		k.ID = rec.ID
		s.keys[rec.TenantID+"/"+rec.ID] = k
	case KindEconomy:
		e, err := decodeEconomy(rec)
		if err != nil {
			return err
		}
		if s.economies[rec.TenantID] == nil {
			s.economies[rec.TenantID] = map[string]*Economy{}
		}
		s.economies[rec.TenantID][rec.ID] = e
	default:
		// Kinds the engine does not read itself are kept as records only.
	}
	s.keep(rec)
	return nil
}

// keep records rec as the latest version of its object. Records the typed
// decoding above refused never get here, so that the Admin API shows no
// object the engine ignores. The caller holds s.mu.
func (s *Store) keep(rec *schemas.ConfigRecord) {
	byKind := s.objects[rec.TenantID]
	if byKind == nil {
		byKind = map[string]objectMap{}
		s.objects[rec.TenantID] = byKind
	}
	if byKind[rec.Kind] == nil {
		byKind[rec.Kind] = objectMap{}
	}
	id := rec.ID
	if rec.Kind == KindTenant && id == "" {
		id = rec.TenantID
	}
	byKind[rec.Kind][id] = *rec
}

func (s *Store) remove(key string) error {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) != 3 {
		return fmt.Errorf("config key %q is not <tenantId>/<kind>/<id>", key)
	}
	tenant, kind, id := parts[0], parts[1], parts[2]
	delete(s.objects[tenant][kind], id)
	switch kind {
	case KindTenant:
		delete(s.tenants, tenant)
	case KindAPIKey:
		delete(s.keys, tenant+"/"+id)
	case KindEconomy:
		delete(s.economies[tenant], id)
	}
	return nil
}

// Skip marks the record at offset as applied without applying it: one
// that could not be decoded must not block readers waiting for later ones.
func (s *Store) Skip(offset int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(offset + 1)
}

// advance records that offsets below next are applied and wakes waiters.
// The caller holds s.mu.
func (s *Store) advance(next int64) {
	if next <= s.applied {
		return
	}
	s.applied = next
	close(s.changed)
	s.changed = make(chan struct{})
}

// Applied returns the offset of the next record to apply: every record
// below it has been applied.
func (s *Store) Applied() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.applied
}

// WaitFor blocks until every record below offset has been applied, ctx
// ends, or timeout passes. It returns ctx's error or ErrLagging.
func (s *Store) WaitFor(ctx context.Context, offset int64, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.RLock()
		done, changed := s.applied >= offset, s.changed
		s.mu.RUnlock()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return ErrLagging
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Tenant returns the tenant with id.
func (s *Store) Tenant(id string) (Tenant, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tenants[id]
	return t, ok
}

// APIKey returns a tenant's key by id.
func (s *Store) APIKey(tenantID, keyID string) (APIKey, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.keys[tenantID+"/"+keyID]
	return k, ok
}

// EconomyAt returns the economy that governs an event of tenantID created
// at the given time: the Active one with the latest effectiveFrom not
// after it, the most recently activated on a tie.
func (s *Store) EconomyAt(tenantID string, at time.Time) (Economy, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := pickEconomy(s.economies[tenantID], at)
	if e == nil {
		return Economy{}, false
	}
	return *e, true
}

// Object returns the latest record of one configuration object: the
// tenant's own record for KindTenant (id is the tenant id), otherwise the
// object of kind with id. Body is the JSON as written.
func (s *Store) Object(tenantID, kind, id string) (schemas.ConfigRecord, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, ok := s.objects[tenantID][kind][id]
	return rec, ok
}

// Objects returns the latest records of every object of kind of a tenant,
// ordered by CreatedAt, then ID.
func (s *Store) Objects(tenantID, kind string) []schemas.ConfigRecord {
	s.mu.RLock()
	m := s.objects[tenantID][kind]
	out := make([]schemas.ConfigRecord, 0, len(m))
	for _, rec := range m {
		out = append(out, rec)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}
