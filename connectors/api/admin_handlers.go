package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/schemas"
)

// The handlers below check in the order of section 12: 415, 413, 400
// (body, If-Match, query), 404 (unknown object), then 409
// (version_conflict, illegal_transition, in_use). Every write holds the
// tenant's lock from its first read to the moment this instance has applied
// the write, so that a check and the write it allows cannot be split by
// another write through this instance.

// create answers POST /admin/{kind}: 201 with the stored object.
func (a *adminAPI) create(k *adminKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p principal) error {
		body, err := readBody(r)
		if err != nil {
			return err
		}
		unlock := a.lock(p.tenantID)
		defer unlock()

		now := a.clock()
		d, err := a.decode(k, &decodeInput{
			tenantID: p.tenantID, doc: body, nulls: topLevelNulls(body), now: now, store: a.store,
		})
		if err != nil {
			return err
		}
		id, err := k.makeID()
		if err != nil {
			return fmt.Errorf("generating %s id: %w", k.noun, err)
		}
		rec := &schemas.ConfigRecord{
			TenantID: p.tenantID, Kind: k.kind, ID: id, Version: 1,
			CreatedAt: now, ChangedAt: now,
		}
		if k.lifecycle {
			status := catalog.StatusConfigure
			if d.status != nil {
				status = *d.status
			}
			rec.Status = &status
		}
		if rec.Body, err = marshalBody(d.body); err != nil {
			return err
		}
		if k.checkWrite != nil {
			if err := k.checkWrite(a.store, p.tenantID, nil, rec); err != nil {
				return err
			}
		}
		if err := a.put(r.Context(), nil, rec); err != nil {
			return err
		}
		return a.writeObject(w, http.StatusCreated, k, rec, d.reveal)
	}
}

// list answers GET /admin/{kind}?status&limit&cursor: {items, nextCursor}.
func (a *adminAPI) list(k *adminKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p principal) error {
		q, err := parseListQuery(k, r)
		if err != nil {
			return err
		}
		page, next := q.page(a.store.Objects(p.tenantID, k.kind))
		items := make([]json.RawMessage, 0, len(page))
		for i := range page {
			item, err := a.render(k, &page[i], nil)
			if err != nil {
				return err
			}
			items = append(items, item)
		}
		writeJSON(w, http.StatusOK, listAnswer{Items: items, NextCursor: next})
		return nil
	}
}

// listAnswer is the body of every list: a page of items and the cursor of
// the next page, null on the last.
type listAnswer struct {
	Items      []json.RawMessage `json:"items"`
	NextCursor *string           `json:"nextCursor"`
}

// get answers GET /admin/{kind}/{id}. Another tenant's object is as
// unknown as one that never existed.
func (a *adminAPI) get(k *adminKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p principal) error {
		rec, ok := a.store.Object(p.tenantID, k.kind, objectID(r))
		if !ok {
			return notFound(k.noun)
		}
		return a.writeObject(w, http.StatusOK, k, &rec, nil)
	}
}

// replace answers PUT /admin/{kind}/{id}: the body replaces the object.
func (a *adminAPI) replace(k *adminKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p principal) error {
		body, err := readBody(r)
		if err != nil {
			return err
		}
		want, err := ifMatch(r)
		if err != nil {
			return err
		}
		unlock := a.lock(p.tenantID)
		defer unlock()

		// Validate before answering 404, as section 12 orders 400 first.
		prev, found := a.store.Object(p.tenantID, k.kind, objectID(r))
		in := &decodeInput{tenantID: p.tenantID, doc: body, nulls: topLevelNulls(body),
			now: a.clock(), store: a.store}
		if found {
			in.prev = &prev
		}
		d, err := a.decode(k, in)
		if err != nil {
			return err
		}
		if !found {
			return notFound(k.noun)
		}
		return a.update(w, r, k, &prev, d, want)
	}
}

// patch answers PATCH /admin/{kind}/{id}: a JSON merge patch (RFC 7396)
// applied to the object as GET shows it, then validated as a PUT body.
func (a *adminAPI) patch(k *adminKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p principal) error {
		body, err := readPatchBody(r)
		if err != nil {
			return err
		}
		patch, err := parseMergePatch(body)
		if err != nil {
			return err
		}
		want, err := ifMatch(r)
		if err != nil {
			return err
		}
		unlock := a.lock(p.tenantID)
		defer unlock()

		prev, found := a.store.Object(p.tenantID, k.kind, objectID(r))
		if !found {
			return notFound(k.noun)
		}
		base, err := k.viewBody(prev.Body)
		if err != nil {
			return err
		}
		doc, err := applyMergePatch(base, patch)
		if err != nil {
			return err
		}
		d, err := a.decode(k, &decodeInput{tenantID: p.tenantID, doc: doc, prev: &prev,
			nulls: topLevelNulls(body), now: a.clock(), store: a.store})
		if err != nil {
			return err
		}
		return a.update(w, r, k, &prev, d, want)
	}
}

