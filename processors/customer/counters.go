package customer

import (
	"math/big"
	"sort"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// Bounds of the counting state (SPEC-DECISIONS finding 30).
const (
	// windowDays is how many local days of daily counts are kept per type
	// and nameSpace: enough for xOverT periods of up to 12 months.
	windowDays = 400
	// maxWindowsPerType bounds the nameSpaces tracked per event type; the
	// least recently used is dropped first.
	maxWindowsPerType = 64
)

// counts reports whether ev is counted: client events only, and neither
// baskets nor refunds or returns (SPEC section 12, step 3).
func counts(ev *schemas.Event) bool {
	if ev.Origin == schemas.OriginSystem {
		return false
	}
	typ, _ := ev.Type()
	switch typ {
	case schemas.TypeBasket, schemas.TypeAnniversary, schemas.TypeError:
		return false
	case schemas.TypeOrder, schemas.TypeTransaction:
		return !isRefund(ev.NameSpace)
	}
	return true
}

// amountOf returns the amount an event adds to its type's lifetime sum:
// Action amount, Order/Transaction/Transfer total, Points or Redemption
// quantity (signed for Points).
func amountOf(ev *schemas.Event) *big.Rat {
	zero := new(big.Rat)
	switch {
	case ev.Action != nil && ev.Action.Amount != nil:
		return ev.Action.Amount
	case ev.Order != nil && ev.Order.Total != nil:
		return ev.Order.Total
	case ev.Transaction != nil && ev.Transaction.Total != nil:
		return ev.Transaction.Total
	case ev.Transfer != nil && ev.Transfer.Total != nil:
		return ev.Transfer.Total
	case ev.Points != nil:
		return new(big.Rat).SetInt64(ev.Points.Quantity)
	case ev.Redemption != nil:
		return new(big.Rat).SetInt64(ev.Redemption.Quantity)
	}
	return zero
}

// count adds ev to st's counters, lifetime sums and nameSpace windows, or,
// for a refund or return, lowers its type's lifetime sum by the refunded
// amount (never below 0). loc is the tenant's zone, which decides the
// local day of a window bucket.
func count(st *schemas.CustomerState, ev *schemas.Event, loc *time.Location) {
	typ, _ := ev.Type()
	if ev.Origin == schemas.OriginSystem {
		return
	}
	if (typ == schemas.TypeOrder || typ == schemas.TypeTransaction) && isRefund(ev.NameSpace) {
		c := counter(st, typ)
		c.Sum = new(big.Rat).Sub(c.Sum, amountOf(ev))
		if c.Sum.Sign() < 0 {
			c.Sum = new(big.Rat)
		}
		return
	}
	if !counts(ev) {
		return
	}

	c := counter(st, typ)
	c.Count++
	c.Sum = new(big.Rat).Add(c.Sum, amountOf(ev))
	if c.Sum.Cmp(c.MaxSum) > 0 {
		c.MaxSum = new(big.Rat).Set(c.Sum)
	}
	addToWindow(st, typ, ev.NameSpace, ev.CreatedAt, loc)
}

// counter returns st's counter of typ, adding it when missing.
func counter(st *schemas.CustomerState, typ schemas.EventType) *schemas.TypeCounter {
	for i := range st.Counters {
		if st.Counters[i].Type == string(typ) {
			return &st.Counters[i]
		}
	}
	st.Counters = append(st.Counters, schemas.TypeCounter{
		Type: string(typ), Sum: new(big.Rat), MaxSum: new(big.Rat),
	})
	return &st.Counters[len(st.Counters)-1]
}

// localDay returns the start of t's day in loc, as a date at UTC midnight
// (the Avro date type carries no zone).
func localDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func addToWindow(st *schemas.CustomerState, typ schemas.EventType, ns string, at time.Time, loc *time.Location) {
	day := localDay(at, loc)
	var w *schemas.NameSpaceWindow
	for i := range st.Windows {
		if st.Windows[i].Type == string(typ) && st.Windows[i].NameSpace == ns {
			w = &st.Windows[i]
			break
		}
	}
	if w == nil {
		dropLeastUsedWindow(st, typ)
		st.Windows = append(st.Windows, schemas.NameSpaceWindow{
			Type: string(typ), NameSpace: ns, FirstDay: day, Days: []schemas.DayCount{},
		})
		w = &st.Windows[len(st.Windows)-1]
	}
	// Apply never changes the state it was given, which shares Days.
	w.Days = append(make([]schemas.DayCount, 0, len(w.Days)+1), w.Days...)
	w.Total++
	if at.After(w.LastUsed) {
		w.LastUsed = at
	}
	if day.Before(w.FirstDay) {
		w.FirstDay = day
	}

	// Events usually arrive in time order, so the bucket is the last one;
	// a backdated event may land anywhere.
	i := sort.Search(len(w.Days), func(i int) bool { return !w.Days[i].Day.Before(day) })
	if i < len(w.Days) && w.Days[i].Day.Equal(day) {
		w.Days[i].Count++
	} else {
		w.Days = append(w.Days, schemas.DayCount{})
		copy(w.Days[i+1:], w.Days[i:])
		w.Days[i] = schemas.DayCount{Day: day, Count: 1}
	}

	// Forget days older than the longest period a criterion can ask for.
	newest := w.Days[len(w.Days)-1].Day
	cut := sort.Search(len(w.Days), func(i int) bool {
		return !w.Days[i].Day.Before(newest.AddDate(0, 0, -windowDays))
	})
	w.Days = w.Days[cut:]
}

// dropLeastUsedWindow makes room for one more window of typ.
func dropLeastUsedWindow(st *schemas.CustomerState, typ schemas.EventType) {
	n, oldest := 0, -1
	for i, w := range st.Windows {
		if w.Type != string(typ) {
			continue
		}
		n++
		if oldest < 0 || w.LastUsed.Before(st.Windows[oldest].LastUsed) {
			oldest = i
		}
	}
	if n >= maxWindowsPerType {
		st.Windows = append(st.Windows[:oldest], st.Windows[oldest+1:]...)
	}
}

// CountInWindow returns how many counted events of typ and nameSpace have a
// createdAt on a local day in [from, to], both local days in loc. It is
// exact for days within the kept window (400 days) and for a from before
// the first such event; between those it counts only the kept days.
func CountInWindow(st *schemas.CustomerState, typ schemas.EventType, ns string, from, to time.Time) int64 {
	for _, w := range st.Windows {
		if w.Type != string(typ) || w.NameSpace != ns {
			continue
		}
		if !from.After(w.FirstDay) && (len(w.Days) == 0 || !to.Before(w.Days[len(w.Days)-1].Day)) {
			return w.Total
		}
		var n int64
		for _, d := range w.Days {
			if !d.Day.Before(from) && !d.Day.After(to) {
				n += int64(d.Count)
			}
		}
		return n
	}
	return 0
}
