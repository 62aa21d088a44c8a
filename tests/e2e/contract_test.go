package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/tallymarks/tallymarks/connectors/api/openapi"
)

var (
	contractOnce   sync.Once
	contractRouter routers.Router
	contractErr    error
)

// checkContract fails t when a response of a documented route does not
// match the OpenAPI document: its status must be documented and its body
// must fit the schema. Every request the e2e tests make passes through it,
// so the document stays the source the API is checked against.
func checkContract(t *testing.T, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	contractOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(openapi.JSON)
		if err != nil {
			contractErr = err
			return
		}
		doc.Servers = nil // match any host the test server listens on
		contractRouter, contractErr = legacy.NewRouter(doc)
	})
	if contractErr != nil {
		t.Fatalf("loading openapi.json: %v", contractErr)
	}
	route, params, err := contractRouter.FindRoute(req)
	if err != nil {
		return // an unknown route: its 404 is checked by the tests themselves
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: status,
		Header: header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true, // an undocumented status is an error
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s answered %d, which does not match openapi.json: %v\nbody: %s",
			req.Method, req.URL.Path, status, err, body)
	}
}
