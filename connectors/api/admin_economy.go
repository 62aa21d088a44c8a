package api

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strings"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/schemas"
)

// maxLevels bounds an economy's levels.
const maxLevels = 100

var (
	currencyPattern = regexp.MustCompile(`^[A-Za-z]{3}$`)
	levelIDPattern  = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
)

// economyRequest is an economy as clients send it (SPEC section 4).
//
// Like every Admin API request type it declares the server fields (id,
// version, createdAt, changedAt, status) so that a GET answer can be sent
// back as a PUT body; their values are ignored, except that status must be
// unchanged. They are repeated in each type rather than embedded because
// decodeStrict matches the fields of one struct level only.
type economyRequest struct {
	ID        any     `json:"id"`
	Version   any     `json:"version"`
	CreatedAt any     `json:"createdAt"`
	ChangedAt any     `json:"changedAt"`
	Status    *string `json:"status"`

	Name              *string          `json:"name"`
	Description       *string          `json:"description"`
	EffectiveFrom     *string          `json:"effectiveFrom"`
	Currency          *string          `json:"currency"`
	BasePointsPerUnit *decimalNumber   `json:"basePointsPerUnit"`
	Expiry            *expiryJSON      `json:"expiry"`
	Levels            []levelJSON      `json:"levels"`
	LevelExpiry       *levelExpiryJSON `json:"levelExpiry"`
	ReversalPolicy    *string          `json:"reversalPolicy"`
}

type expiryJSON struct {
	Mode   *string     `json:"mode"`
	Period *periodJSON `json:"period"`
}

type levelJSON struct {
	ID             *string        `json:"id"`
	Name           *string        `json:"name"`
	SpendThreshold *decimalNumber `json:"spendThreshold"`
}

type levelExpiryJSON struct {
	Mode   *string     `json:"mode"`
	Period *periodJSON `json:"period"`
}

// economyBody is the stored body of an economy, and what GET shows besides
// the server fields. catalog.Economy reads the fields the engine uses from
// it; basePointsPerUnit is a JSON number kept exactly.
type economyBody struct {
	Name              string          `json:"name"`
	Description       *string         `json:"description"`
	EffectiveFrom     string          `json:"effectiveFrom"`
	Currency          *string         `json:"currency"`
	BasePointsPerUnit catalog.Decimal `json:"basePointsPerUnit"`
	Expiry            expiry          `json:"expiry"`
	Levels            []level         `json:"levels"`
	LevelExpiry       *expiry         `json:"levelExpiry"`
	ReversalPolicy    string          `json:"reversalPolicy"`
}

// expiry is a mode with an optional period: an economy's points expiry and
// its level expiry.
type expiry struct {
	Mode   string  `json:"mode"`
	Period *period `json:"period,omitempty"`
}

type level struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	SpendThreshold catalog.Decimal `json:"spendThreshold"`
}

// economyDoc documents an economy's fields for the OpenAPI document.
const economyDoc = `{
	"name": {"type": "string"},
	"description": {"type": "string", "nullable": true},
	"effectiveFrom": {"type": "string", "format": "date-time"},
	"currency": {"type": "string", "nullable": true, "description": "ISO 4217 code."},
	"basePointsPerUnit": {"type": "number", "minimum": 0, "description": "At most 4 fractional digits."},
	"expiry": {"type": "object", "additionalProperties": false, "required": ["mode"], "properties": {
		"mode": {"type": "string", "enum": ["none", "activityBased", "pointsAging"]},
		"period": ` + periodDoc + `}},
	"levels": {"type": "array", "items": {"type": "object", "additionalProperties": false,
		"required": ["id", "name", "spendThreshold"], "properties": {
			"id": {"type": "string"}, "name": {"type": "string"}, "spendThreshold": {"type": "number"}}}},
	"levelExpiry": {"type": "object", "nullable": true, "additionalProperties": false, "required": ["mode"],
		"properties": {
			"mode": {"type": "string", "enum": ["untilAnniversary", "oneYearAfterAnniversary", "inactivity"]},
			"period": ` + periodDoc + `}},
	"reversalPolicy": {"type": "string", "enum": ["allowNegative", "capAtBalance"]}
}`

func economyKind() *adminKind {
	return &adminKind{
		plural: "economies", kind: catalog.KindEconomy, noun: "economy",
		lifecycle: true,
		decode:    decodeEconomy,
		view:      viewEconomy,
		doc: kindDoc{schema: "Economy", fields: economyDoc,
			required: []string{"name", "effectiveFrom", "basePointsPerUnit"}},
	}
}

// viewEconomy shows a stored economy. Records written before the Admin API
// (the demo economy) carry basePointsPerUnit as a string and no levels;
// they are shown in the current form.
func viewEconomy(body []byte) (json.RawMessage, error) {
	var b economyBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("decoding stored economy: %w", err)
	}
	if b.Levels == nil {
		b.Levels = []level{}
	}
	if b.ReversalPolicy == "" {
		b.ReversalPolicy = "allowNegative"
	}
	return json.Marshal(b)
}

