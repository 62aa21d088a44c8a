package api

import (
	"encoding/json"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// Limits of section 10 of the specification.
const (
	maxBodyBytes   = 1 << 20
	maxStringBytes = 1024
	maxAttributes  = 100
	maxOrderItems  = 1000
	maxNameSpace   = 255
	maxFutureSkew  = 5 * time.Minute
	maxQuantityAbs = 1_000_000_000
)

// decimalNumber is a JSON number kept as written, parsed exactly during
// validation. Strings are refused: amounts are numbers.
type decimalNumber string

func (decimalNumber) isJSONNumber() {}

// UnmarshalJSON keeps the literal.
func (d *decimalNumber) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return &fieldValueError{msg: "must be a JSON number"}
	}
	*d = decimalNumber(b)
	return nil
}

type attributeJSON struct {
	Key   *string `json:"key"`
	Name  *string `json:"name"`
	Value *string `json:"value"`
}

type paymentJSON struct {
	Bin    *string `json:"bin"`
	Bank   *string `json:"bank"`
	Scheme *string `json:"scheme"`
}

type actionJSON struct {
	Amount *decimalNumber `json:"amount"`
	Count  *int64         `json:"count"`
}

type itemJSON struct {
	SKU         *string        `json:"sku"`
	Name        *string        `json:"name"`
	Category    *string        `json:"category"`
	ProductType *string        `json:"productType"`
	Vendor      *string        `json:"vendor"`
	Quantity    *decimalNumber `json:"quantity"`
	UnitPrice   *decimalNumber `json:"unitPrice"`
	Total       *decimalNumber `json:"total"`
}

type orderJSON struct {
	Total         *decimalNumber `json:"total"`
	TaxTotal      *decimalNumber `json:"taxTotal"`
	ShippingTotal *decimalNumber `json:"shippingTotal"`
	PaymentAmount *decimalNumber `json:"paymentAmount"`
	Currency      *string        `json:"currency"`
	Payment       *paymentJSON   `json:"payment"`
	Items         []itemJSON     `json:"items"`
	Tags          []string       `json:"tags"`
}

type transactionJSON struct {
	Total    *decimalNumber `json:"total"`
	Quantity *decimalNumber `json:"quantity"`
	Currency *string        `json:"currency"`
	Payment  *paymentJSON   `json:"payment"`
}

type transferJSON struct {
	Total       *decimalNumber `json:"total"`
	Currency    *string        `json:"currency"`
	FromAccount *string        `json:"fromAccount"`
	ToAccount   *string        `json:"toAccount"`
}

type pointsJSON struct {
	Quantity *int64  `json:"quantity"`
	Reason   *string `json:"reason"`
}

type redemptionJSON struct {
	Quantity *int64  `json:"quantity"`
	Reward   *string `json:"reward"`
}

// eventRequest is the body of every event endpoint: the envelope of
// section 2 with its payload slots. Payload types made only by the system
// (anniversary, errorAction) are not accepted from clients.
type eventRequest struct {
	EventID     *string         `json:"eventId"`
	CustomerID  *string         `json:"customerId"`
	TenantID    *string         `json:"tenantId"`
	CreatedAt   *string         `json:"createdAt"`
	NameSpace   *string         `json:"nameSpace"`
	Reference   *string         `json:"reference"`
	Description *string         `json:"description"`
	Campaign    *string         `json:"campaign"`
	Attributes  []attributeJSON `json:"attributes"`

	Action      *actionJSON      `json:"action"`
	Order       *orderJSON       `json:"order"`
	Transaction *transactionJSON `json:"transaction"`
	Transfer    *transferJSON    `json:"transfer"`
	Points      *pointsJSON      `json:"points"`
	Redemption  *redemptionJSON  `json:"redemption"`
	Basket      *orderJSON       `json:"basket"`
}

