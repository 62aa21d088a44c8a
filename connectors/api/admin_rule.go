package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// ruleBody is the stored body of a rule: the rule as rules.DecodeRule
// normalized it, every parameter with its default, and without the server
// fields, which the config record holds (status included, so that a status
// change never leaves a stale one in the body). The customer processor
// decodes it again with rules.FromRecord; GET shows it as it is.
type ruleBody struct {
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	EventType   string          `json:"eventType"`
	Criteria    json.RawMessage `json:"criteria"`
	Actions     json.RawMessage `json:"actions"`
	ValidFrom   json.RawMessage `json:"validFrom"`
	ValidTo     json.RawMessage `json:"validTo"`
	Priority    int             `json:"priority"`
	Exclusive   bool            `json:"exclusive"`
}

// ruleDoc documents a rule's fields for the OpenAPI document. Criteria and
// actions are described by docs/rules.md; the schema checks their shape
// only, since rules.DecodeRule is the validation.
const ruleDoc = `{
	"name": {"type": "string"},
	"description": {"type": "string", "nullable": true},
	"eventType": {"type": "string",
		"enum": ["action", "order", "transaction", "transfer", "points", "redemption", "basket", "anniversary"]},
	"criteria": {"type": "array", "minItems": 1, "maxItems": 50,
		"description": "All must hold: objects named by type, with their parameters beside it (docs/rules.md).",
		"items": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}}},
	"actions": {"type": "array", "minItems": 1, "maxItems": 50,
		"description": "Run in order when the rule matches (docs/rules.md).",
		"items": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}}},
	"validFrom": {"type": "string", "nullable": true,
		"description": "A date YYYY-MM-DD (a local day of the tenant's zone) or an RFC 3339 time with offset."},
	"validTo": {"type": "string", "nullable": true,
		"description": "Exclusive; a bare date includes that whole local day."},
	"priority": {"type": "integer", "minimum": -1000000, "maximum": 1000000},
	"exclusive": {"type": "boolean"}
}`

func ruleKind() *adminKind {
	return &adminKind{
		plural: "rules", kind: catalog.KindRule, noun: "rule",
		lifecycle:   true,
		decode:      decodeRule,
		view:        viewAs[ruleBody],
		checkWrite:  checkRuleWrite,
		checkStatus: checkRuleStatus,
		doc: kindDoc{schema: "Rule", fields: ruleDoc,
			required: []string{"name", "eventType", "criteria", "actions"}},
	}
}