// decodeEconomy validates an economy document.
func decodeEconomy(in *decodeInput) (*decoded, []FieldError) {
	var req economyRequest
	structural, ok := decodeDocument(in.doc, &req)
	if !ok {
		return nil, structural
	}
	v := &validator{}
	b := economyBody{
		Name:        v.requiredName("/name", req.Name),
		Description: v.text("/description", req.Description, maxDescriptionBytes),
		Currency:    v.currency("/currency", req.Currency),
		Expiry:      v.economyExpiry(req.Expiry),
		ReversalPolicy: v.enum("/reversalPolicy", req.ReversalPolicy,
			"allowNegative", "allowNegative", "capAtBalance"),
	}
	b.EffectiveFrom, _ = v.instant("/effectiveFrom", req.EffectiveFrom)
	if rate := v.decimal("/basePointsPerUnit", req.BasePointsPerUnit, true); rate != nil {
		b.BasePointsPerUnit = catalog.Decimal(schemas.FormatDecimal(rate))
	}
	b.Levels = v.levels(req.Levels)
	b.LevelExpiry = v.levelExpiry(req.LevelExpiry, len(b.Levels) > 0)
	return &decoded{body: b, status: req.Status}, mergeFieldErrors(structural, v.errs)
}

// currency checks an optional ISO 4217 code and returns it in upper case.
func (v *validator) currency(param string, s *string) *string {
	if s == nil {
		return nil
	}
	if !currencyPattern.MatchString(*s) {
		v.add(param, "must be an ISO 4217 code of 3 letters, such as EUR", *s)
		return nil
	}
	up := strings.ToUpper(*s)
	return &up
}

// economyExpiry checks points expiry (SPEC section 4); absent means none.
func (v *validator) economyExpiry(e *expiryJSON) expiry {
	if e == nil {
		return expiry{Mode: "none"}
	}
	out := expiry{Mode: v.enum("/expiry/mode", e.Mode, "", "none", "activityBased", "pointsAging")}
	switch out.Mode {
	case "none":
		v.absent("/expiry/period", e.Period != nil, "when mode is none")
	case "activityBased", "pointsAging":
		out.Period = v.period("/expiry/period", e.Period, oneToFiveYears)
	}
	return out
}

// levels checks the levels and returns them ordered by threshold. Ids and
// thresholds are unique, so that the order is total.
func (v *validator) levels(in []levelJSON) []level {
	if len(in) > maxLevels {
		v.add("/levels", "must have at most 100 levels", nil)
		return []level{}
	}
	out := make([]level, 0, len(in))
	rates := make([]*big.Rat, 0, len(in))
	ids := map[string]int{}
	for i, l := range in {
		p := "/levels/" + itoa(i)
		lv := level{Name: v.requiredName(p+"/name", l.Name)}
		switch {
		case l.ID == nil:
			v.add(p+"/id", "is required", nil)
		case !levelIDPattern.MatchString(*l.ID):
			v.add(p+"/id", "must be 1 to 64 characters of A-Z a-z 0-9 _ . -", *l.ID)
		default:
			if j, dup := ids[*l.ID]; dup {
				v.add(p+"/id", "repeats the id of /levels/"+itoa(j), *l.ID)
			}
			ids[*l.ID] = i
			lv.ID = *l.ID
		}
		t := v.decimal(p+"/spendThreshold", l.SpendThreshold, true)
		for j, r := range rates {
			if t != nil && r != nil && t.Cmp(r) == 0 {
				v.add(p+"/spendThreshold", "repeats the threshold of /levels/"+itoa(j),
					json.Number(*l.SpendThreshold))
			}
		}
		rates = append(rates, t)
		if t != nil {
			lv.SpendThreshold = catalog.Decimal(schemas.FormatDecimal(t))
		}
		out = append(out, lv)
	}
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return lessRate(rates[order[i]], rates[order[j]]) })
	sorted := make([]level, len(out))
	for i, o := range order {
		sorted[i] = out[o]
	}
	return sorted
}

// lessRate orders thresholds, a missing one (already reported) first.
func lessRate(a, b *big.Rat) bool {
	if a == nil || b == nil {
		return a == nil && b != nil
	}
	return a.Cmp(b) < 0
}

// levelExpiry checks how long a level is held (SPEC section 4). Levels
// without one are held until the next anniversary.
func (v *validator) levelExpiry(e *levelExpiryJSON, hasLevels bool) *expiry {
	if e == nil {
		if hasLevels {
			return &expiry{Mode: "untilAnniversary"}
		}
		return nil
	}
	out := &expiry{Mode: v.enum("/levelExpiry/mode", e.Mode, "",
		"untilAnniversary", "oneYearAfterAnniversary", "inactivity")}
	switch out.Mode {
	case "inactivity":
		out.Period = v.period("/levelExpiry/period", e.Period, upToFiveYears)
	case "":
	default:
		v.absent("/levelExpiry/period", e.Period != nil, "unless mode is inactivity")
	}
	return out
}
