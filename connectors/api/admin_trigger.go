package api

import (
	"github.com/tallymarks/tallymarks/processors/catalog"
)

// triggerRequest is a trigger as clients send it (SPEC section 7). The
// server fields are accepted and ignored, as economyRequest explains.
type triggerRequest struct {
	ID        any `json:"id"`
	Version   any `json:"version"`
	CreatedAt any `json:"createdAt"`
	ChangedAt any `json:"changedAt"`

	Name       *string     `json:"name"`
	NameSpace  *string     `json:"nameSpace"`
	Delay      *periodJSON `json:"delay"`
	RelativeTo *string     `json:"relativeTo"`
}

// triggerBody is the stored body of a trigger.
type triggerBody struct {
	Name       string  `json:"name"`
	NameSpace  string  `json:"nameSpace"`
	Delay      *period `json:"delay"`
	RelativeTo string  `json:"relativeTo"`
}

// delayBounds: at least one unit, at most five years (1827 days).
var delayBounds = periodBounds{
	"minute": {1, 1827 * 24 * 60}, "hour": {1, 1827 * 24}, "day": {1, 1827}, "month": {1, 60},
}

// triggerDoc documents a trigger's fields for the OpenAPI document.
const triggerDoc = `{
	"name": {"type": "string"},
	"nameSpace": {"type": "string"},
	"delay": {"type": "object", "additionalProperties": false, "required": ["n", "unit"], "properties": {
		"n": {"type": "integer", "minimum": 1},
		"unit": {"type": "string", "enum": ["minute", "hour", "day", "month"]}}},
	"relativeTo": {"type": "string", "enum": ["event", "customerCreated"]}
}`

func triggerKind() *adminKind {
	return &adminKind{
		plural: "triggers", kind: catalog.KindTrigger, noun: "trigger",
		decode: decodeTrigger,
		view:   viewAs[triggerBody],
		inUse:  referringRules("triggerId"),
		doc: kindDoc{schema: "Trigger", fields: triggerDoc,
			required: []string{"name", "nameSpace", "delay"}},
	}
}

// decodeTrigger validates a trigger document. Its nameSpace follows the
// rules of an event's nameSpace, since the trigger makes Action events
// with it.
func decodeTrigger(in *decodeInput) (*decoded, []FieldError) {
	var req triggerRequest
	structural, ok := decodeDocument(in.doc, &req)
	if !ok {
		return nil, structural
	}
	v := &validator{}
	b := triggerBody{
		Name:       v.requiredName("/name", req.Name),
		NameSpace:  v.nameSpace(req.NameSpace),
		Delay:      v.period("/delay", req.Delay, delayBounds),
		RelativeTo: v.enum("/relativeTo", req.RelativeTo, "event", "event", "customerCreated"),
	}
	return &decoded{body: b}, mergeFieldErrors(structural, v.errs)
}
