package sink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/schemas"
)

// AssessmentReader reads the assessments table back for backtests. It is
// safe for concurrent use.
type AssessmentReader struct {
	conn     driver.Conn
	database string
}

// OpenAssessmentReader connects to the ClickHouse server at addr (native
// protocol) and reads the database of WithDatabase, default "tallymarks";
// WithClickHouseAuth applies, the other options are ignored. It fails when
// the server cannot be reached. Close releases the connection.
func OpenAssessmentReader(ctx context.Context, addr string, opts ...Option) (*AssessmentReader, error) {
	cfg := defaultConfig()
	cfg.addr = addr
	for _, o := range opts {
		o(&cfg)
	}
	if !identifier.MatchString(cfg.database) {
		return nil, fmt.Errorf("%w: database %q is not a plain identifier", ErrConfig, cfg.database)
	}
	conn, err := openConn(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	return &AssessmentReader{conn: conn, database: cfg.database}, nil
}

// Close closes the connection.
func (r *AssessmentReader) Close() error { return r.conn.Close() }

// Count returns about how many records of tenantID have a createdAt in
// [from, to): copies not yet merged away are counted too. It is meant for
// progress reports.
func (r *AssessmentReader) Count(ctx context.Context, tenantID string, from, to time.Time) (int64, error) {
	where, err := assessmentsWhere(tenantID, from, to)
	if err != nil {
		return 0, err
	}
	var n uint64
	q := "SELECT count() FROM " + r.database + ".assessments WHERE " + where
	if err := r.conn.QueryRow(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting assessments: %w", err)
	}
	return int64(n), nil
}

// Read calls fn with every record of tenantID whose createdAt lies in the
// seconds [from, to) touches, once each (FINAL removes copies), in
// createdAt order; the caller drops what lies outside [from, to) by the
// millisecond. It stops at fn's first error and returns it. Rows stream
// from the server: memory does not grow with the window.
func (r *AssessmentReader) Read(ctx context.Context, tenantID string, from, to time.Time,
	fn func(*schemas.Assessment) error) error {
	q, err := assessmentsSQL(r.database, tenantID, from, to)
	if err != nil {
		return err
	}
	rows, err := r.conn.Query(ctx, q)
	if err != nil {
		return fmt.Errorf("querying assessments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cust, id, ev, snap string
		if err := rows.Scan(&cust, &id, &ev, &snap); err != nil {
			return fmt.Errorf("reading assessments: %w", err)
		}
		a := &schemas.Assessment{TenantID: tenantID, CustomerID: cust, EventID: id}
		if err := errors.Join(readJSON([]byte(ev), &a.Event), readJSON([]byte(snap), &a.Snapshot)); err != nil {
			return fmt.Errorf("reading assessment of event %s: %w", id, err)
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading assessments: %w", err)
	}
	return nil
}

// assessmentsSQL returns the query of Read. Its values are written into
// the text, which ClickHouse 18.16 and current releases read alike:
// tenantID is checked to be a UUID and the times are formatted here.
func assessmentsSQL(database, tenantID string, from, to time.Time) (string, error) {
	where, err := assessmentsWhere(tenantID, from, to)
	if err != nil {
		return "", err
	}
	return "SELECT customer_id, event_id, event, snapshot FROM " + database + ".assessments FINAL" +
		" WHERE " + where + " ORDER BY created_at, created_at_ms, event_id", nil
}

// assessmentsWhere selects a tenant's rows in the whole seconds that
// [from, to) touches.
func assessmentsWhere(tenantID string, from, to time.Time) (string, error) {
	if _, err := uuid.Parse(tenantID); err != nil || len(tenantID) != 36 {
		return "", fmt.Errorf("%w: tenant id %q is not a UUID", ErrConfig, tenantID)
	}
	const layout = "2006-01-02 15:04:05"
	return "tenant_id = '" + tenantID + "'" +
		" AND created_at >= toDateTime('" + seconds(from).Format(layout) + "', 'UTC')" +
		" AND created_at <= toDateTime('" + seconds(to).Format(layout) + "', 'UTC')", nil
}
