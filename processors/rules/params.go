package rules

import (
	"bytes"
	"math/big"
	"strconv"

	"github.com/tallymarks/tallymarks/schemas"
)

// param returns the value of parameter p of c, and whether it is set.
// JSON "value" is Value for text criteria and Amount for numeric ones.
func (c *Criterion) param(p param) (any, bool) {
	switch p.name {
	case "op":
		return c.Op, c.Op != ""
	case "value":
		if p.kind == kDecimal {
			return c.Amount, c.Amount != nil
		}
		return c.Value, c.Value != ""
	case "segmentId":
		return c.SegmentID, c.SegmentID != ""
	case "levelId":
		return c.LevelID, c.LevelID != ""
	case "n":
		return c.N, c.N != 0
	case "x":
		return c.X, c.X != 0
	case "period":
		return c.Period, c.Period != nil
	case "since":
		return c.Since, c.Since != nil
	case "key":
		return c.Key, c.Key != ""
	case "sku":
		return c.SKU, c.SKU != ""
	case "field":
		return c.Field, c.Field != ""
	case "tag":
		return c.Tag, c.Tag != ""
	case "skus":
		return c.SKUs, c.SKUs != nil
	case "vendors":
		return c.Vendors, c.Vendors != nil
	case "categories":
		return c.Categories, c.Categories != nil
	case "productTypes":
		return c.ProductTypes, c.ProductTypes != nil
	}
	return nil, false
}

// set stores a decoded parameter value in c.
func (c *Criterion) set(p param, v any) {
	switch p.name {
	case "op":
		c.Op = v.(string)
	case "value":
		if p.kind == kDecimal {
			c.Amount = v.(*big.Rat)
		} else {
			c.Value = v.(string)
		}
	case "segmentId":
		c.SegmentID = v.(string)
	case "levelId":
		c.LevelID = v.(string)
	case "n":
		c.N = v.(int64)
	case "x":
		c.X = v.(int64)
	case "period":
		c.Period = v.(*Window)
	case "since":
		c.Since = v.(*Date)
	case "key":
		c.Key = v.(string)
	case "sku":
		c.SKU = v.(string)
	case "field":
		c.Field = v.(string)
	case "tag":
		c.Tag = v.(string)
	case "skus":
		c.SKUs = v.([]string)
	case "vendors":
		c.Vendors = v.([]string)
	case "categories":
		c.Categories = v.([]string)
	case "productTypes":
		c.ProductTypes = v.([]string)
	}
}

// param returns the value of parameter p of a, and whether it is set.
func (a *Action) param(p param) (any, bool) {
	switch p.name {
	case "points":
		return a.Points, a.Points != 0
	case "pointsPerUnit":
		return a.PointsPerUnit, a.PointsPerUnit != nil
	case "of":
		return a.Of, a.Of != ""
	case "rounding":
		return a.Rounding, a.Rounding != ""
	case "factor":
		return a.Factor, a.Factor != nil
	case "segmentId":
		return a.SegmentID, a.SegmentID != ""
	case "webhookId":
		return a.WebhookID, a.WebhookID != ""
	case "triggerId":
		return a.TriggerID, a.TriggerID != ""
	case "subjectTemplate":
		return a.SubjectTemplate, a.SubjectTemplate != ""
	case "bodyTemplate":
		return a.BodyTemplate, a.BodyTemplate != ""
	case "value":
		return a.Value, a.Value != nil
	case "sku":
		return a.SKU, a.SKU != ""
	case "code":
		return a.Code, a.Code != ""
	case "text":
		return a.Text, a.Text != ""
	case "maxPerEvent":
		return a.MaxPerEvent, a.MaxPerEvent != 0
	case "maxPerCustomerPerPeriod":
		return a.MaxPerCustomerPerPeriod, a.MaxPerCustomerPerPeriod != nil
	case "budget":
		return a.Budget, a.Budget != 0
	}
	return nil, false
}

// set stores a decoded parameter value in a.
func (a *Action) set(p param, v any) {
	switch p.name {
	case "points":
		a.Points = v.(int64)
	case "pointsPerUnit":
		a.PointsPerUnit = v.(*big.Rat)
	case "of":
		a.Of = v.(string)
	case "rounding":
		a.Rounding = v.(string)
	case "factor":
		a.Factor = v.(*big.Rat)
	case "segmentId":
		a.SegmentID = v.(string)
	case "webhookId":
		a.WebhookID = v.(string)
	case "triggerId":
		a.TriggerID = v.(string)
	case "subjectTemplate":
		a.SubjectTemplate = v.(string)
	case "bodyTemplate":
		a.BodyTemplate = v.(string)
	case "value":
		a.Value = v.(*big.Rat)
	case "sku":
		a.SKU = v.(string)
	case "code":
		a.Code = v.(string)
	case "text":
		a.Text = v.(string)
	case "maxPerEvent":
		a.MaxPerEvent = v.(int64)
	case "maxPerCustomerPerPeriod":
		a.MaxPerCustomerPerPeriod = v.(*PeriodCap)
	case "budget":
		a.Budget = v.(int64)
	}
}

// marshalParams writes {"type": typ, p1: v1, …} with the parameters in
// spec order, leaving out unset ones. Decimals are JSON numbers, never
// strings or floats.
func marshalParams(typ string, params []param, get func(param) (any, bool)) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"type":`)
	b.Write(marshal(typ))
	for _, p := range params {
		v, ok := get(p)
		if !ok {
			continue
		}
		b.WriteByte(',')
		b.Write(marshal(p.name))
		b.WriteByte(':')
		if r, isRat := v.(*big.Rat); isRat {
			b.WriteString(schemas.FormatDecimal(r))
			continue
		}
		b.Write(marshal(v))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func itoa(i int) string { return strconv.Itoa(i) }
