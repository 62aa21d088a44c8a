package sink

import (
	"errors"
	"math/big"
	"testing"
	"time"

	chcolumn "github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
	"github.com/tallymarks/tallymarks/schemas"
)

func TestToDecimal(t *testing.T) {
	tests := []struct {
		name    string
		in      *big.Rat
		want    string
		wantErr bool
	}{
		{"fraction", dec("120.5"), "120.5", false},
		{"four digits", dec("20.0833"), "20.0833", false},
		{"negative smallest", dec("-0.0001"), "-0.0001", false},
		{"zero", new(big.Rat), "0", false},
		{"largest", dec("99999999999999.9999"), "99999999999999.9999", false},
		{"too large", new(big.Rat).SetInt64(100_000_000_000_000), "", true},
		{"too small", new(big.Rat).SetInt64(-100_000_000_000_000), "", true},
		{"a third", big.NewRat(1, 3), "", true},
		{"five digits", big.NewRat(1, 100_000), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := toDecimal(tt.in)
			if tt.wantErr {
				if !errors.Is(err, errUnrepresentable) {
					t.Fatalf("toDecimal(%s) error = %v, want errUnrepresentable", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("toDecimal(%s) error = %v", tt.in, err)
			}
			if got.String() != tt.want {
				t.Errorf("toDecimal(%s) = %s, want %s", tt.in, got.String(), tt.want)
			}
		})
	}
}

func TestSecondsAndMillis(t *testing.T) {
	tests := []struct {
		name       string
		in         time.Time
		wantSecond string
		wantMillis uint16
		wantVer    uint64
	}{
		{"utc", at("2024-03-01T10:20:30.456Z"), "2024-03-01T10:20:30Z", 456, 1709288430456},
		{"offset", at("2024-03-01T12:20:30.001+02:00"), "2024-03-01T10:20:30Z", 1, 1709288430001},
		{"before 1970", at("1969-12-31T23:59:59.500Z"), "1970-01-01T00:00:00Z", 0, 0},
		{"after 2106", at("2200-01-01T00:00:00.123Z"), "2106-02-07T06:28:15Z", 0, 7258118400123},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := seconds(tt.in).Truncate(time.Second).Format(time.RFC3339)
			if s != tt.wantSecond {
				t.Errorf("seconds(%s) = %s, want %s", tt.in, s, tt.wantSecond)
			}
			if m := millis(tt.in); m != tt.wantMillis {
				t.Errorf("millis(%s) = %d, want %d", tt.in, m, tt.wantMillis)
			}
			if v := version(tt.in); v != tt.wantVer {
				t.Errorf("version(%s) = %d, want %d", tt.in, v, tt.wantVer)
			}
		})
	}
}

func TestNewEventRow(t *testing.T) {
	tooBig := orderEvent()
	tooBig.Order.Items[1].Total = dec("12345678901234")
	tooBig.Order.Items[1].Total.Mul(tooBig.Order.Items[1].Total, big.NewRat(10, 1))

	tests := []struct {
		name    string
		ev      *schemas.Event
		want    map[string]string // column → show(value)
		wantErr error
	}{
		{
			name: "order",
			ev:   orderEvent(),
			want: map[string]string{
				"event_type": "order", "total": "120.5", "tax_total": "20.0833",
				"shipping_total": "NULL", "currency": "EUR", "payment_scheme": "visa",
				"payment_bin": "NULL", "item_skus": "[A-1 B-2]", "item_categories": "[shoes ]",
				"item_quantities": "[2 1.5]", "item_totals": "[100.5 20]",
				"attribute_keys": "[channel store]", "attribute_values": "[web 42]",
				"created_at_ms": "456", "version": "1709288431007", "action_amount": "NULL",
			},
		},
		{
			name: "action",
			ev:   actionEvent(),
			want: map[string]string{
				"event_type": "action", "action_amount": "3.75", "action_count": "2",
				"total": "NULL", "item_skus": "[]", "tags": "[]", "payment_scheme": "NULL",
			},
		},
		{
			name: "points and redemption slots both set",
			ev: func() *schemas.Event {
				ev := envelope(orderID, "Odd")
				ev.Points = &schemas.Points{Quantity: -5, Reason: ptr("gift")}
				ev.Redemption = &schemas.Redemption{Quantity: 7}
				return ev
			}(),
			want: map[string]string{
				"points_quantity": "-5", "points_reason": "gift", "redemption_quantity": "7",
				"redemption_reward": "NULL",
			},
		},
		{name: "amount beyond Decimal(18,4)", ev: tooBig, wantErr: errUnrepresentable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row, err := newEventRow(origin{}, tt.ev)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("newEventRow() error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("newEventRow() error = %v", err)
			}
			compareRows(t, "row", []map[string]string{rowStrings(eventsTable, &row)},
				[]map[string]string{tt.want})
		})
	}
}

