package customer

import (
	"log/slog"
	"sync"
	"time"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/processors/rules"
)

// ruleSet caches each tenant's decoded rules. The cache of a tenant is
// rebuilt when the catalog has applied a new config record since it was
// built: decoding every rule on every event would dominate processing.
type ruleSet struct {
	catalog *catalog.Catalog
	log     *slog.Logger

	mu      sync.Mutex
	tenants map[string]tenantRules
}

type tenantRules struct {
	offset int64 // catalog.Applied() when built
	rules  []*rules.Rule
}

func newRuleSet(c *catalog.Catalog, log *slog.Logger) *ruleSet {
	return &ruleSet{catalog: c, log: log, tenants: map[string]tenantRules{}}
}

// rules returns the tenant's rules of every status. A rule whose stored
// body no longer decodes is left out and logged: the Admin API validates
// rules, so that means a bug or a hand-written record.
func (s *ruleSet) rules(tenantID string, loc *time.Location) []*rules.Rule {
	applied := s.catalog.Applied()
	s.mu.Lock()
	cached, ok := s.tenants[tenantID]
	s.mu.Unlock()
	if ok && cached.offset == applied {
		return cached.rules
	}

	recs := s.catalog.Objects(tenantID, catalog.KindRule)
	out := make([]*rules.Rule, 0, len(recs))
	for i := range recs {
		r, err := rules.FromRecord(&recs[i], loc)
		if err != nil {
			s.log.Error("skipping a rule that does not decode", "tenant_id", tenantID,
				"rule_id", recs[i].ID, "err", err)
			continue
		}
		out = append(out, r)
	}
	s.mu.Lock()
	s.tenants[tenantID] = tenantRules{offset: applied, rules: out}
	s.mu.Unlock()
	return out
}

// segmentActive returns a lookup of whether a tenant's segment is Active.
func segmentActive(c *catalog.Catalog, tenantID string) func(string) bool {
	return func(id string) bool {
		rec, ok := c.Object(tenantID, catalog.KindSegment, id)
		return ok && rec.Status != nil && *rec.Status == catalog.StatusActive
	}
}

// segmentExpiry returns the membership expiry lookup of a tenant.
func segmentExpiry(
	c *catalog.Catalog, tenantID string, loc *time.Location,
) func(id string, addedAt, joined time.Time) *time.Time {
	return func(id string, addedAt, joined time.Time) *time.Time {
		rec, ok := c.Object(tenantID, catalog.KindSegment, id)
		if !ok {
			return nil
		}
		return SegmentExpiry(rec.Body, addedAt, joined, loc)
	}
}
