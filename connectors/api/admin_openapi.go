package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tallymarks/tallymarks/connectors/api/openapi"
)

// The Admin API's part of the OpenAPI document is generated from the same
// kind registry that serves the routes, so that a kind added to it (rules)
// is documented by giving its schemas, and the document cannot name a
// route that is not served or miss one that is.

// kindDoc describes a kind's objects for the OpenAPI document. Each field
// is the JSON of an OpenAPI 3.0 "properties" object.
type kindDoc struct {
	schema string // "Economy": the component name of the object
	// fields are the body fields as GET shows them, besides the server
	// fields; PUT, PATCH and POST take them too.
	fields string
	// inputOnly are fields only requests carry (a webhook's secret).
	inputOnly string
	// revealed are fields only the answer of the write that made them
	// shows (a generated secret).
	revealed string
	// required are the fields a create body must have.
	required []string
}

// periodDoc is the schema of a period: {"n": 1, "unit": "year"}.
const periodDoc = `{"type": "object", "additionalProperties": false, "required": ["n", "unit"],
	"properties": {"n": {"type": "integer", "minimum": 1}, "unit": {"type": "string"}}}`

func init() {
	// openapi.JSON is served as is; merging here keeps the Admin API's
	// routes and their document in one registry. A failure leaves the
	// document without them, which TestOpenAPIDocumentsEveryRoute reports.
	if merged, err := mergeAdminDoc(openapi.JSON, adminKinds()); err == nil {
		openapi.JSON = merged
	}
}

// mergeAdminDoc returns doc with the Admin API's paths and schemas added.
func mergeAdminDoc(doc []byte, kinds []*adminKind) ([]byte, error) {
	return mergeDoc(doc, func(paths, schemas map[string]any) error {
		for _, k := range kinds {
			if err := addKindDoc(paths, schemas, k); err != nil {
				return err
			}
		}
		return addTenantDoc(paths, schemas)
	})
}

// mergeDoc decodes doc, lets add put paths and component schemas into
// it, and encodes it again.
func mergeDoc(doc []byte, add func(paths, schemas map[string]any) error) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("decoding openapi document: %w", err)
	}
	paths, _ := root["paths"].(map[string]any)
	comps, _ := root["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	if paths == nil || schemas == nil {
		return nil, fmt.Errorf("openapi document lacks paths or components.schemas")
	}
	if err := add(paths, schemas); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding openapi document: %w", err)
	}
	return out, nil
}

// addKindDoc adds the paths and schemas of one kind.
func addKindDoc(paths, schemas map[string]any, k *adminKind) error {
	if err := addKindSchemas(schemas, k); err != nil {
		return err
	}
	addKindPaths(paths, schemas, k)
	return nil
}

// addKindSchemas adds the object as answered (server fields, body fields,
// revealed ones), its input and its list page.
func addKindSchemas(schemas map[string]any, k *adminKind) error {
	d := k.doc
	fields, err := props(d.fields)
	if err != nil {
		return fmt.Errorf("%s fields: %w", d.schema, err)
	}
	inputOnly, err := props(d.inputOnly)
	if err != nil {
		return fmt.Errorf("%s inputOnly: %w", d.schema, err)
	}
	revealed, err := props(d.revealed)
	if err != nil {
		return fmt.Errorf("%s revealed: %w", d.schema, err)
	}

	out := map[string]any{
		"id":        map[string]any{"type": "string"},
		"version":   map[string]any{"type": "integer", "minimum": 1},
		"createdAt": map[string]any{"type": "string", "format": "date-time"},
		"changedAt": map[string]any{"type": "string", "format": "date-time"},
	}
	required := []any{"id", "version", "createdAt", "changedAt"}
	in := map[string]any{}
	if k.lifecycle {
		out["status"] = map[string]any{"type": "string", "enum": anyList(statuses)}
		required = append(required, "status")
		in["status"] = map[string]any{"type": "string", "enum": anyList(createStatuses),
			"description": "On creation: the initial status, default Configure. On edits: unchanged or absent."}
	}
	for name, s := range fields {
		out[name], in[name] = s, s
	}
	for name, s := range revealed {
		out[name] = s
	}
	for name, s := range inputOnly {
		in[name] = s
	}

	schemas[d.schema] = map[string]any{"type": "object", "additionalProperties": false,
		"required": required, "properties": out}
	input := map[string]any{"type": "object", "properties": in,
		"description": "Server fields of a GET answer are accepted and ignored."}
	if len(d.required) > 0 {
		input["required"] = anyList(d.required)
	}
	schemas[d.schema+"Input"] = input
	schemas[d.schema+"List"] = map[string]any{"type": "object", "additionalProperties": false,
		"required": []any{"items", "nextCursor"}, "properties": map[string]any{
			"items":      map[string]any{"type": "array", "items": ref(d.schema)},
			"nextCursor": map[string]any{"type": "string", "nullable": true},
		}}
	return nil
}

