// Package openapi holds the OpenAPI 3 document of TallyMarks' HTTP APIs,
// served at /api/v1/openapi.json. It is the contract the API tests check
// every route, request and response against.
package openapi

import _ "embed"

// JSON is the document.
//
//go:embed openapi.json
var JSON []byte
