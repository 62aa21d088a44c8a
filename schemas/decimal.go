package schemas

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// MaxDecimalScale is the number of fractional digits an amount may carry.
const MaxDecimalScale = 4

// decimalLimit is the exclusive bound on an amount's magnitude, 10^14, which
// keeps every amount inside Avro decimal(18,4).
var decimalLimit = new(big.Rat).SetInt64(100_000_000_000_000)

// Errors returned by ParseDecimal.
var (
	ErrDecimalSyntax = errors.New("not a decimal number")
	ErrDecimalScale  = fmt.Errorf("more than %d fractional digits", MaxDecimalScale)
	ErrDecimalRange  = errors.New("magnitude must be below 10^14")
)

// ParseDecimal parses a JSON number (exponent notation allowed) exactly. It
// refuses values with more than MaxDecimalScale significant fractional digits
// and values whose magnitude is 10^14 or more.
func ParseDecimal(s string) (*big.Rat, error) {
	if s == "" || strings.ContainsAny(s, "/ _") || strings.HasPrefix(s, "+") {
		return nil, ErrDecimalSyntax
	}
	// big.Rat builds 10^exponent exactly: "1e1000000" alone would cost
	// tens of milliseconds. No amount needs an exponent beyond ±40.
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		exp, err := strconv.Atoi(s[i+1:])
		if err != nil {
			return nil, ErrDecimalSyntax
		}
		if exp > 40 || exp < -40 {
			return nil, ErrDecimalRange
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, ErrDecimalSyntax
	}
	if !HasScale(r, MaxDecimalScale) {
		return nil, ErrDecimalScale
	}
	if new(big.Rat).Abs(r).Cmp(decimalLimit) >= 0 {
		return nil, ErrDecimalRange
	}
	return r, nil
}

// HasScale reports whether r is a multiple of 10^-scale, that is whether it
// can be written with at most scale fractional digits.
func HasScale(r *big.Rat, scale int) bool {
	pow := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	scaled := new(big.Int).Mul(r.Num(), pow)
	return new(big.Int).Rem(scaled, r.Denom()).Sign() == 0
}

// FormatDecimal writes r exactly, with no exponent and no trailing
// fractional zeros: 120.5, 3, -0.0001. A nil r formats as "0".
func FormatDecimal(r *big.Rat) string {
	if r == nil {
		return "0"
	}
	s := r.FloatString(MaxDecimalScale)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// FloorInt returns the largest integer not above r: rounding down, as base
// points and reversals require (19.99 → 19).
func FloorInt(r *big.Rat) int64 {
	q, m := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int))
	_ = m // DivMod is Euclidean: with a positive denominator q is the floor.
	return q.Int64()
}
