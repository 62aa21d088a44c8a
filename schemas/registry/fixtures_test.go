package registry

import (
	"context"
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

// testTopics are the topic names every test uses.
var testTopics = topics.New(topics.DefaultPrefix)

// newTestSerde starts a Local registry and returns a Serde registered in it,
// with a client for the same registry.
func newTestSerde(t testing.TB, opts ...Option) (*Serde, *Local, *sr.Client) {
	t.Helper()
	l, err := NewLocal("")
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("closing local registry: %v", err)
		}
	})
	cl, err := l.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := New(ctx, cl, Subjects(testTopics), opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, l, cl
}

// sameJSON fails t unless got and want marshal to the same JSON: exact
// rationals and times compare by value that way, whatever their internals.
func sameJSON(t *testing.T, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Fatalf("decoded value differs\n got: %s\nwant: %s", g, w)
	}
}

func ptr[T any](v T) *T { return &v }

// newOf returns a pointer to a new zero T, as a goka codec's newValue.
func newOf[T any]() any { return new(T) }

func dec(s string) *big.Rat {
	r, err := schemas.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return r
}

// at returns a UTC time with millisecond precision, as timestamp-millis
// keeps it.
func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

const (
	tenantID   = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
	customerID = "0b8e2f9c-7d41-4a1e-9c3b-5e6f7a8b9c0d"
)

// envelope returns an event with every envelope field set and no payload.
func envelope(eventID, nameSpace string) schemas.Event {
	return schemas.Event{
		EventID:     eventID,
		TenantID:    tenantID,
		CustomerID:  customerID,
		CreatedAt:   at("2026-03-14T09:26:53.589Z"),
		ReceivedAt:  at("2026-03-14T09:26:54.001Z"),
		NameSpace:   nameSpace,
		Reference:   ptr("ORD-10042"),
		Description: ptr("Spring sale order"),
		Campaign:    ptr("spring-2026"),
		Attributes: []schemas.Attribute{
			{Key: "channel", Value: "web"},
			{Key: "store", Value: "Zürich HB"},
		},
		Origin: schemas.OriginClient,
	}
}

// orderEvent is a realistic order with three lines.
func orderEvent() *schemas.Event {
	e := envelope("3d5f7a9b-1c2e-4f60-8a1b-2c3d4e5f6a7b", "Order.Online")
	e.Order = &schemas.Order{
		Total:         dec("129.9500"),
		TaxTotal:      dec("10.39"),
		ShippingTotal: dec("4.90"),
		PaymentAmount: dec("134.85"),
		Currency:      ptr("CHF"),
		Payment:       &schemas.Payment{Bin: ptr("411111"), Bank: ptr("UBS"), Scheme: ptr("visa")},
		Items: []schemas.OrderItem{
			{SKU: "SKU-1", Name: ptr("Espresso beans 1 kg"), Category: ptr("coffee"),
				Quantity: dec("2"), UnitPrice: dec("24.50"), Total: dec("49")},
			{SKU: "SKU-2", Vendor: ptr("Acme"), ProductType: ptr("grinder"),
				Quantity: dec("1"), UnitPrice: dec("79.95"), Total: dec("79.95")},
			{SKU: "SKU-3", Quantity: dec("0.5"), UnitPrice: dec("2"), Total: dec("1")},
		},
		Tags: []string{"sale", "first-order"},
	}
	return &e
}

// errorEvent is an error event carrying the failed event, itself an error
// event carrying an order: two levels of nesting.
func errorEvent() *schemas.Event {
	inner := envelope("5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d", "Error.Assessment")
	inner.Origin = schemas.OriginSystem
	inner.Depth = 1
	inner.CausedBy = ptr("3d5f7a9b-1c2e-4f60-8a1b-2c3d4e5f6a7b")
	inner.ErrorAction = &schemas.Error{
		Event:   orderEvent(),
		Source:  "assessment",
		Code:    ptr("no_economy"),
		Message: "no economy is active at the event's createdAt",
	}
	outer := envelope("7e8f9a0b-1c2d-4e3f-9a4b-5c6d7e8f9a0b", "Error.Sink")
	outer.Origin = schemas.OriginSystem
	outer.Depth = 2
	outer.ErrorAction = &schemas.Error{
		Event:       &inner,
		Raw:         []byte{0, 0, 0, 0, 1, 0xff},
		Source:      "sink",
		Message:     "clickhouse refused the row",
		Description: ptr("code 53: type mismatch"),
	}
	return &outer
}