// decodeRule validates a rule document with rules.DecodeRule, in the
// tenant's zone, which decides bare validFrom and validTo dates. Its
// errors map one to one onto the API's.
// The server fields a GET answer carries are accepted and ignored, except
// status, which the machinery checks.
func decodeRule(in *decodeInput) (*decoded, []FieldError) {
	r, ruleErrs := rules.DecodeRule(in.doc, tenantLocation(in.store, in.tenantID))
	errs := make([]FieldError, 0, len(ruleErrs))
	for _, e := range ruleErrs {
		errs = append(errs, FieldError{Message: e.Message, Param: e.Param, Value: e.Value})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &decoded{body: storedRule{r}, status: documentStatus(in.doc)}, nil
}

// storedRule encodes a decoded rule as its stored body, ruleBody.
type storedRule struct{ rule *rules.Rule }

// MarshalJSON writes the ruleBody of the rule.
func (s storedRule) MarshalJSON() ([]byte, error) {
	b, err := newRuleBody(s.rule)
	if err != nil {
		return nil, err
	}
	return json.Marshal(b)
}

// newRuleBody returns the stored form of a decoded rule.
func newRuleBody(r *rules.Rule) (ruleBody, error) {
	b := ruleBody{Name: r.Name, EventType: string(r.EventType), Priority: r.Priority, Exclusive: r.Exclusive}
	if r.Description != "" {
		b.Description = &r.Description
	}
	var err error
	if b.Criteria, err = json.Marshal(r.Criteria); err != nil {
		return b, fmt.Errorf("encoding criteria: %w", err)
	}
	if b.Actions, err = json.Marshal(r.Actions); err != nil {
		return b, fmt.Errorf("encoding actions: %w", err)
	}
	if r.ValidFrom != nil {
		if b.ValidFrom, err = json.Marshal(r.ValidFrom); err != nil {
			return b, fmt.Errorf("encoding validFrom: %w", err)
		}
	}
	if r.ValidTo != nil {
		if b.ValidTo, err = json.Marshal(r.ValidTo); err != nil {
			return b, fmt.Errorf("encoding validTo: %w", err)
		}
	}
	return b, nil
}

// documentStatus returns the status a rule document asks for, nil when it
// has none. rules.DecodeRule has checked that it is a status.
func documentStatus(doc []byte) *string {
	var top map[string]json.RawMessage
	if json.Unmarshal(doc, &top) != nil {
		return nil
	}
	var s string
	if json.Unmarshal(top["status"], &s) != nil || s == "" {
		return nil
	}
	return &s
}

// tenantLocation returns the tenant's zone; UTC when the tenant or its
// zone is unknown, as the customer processor falls back.
func tenantLocation(st configStore, tenantID string) *time.Location {
	rec, ok := st.Object(tenantID, catalog.KindTenant, tenantID)
	if !ok {
		return time.UTC
	}
	var t catalog.Tenant
	if json.Unmarshal([]byte(rec.Body), &t) != nil || t.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(t.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// checkRuleWrite vetoes saving a rule that names objects that do not
// exist (422), and creating one as Active while a segment it names is not
// Active (409). Edits happen only in Configure and Test, so only a create
// can ask for Active.
func checkRuleWrite(st configStore, tenantID string, _, next *schemas.ConfigRecord) error {
	if next == nil {
		return nil // deleting a rule breaks no reference
	}
	r, err := rules.FromRecord(next, tenantLocation(st, tenantID))
	if err != nil {
		return fmt.Errorf("decoding rule %s to check it: %w", next.ID, err)
	}
	if e := missingReferences(st, tenantID, r); e != nil {
		return e
	}
	if statusOf(next) == catalog.StatusActive {
		if e := inactiveSegments(st, tenantID, r); e != nil {
			return e
		}
	}
	return nil
}

// checkRuleStatus vetoes activating a rule whose references have gone
// (422: a level whose economy is no longer Active) or whose segments are
// not Active (409, naming them, SPEC-DECISIONS finding 16).
func checkRuleStatus(st configStore, rec *schemas.ConfigRecord, to string) error {
	if to != catalog.StatusActive {
		return nil
	}
	r, err := rules.FromRecord(rec, tenantLocation(st, rec.TenantID))
	if err != nil {
		return fmt.Errorf("decoding rule %s to check it: %w", rec.ID, err)
	}
	if e := missingReferences(st, rec.TenantID, r); e != nil {
		return e
	}
	if e := inactiveSegments(st, rec.TenantID, r); e != nil {
		return e
	}
	return nil
}

// missingReferences returns the 422 naming every segment, webhook,
// trigger and level r names that the tenant does not have; nil when all
// exist. A level exists when an Active economy of the tenant defines it,
// since only Active economies assign levels.
func missingReferences(st configStore, tenantID string, r *rules.Rule) *Error {
	kinds := map[string]string{
		rules.RefSegment: catalog.KindSegment,
		rules.RefWebhook: catalog.KindWebhook,
		rules.RefTrigger: catalog.KindTrigger,
	}
	var levels map[string]bool
	var errs []FieldError
	for _, ref := range r.References() {
		var ok bool
		switch ref.Kind {
		case rules.RefLevel:
			if levels == nil {
				levels = activeLevels(st, tenantID)
			}
			ok = levels[ref.ID]
		default:
			_, ok = st.Object(tenantID, kinds[ref.Kind], ref.ID)
		}
		if ok {
			continue
		}
		msg := "names no " + ref.Kind + " of this tenant"
		if ref.Kind == rules.RefLevel {
			msg = "names no level of an Active economy of this tenant"
		}
		errs = append(errs, FieldError{Message: msg, Param: ref.Param, Value: ref.ID})
	}
	if len(errs) == 0 {
		return nil
	}
	return &Error{Status: http.StatusUnprocessableEntity, Code: "unprocessable",
		Message: "the rule refers to objects that do not exist", Errors: errs}
}

// activeLevels returns the ids of the levels of the tenant's Active
// economies.
func activeLevels(st configStore, tenantID string) map[string]bool {
	out := map[string]bool{}
	for _, rec := range st.Objects(tenantID, catalog.KindEconomy) {
		if statusOf(&rec) != catalog.StatusActive {
			continue
		}
		var b struct {
			Levels []struct {
				ID string `json:"id"`
			} `json:"levels"`
		}
		if json.Unmarshal([]byte(rec.Body), &b) != nil {
			continue
		}
		for _, l := range b.Levels {
			out[l.ID] = true
		}
	}
	return out
}

// inactiveSegments returns the 409 naming every segment r names that is
// not Active, with the fields that name it; nil when all are Active. An
// Active rule on a Test segment would never see a member, since only
// Active segments have live memberships (finding 23).
func inactiveSegments(st configStore, tenantID string, r *rules.Rule) *Error {
	var ids, named []string
	var errs []FieldError
	for _, ref := range r.References() {
		if ref.Kind != rules.RefSegment {
			continue
		}
		status := "unknown"
		if rec, ok := st.Object(tenantID, catalog.KindSegment, ref.ID); ok {
			status = statusOf(&rec)
		}
		if status == catalog.StatusActive {
			continue
		}
		errs = append(errs, FieldError{Message: "names a segment in " + status + ", not Active",
			Param: ref.Param, Value: ref.ID})
		if !contains(ids, ref.ID) {
			ids = append(ids, ref.ID)
			named = append(named, ref.ID+" ("+status+")")
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return &Error{Status: http.StatusConflict, Code: "illegal_transition",
		Message: "a rule can be Active only when every segment it names is Active; activate " +
			strings.Join(named, ", ") + " first",
		Detail: strings.Join(ids, ", "), Errors: errs}
}
