package rules

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/tallymarks/tallymarks/schemas"
)

// criteria evaluates every criterion of r, so that the trace shows each
// one, and reports whether all held.
func (a *assessor) criteria(r *Rule, rt *RuleTrace) bool {
	all := len(r.Criteria) > 0
	for i := range r.Criteria {
		c := &r.Criteria[i]
		held, detail := a.criterion(c)
		rt.Criteria = append(rt.Criteria, CriterionTrace{Index: i, Type: c.Type, Held: held, Detail: detail})
		all = all && held
	}
	return all
}

// criterion evaluates one criterion: whether it holds, and the figures it
// compared, for the trace.
func (a *assessor) criterion(c *Criterion) (bool, string) {
	ev := a.ev
	switch c.Type {
	case "everyEvent":
		return true, "every event"
	case "nameSpace":
		held := ev.NameSpace == c.Value
		if c.Op == "beginsWith" {
			held = strings.HasPrefix(ev.NameSpace, c.Value)
		}
		return held, fmt.Sprintf("nameSpace %q %s %q", ev.NameSpace, c.Op, c.Value)
	case "reference":
		return textEquals("reference", ev.Reference, c.Value)
	case "campaign":
		return textEquals("campaign", ev.Campaign, c.Value)
	case "inSegment", "notInSegment":
		in := a.inSegment(c.SegmentID)
		detail := "member of " + c.SegmentID
		if !in {
			detail = "not a member of " + c.SegmentID
		}
		return in == (c.Type == "inSegment"), detail
	case "attribute":
		return attribute(ev.Attributes, c)
	case "level":
		lvl := a.cust.Level()
		return lvl == c.LevelID, fmt.Sprintf("level %q, want %q", lvl, c.LevelID)
	case "nthEvent", "everyNthEvent", "xOverT", "xSinceT", "lifetimeThreshold":
		return a.counting(c)
	case "lifetimeValue":
		t := a.typ
		if t == schemas.TypeBasket {
			t = schemas.TypeOrder // a basket is an order not yet placed
		}
		return compareRat("lifetime "+string(t)+" sum", a.cust.LifetimeSum(t), c)
	case "lifetimeSpend":
		return compareRat("lifetime spend", a.cust.LifetimeSpend(), c)
	}
	if held, detail, ok := a.payloadCriterion(c); ok {
		return held, detail
	}
	return false, "unknown criterion type " + strconv.Quote(c.Type)
}

// counting evaluates the criteria that count events. They never hold on an
// event that is not counted (a refund, a system event): it is not the
// customer's nth anything.
func (a *assessor) counting(c *Criterion) (bool, string) {
	if !a.counted {
		return false, "this event is not counted: refunds, baskets and system events never are"
	}
	if !countingValid(c) {
		return false, "the criterion is incomplete"
	}
	switch c.Type {
	case "nthEvent":
		n := a.cust.Count(a.typ)
		return n == c.N, fmt.Sprintf("%s count %d, n %d", a.typ, n, c.N)
	case "everyNthEvent":
		n := a.cust.Count(a.typ)
		return n > 0 && n%c.N == 0, fmt.Sprintf("%s count %d, every %d", a.typ, n, c.N)
	case "xOverT":
		return a.xOverT(c)
	case "xSinceT":
		return a.xSinceT(c)
	}

	// lifetimeThreshold: crossed by this event, measured from the highest
	// sum ever reached, so that refund and re-purchase cannot cross twice.
	sum, peak := orZero(a.cust.LifetimeSum(a.typ)), orZero(a.cust.PreviousPeak(a.typ))
	held := peak.Cmp(c.Amount) < 0 && sum.Cmp(c.Amount) >= 0
	return held, fmt.Sprintf("lifetime %s sum %s, previous peak %s, threshold %s",
		a.typ, schemas.FormatDecimal(sum), schemas.FormatDecimal(peak), schemas.FormatDecimal(c.Amount))
}

