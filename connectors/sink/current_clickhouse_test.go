package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"
	"github.com/tallymarks/tallymarks/tests/testenv"
)

// chdbVersion is the chDB release the tests and .ci/run install.
const chdbVersion = "4.4.0"

// TestSQLOnCurrentClickHouse runs the migrations, exactly as Migrate renders
// them, then the fixture rows and every SQL case on a current ClickHouse
// engine, in process through chDB (testdata/current_clickhouse.py), and
// expects the results ClickHouse 18.16 gives. chDB covers the SQL only:
// the native protocol and clickhouse-go's batch inserts on current releases
// are tested where Docker runs a current server (testenv).
func TestSQLOnCurrentClickHouse(t *testing.T) {
	python := chdbPython(t)
	const db = "tallymarks"
	stmts := migrateStatements(t, db)
	for _, st := range fixture(t, db) {
		stmts = append(stmts, st.sql)
	}
	cases := sqlCases(t, db)

	start := time.Now()
	out := runChDB(t, python, stmts, cases)
	t.Logf("chDB %s, ClickHouse %s: %d statements and %d queries in %s",
		out.ChDB, out.Version, len(stmts), len(cases), time.Since(start).Round(time.Millisecond))

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, ok := out.Results[c.name]
			if !ok {
				t.Fatalf("no result for query:\n%s", c.sql)
			}
			got, err := res.strings()
			if err != nil {
				t.Fatalf("reading the result of query:\n%s\n%v", c.sql, err)
			}
			c.check(t, got)
		})
	}
}

// TestSQLOnServer runs the same fixture rows and SQL cases on the server
// testenv finds (ClickHouse 18.16 from deploy/services.sh in CI), through
// Migrate and clickhouse-go, so that both engines are held to one table of
// expected results.
func TestSQLOnServer(t *testing.T) {
	conn, _, db := testClickHouse(t)
	ctx := testContext(t, 2*time.Minute)
	_, err := Migrate(ctx, conn, db)
	if err != nil {
		t.Fatalf("Migrate() error = %v", err)
	}
	for _, st := range fixture(t, db) {
		if st.send == nil {
			err = conn.Exec(ctx, st.sql)
		} else {
			err = st.send(ctx, conn)
		}
		if err != nil {
			t.Fatalf("statement failed: %v\n%s", err, st.sql)
		}
	}
	for _, c := range sqlCases(t, db) {
		t.Run(c.name, func(t *testing.T) {
			c.check(t, queryStrings(ctx, t, conn, c.sql))
		})
	}
}

// sqlCase is a query and the rows it must return, spelled as show spells
// values; a wanted row names only the columns it checks.
type sqlCase struct {
	name string
	sql  string
	want []map[string]string
}

func (c sqlCase) check(t *testing.T, got []map[string]string) {
	t.Helper()
	compareRows(t, c.name, got, c.want)
	if t.Failed() {
		t.Logf("query:\n%s\ngot: %v", c.sql, got)
	}
}

// sqlCases returns the queries run on both engines, over the rows of
// fixture: the tables, the views, and the examples of docs/clickhouse.md.
// The expected values are those of TestSinkEndToEnd, which writes the same
// records through Kafka.
func sqlCases(t *testing.T, db string) []sqlCase {
	t.Helper()
	return slices.Concat(tableCases(t, db), viewCases(db), docsCases(db))
}

