package registry

import (
	"math/big"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/tallymarks/tallymarks/schemas"
)

// TestHambaWorkaroundsStillNeeded is a canary: it fails once hamba/avro
// decodes nullable decimals into *big.Rat and reports truncated data, and
// then decimal_patch.go and the EOF check of Serde.read can go.
func TestHambaWorkaroundsStillNeeded(t *testing.T) {
	sch := avro.MustParse(`{"type":"record","name":"P","fields":[
		{"name":"p","type":["null",{"type":"bytes","logicalType":"decimal","precision":18,"scale":4}]},
		{"name":"q","type":"long"}]}`)
	type price struct {
		P *big.Rat `avro:"p"`
		Q int64    `avro:"q"`
	}
	b, err := avro.Marshal(sch, price{P: big.NewRat(1039, 100), Q: 7})
	if err != nil {
		t.Fatal(err)
	}

	var got price
	if err := avro.Unmarshal(sch, b, &got); err != nil {
		t.Fatal(err)
	}
	if got.P != nil && got.P.Cmp(big.NewRat(1039, 100)) == 0 {
		t.Error("hamba decodes nullable decimals into *big.Rat now: remove the decimal patch")
	}
	if err := avro.Unmarshal(sch, b[:len(b)-1], &price{}); err == nil {
		t.Log("hamba still takes a record cut at a field boundary for a whole one")
	} else {
		t.Error("hamba reports truncated records now: Serde.read could use avro.Unmarshal")
	}
}

// TestDecimalPatch checks the patch on every shape it handles: a nullable
// decimal in a record, in a nullable record, in records in an array, null
// and not, through the Serde.
func TestDecimalPatch(t *testing.T) {
	s, _, _ := newTestSerde(t)
	tests := []struct {
		name string
		in   *schemas.Event
	}{
		{"all null", &schemas.Event{Action: &schemas.Action{}}},
		{"negative amount", &schemas.Event{Action: &schemas.Action{Amount: dec("-0.0001")}}},
		{"zero amount", &schemas.Event{Action: &schemas.Action{Amount: dec("0")}}},
		{"order and nested basket", func() *schemas.Event {
			e := errorEvent()
			e.ErrorAction.Event.ErrorAction.Event.Basket = orderEvent().Order
			return e
		}()},
		{"transaction quantity", &schemas.Event{Transaction: &schemas.Transaction{
			Total: dec("1"), Quantity: dec("99999999999999.9999")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := s.Encode(schemas.EventSchema, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var got schemas.Event
			if err := s.Decode(b, schemas.EventSchema, &got); err != nil {
				t.Fatal(err)
			}
			// Normalize what Avro cannot tell apart: nil and empty arrays.
			want := *tt.in
			if want.Attributes == nil {
				want.Attributes = []schemas.Attribute{}
			}
			sameJSON(t, &got, &want)
		})
	}
}
