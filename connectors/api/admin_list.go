package api

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// Page sizes of list endpoints (SPEC-DECISIONS finding 16).
const (
	defaultListLimit = 50
	maxListLimit     = 500
)

// listQuery is a parsed list request.
type listQuery struct {
	status string // "" for all
	limit  int
	after  *listPosition // nil for the first page
}

// listPosition is where a page ended: lists are ordered by createdAt, then
// id, and the next page starts strictly after the last item. An object
// created after the cursor was issued appears on a later page unless it
// sorts before the position; none is skipped or repeated.
type listPosition struct {
	createdAt time.Time
	id        string
}

func parseListQuery(k *adminKind, r *http.Request) (*listQuery, error) {
	q := r.URL.Query()
	out := &listQuery{limit: defaultListLimit}
	var errs []FieldError
	if s := q.Get("status"); s != "" {
		switch {
		case !k.lifecycle:
			errs = append(errs, FieldError{Param: "status", Value: s,
				Message: k.plural + " have no status"})
		case !isStatus(s):
			errs = append(errs, FieldError{Param: "status", Value: s,
				Message: "must be one of " + strings.Join(statuses, ", ")})
		default:
			out.status = s
		}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxListLimit {
			errs = append(errs, FieldError{Param: "limit", Value: s,
				Message: "must be an integer from 1 to 500"})
		}
		out.limit = n
	}
	if s := q.Get("cursor"); s != "" {
		pos, ok := decodeCursor(s)
		if !ok {
			errs = append(errs, FieldError{Param: "cursor", Value: s,
				Message: "is not a cursor from an earlier page of this list"})
		}
		out.after = pos
	}
	if len(errs) > 0 {
		return nil, invalidRequest(errs)
	}
	return out, nil
}

// page returns the records of this page, from all sorted by createdAt and
// id, and the cursor of the next page or nil.
func (q *listQuery) page(all []schemas.ConfigRecord) ([]schemas.ConfigRecord, *string) {
	out := make([]schemas.ConfigRecord, 0, min(q.limit, len(all)))
	for i := range all {
		rec := &all[i]
		if q.after != nil && !q.after.before(rec) {
			continue
		}
		if q.status != "" && statusOf(rec) != q.status {
			continue
		}
		if len(out) == q.limit {
			next := encodeCursor(&out[len(out)-1])
			return out, &next
		}
		out = append(out, *rec)
	}
	return out, nil
}

// before reports whether the position sorts before rec.
func (p *listPosition) before(rec *schemas.ConfigRecord) bool {
	if !p.createdAt.Equal(rec.CreatedAt) {
		return p.createdAt.Before(rec.CreatedAt)
	}
	return p.id < rec.ID
}

// encodeCursor makes the opaque cursor that continues after rec. Its
// content is not part of the contract.
func encodeCursor(rec *schemas.ConfigRecord) string {
	raw := strconv.FormatInt(rec.CreatedAt.UnixNano(), 10) + "/" + rec.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (*listPosition, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	nanos, id, ok := strings.Cut(string(b), "/")
	if !ok || id == "" {
		return nil, false
	}
	n, err := strconv.ParseInt(nanos, 10, 64)
	if err != nil {
		return nil, false
	}
	return &listPosition{createdAt: time.Unix(0, n), id: id}, true
}
