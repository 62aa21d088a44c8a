package schemas_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/tallymarks/tallymarks/schemas"
)

// historyDir holds one directory per released set of schemas; see its
// README.md.
const historyDir = "history"

var releaseDir = regexp.MustCompile(`^v([1-9][0-9]*)$`)

// releases returns the release directories, oldest first.
func releases(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(historyDir)
	if err != nil {
		t.Fatal(err)
	}
	var nums []int
	for _, e := range entries {
		m := releaseDir.FindStringSubmatch(e.Name())
		if !e.IsDir() || m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		nums = append(nums, n)
	}
	sort.Ints(nums)
	var dirs []string
	for i, n := range nums {
		if n != i+1 {
			t.Fatalf("releases in %s are not numbered v1..vN without gaps: %v", historyDir, nums)
		}
		dirs = append(dirs, "v"+strconv.Itoa(n))
	}
	if len(dirs) == 0 {
		t.Fatalf("no releases in %s", historyDir)
	}
	return dirs
}

// loadRelease parses one released set. A schema added after that release
// is absent from it and from the result.
func loadRelease(dir string) (map[schemas.Name]avro.Schema, error) {
	var names []schemas.Name
	for _, n := range schemas.Files {
		if _, err := os.Stat(filepath.Join(historyDir, dir, string(n)+".avsc")); err == nil {
			names = append(names, n)
		}
	}
	return schemas.ParseSet(names, func(n schemas.Name) (string, error) {
		b, err := os.ReadFile(filepath.Join(historyDir, dir, string(n)+".avsc"))
		return string(b), err
	})
}

// compatProblems returns "<schema> backward" when cur cannot read data
// written with old, and "<schema> forward" when old cannot read data
// written with cur, with hamba's reason in details.
func compatProblems(cur, old map[schemas.Name]avro.Schema) (problems []string, details []string) {
	for _, n := range schemas.Files {
		if old[n] == nil {
			continue // added after that release: nothing old to read
		}
		for _, c := range []struct {
			direction      string
			reader, writer avro.Schema
		}{
			{"backward", cur[n], old[n]},
			{"forward", old[n], cur[n]},
		} {
			// A fresh checker each time: hamba caches verdicts by schema pair.
			if err := avro.NewSchemaCompatibility().Compatible(c.reader, c.writer); err != nil {
				problems = append(problems, string(n)+" "+c.direction)
				details = append(details, string(n)+" "+c.direction+": "+err.Error())
			}
		}
	}
	return problems, details
}

func currentSchemas(t *testing.T) map[schemas.Name]avro.Schema {
	t.Helper()
	cur, err := schemas.ParseAll(schemas.Source)
	if err != nil {
		t.Fatal(err)
	}
	return cur
}

func TestHistoryIsComplete(t *testing.T) {
	// A release holds whole files of the current set, never one that is
	// gone, and every file of the release before it: a schema once
	// released stays readable.
	var previous []string
	for _, dir := range releases(t) {
		t.Run(dir, func(t *testing.T) {
			entries, err := os.ReadDir(filepath.Join(historyDir, dir))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				if !slices.Contains(schemas.Files, schemas.Name(strings.TrimSuffix(e.Name(), ".avsc"))) {
					t.Errorf("%s holds %s, which is no schema of schemas.Files", dir, e.Name())
				}
				got = append(got, e.Name())
			}
			for _, f := range previous {
				if !slices.Contains(got, f) {
					t.Errorf("%s lacks %s, which the release before it holds", dir, f)
				}
			}
			previous = got
			if _, err := loadRelease(dir); err != nil {
				t.Fatalf("parsing %s: %v", dir, err)
			}
		})
	}
}

