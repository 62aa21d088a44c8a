package registry

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

func TestSubjects(t *testing.T) {
	tests := []struct {
		name   schemas.Name
		prefix string
		want   []string
	}{
		{schemas.EventSchema, "tallymarks.", []string{"tallymarks.events-value", "tallymarks.errors-value"}},
		{schemas.LedgerEntrySchema, "tallymarks.", []string{"tallymarks.ledger-value"}},
		{schemas.DeliverySchema, "tallymarks.", []string{"tallymarks.deliveries-value"}},
		{schemas.CustomerSchema, "tallymarks.", []string{"tallymarks.customers-value"}},
		{schemas.CustomerStateSchema, "tallymarks.", []string{"tallymarks.customer-table-value"}},
		{schemas.ConfigRecordSchema, "tallymarks.", []string{"tallymarks.config-value"}},
		{schemas.EventSchema, "", []string{"events-value", "errors-value"}},
		{schemas.ConfigRecordSchema, "acme-", []string{"acme-config-value"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.name)+"/"+tt.prefix, func(t *testing.T) {
			got := Subjects(topics.New(tt.prefix))
			if len(got) != len(schemas.Files) {
				t.Fatalf("Subjects has %d names, want one per schema file (%d)", len(got), len(schemas.Files))
			}
			if !slices.Equal(got[tt.name], tt.want) {
				t.Fatalf("Subjects()[%s] = %q, want %q", tt.name, got[tt.name], tt.want)
			}
		})
	}
}

