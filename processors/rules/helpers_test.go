package rules

import (
	"math/big"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// t0 is a Sunday: 2026-03-01 12:00 UTC.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func dec(s string) *big.Rat {
	r, err := schemas.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return r
}

func str(s string) *string { return &s }

// dayCount is a fake window bucket: n events of typ and ns on day.
type dayCount struct {
	typ schemas.EventType
	ns  string
	day Date
	n   int64
}

// fakeCustomer implements Customer with plain fields.
type fakeCustomer struct {
	counts   map[schemas.EventType]int64
	days     []dayCount
	sums     map[schemas.EventType]*big.Rat
	peaks    map[schemas.EventType]*big.Rat
	spend    *big.Rat
	segments map[string]bool
	level    string
	points   Balance
	contact  Contact
}

func (f *fakeCustomer) Count(t schemas.EventType) int64 { return f.counts[t] }

func (f *fakeCustomer) CountOnDays(t schemas.EventType, ns string, from, to Date) int64 {
	var n int64
	for _, d := range f.days {
		if d.typ == t && d.ns == ns && !d.day.Before(from) && !to.Before(d.day) {
			n += d.n
		}
	}
	return n
}

func (f *fakeCustomer) LifetimeSum(t schemas.EventType) *big.Rat  { return f.sums[t] }
func (f *fakeCustomer) PreviousPeak(t schemas.EventType) *big.Rat { return f.peaks[t] }
func (f *fakeCustomer) LifetimeSpend() *big.Rat                   { return f.spend }
func (f *fakeCustomer) InSegment(id string, _ time.Time) bool     { return f.segments[id] }
func (f *fakeCustomer) Level() string                             { return f.level }
func (f *fakeCustomer) Points() Balance                           { return f.points }
func (f *fakeCustomer) Contact() Contact                          { return f.contact }

// newCustomer is a customer with some history: 5 orders (the current one
// included), 3 of them "Order.Web" in the last days, in segment "vip" and
// level "gold", opted in to e-mail and SMS.
func newCustomer() *fakeCustomer {
	return &fakeCustomer{
		counts: map[schemas.EventType]int64{schemas.TypeOrder: 5, schemas.TypeTransaction: 4,
			schemas.TypeAction: 1, schemas.TypePoints: 2, schemas.TypeRedemption: 1, schemas.TypeTransfer: 1},
		days: []dayCount{
			{schemas.TypeOrder, "Order.Web", Date{2026, 3, 1}, 1},
			{schemas.TypeOrder, "Order.Web", Date{2026, 2, 25}, 1},
			{schemas.TypeOrder, "Order.Web", Date{2026, 1, 15}, 1},
			{schemas.TypeOrder, "Order.Shop", Date{2026, 2, 28}, 4},
		},
		sums: map[schemas.EventType]*big.Rat{
			schemas.TypeOrder: dec("520.5"), schemas.TypeAction: dec("3"), schemas.TypePoints: dec("-50"),
			schemas.TypeTransaction: dec("80"), schemas.TypeTransfer: dec("10"), schemas.TypeRedemption: dec("40"),
		},
		peaks:    map[schemas.EventType]*big.Rat{schemas.TypeOrder: dec("400")},
		spend:    dec("600.5"),
		segments: map[string]bool{"vip": true},
		level:    "gold",
		points:   Balance{Balance: 250, PreviousBalance: 200, LifetimeEarned: 900},
		contact: Contact{EmailAddress: "jane@example.com", OptinEmail: true,
			MobileNumber: "+447700900123", OptinSMS: true},
	}
}

// fakeUsage implements Usage from a map.
type fakeUsage map[CapKey]int64

func (u fakeUsage) Used(k CapKey) int64 { return u[k] }

func baseEvent() *schemas.Event {
	return &schemas.Event{
		EventID: "e1", TenantID: "t", CustomerID: "c", CreatedAt: t0, ReceivedAt: t0,
		NameSpace: "Order.Web", Reference: str("ORD-1"), Campaign: str("spring"),
		Attributes: []schemas.Attribute{{Key: "channel", Value: "web"}},
		Origin:     schemas.OriginClient,
	}
}

func sampleOrder() *schemas.Order {
	return &schemas.Order{
		Total: dec("120.5"), TaxTotal: dec("10"), ShippingTotal: dec("5"), PaymentAmount: dec("100"),
		Currency: str("EUR"),
		Payment:  &schemas.Payment{Bin: str("411111"), Bank: str("Acme"), Scheme: str("visa")},
		Items: []schemas.OrderItem{
			{SKU: "A", Vendor: str("V1"), Category: str("C1"), ProductType: str("P1"),
				Quantity: dec("2"), UnitPrice: dec("10"), Total: dec("20")},
			{SKU: "B", Quantity: dec("1"), UnitPrice: dec("100.5"), Total: dec("100.5")},
			{SKU: "A", Quantity: dec("1"), UnitPrice: dec("0")},
		},
		Tags: []string{"vip", "web"},
	}
}

// eventOf returns an event of type et with a typical payload.
func eventOf(et schemas.EventType) *schemas.Event {
	ev := baseEvent()
	switch et {
	case schemas.TypeOrder:
		ev.Order = sampleOrder()
	case schemas.TypeBasket:
		ev.Basket = sampleOrder()
	case schemas.TypeTransaction:
		ev.NameSpace = "Transaction.Card"
		ev.Transaction = &schemas.Transaction{Total: dec("80"), Quantity: dec("3"),
			Payment: &schemas.Payment{Scheme: str("visa")}}
	case schemas.TypeTransfer:
		ev.Transfer = &schemas.Transfer{Total: dec("10")}
	case schemas.TypePoints:
		ev.NameSpace = "Points.Earn"
		ev.Points = &schemas.Points{Quantity: 50}
	case schemas.TypeRedemption:
		ev.Redemption = &schemas.Redemption{Quantity: 40}
	case schemas.TypeAnniversary:
		ev.NameSpace = "Customer.Anniversary"
		ev.Origin = schemas.OriginSystem
		ev.Anniversary = &schemas.Anniversary{Years: 3}
	default:
		ev.NameSpace = "Customer.Login"
		ev.Action = &schemas.Action{Amount: dec("1")}
	}
	return ev
}

// mustRule decodes body, failing the test on any problem.
func mustRule(t testing.TB, body string) *Rule {
	t.Helper()
	r, errs := DecodeRule([]byte(body), nil)
	if len(errs) > 0 {
		t.Fatalf("decoding %s: %+v", body, errs)
	}
	return r
}

// activeRule makes an Active rule with one criterion list and one action
// list, given as JSON array contents.
func activeRule(t testing.TB, id string, et schemas.EventType, criteria, actions string) *Rule {
	t.Helper()
	r := mustRule(t, `{"name":"`+id+`","eventType":"`+string(et)+`","status":"Active",`+
		`"criteria":[`+criteria+`],"actions":[`+actions+`]}`)
	r.ID, r.Version, r.CreatedAt = id, 1, t0.Add(-time.Hour)
	return r
}
