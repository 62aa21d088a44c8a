package sink

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/tallymarks/tallymarks/schemas"
)

// origin locates the Kafka record a row came from, for logs.
type origin struct {
	topic     string
	partition int32
	offset    int64
}

// column is one ClickHouse column of a table and how a row of type T fills
// it. typ is the type the migrations give the column; a test compares the
// two on a real server, so that they cannot drift apart.
type column[T any] struct {
	name  string
	typ   string
	value func(*T) any
}

// table is a ClickHouse table the sink inserts into.
type table[T any] struct {
	name    string
	origin  func(*T) origin
	columns []column[T]
}

// insertSQL returns the INSERT of t with an explicit column list, which
// ClickHouse 18.16 needs for a batch insert.
func (t *table[T]) insertSQL(database string) string {
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.name
	}
	return "INSERT INTO " + database + "." + t.name + " (" + strings.Join(names, ", ") + ")"
}

// values returns the column values of r in column order.
func (t *table[T]) values(r *T, dst []any) []any {
	dst = dst[:0]
	for _, c := range t.columns {
		dst = append(dst, c.value(r))
	}
	return dst
}

// DateTime holds whole seconds from 1970-01-01 to 2106-02-07 06:28:15 UTC.
var (
	minDateTime = time.Unix(0, 0).UTC()
	maxDateTime = time.Unix(math.MaxUint32, 0).UTC()
)

// seconds returns t for a DateTime column: in UTC and clamped to the range
// the column holds, since a value outside would wrap around silently.
func seconds(t time.Time) time.Time {
	t = t.UTC()
	switch {
	case t.Before(minDateTime):
		return minDateTime
	case t.After(maxDateTime):
		return maxDateTime
	}
	return t
}

// millis returns the millisecond part of t for the UInt16 column beside its
// DateTime column; 0 for a clamped time.
func millis(t time.Time) uint16 {
	t = seconds(t)
	return uint16(t.Nanosecond() / int(time.Millisecond))
}

// version returns the ReplacingMergeTree version of a row recorded at t.
// Records are immutable and a redelivery carries the same t, so duplicates
// are identical rows and it does not matter which one a merge keeps.
func version(t time.Time) uint64 { return uint64(max(t.UnixMilli(), 0)) }

// toDecimal converts an amount for a Decimal(18,4) column. The driver
// truncates digits beyond the scale and wraps values beyond the precision
// without a word, so both are refused here instead.
func toDecimal(r *big.Rat) (decimal.Decimal, error) {
	n, err := scaled(r)
	if err != nil {
		return decimal.Decimal{}, err
	}
	return decimal.New(n, -schemas.MaxDecimalScale), nil
}

// scaled returns r × 10^4 as an integer, failing, with errUnrepresentable,
// when r has more than four fractional digits or is 10^14 or more in
// magnitude.
func scaled(r *big.Rat) (int64, error) {
	const scale, limit = 10_000, 100_000_000_000_000
	// Fast path: a big.Rat is kept in lowest terms, so r has at most four
	// fractional digits exactly when its denominator divides 10^4.
	if num, den := r.Num(), r.Denom(); num.IsInt64() && den.IsInt64() {
		n, d := num.Int64(), den.Int64()
		switch {
		case d > scale || scale%d != 0:
			return 0, fmt.Errorf("%w: %s has more than 4 fractional digits",
				errUnrepresentable, r.RatString())
		case n >= limit*d || n <= -limit*d: // d ≤ 10^4: no overflow
			return 0, fmt.Errorf("%w: %s is beyond Decimal(18,4)",
				errUnrepresentable, r.RatString())
		}
		return n * (scale / d), nil
	}

	// A numerator or denominator this large is out of range, or has too many
	// digits, or both; the slow path says which.
	if !schemas.HasScale(r, schemas.MaxDecimalScale) {
		return 0, fmt.Errorf("%w: %s has more than 4 fractional digits",
			errUnrepresentable, r.RatString())
	}
	return 0, fmt.Errorf("%w: %s is beyond Decimal(18,4)",
		errUnrepresentable, r.RatString())
}

// decimals converts several amounts, remembering the first failure.
type decimals struct{ err error }

