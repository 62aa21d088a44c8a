package customer

import (
	"log/slog"
	"time"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

// The lookups below give callers outside the processor (the Admin API's
// dry run) exactly the Input the processor builds for an event, so that a
// dry run and a real run of the same event share rules, segment lookups
// and economy choice, and so the same trace and entries.

// RuleSet caches each tenant's decoded rules, rebuilt when the catalog has
// applied a newer config record. It is safe for concurrent use.
type RuleSet struct {
	set *ruleSet
}

// NewRuleSet returns a RuleSet over c. Rules whose stored body no longer
// decodes are left out and logged on log.
func NewRuleSet(c *catalog.Catalog, log *slog.Logger) *RuleSet {
	return &RuleSet{set: newRuleSet(c, log)}
}

// Rules returns the tenant's rules of every status, decoded in loc, the
// tenant's zone. Assess picks those of an event's type and status.
func (r *RuleSet) Rules(tenantID string, loc *time.Location) []*rules.Rule {
	return r.set.rules(tenantID, loc)
}

// SegmentActiveLookup returns Input.SegmentActive for a tenant: whether
// one of its segments is Active in c now.
func SegmentActiveLookup(c *catalog.Catalog, tenantID string) func(segmentID string) bool {
	return segmentActive(c, tenantID)
}

// SegmentExpiryLookup returns Input.SegmentExpiry for a tenant whose zone
// is loc.
func SegmentExpiryLookup(
	c *catalog.Catalog, tenantID string, loc *time.Location,
) func(segmentID string, addedAt, joined time.Time) *time.Time {
	return segmentExpiry(c, tenantID, loc)
}

// DryRunEconomy returns the economy a dry run of an event created at at
// uses (SPEC-DECISIONS finding 24: Test or Active economies). A Test
// economy in force at that time wins, so that a marketer can try a new
// economy before activating it; among Test economies the same choice
// applies as among Active ones (latest effectiveFrom not after at, then
// the most recently changed). Without one, it is the economy a real event
// gets, from catalog.Store.EconomyAt. Nil when there is none.
func DryRunEconomy(c *catalog.Catalog, tenantID string, at time.Time) *catalog.Economy {
	// A scratch store holding the Test economies as if Active lets the
	// catalog's own decoding and choice decide, rather than a copy of it.
	scratch := catalog.NewStore()
	n := int64(0)
	for _, rec := range c.Objects(tenantID, catalog.KindEconomy) {
		if rec.Status == nil || *rec.Status != catalog.StatusTest {
			continue
		}
		active := catalog.StatusActive
		rec.Status = &active
		// A record the catalog would not decode is skipped, as the
		// catalog itself skips it.
		_ = scratch.Apply(topics.ConfigKey(tenantID, catalog.KindEconomy, rec.ID), &rec, n)
		n++
	}
	if e, ok := scratch.EconomyAt(tenantID, at); ok {
		return &e
	}
	if e, ok := c.EconomyAt(tenantID, at); ok {
		return &e
	}
	return nil
}

// WithoutEvent returns st without eventID in its dedup window, so that
// Apply assesses the event again rather than answer Duplicate: dry runs
// ignore deduplication. st is not modified; nil stays nil.
func WithoutEvent(st *schemas.CustomerState, eventID string) *schemas.CustomerState {
	if st == nil {
		return nil
	}
	next := *st
	next.Processed = make([]schemas.ProcessedEvent, 0, len(st.Processed))
	for _, p := range st.Processed {
		if p.EventID != eventID {
			next.Processed = append(next.Processed, p)
		}
	}
	return &next
}
