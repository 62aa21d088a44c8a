package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// FieldError names one bad field of a request body. Param is a JSON pointer
// ("/order/items/0/quantity"); the body root is "".
type FieldError struct {
	Message string `json:"message"`
	Param   string `json:"param"`
	Value   any    `json:"value,omitempty"`
}

// decodeStrict decodes body into v (a pointer to a struct) and reports every
// problem at once with its JSON pointer: malformed JSON, unknown or
// duplicate fields, field names in the wrong case, and values of the wrong
// JSON type. encoding/json alone stops at the first problem, matches names
// case-insensitively and keeps the last of duplicate fields.
func decodeStrict(body []byte, v any) []FieldError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	w := walker{dec: dec}
	w.value(reflect.TypeOf(v).Elem(), "")
	if w.fatal {
		return w.errs
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		w.add("", "unexpected data after the JSON value")
	}
	if len(w.errs) > 0 {
		return w.errs
	}
	if err := json.Unmarshal(body, v); err != nil {
		// The walk accepts only what Unmarshal accepts, so this is a value
		// a type's own UnmarshalJSON refused.
		var fe *fieldValueError
		if errors.As(err, &fe) {
			return []FieldError{{Message: fe.msg, Param: ""}}
		}
		return []FieldError{{Message: "invalid value", Param: ""}}
	}
	return nil
}

// fieldValueError is returned by our JSON value types' UnmarshalJSON.
type fieldValueError struct{ msg string }

func (e *fieldValueError) Error() string { return e.msg }

type walker struct {
	dec   *json.Decoder
	errs  []FieldError
	fatal bool // the JSON itself is malformed: stop walking
}

func (w *walker) add(ptr, msg string) {
	w.errs = append(w.errs, FieldError{Message: msg, Param: ptr})
}

// token reads the next token; malformed JSON ends the walk.
func (w *walker) token(ptr string) (json.Token, bool) {
	if w.fatal {
		return nil, false
	}
	t, err := w.dec.Token()
	if err != nil {
		w.fatal = true
		msg := "malformed JSON"
		var se *json.SyntaxError
		if errors.As(err, &se) {
			msg += " at byte " + strconv.FormatInt(se.Offset, 10) + ": " + se.Error()
		} else if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			msg += ": unexpected end of input"
		}
		// Where malformed JSON ends is not a field: name the body.
		w.errs = []FieldError{{Message: msg, Param: ""}}
		return nil, false
	}
	return t, true
}

// jsonKind is the JSON type a Go type accepts.
func jsonKind(t reflect.Type) string {
	if t.Implements(numberType) || reflect.PointerTo(t).Implements(numberType) {
		return "number"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	}
	return "any"
}

// jsonNumber is implemented by value types that must be JSON numbers.
type jsonNumber interface{ isJSONNumber() }

var (
	numberType     = reflect.TypeOf((*jsonNumber)(nil)).Elem()
	rawMessageType = reflect.TypeOf(json.RawMessage(nil))
)

// value walks one JSON value expected to fit t.
func (w *walker) value(t reflect.Type, ptr string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, ok := w.token(ptr)
	if !ok {
		return
	}
	if tok == nil { // null is accepted everywhere; required fields are checked later
		return
	}
	if t == rawMessageType { // any JSON value; its owner checks it later
		w.skip(tok)
		return
	}
	want := jsonKind(t)
	got := tokenKind(tok)
	if want != "any" && got != want {
		w.add(ptr, "must be a JSON "+want+", not "+got)
		w.skip(tok)
		return
	}
	switch {
	case got == "object" && t.Kind() == reflect.Struct:
		w.object(t, ptr)
	case got == "object":
		w.skipRest(1)
	case got == "array" && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		w.array(t.Elem(), ptr)
	case got == "array":
		w.skipRest(1)
	case got == "number" && want == "number" && isInteger(t):
		if n, ok := tok.(json.Number); ok {
			if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
				w.add(ptr, "must be an integer")
			}
		}
	}
}

func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "object"
		}
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return "null"
}

func (w *walker) object(t reflect.Type, ptr string) {
	fields := structFields(t)
	seen := map[string]bool{}
	for {
		tok, ok := w.token(ptr)
		if !ok {
			return
		}
		if d, isDelim := tok.(json.Delim); isDelim && d == '}' {
			return
		}
		name, _ := tok.(string)
		fptr := ptr + "/" + escapePointer(name)
		if seen[name] {
			w.add(fptr, "duplicate field")
		}
		seen[name] = true
		ft, known := fields[name]
		if !known {
			w.add(fptr, "unknown field")
			w.skipValue(fptr)
			continue
		}
		w.value(ft, fptr)
	}
}

func (w *walker) array(elem reflect.Type, ptr string) {
	for i := 0; ; i++ {
		if w.fatal {
			return
		}
		if !w.dec.More() {
			w.token(ptr) // the closing bracket
			return
		}
		w.value(elem, ptr+"/"+strconv.Itoa(i))
	}
}

// skip consumes the rest of a value whose first token was tok.
func (w *walker) skip(tok json.Token) {
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		w.skipRest(1)
	}
}

func (w *walker) skipValue(ptr string) {
	tok, ok := w.token(ptr)
	if ok {
		w.skip(tok)
	}
}

// skipRest consumes tokens until depth open containers are closed.
func (w *walker) skipRest(depth int) {
	for depth > 0 {
		tok, ok := w.token("")
		if !ok {
			return
		}
		if d, isDelim := tok.(json.Delim); isDelim {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
}

// fieldCache holds structFields' answers: the request types are few and
// fixed, and rebuilding the map per object dominated decoding time.
var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// structFields maps the exact JSON names of t's fields to their types.
func structFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	fieldCache.Store(t, out)
	return out
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