// tableCases reads the tables: the schema, the duplicates as stored, and
// every row through FINAL.
func tableCases(t *testing.T, db string) []sqlCase {
	t.Helper()
	return []sqlCase{
		{
			name: "schema_migrations",
			sql:  "SELECT DISTINCT version FROM " + db + ".schema_migrations ORDER BY version",
			want: migrationVersions(t),
		},
		{
			name: "column types are those rows.go writes",
			sql: "SELECT table, name, type FROM system.columns WHERE database = '" + db +
				"' AND table IN ('events', 'ledger', 'errors', 'assessments') ORDER BY table, name",
			want: declaredColumns(),
		},
		{
			// Proves that the fixture holds the duplicate the cases below
			// must not count: merges are stopped before the inserts.
			name: "the duplicate entry is stored",
			sql:  "SELECT count() AS n, uniqExact(entry_id) AS ids FROM " + db + ".ledger",
			want: []map[string]string{{"n": "3", "ids": "2"}},
		},
		{
			name: "events FINAL",
			sql:  "SELECT * FROM " + db + ".events FINAL ORDER BY event_id",
			want: wantEvents(),
		},
		{
			name: "ledger FINAL",
			sql:  "SELECT * FROM " + db + ".ledger FINAL ORDER BY entry_id",
			want: wantLedger(),
		},
		backtestCase(t, db),
		{
			name: "errors FINAL",
			sql:  "SELECT * FROM " + db + ".errors FINAL",
			want: wantErrors(),
		},
		{
			name: "events counted once",
			sql:  "SELECT count() AS n, uniqExact(event_id) AS ids FROM " + db + ".events FINAL",
			want: []map[string]string{{"n": "2", "ids": "2"}},
		},
		{
			name: "ledger counted once",
			sql:  "SELECT count() AS n, uniqExact(entry_id) AS ids FROM " + db + ".ledger FINAL",
			want: []map[string]string{{"n": "2", "ids": "2"}},
		},
	}
}

// viewCases reads the views, which must count the duplicate entry once.
func viewCases(db string) []sqlCase {
	return []sqlCase{
		{
			name: "ledger_daily",
			sql:  "SELECT * FROM " + db + ".ledger_daily ORDER BY day",
			want: []map[string]string{
				{
					"tenant_id": tenantID, "day": "2024-03-01T00:00:00Z", "type": "earn",
					"points": "120", "entries": "1",
				},
				{
					"tenant_id": tenantID, "day": "2024-03-02T00:00:00Z", "type": "spend",
					"points": "-20", "entries": "1",
				},
			},
		},
		{
			name: "points_balance",
			sql:  "SELECT * FROM " + db + ".points_balance",
			want: []map[string]string{{
				"tenant_id": tenantID, "customer_id": customerID, "balance": "100",
				"lifetime_earned": "120", "lifetime_spent": "20", "lifetime_expired": "0",
				"entries": "2", "last_entry_at": "2024-03-03T00:00:00Z",
			}},
		},
		{
			name: "lot_balance",
			sql:  "SELECT * FROM " + db + ".lot_balance",
			want: []map[string]string{{
				"tenant_id": tenantID, "customer_id": customerID,
				"lot_id": earnID, "remaining_points": "100",
				"opened_at": "2024-03-01T10:20:30Z", "last_change_at": "2024-03-02T23:59:59Z",
			}},
		},
	}
}

// docsCases runs the example queries of docs/clickhouse.md as printed
// there but for the database, the tenant, a fixed time for now() (so that
// the lot's age is known) and an ORDER BY where the example leaves the
// order open.
func docsCases(db string) []sqlCase {
	in := func(sql string) string {
		sql = strings.ReplaceAll(sql, "tallymarks.", db+".")
		return strings.ReplaceAll(sql, "'…'", "'"+tenantID+"'")
	}
	return []sqlCase{
		{
			name: "docs: argMax per entry, then aggregate",
			sql: in(`SELECT type, sum(entry_points) AS points
FROM
(
    SELECT tenant_id, entry_id,
           argMax(type, version)   AS entry_type,
           argMax(points, version) AS entry_points
    FROM tallymarks.ledger
    WHERE tenant_id = '…'
    GROUP BY tenant_id, entry_id
)
GROUP BY entry_type AS type
ORDER BY type`),
			want: []map[string]string{
				{"type": "earn", "points": "120"},
				{"type": "spend", "points": "-20"},
			},
		},
		{
			name: "docs: daily earn, spend and expiry of one tenant in March",
			sql: in(`SELECT day, type, points FROM tallymarks.ledger_daily
WHERE tenant_id = '…' AND day BETWEEN '2024-03-01' AND '2024-03-31'
ORDER BY day, type`),
			want: []map[string]string{
				{"day": "2024-03-01T00:00:00Z", "type": "earn", "points": "120"},
				{"day": "2024-03-02T00:00:00Z", "type": "spend", "points": "-20"},
			},
		},
		{
			name: "docs: open points per lot age in months",
			sql: in(`SELECT dateDiff('month', opened_at, toDateTime('2024-06-15 00:00:00', 'UTC'))
           AS age_months,
       sum(remaining_points) AS points
FROM tallymarks.lot_balance
WHERE tenant_id = '…' AND remaining_points != 0
GROUP BY age_months ORDER BY age_months`),
			want: []map[string]string{{"age_months": "3", "points": "100"}},
		},
		{
			name: "docs: order revenue per day, each order once",
			sql: in(`SELECT toDate(created_at) AS day, sum(total) AS revenue, count() AS orders
FROM tallymarks.events FINAL
WHERE tenant_id = '…' AND event_type = 'order' AND NOT startsWith(name_space, 'Refund.')
GROUP BY day ORDER BY day`),
			want: []map[string]string{
				{"day": "2024-03-01T00:00:00Z", "revenue": "120.5", "orders": "1"},
			},
		},
		{
			name: "docs: sales per SKU",
			sql: in(`SELECT sku, sum(qty) AS quantity, sum(line_total) AS revenue
FROM tallymarks.events FINAL
ARRAY JOIN item_skus AS sku, item_quantities AS qty, item_totals AS line_total
WHERE tenant_id = '…' AND event_type = 'order'
GROUP BY sku ORDER BY revenue DESC`),
			want: []map[string]string{
				{"sku": "A-1", "quantity": "2", "revenue": "100.5"},
				{"sku": "B-2", "quantity": "1.5", "revenue": "20"},
			},
		},
	}
}

