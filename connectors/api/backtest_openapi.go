package api

import (
	"fmt"

	"github.com/tallymarks/tallymarks/connectors/api/openapi"
)

func init() {
	// Like the dry run's part, merged beside the handlers it describes. A
	// failure leaves it out, which TestOpenAPIDocumentsEveryRoute reports.
	if merged, err := mergeBacktestDoc(openapi.JSON); err == nil {
		openapi.JSON = merged
	}
}

// Descriptions of the backtest's schemas, too long for one line of JSON.
const (
	backtestSummary = "Backtest: what the listed rules, each alone and in any status, would have matched " +
		"and awarded over the client events created in [from, to), judged on the customer as the " +
		"processor saw them then. Caps and budgets count from zero at from. Answers at once with a job id."
	backtestRulesDoc = "1 to 50 rule ids of this tenant, each listed once."
	backtestToDoc    = "Exclusive; after from and at most 366 days after it."
	backtestJobDoc   = "A backtest job. A running job whose instance stopped shows as failed within a minute."
	backtestErrorDoc = "Why a failed job failed."
	backtestSource   = "Where past events were read: clickhouse when the API is configured with one, " +
		"otherwise kafka (the assessments topic)."
)

// backtestDoc holds the schemas of the backtest routes.
const backtestDoc = `{
	"BacktestRequest": {"type": "object", "additionalProperties": false, "required": ["ruleIds", "from", "to"],
		"properties": {
			"ruleIds": {"type": "array", "minItems": 1, "maxItems": 50, "items": {"type": "string"},
				"description": "` + backtestRulesDoc + `"},
			"from": {"type": "string", "format": "date-time"},
			"to": {"type": "string", "format": "date-time", "description": "` + backtestToDoc + `"}}},
	"BacktestAccepted": {"type": "object", "additionalProperties": false, "required": ["jobId"],
		"properties": {"jobId": {"type": "string", "format": "uuid"}}},
	"BacktestJob": {"type": "object", "additionalProperties": false, "description": "` + backtestJobDoc + `",
		"required": ["jobId", "status", "progress", "ruleIds", "from", "to", "source", "createdAt", "changedAt",
			"results"],
		"properties": {
			"jobId": {"type": "string", "format": "uuid"},
			"status": {"type": "string", "enum": ["running", "done", "failed"]},
			"progress": {"type": "number", "minimum": 0, "maximum": 1},
			"ruleIds": {"type": "array", "items": {"type": "string"}},
			"from": {"type": "string", "format": "date-time"},
			"to": {"type": "string", "format": "date-time"},
			"source": {"type": "string", "enum": ["kafka", "clickhouse"], "description": "` + backtestSource + `"},
			"createdAt": {"type": "string", "format": "date-time"},
			"changedAt": {"type": "string", "format": "date-time"},
			"results": {"type": "array", "items": {"$ref": "#/components/schemas/BacktestResult"},
				"description": "One per rule, in the order of ruleIds, once done; empty before."},
			"error": {"type": "string", "description": "` + backtestErrorDoc + `"}}},
	"BacktestResult": {"type": "object", "additionalProperties": false,
		"required": ["ruleId", "version", "eventsConsidered", "eventsMatched", "customersMatched", "points",
			"actions"],
		"properties": {
			"ruleId": {"type": "string"},
			"version": {"type": "integer"},
			"eventsConsidered": {"type": "integer", "format": "int64",
				"description": "Client events of the rule's type in the window."},
			"eventsMatched": {"type": "integer", "format": "int64"},
			"customersMatched": {"type": "integer", "format": "int64"},
			"points": {"type": "integer", "format": "int64", "description": "Points awarded, after caps."},
			"actions": {"type": "object", "additionalProperties": {"type": "integer", "format": "int64"},
				"description": "Actions that would have run, by type."}}}
}`

// mergeBacktestDoc returns doc with the backtest routes and schemas added.
func mergeBacktestDoc(doc []byte) ([]byte, error) {
	return mergeDoc(doc, func(paths, schemas map[string]any) error {
		add, err := props(backtestDoc)
		if err != nil {
			return fmt.Errorf("backtest schemas: %w", err)
		}
		for name, s := range add {
			schemas[name] = s
		}
		k := &adminKind{plural: "rules", noun: "rule"}
		paths["/api/v1/admin/rules/backtest"] = map[string]any{
			"post": operation(k, "backtest", backtestSummary, body("BacktestRequest", false), nil,
				answer(202, "Accepted: the job runs.", "BacktestAccepted"), map[int]string{
					400: readErrors[400], 401: readErrors[401], 403: readErrors[403], 404: "Unknown route.",
					413: writeErrors[413], 415: writeErrors[415],
					422: "A listed rule does not exist; errors names it as /ruleIds/N.",
					429: "This instance has as many backtests queued as it takes; retry later.",
					503: "Kafka is unavailable or this instance runs no backtests.",
				}),
		}
		get := operation(k, "getBacktestOf", "A backtest job: status, progress and, once done, results.", nil,
			[]any{map[string]any{"name": "jobId", "in": "path", "required": true,
				"schema": map[string]any{"type": "string"}}},
			answer(200, "The job.", "BacktestJob"), map[int]string{
				401: readErrors[401], 403: readErrors[403],
				404: "No such job for this tenant, or unknown route.",
				503: "This instance runs no backtests.",
			})
		paths["/api/v1/admin/rules/backtest/{jobId}"] = map[string]any{"get": get}
		return nil
	})
}
