package registry

import (
	"testing"

	"github.com/tallymarks/tallymarks/schemas"
)

func BenchmarkEncodeEvent(b *testing.B) {
	s, _, _ := newTestSerde(b)
	e := orderEvent()
	buf, err := s.Encode(schemas.EventSchema, e)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf, err = s.AppendEncode(buf[:0], schemas.EventSchema, e)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	s, _, cl := newTestSerde(b)
	current, err := s.Encode(schemas.EventSchema, orderEvent())
	if err != nil {
		b.Fatal(err)
	}
	old := encodeWith(b, registerVariant(b, cl, testTopics.Events()+"-value", withoutFields("campaign")),
		orderEvent())
	cases := []struct {
		name   string
		record []byte
	}{
		{"current", current},
		{"older writer", old},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.record)))
			b.ReportAllocs()
			for b.Loop() {
				var e schemas.Event
				if err := s.Decode(c.record, schemas.EventSchema, &e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
