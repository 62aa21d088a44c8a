package customer

import (
	"math/big"
	"strconv"
	"testing"
)

// BenchmarkApplyOrder measures one order against a customer whose dedup
// window is full (1,000 ids) and who has 50 recent entries: the worst case
// the state bounds allow.
func BenchmarkApplyOrder(b *testing.B) {
	econ := economy(&testing.T{}, "1", "")
	st := Apply(nil, action("seed"), Input{Economy: econ, Now: t0}).State
	for i := range DedupMaxEvents {
		st = Apply(st, order("o-"+strconv.Itoa(i), big.NewRat(10, 1), "Order.Web"),
			Input{Offset: int64(i + 1), Economy: econ, Now: t0}).State
	}
	ev := order("new", big.NewRat(12050, 100), "Order.Web")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res := Apply(st, ev, Input{Offset: 1 << 40, Economy: econ, Now: t0})
		if res.Outcome != Processed {
			b.Fatal("not processed")
		}
	}
}