// TestCompatibleWithHistory checks that the current schemas and every
// released set read each other's data.
func TestCompatibleWithHistory(t *testing.T) {
	cur := currentSchemas(t)
	for _, dir := range releases(t) {
		t.Run(dir, func(t *testing.T) {
			old, err := loadRelease(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, details := compatProblems(cur, old); len(details) > 0 {
				t.Fatalf("current schemas are not compatible with %s:\n%s", dir, strings.Join(details, "\n"))
			}
		})
	}
}

// editTree changes the JSON of one schema file.
type editTree func(tree map[string]any)

func fields(tree map[string]any) []any { return tree["fields"].([]any) }

func addField(field string) editTree {
	return func(tree map[string]any) {
		var f map[string]any
		if err := json.Unmarshal([]byte(field), &f); err != nil {
			panic(err)
		}
		tree["fields"] = append(fields(tree), f)
	}
}

func removeField(name string) editTree {
	return func(tree map[string]any) {
		tree["fields"] = slices.DeleteFunc(fields(tree), func(f any) bool {
			return f.(map[string]any)["name"] == name
		})
	}
}

func setFieldType(name string, typ any) editTree {
	return func(tree map[string]any) {
		for _, f := range fields(tree) {
			if fm := f.(map[string]any); fm["name"] == name {
				fm["type"] = typ
				delete(fm, "default")
			}
		}
	}
}

// variant parses the current sources with edits applied to some of them.
func variant(t *testing.T, edits map[schemas.Name]editTree) map[schemas.Name]avro.Schema {
	t.Helper()
	set, err := schemas.ParseAll(func(n schemas.Name) (string, error) {
		text, err := schemas.Source(n)
		if err != nil || edits[n] == nil {
			return text, err
		}
		d := json.NewDecoder(strings.NewReader(text))
		d.UseNumber()
		var tree map[string]any
		if err := d.Decode(&tree); err != nil {
			return "", err
		}
		edits[n](tree)
		b, err := json.Marshal(tree)
		return string(b), err
	})
	if err != nil {
		t.Fatalf("parsing variant: %v", err)
	}
	return set
}

// TestCompatibilityCheckCatchesBreakage plays the current schemas as the
// released set and a changed copy as the new one, and checks that the check
// of TestCompatibleWithHistory flags exactly the breaking changes.
func TestCompatibilityCheckCatchesBreakage(t *testing.T) {
	released := currentSchemas(t)
	tests := []struct {
		name  string
		edits map[schemas.Name]editTree
		want  []string
	}{
		{
			name: "add a field with a default",
			edits: map[schemas.Name]editTree{
				schemas.EventSchema: addField(`{"name":"channel","type":"string","default":"web"}`),
			},
		},
		{
			name:  "add a field without a default",
			edits: map[schemas.Name]editTree{schemas.EventSchema: addField(`{"name":"channel","type":"string"}`)},
			// event_status, customer_state and assessment hold an Event, so they
			// break with it.
			want: []string{"event backward", "event_status backward", "customer_state backward",
				"assessment backward"},
		},
		{
			name:  "remove a field with a default",
			edits: map[schemas.Name]editTree{schemas.EventSchema: removeField("campaign")},
		},
		{
			name:  "remove a field without a default",
			edits: map[schemas.Name]editTree{schemas.EventSchema: removeField("nameSpace")},
			want:  []string{"event forward", "event_status forward", "customer_state forward", "assessment forward"},
		},
		{
			name:  "change a type",
			edits: map[schemas.Name]editTree{schemas.EventSchema: setFieldType("depth", "string")},
			want: []string{"event backward", "event forward", "event_status backward", "event_status forward",
				"customer_state backward", "customer_state forward", "assessment backward", "assessment forward"},
		},
		{
			name:  "widen int to long",
			edits: map[schemas.Name]editTree{schemas.EventSchema: setFieldType("depth", "long")},
			want:  []string{"event forward", "event_status forward", "customer_state forward", "assessment forward"},
		},
		{
			name: "rename a record",
			edits: map[schemas.Name]editTree{
				schemas.DeliverySchema: func(tree map[string]any) { tree["name"] = "Message" },
			},
			want: []string{"delivery_request backward", "delivery_request forward"},
		},
		{
			// customer_state holds LedgerEntry records, so it breaks too:
			// the reason the files are parsed as one set.
			name:  "make a nullable field required",
			edits: map[schemas.Name]editTree{schemas.LedgerEntrySchema: setFieldType("reason", "string")},
			want:  []string{"ledger_entry backward", "customer_state backward"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, details := compatProblems(variant(t, tt.edits), released)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("problems = %q, want %q\n%s", got, tt.want, strings.Join(details, "\n"))
			}
		})
	}
}
