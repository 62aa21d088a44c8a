package api

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/schemas"
)

// apiKeyRequest is an API key as clients send it: on creation name, scope
// and enabled; on PATCH name and enabled (SPEC-DECISIONS finding 16). The
// server fields and lastUsedAt are accepted and ignored.
type apiKeyRequest struct {
	ID         any `json:"id"`
	Version    any `json:"version"`
	CreatedAt  any `json:"createdAt"`
	ChangedAt  any `json:"changedAt"`
	LastUsedAt any `json:"lastUsedAt"`

	Name    *string `json:"name"`
	Scope   *string `json:"scope"`
	Enabled *bool   `json:"enabled"`
}

// apiKeyView is what GET shows of a key: never its secret or hash.
// lastUsedAt is added from the key's api-key-use record (keyUsage).
type apiKeyView struct {
	Name    string `json:"name"`
	Scope   string `json:"scope"`
	Enabled bool   `json:"enabled"`
}

// keyUsage returns the lastUsedAt field of a key's view: when the key was
// last used, to within keyUseResolution, or null.
func keyUsage(st configStore, rec *schemas.ConfigRecord) (json.RawMessage, error) {
	var v struct {
		LastUsedAt *string `json:"lastUsedAt"`
	}
	if t := lastUsed(st, rec.TenantID, rec.ID); t != nil {
		s := formatTime(*t)
		v.LastUsedAt = &s
	}
	return json.Marshal(v)
}

// apiKeyDoc documents an API key's fields for the OpenAPI document.
const apiKeyDoc = `{
	"name": {"type": "string"},
	"scope": {"type": "string", "enum": ["events", "customers", "admin"]},
	"enabled": {"type": "boolean"},
	"lastUsedAt": {"type": "string", "format": "date-time", "nullable": true}
}`

// apiKeySecretDoc documents the secret, shown once on creation.
const apiKeySecretDoc = `{"secret": {"type": "string", "description": "Shown once, on creation."}}`

func apiKeyKind() *adminKind {
	return &adminKind{
		plural: "api-keys", kind: catalog.KindAPIKey, noun: "API key",
		noReplace:  true,
		newID:      catalog.NewKeyID,
		decode:     decodeAPIKey,
		view:       viewAPIKey,
		extra:      keyUsage,
		checkWrite: keepAnAdminKey,
		doc: kindDoc{schema: "APIKey", fields: apiKeyDoc, revealed: apiKeySecretDoc,
			required: []string{"name", "scope"}},
	}
}

func viewAPIKey(body []byte) (json.RawMessage, error) {
	var k catalog.APIKey
	if err := json.Unmarshal(body, &k); err != nil {
		return nil, fmt.Errorf("decoding stored api key: %w", err)
	}
	return json.Marshal(apiKeyView{Name: k.Name, Scope: k.Scope, Enabled: k.Enabled})
}

// decodeAPIKey validates an API key document. On creation it makes the
// secret, stores only its bcrypt hash and reveals the secret once; on an
// edit the scope must stay as it is and the hash is kept.
func decodeAPIKey(in *decodeInput) (*decoded, []FieldError) {
	var req apiKeyRequest
	structural, ok := decodeDocument(in.doc, &req)
	if !ok {
		return nil, structural
	}
	v := &validator{}
	k := catalog.APIKey{
		Name:    v.requiredName("/name", req.Name),
		Enabled: req.Enabled == nil || *req.Enabled,
	}
	scopes := []string{catalog.ScopeEvents, catalog.ScopeCustomers, catalog.ScopeAdmin}
	if in.prev == nil {
		k.Scope = v.enum("/scope", req.Scope, "", scopes...)
		k.CreatedAt = in.now
	} else {
		var prev catalog.APIKey
		if err := json.Unmarshal([]byte(in.prev.Body), &prev); err != nil {
			return nil, []FieldError{{Param: "", Message: "the stored API key cannot be read"}}
		}
		if req.Scope != nil && *req.Scope != prev.Scope {
			v.add("/scope", "cannot be changed: create a key with the new scope", *req.Scope)
		}
		k.Scope, k.SecretHash, k.CreatedAt = prev.Scope, prev.SecretHash, prev.CreatedAt
		if req.Enabled == nil {
			k.Enabled = prev.Enabled
		}
	}
	if errs := mergeFieldErrors(structural, v.errs); len(errs) > 0 {
		return &decoded{body: k}, errs
	}
	if in.prev != nil {
		return &decoded{body: k}, nil
	}

	// Hashing costs about 50 ms, so it runs only for a valid request.
	secret, err := catalog.NewSecret()
	if err == nil {
		k.SecretHash, err = catalog.HashSecret(secret)
	}
	if err != nil {
		return nil, []FieldError{{Param: "", Message: "the secret could not be generated; try again"}}
	}
	return &decoded{body: k, reveal: map[string]string{"secret": secret}}, nil
}

// keepAnAdminKey refuses to delete or disable the tenant's last enabled
// admin key, which would lock the tenant out of the Admin API for good.
func keepAnAdminKey(st configStore, tenantID string, prev, next *schemas.ConfigRecord) error {
	if prev == nil || !enabledAdmin(prev) || (next != nil && enabledAdmin(next)) {
		return nil
	}
	for _, rec := range st.Objects(tenantID, catalog.KindAPIKey) {
		if rec.ID != prev.ID && enabledAdmin(&rec) {
			return nil
		}
	}
	verb := "deleted"
	if next != nil {
		verb = "disabled"
	}
	return inUse("this is the tenant's last enabled admin key and cannot be "+verb+
		": create another admin key first", []string{prev.ID})
}

func enabledAdmin(rec *schemas.ConfigRecord) bool {
	var k catalog.APIKey
	if json.Unmarshal([]byte(rec.Body), &k) != nil {
		return false
	}
	return k.Enabled && strings.EqualFold(k.Scope, catalog.ScopeAdmin)
}
