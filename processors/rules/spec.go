package rules

import (
	"strings"

	"github.com/tallymarks/tallymarks/schemas"
)

// typeSet is a set of event types, one bit per rule event type.
type typeSet uint16

// ruleTypes are the event types a rule may name: every payload slot except
// errorAction, in the order messages list them.
var ruleTypes = []schemas.EventType{
	schemas.TypeAction, schemas.TypeOrder, schemas.TypeTransaction, schemas.TypeTransfer,
	schemas.TypePoints, schemas.TypeRedemption, schemas.TypeBasket, schemas.TypeAnniversary,
}

func typeBit(t schemas.EventType) typeSet {
	for i, rt := range ruleTypes {
		if rt == t {
			return 1 << i
		}
	}
	return 0
}

func setOf(types ...schemas.EventType) typeSet {
	var s typeSet
	for _, t := range types {
		s |= typeBit(t)
	}
	return s
}

func (s typeSet) has(t schemas.EventType) bool { return t != "" && s&typeBit(t) != 0 }

func (s typeSet) String() string {
	var names []string
	for _, t := range ruleTypes {
		if s.has(t) {
			names = append(names, string(t))
		}
	}
	return strings.Join(names, ", ")
}

// Event type sets of SPEC section 3, with finding 10 for baskets.
var (
	// shared are the types of the shared criteria table.
	shared = setOf(schemas.TypeAction, schemas.TypeOrder, schemas.TypeTransaction,
		schemas.TypeTransfer, schemas.TypePoints, schemas.TypeRedemption)
	// sharedPlus adds Basket (finding 10) and Anniversary ("Anniversary
	// adds yearsSinceJoining" to the shared criteria), for the criteria
	// that do not count events.
	sharedPlus   = shared | setOf(schemas.TypeBasket, schemas.TypeAnniversary)
	orderLike    = setOf(schemas.TypeOrder, schemas.TypeBasket)
	spendTypes   = setOf(schemas.TypeOrder, schemas.TypeTransaction, schemas.TypeBasket)
	stateful     = sharedPlus &^ setOf(schemas.TypeBasket) // actions that change state or notify
	allRuleTypes = sharedPlus
)

// kind is the JSON shape and constraint of a parameter.
type kind uint8

const (
	kString    kind = iota // non-empty string, at most maxString bytes
	kText                  // template: non-empty string, at most maxTemplate bytes
	kEnum                  // one of param.enum
	kInt                   // integer in [param.min, param.max]
	kDecimal               // JSON number, at most 4 fractional digits, see decimalRule
	kStrings               // non-empty array of kString
	kWindow                // xOverT period {n, unit: day|month}
	kDate                  // YYYY-MM-DD
	kPeriodCap             // {points, period: {n: 1, unit}}
)

// decimalRule constrains a kDecimal parameter.
type decimalRule uint8

const (
	decAny      decimalRule = iota // any decimal: comparison values
	decRate                        // 0 < v ≤ maxRate: pointsPerUnit
	decFactor                      // 1 < v ≤ maxFactor: multiplyBasePoints
	decPercent                     // 0 < v ≤ 100: percentage discounts
	decPositive                    // 0 < v: amount discounts
)

// Limits on parameters. They keep every computation inside int64 and
// every stored rule small.
const (
	maxString   = 1024      // bytes of a name, id, value or list entry (SPEC section 10)
	maxTemplate = 16 << 10  // bytes of an e-mail or SMS template
	maxList     = 1000      // entries of skus, vendors, categories, productTypes
	maxItems    = 50        // criteria, and actions, per rule
	maxPoints   = 1e9       // points, maxPerEvent, per-period points (finding 2's quantity bound)
	maxBudget   = 1e15      // budget
	maxCount    = 1e9       // n and x of counting criteria
	maxRate     = 10000     // pointsPerUnit: 10^14 × 10^4 still fits in int64
	maxFactor   = 100       // multiplyBasePoints factor
	maxDays     = 366       // xOverT period in days (finding 12: at most 12 months)
	maxMonths   = 12        // xOverT period in months
	maxPriority = 1_000_000 // |priority|
)

