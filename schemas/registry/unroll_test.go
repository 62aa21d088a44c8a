package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
)

type node struct {
	V    int32 `avro:"v"`
	Next *node `avro:"next"`
}

func list(n int) *node {
	var l *node
	for i := range n {
		l = &node{V: int32(i), Next: l}
	}
	return l
}

func parse(t *testing.T, text string) avro.Schema {
	t.Helper()
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const listSchema = `{"type":"record","name":"io.test.Node","fields":[
	{"name":"v","type":"int"},
	{"name":"next","type":["null","Node"],"default":null}]}`

func TestUnroll(t *testing.T) {
	tests := []struct {
		name      string
		schema    string
		depth     int
		recursive bool
		contains  []string
		err       error
	}{
		{
			name: "not recursive",
			schema: `{"type":"record","name":"A","fields":[` +
				`{"name":"b","type":{"type":"record","name":"B","fields":[]}},{"name":"c","type":"B"}]}`,
			depth: 3,
		},
		{
			name: "linked list", schema: listSchema, depth: 2, recursive: true,
			contains: []string{`"io.test.unrolled1.Node"`, `"io.test.unrolled2.Node"`, nestingLimitName},
		},
		{
			name: "no nesting allowed", schema: listSchema, depth: 0, recursive: true,
			contains: []string{nestingLimitName},
		},
		{
			name: "mutual recursion",
			schema: `{"type":"record","name":"A","fields":[{"name":"b","type":{"type":"record","name":"B",` +
				`"fields":[{"name":"a","type":{"type":"array","items":"A"}},{"name":"e","type":` +
				`{"type":"enum","name":"E","symbols":["X"]}}]}},{"name":"e","type":"E"}]}`,
			depth: 1, recursive: true,
			contains: []string{`"unrolled1.A"`, `"unrolled1.B"`, `"unrolled1.E"`},
		},
		{
			name: "two references per level grow too fast",
			schema: `{"type":"record","name":"T","fields":[{"name":"l","type":["null","T"]},` +
				`{"name":"r","type":["null","T"]}]}`,
			depth: 10, err: errTooRecursive,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parse(t, tt.schema)
			got, recursive, err := unroll(s, tt.depth)
			if !errors.Is(err, tt.err) {
				t.Fatalf("unroll error = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if recursive != tt.recursive {
				t.Fatalf("unroll recursive = %v, want %v", recursive, tt.recursive)
			}
			if !recursive && got != s {
				t.Fatalf("unroll changed a schema without recursion")
			}
			text, _ := registrationText(got)
			for _, c := range tt.contains {
				if !strings.Contains(text, c) {
					t.Errorf("unrolled schema lacks %s: %s", c, text)
				}
			}
		})
	}
}

// TestUnrolledListNesting checks that an unrolled schema reads and writes
// the same bytes as the original up to its depth, and fails beyond it.
func TestUnrolledListNesting(t *testing.T) {
	orig := parse(t, listSchema)
	unrolled, _, err := unroll(orig, 2)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 5; n++ {
		want, err := avro.Marshal(orig, list(n))
		if err != nil {
			t.Fatal(err)
		}
		fits := n <= 3 // the top node and two nested ones
		got, err := avro.Marshal(unrolled, list(n))
		if fits != (err == nil) || fits && string(got) != string(want) {
			t.Fatalf("encoding %d nodes with the unrolled schema: %x, %v; original gives %x", n, got, err, want)
		}
		var back node
		if err := avro.Unmarshal(unrolled, want, &back); fits != (err == nil) {
			t.Fatalf("decoding %d nodes with the unrolled schema: %v", n, err)
		}
	}
}

// TestResolveRecursive resolves two versions of a recursive schema, which
// hamba cannot do without unrolling (it overflows the stack).
func TestResolveRecursive(t *testing.T) {
	writer := parse(t, `{"type":"record","name":"io.test.Node","fields":[
		{"name":"next","type":["null","Node"]},{"name":"v","type":"int"},{"name":"old","type":"string"}]}`)
	reader := parse(t, `{"type":"record","name":"io.test.Node","fields":[
		{"name":"v","type":"long"},{"name":"next","type":["null","Node"]},{"name":"w","type":"int","default":7}]}`)
	type oldNode struct {
		Next *oldNode `avro:"next"`
		V    int32    `avro:"v"`
		Old  string   `avro:"old"`
	}
	type newNode struct {
		V    int64    `avro:"v"`
		Next *newNode `avro:"next"`
		W    int32    `avro:"w"`
	}
	data, err := avro.Marshal(writer, &oldNode{V: 1, Old: "x", Next: &oldNode{V: 2, Old: "y"}})
	if err != nil {
		t.Fatal(err)
	}

	r, _, err := unroll(reader, 3)
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := unroll(writer, 3)
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := avro.NewSchemaCompatibility().Resolve(r, w)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	var got newNode
	if err := avro.Unmarshal(resolved, data, &got); err != nil {
		t.Fatal(err)
	}
	if got.V != 1 || got.W != 7 || got.Next == nil || got.Next.V != 2 || got.Next.W != 7 || got.Next.Next != nil {
		t.Fatalf("resolved decode = %+v / %+v", got, got.Next)
	}
}

func TestNestedName(t *testing.T) {
	tests := []struct {
		in    string
		level int
		want  string
	}{
		{"io.tallymarks.Event", 1, "io.tallymarks.unrolled1.Event"},
		{"Event", 3, "unrolled3.Event"},
	}
	for _, tt := range tests {
		if got := nestedName(tt.in, tt.level); got != tt.want {
			t.Errorf("nestedName(%q, %d) = %q, want %q", tt.in, tt.level, got, tt.want)
		}
	}
}
