package registry

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/tallymarks/tallymarks/schemas"
)

// An edit changes the top-level fields of the event schema. The nested
// event of an error event is the same record, so it changes too.
type edit func(fields []any) []any

func withoutFields(names ...string) edit {
	return func(fields []any) []any {
		return slices.DeleteFunc(fields, func(f any) bool {
			return slices.Contains(names, f.(map[string]any)["name"].(string))
		})
	}
}

func withField(field string) edit {
	return func(fields []any) []any {
		var f map[string]any
		if err := json.Unmarshal([]byte(field), &f); err != nil {
			panic(err)
		}
		return append(fields, f)
	}
}

func withFieldType(name string, typ any) edit {
	return func(fields []any) []any {
		for _, f := range fields {
			if fm := f.(map[string]any); fm["name"] == name {
				fm["type"] = typ
				delete(fm, "default")
			}
		}
		return fields
	}
}

// eventVariant returns the text of the current event schema with edits
// applied.
func eventVariant(t testing.TB, edits ...edit) string {
	t.Helper()
	text, err := registrationText(schemas.MustSchema(schemas.EventSchema))
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	var tree map[string]any
	if err := d.Decode(&tree); err != nil {
		t.Fatal(err)
	}
	fields := tree["fields"].([]any)
	for _, e := range edits {
		fields = e(fields)
	}
	tree["fields"] = fields
	out, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// writer is a schema registered by some other producer.
type writer struct {
	id     int
	schema avro.Schema
}

// registerWriter registers text under subject, as another producer would,
// and parses it with the schemas it references (deps, in order).
func registerWriter(t testing.TB, cl *sr.Client, subject, text string, refs []sr.SchemaReference,
	deps ...string,
) writer {
	t.Helper()
	id, err := cl.RegisterSchema(context.Background(), subject,
		sr.Schema{Schema: text, Type: sr.TypeAvro, References: refs}, -1, -1)
	if err != nil {
		t.Fatalf("registering writer schema: %v", err)
	}
	cache := &avro.SchemaCache{}
	for _, d := range deps {
		if _, err := avro.ParseWithCache(d, "", cache); err != nil {
			t.Fatal(err)
		}
	}
	s, err := avro.ParseWithCache(text, "", cache)
	if err != nil {
		t.Fatalf("parsing writer schema: %v", err)
	}
	return writer{id: id, schema: s}
}

func registerVariant(t testing.TB, cl *sr.Client, subject string, edits ...edit) writer {
	t.Helper()
	return registerWriter(t, cl, subject, eventVariant(t, edits...), nil)
}

// encodeWith writes v as the producer of w would.
func encodeWith(t testing.TB, w writer, v any) []byte {
	t.Helper()
	body, err := avro.Marshal(w.schema, v)
	if err != nil {
		t.Fatalf("encoding with writer schema: %v", err)
	}
	return append(appendHeader(nil, w.id), body...)
}

// eachEvent calls f on e and on every event nested in it.
func eachEvent(e *schemas.Event, f func(*schemas.Event)) *schemas.Event {
	for x := e; x != nil; {
		f(x)
		if x.ErrorAction == nil {
			break
		}
		x = x.ErrorAction.Event
	}
	return e
}

// A minimal first version of the event: only the fields without defaults,
// and Points with an int quantity (the current schema has long).
const minimalEvent = `{
  "type": "record", "name": "Event", "namespace": "io.tallymarks",
  "fields": [
    {"name": "eventId", "type": "string"},
    {"name": "tenantId", "type": "string"},
    {"name": "customerId", "type": "string"},
    {"name": "createdAt", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "receivedAt", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "nameSpace", "type": "string"},
    {"name": "points", "default": null, "type": ["null", {
      "type": "record", "name": "Points",
      "fields": [{"name": "quantity", "type": "int"}]}]}
  ]
}`

type minimalPoints struct {
	Quantity int32 `avro:"quantity"`
}

type minimal struct {
	EventID    string         `avro:"eventId"`
	TenantID   string         `avro:"tenantId"`
	CustomerID string         `avro:"customerId"`
	CreatedAt  time.Time      `avro:"createdAt"`
	ReceivedAt time.Time      `avro:"receivedAt"`
	NameSpace  string         `avro:"nameSpace"`
	Points     *minimalPoints `avro:"points"`
}

// TestDecodeOlderAndNewerWriters decodes records written with other versions
// of the event schema into the current Go type.
func TestDecodeOlderAndNewerWriters(t *testing.T) {
	s, _, cl := newTestSerde(t)
	subject := testTopics.Events() + "-value"

	tests := []struct {
		name   string
		writer func() writer
		in     any
		want   *schemas.Event
	}{
		{
			name: "older writer without campaign, origin and depth takes defaults",
			writer: func() writer {
				return registerVariant(t, cl, subject, withoutFields("campaign", "origin", "depth"))
			},
			in: func() any {
				e := orderEvent()
				e.Origin, e.Depth = schemas.OriginSystem, 3
				return e
			}(),
			want: func() *schemas.Event {
				e := orderEvent()
				e.Campaign = nil
				return e
			}(),
		},
		{
			name:   "nested error events take defaults at every level",
			writer: func() writer { return registerVariant(t, cl, subject, withoutFields("origin")) },
			in:     errorEvent(),
			want: eachEvent(errorEvent(), func(e *schemas.Event) {
				e.Origin = schemas.OriginClient
			}),
		},
		{
			name: "newer writer with an extra field",
			writer: func() writer {
				extra := `{"name":"channel","type":"string","default":"web"}`
				return registerVariant(t, cl, subject, withField(extra))
			},
			in:   errorEvent(),
			want: errorEvent(),
		},
		{
			name:   "minimal first version with int quantity",
			writer: func() writer { return registerWriter(t, cl, subject, minimalEvent, nil) },
			in: &minimal{
				EventID: "e1", TenantID: tenantID, CustomerID: customerID,
				CreatedAt: at("2025-05-05T05:05:05.005Z"), ReceivedAt: at("2025-05-05T05:05:06Z"),
				NameSpace: "Points.Welcome", Points: &minimalPoints{Quantity: 100},
			},
			want: &schemas.Event{
				EventID: "e1", TenantID: tenantID, CustomerID: customerID,
				CreatedAt: at("2025-05-05T05:05:05.005Z"), ReceivedAt: at("2025-05-05T05:05:06Z"),
				NameSpace: "Points.Welcome", Origin: schemas.OriginClient, Attributes: []schemas.Attribute{},
				Points: &schemas.Points{Quantity: 100},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.writer()
			if cur, _ := s.SchemaID(schemas.EventSchema); w.id == cur {
				t.Fatalf("writer registered with the current id %d", cur)
			}
			var got schemas.Event
			if err := s.Decode(encodeWith(t, w, tt.in), schemas.EventSchema, &got); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			sameJSON(t, &got, tt.want)
		})
	}
}

func TestDecodeIncompatibleWriter(t *testing.T) {
	s, l, cl := newTestSerde(t)
	subject := testTopics.Events() + "-value"
	good, _ := s.Encode(schemas.EventSchema, orderEvent())
	body := good[headerLen:]

	// Count the registry's schema lookups.
	var fetches atomic.Int32
	l.reg.Intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, "/schemas/ids/") {
			fetches.Add(1)
		}
		return false
	})

	register := func(text string, typ sr.SchemaType) int {
		id, err := cl.RegisterSchema(context.Background(), subject, sr.Schema{Schema: text, Type: typ}, -1, -1)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	tests := []struct {
		name string
		id   int
	}{
		{"depth changed to string", register(eventVariant(t, withFieldType("depth", "string")), sr.TypeAvro)},
		{"nameSpace removed", register(eventVariant(t, withoutFields("nameSpace")), sr.TypeAvro)},
		{"record renamed", register(strings.Replace(eventVariant(t),
			`"io.tallymarks.Event"`, `"io.tallymarks.Happening"`, 1), sr.TypeAvro)},
		{"amounts with scale 2", register(strings.ReplaceAll(eventVariant(t), `"scale":4`, `"scale":2`),
			sr.TypeAvro)},
		{"times in microseconds", register(strings.Replace(eventVariant(t), `"timestamp-millis"`,
			`"timestamp-micros"`, 1), sr.TypeAvro)},
		{"JSON schema", register(`{"type":"object"}`, sr.TypeJSON)},
		{"not a valid Avro schema", register(`{"type":"record","name":"Event"}`, sr.TypeAvro)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := append(appendHeader(nil, tt.id), body...)
			before := fetches.Load()
			for range 3 {
				err := s.Decode(rec, schemas.EventSchema, new(schemas.Event))
				if !errors.Is(err, ErrIncompatibleWriter) {
					t.Fatalf("Decode error = %v, want ErrIncompatibleWriter", err)
				}
			}
			if n := fetches.Load() - before; n != 1 {
				t.Fatalf("the registry was asked %d times for a writer schema, want once", n)
			}
		})
	}
}

