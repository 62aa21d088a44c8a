package api

import (
	"math/big"
	"strconv"

	"github.com/tallymarks/tallymarks/schemas"
)

func itoa(i int) string { return strconv.Itoa(i) }

// payload checks that exactly the slot of the endpoint's type is set and
// converts it.
// setSlots returns the payload slots req carries, in slot order.
func (req *eventRequest) setSlots() []schemas.EventType {
	slots := []struct {
		typ schemas.EventType
		set bool
	}{
		{schemas.TypeAction, req.Action != nil},
		{schemas.TypeOrder, req.Order != nil},
		{schemas.TypeTransaction, req.Transaction != nil},
		{schemas.TypeTransfer, req.Transfer != nil},
		{schemas.TypePoints, req.Points != nil},
		{schemas.TypeRedemption, req.Redemption != nil},
		{schemas.TypeBasket, req.Basket != nil},
	}
	var out []schemas.EventType
	for _, s := range slots {
		if s.set {
			out = append(out, s.typ)
		}
	}
	return out
}

func (v *validator) payload(req *eventRequest, want schemas.EventType, ev *schemas.Event) {
	wantSet := false
	for _, typ := range req.setSlots() {
		if typ == want {
			wantSet = true
			continue
		}
		v.add("/"+string(typ), "must be absent: this endpoint takes "+string(want)+" events", nil)
	}
	if !wantSet {
		v.add("/"+string(want), "is required", nil)
		return
	}

	switch want {
	case schemas.TypeAction:
		ev.Action = &schemas.Action{
			Amount: v.decimal("/action/amount", req.Action.Amount, false),
			Count:  req.Action.Count,
		}
		if c := req.Action.Count; c != nil && *c < 0 {
			v.add("/action/count", "must not be negative", *c)
		}
	case schemas.TypeOrder:
		ev.Order = v.order("/order", req.Order)
	case schemas.TypeBasket:
		ev.Basket = v.order("/basket", req.Basket)
	case schemas.TypeTransaction:
		t := req.Transaction
		ev.Transaction = &schemas.Transaction{
			Total:    v.decimal("/transaction/total", t.Total, true),
			Quantity: v.decimal("/transaction/quantity", t.Quantity, false),
			Currency: v.str("/transaction/currency", t.Currency),
			Payment:  v.payment("/transaction/payment", t.Payment),
		}
	case schemas.TypeTransfer:
		t := req.Transfer
		ev.Transfer = &schemas.Transfer{
			Total:       v.decimal("/transfer/total", t.Total, true),
			Currency:    v.str("/transfer/currency", t.Currency),
			FromAccount: v.str("/transfer/fromAccount", t.FromAccount),
			ToAccount:   v.str("/transfer/toAccount", t.ToAccount),
		}
	case schemas.TypePoints:
		q := v.quantity("/points/quantity", req.Points.Quantity, false)
		ev.Points = &schemas.Points{Quantity: q, Reason: v.str("/points/reason", req.Points.Reason)}
	case schemas.TypeRedemption:
		q := v.quantity("/redemption/quantity", req.Redemption.Quantity, true)
		ev.Redemption = &schemas.Redemption{
			Quantity: q, Reward: v.str("/redemption/reward", req.Redemption.Reward),
		}
	}
}

// quantity checks a points quantity: non-zero, at most 10^9 in magnitude,
// and positive when positive is set.
func (v *validator) quantity(param string, q *int64, positive bool) int64 {
	switch {
	case q == nil:
		v.add(param, "is required", nil)
	case *q == 0 || (positive && *q < 0):
		if positive {
			v.add(param, "must be greater than 0", *q)
		} else {
			v.add(param, "must not be 0", *q)
		}
	case *q > maxQuantityAbs || *q < -maxQuantityAbs:
		v.add(param, "must be at most 1000000000 in magnitude", *q)
	default:
		return *q
	}
	return 0
}

func (v *validator) payment(param string, p *paymentJSON) *schemas.Payment {
	if p == nil {
		return nil
	}
	return &schemas.Payment{
		Bin:    v.str(param+"/bin", p.Bin),
		Bank:   v.str(param+"/bank", p.Bank),
		Scheme: v.str(param+"/scheme", p.Scheme),
	}
}

func (v *validator) order(param string, o *orderJSON) *schemas.Order {
	out := &schemas.Order{
		Total:         v.decimal(param+"/total", o.Total, true),
		TaxTotal:      v.decimal(param+"/taxTotal", o.TaxTotal, false),
		ShippingTotal: v.decimal(param+"/shippingTotal", o.ShippingTotal, false),
		PaymentAmount: v.decimal(param+"/paymentAmount", o.PaymentAmount, false),
		Currency:      v.str(param+"/currency", o.Currency),
		Payment:       v.payment(param+"/payment", o.Payment),
		Items:         []schemas.OrderItem{},
		Tags:          []string{},
	}
	if len(o.Items) > maxOrderItems {
		v.add(param+"/items", "must have at most 1000 items", nil)
		return out
	}
	for i, it := range o.Items {
		out.Items = append(out.Items, v.item(param+"/items/"+itoa(i), it))
	}
	for i, tag := range o.Tags {
		v.str(param+"/tags/"+itoa(i), &tag)
		out.Tags = append(out.Tags, tag)
	}
	return out
}

func (v *validator) item(p string, it itemJSON) schemas.OrderItem {
	sku := ""
	if it.SKU == nil || *it.SKU == "" {
		v.add(p+"/sku", "is required", nil)
	} else {
		sku = *v.str(p+"/sku", it.SKU)
	}
	out := schemas.OrderItem{
		SKU:         sku,
		Name:        v.str(p+"/name", it.Name),
		Category:    v.str(p+"/category", it.Category),
		ProductType: v.str(p+"/productType", it.ProductType),
		Vendor:      v.str(p+"/vendor", it.Vendor),
		Quantity:    v.decimal(p+"/quantity", it.Quantity, true),
		UnitPrice:   v.decimal(p+"/unitPrice", it.UnitPrice, true),
		Total:       v.decimal(p+"/total", it.Total, false),
	}
	// An item's total defaults to quantity × unit price.
	if out.Total == nil && out.Quantity != nil && out.UnitPrice != nil {
		out.Total = new(big.Rat).Mul(out.Quantity, out.UnitPrice)
		if !schemas.HasScale(out.Total, schemas.MaxDecimalScale) {
			v.add(p+"/total", "is required when quantity × unitPrice has more than 4 fractional digits", nil)
		}
	}
	return out
}
