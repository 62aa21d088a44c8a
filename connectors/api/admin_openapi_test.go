package api

import (
	"encoding/json"
	"testing"

	"github.com/tallymarks/tallymarks/connectors/api/openapi"
)

// TestAdminDocMerged checks that the Admin API's part was merged into the
// served document; TestOpenAPIDocumentsEveryRoute checks it route by route.
func TestAdminDocMerged(t *testing.T) {
	if _, err := mergeAdminDoc(openapi.JSON, adminKinds()); err != nil {
		t.Fatalf("merging the admin document: %v", err)
	}
	var doc struct {
		Paths      map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openapi.JSON, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range adminKinds() {
		if doc.Paths["/api/v1/admin/"+k.plural] == nil || doc.Components.Schemas[k.doc.schema] == nil {
			t.Errorf("%s is not documented", k.plural)
		}
	}
}
