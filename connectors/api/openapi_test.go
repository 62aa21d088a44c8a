package api

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tallymarks/tallymarks/connectors/api/openapi"
)

// TestOpenAPIDocumentsEveryRoute checks that the document is valid OpenAPI
// 3 and names exactly the routes the server serves.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openapi.JSON)
	if err != nil {
		t.Fatalf("loading openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not valid OpenAPI 3: %v", err)
	}

	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if path == "/api/v1/openapi.json" {
				continue // served before authentication, not a handler route
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	served := New(Config{}).Routes()
	slices.Sort(documented)
	slices.Sort(served)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is served but not documented", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("route %s is documented but not served", r)
		}
	}
}