// xOverT counts the events of this type and nameSpace on the local days of
// the trailing period ending with the event's day: n days is that day and
// the n−1 before; n months runs from the day after the same date n months
// earlier.
func (a *assessor) xOverT(c *Criterion) (bool, string) {
	to := DateOf(a.ev.CreatedAt, a.loc)
	from := to.AddDays(1 - c.Period.N)
	if c.Period.Unit == "month" {
		from = to.AddMonths(-c.Period.N).AddDays(1)
	}
	n := a.cust.CountOnDays(a.typ, a.ev.NameSpace, from, to)
	return n >= c.X, fmt.Sprintf("%d %s %q events from %s to %s, need %d",
		n, a.typ, a.ev.NameSpace, from, to, c.X)
}

// xSinceT counts the events of this type and nameSpace from the local
// since date to the event's day.
func (a *assessor) xSinceT(c *Criterion) (bool, string) {
	to := DateOf(a.ev.CreatedAt, a.loc)
	if to.Before(*c.Since) {
		return false, fmt.Sprintf("event on %s is before %s", to, c.Since)
	}
	n := a.cust.CountOnDays(a.typ, a.ev.NameSpace, *c.Since, to)
	return n >= c.X, fmt.Sprintf("%d %s %q events since %s, need %d", n, a.typ, a.ev.NameSpace, c.Since, c.X)
}

// payloadCriterion evaluates the criteria on the event's own payload.
// ok is false for a type it does not know.
func (a *assessor) payloadCriterion(c *Criterion) (held bool, detail string, ok bool) {
	ev := a.ev
	order := ev.Order
	if order == nil {
		order = ev.Basket
	}
	ok = true
	switch c.Type {
	case "total", "taxTotal", "shippingTotal", "paymentAmount":
		held, detail = compareRat(c.Type, orderAmount(ev, order, c.Type), c)
	case "skuIn", "vendorIn", "categoryIn", "productTypeIn":
		held, detail = itemIn(order, c)
	case "productQuantity":
		held, detail = productQuantity(order, c)
	case "payment":
		held, detail = a.payment(order, c)
	case "tagPresent":
		var tags []string
		if order != nil {
			tags = order.Tags
		}
		held = slices.Contains(tags, c.Tag)
		detail = fmt.Sprintf("tags %q, want %q", tags, c.Tag)
	case "tagCount":
		n := 0
		if order != nil {
			n = len(order.Tags)
		}
		held, detail = compareRat("tag count", big.NewRat(int64(n), 1), c)
	case "quantity":
		var v *big.Rat
		switch {
		case ev.Transaction != nil:
			v = ev.Transaction.Quantity
		case ev.Points != nil:
			v = big.NewRat(ev.Points.Quantity, 1)
		}
		held, detail = compareRat("quantity", v, c)
	case "previousBalance", "balance", "lifetimeEarned":
		held, detail = a.balance(c)
	case "yearsSinceJoining":
		var v *big.Rat
		if ev.Anniversary != nil {
			v = big.NewRat(int64(ev.Anniversary.Years), 1)
		}
		held, detail = compareRat("yearsSinceJoining", v, c)
	default:
		ok = false
	}
	return held, detail, ok
}

// balance compares a Points figure. Points awarded by earlier rules of
// this event count: each rule sees the state earlier rules left.
func (a *assessor) balance(c *Criterion) (bool, string) {
	b := a.cust.Points()
	var v int64
	switch c.Type {
	case "previousBalance":
		v = b.PreviousBalance
	case "balance":
		v = addSat(b.Balance, a.awarded)
	default:
		v = addSat(b.LifetimeEarned, a.awarded)
	}
	return compareRat(c.Type, big.NewRat(v, 1), c)
}

func (a *assessor) payment(order *schemas.Order, c *Criterion) (bool, string) {
	var p *schemas.Payment
	switch {
	case order != nil:
		p = order.Payment
	case a.ev.Transaction != nil:
		p = a.ev.Transaction.Payment
	}
	var v *string
	if p != nil {
		switch c.Field {
		case "bin":
			v = p.Bin
		case "bank":
			v = p.Bank
		default:
			v = p.Scheme
		}
	}
	return textEquals("payment "+c.Field, v, c.Value)
}

