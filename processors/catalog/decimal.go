package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/tallymarks/tallymarks/schemas"
)

// Decimal is an exact decimal inside a stored JSON body, such as an
// economy's basePointsPerUnit. It is written as a JSON number, the form the
// Admin API takes and shows, and read from a JSON number or, as records
// written before the Admin API existed have it, a JSON string. Either way
// the literal is kept as written, never passed through a float64, so that
// 0.1 stays exactly 0.1.
type Decimal string

// UnmarshalJSON keeps the literal of a JSON number or string.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("decoding decimal: %w", err)
		}
		*d = Decimal(s)
	default:
		*d = Decimal(b)
	}
	return nil
}

// MarshalJSON writes the decimal as a JSON number without exponent or
// trailing zeros. A value that is not a decimal is written as a JSON
// string, so that the body stays valid JSON and the reader reports it.
func (d Decimal) MarshalJSON() ([]byte, error) {
	r, err := schemas.ParseDecimal(string(d))
	if err != nil {
		return json.Marshal(string(d))
	}
	return []byte(schemas.FormatDecimal(r)), nil
}
