package sink

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"one", "CREATE TABLE a (x UInt8);\n", []string{"CREATE TABLE a (x UInt8)"}},
		{
			"comments and two statements",
			"-- heading\nCREATE VIEW v AS\nSELECT 1;\n\n  -- between\nCREATE VIEW w AS SELECT 2;\n",
			[]string{"CREATE VIEW v AS\nSELECT 1", "CREATE VIEW w AS SELECT 2"},
		},
		{"no final semicolon", "SELECT 1", []string{"SELECT 1"}},
		{"semicolon inside a line", "SELECT ';' AS x;\n", []string{"SELECT ';' AS x"}},
		{"only comments", "-- nothing\n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitStatements(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("splitStatements() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []string
		wantErr bool
	}{
		{
			name: "sorted by number",
			files: fstest.MapFS{
				"m/0002_b.sql": file("SELECT 2;"),
				"m/0001_a.sql": file("SELECT 1;"),
				"m/0010_c.sql": file("SELECT 10;"),
			},
			want: []string{"0001_a.sql", "0002_b.sql", "0010_c.sql"},
		},
		{name: "bad name", files: fstest.MapFS{"m/1_a.sql": file("SELECT 1;")}, wantErr: true},
		{name: "not sql", files: fstest.MapFS{"m/0001_a.txt": file("SELECT 1;")}, wantErr: true},
		{name: "zero", files: fstest.MapFS{"m/0000_a.sql": file("SELECT 1;")}, wantErr: true},
		{name: "empty", files: fstest.MapFS{"m/0001_a.sql": file("-- nothing\n")}, wantErr: true},
		{
			name: "duplicate number",
			files: fstest.MapFS{
				"m/0001_a.sql": file("SELECT 1;"),
				"m/0001_b.sql": file("SELECT 2;"),
			},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := parseMigrations(tt.files, "m")
			if tt.wantErr {
				if !errors.Is(err, ErrMigration) {
					t.Fatalf("parseMigrations() error = %v, want ErrMigration", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseMigrations() error = %v", err)
			}
			var names []string
			for _, m := range ms {
				names = append(names, m.name)
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("parseMigrations() = %q, want %q", names, tt.want)
			}
		})
	}
}

func TestEmbeddedMigrationsParse(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatalf("loadMigrations() error = %v", err)
	}
	for i, m := range ms {
		if m.version != i+1 {
			t.Errorf("migration %s has number %d, want %d: numbers must have no gaps",
				m.name, m.version, i+1)
		}
	}
}

func TestMigrate(t *testing.T) {
	conn, _, db := testClickHouse(t)
	ctx := testContext(t, 2*time.Minute)
	all, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var allNames []string
	for _, m := range all {
		allNames = append(allNames, m.name)
	}

	// Steps run in order on one database.
	steps := []struct {
		name        string
		concurrency int
		wantApplied []string // over all concurrent runs, deduplicated
	}{
		{"fresh database", 1, allNames},
		{"again", 1, nil},
		{"again, three at once", 3, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			applied, err := migrateConcurrently(ctx, conn, db, st.concurrency)
			if err != nil {
				t.Fatalf("Migrate() error = %v", err)
			}
			if !slices.Equal(applied, st.wantApplied) {
				t.Errorf("Migrate() applied %q, want %q", applied, st.wantApplied)
			}
			checkSchema(ctx, t, conn, db, all)
		})
	}
}

// TestMigrateConcurrentFresh runs two migrations at once on a database that
// does not exist, as two sinks starting together do.
func TestMigrateConcurrentFresh(t *testing.T) {
	conn, _, db := testClickHouse(t)
	ctx := testContext(t, 2*time.Minute)
	all, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrateConcurrently(ctx, conn, db, 2); err != nil {
		t.Fatalf("Migrate() error = %v", err)
	}
	checkSchema(ctx, t, conn, db, all)
}

// migrateConcurrently runs Migrate n times at once and returns the sorted
// union of what they applied.
func migrateConcurrently(ctx context.Context, conn driver.Conn, db string, n int) ([]string, error) {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied []string
		errs    []error
	)
	for range n {
		wg.Go(func() {
			a, err := Migrate(ctx, conn, db)
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
			for _, name := range a {
				if !slices.Contains(applied, name) {
					applied = append(applied, name)
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(applied)
	return applied, errors.Join(errs...)
}

// checkSchema checks that every migration is recorded and that every column
// the sink inserts exists with the type the Go code expects.
func checkSchema(ctx context.Context, t *testing.T, conn driver.Conn, db string, all []migration) {
	t.Helper()
	done, err := appliedVersions(ctx, conn, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if !done[m.version] {
			t.Errorf("migration %s not recorded", m.name)
		}
	}
	checkColumns(ctx, t, conn, db, eventsTable.name, columnTypes(eventsTable))
	checkColumns(ctx, t, conn, db, ledgerTable.name, columnTypes(ledgerTable))
	checkColumns(ctx, t, conn, db, errorsTable.name, columnTypes(errorsTable))
	checkColumns(ctx, t, conn, db, assessmentsTable.name, columnTypes(assessmentsTable))
	for _, view := range []string{"ledger_daily", "points_balance", "lot_balance"} {
		if err := conn.Exec(ctx, fmt.Sprintf("SELECT * FROM %s.%s LIMIT 1", db, view)); err != nil {
			t.Errorf("querying view %s: %v", view, err)
		}
	}
}

func columnTypes[T any](tb *table[T]) map[string]string {
	m := map[string]string{}
	for _, c := range tb.columns {
		m[c.name] = c.typ
	}
	return m
}

// checkColumns compares the server's columns of table with want, by name
// and type, in both directions.
func checkColumns(ctx context.Context, t *testing.T, conn driver.Conn, db, table string,
	want map[string]string,
) {
	t.Helper()
	rows, err := conn.Query(ctx,
		"SELECT name, type FROM system.columns WHERE database = ? AND table = ?", db, table)
	if err != nil {
		t.Fatalf("reading columns of %s: %v", table, err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		got[name] = typ
	}
	for name, typ := range want {
		if got[name] != typ {
			t.Errorf("%s.%s has type %q on the server, the sink writes %q", table, name, got[name], typ)
		}
	}
	for name, typ := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s.%s (%s) exists on the server but the sink never writes it", table, name, typ)
		}
	}
}
