package schemas

import (
	"math/big"
	"time"
)

// Event is the envelope of event.avsc: common fields and exactly one
// non-nil payload. Decimals are exact rationals, never floats.
type Event struct {
	EventID     string      `avro:"eventId"`
	TenantID    string      `avro:"tenantId"`
	CustomerID  string      `avro:"customerId"`
	CreatedAt   time.Time   `avro:"createdAt"`
	ReceivedAt  time.Time   `avro:"receivedAt"`
	NameSpace   string      `avro:"nameSpace"`
	Reference   *string     `avro:"reference"`
	Description *string     `avro:"description"`
	Campaign    *string     `avro:"campaign"`
	Attributes  []Attribute `avro:"attributes"`
	Origin      string      `avro:"origin"`
	Depth       int         `avro:"depth"`
	CausedBy    *string     `avro:"causedBy"`

	Action      *Action      `avro:"action"`
	Order       *Order       `avro:"order"`
	Transaction *Transaction `avro:"transaction"`
	Transfer    *Transfer    `avro:"transfer"`
	Points      *Points      `avro:"points"`
	Redemption  *Redemption  `avro:"redemption"`
	Basket      *Order       `avro:"basket"`
	Anniversary *Anniversary `avro:"anniversary"`
	ErrorAction *Error       `avro:"errorAction"`
}

// Event origins.
const (
	OriginClient = "client"
	OriginSystem = "system"
)

// EventType names the payload slot of an event, as rules name it.
type EventType string

// The nine event types, named after their payload slots.
const (
	TypeAction      EventType = "action"
	TypeOrder       EventType = "order"
	TypeTransaction EventType = "transaction"
	TypeTransfer    EventType = "transfer"
	TypePoints      EventType = "points"
	TypeRedemption  EventType = "redemption"
	TypeBasket      EventType = "basket"
	TypeAnniversary EventType = "anniversary"
	TypeError       EventType = "errorAction"
)

// Type returns the slot that carries the event's payload and how many slots
// are set. A valid event has exactly one.
func (e *Event) Type() (t EventType, slots int) {
	set := func(ok bool, typ EventType) {
		if ok {
			t = typ
			slots++
		}
	}
	set(e.Action != nil, TypeAction)
	set(e.Order != nil, TypeOrder)
	set(e.Transaction != nil, TypeTransaction)
	set(e.Transfer != nil, TypeTransfer)
	set(e.Points != nil, TypePoints)
	set(e.Redemption != nil, TypeRedemption)
	set(e.Basket != nil, TypeBasket)
	set(e.Anniversary != nil, TypeAnniversary)
	set(e.ErrorAction != nil, TypeError)
	return t, slots
}

// Attribute is a free key/value pair on an event or a profile.
type Attribute struct {
	Key   string `avro:"key"`
	Value string `avro:"value"`
}

// Action is the payload of a generic customer action.
type Action struct {
	Amount *big.Rat `avro:"amount"`
	Count  *int64   `avro:"count"`
}

// Order is the payload of an order, and of a basket.
type Order struct {
	Total         *big.Rat    `avro:"total"`
	TaxTotal      *big.Rat    `avro:"taxTotal"`
	ShippingTotal *big.Rat    `avro:"shippingTotal"`
	PaymentAmount *big.Rat    `avro:"paymentAmount"`
	Currency      *string     `avro:"currency"`
	Payment       *Payment    `avro:"payment"`
	Items         []OrderItem `avro:"items"`
	Tags          []string    `avro:"tags"`
}

// Payment describes how an order or transaction was paid.
type Payment struct {
	Bin    *string `avro:"bin"`
	Bank   *string `avro:"bank"`
	Scheme *string `avro:"scheme"`
}

