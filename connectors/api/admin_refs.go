package api

import (
	"encoding/json"

	"github.com/tallymarks/tallymarks/processors/catalog"
)

// referringRules returns an in-use check for objects that rules refer to
// by field (webhookId, triggerId, segmentId): it names every rule that is
// not Archived and has field equal to the object's id anywhere in its
// criteria or actions. Archived rules never run again, so they do not hold
// an object.
//
// It reads rule records (kind rule) only as JSON, so it needs nothing of
// the rules package and works as soon as rules are stored.
func referringRules(field string) func(st configStore, tenantID, id string) []string {
	return func(st configStore, tenantID, id string) []string {
		var ids []string
		for _, rec := range st.Objects(tenantID, catalog.KindRule) {
			if statusOf(&rec) == catalog.StatusArchived {
				continue
			}
			var body struct {
				Criteria json.RawMessage `json:"criteria"`
				Actions  json.RawMessage `json:"actions"`
			}
			if json.Unmarshal([]byte(rec.Body), &body) != nil {
				continue
			}
			if refersTo(body.Criteria, field, id) || refersTo(body.Actions, field, id) {
				ids = append(ids, rec.ID)
			}
		}
		return ids
	}
}

// refersTo reports whether raw JSON holds, at any depth, an object whose
// member field is the string id.
func refersTo(raw json.RawMessage, field, id string) bool {
	if len(raw) == 0 {
		return false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	return walkRefers(v, field, id)
}

func walkRefers(v any, field, id string) bool {
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x[field].(string); ok && s == id {
			return true
		}
		for _, e := range x {
			if walkRefers(e, field, id) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if walkRefers(e, field, id) {
				return true
			}
		}
	}
	return false
}
