package customer

import (
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/schemas"
)

const (
	tenant = "11111111-1111-4111-8111-111111111111"
	cust   = "22222222-2222-4222-8222-222222222222"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func economy(t *testing.T, rate, currency string) *catalog.Economy {
	t.Helper()
	s := catalog.NewStore()
	body := `{"name":"e","basePointsPerUnit":"` + rate + `","currency":"` + currency +
		`","effectiveFrom":"2000-01-01T00:00:00Z","expiry":{"mode":"none"}}`
	active := catalog.StatusActive
	if err := s.Apply("k", &schemas.ConfigRecord{TenantID: tenant, Kind: catalog.KindTenant, ID: tenant, Body: `{}`}, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply("k", &schemas.ConfigRecord{
		TenantID: tenant, Kind: catalog.KindEconomy, ID: "econ", Status: &active, Body: body,
	}, 1); err != nil {
		t.Fatal(err)
	}
	e, ok := s.EconomyAt(tenant, t0)
	if !ok {
		t.Fatal("economy not found")
	}
	return &e
}

func order(id string, total *big.Rat, nameSpace string) *schemas.Event {
	return &schemas.Event{
		EventID: id, TenantID: tenant, CustomerID: cust,
		CreatedAt: t0, ReceivedAt: t0, NameSpace: nameSpace,
		Order: &schemas.Order{Total: total},
	}
}

func action(id string) *schemas.Event {
	return &schemas.Event{
		EventID: id, TenantID: tenant, CustomerID: cust,
		CreatedAt: t0, ReceivedAt: t0, NameSpace: "Customer.Registration",
		Action: &schemas.Action{},
	}
}

// checkInvariant fails t unless the balance equals the sum of open lots.
func checkInvariant(t *testing.T, st *schemas.CustomerState) {
	t.Helper()
	var sum int64
	for _, l := range st.Lots {
		sum += l.Points
	}
	if sum != st.Points.Balance {
		t.Fatalf("balance %d != sum of lots %d", st.Points.Balance, sum)
	}
}

func TestApplyBasePoints(t *testing.T) {
	tests := []struct {
		name     string
		ev       *schemas.Event
		rate     string
		currency string
		want     int64
	}{
		{name: "order rounds down", ev: order("e1", big.NewRat(24101, 200), "Order.Web"), rate: "1", want: 120},
		{name: "19.99 gives 19", ev: order("e1", big.NewRat(1999, 100), "Order.Web"), rate: "1", want: 19},
		{name: "decimal rate", ev: order("e1", big.NewRat(100, 1), "Order.Web"), rate: "1.5", want: 150},
		{name: "zero rate", ev: order("e1", big.NewRat(100, 1), "Order.Web"), rate: "0", want: 0},
		{name: "action earns no base", ev: action("e1"), rate: "1", want: 0},
		{name: "refund earns nothing", ev: order("e1", big.NewRat(100, 1), "Refund.Web"), rate: "1", want: 0},
		{name: "return earns nothing", ev: order("e1", big.NewRat(100, 1), "Return.Store"), rate: "1", want: 0},
		{name: "other currency earns nothing", ev: func() *schemas.Event {
			e := order("e1", big.NewRat(100, 1), "Order.Web")
			usd := "USD"
			e.Order.Currency = &usd
			return e
		}(), rate: "1", currency: "EUR", want: 0},
		{name: "same currency any case", ev: func() *schemas.Event {
			e := order("e1", big.NewRat(100, 1), "Order.Web")
			eur := "eur"
			e.Order.Currency = &eur
			return e
		}(), rate: "1", currency: "EUR", want: 100},
		{name: "transaction earns base", ev: &schemas.Event{
			EventID: "e1", TenantID: tenant, CustomerID: cust, CreatedAt: t0, ReceivedAt: t0,
			NameSpace: "Card.Purchase", Transaction: &schemas.Transaction{Total: big.NewRat(4250, 100)},
		}, rate: "2", want: 85},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Apply(nil, tt.ev, Input{Economy: economy(t, tt.rate, tt.currency), Now: t0})
			if res.Outcome != Processed {
				t.Fatalf("outcome = %v, want Processed", res.Outcome)
			}
			if got := res.State.Points.Balance; got != tt.want {
				t.Fatalf("balance = %d, want %d", got, tt.want)
			}
			checkInvariant(t, res.State)
			if tt.want == 0 {
				if len(res.Entries) != 0 {
					t.Fatalf("entries = %d, want none", len(res.Entries))
				}
				return
			}
			if len(res.Entries) != 1 {
				t.Fatalf("entries = %d, want 1", len(res.Entries))
			}
			e := res.Entries[0]
			if e.Type != schemas.EntryEarn || e.Source != schemas.SourceBase || e.Points != tt.want ||
				e.BalanceAfter != tt.want || e.EventID != "e1" || len(e.Lots) != 1 || e.Lots[0].LotID != e.EntryID {
				t.Fatalf("unexpected entry %+v", e)
			}
		})
	}
}

func TestApplyWithoutEconomy(t *testing.T) {
	res := Apply(nil, order("e1", big.NewRat(100, 1), "Order.Web"), Input{Now: t0})
	if res.State.Points.Balance != 0 || len(res.Entries) != 0 {
		t.Fatalf("balance %d, entries %d: want nothing without an economy",
			res.State.Points.Balance, len(res.Entries))
	}
	if res.State.Profile.CustomerID != cust || !res.State.Profile.CreatedAt.Equal(t0) {
		t.Fatalf("profile not created: %+v", res.State.Profile)
	}
}