func TestNewErrorRow(t *testing.T) {
	raw := errorEvent()
	raw.ErrorAction.Event, raw.ErrorAction.Raw = nil, []byte{0xff, 0x00, 'x'}

	tests := []struct {
		name    string
		ev      *schemas.Event
		want    map[string]string
		wantErr error
	}{
		{
			name: "failed event",
			ev:   errorEvent(),
			want: map[string]string{
				"error_id": errorID, "failed_event_id": failedID,
				"failed_event_type": "transaction", "failed_raw": "", "code": "negative_total",
			},
		},
		{
			name: "raw bytes",
			ev:   raw,
			want: map[string]string{
				"failed_event_id": "NULL", "failed_event_type": "", "failed_name_space": "NULL",
				"failed_event": "", "failed_raw": "/wB4",
			},
		},
		{name: "not an error event", ev: actionEvent(), wantErr: errNotAnError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row, err := newErrorRow(origin{}, tt.ev)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("newErrorRow() error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("newErrorRow() error = %v", err)
			}
			compareRows(t, "row", []map[string]string{rowStrings(errorsTable, &row)},
				[]map[string]string{tt.want})
		})
	}
}

// TestRowsFitColumns appends rows, sparse and full, to blocks built from
// the column types the migrations declare, as the driver does before it
// sends a batch: a Go value the driver refuses for its column fails here,
// without a server.
func TestRowsFitColumns(t *testing.T) {
	sparse := envelope(actionID, "Sparse")
	sparse.Action = &schemas.Action{}
	basket := orderEvent()
	basket.Basket, basket.Order = basket.Order, nil
	transaction := envelope(orderID, "Txn")
	transaction.Transaction = &schemas.Transaction{
		Total: dec("9.99"), Quantity: dec("3"), Payment: &schemas.Payment{Bin: ptr("411111")},
	}
	anniversary := envelope(orderID, "Anniversary")
	anniversary.Anniversary = &schemas.Anniversary{Years: 3}

	t.Run("events", func(t *testing.T) {
		for _, ev := range []*schemas.Event{orderEvent(), actionEvent(), sparse, basket,
			transaction, anniversary, errorEvent()} {
			row, err := newEventRow(origin{}, ev)
			if err != nil {
				t.Fatal(err)
			}
			appendToBlock(t, eventsTable, &row)
		}
	})
	t.Run("ledger", func(t *testing.T) {
		for _, e := range []*schemas.LedgerEntry{earnEntry(), spendEntry(), {}} {
			row := newLedgerRow(origin{}, e)
			appendToBlock(t, ledgerTable, &row)
		}
	})
	t.Run("errors", func(t *testing.T) {
		row, err := newErrorRow(origin{}, errorEvent())
		if err != nil {
			t.Fatal(err)
		}
		appendToBlock(t, errorsTable, &row)
	})
}

func newBlock[T any](tb testing.TB, t *table[T]) *proto.Block {
	tb.Helper()
	b := proto.NewBlock()
	for _, c := range t.columns {
		if err := b.AddColumn(c.name, chcolumn.Type(c.typ)); err != nil {
			tb.Fatalf("column %s %s: %v", c.name, c.typ, err)
		}
	}
	return b
}

func appendToBlock[T any](tb testing.TB, t *table[T], row *T) {
	tb.Helper()
	b := newBlock(tb, t)
	if err := b.Append(t.values(row, nil)...); err != nil {
		tb.Fatalf("appending a row to %s: %v", t.name, err)
	}
}

// rowStrings returns the values of r by column name, written by show.
func rowStrings[T any](t *table[T], r *T) map[string]string {
	m := map[string]string{}
	for _, c := range t.columns {
		m[c.name] = show(c.value(r))
	}
	return m
}

// BenchmarkEventRow measures what the sink does per event after decoding:
// conversion to a row, JSON body included, and the append to a batch.
func BenchmarkEventRow(b *testing.B) {
	ev := orderEvent()
	blk := newBlock(b, eventsTable)
	vals := make([]any, 0, len(eventsTable.columns))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		row, err := newEventRow(origin{}, ev)
		if err != nil {
			b.Fatal(err)
		}
		if err := blk.Append(eventsTable.values(&row, vals)...); err != nil {
			b.Fatal(err)
		}
		if i%5000 == 4999 {
			blk.Reset()
		}
	}
}

// BenchmarkLedgerRow is BenchmarkEventRow for ledger entries.
func BenchmarkLedgerRow(b *testing.B) {
	e := spendEntry()
	blk := newBlock(b, ledgerTable)
	vals := make([]any, 0, len(ledgerTable.columns))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		row := newLedgerRow(origin{}, e)
		if err := blk.Append(ledgerTable.values(&row, vals)...); err != nil {
			b.Fatal(err)
		}
		if i%5000 == 4999 {
			blk.Reset()
		}
	}
}
