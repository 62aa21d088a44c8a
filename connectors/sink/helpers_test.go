package sink

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/tallymarks/tallymarks/tests/testenv"
)

// testClickHouse connects to the test server and returns the connection,
// the server's address and a database name unique to t, dropped when t
// ends unless t failed (so that its rows can be looked at).
func testClickHouse(t *testing.T) (driver.Conn, string, string) {
	t.Helper()
	addr := testenv.ClickHouse(t)
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{addr},
		DialTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("opening clickhouse: %v", err)
	}
	db := strings.TrimSuffix(testenv.Prefix(t), "_")
	t.Cleanup(func() {
		if !t.Failed() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
				t.Logf("dropping database %s: %v", db, err)
			}
		}
		_ = conn.Close()
	})
	return conn, addr, db
}

// testContext returns a context that ends when t ends or after d.
func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// eventually runs check until it returns nil or the deadline passes, and
// then fails t with check's last error.
func eventually(t *testing.T, d time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s: %v", what, d, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: test ended: %v", what, err)
		case <-tick.C:
		}
	}
}
