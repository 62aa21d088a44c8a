package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tallymarks/tallymarks/schemas"
)

// serverFields are the fields of every configuration object that the
// server owns. A body that carries them has them ignored.
type serverFields struct {
	ID        string  `json:"id"`
	Version   int     `json:"version"`
	Status    *string `json:"status,omitempty"`
	CreatedAt string  `json:"createdAt"`
	ChangedAt string  `json:"changedAt"`
}

// render returns rec as clients see it: the server fields first, then the
// kind's view of the body, then any values revealed once.
func (a *adminAPI) render(k *adminKind, rec *schemas.ConfigRecord, reveal map[string]string) (json.RawMessage, error) {
	head := serverFields{
		ID: rec.ID, Version: rec.Version,
		CreatedAt: formatTime(rec.CreatedAt), ChangedAt: formatTime(rec.ChangedAt),
	}
	if k.lifecycle {
		s := statusOf(rec)
		head.Status = &s
	}
	out, err := json.Marshal(head)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", k.noun, rec.ID, err)
	}
	body, err := k.viewBody(rec.Body)
	if err != nil {
		return nil, fmt.Errorf("rendering %s %s: %w", k.noun, rec.ID, err)
	}
	out = joinObjects(out, body)
	if k.extra != nil {
		extra, err := k.extra(a.store, rec)
		if err != nil {
			return nil, fmt.Errorf("rendering %s %s: %w", k.noun, rec.ID, err)
		}
		out = joinObjects(out, extra)
	}
	if len(reveal) > 0 {
		extra, err := json.Marshal(reveal)
		if err != nil {
			return nil, fmt.Errorf("encoding %s %s: %w", k.noun, rec.ID, err)
		}
		out = joinObjects(out, extra)
	}
	return out, nil
}

// writeObject answers with one object and its version as ETag, the value
// If-Match takes.
func (a *adminAPI) writeObject(
	w http.ResponseWriter, status int, k *adminKind, rec *schemas.ConfigRecord, reveal map[string]string,
) error {
	b, err := a.render(k, rec, reveal)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(rec.Version)))
	writeJSON(w, status, b)
	return nil
}

// viewBody returns the body fields clients see, as a compact JSON object.
func (k *adminKind) viewBody(body string) (json.RawMessage, error) {
	if k.view != nil {
		return k.view([]byte(body))
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(body)); err != nil {
		return nil, fmt.Errorf("compacting body: %w", err)
	}
	return buf.Bytes(), nil
}

// viewAs is a view that decodes a stored body into T and encodes it again,
// which drops fields T does not have and normalizes older records.
func viewAs[T any](body []byte) (json.RawMessage, error) {
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("decoding stored body: %w", err)
	}
	return json.Marshal(v)
}

// joinObjects concatenates the members of two compact JSON objects.
func joinObjects(a, b []byte) []byte {
	if len(b) <= 2 {
		return a
	}
	if len(a) <= 2 {
		return b
	}
	out := make([]byte, 0, len(a)+len(b))
	out = append(out, a[:len(a)-1]...)
	out = append(out, ',')
	return append(out, b[1:]...)
}

// ifMatch returns the version the If-Match header names, or 0 when it is
// absent or "*". It takes 3, "3" and W/"3", as ETag gives "3".
func ifMatch(r *http.Request) (int, error) {
	raw := strings.TrimSpace(r.Header.Get("If-Match"))
	if raw == "" || raw == "*" {
		return 0, nil
	}
	v := strings.Trim(strings.TrimPrefix(raw, "W/"), `"`)
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, invalidRequest([]FieldError{{Param: "If-Match", Value: raw,
			Message: `must be the object's version, as 3 or "3"`}})
	}
	return n, nil
}

// topLevelNulls names the members of a JSON object body that are null. A
// body that is not a JSON object has none; its decoding reports why.
func topLevelNulls(body []byte) map[string]bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	out := map[string]bool{}
	for k, v := range m {
		if string(bytes.TrimSpace(v)) == "null" {
			out[k] = true
		}
	}
	return out
}
