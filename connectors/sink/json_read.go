package sink

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"time"
)

// errJSONShape says that a JSON document does not have the shape
// appendJSON writes for the Go type it is read into.
var errJSONShape = errors.New("json does not match the record's shape")

// readJSON reads data, a document appendJSON wrote, into v, a pointer to
// a value of one of the schemas types: the inverse of appendJSON. Fields
// the document lacks keep their zero value; fields the type lacks are
// ignored, so that a row written by an older or newer version still reads.
func readJSON(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("%w: reading into %T", errJSONShape, v)
	}
	return readValue(data, rv.Elem())
}

func readValue(data json.RawMessage, v reflect.Value) error {
	if string(data) == "null" {
		v.SetZero()
		return nil
	}
	switch v.Type() {
	case ratType:
		var n json.Number
		if err := json.Unmarshal(data, &n); err != nil {
			return fmt.Errorf("%w: decimal: %w", errJSONShape, err)
		}
		// appendJSON never writes an exponent, and 1e99999999 would take
		// big.Rat minutes and gigabytes to expand.
		if strings.ContainsAny(string(n), "eE") {
			return fmt.Errorf("%w: decimal %s has an exponent", errJSONShape, n)
		}
		r, ok := new(big.Rat).SetString(string(n))
		if !ok {
			return fmt.Errorf("%w: decimal %s", errJSONShape, n)
		}
		v.Set(reflect.ValueOf(r))
		return nil
	case timeType:
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("%w: time: %w", errJSONShape, err)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("%w: time: %w", errJSONShape, err)
		}
		v.Set(reflect.ValueOf(t.UTC()))
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		return readValue(data, v.Elem())
	case reflect.Struct:
		return readStruct(data, v)
	case reflect.Slice:
		return readSlice(data, v)
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32,
		reflect.Int64, reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if err := json.Unmarshal(data, v.Addr().Interface()); err != nil {
			return fmt.Errorf("%w: %w", errJSONShape, err)
		}
		return nil
	}
	return fmt.Errorf("%w: no JSON form for %s", errJSONShape, v.Type())
}

func readStruct(data json.RawMessage, v reflect.Value) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("%w: %s: %w", errJSONShape, v.Type(), err)
	}
	for _, f := range fieldsOf(v.Type()) {
		raw, ok := m[v.Type().Field(f.index).Tag.Get("avro")]
		if !ok {
			continue
		}
		if err := readValue(raw, v.Field(f.index)); err != nil {
			return err
		}
	}
	return nil
}

func readSlice(data json.RawMessage, v reflect.Value) error {
	if v.Type().Elem().Kind() == reflect.Uint8 {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("%w: bytes: %w", errJSONShape, err)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("%w: bytes: %w", errJSONShape, err)
		}
		v.SetBytes(b)
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return fmt.Errorf("%w: %s: %w", errJSONShape, v.Type(), err)
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, raw := range items {
		if err := readValue(raw, out.Index(i)); err != nil {
			return err
		}
	}
	v.Set(out)
	return nil
}
