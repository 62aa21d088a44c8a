package api

import (
	"sync"
	"time"
)

// recentEvents remembers the eventIds this instance accepted lately, so
// that an immediate resubmission gets 208 before the processor has
// recorded the original. It is per instance and bounded by age.
type recentEvents struct {
	ttl time.Duration

	mu    sync.Mutex
	byKey map[string]recentEvent // tenantId/eventId
	order []string               // keys, oldest first
}

type recentEvent struct {
	customerID string
	at         time.Time
}

func newRecentEvents(ttl time.Duration) *recentEvents {
	return &recentEvents{ttl: ttl, byKey: map[string]recentEvent{}}
}

// lookup returns the customer an eventId was accepted for, if it was
// accepted within the ttl before now.
func (r *recentEvents) lookup(tenantID, eventID string, now time.Time) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.byKey[tenantID+"/"+eventID]
	if !ok || now.Sub(e.at) > r.ttl {
		return "", false
	}
	return e.customerID, true
}

// add records an accepted event and forgets those older than the ttl.
func (r *recentEvents) add(tenantID, eventID, customerID string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := tenantID + "/" + eventID
	if _, ok := r.byKey[key]; !ok {
		r.order = append(r.order, key)
	}
	r.byKey[key] = recentEvent{customerID: customerID, at: now}

	drop := 0
	for drop < len(r.order) && now.Sub(r.byKey[r.order[drop]].at) > r.ttl {
		delete(r.byKey, r.order[drop])
		drop++
	}
	r.order = r.order[drop:]
}