var (
	uuidPattern = regexp.MustCompile(
		`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	nameSpacePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	reservedNames    = map[string]bool{
		"Points.Earn": true, "Points.Spend": true, "Points.Expire": true,
		"Points.Reverse": true, "Points.Adjust": true, "Level.Changed": true,
	}
)

// validator collects field errors while converting a request.
type validator struct {
	errs []FieldError
}

func (v *validator) add(param, msg string, value any) {
	v.errs = append(v.errs, FieldError{Message: msg, Param: param, Value: value})
}

func (v *validator) str(param string, s *string) *string {
	if s != nil && len(*s) > maxStringBytes {
		v.add(param, "must be at most 1024 bytes", nil)
	}
	return s
}

func (v *validator) uuid(param string, s *string, required bool) string {
	if s == nil {
		if required {
			v.add(param, "is required", nil)
		}
		return ""
	}
	if !uuidPattern.MatchString(*s) {
		v.add(param, "must be a UUID (8-4-4-4-12 hex digits)", *s)
		return ""
	}
	return strings.ToLower(*s)
}

// decimal parses an amount; amounts are never negative.
func (v *validator) decimal(param string, d *decimalNumber, required bool) *big.Rat {
	if d == nil {
		if required {
			v.add(param, "is required", nil)
		}
		return nil
	}
	r, err := schemas.ParseDecimal(string(*d))
	switch {
	case errors.Is(err, schemas.ErrDecimalScale):
		v.add(param, "must have at most 4 fractional digits", json.Number(*d))
	case errors.Is(err, schemas.ErrDecimalRange):
		v.add(param, "must be below 10^14, with an exponent of at most 40", json.Number(*d))
	case err != nil:
		v.add(param, "must be a decimal number", json.Number(*d))
	case r.Sign() < 0:
		v.add(param, "must not be negative", json.Number(*d))
		return nil
	}
	return r
}

// toEvent validates req as an event of type want and converts it. now is
// the server's clock: it fills a missing createdAt and bounds a future one.
func (req *eventRequest) toEvent(
	want schemas.EventType, tenantID string, now time.Time,
) (*schemas.Event, []FieldError) {
	v := &validator{}
	ev := &schemas.Event{
		TenantID:   tenantID,
		ReceivedAt: now.UTC().Truncate(time.Millisecond),
		Origin:     schemas.OriginClient,
		Attributes: []schemas.Attribute{},
	}

	ev.EventID = v.uuid("/eventId", req.EventID, false)
	ev.CustomerID = v.uuid("/customerId", req.CustomerID, true)
	if req.TenantID != nil && !strings.EqualFold(*req.TenantID, tenantID) {
		v.add("/tenantId", "must be absent or equal the x-tenant-id header", *req.TenantID)
	}
	ev.CreatedAt = v.createdAt(req.CreatedAt, now)
	ev.NameSpace = v.nameSpace(req.NameSpace)
	ev.Reference = v.str("/reference", req.Reference)
	ev.Description = v.str("/description", req.Description)
	ev.Campaign = v.str("/campaign", req.Campaign)
	ev.Attributes = v.attributes(req.Attributes)
	v.payload(req, want, ev)

	if len(v.errs) > 0 {
		return nil, v.errs
	}
	return ev, nil
}

func (v *validator) createdAt(s *string, now time.Time) time.Time {
	if s == nil {
		return now.UTC().Truncate(time.Millisecond)
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		v.add("/createdAt", "must be an RFC 3339 date-time with an offset", *s)
		return time.Time{}
	}
	if t.After(now.Add(maxFutureSkew)) {
		v.add("/createdAt", "must not be more than 5 minutes in the future", *s)
	}
	return t.UTC().Truncate(time.Millisecond)
}

func (v *validator) nameSpace(s *string) string {
	switch {
	case s == nil:
		v.add("/nameSpace", "is required", nil)
	case len(*s) == 0 || len(*s) > maxNameSpace || !nameSpacePattern.MatchString(*s):
		v.add("/nameSpace", "must be 1 to 255 characters of A-Z a-z 0-9 _ . -", *s)
	case strings.HasPrefix(*s, "Error.") || reservedNames[*s]:
		v.add("/nameSpace", "is reserved for events made by TallyMarks", *s)
	default:
		return *s
	}
	return ""
}

func (v *validator) attributes(in []attributeJSON) []schemas.Attribute {
	if len(in) > maxAttributes {
		v.add("/attributes", "must have at most 100 entries", nil)
		return nil
	}
	out := make([]schemas.Attribute, 0, len(in))
	seen := map[string]bool{}
	for i, a := range in {
		p := "/attributes/" + itoa(i)
		key := a.Key
		switch {
		case a.Key != nil && a.Name != nil:
			v.add(p, "must have key or name, not both", nil)
			continue
		case a.Key == nil && a.Name == nil:
			v.add(p+"/key", "is required", nil)
			continue
		case a.Key == nil:
			key = a.Name
		}
		if a.Value == nil {
			v.add(p+"/value", "is required", nil)
			continue
		}
		v.str(p+"/key", key)
		v.str(p+"/value", a.Value)
		if seen[*key] {
			v.add(p+"/key", "repeats an earlier attribute key", *key)
		}
		seen[*key] = true
		out = append(out, schemas.Attribute{Key: *key, Value: *a.Value})
	}
	return out
}
