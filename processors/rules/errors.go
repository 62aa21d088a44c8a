package rules

import (
	"strconv"
	"strings"
)

// FieldError names one problem of a rule body. Param is a JSON pointer to
// the field ("/criteria/1/value"; "" for the body itself), Message says
// what is wrong in words a marketer understands, and Value is the value
// found, when it is a JSON scalar. Its JSON shape is an entry of the API
// error body's errors[].
type FieldError struct {
	Message string `json:"message"`
	Param   string `json:"param"`
	Value   any    `json:"value,omitempty"`
}

// InvalidRuleError is the error of FromRecord and Rule.UnmarshalJSON for a
// body that does not validate. Errors lists every problem.
type InvalidRuleError struct {
	RuleID string // empty when unknown
	Errors []FieldError
}

func (e *InvalidRuleError) Error() string {
	var b strings.Builder
	b.WriteString("invalid rule")
	if e.RuleID != "" {
		b.WriteString(" " + e.RuleID)
	}
	b.WriteString(": " + strconv.Itoa(len(e.Errors)) + " problem(s)")
	for i, fe := range e.Errors {
		if i == 3 {
			b.WriteString("; …")
			break
		}
		b.WriteString("; " + fe.Param + " " + fe.Message)
	}
	return b.String()
}