// OrderItem is one line of an order or basket.
type OrderItem struct {
	SKU         string   `avro:"sku"`
	Name        *string  `avro:"name"`
	Category    *string  `avro:"category"`
	ProductType *string  `avro:"productType"`
	Vendor      *string  `avro:"vendor"`
	Quantity    *big.Rat `avro:"quantity"`
	UnitPrice   *big.Rat `avro:"unitPrice"`
	Total       *big.Rat `avro:"total"`
}

// Transaction is the payload of a card or account transaction.
type Transaction struct {
	Total    *big.Rat `avro:"total"`
	Quantity *big.Rat `avro:"quantity"`
	Currency *string  `avro:"currency"`
	Payment  *Payment `avro:"payment"`
}

// Transfer records a movement of funds; it never moves points.
type Transfer struct {
	Total       *big.Rat `avro:"total"`
	Currency    *string  `avro:"currency"`
	FromAccount *string  `avro:"fromAccount"`
	ToAccount   *string  `avro:"toAccount"`
}

// Points earns (positive quantity) or spends (negative) points directly.
type Points struct {
	Quantity int64   `avro:"quantity"`
	Reason   *string `avro:"reason"`
}

// Redemption spends quantity points on a reward.
type Redemption struct {
	Quantity int64   `avro:"quantity"`
	Reward   *string `avro:"reward"`
}

// Anniversary is made by the scheduler on each anniversary of joining.
type Anniversary struct {
	Years int `avro:"years"`
}

// Error describes a failure to create, assess or fulfil an event.
type Error struct {
	Event       *Event  `avro:"event"`
	Raw         []byte  `avro:"raw"`
	Source      string  `avro:"source"`
	Code        *string `avro:"code"`
	Message     string  `avro:"message"`
	Description *string `avro:"description"`
}

// LedgerEntry is one immutable change of points (ledger_entry.avsc).
type LedgerEntry struct {
	EntryID         string      `avro:"entryId"`
	TenantID        string      `avro:"tenantId"`
	CustomerID      string      `avro:"customerId"`
	Type            string      `avro:"type"`
	Points          int64       `avro:"points"`
	BalanceAfter    int64       `avro:"balanceAfter"`
	EventID         string      `avro:"eventId"`
	Source          string      `avro:"source"`
	EconomyID       *string     `avro:"economyId"`
	RuleID          *string     `avro:"ruleId"`
	RuleVersion     *int        `avro:"ruleVersion"`
	ActionIndex     *int        `avro:"actionIndex"`
	Lots            []LotAmount `avro:"lots"`
	ReversesEntryID *string     `avro:"reversesEntryId"`
	OccurredAt      time.Time   `avro:"occurredAt"`
	RecordedAt      time.Time   `avro:"recordedAt"`
	Reason          *string     `avro:"reason"`
	Shortfall       int64       `avro:"shortfall"`
	Actor           *string     `avro:"actor"`
}

// Ledger entry types.
const (
	EntryEarn    = "earn"
	EntrySpend   = "spend"
	EntryExpire  = "expire"
	EntryReverse = "reverse"
	EntryAdjust  = "adjust"
)

// Ledger entry sources.
const (
	SourceBase       = "base"
	SourceRule       = "rule"
	SourcePoints     = "points"
	SourceRedemption = "redemption"
	SourceExpiry     = "expiry"
	SourceReversal   = "reversal"
	SourceAdjustment = "adjustment"
)

// LotAmount is the signed change one ledger entry made to one lot.
type LotAmount struct {
	LotID  string `avro:"lotId"`
	Points int64  `avro:"points"`
}

// DeliveryRequest is a webhook, e-mail or SMS to send (delivery_request.avsc).
type DeliveryRequest struct {
	DeliveryID      string     `avro:"deliveryId"`
	TenantID        string     `avro:"tenantId"`
	CustomerID      string     `avro:"customerId"`
	EventID         string     `avro:"eventId"`
	Channel         string     `avro:"channel"`
	RuleID          *string    `avro:"ruleId"`
	RuleVersion     *int       `avro:"ruleVersion"`
	ActionIndex     *int       `avro:"actionIndex"`
	WebhookID       *string    `avro:"webhookId"`
	SubjectTemplate *string    `avro:"subjectTemplate"`
	BodyTemplate    *string    `avro:"bodyTemplate"`
	Context         string     `avro:"context"`
	Attempt         int        `avro:"attempt"`
	CreatedAt       time.Time  `avro:"createdAt"`
	NotBefore       *time.Time `avro:"notBefore"`
}

