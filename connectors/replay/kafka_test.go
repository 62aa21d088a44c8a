package replay

import (
	"context"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
	"github.com/tallymarks/tallymarks/schemas/registry"
	"github.com/tallymarks/tallymarks/tests/testenv"
)

// TestKafkaSourceReadsByTime writes records of two tenants at chosen
// timestamps and reads one tenant's from a point in time.
func TestKafkaSourceReadsByTime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kafka := testenv.NewKafka(t)
	names := topics.New(testenv.Prefix(t))
	testenv.DropTopics(t, kafka.Brokers, names.Prefix())
	cl, err := kgo.NewClient(kgo.SeedBrokers(kafka.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := topics.Ensure(ctx, kadm.NewClient(cl), names.Specs(3), 1); err != nil {
		t.Fatal(err)
	}
	local, err := registry.NewLocal("")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = local.Close() }()
	rc, err := local.Client()
	if err != nil {
		t.Fatal(err)
	}
	serde, err := registry.New(ctx, rc, registry.Subjects(names))
	if err != nil {
		t.Fatal(err)
	}

	from := time.Now().Add(-24 * time.Hour).Truncate(time.Millisecond)
	mine, theirs := uuid.NewString(), uuid.NewString()
	var want []string
	write := func(tenant string, written time.Time, read bool) {
		a := &schemas.Assessment{TenantID: tenant, CustomerID: uuid.NewString(), EventID: uuid.NewString(),
			Event: schemas.Event{CreatedAt: written, ReceivedAt: written, Attributes: []schemas.Attribute{},
				Order: &schemas.Order{Total: big.NewRat(1, 1), Items: []schemas.OrderItem{}, Tags: []string{}}},
			Snapshot: schemas.CustomerSnapshot{TimeZone: "UTC", PeakBefore: new(big.Rat),
				Counters: []schemas.TypeCounter{}, Segments: []string{}}}
		a.Event.TenantID, a.Event.CustomerID, a.Event.EventID = a.TenantID, a.CustomerID, a.EventID
		b, err := serde.Encode(schemas.AssessmentSchema, a)
		if err != nil {
			t.Fatal(err)
		}
		rec := &kgo.Record{Topic: names.Assessments(), Key: []byte(topics.Key(tenant, a.CustomerID)),
			Value: b, Timestamp: written}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if read {
			want = append(want, a.EventID)
		}
	}
	write(mine, from.Add(-2*EarlyWrite), false) // written too early to be looked at
	write(mine, from.Add(-EarlyWrite/2), true)  // written a little before from
	write(mine, from.Add(time.Hour), true)
	write(theirs, from.Add(time.Hour), false) // another tenant's
	write(mine, from.Add(2*time.Hour), true)

	src := &KafkaSource{Brokers: kafka.Brokers, Topic: names.Assessments(), Codec: serde}
	var got []string
	var last float64
	err = src.Read(ctx, mine, from, from.Add(time.Hour), func(p float64) { last = p },
		func(a *schemas.Assessment) error {
			got = append(got, a.EventID)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || last != 1 {
		t.Fatalf("read %v with progress %v, want %v and 1", got, last, want)
	}
}
