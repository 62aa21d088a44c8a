// Package topics names TallyMarks' Kafka topics, builds their record keys,
// places keys on partitions the way Kafka's Java clients do, and creates the
// topics with the settings each one needs.
package topics

import (
	"fmt"
	"strings"
	"time"

	"github.com/lovoo/goka"
)

// DefaultPrefix is prepended to every topic name unless configured otherwise.
const DefaultPrefix = "tallymarks."

// Names gives the full topic names for one prefix. The zero value uses no
// prefix; use New for the configured one.
type Names struct {
	prefix string
}

// New returns the topic names under prefix, e.g. "tallymarks.".
func New(prefix string) Names { return Names{prefix: prefix} }

// Prefix returns the prefix every name starts with.
func (n Names) Prefix() string { return n.prefix }

// Events carries every event envelope, keyed by customer.
func (n Names) Events() string { return n.prefix + "events" }

// EventsDLQ receives event records that could not be decoded or validated,
// with the reason in a header, so that bad input never stops a partition.
func (n Names) EventsDLQ() string { return n.prefix + "events-dlq" }

// Config is the compacted topic of configuration objects, keyed
// <tenantId>/<kind>/<id>. It has one partition, so that one offset orders
// every configuration change.
func (n Names) Config() string { return n.prefix + "config" }

// Ledger carries every ledger entry, keyed by customer.
func (n Names) Ledger() string { return n.prefix + "ledger" }

// Deliveries carries webhook, e-mail and SMS requests, keyed by customer.
func (n Names) Deliveries() string { return n.prefix + "deliveries" }

// Replies carries the processor's answers to API instances waiting for an
// event's outcome, keyed by instance id. Every instance reads all of it.
func (n Names) Replies() string { return n.prefix + "replies" }

// EventStatus holds what became of each event, keyed <tenantId>/<eventId>.
// It is compacted and also deletes records older than its retention (7
// days), so GET /events/{eventId} answers for a week after processing.
func (n Names) EventStatus() string { return n.prefix + "event-status" }

// Assessments carries, for each assessed client event, the event and the
// customer as the rules saw it, keyed by customer like Events so that the
// two are co-partitioned. Backtests read it (SPEC-DECISIONS finding 34).
func (n Names) Assessments() string { return n.prefix + "assessments" }

// Errors carries error events (Error.* namespaces), keyed by customer.
func (n Names) Errors() string { return n.prefix + "errors" }

// Record headers shared by the roles that ask and the roles that answer
// over the replies topic.
const (
	// HeaderReplyTo names the API instance waiting for an answer; the
	// answer goes to the replies topic under that key.
	HeaderReplyTo = "tallymarks-reply-to"
	// HeaderCorrelationID identifies the waiting request within its
	// instance. Requests carry it, and so does every reply, so that an
	// instance routes a reply without decoding it.
	HeaderCorrelationID = "tallymarks-correlation-id"
)

// BudgetRequests carries budgeted awards to the budget keeper, keyed
// <tenantId>/<ruleId>: one partition decides every request of a rule, in
// the order they arrive.
func (n Names) BudgetRequests() string { return n.prefix + "budget-requests" }

// BudgetGrants carries the budget keeper's answers back to the customer
// processor, keyed by customer and partitioned like the events topic.
func (n Names) BudgetGrants() string { return n.prefix + "budget-grants" }

// BudgetGroup is the goka group of the budget keeper; its table holds each
// rule's used budget.
func (n Names) BudgetGroup() goka.Group { return goka.Group(n.prefix + "budget") }

// BudgetTable is the compacted changelog of the budget keeper.
func (n Names) BudgetTable() string { return string(goka.GroupTable(n.BudgetGroup())) }

// ConfigRequests carries Admin API writes to the config writer, keyed by
// tenant: one writer decides every write of a tenant, in order.
func (n Names) ConfigRequests() string { return n.prefix + "config-requests" }

// ConfigGroup is the goka group of the config writer.
func (n Names) ConfigGroup() goka.Group { return goka.Group(n.prefix + "config-writer") }

// CustomerGroup is the goka group of the customer processor. goka names its
// compacted state table "<group>-table".
func (n Names) CustomerGroup() goka.Group { return goka.Group(n.prefix + "customer") }

