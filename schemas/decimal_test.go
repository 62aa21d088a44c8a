package schemas

import (
	"errors"
	"math/big"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		err  error
	}{
		{name: "integer", in: "120", want: "120"},
		{name: "fraction", in: "120.50", want: "120.5"},
		{name: "four digits", in: "0.0001", want: "0.0001"},
		{name: "exponent", in: "1.205e2", want: "120.5"},
		{name: "negative", in: "-3.25", want: "-3.25"},
		{name: "trailing zeros beyond scale", in: "1.230000", want: "1.23"},
		{name: "five digits", in: "0.00001", err: ErrDecimalScale},
		{name: "too large", in: "100000000000000", err: ErrDecimalRange},
		{name: "just below limit", in: "99999999999999.9999", want: "99999999999999.9999"},
		{name: "rational syntax", in: "1/2", err: ErrDecimalSyntax},
		{name: "empty", in: "", err: ErrDecimalSyntax},
		{name: "word", in: "ten", err: ErrDecimalSyntax},
		{name: "huge exponent", in: "1e1000000", err: ErrDecimalRange},
		{name: "tiny exponent", in: "1e-1000000", err: ErrDecimalRange},
		{name: "exponent within bounds", in: "5e-4", want: "0.0005"},
		{name: "bad exponent", in: "1e", err: ErrDecimalSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDecimal(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ParseDecimal(%q) error = %v, want %v", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDecimal(%q): %v", tt.in, err)
			}
			if s := FormatDecimal(got); s != tt.want {
				t.Fatalf("ParseDecimal(%q) = %s, want %s", tt.in, s, tt.want)
			}
		})
	}
}

func TestFloorInt(t *testing.T) {
	tests := []struct {
		in   *big.Rat
		want int64
	}{
		{big.NewRat(1999, 100), 19},
		{big.NewRat(24101, 200), 120},
		{big.NewRat(-1, 2), -1},
		{big.NewRat(5, 1), 5},
		{big.NewRat(0, 1), 0},
	}
	for _, tt := range tests {
		if got := FloorInt(tt.in); got != tt.want {
			t.Errorf("FloorInt(%s) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
