package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// jkind is the JSON type of a node.
type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

func (k jkind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// jnode is a parsed JSON value that keeps what encoding/json would lose:
// the exact number literal, the order of fields, and which fields were
// given at all.
type jnode struct {
	kind  jkind
	text  string // string value or number literal
	flag  bool
	keys  []string
	vals  []*jnode
	items []*jnode
}

// field returns the value of the object field name, or nil.
func (n *jnode) field(name string) *jnode {
	for i, k := range n.keys {
		if k == name {
			return n.vals[i]
		}
	}
	return nil
}

// scalar returns the node as a Go value for FieldError.Value: strings,
// numbers (as json.Number) and booleans; nil for the rest.
func (n *jnode) scalar() any {
	switch n.kind {
	case jString:
		return n.text
	case jNumber:
		return json.Number(n.text)
	case jBool:
		return n.flag
	}
	return nil
}

// maxDepth bounds nesting: a rule is four levels deep, and a body of a
// million brackets must not exhaust the stack.
const maxDepth = 16

// parseTree parses body into a tree. Duplicate fields are reported and
// the first value kept; malformed JSON gives one error for the body and a
// nil tree.
func parseTree(body []byte) (*jnode, []FieldError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	p := treeParser{dec: dec}
	root := p.value("", 0)
	if p.fatal {
		return nil, p.errs
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, []FieldError{{Message: "unexpected data after the JSON value", Param: ""}}
	}
	return root, p.errs
}

type treeParser struct {
	dec   *json.Decoder
	errs  []FieldError
	fatal bool
}

// token reads the next token; a syntax error ends the parse.
func (p *treeParser) token() (json.Token, bool) {
	if p.fatal {
		return nil, false
	}
	t, err := p.dec.Token()
	if err != nil {
		msg := "malformed JSON"
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			msg += " at byte " + strconv.FormatInt(se.Offset, 10) + ": " + se.Error()
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			msg += ": unexpected end of input"
		}
		p.stop(msg)
		return nil, false
	}
	return t, true
}

// stop ends the parse: where malformed JSON ends is not a field, so the
// one error names the body.
func (p *treeParser) stop(msg string) {
	p.fatal = true
	p.errs = []FieldError{{Message: msg, Param: ""}}
}

func (p *treeParser) value(ptr string, depth int) *jnode {
	tok, ok := p.token()
	if !ok {
		return nil
	}
	switch v := tok.(type) {
	case nil:
		return &jnode{kind: jNull}
	case bool:
		return &jnode{kind: jBool, flag: v}
	case json.Number:
		return &jnode{kind: jNumber, text: string(v)}
	case string:
		return &jnode{kind: jString, text: v}
	case json.Delim:
		if depth >= maxDepth {
			p.stop("malformed JSON: nested more than " + strconv.Itoa(maxDepth) + " levels")
			return nil
		}
		if v == '{' {
			return p.object(ptr, depth+1)
		}
		return p.array(ptr, depth+1)
	}
	return nil
}

func (p *treeParser) object(ptr string, depth int) *jnode {
	n := &jnode{kind: jObject}
	seen := map[string]bool{} // a linear search would make a huge object quadratic
	for !p.fatal && p.dec.More() {
		tok, ok := p.token()
		if !ok {
			return nil
		}
		key, _ := tok.(string)
		fptr := ptr + "/" + escapePointer(key)
		v := p.value(fptr, depth)
		if seen[key] {
			p.errs = append(p.errs, FieldError{Message: "duplicate field", Param: fptr})
			continue
		}
		seen[key] = true
		n.keys = append(n.keys, key)
		n.vals = append(n.vals, v)
	}
	p.token() // the closing brace
	return n
}

func (p *treeParser) array(ptr string, depth int) *jnode {
	n := &jnode{kind: jArray}
	for i := 0; !p.fatal && p.dec.More(); i++ {
		n.items = append(n.items, p.value(ptr+"/"+itoa(i), depth))
	}
	p.token() // the closing bracket
	return n
}

// escapePointer escapes a field name as a JSON pointer segment (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
