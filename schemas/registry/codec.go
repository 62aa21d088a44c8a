package registry

import (
	"github.com/lovoo/goka"

	"github.com/tallymarks/tallymarks/schemas"
)

// Codec returns a goka.Codec for the records of schema n, for goka tables,
// streams and views. Its Decode returns the value newValue makes (a pointer
// to a zero value of n's Go type, such as new(schemas.CustomerState)) filled
// from the record; its Encode takes a value or pointer of that type. Errors
// are those of Serde.Decode and Serde.Encode. goka handles tombstones (nil
// values) itself and never passes them to a codec. The codec is as safe for
// concurrent use as newValue is.
func (s *Serde) Codec(n schemas.Name, newValue func() any) goka.Codec {
	return gokaCodec{s: s, name: n, newValue: newValue}
}

type gokaCodec struct {
	s        *Serde
	name     schemas.Name
	newValue func() any
}

func (c gokaCodec) Encode(v any) ([]byte, error) {
	return c.s.Encode(c.name, v)
}

func (c gokaCodec) Decode(b []byte) (any, error) {
	v := c.newValue()
	if err := c.s.Decode(b, c.name, v); err != nil {
		return nil, err
	}
	return v, nil
}
