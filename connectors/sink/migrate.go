package sink

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The migrations, applied in the order of their numbers. A file is named
// NNNN_what.sql. Every statement ends with a semicolon at the end of a line,
// refers to the database as {db}, and is written with IF NOT EXISTS, so
// that running it twice, or from two sinks at once, is harmless. A released
// file is never edited; a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one parsed migration file.
type migration struct {
	version    int
	name       string // the file name
	statements []string
}

// loadMigrations parses the embedded files, sorted by version.
func loadMigrations() ([]migration, error) {
	return parseMigrations(migrationFiles, "migrations")
}

func parseMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("%w: reading migrations: %w", ErrMigration, err)
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 || v < 1 || path.Ext(name) != ".sql" {
			return nil, fmt.Errorf("%w: migration file %q is not NNNN_name.sql", ErrMigration, name)
		}
		text, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("%w: reading %s: %w", ErrMigration, name, err)
		}
		stmts := splitStatements(string(text))
		if len(stmts) == 0 {
			return nil, fmt.Errorf("%w: migration %s has no statement", ErrMigration, name)
		}
		ms = append(ms, migration{version: v, name: name, statements: stmts})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("%w: migrations %s and %s share a number",
				ErrMigration, ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// splitStatements splits SQL text into statements at semicolons that end a
// line, dropping whole-line "--" comments and blank lines.
func splitStatements(text string) []string {
	var stmts []string
	var cur strings.Builder
	for line := range strings.Lines(text) {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(trimmed, ";") {
			stmt := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")
			stmts = append(stmts, stmt)
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		stmts = append(stmts, rest)
	}
	return stmts
}

// Migrate creates database if absent and applies, in order, every embedded
// migration not yet recorded in its schema_migrations table, recording each
// after its last statement succeeded. It returns the file names it applied.
//
// It is safe to run again and from several processes at once: every
// statement is CREATE … IF NOT EXISTS, so a migration that two runs apply
// together, or that a crash left half applied, is applied again harmlessly,
// and schema_migrations may then hold the version twice, which readers
// ignore. database must be a plain identifier. Errors wrap ErrMigration and
// the driver's error.
func Migrate(ctx context.Context, conn driver.Conn, database string) ([]string, error) {
	if !identifier.MatchString(database) {
		return nil, fmt.Errorf("%w: database %q is not a plain identifier", ErrMigration, database)
	}
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}

	// The database and the bookkeeping table come before any migration.
	boot := []string{
		"CREATE DATABASE IF NOT EXISTS " + database,
		"CREATE TABLE IF NOT EXISTS " + database + ".schema_migrations (" +
			"version UInt32, name String, applied_at DateTime('UTC')" +
			") ENGINE = ReplacingMergeTree ORDER BY version",
	}
	for _, stmt := range boot {
		if err := exec(ctx, conn, stmt); err != nil {
			return nil, fmt.Errorf("%w: preparing database %s: %w", ErrMigration, database, err)
		}
	}
	done, err := appliedVersions(ctx, conn, database)
	if err != nil {
		return nil, err
	}

	var applied []string
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		if err := apply(ctx, conn, database, m); err != nil {
			return applied, err
		}
		applied = append(applied, m.name)
	}
	return applied, nil
}

// appliedVersions reads the versions recorded in schema_migrations.
func appliedVersions(ctx context.Context, conn driver.Conn, database string) (map[int]bool, error) {
	rows, err := conn.Query(ctx, "SELECT DISTINCT version FROM "+database+".schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("%w: reading applied migrations: %w", ErrMigration, err)
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("%w: reading applied migrations: %w", ErrMigration, err)
		}
		done[int(v)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%w: reading applied migrations: %w", ErrMigration, err)
	}
	return done, nil
}

// apply runs the statements of m and records it.
func apply(ctx context.Context, conn driver.Conn, database string, m migration) error {
	for i, stmt := range m.statements {
		stmt = strings.ReplaceAll(stmt, "{db}", database)
		if err := exec(ctx, conn, stmt); err != nil {
			return fmt.Errorf("%w: applying %s, statement %d: %w", ErrMigration, m.name, i+1, err)
		}
	}
	batch, err := conn.PrepareBatch(ctx,
		"INSERT INTO "+database+".schema_migrations (version, name, applied_at)")
	if err != nil {
		return fmt.Errorf("%w: recording %s: %w", ErrMigration, m.name, err)
	}
	defer batch.Close()
	if err := batch.Append(uint32(m.version), m.name, time.Now().UTC()); err != nil {
		return fmt.Errorf("%w: recording %s: %w", ErrMigration, m.name, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("%w: recording %s: %w", ErrMigration, m.name, err)
	}
	return nil
}

// exec runs one DDL statement. "Already exists" counts as success: two
// creations racing on the server can report it despite IF NOT EXISTS.
func exec(ctx context.Context, conn driver.Conn, stmt string) error {
	if err := conn.Exec(ctx, stmt); err != nil && !alreadyExists(err) {
		return err
	}
	return nil
}
