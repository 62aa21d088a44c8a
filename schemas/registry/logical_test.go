package registry

import (
	"errors"
	"fmt"
	"testing"
)

func TestCheckLogical(t *testing.T) {
	n := 0
	record := func(fieldType string) string {
		n++ // names must be unique within a schema
		return fmt.Sprintf(`{"type":"record","name":"R%d","fields":[{"name":"f","type":%s}]}`, n, fieldType)
	}
	const (
		dec4  = `{"type":"bytes","logicalType":"decimal","precision":18,"scale":4}`
		dec2  = `{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}`
		dec4b = `{"type":"bytes","logicalType":"decimal","precision":10,"scale":4}`
		milli = `{"type":"long","logicalType":"timestamp-millis"}`
		micro = `{"type":"long","logicalType":"timestamp-micros"}`
	)
	tests := []struct {
		name           string
		reader, writer string
		bad            bool
	}{
		{"same decimal", dec4, dec4, false},
		{"other precision, same scale", dec4, dec4b, false},
		{"other scale", dec4, dec2, true},
		{"nullable decimals, other scale", `["null",` + dec4 + `]`, `["null",` + dec2 + `]`, true},
		{"writer decimal, reader nullable", `["null",` + dec4 + `]`, dec2, true},
		{"plain bytes read as decimal", dec4, `"bytes"`, true},
		{"decimal read as plain bytes", `"bytes"`, dec2, false},
		{"string promoted to decimal", dec4, `"string"`, true},
		{"micros read as millis", milli, micro, true},
		{"plain long read as millis", milli, `"long"`, false},
		{"plain string read as uuid", `{"type":"string","logicalType":"uuid"}`, `"string"`, false},
		{"in an array", `{"type":"array","items":` + dec4 + `}`, `{"type":"array","items":` + dec2 + `}`, true},
		{"in a nested record", record(record(dec4)), record(record(dec2)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parse(t, record(tt.reader))
			w := parse(t, record(tt.writer))
			err := checkLogical(r, w)
			if tt.bad != errors.Is(err, errLogicalMismatch) {
				t.Fatalf("checkLogical = %v, want mismatch: %v", err, tt.bad)
			}
		})
	}
}
