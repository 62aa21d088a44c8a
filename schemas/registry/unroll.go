package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"
)

// Recursive schemas.
//
// event.avsc is recursive: Error.event holds a whole Event. hamba/avro
// (v2.31.0) checks compatibility of recursive schemas fine, but its
// SchemaCompatibility.Resolve follows the reference back to Event without
// remembering where it has been, and overflows the stack: a fatal error that
// no recover catches, so one record from an older producer would kill the
// process. unroll removes the cycle before Resolve sees it: every reference
// from a record to one of its enclosing records is replaced by a copy of that
// record, depth copies deep, and below that by nestingLimit, a type that no
// Go value encodes to or decodes from. Reader and writer are unrolled alike,
// so resolution matches copy to copy.
//
// The unrolled schema encodes exactly like the original as long as the data
// nests no deeper than depth; deeper data fails to encode and to decode with
// an error. The Serde uses it for the current schemas as well, which bounds
// the stack a hostile record can make the decoder use.

// nestingLimitName names the type that replaces references below the depth.
// A fixed of size 0 is used because hamba decodes it into no Go struct, so a
// record nested too deep fails instead of being read as something else.
const nestingLimitName = "io.tallymarks.registry.NestingLimit"

// maxCopies bounds the copies one unroll may make. A schema with several
// recursive references per level grows exponentially with depth; a schema
// fetched from a registry is not trusted to be reasonable.
const maxCopies = 256

// errTooRecursive is returned by unroll when maxCopies is exceeded.
var errTooRecursive = errors.New("schema too recursive to unroll")

// unroll returns s with its recursion unrolled depth levels deep, and whether
// s was recursive at all (if not, s itself is returned). The result is parsed
// into a fresh cache, so its renamed types never meet other schemas.
func unroll(s avro.Schema, depth int) (avro.Schema, bool, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, false, fmt.Errorf("marshalling schema: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keeps defaults such as longs exact
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, false, fmt.Errorf("reading marshalled schema: %w", err)
	}

	u := &unroller{defs: map[string]map[string]any{}, depth: depth}
	collectNames(tree, u.defs)
	out, err := u.walk(tree, frame{})
	if err != nil {
		return nil, false, err
	}
	if !u.recursive {
		return s, false, nil
	}

	text, err := json.Marshal(out)
	if err != nil {
		return nil, false, fmt.Errorf("marshalling unrolled schema: %w", err)
	}
	us, err := avro.ParseBytesWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, false, fmt.Errorf("parsing unrolled schema: %w", err)
	}
	return us, true, nil
}

// unroller rewrites one schema tree, as hamba marshals it: every named type
// is defined once with its full name, and used again by that name.
type unroller struct {
	defs      map[string]map[string]any // original definitions by full name
	depth     int
	copies    int
	recursive bool
	limitUsed bool
}

// frame is the position of the walk: how many copies deep it is, the names
// the current copy gives to the types defined in it, and the records that
// enclose the current node (by original name).
type frame struct {
	level  int
	rename map[string]string
	stack  []string
}

// walk returns a rewritten copy of the type node n.
func (u *unroller) walk(n any, f frame) (any, error) {
	switch n := n.(type) {
	case string:
		return u.ref(n, f)
	case []any: // union
		out := make([]any, len(n))
		for i, t := range n {
			w, err := u.walk(t, f)
			if err != nil {
				return nil, err
			}
			out[i] = w
		}
		return out, nil
	case map[string]any:
		return u.complex(n, f)
	default:
		return n, nil
	}
}

// ref rewrites a type name: a primitive stays, a reference to an enclosing
// record is expanded, and any other name takes the current copy's name.
func (u *unroller) ref(name string, f frame) (any, error) {
	if isPrimitive(name) {
		return name, nil
	}
	if slices.Contains(f.stack, name) {
		u.recursive = true
		if f.level >= u.depth {
			return u.limit(), nil
		}
		return u.expand(name, f)
	}
	if r, ok := f.rename[name]; ok {
		return r, nil
	}
	return name, nil
}