// Customer is a customer's profile (customer.avsc).
type Customer struct {
	CustomerID        string      `avro:"customerId"`
	TenantID          string      `avro:"tenantId"`
	FirstName         *string     `avro:"firstName"`
	LastName          *string     `avro:"lastName"`
	DisplayName       *string     `avro:"displayName"`
	EmailAddress      *string     `avro:"emailAddress"`
	IsAccountLocked   bool        `avro:"isAccountLocked"`
	MobileNumber      *string     `avro:"mobileNumber"`
	OptinSMS          bool        `avro:"optinSms"`
	OptinEmail        bool        `avro:"optinEmail"`
	AcceptTerms       bool        `avro:"acceptTerms"`
	DateOfBirth       *time.Time  `avro:"dateOfBirth"`
	Attributes        []Attribute `avro:"attributes"`
	CreatedAt         time.Time   `avro:"createdAt"`
	ChangedAt         time.Time   `avro:"changedAt"`
	ContactPhone      *string     `avro:"contactPhone"`
	ExternalReference *string     `avro:"externalReference"`
	ExternalStatus    *string     `avro:"externalStatus"`
}

// CustomerState is the customer processor's value for one customer
// (customer_state.avsc).
type CustomerState struct {
	Profile       Customer          `avro:"profile"`
	Points        PointsSummary     `avro:"points"`
	Lots          []Lot             `avro:"lots"`
	Processed     []ProcessedEvent  `avro:"processed"`
	RecentEntries []LedgerEntry     `avro:"recentEntries"`
	Counters      []TypeCounter     `avro:"counters"`
	Windows       []NameSpaceWindow `avro:"windows"`
	Segments      []Membership      `avro:"segments"`
	CapUsage      []CapUsage        `avro:"capUsage"`
	// Pending lists the events whose budgeted awards wait for the budget
	// keeper, oldest first.
	Pending []PendingAssessment `avro:"pending"`
}

// PendingAssessment is an event waiting for budget grants. Status is what
// GET /events/{eventId} shows meanwhile; it becomes assessed once every
// request is settled.
type PendingAssessment struct {
	Status        EventStatus     `avro:"status"`
	CausalChain   []string        `avro:"causalChain"`
	ReplyTo       string          `avro:"replyTo"`
	CorrelationID string          `avro:"correlationId"`
	Requests      []PendingBudget `avro:"requests"`
}

// PendingBudget is one unsettled budget request of a pending event.
type PendingBudget struct {
	RequestID   string `avro:"requestId"`
	RuleID      string `avro:"ruleId"`
	RuleVersion int    `avro:"ruleVersion"`
	ActionIndex int    `avro:"actionIndex"`
	Budget      int64  `avro:"budget"`
	Points      int64  `avro:"points"`
	CapKey      string `avro:"capKey"`
}

// TypeCounter counts a customer's client events of one type and sums their
// amounts.
type TypeCounter struct {
	Type   string   `avro:"type"`
	Count  int64    `avro:"count"`
	Sum    *big.Rat `avro:"sum"`
	MaxSum *big.Rat `avro:"maxSum"`
}

// NameSpaceWindow holds daily counts of one type and nameSpace.
type NameSpaceWindow struct {
	Type      string     `avro:"type"`
	NameSpace string     `avro:"nameSpace"`
	Total     int64      `avro:"total"`
	FirstDay  time.Time  `avro:"firstDay"`
	LastUsed  time.Time  `avro:"lastUsed"`
	Days      []DayCount `avro:"days"`
}

