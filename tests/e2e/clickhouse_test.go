package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/tallymarks/tallymarks/cmd/tallymarks/app"
	"github.com/tallymarks/tallymarks/tests/testenv"
)

// TestPipelineToClickHouse runs the whole path, API → events → processor →
// ledger → sink → ClickHouse, and checks the rows an analyst would query,
// including after a duplicate submission.
func TestPipelineToClickHouse(t *testing.T) {
	chAddr := testenv.ClickHouse(t)
	s := startStack(t, stackOptions{
		roles:      []string{app.RoleAPI, app.RoleProcessor, app.RoleSink},
		clickhouse: chAddr,
	})
	db := s.cfg.ClickHouseDatabase
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{chAddr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		_ = conn.Close()
	})

	cust := uuid.NewString()
	regID, orderID := uuid.NewString(), uuid.NewString()
	if r := s.do("POST", "/events/actions", map[string]any{
		"eventId": regID, "customerId": cust, "nameSpace": "Customer.Registration", "action": map[string]any{},
	}, nil); r.status != http.StatusOK {
		t.Fatalf("registration: %d %s", r.status, r.raw)
	}
	order := map[string]any{
		"eventId": orderID, "customerId": cust, "nameSpace": "Order.Web", "reference": "ORD-7",
		"order": map[string]any{"total": 120.50, "taxTotal": 20.08},
	}
	for i, want := range []int{http.StatusOK, http.StatusAlreadyReported} {
		if r := s.do("POST", "/events/orders", order, nil); r.status != want {
			t.Fatalf("order submission %d: %d %s", i+1, r.status, r.raw)
		}
	}
	s.waitBalance(cust, 120)

	ctx := context.Background()
	count := func(query string, args ...any) uint64 {
		var n uint64
		if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
			return 0 // the table may not exist until the sink's migrations ran
		}
		return n
	}
	eventually(t, 60*time.Second, "rows in ClickHouse", func() (bool, string) {
		// Client events only: the system Points.Earn event the order's
		// entry made is recorded too.
		ev := count("SELECT count() FROM "+db+".events FINAL WHERE customer_id = ? AND origin = 'client'", cust)
		led := count("SELECT count() FROM "+db+".ledger FINAL WHERE customer_id = ?", cust)
		return ev == 2 && led == 1, "events " + itoa(int64(ev)) + ", ledger " + itoa(int64(led))
	})

	var (
		entryType, source, eventID string
		points, balanceAfter       int64
	)
	if err := conn.QueryRow(ctx, "SELECT type, source, event_id, points, balance_after FROM "+db+
		".ledger FINAL WHERE customer_id = ?", cust).Scan(&entryType, &source, &eventID, &points, &balanceAfter); err != nil {
		t.Fatal(err)
	}
	if entryType != "earn" || source != "base" || eventID != orderID || points != 120 || balanceAfter != 120 {
		t.Fatalf("ledger row: %s %s %s %d %d", entryType, source, eventID, points, balanceAfter)
	}

	var total *decimal.Decimal
	var eventType, ns string
	if err := conn.QueryRow(ctx, "SELECT event_type, name_space, total FROM "+db+
		".events FINAL WHERE event_id = ?", orderID).Scan(&eventType, &ns, &total); err != nil {
		t.Fatal(err)
	}
	if eventType != "order" || ns != "Order.Web" || total == nil || total.String() != "120.5" {
		t.Fatalf("event row: %s %s %v", eventType, ns, total)
	}

	var balance int64
	if err := conn.QueryRow(ctx, "SELECT balance FROM "+db+".points_balance WHERE customer_id = ?",
		cust).Scan(&balance); err != nil {
		t.Fatal(err)
	}
	if balance != 120 {
		t.Fatalf("points_balance view = %d, want 120", balance)
	}
}