// orderAmount returns an order's (or basket's) total, taxTotal,
// shippingTotal or paymentAmount, or a transaction's total; nil when the
// event does not carry it.
func orderAmount(ev *schemas.Event, o *schemas.Order, name string) *big.Rat {
	if o == nil {
		if ev.Transaction != nil && name == "total" {
			return ev.Transaction.Total
		}
		return nil
	}
	switch name {
	case "taxTotal":
		return o.TaxTotal
	case "shippingTotal":
		return o.ShippingTotal
	case "paymentAmount":
		return o.PaymentAmount
	}
	return o.Total
}

// itemIn reports whether any item's sku, vendor, category or product
// type is in the criterion's list.
func itemIn(o *schemas.Order, c *Criterion) (bool, string) {
	var list []string
	var field func(*schemas.OrderItem) *string
	switch c.Type {
	case "skuIn":
		list, field = c.SKUs, func(it *schemas.OrderItem) *string { return &it.SKU }
	case "vendorIn":
		list, field = c.Vendors, func(it *schemas.OrderItem) *string { return it.Vendor }
	case "categoryIn":
		list, field = c.Categories, func(it *schemas.OrderItem) *string { return it.Category }
	default:
		list, field = c.ProductTypes, func(it *schemas.OrderItem) *string { return it.ProductType }
	}
	if o != nil {
		for i := range o.Items {
			if v := field(&o.Items[i]); v != nil && slices.Contains(list, *v) {
				return true, fmt.Sprintf("item %d has %q", i, *v)
			}
		}
	}
	return false, "no item matches"
}

// productQuantity sums the quantity of the lines with the sku.
func productQuantity(o *schemas.Order, c *Criterion) (bool, string) {
	sum := new(big.Rat)
	if o != nil {
		for i := range o.Items {
			if it := &o.Items[i]; it.SKU == c.SKU && it.Quantity != nil {
				sum.Add(sum, it.Quantity)
			}
		}
	}
	return compareRat("quantity of "+c.SKU, sum, c)
}

func attribute(attrs []schemas.Attribute, c *Criterion) (bool, string) {
	for _, at := range attrs {
		if at.Key != c.Key {
			continue
		}
		if c.Op == "exists" {
			return true, fmt.Sprintf("attribute %q exists", c.Key)
		}
		return at.Value == c.Value, fmt.Sprintf("attribute %q is %q, want %q", c.Key, at.Value, c.Value)
	}
	return false, fmt.Sprintf("no attribute %q", c.Key)
}

// textEquals compares an optional event string exactly, case-sensitively.
func textEquals(name string, got *string, want string) (bool, string) {
	if got == nil {
		return false, fmt.Sprintf("no %s, want %q", name, want)
	}
	return *got == want, fmt.Sprintf("%s %q, want %q", name, *got, want)
}

// compareRat applies c's op to got and c.Amount. An absent figure never
// compares true.
func compareRat(name string, got *big.Rat, c *Criterion) (bool, string) {
	if c.Amount == nil {
		return false, "the criterion has no value"
	}
	if got == nil {
		return false, fmt.Sprintf("no %s to compare with %s %s", name, c.Op, schemas.FormatDecimal(c.Amount))
	}
	cmp := got.Cmp(c.Amount)
	var held bool
	switch c.Op {
	case "gte":
		held = cmp >= 0
	case "gt":
		held = cmp > 0
	case "lte":
		held = cmp <= 0
	case "lt":
		held = cmp < 0
	case "eq":
		held = cmp == 0
	}
	return held, fmt.Sprintf("%s %s %s %s", name, schemas.FormatDecimal(got), c.Op, schemas.FormatDecimal(c.Amount))
}

func orZero(r *big.Rat) *big.Rat {
	if r == nil {
		return new(big.Rat)
	}
	return r
}

// countingValid guards against rules built by hand without DecodeRule.
func countingValid(c *Criterion) bool {
	switch c.Type {
	case "nthEvent", "everyNthEvent":
		return c.N > 0
	case "xOverT":
		return c.Period != nil && c.Period.N > 0
	case "xSinceT":
		return c.Since != nil
	}
	return c.Amount != nil
}