// addKindPaths adds the routes that register serves for k.
func addKindPaths(paths, schemas map[string]any, k *adminKind) {
	d := k.doc
	a := article(k.noun)
	base := "/api/v1/admin/" + k.plural
	paths[base] = map[string]any{
		"post": operation(k, "create", "Create "+a+".", body(d.schema+"Input", false),
			nil, answer(201, "Created: the stored object.", d.schema), writeErrors),
		"get": operation(k, "list", "List "+k.plural+", ordered by createdAt, then id.", nil,
			listParams(k.lifecycle), answer(200, "A page of "+k.plural+".", d.schema+"List"), readErrors),
	}
	item := map[string]any{
		"get": operation(k, "get", "Read "+a+".", nil, []any{idParam},
			answer(200, "The object.", d.schema), readErrors),
		"patch": operation(k, "patch", "Update "+a+" with a JSON merge patch.",
			body(d.schema+"Input", true), []any{idParam, ifMatchParam},
			answer(200, "The new version.", d.schema), writeErrors),
		"delete": operation(k, "delete", "Delete "+a+".", nil, []any{idParam, ifMatchParam},
			map[string]any{"204": map[string]any{"description": "Deleted."}}, deleteErrors),
	}
	if !k.noReplace {
		item["put"] = operation(k, "replace", "Replace "+a+".", body(d.schema+"Input", false),
			[]any{idParam, ifMatchParam}, answer(200, "The new version.", d.schema), writeErrors)
	}
	paths[base+"/{id}"] = item
	if !k.lifecycle {
		return
	}
	paths[base+"/{id}/status"] = map[string]any{
		"post": operation(k, "status", "Change the status of "+a+".",
			body("StatusChange", false), []any{idParam, ifMatchParam},
			answer(200, "The object in its new status; the same status again changes nothing.", d.schema),
			writeErrors),
	}
	schemas["StatusChange"] = map[string]any{"type": "object", "additionalProperties": false,
		"required":   []any{"status"},
		"properties": map[string]any{"status": map[string]any{"type": "string", "enum": anyList(statuses)}}}
}

func addTenantDoc(paths, schemas map[string]any) error {
	schemas["Tenant"] = map[string]any{"type": "object", "additionalProperties": false,
		"required": []any{"tenantId", "name", "timeZone", "version", "createdAt", "changedAt"},
		"properties": map[string]any{
			"tenantId":  map[string]any{"type": "string", "format": "uuid"},
			"name":      map[string]any{"type": "string"},
			"timeZone":  map[string]any{"type": "string", "description": "IANA time zone, default UTC."},
			"version":   map[string]any{"type": "integer", "minimum": 1},
			"createdAt": map[string]any{"type": "string", "format": "date-time"},
			"changedAt": map[string]any{"type": "string", "format": "date-time"},
		}}
	schemas["TenantInput"] = map[string]any{"type": "object", "properties": map[string]any{
		"name":     map[string]any{"type": "string"},
		"timeZone": map[string]any{"type": "string"},
	}}
	k := &adminKind{plural: "tenant", noun: "tenant"}
	paths["/api/v1/admin/tenant"] = map[string]any{
		"get": operation(k, "get", "Read the caller's tenant.", nil, nil,
			answer(200, "The tenant's settings.", "Tenant"), readErrors),
		"patch": operation(k, "patch", "Update the tenant's name or time zone with a JSON merge patch.",
			body("TenantInput", true), []any{ifMatchParam},
			answer(200, "The new version.", "Tenant"), writeErrors),
	}
	return nil
}

