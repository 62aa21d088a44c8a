// Package rules defines loyalty rules and evaluates them against one event.
//
// It has two halves, both pure: no Kafka, no clock, no I/O, no logging.
//
// Definitions. DecodeRule turns a rule body (the Admin API's request, or
// the JSON body of a config record through FromRecord) into a Rule, or
// into every problem found, each named by a JSON pointer for the API's
// 400 errors[]. Decoding is strict: unknown, duplicate and wrongly cased
// fields are refused, decimals must be JSON numbers with at most 4
// fractional digits, and a criterion or action must exist for the rule's
// eventType (SPEC section 3, SPEC-DECISIONS findings 10, 12, 14 and 21).
// Rule.References lists the segments, levels, webhooks and triggers a
// rule names, so that the API can answer 422 for missing ones; this
// package never resolves ids.
//
// Evaluation. Assess runs the rules of one event (SPEC section 12,
// "Processing one event", step 5) against a Subject: the event, the
// customer's state through the Customer interface (already counting the
// current event, step 3), cap counters through Usage, the tenant's zone,
// the economy's base points, the event's causal chain, and whether this is
// a dry run. It returns an Assessment: the trace of finding 22 and the
// effects to apply (awards, segment changes, cap uses) and to emit after
// all rules (deliveries, schedules, basket outcomes). Assess applies
// nothing; the same inputs always give the same Assessment, which is what
// makes replays, dry runs and backtests agree with real processing.
//
// The user reference, docs/rules.md, lists every criterion and action and,
// under "Semantics in detail", the decisions this package makes where the
// specification leaves room.
//
// Points are int64 and every amount a *big.Rat: nothing here touches a
// float, and each points action rounds exactly once.
package rules