func TestNewRegisters(t *testing.T) {
	s, l, cl := newTestSerde(t)

	// Every subject holds the schema, and a name's subjects share one id.
	for n, subjects := range Subjects(testTopics) {
		id, err := s.SchemaID(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, subj := range subjects {
			ss, ok := l.reg.GetSchema(subj, 1)
			if !ok {
				t.Fatalf("subject %s not registered", subj)
			}
			if ss.ID != id {
				t.Errorf("subject %s has id %d, SchemaID(%s) = %d", subj, ss.ID, n, id)
			}
		}
	}

	// Registering again is idempotent: same ids, no new versions.
	again, err := New(context.Background(), cl, Subjects(testTopics))
	if err != nil {
		t.Fatalf("second New: %v", err)
	}
	for _, n := range schemas.Files {
		a, _ := s.SchemaID(n)
		b, _ := again.SchemaID(n)
		if a != b {
			t.Errorf("%s: id %d after re-registering, was %d", n, b, a)
		}
	}
	if _, ok := l.reg.GetSchema(testTopics.Events()+"-value", 2); ok {
		t.Errorf("re-registering created a second version")
	}
}

// TestRegisteredTextKeepsDefaults checks that other clients of the registry
// see the schema with its defaults and docs, not the canonical form.
func TestRegisteredTextKeepsDefaults(t *testing.T) {
	s, _, cl := newTestSerde(t)
	id, _ := s.SchemaID(schemas.EventSchema)
	ss, err := cl.SchemaByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := avro.ParseWithCache(ss.Schema, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("registered text does not parse alone: %v", err)
	}
	var origin *avro.Field
	for _, f := range parsed.(*avro.RecordSchema).Fields() {
		if f.Name() == "origin" {
			origin = f
		}
	}
	if origin == nil || !origin.HasDefault() || origin.Default() != schemas.OriginClient {
		t.Fatalf("registered event schema lost the default of origin: %s", ss.Schema)
	}
	if parsed.Fingerprint() != schemas.MustSchema(schemas.EventSchema).Fingerprint() {
		t.Fatalf("registered schema differs from event.avsc")
	}
}

func TestNewRejectsBadSubjects(t *testing.T) {
	_, _, cl := newTestSerde(t)
	_, err := New(context.Background(), cl, map[schemas.Name][]string{
		"loyalty_tier":      {"tallymarks.tiers-value"},
		schemas.EventSchema: {},
	})
	if !errors.Is(err, ErrUnknownName) {
		t.Fatalf("New error = %v, want ErrUnknownName", err)
	}
	// Both problems at once.
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 2 {
		t.Fatalf("New reported %d problems, want 2: %v", n, err)
	}
}

func TestRoundTrip(t *testing.T) {
	s, _, _ := newTestSerde(t)
	withPayload := func(id, ns string, set func(*schemas.Event)) *schemas.Event {
		e := envelope(id, ns)
		set(&e)
		return &e
	}
	bare := schemas.Event{
		EventID: "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b", TenantID: tenantID, CustomerID: customerID,
		CreatedAt: at("2026-01-01T00:00:00Z"), ReceivedAt: at("2026-01-01T00:00:00Z"),
		NameSpace: "Customer.Login", Origin: schemas.OriginClient, Action: &schemas.Action{},
		Attributes: []schemas.Attribute{}, // an Avro array is never null
	}

	ev := newOf[schemas.Event]
	tests := []struct {
		name   string
		schema schemas.Name
		in     any
		out    func() any
	}{
		{"order event", schemas.EventSchema, orderEvent(), ev},
		{"action event", schemas.EventSchema, withPayload("a1", "Customer.Review", func(e *schemas.Event) {
			e.Action = &schemas.Action{Amount: dec("-12.3456"), Count: ptr(int64(3))}
		}), ev},
		{"bare action with nulls", schemas.EventSchema, &bare, ev},
		{"transaction event", schemas.EventSchema, withPayload("t1", "Transaction.Card", func(e *schemas.Event) {
			e.Transaction = &schemas.Transaction{Total: dec("99999999999999.9999"), Quantity: dec("1.5"),
				Currency: ptr("EUR"), Payment: &schemas.Payment{Scheme: ptr("mastercard")}}
		}), ev},
		{"transfer event", schemas.EventSchema, withPayload("x1", "Transfer.Savings", func(e *schemas.Event) {
			e.Transfer = &schemas.Transfer{Total: dec("0.0001"), FromAccount: ptr("CH01"), ToAccount: ptr("CH02")}
		}), ev},
		{"points event", schemas.EventSchema, withPayload("p1", "Points.Goodwill", func(e *schemas.Event) {
			e.Points = &schemas.Points{Quantity: -250, Reason: ptr("correction")}
		}), ev},
		{"redemption event", schemas.EventSchema, withPayload("r1", "Redemption.Voucher", func(e *schemas.Event) {
			e.Redemption = &schemas.Redemption{Quantity: 500, Reward: ptr("coffee-voucher")}
		}), ev},
		{"basket event", schemas.EventSchema, withPayload("b1", "Basket.Checkout", func(e *schemas.Event) {
			e.Basket = &schemas.Order{Total: dec("10"), Tags: []string{}, Items: []schemas.OrderItem{
				{SKU: "S", Quantity: dec("1"), UnitPrice: dec("10"), Total: dec("10")}}}
		}), ev},
		{"anniversary event", schemas.EventSchema, withPayload("y1", "Anniversary.Joined", func(e *schemas.Event) {
			e.Origin = schemas.OriginSystem
			e.Anniversary = &schemas.Anniversary{Years: 2}
		}), ev},
		{"nested error event", schemas.EventSchema, errorEvent(), ev},
		{"ledger entry", schemas.LedgerEntrySchema, ledgerEntry(), newOf[schemas.LedgerEntry]},
		{"delivery request", schemas.DeliverySchema, deliveryRequest(), newOf[schemas.DeliveryRequest]},
		{"customer", schemas.CustomerSchema, customer(), newOf[schemas.Customer]},
		{"customer state", schemas.CustomerStateSchema, customerState(), newOf[schemas.CustomerState]},
		{"config record", schemas.ConfigRecordSchema, configRecord(), newOf[schemas.ConfigRecord]},
		{"budget request", schemas.BudgetRequestSchema, budgetRequest(), newOf[schemas.BudgetRequest]},
		{"budget grant", schemas.BudgetGrantSchema, budgetGrant(), newOf[schemas.BudgetGrant]},
		{"budget state", schemas.BudgetStateSchema, budgetState(), newOf[schemas.BudgetState]},
		{"config request", schemas.ConfigRequestSchema, configRequest(), newOf[schemas.ConfigRequest]},
		{"config reply", schemas.ConfigReplySchema, configReply(), newOf[schemas.ConfigReply]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := s.Encode(tt.schema, tt.in)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			out := tt.out()
			if err := s.Decode(b, tt.schema, out); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			sameJSON(t, out, tt.in)
		})
	}
}