// nested returns an error event nesting n events below it.
func nested(n int) *schemas.Event {
	e := &schemas.Event{EventID: "leaf", NameSpace: "Customer.Login", Action: &schemas.Action{}}
	for i := range n {
		parent := &schemas.Event{EventID: "level", NameSpace: "Error.Test", Depth: i + 1}
		parent.ErrorAction = &schemas.Error{Event: e, Source: "test", Message: "wrapped"}
		e = parent
	}
	return e
}

func ledgerEntry() *schemas.LedgerEntry {
	return &schemas.LedgerEntry{
		EntryID:      "9f8e7d6c-5b4a-5392-8170-6f5e4d3c2b1a",
		TenantID:     tenantID,
		CustomerID:   customerID,
		Type:         schemas.EntryEarn,
		Points:       129,
		BalanceAfter: 1_204,
		EventID:      "3d5f7a9b-1c2e-4f60-8a1b-2c3d4e5f6a7b",
		Source:       schemas.SourceRule,
		EconomyID:    ptr("default"),
		RuleID:       ptr("double-points-march"),
		RuleVersion:  ptr(3),
		ActionIndex:  ptr(0),
		Lots:         []schemas.LotAmount{{LotID: "9f8e7d6c-5b4a-5392-8170-6f5e4d3c2b1a", Points: 129}},
		OccurredAt:   at("2026-03-14T09:26:53.589Z"),
		RecordedAt:   at("2026-03-14T09:26:55.120Z"),
		Reason:       ptr("Double points in March"),
	}
}

func deliveryRequest() *schemas.DeliveryRequest {
	return &schemas.DeliveryRequest{
		DeliveryID:      "2b3c4d5e-6f70-5819-a2b3-c4d5e6f70819",
		TenantID:        tenantID,
		CustomerID:      customerID,
		EventID:         "3d5f7a9b-1c2e-4f60-8a1b-2c3d4e5f6a7b",
		Channel:         "email",
		RuleID:          ptr("welcome-mail"),
		RuleVersion:     ptr(1),
		ActionIndex:     ptr(2),
		SubjectTemplate: ptr("Welcome, {{firstName}}!"),
		BodyTemplate:    ptr("<p>You have {{points.balance}} points.</p>"),
		Context:         `{"firstName":"Ada","points":{"balance":1204}}`,
		Attempt:         2,
		CreatedAt:       at("2026-03-14T09:26:55.120Z"),
		NotBefore:       ptr(at("2026-03-14T09:31:55.120Z")),
	}
}

func customer() *schemas.Customer {
	return &schemas.Customer{
		CustomerID:        customerID,
		TenantID:          tenantID,
		FirstName:         ptr("Ada"),
		LastName:          ptr("Lovelace"),
		DisplayName:       ptr("Ada L."),
		EmailAddress:      ptr("ada@example.com"),
		MobileNumber:      ptr("+41791234567"),
		OptinSMS:          true,
		OptinEmail:        true,
		AcceptTerms:       true,
		DateOfBirth:       ptr(at("1990-12-10T00:00:00Z")),
		Attributes:        []schemas.Attribute{{Key: "tier", Value: "gold"}},
		CreatedAt:         at("2024-01-02T08:00:00Z"),
		ChangedAt:         at("2026-03-01T12:30:00.250Z"),
		ExternalReference: ptr("CRM-778"),
	}
}

