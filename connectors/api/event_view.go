package api

import (
	"math/big"

	"github.com/tallymarks/tallymarks/schemas"
)

// decimalJSON writes an exact decimal as a JSON number, never in exponent
// form and never through a float.
type decimalJSON struct{ r *big.Rat }

// MarshalJSON writes the number.
func (d decimalJSON) MarshalJSON() ([]byte, error) { return []byte(schemas.FormatDecimal(d.r)), nil }

func dec(r *big.Rat) *decimalJSON {
	if r == nil {
		return nil
	}
	return &decimalJSON{r}
}

// eventView is an event as the API shows it: the envelope of section 2,
// with only the payload slot that is set.
type eventView struct {
	EventID     string          `json:"eventId"`
	CustomerID  string          `json:"customerId"`
	TenantID    string          `json:"tenantId"`
	CreatedAt   string          `json:"createdAt"`
	NameSpace   string          `json:"nameSpace"`
	Reference   *string         `json:"reference,omitempty"`
	Description *string         `json:"description,omitempty"`
	Campaign    *string         `json:"campaign,omitempty"`
	Attributes  []attributeView `json:"attributes"`
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

// newEventView renders ev for clients.
func newEventView(ev *schemas.Event) eventView {
	v := eventView{
		EventID: ev.EventID, CustomerID: ev.CustomerID, TenantID: ev.TenantID,
		CreatedAt: formatTime(ev.CreatedAt), NameSpace: ev.NameSpace,
		Reference: ev.Reference, Description: ev.Description, Campaign: ev.Campaign,
		Attributes: make([]attributeView, 0, len(ev.Attributes)),
		Origin:     ev.Origin, Depth: ev.Depth, CausedBy: ev.CausedBy,
	}
	for _, a := range ev.Attributes {
		v.Attributes = append(v.Attributes, attributeView(a))
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
			m["event"] = newEventView(e.Event)
		}
		v.ErrorAction = m
	}
	return v
}

func orderView(o *schemas.Order) map[string]any {
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

func paymentView(p *schemas.Payment) map[string]any {
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

// ledgerEntryView is a ledger entry as the API shows it.
type ledgerEntryView struct {
	EntryID      string    `json:"entryId"`
	Type         string    `json:"type"`
	Points       int64     `json:"points"`
	BalanceAfter int64     `json:"balanceAfter"`
	EventID      string    `json:"eventId"`
	Source       string    `json:"source"`
	EconomyID    *string   `json:"economyId,omitempty"`
	RuleID       *string   `json:"ruleId,omitempty"`
	RuleVersion  *int      `json:"ruleVersion,omitempty"`
	ActionIndex  *int      `json:"actionIndex,omitempty"`
	Lots         []lotView `json:"lots"`
	OccurredAt   string    `json:"occurredAt"`
	RecordedAt   string    `json:"recordedAt"`
	Reason       *string   `json:"reason,omitempty"`
}

// lotView is the change one ledger entry made to one lot.
type lotView struct {
	LotID  string `json:"lotId"`
	Points int64  `json:"points"`
}

func newLedgerEntryView(e schemas.LedgerEntry) ledgerEntryView {
	lots := make([]lotView, 0, len(e.Lots))
	for _, l := range e.Lots {
		lots = append(lots, lotView{LotID: l.LotID, Points: l.Points})
	}
	return ledgerEntryView{
		EntryID: e.EntryID, Type: e.Type, Points: e.Points, BalanceAfter: e.BalanceAfter,
		EventID: e.EventID, Source: e.Source, EconomyID: e.EconomyID, RuleID: e.RuleID,
		RuleVersion: e.RuleVersion, ActionIndex: e.ActionIndex, Lots: lots,
		OccurredAt: formatTime(e.OccurredAt), RecordedAt: formatTime(e.RecordedAt), Reason: e.Reason,
	}
}
