package api

import (
	"crypto/sha256"
	"strings"
	"sync"
	"time"

	"github.com/tallymarks/tallymarks/processors/catalog"
)

// verifiedTTL is how long a successful secret check is reused. A bcrypt
// check costs about 50 ms of CPU; without the cache every request would.
const verifiedTTL = 60 * time.Second

// principal is the authenticated caller of a request.
type principal struct {
	tenantID string
	key      catalog.APIKey
}

// authenticator checks the three credential headers against the catalog.
type authenticator struct {
	catalog *catalog.Catalog
	now     func() time.Time

	// uses records when keys are used (lastUsedAt); nil records nothing.
	uses *keyUses

	mu       sync.Mutex
	verified map[[32]byte]time.Time // digest of tenant, key, secret → expiry
}

// authenticate returns the caller, or errUnauthorized when a header is
// missing, the tenant or key is unknown, the key is disabled or the secret
// is wrong. Every case answers alike, so probing reveals nothing.
func (a *authenticator) authenticate(tenantID, keyID, secret string) (principal, error) {
	tenantID = strings.ToLower(tenantID)
	if tenantID == "" || keyID == "" || secret == "" {
		return principal{}, errUnauthorized
	}
	if _, ok := a.catalog.Tenant(tenantID); !ok {
		return principal{}, errUnauthorized
	}
	// The key is read on every request, so disabling it takes effect as
	// soon as the catalog has the change, cache or not.
	key, ok := a.catalog.APIKey(tenantID, keyID)
	if !ok || !key.Enabled {
		return principal{}, errUnauthorized
	}

	digest := sha256.Sum256([]byte(tenantID + "\x00" + keyID + "\x00" + secret + "\x00" + key.SecretHash))
	now := a.now()
	a.mu.Lock()
	exp, hit := a.verified[digest]
	a.mu.Unlock()
	if hit && now.Before(exp) {
		a.used(tenantID, keyID, now)
		return principal{tenantID: tenantID, key: key}, nil
	}

	if !catalog.CheckSecret(key.SecretHash, secret) {
		return principal{}, errUnauthorized
	}
	a.mu.Lock()
	if len(a.verified) > 10_000 {
		clear(a.verified)
	}
	a.verified[digest] = now.Add(verifiedTTL)
	a.mu.Unlock()
	a.used(tenantID, keyID, now)
	return principal{tenantID: tenantID, key: key}, nil
}

func (a *authenticator) used(tenantID, keyID string, at time.Time) {
	if a.uses != nil {
		a.uses.note(tenantID, keyID, at)
	}
}
