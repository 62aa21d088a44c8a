package customer

import (
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

func points(id string, q int64) *schemas.Event {
	return &schemas.Event{
		EventID: id, TenantID: tenant, CustomerID: cust, CreatedAt: t0, ReceivedAt: t0,
		NameSpace: "Points.Bonus", Origin: schemas.OriginClient, Points: &schemas.Points{Quantity: q},
	}
}

func TestPointsEvents(t *testing.T) {
	tests := []struct {
		name    string
		steps   []int64 // quantities of successive Points events
		locked  bool
		balance int64
		refused string // code of the last step's refusal
	}{
		{name: "earn", steps: []int64{50}, balance: 50},
		{name: "earn then spend", steps: []int64{50, -20}, balance: 30},
		{name: "spend everything", steps: []int64{50, -50}, balance: 0},
		{name: "spend more than the balance", steps: []int64{50, -51}, balance: 50, refused: CodeInsufficientPoints},
		{name: "spend on a locked account", steps: []int64{50, -1}, locked: true, balance: 50, refused: CodeAccountLocked},
		{name: "unknown customer spends", steps: []int64{-1}, balance: -1, refused: CodeInsufficientPoints},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st *schemas.CustomerState
			var res Result
			for i, q := range tt.steps {
				if st != nil && tt.locked {
					st.Profile.IsAccountLocked = true
				}
				res = Apply(st, points("p"+itoa(i), q), Input{Offset: int64(i), Now: t0})
				if res.State != nil {
					st = res.State
				}
			}
			if res.Refused != tt.refused {
				t.Fatalf("refused = %q, want %q", res.Refused, tt.refused)
			}
			if tt.balance < 0 {
				if res.State != nil {
					t.Fatal("a refused spend created the customer")
				}
			} else {
				checkInvariant(t, st)
				if st.Points.Balance != tt.balance {
					t.Fatalf("balance = %d, want %d", st.Points.Balance, tt.balance)
				}
			}
			if tt.refused != "" {
				if len(res.Entries) != 0 || len(res.Errors) != 1 {
					t.Fatalf("refusal emitted %d entries and %d errors, want 0 and 1", len(res.Entries), len(res.Errors))
				}
				e := res.Errors[0]
				if e.NameSpace != "Error.Assessment" || e.ErrorAction == nil || *e.ErrorAction.Code != tt.refused ||
					e.ErrorAction.Event.EventID != "p"+itoa(len(tt.steps)-1) {
					t.Fatalf("error event %+v", e)
				}
			}
		})
	}
}

func TestSpendConsumesSoonestExpiringThenOldest(t *testing.T) {
	day := func(d int) time.Time { return t0.AddDate(0, 0, d) }
	exp := func(d int) *time.Time { v := day(d); return &v }
	st := Apply(nil, action("seed"), Input{Now: t0}).State
	st.Lots = []schemas.Lot{
		{LotID: "never-old", EarnedAt: day(-30), Points: 10},
		{LotID: "expires-late", EarnedAt: day(-20), ExpiresAt: exp(300), Points: 10},
		{LotID: "expires-soon", EarnedAt: day(-10), ExpiresAt: exp(100), Points: 10},
		{LotID: "never-new", EarnedAt: day(-5), Points: 10},
	}
	st.Points.Balance = 40

	res := Apply(st, points("spend", -25), Input{Offset: 1, Now: t0})
	checkInvariant(t, res.State)
	got := res.Entries[0].Lots
	want := []schemas.LotAmount{{LotID: "expires-soon", Points: -10}, {LotID: "expires-late", Points: -10},
		{LotID: "never-old", Points: -5}}
	if len(got) != len(want) {
		t.Fatalf("lots consumed %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("lots consumed %+v, want %+v", got, want)
		}
	}
	if e := res.Entries[0]; e.Type != schemas.EntrySpend || e.Points != -25 || e.BalanceAfter != 15 {
		t.Fatalf("spend entry %+v", e)
	}
	if res.State.Points.LifetimeSpent != 25 {
		t.Fatalf("lifetimeSpent = %d, want 25", res.State.Points.LifetimeSpent)
	}
}

func TestRefusedRedeliveryReemitsTheError(t *testing.T) {
	st := Apply(nil, points("p0", 5), Input{Now: t0}).State
	first := Apply(st, points("p1", -9), Input{Offset: 1, Now: t0})
	again := Apply(first.State, points("p1", -9), Input{Offset: 1, Now: t0.Add(time.Minute)})
	if again.Outcome != Redelivered || again.Refused != CodeInsufficientPoints || len(again.Errors) != 1 ||
		again.Errors[0].EventID != first.Errors[0].EventID {
		t.Fatalf("redelivered refusal: %+v", again)
	}
	dup := Apply(first.State, points("p1", -9), Input{Offset: 7, Now: t0})
	if dup.Outcome != Duplicate || len(dup.Errors) != 0 {
		t.Fatalf("resubmitted refusal: outcome %v, %d errors", dup.Outcome, len(dup.Errors))
	}
}
