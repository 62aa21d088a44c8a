package registry

import (
	"context"
	"errors"
	"io"
	"log"
	"testing"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/tallymarks/tallymarks/schemas"
)

func TestCodec(t *testing.T) {
	s, _, _ := newTestSerde(t)
	tests := []struct {
		name     string
		schema   schemas.Name
		newValue func() any
		in       any
	}{
		{"customer state", schemas.CustomerStateSchema, newOf[schemas.CustomerState], customerState()},
		{"event by value", schemas.EventSchema, newOf[schemas.Event], *orderEvent()},
		{"config record", schemas.ConfigRecordSchema, newOf[schemas.ConfigRecord], configRecord()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := s.Codec(tt.schema, tt.newValue)
			b, err := c.Encode(tt.in)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, err := c.Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			sameJSON(t, got, tt.in)

			if _, err := c.Decode([]byte("not avro")); !errors.Is(err, ErrMagicByte) {
				t.Fatalf("Decode of garbage: error %v, want ErrMagicByte", err)
			}
		})
	}
}

// TestCodecInProcessor runs a goka processor whose input stream, group table
// and output stream all use Serde codecs.
func TestCodecInProcessor(t *testing.T) {
	s, _, _ := newTestSerde(t)
	var (
		events = goka.Stream(testTopics.Events())
		ledger = goka.Stream(testTopics.Ledger())
		group  = testTopics.CustomerGroup()
	)
	stateCodec := s.Codec(schemas.CustomerStateSchema, newOf[schemas.CustomerState])

	tt := tester.New(t)
	proc, err := goka.NewProcessor(nil, goka.DefineGroup(group,
		goka.Input(events, s.Codec(schemas.EventSchema, newOf[schemas.Event]),
			func(ctx goka.Context, msg any) {
				ev := msg.(*schemas.Event)
				st, _ := ctx.Value().(*schemas.CustomerState)
				if st == nil {
					st = &schemas.CustomerState{}
				}
				st.Points.Balance += ev.Points.Quantity
				st.Processed = append(st.Processed, schemas.ProcessedEvent{EventID: ev.EventID})
				ctx.SetValue(st)
				e := ledgerEntry()
				e.EventID, e.Points, e.BalanceAfter = ev.EventID, ev.Points.Quantity, st.Points.Balance
				ctx.Emit(ledger, ctx.Key(), e)
			}),
		goka.Output(ledger, s.Codec(schemas.LedgerEntrySchema, newOf[schemas.LedgerEntry])),
		goka.Persist(stateCodec),
	), goka.WithTester(tt), goka.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- proc.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("processor: %v", err)
		}
	}()

	key := tenantID + "/" + customerID
	track := tt.NewQueueTracker(string(ledger))
	for i, q := range []int64{100, 25} {
		e := envelope("e"+string(rune('1'+i)), "Points.Bonus")
		e.Points = &schemas.Points{Quantity: q}
		tt.Consume(string(events), key, &e)
	}

	st, _ := tt.TableValue(goka.GroupTable(group), key).(*schemas.CustomerState)
	if st == nil || st.Points.Balance != 125 || len(st.Processed) != 2 {
		t.Fatalf("table value = %+v, want balance 125 after two events", st)
	}
	var last *schemas.LedgerEntry
	for {
		_, v, ok := track.Next()
		if !ok {
			break
		}
		last = v.(*schemas.LedgerEntry)
	}
	if last == nil || last.BalanceAfter != 125 || last.EventID != "e2" {
		t.Fatalf("last ledger entry = %+v, want e2 with balance 125", last)
	}
}