// TestDecodeWriterWithReferences decodes a record whose writer schema takes
// a named type from another subject, as Confluent schema references do.
func TestDecodeWriterWithReferences(t *testing.T) {
	s, _, cl := newTestSerde(t)
	attribute := `{"type":"record","name":"Attribute","namespace":"io.tallymarks",` +
		`"fields":[{"name":"key","type":"string"},{"name":"value","type":"string"}]}`
	_, err := cl.RegisterSchema(context.Background(), "io.tallymarks.Attribute",
		sr.Schema{Schema: attribute, Type: sr.TypeAvro}, -1, -1)
	if err != nil {
		t.Fatal(err)
	}

	// The event with Attribute given by name instead of defined inline.
	text := eventVariant(t, func(fields []any) []any {
		for _, f := range fields {
			if fm := f.(map[string]any); fm["name"] == "attributes" {
				fm["type"] = map[string]any{"type": "array", "items": "io.tallymarks.Attribute"}
			}
		}
		return fields
	})
	w := registerWriter(t, cl, testTopics.Events()+"-value", text,
		[]sr.SchemaReference{{Name: "io.tallymarks.Attribute", Subject: "io.tallymarks.Attribute", Version: 1}},
		attribute)

	var got schemas.Event
	if err := s.Decode(encodeWith(t, w, orderEvent()), schemas.EventSchema, &got); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	sameJSON(t, &got, orderEvent())
}

// TestDecodeSameSchemaOtherID covers a registry that gives our schema
// another id under another subject: the bytes are the same, so no resolution
// is needed.
func TestDecodeSameSchemaOtherID(t *testing.T) {
	s, l, _ := newTestSerde(t)
	text, _ := registrationText(schemas.MustSchema(schemas.EventSchema))
	// Seeding bypasses the registry's reuse of ids for identical schemas.
	l.reg.SeedSchema("elsewhere-value", 1, 900, sr.Schema{Schema: text})
	good, _ := s.Encode(schemas.EventSchema, errorEvent())
	rec := append(appendHeader(nil, 900), good[headerLen:]...)
	var got schemas.Event
	if err := s.Decode(rec, schemas.EventSchema, &got); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	sameJSON(t, &got, errorEvent())
}
