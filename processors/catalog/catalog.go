// Package catalog keeps every tenant's configuration in memory, read from
// the compacted config topic, and writes changes back to it.
//
// The config topic has one partition, so its offset orders every change: a
// reader that has applied offset N has seen every change acknowledged
// before N. Writers use that to read their own writes, and the customer
// processor to wait for the configuration an event was accepted under.
package catalog

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// Kinds of configuration object: the middle part of a config record's key
// <tenantId>/<kind>/<id>.
const (
	KindTenant  = "tenant"
	KindAPIKey  = "api-key"
	KindEconomy = "economy"
	KindSegment = "segment"
	KindTrigger = "trigger"
	KindWebhook = "webhook"
	KindRule    = "rule"
	// KindAPIKeyUse records when an API key was last used; its id is the
	// key's. It is written by the API instances that authenticate the key,
	// not through the Admin API.
	KindAPIKeyUse = "api-key-use"
)

// Lifecycle statuses shared by economies, rules and segments.
const (
	StatusConfigure = "Configure"
	StatusTest      = "Test"
	StatusActive    = "Active"
	StatusInactive  = "Inactive"
	StatusArchived  = "Archived"
)

// Tenant is a tenant's own settings.
type Tenant struct {
	ID       string `json:"tenantId"`
	Name     string `json:"name"`
	TimeZone string `json:"timeZone"`
}

// API key scopes.
const (
	ScopeEvents    = "events"
	ScopeCustomers = "customers"
	ScopeAdmin     = "admin"
)

// APIKey is a named credential of a tenant. Only a slow hash of its secret
// is stored.
type APIKey struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Scope      string    `json:"scope"`
	Enabled    bool      `json:"enabled"`
	SecretHash string    `json:"secretHash"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Covers reports whether a key of this scope may call routes of scope.
// An admin key may call everything.
func (k APIKey) Covers(scope string) bool {
	return k.Scope == ScopeAdmin || k.Scope == scope
}

// Economy is a points economy. Only the fields the engine uses so far are
// typed; the rest of the stored body is kept as it was written. ID and
// Status come from the config record, never from its body.
type Economy struct {
	ID                string    `json:"-"`
	Name              string    `json:"name"`
	Description       string    `json:"description,omitempty"`
	Status            string    `json:"-"`
	EffectiveFrom     time.Time `json:"effectiveFrom"`
	Currency          string    `json:"currency,omitempty"`
	BasePointsPerUnit Decimal   `json:"basePointsPerUnit"`
	Expiry            Expiry    `json:"expiry"`
	ReversalPolicy    string    `json:"reversalPolicy"`

	// activatedAt orders economies of equal effectiveFrom: the most
	// recently activated wins.
	activatedAt time.Time
	rate        *big.Rat
}

// Expiry is an economy's points expiry policy.
type Expiry struct {
	Mode string `json:"mode"`
}

// Rate returns BasePointsPerUnit as an exact decimal.
func (e *Economy) Rate() *big.Rat { return e.rate }

// decodeEconomy parses an economy record and checks what the engine
// depends on, so that a bad record is rejected at the door rather than
// during assessment.
func decodeEconomy(rec *schemas.ConfigRecord) (*Economy, error) {
	var e Economy
	if err := json.Unmarshal([]byte(rec.Body), &e); err != nil {
		return nil, fmt.Errorf("decoding economy %s: %w", rec.ID, err)
	}
	rate, err := schemas.ParseDecimal(string(e.BasePointsPerUnit))
	if err != nil || rate.Sign() < 0 {
		return nil, fmt.Errorf("economy %s: basePointsPerUnit %q is not a decimal >= 0",
			rec.ID, e.BasePointsPerUnit)
	}
	e.ID = rec.ID
	e.rate = rate
	if rec.Status != nil {
		e.Status = *rec.Status
	}
	e.activatedAt = rec.ChangedAt
	return &e, nil
}

// pickEconomy returns the Active economy with the latest effectiveFrom not
// after at; on a tie the most recently activated one.
func pickEconomy(all map[string]*Economy, at time.Time) *Economy {
	cands := make([]*Economy, 0, len(all))
	for _, e := range all {
		if e.Status == StatusActive && !e.EffectiveFrom.After(at) {
			cands = append(cands, e)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if !a.EffectiveFrom.Equal(b.EffectiveFrom) {
			return a.EffectiveFrom.After(b.EffectiveFrom)
		}
		if !a.activatedAt.Equal(b.activatedAt) {
			return a.activatedAt.After(b.activatedAt)
		}
		return a.ID < b.ID
	})
	return cands[0]
}