func customerState() *schemas.CustomerState {
	return &schemas.CustomerState{
		Profile: *customer(),
		Points: schemas.PointsSummary{
			Balance: 1_204, LifetimeEarned: 2_000, LifetimeSpent: 700, LifetimeExpired: 96,
		},
		Lots: []schemas.Lot{
			{LotID: "debt", EarnedAt: at("2025-11-01T00:00:00Z"), Points: -20},
			{LotID: "9f8e7d6c-5b4a-5392-8170-6f5e4d3c2b1a", EarnedAt: at("2026-03-14T09:26:53.589Z"),
				ExpiresAt: ptr(at("2027-03-14T09:26:53.589Z")), Points: 1_224},
		},
		Processed: []schemas.ProcessedEvent{{
			EventID: "3d5f7a9b-1c2e-4f60-8a1b-2c3d4e5f6a7b", Partition: 4, Offset: 918_273,
			ProcessedAt: at("2026-03-14T09:26:54.001Z"), Status: "assessed",
		}},
		RecentEntries: []schemas.LedgerEntry{*ledgerEntry()},
		Counters: []schemas.TypeCounter{{
			Type: "order", Count: 12, Sum: big.NewRat(1_234_567, 100), MaxSum: big.NewRat(1_300_000, 100),
		}},
		Windows: []schemas.NameSpaceWindow{{
			Type: "order", NameSpace: "Order.Web", Total: 12,
			FirstDay: at("2025-06-01T00:00:00Z"), LastUsed: at("2026-03-14T09:26:53.589Z"),
			Days: []schemas.DayCount{
				{Day: at("2026-03-13T00:00:00Z"), Count: 2},
				{Day: at("2026-03-14T00:00:00Z"), Count: 1},
			},
		}},
		Segments: []schemas.Membership{
			{SegmentID: "vip", AddedAt: at("2026-01-01T00:00:00Z")},
			{SegmentID: "spring", AddedAt: at("2026-03-01T00:00:00Z"), ExpiresAt: ptr(at("2026-06-01T00:00:00Z"))},
		},
		CapUsage: []schemas.CapUsage{{
			Key: "double-points-march/0/2026-03-14", Points: 40, PeriodEnd: at("2026-03-15T00:00:00Z"),
		}},
		Pending: []schemas.PendingAssessment{{
			Status: schemas.EventStatus{
				TenantID: tenantID, EventID: "3d5f7a9b-1c2e-4f60-8a1b-2c3d4e5f6a7b", CustomerID: customerID,
				Status: "accepted", Event: *orderEvent(), AssessedAt: at("2026-03-14T09:26:55.12Z"),
				LedgerEntryIDs: []string{"9f8e7d6c-5b4a-5392-8170-6f5e4d3c2b1a"},
				ErrorEventIDs:  []string{}, CausedEventIDs: []string{},
				Trace: `{"rules":[]}`,
			},
			CausalChain: []string{"welcome"},
			ReplyTo:     "api-1", CorrelationID: "c-17",
			Requests: []schemas.PendingBudget{{
				RequestID: "5e1d2c3b-4a59-4687-a7b6-c5d4e3f2a1b0", RuleID: "launch-bonus", RuleVersion: 2,
				ActionIndex: 1, Budget: 100000, Points: 50, CapKey: "launch-bonus/1/2026-03-14",
			}},
		}},
	}
}

func configRecord() *schemas.ConfigRecord {
	return &schemas.ConfigRecord{
		TenantID:  tenantID,
		Kind:      "rule",
		ID:        "double-points-march",
		Version:   3,
		Status:    ptr("Active"),
		CreatedAt: at("2026-02-20T10:00:00Z"),
		ChangedAt: at("2026-02-28T16:45:00Z"),
		Body:      `{"name":"Double points in March","priority":10}`,
	}
}

func budgetRequest() *schemas.BudgetRequest {
	return &schemas.BudgetRequest{
		RequestID: "5e1d2c3b-4a59-4687-a7b6-c5d4e3f2a1b0", TenantID: tenantID, CustomerID: customerID,
		EventID: "3d5f7a9b-1c2e-4f60-8a1b-2c3d4e5f6a7b", RuleID: "launch-bonus", RuleVersion: 2,
		ActionIndex: 1, Budget: 100000, Points: 50, RequestedAt: at("2026-03-14T09:26:55.12Z"),
	}
}

func budgetGrant() *schemas.BudgetGrant {
	return &schemas.BudgetGrant{
		RequestID: "5e1d2c3b-4a59-4687-a7b6-c5d4e3f2a1b0", TenantID: tenantID, CustomerID: customerID,
		EventID: "3d5f7a9b-1c2e-4f60-8a1b-2c3d4e5f6a7b", RuleID: "launch-bonus", RuleVersion: 2,
		ActionIndex: 1, Requested: 50, Granted: 20, Budget: 100000, Used: 100000,
		GrantedAt: at("2026-03-14T09:26:55.2Z"),
	}
}

func budgetState() *schemas.BudgetState {
	return &schemas.BudgetState{
		Used:   []schemas.BudgetUse{{ActionIndex: 1, Points: 100000}},
		Recent: []schemas.RecentGrant{{RequestID: uuid.MustParse("5e1d2c3b-4a59-4687-a7b6-c5d4e3f2a1b0"), Granted: 20}},
	}
}

func configRequest() *schemas.ConfigRequest {
	return &schemas.ConfigRequest{
		RequestID: "7a0e4b1c-2d3f-4e5a-8b6c-9d0e1f2a3b4c", Record: *configRecord(),
		ExpectedVersion: 2, ExpectedChangedAt: ptr(at("2026-02-27T09:00:00Z")), ReplyTo: "api-1",
	}
}

func configReply() *schemas.ConfigReply {
	return &schemas.ConfigReply{
		RequestID: "7a0e4b1c-2d3f-4e5a-8b6c-9d0e1f2a3b4c", Status: "version_conflict", Offset: -1, CurrentVersion: 4,
	}
}