// expand returns a fresh copy of the definition of name, one level deeper,
// with every type defined inside it renamed for that level.
func (u *unroller) expand(name string, f frame) (any, error) {
	u.copies++
	if u.copies > maxCopies {
		return nil, fmt.Errorf("%w: more than %d copies", errTooRecursive, maxCopies)
	}
	def := u.defs[name]
	inner := map[string]map[string]any{}
	collectNames(def, inner)

	level := f.level + 1
	rename := make(map[string]string, len(f.rename)+len(inner))
	for k, v := range f.rename {
		rename[k] = v
	}
	for k := range inner {
		rename[k] = nestedName(k, level)
	}
	return u.walk(def, frame{level: level, rename: rename, stack: f.stack})
}

// complex rewrites a type given as a JSON object.
func (u *unroller) complex(m map[string]any, f frame) (any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	typ, _ := m["type"].(string)
	switch typ {
	case "record", "error":
		name, _ := m["name"].(string)
		out["name"] = renamed(name, f)
		fields, _ := m["fields"].([]any)
		inner := f
		inner.stack = append(slices.Clip(f.stack), name)
		newFields := make([]any, len(fields))
		for i, fl := range fields {
			fm, ok := fl.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("field %d of %s is not an object", i, name)
			}
			nf := make(map[string]any, len(fm))
			for k, v := range fm {
				nf[k] = v
			}
			t, err := u.walk(fm["type"], inner)
			if err != nil {
				return nil, err
			}
			nf["type"] = t
			newFields[i] = nf
		}
		out["fields"] = newFields
	case "enum", "fixed":
		name, _ := m["name"].(string)
		out["name"] = renamed(name, f)
	case "array":
		t, err := u.walk(m["items"], f)
		if err != nil {
			return nil, err
		}
		out["items"] = t
	case "map":
		t, err := u.walk(m["values"], f)
		if err != nil {
			return nil, err
		}
		out["values"] = t
	}
	return out, nil
}

// limit returns the nesting-limit type: its definition the first time, its
// name after that, since a schema may define a name only once.
func (u *unroller) limit() any {
	if u.limitUsed {
		return nestingLimitName
	}
	u.limitUsed = true
	return map[string]any{"type": "fixed", "name": nestingLimitName, "size": 0}
}

// renamed returns the name the current copy gives to a type it defines.
func renamed(name string, f frame) string {
	if r, ok := f.rename[name]; ok {
		return r
	}
	return name
}

// nestedName moves a full name into a namespace of its own for one level:
// io.tallymarks.Event becomes io.tallymarks.unrolled2.Event. Only the
// namespace changes because hamba matches reader and writer records by their
// short names.
func nestedName(full string, level int) string {
	ns, short := "", full
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		ns, short = full[:i+1], full[i+1:]
	}
	return ns + "unrolled" + strconv.Itoa(level) + "." + short
}

// collectNames adds every named type defined in the tree n to into.
func collectNames(n any, into map[string]map[string]any) {
	switch n := n.(type) {
	case []any:
		for _, t := range n {
			collectNames(t, into)
		}
	case map[string]any:
		switch n["type"] {
		case "record", "error":
			if name, ok := n["name"].(string); ok {
				into[name] = n
			}
			fields, _ := n["fields"].([]any)
			for _, fl := range fields {
				if fm, ok := fl.(map[string]any); ok {
					collectNames(fm["type"], into)
				}
			}
		case "enum", "fixed":
			if name, ok := n["name"].(string); ok {
				into[name] = n
			}
		case "array":
			collectNames(n["items"], into)
		case "map":
			collectNames(n["values"], into)
		}
	}
}

func isPrimitive(name string) bool {
	switch name {
	case "null", "boolean", "int", "long", "float", "double", "bytes", "string":
		return true
	}
	return false
}