func TestApplyDuplicatesAndRedelivery(t *testing.T) {
	econ := economy(t, "1", "")
	first := Apply(nil, order("e1", big.NewRat(120, 1), "Order.Web"),
		Input{Partition: 2, Offset: 7, Economy: econ, Now: t0})

	tests := []struct {
		name      string
		partition int32
		offset    int64
		want      Outcome
		entries   int
	}{
		{name: "same record again is a redelivery", partition: 2, offset: 7, want: Redelivered, entries: 1},
		{name: "resubmission is a duplicate", partition: 2, offset: 9, want: Duplicate, entries: 0},
		{name: "other partition is a duplicate", partition: 3, offset: 7, want: Duplicate, entries: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Apply(first.State, order("e1", big.NewRat(120, 1), "Order.Web"),
				Input{Partition: tt.partition, Offset: tt.offset, Economy: econ, Now: t0.Add(time.Hour)})
			if res.Outcome != tt.want {
				t.Fatalf("outcome = %v, want %v", res.Outcome, tt.want)
			}
			if res.State.Points.Balance != 120 {
				t.Fatalf("balance = %d, want 120 unchanged", res.State.Points.Balance)
			}
			if len(res.Entries) != tt.entries {
				t.Fatalf("entries = %d, want %d", len(res.Entries), tt.entries)
			}
			if tt.entries > 0 && !reflect.DeepEqual(res.Entries[0], first.Entries[0]) {
				// Same id, same content: downstream drops the copy.
				t.Fatalf("re-emitted entry differs:\n%+v\n%+v", res.Entries[0], first.Entries[0])
			}
		})
	}
}

func TestApplyEntryIDsAreDeterministic(t *testing.T) {
	econ := economy(t, "1", "")
	a := Apply(nil, order("e1", big.NewRat(10, 1), "Order.Web"), Input{Economy: econ, Now: t0})
	b := Apply(nil, order("e1", big.NewRat(10, 1), "Order.Web"), Input{Economy: econ, Now: t0.Add(time.Hour)})
	c := Apply(nil, order("e2", big.NewRat(10, 1), "Order.Web"), Input{Economy: econ, Now: t0})
	if a.Entries[0].EntryID != b.Entries[0].EntryID {
		t.Fatal("same event gave different entry ids")
	}
	if a.Entries[0].EntryID == c.Entries[0].EntryID {
		t.Fatal("different events gave the same entry id")
	}
}

func TestApplyDoesNotModifyInput(t *testing.T) {
	econ := economy(t, "1", "")
	first := Apply(nil, order("e1", big.NewRat(10, 1), "Order.Web"), Input{Economy: econ, Now: t0})
	before := first.State.Points.Balance
	lots := len(first.State.Lots)
	_ = Apply(first.State, order("e2", big.NewRat(5, 1), "Order.Web"), Input{Offset: 1, Economy: econ, Now: t0})
	if first.State.Points.Balance != before || len(first.State.Lots) != lots {
		t.Fatal("Apply modified the state it was given")
	}
}

func TestApplyPaysDebtFirst(t *testing.T) {
	econ := economy(t, "1", "")
	st := Apply(nil, action("e0"), Input{Economy: econ, Now: t0}).State
	st.Lots = append(st.Lots, schemas.Lot{LotID: "debt", EarnedAt: t0, Points: -30})
	st.Points.Balance = -30

	res := Apply(st, order("e1", big.NewRat(50, 1), "Order.Web"), Input{Offset: 1, Economy: econ, Now: t0})
	checkInvariant(t, res.State)
	if res.State.Points.Balance != 20 {
		t.Fatalf("balance = %d, want 20", res.State.Points.Balance)
	}
	e := res.Entries[0]
	if len(e.Lots) != 2 || e.Lots[0] != (schemas.LotAmount{LotID: "debt", Points: 30}) ||
		e.Lots[1].Points != 20 {
		t.Fatalf("entry lots = %+v, want debt paid 30 then a new lot of 20", e.Lots)
	}
	if len(res.State.Lots) != 1 || res.State.Lots[0].Points != 20 {
		t.Fatalf("lots = %+v, want only the new lot of 20", res.State.Lots)
	}
}

func TestDedupWindowIsBounded(t *testing.T) {
	econ := economy(t, "1", "")
	var st *schemas.CustomerState
	for i := range DedupMaxEvents + 10 {
		ev := action("id-" + itoa(i))
		st = Apply(st, ev, Input{Offset: int64(i), Economy: econ, Now: t0}).State
	}
	if len(st.Processed) != DedupMaxEvents {
		t.Fatalf("window holds %d ids, want %d", len(st.Processed), DedupMaxEvents)
	}
	if _, ok := Seen(st, "id-0"); ok {
		t.Fatal("oldest id still remembered beyond the cap")
	}
	if _, ok := Seen(st, "id-"+itoa(DedupMaxEvents+9)); !ok {
		t.Fatal("newest id forgotten")
	}

	late := action("late")
	late.ReceivedAt = t0.Add(DedupWindow + time.Hour)
	st = Apply(st, late, Input{Offset: 99999, Economy: econ, Now: t0}).State
	if len(st.Processed) != 1 {
		t.Fatalf("window holds %d ids after 30 days, want only the new one", len(st.Processed))
	}
}
