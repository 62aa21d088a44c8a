package customer

import (
	"math/big"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

func TestCounting(t *testing.T) {
	econ := economy(t, "1", "")
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	var st *schemas.CustomerState
	offset := int64(0)
	apply := func(ev *schemas.Event) {
		t.Helper()
		st = Apply(st, ev, Input{Offset: offset, Economy: econ, Now: t0, Location: berlin}).State
		offset++
	}

	o1 := order("o1", big.NewRat(100, 1), "Order.Web")
	o2 := order("o2", big.NewRat(50, 1), "Order.Web")
	o2.CreatedAt = time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC) // already 2 March in Berlin
	refund := order("r1", big.NewRat(30, 1), "Refund.Web")
	basket := &schemas.Event{EventID: "b1", TenantID: tenant, CustomerID: cust, CreatedAt: t0, ReceivedAt: t0,
		NameSpace: "Order.Web", Basket: &schemas.Order{Total: big.NewRat(999, 1)}}
	system := order("s1", big.NewRat(70, 1), "Order.Web")
	system.Origin = schemas.OriginSystem
	for _, ev := range []*schemas.Event{action("a1"), o1, o2, refund, basket, system} {
		apply(ev)
	}

	orders := counter(st, schemas.TypeOrder)
	if orders.Count != 2 {
		t.Fatalf("order count = %d, want 2: refunds, baskets and system events do not count", orders.Count)
	}
	if got := schemas.FormatDecimal(orders.Sum); got != "120" {
		t.Fatalf("order sum = %s, want 150 - 30 = 120", got)
	}
	if got := schemas.FormatDecimal(orders.MaxSum); got != "150" {
		t.Fatalf("order max sum = %s, want 150", got)
	}
	if c := counter(st, schemas.TypeAction); c.Count != 1 {
		t.Fatalf("action count = %d, want 1", c.Count)
	}

	day1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 1)
	tests := []struct {
		name     string
		from, to time.Time
		want     int64
	}{
		{name: "first local day", from: day1, to: day1, want: 1},
		{name: "second local day", from: day2, to: day2, want: 1},
		{name: "both", from: day1, to: day2, want: 2},
		{name: "since long ago", from: day1.AddDate(-3, 0, 0), to: day2, want: 2},
		{name: "before any", from: day1.AddDate(0, 0, -10), to: day1.AddDate(0, 0, -1), want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CountInWindow(st, schemas.TypeOrder, "Order.Web", tt.from, tt.to); got != tt.want {
				t.Fatalf("CountInWindow = %d, want %d", got, tt.want)
			}
		})
	}
	if got := CountInWindow(st, schemas.TypeOrder, "Order.App", day1, day2); got != 0 {
		t.Fatalf("other nameSpace counted %d", got)
	}
}

func TestRefundNeverBelowZero(t *testing.T) {
	st := Apply(nil, order("o1", big.NewRat(10, 1), "Order.Web"), Input{Now: t0}).State
	st = Apply(st, order("r1", big.NewRat(25, 1), "Return.Web"), Input{Offset: 1, Now: t0}).State
	if c := counter(st, schemas.TypeOrder); c.Sum.Sign() != 0 || c.Count != 1 {
		t.Fatalf("after an over-refund: count %d, sum %s; want 1 and 0", c.Count, schemas.FormatDecimal(c.Sum))
	}
}

func TestWindowsAreBounded(t *testing.T) {
	var st *schemas.CustomerState
	for i := range maxWindowsPerType + 5 {
		ev := action("a" + itoa(i))
		ev.NameSpace = "Ns" + itoa(i)
		ev.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		st = Apply(st, ev, Input{Offset: int64(i), Now: t0}).State
	}
	if len(st.Windows) != maxWindowsPerType {
		t.Fatalf("%d windows kept, want %d", len(st.Windows), maxWindowsPerType)
	}
	if CountInWindow(st, schemas.TypeAction, "Ns0", t0.AddDate(0, 0, -1), t0.AddDate(0, 0, 1)) != 0 {
		t.Fatal("least recently used window not dropped")
	}

	st = nil
	for i := range 3 {
		ev := action("d" + itoa(i))
		ev.CreatedAt = t0.AddDate(0, 0, i*300)
		st = Apply(st, ev, Input{Offset: int64(i), Now: t0}).State
	}
	if n := len(st.Windows[0].Days); n != 2 {
		t.Fatalf("%d day buckets kept over 600 days, want 2 (older than 400 days dropped)", n)
	}
	if st.Windows[0].Total != 3 {
		t.Fatalf("total = %d, want 3", st.Windows[0].Total)
	}
}