func TestWireFormat(t *testing.T) {
	s, _, _ := newTestSerde(t)
	id, _ := s.SchemaID(schemas.LedgerEntrySchema)
	body, err := avro.Marshal(schemas.MustSchema(schemas.LedgerEntrySchema), ledgerEntry())
	if err != nil {
		t.Fatal(err)
	}

	got, err := s.Encode(schemas.LedgerEntrySchema, ledgerEntry())
	if err != nil {
		t.Fatal(err)
	}
	want := binary.BigEndian.AppendUint32([]byte{0}, uint32(id))
	want = append(want, body...)
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode = %x\nwant   %x", got, want)
	}

	// AppendEncode appends after what is there.
	prefix := []byte("key:")
	got, err = s.AppendEncode(prefix, schemas.LedgerEntrySchema, ledgerEntry())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append([]byte("key:"), want...)) {
		t.Fatalf("AppendEncode = %x", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	s, _, _ := newTestSerde(t)
	eventID, _ := s.SchemaID(schemas.EventSchema)
	good, err := s.Encode(schemas.EventSchema, orderEvent())
	if err != nil {
		t.Fatal(err)
	}
	header := func(id int) []byte { return appendHeader(nil, id) }
	ledger, _ := s.Encode(schemas.LedgerEntrySchema, ledgerEntry())

	tests := []struct {
		name   string
		schema schemas.Name
		in     []byte
		want   error
	}{
		{"nil", schemas.EventSchema, nil, ErrShortRecord},
		{"four bytes", schemas.EventSchema, []byte{0, 0, 0, 1}, ErrShortRecord},
		{"magic byte 1", schemas.EventSchema, append([]byte{1}, good[1:]...), ErrMagicByte},
		{"json", schemas.EventSchema, []byte(`{"eventId":"x"}`), ErrMagicByte},
		{"unknown id", schemas.EventSchema, append(header(4242), good[5:]...), ErrUnknownSchemaID},
		{"header only", schemas.EventSchema, header(eventID), ErrMalformed},
		{"truncated body", schemas.EventSchema, good[:len(good)/2], ErrMalformed},
		// The last field is one byte, so this cuts at a field boundary,
		// which avro.Unmarshal would take for the end of the record.
		{"last field missing", schemas.EventSchema, good[:len(good)-1], ErrMalformed},
		{"trailing byte", schemas.EventSchema, append(slices.Clip(good), 0), ErrMalformed},
		{"ledger entry read as event", schemas.EventSchema, ledger, ErrIncompatibleWriter},
		{"unknown schema name", "loyalty_tier", good, ErrUnknownName},
		// eventId claims 2^40 bytes: refused before allocating.
		{"huge string", schemas.EventSchema, append(header(eventID), 0x80, 0x80, 0x80, 0x80, 0x80, 0x40),
			ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v schemas.Event
			err := s.Decode(tt.in, tt.schema, &v)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode error = %v, want %v", err, tt.want)
			}
			if IsRetryable(err) {
				t.Fatalf("IsRetryable(%v) = true", err)
			}
		})
	}
}

// TestDecodeLimits checks the allocation limits on outside input.
func TestDecodeLimits(t *testing.T) {
	s, _, _ := newTestSerde(t, WithMaxItems(10), WithMaxBytes(64))
	tests := []struct {
		name    string
		edit    func(*schemas.Event)
		wantErr bool
	}{
		{"within limits", func(e *schemas.Event) {}, false},
		{"eleven attributes", func(e *schemas.Event) {
			for range 9 {
				e.Attributes = append(e.Attributes, schemas.Attribute{Key: "k", Value: "v"})
			}
		}, true},
		{"long description", func(e *schemas.Event) { e.Description = ptr(string(make([]byte, 65))) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := orderEvent()
			tt.edit(e)
			b, err := s.Encode(schemas.EventSchema, e) // limits apply to decoding only
			if err != nil {
				t.Fatal(err)
			}
			err = s.Decode(b, schemas.EventSchema, new(schemas.Event))
			if tt.wantErr != errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode error = %v, want ErrMalformed: %v", err, tt.wantErr)
			}
		})
	}
}

