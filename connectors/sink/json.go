package sink

import (
	"encoding/base64"
	"math/big"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tallymarks/tallymarks/schemas"
)

// eventJSON writes ev as one JSON object for the body columns, so that
// analysts reach every field, also those without a column of their own.
// Field names are the Avro (and API) names, in schema order; amounts are
// JSON numbers written exactly (120.5, never 1.205e2); times are RFC 3339
// in UTC with milliseconds; absent optional fields are null; raw bytes are
// base64.
func eventJSON(ev *schemas.Event) []byte {
	return appendJSON(make([]byte, 0, 512), reflect.ValueOf(ev))
}

var (
	ratType  = reflect.TypeFor[*big.Rat]()
	timeType = reflect.TypeFor[time.Time]()
)

// jsonField is one exported field of a struct with an avro tag.
type jsonField struct {
	index int
	name  []byte // the quoted name and the colon
}

var jsonFields sync.Map // reflect.Type → []jsonField

func fieldsOf(t reflect.Type) []jsonField {
	if f, ok := jsonFields.Load(t); ok {
		return f.([]jsonField)
	}
	var fs []jsonField
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("avro")
		if name == "" || !t.Field(i).IsExported() {
			continue
		}
		fs = append(fs, jsonField{index: i, name: append(appendString(nil, name), ':')})
	}
	jsonFields.Store(t, fs)
	return fs
}

// appendJSON appends v, a value of one of the schemas types, to b.
func appendJSON(b []byte, v reflect.Value) []byte {
	switch v.Type() {
	case ratType:
		if v.IsNil() {
			return append(b, "null"...)
		}
		return appendDecimal(b, v.Interface().(*big.Rat))
	case timeType:
		t := v.Interface().(time.Time).UTC()
		b = append(b, '"')
		b = t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		return append(b, '"')
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return append(b, "null"...)
		}
		return appendJSON(b, v.Elem())
	case reflect.Struct:
		b = append(b, '{')
		for i, f := range fieldsOf(v.Type()) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, f.name...)
			b = appendJSON(b, v.Field(f.index))
		}
		return append(b, '}')
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, v.Bytes())
			return append(b, '"')
		}
		b = append(b, '[')
		for i := range v.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, v.Index(i))
		}
		return append(b, ']')
	case reflect.String:
		return appendString(b, v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, v.Int(), 10)
	case reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(b, v.Uint(), 10)
	case reflect.Bool:
		return strconv.AppendBool(b, v.Bool())
	}
	// No schemas type has another kind; keep the document valid if one
	// appears.
	return append(b, "null"...)
}

// appendDecimal writes r exactly, as schemas.FormatDecimal does, with a
// fast path for amounts that fit Decimal(18,4), which all valid ones do.
func appendDecimal(b []byte, r *big.Rat) []byte {
	n, err := scaled(r)
	if err != nil {
		return append(b, schemas.FormatDecimal(r)...)
	}
	if n < 0 {
		b = append(b, '-')
	}
	u := uint64(n)
	if n < 0 {
		u = uint64(-n)
	}
	b = strconv.AppendUint(b, u/10_000, 10)
	frac := u % 10_000
	if frac == 0 {
		return b
	}
	digits := [4]byte{
		byte('0' + frac/1000), byte('0' + frac/100%10), byte('0' + frac/10%10), byte('0' + frac%10),
	}
	end := 4
	for digits[end-1] == '0' {
		end--
	}
	b = append(b, '.')
	return append(b, digits[:end]...)
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but not valid JavaScript: escaped as encoding/json does.
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
