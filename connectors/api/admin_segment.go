package api

import (
	"github.com/tallymarks/tallymarks/processors/catalog"
)

// segmentRequest is a segment as clients send it (SPEC section 6). The
// server fields are accepted and ignored, as economyRequest explains.
type segmentRequest struct {
	ID        any     `json:"id"`
	Version   any     `json:"version"`
	CreatedAt any     `json:"createdAt"`
	ChangedAt any     `json:"changedAt"`
	Status    *string `json:"status"`

	Name        *string            `json:"name"`
	Description *string            `json:"description"`
	Expiry      *segmentExpiryJSON `json:"expiry"`
}

// segmentExpiryJSON is how long a membership lasts:
// {"mode": "period", "n": 6, "unit": "month"} or
// {"mode": "date", "date": "2027-01-01T00:00:00Z"}.
type segmentExpiryJSON struct {
	Mode *string `json:"mode"`
	N    *int64  `json:"n"`
	Unit *string `json:"unit"`
	Date *string `json:"date"`
}

// segmentBody is the stored body of a segment.
type segmentBody struct {
	Name        string        `json:"name"`
	Description *string       `json:"description"`
	Expiry      segmentExpiry `json:"expiry"`
}

type segmentExpiry struct {
	Mode string  `json:"mode"`
	N    *int64  `json:"n,omitempty"`
	Unit *string `json:"unit,omitempty"`
	Date *string `json:"date,omitempty"`
}

// segmentDoc documents a segment's fields for the OpenAPI document.
const segmentDoc = `{
	"name": {"type": "string"},
	"description": {"type": "string", "nullable": true},
	"expiry": {"type": "object", "additionalProperties": false, "required": ["mode"], "properties": {
		"mode": {"type": "string",
			"enum": ["none", "untilAnniversary", "untilAnniversaryPlusYear", "period", "date"]},
		"n": {"type": "integer", "minimum": 1},
		"unit": {"type": "string", "enum": ["day", "month", "year"]},
		"date": {"type": "string", "format": "date-time"}}}
}`

func segmentKind() *adminKind {
	return &adminKind{
		plural: "segments", kind: catalog.KindSegment, noun: "segment",
		lifecycle: true,
		decode:    decodeSegment,
		view:      viewAs[segmentBody],
		inUse:     referringRules("segmentId"),
		doc:       kindDoc{schema: "Segment", fields: segmentDoc, required: []string{"name"}},
	}
}

// decodeSegment validates a segment document.
func decodeSegment(in *decodeInput) (*decoded, []FieldError) {
	var req segmentRequest
	structural, ok := decodeDocument(in.doc, &req)
	if !ok {
		return nil, structural
	}
	v := &validator{}
	b := segmentBody{
		Name:        v.requiredName("/name", req.Name),
		Description: v.text("/description", req.Description, maxDescriptionBytes),
		Expiry:      v.segmentExpiry(req.Expiry, in),
	}
	return &decoded{body: b, status: req.Status}, mergeFieldErrors(structural, v.errs)
}

// segmentExpiry checks a membership expiry; absent means none. A date must
// lie in the future and at most five years after the save
// (SPEC-DECISIONS finding 23).
func (v *validator) segmentExpiry(e *segmentExpiryJSON, in *decodeInput) segmentExpiry {
	if e == nil {
		return segmentExpiry{Mode: "none"}
	}
	out := segmentExpiry{Mode: v.enum("/expiry/mode", e.Mode, "",
		"none", "untilAnniversary", "untilAnniversaryPlusYear", "period", "date")}
	if out.Mode != "period" && out.Mode != "" {
		v.absent("/expiry/n", e.N != nil, "unless mode is period")
		v.absent("/expiry/unit", e.Unit != nil, "unless mode is period")
	}
	if out.Mode != "date" && out.Mode != "" {
		v.absent("/expiry/date", e.Date != nil, "unless mode is date")
	}
	switch out.Mode {
	case "period":
		if p := v.periodFields("/expiry", e.N, e.Unit, upToFiveYears); p != nil {
			out.N, out.Unit = &p.N, &p.Unit
		}
	case "date":
		s, t := v.instant("/expiry/date", e.Date)
		switch {
		case s == "":
		case !t.After(in.now):
			v.add("/expiry/date", "must lie in the future", *e.Date)
		case t.After(in.now.AddDate(5, 0, 0)):
			v.add("/expiry/date", "must be at most 5 years ahead", *e.Date)
		default:
			out.Date = &s
		}
	}
	return out
}