func wantEvents() []map[string]string {
	return []map[string]string{
		{
			"tenant_id": tenantID, "event_id": orderID, "customer_id": customerID,
			"created_at": "2024-03-01T10:20:30Z", "created_at_ms": "456",
			"received_at": "2024-03-01T10:20:31Z", "received_at_ms": "7",
			"name_space": "Order.Web", "reference": "ORD-1", "description": "NULL",
			"origin": "client", "depth": "0", "caused_by": "NULL", "event_type": "order",
			"attribute_keys": "[channel store]", "attribute_values": "[web 42]",
			"total": "120.5", "tax_total": "20.0833", "shipping_total": "NULL",
			"quantity": "NULL", "currency": "EUR", "payment_scheme": "visa",
			"payment_bin": "NULL", "action_amount": "NULL", "points_quantity": "NULL",
			"item_skus": "[A-1 B-2]", "item_categories": "[shoes ]",
			"item_quantities": "[2 1.5]", "item_unit_prices": "[50.25 13.3333]",
			"item_totals": "[100.5 20]", "tags": "[first promo]",
			"body":    string(eventJSON(orderEvent())),
			"version": "1709288431007",
		},
		{
			"event_id": actionID, "event_type": "action",
			"created_at": "2024-03-02T23:59:59Z", "created_at_ms": "999",
			"tax_total": "NULL", "action_amount": "3.75", "action_count": "2",
			"total": "NULL", "attribute_keys": "[]", "item_skus": "[]", "tags": "[]",
		},
	}
}

func wantLedger() []map[string]string {
	return []map[string]string{
		{
			"tenant_id": tenantID, "customer_id": customerID, "entry_id": earnID,
			"type": "earn", "points": "120", "balance_after": "120", "event_id": orderID,
			"source": "base", "economy_id": "economy-1", "rule_id": "NULL",
			"rule_version": "NULL", "action_index": "NULL",
			"lot_ids": "[" + earnID + "]", "lot_points": "[120]",
			"reverses_entry_id": "NULL",
			"occurred_at":       "2024-03-01T10:20:30Z", "occurred_at_ms": "456",
			"recorded_at": "2024-03-01T10:20:31Z", "recorded_at_ms": "100",
			"reason": "NULL", "shortfall": "0", "actor": "NULL",
			"version": "1709288431100",
		},
		{
			"entry_id": spendID, "type": "spend", "points": "-20", "balance_after": "100",
			"source": "rule", "rule_id": "rule-7", "rule_version": "3", "action_index": "0",
			"lot_ids": "[" + earnID + "]", "lot_points": "[-20]", "reason": "reward",
			"occurred_at": "2024-03-02T23:59:59Z", "occurred_at_ms": "999",
			"recorded_at": "2024-03-03T00:00:00Z", "recorded_at_ms": "1",
		},
	}
}