// param describes one parameter of a criterion or action.
type param struct {
	name     string
	kind     kind
	required bool
	enum     []string
	min, max int64
	dec      decimalRule
	// def is the value an absent optional kEnum parameter takes.
	def string
}

// spec describes a criterion or action type.
type spec struct {
	params []param
	types  typeSet
	// points marks the actions that award points: they take caps and are
	// skipped on refunds.
	points bool
}

var (
	compareOps = []string{"gte", "gt", "lte", "lt", "eq"}

	pOp     = param{name: "op", kind: kEnum, required: true, enum: compareOps}
	pAmount = param{name: "value", kind: kDecimal, required: true, dec: decAny}
	pText   = param{name: "value", kind: kString, required: true}
	pCount  = func(name string) param {
		return param{name: name, kind: kInt, required: true, min: 1, max: maxCount}
	}
	pStr  = func(name string) param { return param{name: name, kind: kString, required: true} }
	pList = func(name string) param { return param{name: name, kind: kStrings, required: true} }

	compare = func(types typeSet) spec { return spec{params: []param{pOp, pAmount}, types: types} }

	capParams = []param{
		{name: "maxPerEvent", kind: kInt, min: 1, max: maxPoints},
		{name: "maxPerCustomerPerPeriod", kind: kPeriodCap},
		{name: "budget", kind: kInt, min: 1, max: maxBudget},
	}
	withCaps = func(ps ...param) []param { return append(ps, capParams...) }
)

// criterionSpecs are the criteria of SPEC section 3, with finding 12's
// parameter names.
var criterionSpecs = map[string]spec{
	// Shared.
	"everyEvent": {types: sharedPlus},
	"nameSpace": {params: []param{
		{name: "op", kind: kEnum, required: true, enum: []string{"equals", "beginsWith"}}, pText,
	}, types: sharedPlus},
	"reference":     {params: []param{pText}, types: sharedPlus},
	"campaign":      {params: []param{pText}, types: sharedPlus},
	"inSegment":     {params: []param{pStr("segmentId")}, types: sharedPlus},
	"notInSegment":  {params: []param{pStr("segmentId")}, types: sharedPlus},
	"nthEvent":      {params: []param{pCount("n")}, types: shared},
	"everyNthEvent": {params: []param{pCount("n")}, types: shared},
	"xOverT": {params: []param{
		pCount("x"), {name: "period", kind: kWindow, required: true},
	}, types: shared},
	"xSinceT": {params: []param{
		pCount("x"), {name: "since", kind: kDate, required: true},
	}, types: shared},
	"attribute": {params: []param{
		pStr("key"),
		{name: "op", kind: kEnum, required: true, enum: []string{"equals", "exists"}},
		{name: "value", kind: kString},
	}, types: sharedPlus},
	"lifetimeValue":     compare(shared | setOf(schemas.TypeBasket)),
	"lifetimeThreshold": {params: []param{pAmount}, types: shared},
	"lifetimeSpend":     compare(sharedPlus),
	"level":             {params: []param{pStr("levelId")}, types: sharedPlus},

	// Order and Basket; total and payment also Transaction.
	"total":           compare(spendTypes),
	"taxTotal":        compare(orderLike),
	"shippingTotal":   compare(orderLike),
	"paymentAmount":   compare(orderLike),
	"skuIn":           {params: []param{pList("skus")}, types: orderLike},
	"vendorIn":        {params: []param{pList("vendors")}, types: orderLike},
	"categoryIn":      {params: []param{pList("categories")}, types: orderLike},
	"productTypeIn":   {params: []param{pList("productTypes")}, types: orderLike},
	"productQuantity": {params: []param{pStr("sku"), pOp, pAmount}, types: orderLike},
	"payment": {params: []param{
		{name: "field", kind: kEnum, required: true, enum: []string{"bin", "bank", "scheme"}}, pText,
	}, types: spendTypes},
	"tagPresent": {params: []param{pStr("tag")}, types: orderLike},
	"tagCount":   compare(orderLike),

	// Transaction quantity, and Points.
	"quantity":        compare(setOf(schemas.TypeTransaction, schemas.TypePoints)),
	"previousBalance": compare(setOf(schemas.TypePoints)),
	"balance":         compare(setOf(schemas.TypePoints)),
	"lifetimeEarned":  compare(setOf(schemas.TypePoints)),

	// Anniversary.
	"yearsSinceJoining": compare(setOf(schemas.TypeAnniversary)),
}