func (d *decimals) one(r *big.Rat) decimal.Decimal {
	v, err := toDecimal(r)
	if err != nil && d.err == nil {
		d.err = err
	}
	return v
}

// opt converts a nullable amount; nil stays NULL.
func (d *decimals) opt(r *big.Rat) *decimal.Decimal {
	if r == nil {
		return nil
	}
	v := d.one(r)
	return &v
}

func int32Ptr(p *int) *int32 {
	if p == nil {
		return nil
	}
	v := int32(*p)
	return &v
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// paymentField returns one field of an optional payment, NULL when absent.
func paymentField(p *schemas.Payment, f func(*schemas.Payment) *string) *string {
	if p == nil {
		return nil
	}
	return f(p)
}

// eventRow is one row of the events table: the event and the columns
// derived from its payload.
type eventRow struct {
	src       origin
	ev        *schemas.Event
	eventType string
	body      string

	total, taxTotal, shippingTotal, paymentAmount *decimal.Decimal
	quantity, actionAmount                        *decimal.Decimal
	currency                                      *string
	payment                                       *schemas.Payment
	actionCount                                   *int64
	pointsQuantity, redemptionQuantity            *int64
	pointsReason, redemptionReward                *string
	anniversaryYears                              *int32

	attrKeys, attrValues       []string
	itemSKUs, itemCategories   []string
	itemQuantities, itemPrices []decimal.Decimal
	itemTotals                 []decimal.Decimal
	tags                       []string
}

// newEventRow converts ev. It fails, wrapping errUnrepresentable, when an
// amount does not fit Decimal(18,4).
func newEventRow(src origin, ev *schemas.Event) (eventRow, error) {
	typ, _ := ev.Type()
	r := eventRow{src: src, ev: ev, eventType: string(typ), body: string(eventJSON(ev))}
	r.attrKeys = make([]string, len(ev.Attributes))
	r.attrValues = make([]string, len(ev.Attributes))
	for i, a := range ev.Attributes {
		r.attrKeys[i], r.attrValues[i] = a.Key, a.Value
	}

	// Only one slot is set in a valid event; each is read on its own so
	// that an invalid one still converts.
	var d decimals
	if o := ev.Order; o != nil {
		r.order(&d, o)
	}
	if o := ev.Basket; o != nil {
		r.order(&d, o)
	}
	if t := ev.Transaction; t != nil {
		r.total, r.quantity = d.opt(t.Total), d.opt(t.Quantity)
		r.currency, r.payment = t.Currency, t.Payment
	}
	if t := ev.Transfer; t != nil {
		r.total, r.currency = d.opt(t.Total), t.Currency
	}
	if a := ev.Action; a != nil {
		r.actionAmount, r.actionCount = d.opt(a.Amount), a.Count
	}
	if p := ev.Points; p != nil {
		r.pointsQuantity, r.pointsReason = &p.Quantity, p.Reason
	}
	if p := ev.Redemption; p != nil {
		r.redemptionQuantity, r.redemptionReward = &p.Quantity, p.Reward
	}
	if a := ev.Anniversary; a != nil {
		r.anniversaryYears = int32Ptr(&a.Years)
	}
	if d.err != nil {
		return eventRow{}, fmt.Errorf("converting event %s: %w", ev.EventID, d.err)
	}
	return r, nil
}

func (r *eventRow) order(d *decimals, o *schemas.Order) {
	r.total, r.taxTotal = d.opt(o.Total), d.opt(o.TaxTotal)
	r.shippingTotal, r.paymentAmount = d.opt(o.ShippingTotal), d.opt(o.PaymentAmount)
	r.currency, r.payment = o.Currency, o.Payment
	n := len(o.Items)
	r.itemSKUs, r.itemCategories = make([]string, n), make([]string, n)
	r.itemQuantities, r.itemPrices = make([]decimal.Decimal, n), make([]decimal.Decimal, n)
	r.itemTotals = make([]decimal.Decimal, n)
	for i := range o.Items {
		it := &o.Items[i]
		r.itemSKUs[i], r.itemCategories[i] = it.SKU, orEmpty(it.Category)
		r.itemQuantities[i], r.itemPrices[i] = d.one(it.Quantity), d.one(it.UnitPrice)
		r.itemTotals[i] = d.one(it.Total)
	}
	r.tags = o.Tags
}

// Column types shared by the tables.
const (
	tString   = "String"
	tNString  = "Nullable(String)"
	tTime     = "DateTime('UTC')"
	tMillis   = "UInt16"
	tVersion  = "UInt64"
	tNDecimal = "Nullable(Decimal(18, 4))"
	tDecimals = "Array(Decimal(18, 4))"
	tStrings  = "Array(String)"
	tNInt64   = "Nullable(Int64)"
	tNInt32   = "Nullable(Int32)"
	tInt64s   = "Array(Int64)"
	tInt64    = "Int64"
	tInt32    = "Int32"
)

var eventsTable = &table[eventRow]{
	name:   "events",
	origin: func(r *eventRow) origin { return r.src },
	columns: []column[eventRow]{
		{"tenant_id", tString, func(r *eventRow) any { return r.ev.TenantID }},
		{"event_id", tString, func(r *eventRow) any { return r.ev.EventID }},
		{"customer_id", tString, func(r *eventRow) any { return r.ev.CustomerID }},
		{"created_at", tTime, func(r *eventRow) any { return seconds(r.ev.CreatedAt) }},
		{"created_at_ms", tMillis, func(r *eventRow) any { return millis(r.ev.CreatedAt) }},
		{"received_at", tTime, func(r *eventRow) any { return seconds(r.ev.ReceivedAt) }},
		{"received_at_ms", tMillis, func(r *eventRow) any { return millis(r.ev.ReceivedAt) }},
		{"name_space", tString, func(r *eventRow) any { return r.ev.NameSpace }},
		{"reference", tNString, func(r *eventRow) any { return r.ev.Reference }},
		{"description", tNString, func(r *eventRow) any { return r.ev.Description }},
		{"campaign", tNString, func(r *eventRow) any { return r.ev.Campaign }},
		{"origin", tString, func(r *eventRow) any { return r.ev.Origin }},
		{"depth", tInt32, func(r *eventRow) any { return int32(r.ev.Depth) }},
		{"caused_by", tNString, func(r *eventRow) any { return r.ev.CausedBy }},
		{"event_type", tString, func(r *eventRow) any { return r.eventType }},
		{"attribute_keys", tStrings, func(r *eventRow) any { return r.attrKeys }},
		{"attribute_values", tStrings, func(r *eventRow) any { return r.attrValues }},
		{"total", tNDecimal, func(r *eventRow) any { return r.total }},
		{"tax_total", tNDecimal, func(r *eventRow) any { return r.taxTotal }},
		{"shipping_total", tNDecimal, func(r *eventRow) any { return r.shippingTotal }},
		{"payment_amount", tNDecimal, func(r *eventRow) any { return r.paymentAmount }},
		{"quantity", tNDecimal, func(r *eventRow) any { return r.quantity }},
		{"currency", tNString, func(r *eventRow) any { return r.currency }},
		{"payment_bin", tNString, func(r *eventRow) any {
			return paymentField(r.payment, func(p *schemas.Payment) *string { return p.Bin })
		}},
		{"payment_bank", tNString, func(r *eventRow) any {
			return paymentField(r.payment, func(p *schemas.Payment) *string { return p.Bank })
		}},
		{"payment_scheme", tNString, func(r *eventRow) any {
			return paymentField(r.payment, func(p *schemas.Payment) *string { return p.Scheme })
		}},
		{"action_amount", tNDecimal, func(r *eventRow) any { return r.actionAmount }},
		{"action_count", tNInt64, func(r *eventRow) any { return r.actionCount }},
		{"points_quantity", tNInt64, func(r *eventRow) any { return r.pointsQuantity }},
		{"points_reason", tNString, func(r *eventRow) any { return r.pointsReason }},
		{"redemption_quantity", tNInt64, func(r *eventRow) any { return r.redemptionQuantity }},
		{"redemption_reward", tNString, func(r *eventRow) any { return r.redemptionReward }},
		{"anniversary_years", tNInt32, func(r *eventRow) any { return r.anniversaryYears }},
		{"item_skus", tStrings, func(r *eventRow) any { return r.itemSKUs }},
		{"item_categories", tStrings, func(r *eventRow) any { return r.itemCategories }},
		{"item_quantities", tDecimals, func(r *eventRow) any { return r.itemQuantities }},
		{"item_unit_prices", tDecimals, func(r *eventRow) any { return r.itemPrices }},
		{"item_totals", tDecimals, func(r *eventRow) any { return r.itemTotals }},
		{"tags", tStrings, func(r *eventRow) any { return r.tags }},
		{"body", tString, func(r *eventRow) any { return r.body }},
		{"version", tVersion, func(r *eventRow) any { return version(r.ev.ReceivedAt) }},
	}}

// ledgerRow is one row of the ledger table.
type ledgerRow struct {
	src       origin
	e         *schemas.LedgerEntry
	lotIDs    []string
	lotPoints []int64
}

func newLedgerRow(src origin, e *schemas.LedgerEntry) ledgerRow {
	r := ledgerRow{src: src, e: e}
	r.lotIDs, r.lotPoints = make([]string, len(e.Lots)), make([]int64, len(e.Lots))
	for i, l := range e.Lots {
		r.lotIDs[i], r.lotPoints[i] = l.LotID, l.Points
	}
	return r
}

var ledgerTable = &table[ledgerRow]{
	name:   "ledger",
	origin: func(r *ledgerRow) origin { return r.src },
	columns: []column[ledgerRow]{
		{"tenant_id", tString, func(r *ledgerRow) any { return r.e.TenantID }},
		{"customer_id", tString, func(r *ledgerRow) any { return r.e.CustomerID }},
		{"entry_id", tString, func(r *ledgerRow) any { return r.e.EntryID }},
		{"type", tString, func(r *ledgerRow) any { return r.e.Type }},
		{"points", tInt64, func(r *ledgerRow) any { return r.e.Points }},
		{"balance_after", tInt64, func(r *ledgerRow) any { return r.e.BalanceAfter }},
		{"event_id", tString, func(r *ledgerRow) any { return r.e.EventID }},
		{"source", tString, func(r *ledgerRow) any { return r.e.Source }},
		{"economy_id", tNString, func(r *ledgerRow) any { return r.e.EconomyID }},
		{"rule_id", tNString, func(r *ledgerRow) any { return r.e.RuleID }},
		{"rule_version", tNInt32, func(r *ledgerRow) any { return int32Ptr(r.e.RuleVersion) }},
		{"action_index", tNInt32, func(r *ledgerRow) any { return int32Ptr(r.e.ActionIndex) }},
		{"lot_ids", tStrings, func(r *ledgerRow) any { return r.lotIDs }},
		{"lot_points", tInt64s, func(r *ledgerRow) any { return r.lotPoints }},
		{"reverses_entry_id", tNString, func(r *ledgerRow) any { return r.e.ReversesEntryID }},
		{"occurred_at", tTime, func(r *ledgerRow) any { return seconds(r.e.OccurredAt) }},
		{"occurred_at_ms", tMillis, func(r *ledgerRow) any { return millis(r.e.OccurredAt) }},
		{"recorded_at", tTime, func(r *ledgerRow) any { return seconds(r.e.RecordedAt) }},
		{"recorded_at_ms", tMillis, func(r *ledgerRow) any { return millis(r.e.RecordedAt) }},
		{"reason", tNString, func(r *ledgerRow) any { return r.e.Reason }},
		{"shortfall", tInt64, func(r *ledgerRow) any { return r.e.Shortfall }},
		{"actor", tNString, func(r *ledgerRow) any { return r.e.Actor }},
		{"version", tVersion, func(r *ledgerRow) any { return version(r.e.RecordedAt) }},
	}}

// errorRow is one row of the errors table: an error event and what it says
// about the event that failed.
type errorRow struct {
	src        origin
	ev         *schemas.Event
	failed     *schemas.Event
	failedType string
	failedJSON string
	failedRaw  string
}

// newErrorRow converts an event of the errors topic. It fails, wrapping
// errNotAnError, when the event carries no errorAction.
func newErrorRow(src origin, ev *schemas.Event) (errorRow, error) {
	if ev.ErrorAction == nil {
		typ, _ := ev.Type()
		return errorRow{}, fmt.Errorf("%w: event %s has type %q",
			errNotAnError, ev.EventID, typ)
	}
	r := errorRow{src: src, ev: ev, failed: ev.ErrorAction.Event}
	if r.failed != nil {
		typ, _ := r.failed.Type()
		r.failedType, r.failedJSON = string(typ), string(eventJSON(r.failed))
	}
	if raw := ev.ErrorAction.Raw; raw != nil {
		r.failedRaw = base64.StdEncoding.EncodeToString(raw)
	}
	return r, nil
}

// failedField returns a field of the failed event, NULL when there is none.
func (r *errorRow) failedField(f func(*schemas.Event) string) *string {
	if r.failed == nil {
		return nil
	}
	s := f(r.failed)
	return &s
}

var errorsTable = &table[errorRow]{
	name:   "errors",
	origin: func(r *errorRow) origin { return r.src },
	columns: []column[errorRow]{
		{"tenant_id", tString, func(r *errorRow) any { return r.ev.TenantID }},
		{"error_id", tString, func(r *errorRow) any { return r.ev.EventID }},
		{"customer_id", tString, func(r *errorRow) any { return r.ev.CustomerID }},
		{"created_at", tTime, func(r *errorRow) any { return seconds(r.ev.CreatedAt) }},
		{"created_at_ms", tMillis, func(r *errorRow) any { return millis(r.ev.CreatedAt) }},
		{"name_space", tString, func(r *errorRow) any { return r.ev.NameSpace }},
		{"source", tString, func(r *errorRow) any { return r.ev.ErrorAction.Source }},
		{"code", tNString, func(r *errorRow) any { return r.ev.ErrorAction.Code }},
		{"message", tString, func(r *errorRow) any { return r.ev.ErrorAction.Message }},
		{"description", tNString, func(r *errorRow) any { return r.ev.ErrorAction.Description }},
		{"caused_by", tNString, func(r *errorRow) any { return r.ev.CausedBy }},
		{"failed_event_id", tNString, func(r *errorRow) any {
			return r.failedField(func(e *schemas.Event) string { return e.EventID })
		}},
		{"failed_event_type", tString, func(r *errorRow) any { return r.failedType }},
		{"failed_name_space", tNString, func(r *errorRow) any {
			return r.failedField(func(e *schemas.Event) string { return e.NameSpace })
		}},
		{"failed_event", tString, func(r *errorRow) any { return r.failedJSON }},
		{"failed_raw", tString, func(r *errorRow) any { return r.failedRaw }},
		{"version", tVersion, func(r *errorRow) any { return version(r.ev.ReceivedAt) }},
	}}

// assessmentRow is one row of the assessments table: the event and its
// snapshot as JSON, which ReadAssessments reads back.
type assessmentRow struct {
	src      origin
	a        *schemas.Assessment
	typ      string
	event    string
	snapshot string
}

func newAssessmentRow(src origin, a *schemas.Assessment) assessmentRow {
	typ, _ := a.Event.Type()
	return assessmentRow{
		src: src, a: a, typ: string(typ),
		event:    string(eventJSON(&a.Event)),
		snapshot: string(appendJSON(make([]byte, 0, 512), reflect.ValueOf(&a.Snapshot))),
	}
}

var assessmentsTable = &table[assessmentRow]{
	name:   "assessments",
	origin: func(r *assessmentRow) origin { return r.src },
	columns: []column[assessmentRow]{
		{"tenant_id", tString, func(r *assessmentRow) any { return r.a.TenantID }},
		{"customer_id", tString, func(r *assessmentRow) any { return r.a.CustomerID }},
		{"event_id", tString, func(r *assessmentRow) any { return r.a.EventID }},
		{"event_type", tString, func(r *assessmentRow) any { return r.typ }},
		{"created_at", tTime, func(r *assessmentRow) any { return seconds(r.a.Event.CreatedAt) }},
		{"created_at_ms", tMillis, func(r *assessmentRow) any { return millis(r.a.Event.CreatedAt) }},
		{"event", tString, func(r *assessmentRow) any { return r.event }},
		{"snapshot", tString, func(r *assessmentRow) any { return r.snapshot }},
		{"version", tVersion, func(r *assessmentRow) any { return version(r.a.Event.ReceivedAt) }},
	}}
