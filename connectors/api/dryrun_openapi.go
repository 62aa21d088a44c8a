package api

import (
	"fmt"

	"github.com/tallymarks/tallymarks/connectors/api/openapi"
)

func init() {
	// Like the kinds' part (admin_openapi.go), the dry run's is merged
	// into the served document here, beside the handler it describes. A
	// failure leaves it out, which TestOpenAPIDocumentsEveryRoute reports.
	if merged, err := mergeDryRunDoc(openapi.JSON); err == nil {
		openapi.JSON = merged
	}
}

// Descriptions of the dry run's schemas, too long for one line of JSON.
const (
	dryRunEventDoc = "An event envelope as the event endpoints take it, with one payload slot " +
		"(action, order, transaction, transfer, points or redemption), which decides its type. " +
		"customerId may be left out; eventId is optional."
	dryRunEntriesDoc = "The entries the event would make, as GET /events/{eventId} shows them; " +
		"the ids are those the real event gets."
	dryRunTraceDoc = "As in GET /events/{eventId}: economy {id, basePoints, reason}, rules[] " +
		"{ruleId, version, priority, matched, skippedBecause, criteria[], actions[]}."
)

// dryRunDoc holds the schemas of POST /admin/rules/test.
const dryRunDoc = `{
	"DryRunRequest": {"type": "object", "additionalProperties": false, "required": ["customerId", "event"],
		"properties": {
			"customerId": {"type": "string", "format": "uuid"},
			"event": {"type": "object", "description": "` + dryRunEventDoc + `"}}},
	"DryRunAnswer": {"type": "object", "additionalProperties": false,
		"required": ["eventId", "customerId", "status", "knownCustomer", "previousBalance", "balance", "event",
			"outcomes", "ledgerEntries", "trace", "causedEvents", "deliveries", "schedules"],
		"properties": {
			"eventId": {"type": "string", "format": "uuid"},
			"customerId": {"type": "string", "format": "uuid"},
			"status": {"type": "string", "enum": ["assessed", "refused"]},
			"code": {"type": "string",
				"description": "Why a spend would be refused: insufficient_points or account_locked."},
			"knownCustomer": {"type": "boolean", "description": "false: assessed for a new, empty customer."},
			"previousBalance": {"type": "integer", "format": "int64"},
			"balance": {"type": "integer", "format": "int64", "description": "The balance the event would leave."},
			"event": {"$ref": "#/components/schemas/EventOut"},
			"outcomes": {"type": "array", "items": {"$ref": "#/components/schemas/DryRunOutcome"}},
			"potentialPoints": {"type": "integer", "format": "int64"},
			"ledgerEntries": {"type": "array", "items": {"$ref": "#/components/schemas/LedgerEntry"},
				"description": "` + dryRunEntriesDoc + `"},
			"trace": {"type": "object", "description": "` + dryRunTraceDoc + `"},
			"causedEvents": {"type": "array", "items": {"type": "string"}},
			"deliveries": {"type": "array", "items": {"$ref": "#/components/schemas/DryRunDelivery"}},
			"schedules": {"type": "array", "items": {"$ref": "#/components/schemas/DryRunSchedule"}}}},
	"DryRunOutcome": {"type": "object", "additionalProperties": false, "required": ["ruleId", "ruleVersion", "type"],
		"properties": {
			"ruleId": {"type": "string"}, "ruleVersion": {"type": "integer"}, "type": {"type": "string"},
			"value": {"type": "number"}, "sku": {"type": "string"}, "code": {"type": "string"},
			"text": {"type": "string"}}},
	"DryRunDelivery": {"type": "object", "additionalProperties": false,
		"required": ["ruleId", "ruleVersion", "actionIndex", "channel"],
		"properties": {
			"ruleId": {"type": "string"}, "ruleVersion": {"type": "integer"}, "actionIndex": {"type": "integer"},
			"channel": {"type": "string", "enum": ["webhook", "email", "sms"]},
			"webhookId": {"type": "string"}, "subjectTemplate": {"type": "string"},
			"bodyTemplate": {"type": "string"}}},
	"DryRunSchedule": {"type": "object", "additionalProperties": false,
		"required": ["ruleId", "ruleVersion", "actionIndex", "triggerId"],
		"properties": {
			"ruleId": {"type": "string"}, "ruleVersion": {"type": "integer"}, "actionIndex": {"type": "integer"},
			"triggerId": {"type": "string"}}}
}`

// mergeDryRunDoc returns doc with POST /api/v1/admin/rules/test and its
// schemas added.
func mergeDryRunDoc(doc []byte) ([]byte, error) {
	return mergeDoc(doc, func(paths, schemas map[string]any) error {
		add, err := props(dryRunDoc)
		if err != nil {
			return fmt.Errorf("dry run schemas: %w", err)
		}
		for name, s := range add {
			schemas[name] = s
		}
		errs := map[int]string{
			400: readErrors[400], 401: readErrors[401], 403: readErrors[403], 404: "Unknown route.",
			413: writeErrors[413], 415: writeErrors[415],
			503: "This instance is still recovering customer state.",
		}
		k := &adminKind{plural: "rules", noun: "rule"}
		paths["/api/v1/admin/rules/test"] = map[string]any{
			"post": operation(k, "test",
				"Dry run: what an event would do for a customer under the Test and Active rules, "+
					"without side effects.",
				body("DryRunRequest", false), nil,
				answer(200, "What the event would do.", "DryRunAnswer"), errs),
		}
		return nil
	})
}