// update writes a validated edit of prev as its next version. The caller
// holds the tenant's lock.
func (a *adminAPI) update(
	w http.ResponseWriter, r *http.Request, k *adminKind,
	prev *schemas.ConfigRecord, d *decoded, want int,
) error {
	if want != 0 && want != prev.Version {
		return versionConflict(want, prev.Version)
	}
	if k.lifecycle {
		if err := checkEditable(k, statusOf(prev), "edited"); err != nil {
			return err
		}
	}
	next := *prev
	next.Version = prev.Version + 1
	next.ChangedAt = a.clock()
	var err error
	if next.Body, err = marshalBody(d.body); err != nil {
		return err
	}
	if k.checkWrite != nil {
		if err := k.checkWrite(a.store, prev.TenantID, prev, &next); err != nil {
			return err
		}
	}
	if err := a.put(r.Context(), prev, &next); err != nil {
		return err
	}
	return a.writeObject(w, http.StatusOK, k, &next, d.reveal)
}

// remove answers DELETE /admin/{kind}/{id}: 204 once the object is gone.
func (a *adminAPI) remove(k *adminKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p principal) error {
		want, err := ifMatch(r)
		if err != nil {
			return err
		}
		unlock := a.lock(p.tenantID)
		defer unlock()

		prev, found := a.store.Object(p.tenantID, k.kind, objectID(r))
		if !found {
			return notFound(k.noun)
		}
		if want != 0 && want != prev.Version {
			return versionConflict(want, prev.Version)
		}
		if k.lifecycle {
			if err := checkEditable(k, statusOf(&prev), "deleted"); err != nil {
				return err
			}
		}
		if k.inUse != nil {
			if ids := k.inUse(a.store, p.tenantID, prev.ID); len(ids) > 0 {
				return inUse("this "+k.noun+" is used by rules that are not Archived: "+
					strings.Join(ids, ", "), ids)
			}
		}
		if k.checkWrite != nil {
			if err := k.checkWrite(a.store, p.tenantID, &prev, nil); err != nil {
				return err
			}
		}
		if err := a.tombstone(r.Context(), &prev); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// statusRequest is the body of POST /admin/{kind}/{id}/status.
type statusRequest struct {
	Status *string `json:"status"`
}

// setStatus answers POST /admin/{kind}/{id}/status: a lifecycle change.
// It does not change the version; changedAt records when it happened,
// which is how the most recently activated economy is told apart.
func (a *adminAPI) setStatus(k *adminKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p principal) error {
		body, err := readBody(r)
		if err != nil {
			return err
		}
		to, err := decodeStatusRequest(body)
		if err != nil {
			return err
		}
		want, err := ifMatch(r)
		if err != nil {
			return err
		}
		unlock := a.lock(p.tenantID)
		defer unlock()

		prev, found := a.store.Object(p.tenantID, k.kind, objectID(r))
		if !found {
			return notFound(k.noun)
		}
		if want != 0 && want != prev.Version {
			return versionConflict(want, prev.Version)
		}
		from := statusOf(&prev)
		if from == to {
			return a.writeObject(w, http.StatusOK, k, &prev, nil)
		}
		if err := checkTransition(k.noun, from, to); err != nil {
			return err
		}
		if k.checkStatus != nil {
			if err := k.checkStatus(a.store, &prev, to); err != nil {
				return err
			}
		}
		next := prev
		next.Status = &to
		next.ChangedAt = a.clock()
		if err := a.put(r.Context(), &prev, &next); err != nil {
			return err
		}
		return a.writeObject(w, http.StatusOK, k, &next, nil)
	}
}

func decodeStatusRequest(body []byte) (string, error) {
	var req statusRequest
	if errs := decodeStrict(body, &req); errs != nil {
		return "", invalidRequest(errs)
	}
	switch {
	case req.Status == nil:
		return "", invalidRequest([]FieldError{{Message: "is required", Param: "/status"}})
	case !isStatus(*req.Status):
		return "", invalidRequest([]FieldError{{Param: "/status", Value: *req.Status,
			Message: "must be one of " + strings.Join(statuses, ", ")}})
	}
	return *req.Status, nil
}

// decode runs the kind's validation and, for lifecycle kinds, checks the
// status the document asks for: on create one of Configure, Test and
// Active; on an edit absent or unchanged.
func (a *adminAPI) decode(k *adminKind, in *decodeInput) (*decoded, error) {
	d, errs := k.decode(in)
	if d != nil && k.lifecycle {
		errs = append(errs, checkDocumentStatus(d.status, in.prev)...)
	}
	if len(errs) > 0 {
		return nil, invalidRequest(errs)
	}
	return d, nil
}

func checkDocumentStatus(status *string, prev *schemas.ConfigRecord) []FieldError {
	switch {
	case status == nil:
		return nil
	case prev == nil && !contains(createStatuses, *status):
		return []FieldError{{Param: "/status", Value: *status,
			Message: "must be " + strings.Join(createStatuses, ", ") + " on creation"}}
	case prev != nil && *status != statusOf(prev):
		return []FieldError{{Param: "/status", Value: *status,
			Message: "cannot be changed by PUT or PATCH: use POST .../{id}/status"}}
	}
	return nil
}

// statusOf returns a record's status; records written without one are in
// Configure.
func statusOf(rec *schemas.ConfigRecord) string {
	if rec.Status == nil {
		return catalog.StatusConfigure
	}
	return *rec.Status
}

// objectID returns the {id} of the path. UUIDs are stored in lower case
// and found in any case; other ids (API keys) are matched exactly.
func objectID(r *http.Request) string {
	id := r.PathValue("id")
	if uuidPattern.MatchString(id) {
		return strings.ToLower(id)
	}
	return id
}

func marshalBody(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding config body: %w", err)
	}
	return string(b), nil
}