// CustomerTable is the compacted changelog of customer state.
func (n Names) CustomerTable() string { return string(goka.GroupTable(n.CustomerGroup())) }

// Key returns the record key of a customer-keyed record:
// "<tenantId>/<customerId>", both lowercase.
func Key(tenantID, customerID string) string {
	return strings.ToLower(tenantID) + "/" + strings.ToLower(customerID)
}

// EventKey returns the key of an event's status: "<tenantId>/<eventId>".
func EventKey(tenantID, eventID string) string {
	return strings.ToLower(tenantID) + "/" + strings.ToLower(eventID)
}

// BudgetKey returns the key of a budget request: "<tenantId>/<ruleId>",
// the tenant lowercase. Rule ids are case-sensitive.
func BudgetKey(tenantID, ruleID string) string {
	return strings.ToLower(tenantID) + "/" + ruleID
}

// SplitKey splits a customer key into its tenant and customer ids.
func SplitKey(key string) (tenantID, customerID string, err error) {
	t, c, ok := strings.Cut(key, "/")
	if !ok || t == "" || c == "" || strings.Contains(c, "/") {
		return "", "", fmt.Errorf("key %q is not <tenantId>/<customerId>", key)
	}
	return t, c, nil
}

// ConfigKey returns the key of a configuration object: "<tenantId>/<kind>/<id>".
func ConfigKey(tenantID, kind, id string) string {
	return strings.ToLower(tenantID) + "/" + kind + "/" + id
}

// Spec describes how one topic is created.
type Spec struct {
	Name       string
	Partitions int32
	// Compacted topics keep the latest value per key; with a Retention as
	// well, records older than it are deleted too.
	Compacted bool
	// Retention applies to non-compacted topics; 0 keeps records forever.
	Retention time.Duration
}

// DefaultAssessmentsRetention is how long the assessments topic keeps
// records unless configured otherwise: the longest backtest window, 366
// days, plus margin.
const DefaultAssessmentsRetention = 400 * 24 * time.Hour

// SpecOption changes the specs Specs returns.
type SpecOption func(*specConfig)

type specConfig struct {
	assessmentsRetention time.Duration
}

// AssessmentsRetention sets the retention of the assessments topic when it
// is created; default DefaultAssessmentsRetention. A backtest reading the
// topic finds nothing older. An existing topic keeps its setting.
func AssessmentsRetention(d time.Duration) SpecOption {
	return func(c *specConfig) { c.assessmentsRetention = d }
}

// Specs returns every topic TallyMarks uses. Customer-keyed topics share one
// partition count so that they stay co-partitioned; it is fixed once the
// topics exist, and changing it needs a migration.
func (n Names) Specs(partitions int32, opts ...SpecOption) []Spec {
	const (
		day  = 24 * time.Hour
		long = 400 * day // the backtest window, plus margin
	)
	cfg := specConfig{assessmentsRetention: DefaultAssessmentsRetention}
	for _, o := range opts {
		o(&cfg)
	}
	return []Spec{
		{Name: n.Events(), Partitions: partitions, Retention: long},
		{Name: n.EventsDLQ(), Partitions: partitions, Retention: 30 * day},
		{Name: n.Config(), Partitions: 1, Compacted: true},
		{Name: n.Ledger(), Partitions: partitions, Retention: long},
		{Name: n.Deliveries(), Partitions: partitions, Retention: 7 * day},
		{Name: n.Errors(), Partitions: partitions, Retention: 30 * day},
		{Name: n.Assessments(), Partitions: partitions, Retention: cfg.assessmentsRetention},
		{Name: n.Replies(), Partitions: partitions, Retention: time.Hour},
		{Name: n.EventStatus(), Partitions: partitions, Compacted: true, Retention: 7 * day},
		{Name: n.CustomerTable(), Partitions: partitions, Compacted: true},
		{Name: n.BudgetRequests(), Partitions: partitions, Retention: 7 * day},
		{Name: n.ConfigRequests(), Partitions: partitions, Retention: day},
		{Name: n.BudgetGrants(), Partitions: partitions, Retention: 7 * day},
		{Name: n.BudgetTable(), Partitions: partitions, Compacted: true},
	}
}
