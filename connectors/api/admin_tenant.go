package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
	_ "time/tzdata" // IANA zones even where the host has none

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/schemas"
)

// tenantView is GET /admin/tenant (SPEC-DECISIONS finding 38). E-mail,
// SMS and rate-limit settings are not served yet.
type tenantView struct {
	TenantID  string `json:"tenantId"`
	Name      string `json:"name"`
	TimeZone  string `json:"timeZone"`
	Version   int    `json:"version"`
	CreatedAt string `json:"createdAt"`
	ChangedAt string `json:"changedAt"`
}

// tenantRequest is a PATCH of the tenant merged onto its view; tenantId
// and the server fields are accepted and ignored.
type tenantRequest struct {
	TenantID  any `json:"tenantId"`
	Version   any `json:"version"`
	CreatedAt any `json:"createdAt"`
	ChangedAt any `json:"changedAt"`

	Name     *string `json:"name"`
	TimeZone *string `json:"timeZone"`
}

// tenantRecord returns the caller's tenant record; authentication found
// the tenant, so a miss means it was deleted since.
func (a *adminAPI) tenantRecord(tenantID string) (schemas.ConfigRecord, error) {
	rec, ok := a.store.Object(tenantID, catalog.KindTenant, tenantID)
	if !ok {
		return rec, notFound("tenant")
	}
	return rec, nil
}

func tenantOf(rec *schemas.ConfigRecord) (tenantView, error) {
	var t catalog.Tenant
	if err := json.Unmarshal([]byte(rec.Body), &t); err != nil {
		return tenantView{}, fmt.Errorf("decoding tenant %s: %w", rec.TenantID, err)
	}
	if t.TimeZone == "" {
		t.TimeZone = "UTC"
	}
	return tenantView{
		TenantID: rec.TenantID, Name: t.Name, TimeZone: t.TimeZone, Version: max(rec.Version, 1),
		CreatedAt: formatTime(rec.CreatedAt), ChangedAt: formatTime(rec.ChangedAt),
	}, nil
}

func writeTenant(w http.ResponseWriter, v tenantView) {
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(v.Version)))
	writeJSON(w, http.StatusOK, v)
}

// getTenant answers GET /admin/tenant.
func (a *adminAPI) getTenant(w http.ResponseWriter, _ *http.Request, p principal) error {
	rec, err := a.tenantRecord(p.tenantID)
	if err != nil {
		return err
	}
	v, err := tenantOf(&rec)
	if err != nil {
		return err
	}
	writeTenant(w, v)
	return nil
}

// patchTenant answers PATCH /admin/tenant: a merge patch of name and
// timeZone. A time-zone change affects only schedules made after it.
func (a *adminAPI) patchTenant(w http.ResponseWriter, r *http.Request, p principal) error {
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

	rec, err := a.tenantRecord(p.tenantID)
	if err != nil {
		return err
	}
	cur, err := tenantOf(&rec)
	if err != nil {
		return err
	}
	base, err := json.Marshal(cur)
	if err != nil {
		return fmt.Errorf("encoding tenant: %w", err)
	}
	doc, err := applyMergePatch(base, patch)
	if err != nil {
		return err
	}
	t, errs := decodeTenant(doc)
	if errs != nil {
		return invalidRequest(errs)
	}
	if want != 0 && want != cur.Version {
		return versionConflict(want, cur.Version)
	}

	t.ID = p.tenantID
	next := rec
	next.ID = p.tenantID
	next.Version = cur.Version + 1
	next.ChangedAt = a.clock()
	if next.Body, err = marshalBody(t); err != nil {
		return err
	}
	if err := a.put(r.Context(), &rec, &next); err != nil {
		return err
	}
	v, err := tenantOf(&next)
	if err != nil {
		return err
	}
	writeTenant(w, v)
	return nil
}

// decodeTenant validates the tenant's settings.
func decodeTenant(doc []byte) (catalog.Tenant, []FieldError) {
	var req tenantRequest
	structural, ok := decodeDocument(doc, &req)
	if !ok {
		return catalog.Tenant{}, structural
	}
	v := &validator{}
	t := catalog.Tenant{Name: v.requiredName("/name", req.Name), TimeZone: "UTC"}
	if req.TimeZone != nil {
		t.TimeZone = *req.TimeZone
		if !validTimeZone(*req.TimeZone) {
			v.add("/timeZone", "must be an IANA time zone such as Europe/Berlin", *req.TimeZone)
		}
	}
	return t, mergeFieldErrors(structural, v.errs)
}

// validTimeZone reports whether s names an IANA zone. "Local" and "" are
// refused: they mean the server's zone, not a tenant's.
func validTimeZone(s string) bool {
	if s == "" || s == "Local" {
		return false
	}
	_, err := time.LoadLocation(s)
	return err == nil
}