// DayCount is the number of events on one local day.
type DayCount struct {
	Day   time.Time `avro:"day"`
	Count int32     `avro:"count"`
}

// Membership is a customer's membership of a segment.
type Membership struct {
	SegmentID string     `avro:"segmentId"`
	AddedAt   time.Time  `avro:"addedAt"`
	ExpiresAt *time.Time `avro:"expiresAt"`
}

// CapUsage is what one customer used of a per-customer cap in one period.
type CapUsage struct {
	Key       string    `avro:"key"`
	Points    int64     `avro:"points"`
	PeriodEnd time.Time `avro:"periodEnd"`
}

// PointsSummary holds a customer's balance and lifetime figures.
type PointsSummary struct {
	Balance         int64 `avro:"balance"`
	LifetimeEarned  int64 `avro:"lifetimeEarned"`
	LifetimeSpent   int64 `avro:"lifetimeSpent"`
	LifetimeExpired int64 `avro:"lifetimeExpired"`
}

// Lot is a parcel of earned points that is spent, expired and reversed as a
// unit of account.
type Lot struct {
	LotID     string     `avro:"lotId"`
	EarnedAt  time.Time  `avro:"earnedAt"`
	ExpiresAt *time.Time `avro:"expiresAt"`
	Points    int64      `avro:"points"`
}

// ProcessedEvent is one entry of a customer's dedup window.
type ProcessedEvent struct {
	EventID       string    `avro:"eventId"`
	Partition     int32     `avro:"partition"`
	Offset        int64     `avro:"offset"`
	ProcessedAt   time.Time `avro:"processedAt"`
	Status        string    `avro:"status"`
	Code          *string   `avro:"code"`
	BalanceBefore int64     `avro:"balanceBefore"`
	BalanceAfter  int64     `avro:"balanceAfter"`
}

// ConfigRecord is one configuration object on the config topic
// (config_record.avsc). Body holds the object as JSON.
type ConfigRecord struct {
	TenantID  string    `avro:"tenantId"`
	Kind      string    `avro:"kind"`
	ID        string    `avro:"id"`
	Version   int       `avro:"version"`
	Status    *string   `avro:"status"`
	CreatedAt time.Time `avro:"createdAt"`
	ChangedAt time.Time `avro:"changedAt"`
	Body      string    `avro:"body"`
}

// Reply is the processor's answer to a waiting API instance (reply.avsc).
type Reply struct {
	CorrelationID   string  `avro:"correlationId"`
	EventID         string  `avro:"eventId"`
	TenantID        string  `avro:"tenantId"`
	CustomerID      string  `avro:"customerId"`
	Status          string  `avro:"status"`
	Code            *string `avro:"code"`
	IsExisting      bool    `avro:"isExisting"`
	PreviousBalance int64   `avro:"previousBalance"`
	Balance         int64   `avro:"balance"`
	// Result is a basket's answer as JSON, {potentialPoints, outcomes,
	// matchedRules} with decimals as exact JSON numbers; "" for other
	// events.
	Result string `avro:"result"`
}

// EventStatus records what became of one event (event_status.avsc).
type EventStatus struct {
	TenantID       string    `avro:"tenantId"`
	EventID        string    `avro:"eventId"`
	CustomerID     string    `avro:"customerId"`
	Status         string    `avro:"status"`
	Code           *string   `avro:"code"`
	Event          Event     `avro:"event"`
	AssessedAt     time.Time `avro:"assessedAt"`
	LedgerEntryIDs []string  `avro:"ledgerEntryIds"`
	ErrorEventIDs  []string  `avro:"errorEventIds"`
	CausedEventIDs []string  `avro:"causedEventIds"`
	Trace          string    `avro:"trace"`
}