func wantErrors() []map[string]string {
	return []map[string]string{{
		"tenant_id": tenantID, "error_id": errorID, "customer_id": customerID,
		"name_space": "Error.Assessment", "source": "assessment", "code": "negative_total",
		"message": "transaction total is negative", "description": "NULL",
		"caused_by": failedID, "failed_event_id": failedID,
		"failed_event_type": "transaction", "failed_name_space": "Order.Web",
		"failed_event": string(eventJSON(errorEvent().ErrorAction.Event)),
		"failed_raw":   "",
	}}
}

// backtestCase runs the query backtests read the assessments table with:
// the stored copy is read once, with the columns ReadAssessments scans.
func backtestCase(t *testing.T, db string) sqlCase {
	t.Helper()
	a := assessmentRecord()
	at := a.Event.CreatedAt
	q, err := assessmentsSQL(db, a.TenantID, at.Add(-time.Hour), at.Add(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	row := newAssessmentRow(origin{}, a)
	return sqlCase{name: "backtest read", sql: q, want: []map[string]string{{
		"customer_id": a.CustomerID, "event_id": a.EventID, "event": row.event, "snapshot": row.snapshot,
	}}}
}

// migrationVersions returns one row per embedded migration, by version.
func migrationVersions(t *testing.T) []map[string]string {
	t.Helper()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, m := range ms {
		rows = append(rows, map[string]string{"version": strconv.Itoa(m.version)})
	}
	return rows
}

// declaredColumns returns the columns of rows.go as system.columns lists
// them, sorted by table and name.
func declaredColumns() []map[string]string {
	var rows []map[string]string
	add := func(table string, types map[string]string) {
		for name, typ := range types {
			rows = append(rows, map[string]string{"table": table, "name": name, "type": typ})
		}
	}
	add(eventsTable.name, columnTypes(eventsTable))
	add(ledgerTable.name, columnTypes(ledgerTable))
	add(errorsTable.name, columnTypes(errorsTable))
	add(assessmentsTable.name, columnTypes(assessmentsTable))
	slices.SortFunc(rows, func(a, b map[string]string) int {
		return strings.Compare(a["table"]+"."+a["name"], b["table"]+"."+b["name"])
	})
	return rows
}

// fixtureStep is one statement of the fixture. An INSERT is written out
// for chDB and sent as a clickhouse-go batch to a server, as the sink sends
// it: clickhouse-go's Exec of an INSERT … VALUES hangs on 18.16.
type fixtureStep struct {
	sql  string
	send func(context.Context, driver.Conn) error // nil: run sql
}

// fixture returns the records TestSinkEndToEnd writes through Kafka, one
// INSERT per row so that each row is a part of its own, with the order,
// the earn entry and the error stored twice, as a redelivery stores them.
// Merges are stopped first so that the duplicates stay until the queries
// run and must be removed by them.
func fixture(t *testing.T, db string) []fixtureStep {
	t.Helper()
	var steps []fixtureStep
	for _, name := range []string{eventsTable.name, ledgerTable.name, errorsTable.name, assessmentsTable.name} {
		steps = append(steps, fixtureStep{sql: "SYSTEM STOP MERGES " + db + "." + name})
	}

	order, err := newEventRow(origin{}, orderEvent())
	if err != nil {
		t.Fatal(err)
	}
	action, err := newEventRow(origin{}, actionEvent())
	if err != nil {
		t.Fatal(err)
	}
	failure, err := newErrorRow(origin{}, errorEvent())
	if err != nil {
		t.Fatal(err)
	}
	earn := newLedgerRow(origin{}, earnEntry())
	spend := newLedgerRow(origin{}, spendEntry())

	for _, r := range []*eventRow{&order, &action, &order} {
		steps = append(steps, insertStep(t, eventsTable, db, r))
	}
	for _, r := range []*ledgerRow{&earn, &spend, &earn} {
		steps = append(steps, insertStep(t, ledgerTable, db, r))
	}
	for range 2 {
		steps = append(steps, insertStep(t, errorsTable, db, &failure))
	}
	assessment := newAssessmentRow(origin{}, assessmentRecord())
	for range 2 {
		steps = append(steps, insertStep(t, assessmentsTable, db, &assessment))
	}
	return steps
}

// insertStep returns the INSERT of r into tb, with the column list and the
// values of the sink's own declarations.
func insertStep[T any](t *testing.T, tb *table[T], db string, r *T) fixtureStep {
	t.Helper()
	tuple, err := literal(tb.values(r, nil))
	if err != nil {
		t.Fatalf("writing a row of %s: %v", tb.name, err)
	}
	send := func(ctx context.Context, conn driver.Conn) error {
		batch, err := conn.PrepareBatch(ctx, tb.insertSQL(db))
		if err != nil {
			return err
		}
		defer batch.Close()
		if err := batch.Append(tb.values(r, nil)...); err != nil {
			return err
		}
		return batch.Send()
	}
	return fixtureStep{sql: tb.insertSQL(db) + " VALUES " + asTuple(tuple), send: send}
}

// asTuple turns an array literal into a tuple of VALUES.
func asTuple(array string) string {
	return "(" + strings.TrimSuffix(strings.TrimPrefix(array, "["), "]") + ")"
}

// literal writes v as a ClickHouse literal that 18.16 and current releases
// both parse in VALUES: times as UTC strings for DateTime('UTC') columns,
// decimals exactly, slices as arrays.
func literal(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "NULL", nil
	case string:
		return quote(v), nil
	case time.Time:
		return quote(v.UTC().Format(time.DateTime)), nil
	case decimal.Decimal:
		return v.String(), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return "NULL", nil
		}
		return literal(rv.Elem().Interface())
	case reflect.Slice:
		parts := make([]string, rv.Len())
		for i := range parts {
			p, err := literal(rv.Index(i).Interface())
			if err != nil {
				return "", err
			}
			parts[i] = p
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), nil
	}
	return "", fmt.Errorf("no literal for %T", v)
}