// Values of pointsPerSpend's of and rounding.
const (
	OfTotal                 = "total"
	OfPaymentAmount         = "paymentAmount"
	OfItemsTotal            = "itemsTotal"
	OfTotalExTaxAndShipping = "totalExTaxAndShipping"

	RoundDown    = "down"
	RoundNearest = "nearest"
	RoundUp      = "up"
)

// actionSpecs are the actions of SPEC section 3's table, with finding 10
// for baskets and finding 14 for caps.
var actionSpecs = map[string]spec{
	"awardPoints": {params: withCaps(
		param{name: "points", kind: kInt, required: true, min: 1, max: maxPoints},
	), types: allRuleTypes, points: true},
	"pointsPerSpend": {params: withCaps(
		param{name: "pointsPerUnit", kind: kDecimal, required: true, dec: decRate},
		param{name: "of", kind: kEnum, def: OfTotal, enum: []string{
			OfTotal, OfPaymentAmount, OfItemsTotal, OfTotalExTaxAndShipping}},
		param{name: "rounding", kind: kEnum, def: RoundDown, enum: []string{
			RoundDown, RoundNearest, RoundUp}},
	), types: spendTypes, points: true},
	"multiplyBasePoints": {params: withCaps(
		param{name: "factor", kind: kDecimal, required: true, dec: decFactor},
	), types: setOf(schemas.TypeOrder, schemas.TypeTransaction), points: true},
	"addToSegment":      {params: []param{pStr("segmentId")}, types: stateful},
	"removeFromSegment": {params: []param{pStr("segmentId")}, types: stateful},
	"callWebhook":       {params: []param{pStr("webhookId")}, types: allRuleTypes},
	"sendEmail": {params: []param{
		{name: "subjectTemplate", kind: kText, required: true},
		{name: "bodyTemplate", kind: kText, required: true},
	}, types: stateful},
	"sendSms": {params: []param{
		{name: "bodyTemplate", kind: kText, required: true},
	}, types: stateful},
	"createTrigger": {params: []param{pStr("triggerId")}, types: stateful},

	// Basket outcomes.
	"basketDiscountPercent":   basketOutcome(decPercent),
	"basketDiscountAmount":    basketOutcome(decPositive),
	"deliveryDiscountPercent": basketOutcome(decPercent),
	"deliveryDiscountAmount":  basketOutcome(decPositive),
	"productDiscountPercent":  basketOutcome(decPercent, pStr("sku")),
	"productDiscountAmount":   basketOutcome(decPositive, pStr("sku")),
	"voucherCode":             {params: []param{pStr("code")}, types: setOf(schemas.TypeBasket)},
	"message":                 {params: []param{pStr("text")}, types: setOf(schemas.TypeBasket)},
}

func basketOutcome(rule decimalRule, extra ...param) spec {
	extra = append(extra, param{name: "value", kind: kDecimal, required: true, dec: rule})
	return spec{params: extra, types: setOf(schemas.TypeBasket)}
}

// CriterionTypes returns the names of every criterion type, for
// documentation and tests.
func CriterionTypes() []string { return sortedKeys(criterionSpecs) }

// ActionTypes returns the names of every action type.
func ActionTypes() []string { return sortedKeys(actionSpecs) }

// CriterionAllowed reports whether criterion type typ may be used by a rule
// of event type et.
func CriterionAllowed(typ string, et schemas.EventType) bool {
	sp, ok := criterionSpecs[typ]
	return ok && sp.types.has(et)
}

// ActionAllowed reports whether action type typ may be used by a rule of
// event type et.
func ActionAllowed(typ string, et schemas.EventType) bool {
	sp, ok := actionSpecs[typ]
	return ok && sp.types.has(et)
}
