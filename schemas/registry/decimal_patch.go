package registry

import (
	"math/big"
	"reflect"
	"strconv"

	"github.com/hamba/avro/v2"
)

// Nullable decimals.
//
// hamba/avro v2.31.0 decodes a nullable decimal, ["null", bytes.decimal],
// into a *big.Rat field wrongly: for a nullable union it strips the pointer
// and decodes into the big.Rat itself, with a codec that writes a *big.Rat
// where the big.Rat is. The amount is lost and reads as 0, with no error
// (hamba/avro#453, closed by the maintainers: a nullable union decodes into
// the dereferenced type, so only a **big.Rat field gets the value). Package
// schemas uses *big.Rat for every nullable amount, so Decode re-reads those
// fields in a second pass into a shadow struct, built by reflection from
// the schema and the Go type, whose decimals are **big.Rat, and copies them
// over. The pass runs only when the first left a non-null decimal, the only
// case the bug touches. Encoding is not affected.

// decimalPatch describes, for one record schema and one Go struct type, the
// shadow struct that re-reads its nullable decimals and those of the
// records nested in it.
type decimalPatch struct {
	shadow reflect.Type
	fields []patchField
}

type patchKind int

const (
	patchDecimal   patchKind = iota // *big.Rat field of a nullable decimal
	patchRecord                     // struct field of a record
	patchRecordPtr                  // *struct field of a (nullable) record
	patchArray                      // []struct field of an array of records
)

// patchField is one field of the shadow struct.
type patchField struct {
	kind   patchKind
	target int // index of the field in the Go struct
	shadow int // index of the field in the shadow struct
	sub    *decimalPatch
}

var ratPtr = reflect.TypeFor[*big.Rat]()

// buildPatch returns the patch for decoding record schema s into struct
// type t, or nil when nothing under s needs one. s must not be recursive
// (the Serde only decodes with unrolled schemas), or buildPatch would not
// end.
func buildPatch(s avro.Schema, t reflect.Type) *decimalPatch {
	rec, ok := deref(s).(*avro.RecordSchema)
	if !ok || t.Kind() != reflect.Struct {
		return nil
	}
	p := &decimalPatch{}
	var shadow []reflect.StructField
	for _, f := range rec.Fields() {
		idx, ok := goField(t, f.Name())
		if !ok {
			continue
		}
		pf, typ := patchFor(f.Type(), t.Field(idx).Type)
		if typ == nil {
			continue
		}
		pf.target, pf.shadow = idx, len(shadow)
		p.fields = append(p.fields, pf)
		shadow = append(shadow, reflect.StructField{
			Name: "F" + strconv.Itoa(len(shadow)),
			Type: typ,
			Tag:  reflect.StructTag(`avro:"` + f.Name() + `"`),
		})
	}
	if len(shadow) == 0 {
		return nil
	}
	p.shadow = reflect.StructOf(shadow)
	return p
}

// patchFor returns how a field of schema s and Go type gt is patched, and
// the type of its shadow field, or a nil type when it needs no patch.
func patchFor(s avro.Schema, gt reflect.Type) (patchField, reflect.Type) {
	s = deref(s)
	if gt == ratPtr && isNullableDecimal(s) {
		return patchField{kind: patchDecimal}, reflect.PointerTo(ratPtr)
	}
	switch {
	case gt.Kind() == reflect.Struct:
		if sub := buildPatch(s, gt); sub != nil {
			return patchField{kind: patchRecord, sub: sub}, sub.shadow
		}
	case gt.Kind() == reflect.Pointer && gt.Elem().Kind() == reflect.Struct:
		if sub := buildPatch(nonNull(s), gt.Elem()); sub != nil {
			return patchField{kind: patchRecordPtr, sub: sub}, reflect.PointerTo(sub.shadow)
		}
	case gt.Kind() == reflect.Slice && gt.Elem().Kind() == reflect.Struct:
		if arr, ok := s.(*avro.ArraySchema); ok {
			if sub := buildPatch(arr.Items(), gt.Elem()); sub != nil {
				return patchField{kind: patchArray, sub: sub}, reflect.SliceOf(sub.shadow)
			}
		}
	}
	return patchField{}, nil
}

// needed reports whether v, decoded by hamba, holds a non-null decimal that
// the bug has damaged.
func (p *decimalPatch) needed(v reflect.Value) bool {
	for _, f := range p.fields {
		fv := v.Field(f.target)
		switch f.kind {
		case patchDecimal:
			if !fv.IsNil() {
				return true
			}
		case patchRecord:
			if f.sub.needed(fv) {
				return true
			}
		case patchRecordPtr:
			if !fv.IsNil() && f.sub.needed(fv.Elem()) {
				return true
			}
		case patchArray:
			for i := range fv.Len() {
				if f.sub.needed(fv.Index(i)) {
					return true
				}
			}
		}
	}
	return false
}

// apply copies the decimals of shadow, decoded from the same bytes as
// target, into target.
func (p *decimalPatch) apply(shadow, target reflect.Value) {
	for _, f := range p.fields {
		sv, tv := shadow.Field(f.shadow), target.Field(f.target)
		switch f.kind {
		case patchDecimal:
			if sv.IsNil() {
				tv.SetZero()
			} else {
				tv.Set(sv.Elem())
			}
		case patchRecord:
			f.sub.apply(sv, tv)
		case patchRecordPtr:
			if !sv.IsNil() && !tv.IsNil() {
				f.sub.apply(sv.Elem(), tv.Elem())
			}
		case patchArray:
			for i := range min(sv.Len(), tv.Len()) {
				f.sub.apply(sv.Index(i), tv.Index(i))
			}
		}
	}
}

// goField returns the index of the field of struct t that hamba decodes
// Avro field name into: the one tagged with it, else the one named so.
func goField(t reflect.Type, name string) (int, bool) {
	untagged := -1
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		switch tag := sf.Tag.Get("avro"); {
		case tag == name:
			return i, true
		case tag == "" && sf.Name == name:
			untagged = i
		}
	}
	return untagged, untagged >= 0
}

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

// nonNull returns the other branch of a nullable union, or s.
func nonNull(s avro.Schema) avro.Schema {
	u, ok := s.(*avro.UnionSchema)
	if !ok || !u.Nullable() {
		return s
	}
	for _, t := range u.Types() {
		if t.Type() != avro.Null {
			return deref(t)
		}
	}
	return s
}

func isNullableDecimal(s avro.Schema) bool {
	if u, ok := s.(*avro.UnionSchema); !ok || !u.Nullable() {
		return false
	}
	p, ok := nonNull(s).(*avro.PrimitiveSchema)
	return ok && p.Type() == avro.Bytes && p.Logical() != nil && p.Logical().Type() == avro.Decimal
}