// quote writes s as a ClickHouse string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// migrateStatements returns every statement Migrate runs on a fresh
// database, in order and rendered by Migrate itself: it runs Migrate on a
// connection that records instead of executing, and writes the
// schema_migrations batch as an INSERT.
func migrateStatements(t *testing.T, db string) []string {
	t.Helper()
	rec := &recordingConn{}
	if _, err := Migrate(t.Context(), rec, db); err != nil {
		t.Fatalf("Migrate() on the recording connection: %v", err)
	}
	if rec.err != nil {
		t.Fatalf("recording Migrate's statements: %v", rec.err)
	}
	return rec.stmts
}

// recordingConn is a driver.Conn that records the statements Migrate runs
// and reports no migration applied. The embedded Conn is nil: a method
// Migrate starts to use and recordingConn lacks panics the test, which
// must then learn it.
type recordingConn struct {
	driver.Conn
	stmts []string
	err   error
}

func (c *recordingConn) Exec(_ context.Context, query string, args ...any) error {
	if len(args) > 0 {
		c.err = errors.Join(c.err, fmt.Errorf("statement with arguments: %s", query))
	}
	c.stmts = append(c.stmts, query)
	return nil
}

func (c *recordingConn) Query(context.Context, string, ...any) (driver.Rows, error) {
	return noRows{}, nil
}

func (c *recordingConn) PrepareBatch(_ context.Context, query string,
	_ ...driver.PrepareBatchOption,
) (driver.Batch, error) {
	return &recordingBatch{conn: c, insert: query}, nil
}

// noRows is an empty result.
type noRows struct{ driver.Rows }

func (noRows) Next() bool   { return false }
func (noRows) Err() error   { return nil }
func (noRows) Close() error { return nil }

// recordingBatch turns a batch into one INSERT … VALUES statement.
type recordingBatch struct {
	driver.Batch
	conn   *recordingConn
	insert string
	tuples []string
}

func (b *recordingBatch) Append(v ...any) error {
	t, err := literal(v)
	if err != nil {
		return err
	}
	b.tuples = append(b.tuples, asTuple(t))
	return nil
}

func (b *recordingBatch) Send() error {
	b.conn.stmts = append(b.conn.stmts, b.insert+" VALUES "+strings.Join(b.tuples, ", "))
	return nil
}

func (b *recordingBatch) Close() error { return nil }

