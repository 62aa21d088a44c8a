package registry

import (
	"errors"
	"fmt"

	"github.com/hamba/avro/v2"
)

// errLogicalMismatch is returned by checkLogical.
var errLogicalMismatch = errors.New("logical types differ")

// checkLogical returns an error when data written with w would be read with
// a different meaning by r: a decimal of another scale, bytes without a
// decimal type read as a decimal, or another logical type on the same
// physical type (timestamp-micros read as timestamp-millis).
//
// hamba's compatibility check compares physical types only, and its
// resolver reads every primitive with the reader's logical type. An amount
// an upstream producer writes as decimal(10,2), 10.39 as the unscaled 1039,
// would otherwise read as 0.1039 against our decimal(18,4). A writer that
// gives no logical type where the reader has one (a plain long for a
// timestamp-millis, a plain string for a uuid) is accepted, except for
// decimals, since bytes alone are no number.
//
// r and w must not be recursive (unroll them first).
func checkLogical(r, w avro.Schema) error {
	return (&logicalChecker{seen: map[[2][32]byte]bool{}}).check(r, w, "")
}

type logicalChecker struct {
	seen map[[2][32]byte]bool // pairs already checked
}

func (c *logicalChecker) check(r, w avro.Schema, path string) error {
	r, w = deref(r), deref(w)
	key := [2][32]byte{r.Fingerprint(), w.Fingerprint()}
	if c.seen[key] {
		return nil
	}
	c.seen[key] = true

	// Unions: every writer branch against every reader branch of its kind.
	if wu, ok := w.(*avro.UnionSchema); ok {
		for _, wb := range wu.Types() {
			if err := c.check(r, wb, path); err != nil {
				return err
			}
		}
		return nil
	}
	if ru, ok := r.(*avro.UnionSchema); ok {
		for _, rb := range ru.Types() {
			if sameKind(deref(rb), w) {
				if err := c.check(rb, w, path); err != nil {
					return err
				}
			}
		}
		return nil
	}

	switch r := r.(type) {
	case *avro.RecordSchema:
		wr, ok := w.(*avro.RecordSchema)
		if !ok {
			return nil
		}
		for _, wf := range wr.Fields() {
			for _, rf := range r.Fields() {
				if rf.Name() == wf.Name() {
					if err := c.check(rf.Type(), wf.Type(), path+"."+rf.Name()); err != nil {
						return err
					}
				}
			}
		}
	case *avro.ArraySchema:
		if wa, ok := w.(*avro.ArraySchema); ok {
			return c.check(r.Items(), wa.Items(), path+"[]")
		}
	case *avro.MapSchema:
		if wm, ok := w.(*avro.MapSchema); ok {
			return c.check(r.Values(), wm.Values(), path+"{}")
		}
	case avro.LogicalTypeSchema:
		wl, _ := w.(avro.LogicalTypeSchema)
		return compareLogical(r, wl, path)
	}
	return nil
}

// compareLogical compares the logical types of two primitive or fixed
// schemas at path.
func compareLogical(r, w avro.LogicalTypeSchema, path string) error {
	var rl, wl avro.LogicalSchema
	if r != nil {
		rl = r.Logical()
	}
	if w != nil {
		wl = w.Logical()
	}
	switch {
	case rl == nil:
		return nil
	case wl == nil:
		if rl.Type() == avro.Decimal {
			return fmt.Errorf("%w at %s: writer has no decimal type", errLogicalMismatch, path)
		}
		return nil
	case rl.Type() != wl.Type():
		return fmt.Errorf("%w at %s: writer %s, reader %s", errLogicalMismatch, path, wl.Type(), rl.Type())
	}
	rd, ok1 := rl.(*avro.DecimalLogicalSchema)
	wd, ok2 := wl.(*avro.DecimalLogicalSchema)
	if ok1 && ok2 && rd.Scale() != wd.Scale() {
		return fmt.Errorf("%w at %s: writer decimal scale %d, reader %d", errLogicalMismatch, path,
			wd.Scale(), rd.Scale())
	}
	return nil
}

// sameKind reports whether a reader union branch rb is where hamba would
// read writer schema w: the same type, and the same name for named types.
func sameKind(rb, w avro.Schema) bool {
	if rb.Type() != w.Type() {
		return false
	}
	rn, ok1 := rb.(avro.NamedSchema)
	wn, ok2 := w.(avro.NamedSchema)
	return !ok1 || !ok2 || rn.Name() == wn.Name()
}
