package schemas

import (
	"math/big"
	"time"
)

// AttributeView is an attribute as JSON shows it.
type AttributeView struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// FormatTime writes t as TallyMarks writes every instant in JSON: UTC,
// milliseconds, RFC 3339.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// decimalJSON writes an exact decimal as a JSON number, never in exponent
// form and never through a float.
type decimalJSON struct{ r *big.Rat }

// MarshalJSON writes the number.
func (d decimalJSON) MarshalJSON() ([]byte, error) { return []byte(FormatDecimal(d.r)), nil }

func dec(r *big.Rat) *decimalJSON {
	if r == nil {
		return nil
	}
	return &decimalJSON{r}
}

// EventView is an event as JSON shows it: the envelope of section 2,
// with only the payload slot that is set.
type EventView struct {
	EventID     string          `json:"eventId"`
	CustomerID  string          `json:"customerId"`
	TenantID    string          `json:"tenantId"`
	CreatedAt   string          `json:"createdAt"`
	NameSpace   string          `json:"nameSpace"`
	Reference   *string         `json:"reference,omitempty"`
	Description *string         `json:"description,omitempty"`
	Campaign    *string         `json:"campaign,omitempty"`
	Attributes  []AttributeView `json:"attributes"`
	Origin      string          `json:"origin"`
	Depth       int             `json:"depth"`
	CausedBy    *string         `json:"causedBy,omitempty"`

	Action      map[string]any `json:"action,omitempty"`
	Order       map[string]any `json:"order,omitempty"`
	Transaction map[string]any `json:"transaction,omitempty"`
	Transfer    map[string]any `json:"transfer,omitempty"`
	Points      map[string]any `json:"points,omitempty"`
	Redemption  map[string]any `json:"redemption,omitempty"`
	Basket      map[string]any `json:"basket,omitempty"`
	Anniversary map[string]any `json:"anniversary,omitempty"`
	ErrorAction map[string]any `json:"errorAction,omitempty"`
}

// NewEventView renders ev as the API, webhook templates and analysts see it.
func NewEventView(ev *Event) EventView {
	v := EventView{
		EventID: ev.EventID, CustomerID: ev.CustomerID, TenantID: ev.TenantID,
		CreatedAt: FormatTime(ev.CreatedAt), NameSpace: ev.NameSpace,
		Reference: ev.Reference, Description: ev.Description, Campaign: ev.Campaign,
		Attributes: make([]AttributeView, 0, len(ev.Attributes)),
		Origin:     ev.Origin, Depth: ev.Depth, CausedBy: ev.CausedBy,
	}
	for _, a := range ev.Attributes {
		v.Attributes = append(v.Attributes, AttributeView(a))
	}
	switch {
	case ev.Action != nil:
		v.Action = compact(map[string]any{"amount": dec(ev.Action.Amount), "count": ev.Action.Count})
	case ev.Order != nil:
		v.Order = orderView(ev.Order)
	case ev.Basket != nil:
		v.Basket = orderView(ev.Basket)
	case ev.Transaction != nil:
		t := ev.Transaction
		v.Transaction = compact(map[string]any{"total": dec(t.Total), "quantity": dec(t.Quantity),
			"currency": t.Currency, "payment": paymentView(t.Payment)})
	case ev.Transfer != nil:
		t := ev.Transfer
		v.Transfer = compact(map[string]any{"total": dec(t.Total), "currency": t.Currency,
			"fromAccount": t.FromAccount, "toAccount": t.ToAccount})
	case ev.Points != nil:
		v.Points = compact(map[string]any{"quantity": ev.Points.Quantity, "reason": ev.Points.Reason})
	case ev.Redemption != nil:
		v.Redemption = compact(map[string]any{"quantity": ev.Redemption.Quantity, "reward": ev.Redemption.Reward})
	case ev.Anniversary != nil:
		v.Anniversary = map[string]any{"years": ev.Anniversary.Years}
	case ev.ErrorAction != nil:
		e := ev.ErrorAction
		m := compact(map[string]any{"source": e.Source, "code": e.Code, "message": e.Message,
			"description": e.Description})
		if e.Event != nil {
			m["event"] = NewEventView(e.Event)
		}
		v.ErrorAction = m
	}
	return v
}

func orderView(o *Order) map[string]any {
	items := make([]map[string]any, 0, len(o.Items))
	for _, it := range o.Items {
		items = append(items, compact(map[string]any{
			"sku": it.SKU, "name": it.Name, "category": it.Category, "productType": it.ProductType,
			"vendor": it.Vendor, "quantity": dec(it.Quantity), "unitPrice": dec(it.UnitPrice),
			"total": dec(it.Total),
		}))
	}
	tags := o.Tags
	if tags == nil {
		tags = []string{}
	}
	return compact(map[string]any{
		"total": dec(o.Total), "taxTotal": dec(o.TaxTotal), "shippingTotal": dec(o.ShippingTotal),
		"paymentAmount": dec(o.PaymentAmount), "currency": o.Currency, "payment": paymentView(o.Payment),
		"items": items, "tags": tags,
	})
}

func paymentView(p *Payment) map[string]any {
	if p == nil {
		return nil
	}
	return compact(map[string]any{"bin": p.Bin, "bank": p.Bank, "scheme": p.Scheme})
}

// compact drops nil values, so that absent optional fields are absent.
func compact(m map[string]any) map[string]any {
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			delete(m, k)
		case *string:
			if x == nil {
				delete(m, k)
			}
		case *int64:
			if x == nil {
				delete(m, k)
			}
		case *decimalJSON:
			if x == nil {
				delete(m, k)
			}
		case map[string]any:
			if x == nil {
				delete(m, k)
			}
		}
	}
	return m
}