// BudgetRequest asks the budget keeper for points (budget_request.avsc).
type BudgetRequest struct {
	RequestID   string    `avro:"requestId"`
	TenantID    string    `avro:"tenantId"`
	CustomerID  string    `avro:"customerId"`
	EventID     string    `avro:"eventId"`
	RuleID      string    `avro:"ruleId"`
	RuleVersion int       `avro:"ruleVersion"`
	ActionIndex int       `avro:"actionIndex"`
	Budget      int64     `avro:"budget"`
	Points      int64     `avro:"points"`
	RequestedAt time.Time `avro:"requestedAt"`
}

// BudgetGrant is the budget keeper's answer (budget_grant.avsc).
type BudgetGrant struct {
	RequestID   string    `avro:"requestId"`
	TenantID    string    `avro:"tenantId"`
	CustomerID  string    `avro:"customerId"`
	EventID     string    `avro:"eventId"`
	RuleID      string    `avro:"ruleId"`
	RuleVersion int       `avro:"ruleVersion"`
	ActionIndex int       `avro:"actionIndex"`
	Requested   int64     `avro:"requested"`
	Granted     int64     `avro:"granted"`
	Budget      int64     `avro:"budget"`
	Used        int64     `avro:"used"`
	GrantedAt   time.Time `avro:"grantedAt"`
}

// BudgetState is the budget keeper's value for one rule
// (budget_state.avsc).
type BudgetState struct {
	Used   []BudgetUse   `avro:"used"`
	Recent []RecentGrant `avro:"recent"`
}

// BudgetUse is the points granted under one action's budget.
type BudgetUse struct {
	ActionIndex int   `avro:"actionIndex"`
	Points      int64 `avro:"points"`
}

// RecentGrant remembers what one request was granted. RequestID is the
// request's UUID as 16 bytes.
type RecentGrant struct {
	RequestID [16]byte `avro:"requestId"`
	Granted   int64    `avro:"granted"`
}

// Assessment is one assessed client event with the customer as the rules
// saw it (assessment.avsc), for backtests.
type Assessment struct {
	TenantID   string           `avro:"tenantId"`
	CustomerID string           `avro:"customerId"`
	EventID    string           `avro:"eventId"`
	Event      Event            `avro:"event"`
	Snapshot   CustomerSnapshot `avro:"snapshot"`
}

// CustomerSnapshot is what the rules engine read of a customer for one
// event: the event counted and its own points applied, no rule yet.
type CustomerSnapshot struct {
	TimeZone        string           `avro:"timeZone"`
	BasePoints      int64            `avro:"basePoints"`
	Counters        []TypeCounter    `avro:"counters"`
	PeakBefore      *big.Rat         `avro:"peakBefore"`
	Window          *NameSpaceWindow `avro:"window"`
	Segments        []string         `avro:"segments"`
	Level           *string          `avro:"level"`
	Balance         int64            `avro:"balance"`
	PreviousBalance int64            `avro:"previousBalance"`
	LifetimeEarned  int64            `avro:"lifetimeEarned"`
	EmailAddress    *string          `avro:"emailAddress"`
	OptinEmail      bool             `avro:"optinEmail"`
	MobileNumber    *string          `avro:"mobileNumber"`
	OptinSMS        bool             `avro:"optinSms"`
}

// ConfigRequest is an Admin API write for the config writer
// (config_request.avsc).
type ConfigRequest struct {
	RequestID       string       `avro:"requestId"`
	Record          ConfigRecord `avro:"record"`
	Delete          bool         `avro:"delete"`
	ExpectedVersion int          `avro:"expectedVersion"`
	// ExpectedChangedAt is the changedAt the object must still have; nil
	// with ExpectedVersion 0 for an object that must not exist.
	ExpectedChangedAt *time.Time `avro:"expectedChangedAt"`
	ReplyTo           string     `avro:"replyTo"`
}

// ConfigReply is the config writer's answer (config_reply.avsc).
type ConfigReply struct {
	RequestID      string `avro:"requestId"`
	Status         string `avro:"status"`
	Offset         int64  `avro:"offset"`
	CurrentVersion int    `avro:"currentVersion"`
}
