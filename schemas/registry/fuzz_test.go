package registry

import (
	"errors"
	"testing"

	"github.com/tallymarks/tallymarks/schemas"
)

// FuzzDecode feeds arbitrary bytes to Decode of the event schema, the one
// upstream producers write: as a whole record, and as the body of a record
// of the current schema and of an older writer schema, so that both the
// direct and the resolving decoder see the input. Decode must return an
// error or a value, never panic, and a value it returns must encode again
// without panicking.
func FuzzDecode(f *testing.F) {
	s, _, cl := newTestSerde(f)
	current, _ := s.SchemaID(schemas.EventSchema)
	old := registerVariant(f, cl, testTopics.Events()+"-value", withoutFields("campaign", "origin", "depth"))

	for _, e := range []*schemas.Event{orderEvent(), errorEvent(), nested(DefaultMaxNesting)} {
		b, err := s.Encode(schemas.EventSchema, e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[headerLen:])
		f.Add(encodeWith(f, old, e)[headerLen:])
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40})

	f.Fuzz(func(t *testing.T, b []byte) {
		for _, rec := range [][]byte{
			b,
			append(appendHeader(nil, current), b...),
			append(appendHeader(nil, old.id), b...),
		} {
			var e schemas.Event
			err := s.Decode(rec, schemas.EventSchema, &e)
			if errors.Is(err, errCodecPanic) {
				t.Fatalf("Decode(%x) panicked: %v", rec, err)
			}
			if err != nil {
				continue
			}
			if _, err := s.Encode(schemas.EventSchema, &e); errors.Is(err, errCodecPanic) {
				t.Fatalf("Encode of decoded %x panicked: %v", rec, err)
			}
		}
	})
}
