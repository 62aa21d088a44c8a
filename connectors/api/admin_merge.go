package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
)

// mergePatchType is the media type of RFC 7396; PATCH takes it as well as
// application/json.
const mergePatchType = "application/merge-patch+json"

// readPatchBody is readBody for PATCH, which also accepts
// application/merge-patch+json with the same parameters.
func readPatchBody(r *http.Request) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && mt == mergePatchType {
		r = r.Clone(r.Context())
		r.Header.Set("Content-Type", mime.FormatMediaType("application/json", params))
	}
	return readBody(r)
}

// parseMergePatch decodes a merge patch, which must be a JSON object.
// Numbers keep their literal, so that 0.1 is patched in as 0.1.
func parseMergePatch(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, err2 := dec.Token(); !errors.Is(err2, io.EOF) {
			err = errors.New("unexpected data after the JSON value")
		}
	}
	if err != nil {
		msg := "malformed JSON"
		var se *json.SyntaxError
		if errors.As(err, &se) {
			msg += " at byte " + strconv.FormatInt(se.Offset, 10)
		}
		return nil, invalidRequest([]FieldError{{Message: msg, Param: ""}})
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidRequest([]FieldError{{Param: "",
			Message: "a merge patch must be a JSON object"}})
	}
	return m, nil
}

// applyMergePatch applies patch to the JSON object base as RFC 7396 says:
// members of the patch replace those of base, objects merge recursively,
// and null removes a member. It returns the result as JSON.
func applyMergePatch(base json.RawMessage, patch map[string]any) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(base))
	dec.UseNumber()
	var target any
	if err := dec.Decode(&target); err != nil {
		return nil, fmt.Errorf("decoding patch target: %w", err)
	}
	out, err := json.Marshal(mergeValue(target, patch))
	if err != nil {
		return nil, fmt.Errorf("encoding patched document: %w", err)
	}
	return out, nil
}

func mergeValue(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergeValue(tm[k], v)
	}
	return tm
}