// TestHugeArrayLength feeds an array that claims 2^62 - 1 elements, which
// without a limit would make the decoder allocate for all of them at once.
func TestHugeArrayLength(t *testing.T) {
	s, _, _ := newTestSerde(t)
	id, _ := s.SchemaID(schemas.LedgerEntrySchema)

	// The records with and without lots first differ where lots begins.
	e := ledgerEntry()
	e.Lots = nil
	without, err := s.Encode(schemas.LedgerEntrySchema, e)
	if err != nil {
		t.Fatal(err)
	}
	e.Lots = []schemas.LotAmount{{LotID: "x", Points: 1}}
	with, err := s.Encode(schemas.LedgerEntrySchema, e)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for without[i] == with[i] {
		i++
	}

	hostile := append(appendHeader(nil, id), without[headerLen:i]...)
	hostile = binary.AppendVarint(hostile, 1<<62-1) // Avro longs are zig-zag varints too
	hostile = append(hostile, 0x02, 'x')
	err = s.Decode(hostile, schemas.LedgerEntrySchema, new(schemas.LedgerEntry))
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("Decode error = %v, want ErrMalformed", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	s, _, _ := newTestSerde(t)
	tests := []struct {
		name   string
		schema schemas.Name
		in     any
		want   error
	}{
		{"unknown name", "loyalty_tier", orderEvent(), ErrUnknownName},
		{"wrong type", schemas.EventSchema, ledgerEntry(), nil},
		{"order without total", schemas.EventSchema, &schemas.Event{Order: &schemas.Order{}}, errCodecPanic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := s.AppendEncode([]byte("x"), tt.schema, tt.in)
			if err == nil {
				t.Fatalf("Encode succeeded: %x", b)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Encode error = %v, want %v", err, tt.want)
			}
			if string(b) != "x" {
				t.Fatalf("AppendEncode changed its buffer on error: %q", b)
			}
		})
	}
}

func TestNestingLimit(t *testing.T) {
	s, _, _ := newTestSerde(t, WithMaxNesting(3))
	id, _ := s.SchemaID(schemas.EventSchema)
	tests := []struct {
		levels int
		ok     bool
	}{{0, true}, {1, true}, {3, true}, {4, false}, {40, false}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d levels", tt.levels), func(t *testing.T) {
			e := nested(tt.levels)
			_, err := s.Encode(schemas.EventSchema, e)
			if (err == nil) != tt.ok {
				t.Fatalf("Encode of %d levels: error %v, want ok=%v", tt.levels, err, tt.ok)
			}

			// Decode a record written without any limit.
			body, err := avro.Marshal(schemas.MustSchema(schemas.EventSchema), e)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Decode(append(appendHeader(nil, id), body...), schemas.EventSchema, new(schemas.Event))
			switch {
			case tt.ok && err != nil:
				t.Fatalf("Decode of %d levels: %v", tt.levels, err)
			case !tt.ok && !errors.Is(err, ErrMalformed):
				t.Fatalf("Decode of %d levels: error %v, want ErrMalformed", tt.levels, err)
			}
		})
	}
}

func TestRegistryUnavailable(t *testing.T) {
	s, _, _ := newTestSerde(t, WithFetchTimeout(2*time.Second))
	good, _ := s.Encode(schemas.EventSchema, orderEvent())

	// Point the Serde at an address nobody listens on.
	dead, err := sr.NewClient(sr.URLs("http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	s.cl = dead
	unknown := append(appendHeader(nil, 77), good[headerLen:]...)
	err = s.Decode(unknown, schemas.EventSchema, new(schemas.Event))
	if !errors.Is(err, ErrRegistry) || !IsRetryable(err) {
		t.Fatalf("Decode error = %v, want a retryable ErrRegistry", err)
	}
	// The current schema needs no registry.
	if err := s.Decode(good, schemas.EventSchema, new(schemas.Event)); err != nil {
		t.Fatalf("Decode of current id: %v", err)
	}
}

// TestConcurrentDecode decodes records of an unseen writer from many
// goroutines at once; run with -race.
func TestConcurrentDecode(t *testing.T) {
	s, _, cl := newTestSerde(t)
	old := registerVariant(t, cl, testTopics.Events()+"-value", withoutFields("campaign"))
	b := encodeWith(t, old, orderEvent())

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for range 20 {
				var e schemas.Event
				if err := s.Decode(b, schemas.EventSchema, &e); err != nil {
					errs <- err
					return
				}
			}
			enc, err := s.Encode(schemas.EventSchema, orderEvent())
			if err == nil {
				err = s.Decode(enc, schemas.EventSchema, new(schemas.Event))
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