// Error statuses, by kind of operation; every one answers the Error body.
var (
	readErrors = map[int]string{
		400: "Invalid request: errors[] names each bad field as a JSON pointer.",
		401: "Missing or invalid credentials.",
		403: "The key's scope does not cover the route.",
		404: "Unknown route or resource.",
	}
	writeErrors = map[int]string{
		400: readErrors[400], 401: readErrors[401], 403: readErrors[403], 404: readErrors[404],
		409: "illegal_transition, version_conflict or in_use.",
		413: "Body over 1 MiB.",
		415: "Body is not application/json.",
		422: "A referenced object does not exist.",
		503: "Kafka unavailable, or the change was written but not yet read back.",
	}
	deleteErrors = map[int]string{
		400: readErrors[400], 401: readErrors[401], 403: readErrors[403], 404: readErrors[404],
		409: writeErrors[409], 503: writeErrors[503],
	}
)

var (
	idParam = map[string]any{"name": "id", "in": "path", "required": true,
		"schema": map[string]any{"type": "string"}}
	ifMatchParam = map[string]any{"name": "If-Match", "in": "header", "required": false,
		"schema":      map[string]any{"type": "string"},
		"description": `The version the change applies to, as 3 or "3"; another version answers 409 version_conflict.`}
)

func listParams(lifecycle bool) []any {
	out := []any{
		map[string]any{"name": "limit", "in": "query", "required": false,
			"schema": map[string]any{"type": "integer", "minimum": 1, "maximum": maxListLimit,
				"default": defaultListLimit}},
		map[string]any{"name": "cursor", "in": "query", "required": false,
			"schema": map[string]any{"type": "string"}, "description": "nextCursor of the previous page."},
	}
	if lifecycle {
		out = append(out, map[string]any{"name": "status", "in": "query", "required": false,
			"schema": map[string]any{"type": "string", "enum": anyList(statuses)}})
	}
	return out
}

func operation(k *adminKind, verb, summary string, reqBody map[string]any, params []any,
	responses map[string]any, errs map[int]string) map[string]any {
	for code, desc := range errs {
		responses[fmt.Sprint(code)] = map[string]any{"description": desc,
			"content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
	}
	op := map[string]any{
		"operationId": verb + exportName(k.plural),
		"tags":        []any{"admin"},
		"summary":     summary,
		"responses":   responses,
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if reqBody != nil {
		op["requestBody"] = reqBody
	}
	return op
}

func answer(status int, desc, schema string) map[string]any {
	return map[string]any{fmt.Sprint(status): map[string]any{"description": desc,
		"content": map[string]any{"application/json": map[string]any{"schema": ref(schema)}}}}
}

func body(schema string, mergePatch bool) map[string]any {
	content := map[string]any{"application/json": map[string]any{"schema": ref(schema)}}
	if mergePatch {
		content[mergePatchType] = map[string]any{"schema": ref(schema)}
	}
	return map[string]any{"required": true, "content": content}
}

func ref(schema string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + schema}
}

// props decodes a "properties" object; "" is none.
func props(s string) (map[string]any, error) {
	out := map[string]any{}
	if s == "" {
		return out, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("decoding schema properties: %w", err)
	}
	return out, nil
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// exportName turns "api-keys" into "ApiKeys" for operation ids.
func exportName(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func article(noun string) string {
	if strings.ContainsAny(noun[:1], "aeiouAEIOU") {
		return "an " + noun
	}
	return "a " + noun
}