// chdbPython returns the python3 that imports chdb. Without one it skips
// t, or fails it when TALLYMARKS_REQUIRE_SERVICES=1, since CI must run it.
func chdbPython(t *testing.T) string {
	t.Helper()
	python, err := osexec.LookPath("python3")
	if err == nil {
		var out []byte
		out, err = osexec.CommandContext(t.Context(), python, "-c", "import chdb").CombinedOutput()
		if err != nil {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			err = fmt.Errorf("python3 -c 'import chdb': %w: %s", err, lines[len(lines)-1])
		}
	}
	if err == nil {
		return python
	}
	msg := fmt.Sprintf("no chDB (%v); install it with: python3 -m pip install chdb==%s",
		err, chdbVersion)
	if os.Getenv(testenv.EnvRequireServices) == "1" {
		t.Fatalf("%s=1 and %s", testenv.EnvRequireServices, msg)
	}
	t.Skip(msg)
	return ""
}

// chdbOutput is what testdata/current_clickhouse.py prints.
type chdbOutput struct {
	Version string                `json:"versions"`
	ChDB    string                `json:"chdb"`
	Results map[string]chdbResult `json:"results"`
}

// chdbResult is one query's result in ClickHouse's JSONCompact spelling.
type chdbResult struct {
	Columns []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"columns"`
	Rows [][]any `json:"rows"`
}

// runChDB runs stmts and then cases in one chDB session. A failing
// statement fails t with its index, the error and the statement.
func runChDB(t *testing.T, python string, stmts []string, cases []sqlCase) chdbOutput {
	t.Helper()
	type query struct {
		Name string `json:"name"`
		SQL  string `json:"sql"`
	}
	in := struct {
		Statements []string `json:"statements"`
		Queries    []query  `json:"queries"`
	}{Statements: stmts}
	for _, c := range cases {
		in.Queries = append(in.Queries, query{c.name, c.sql})
	}
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := osexec.CommandContext(ctx, python, "testdata/current_clickhouse.py")
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(body), &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("testdata/current_clickhouse.py: %v\n%s", err, stderr.String())
	}

	var out chdbOutput
	dec := json.NewDecoder(&stdout)
	dec.UseNumber() // decimals and 64-bit integers keep their exact text
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("reading the output of testdata/current_clickhouse.py: %v", err)
	}
	return out
}

// strings returns the rows as column name → value, spelled as show spells
// the values clickhouse-go scans, so that one expected result fits both.
func (r chdbResult) strings() ([]map[string]string, error) {
	out := make([]map[string]string, 0, len(r.Rows))
	for _, row := range r.Rows {
		if len(row) != len(r.Columns) {
			return nil, fmt.Errorf("row of %d values for %d columns", len(row), len(r.Columns))
		}
		m := make(map[string]string, len(row))
		for i, c := range r.Columns {
			s, err := showJSON(row[i], c.Type)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", c.Name, err)
			}
			m[c.Name] = s
		}
		out = append(out, m)
	}
	return out, nil
}

// showJSON writes a JSONCompact value of ClickHouse type typ as show
// writes the Go value clickhouse-go scans it into.
func showJSON(v any, typ string) (string, error) {
	typ = unwrap(unwrap(typ, "LowCardinality("), "Nullable(")
	switch v := v.(type) {
	case nil:
		return "NULL", nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	case []any:
		elem := unwrap(typ, "Array(")
		if elem == typ {
			return "", fmt.Errorf("array for type %s", typ)
		}
		parts := make([]string, len(v))
		for i, e := range v {
			s, err := showJSON(e, elem)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "[" + strings.Join(parts, " ") + "]", nil
	case string:
		switch {
		case typ == "Date" || typ == "Date32":
			return reformat(time.DateOnly, v)
		case typ == "DateTime('UTC')":
			return reformat(time.DateTime, v)
		case strings.HasPrefix(typ, "DateTime"):
			// Written in its own time zone, which the tables never use.
			return "", fmt.Errorf("type %s: only DateTime('UTC') is read", typ)
		}
		return v, nil
	}
	return "", fmt.Errorf("unexpected JSON value %v (%T) for type %s", v, v, typ)
}

// unwrap returns the argument of typ when typ is wrapper(…), else typ.
func unwrap(typ, wrapper string) string {
	if inner, ok := strings.CutPrefix(typ, wrapper); ok {
		return strings.TrimSuffix(inner, ")")
	}
	return typ
}

// reformat writes a UTC time in layout as RFC 3339, as show writes times.
func reformat(layout, s string) (string, error) {
	tm, err := time.Parse(layout, s)
	if err != nil {
		return "", err
	}
	return tm.Format(time.RFC3339Nano), nil
}
