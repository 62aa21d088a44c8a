package sink

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tallymarks/tallymarks/schemas"
)

func TestEventJSON(t *testing.T) {
	tests := []struct {
		name string
		ev   *schemas.Event
		want []string // fragments, in order
	}{
		{
			name: "order",
			ev:   orderEvent(),
			want: []string{
				`{"eventId":"` + orderID + `","tenantId":"` + tenantID + `"`,
				`"createdAt":"2024-03-01T10:20:30.456Z","receivedAt":"2024-03-01T10:20:31.007Z"`,
				`"reference":"ORD-1","description":null`,
				`"attributes":[{"key":"channel","value":"web"},{"key":"store","value":"42"}]`,
				`"action":null,"order":{"total":120.5,"taxTotal":20.0833,"shippingTotal":null`,
				`"payment":{"bin":null,"bank":null,"scheme":"visa"}`,
				`{"sku":"B-2","name":null,"category":null,"productType":null,"vendor":null,` +
					`"quantity":1.5,"unitPrice":13.3333,"total":20}`,
				`"tags":["first","promo"]}`,
				`"errorAction":null}`,
			},
		},
		{
			name: "error with raw bytes",
			ev: func() *schemas.Event {
				ev := errorEvent()
				ev.ErrorAction.Event, ev.ErrorAction.Raw = nil, []byte{0xff, 0, 'x'}
				return ev
			}(),
			want: []string{`"errorAction":{"event":null,"raw":"/wB4","source":"assessment"`},
		},
		{
			name: "error with the failed event nested",
			ev:   errorEvent(),
			want: []string{
				`"errorAction":{"event":{"eventId":"` + failedID + `"`,
				`"transaction":{"total":-1,`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(eventJSON(tt.ev))
			if !json.Valid([]byte(got)) {
				t.Fatalf("eventJSON() is not valid JSON: %s", got)
			}
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("eventJSON() = %s\nwant it to contain, in order: %s", got, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain", `"plain"`},
		{`q"b\s`, `"q\"b\\s"`},
		{"nl\ncr\rtab\t", `"nl\ncr\rtab\t"`},
		{"\x00\x1f", `"\u0000\u001f"`},
		{"é€😀", `"é€😀"`},
		{"bad\xffbyte", `"bad\ufffdbyte"`},
		{"ls\u2028ps\u2029", `"ls\u2028ps\u2029"`},
		{"<&>", `"<&>"`},
	}
	for _, tt := range tests {
		if got := string(appendString(nil, tt.in)); got != tt.want {
			t.Errorf("appendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// FuzzAppendString checks that every string, valid UTF-8 or not, becomes a
// JSON string that decodes to the same text, each invalid byte replaced by
// U+FFFD.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00\xff", "\u2028", "😀", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("appendString(%q) = %s: %v", s, b, err)
		}
		want := []rune{}
		for _, r := range s {
			want = append(want, r)
		}
		if got != string(want) {
			t.Fatalf("appendString(%q) decodes to %q, want %q", s, got, string(want))
		}
		if !utf8.Valid(b) {
			t.Fatalf("appendString(%q) = %q is not valid UTF-8", s, b)
		}
	})
}

func TestAppendDecimal(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "120.5", "-0.0001", "0.1", "20.0833", "1.01",
		"99999999999999.9999", "-99999999999999.9999", "100000000000000", "123456789012345678901"} {
		r := dec2(s)
		if got, want := string(appendDecimal(nil, r)), schemas.FormatDecimal(r); got != want {
			t.Errorf("appendDecimal(%s) = %s, want %s", s, got, want)
		}
	}
	third := big.NewRat(1, 3)
	if got, want := string(appendDecimal(nil, third)), schemas.FormatDecimal(third); got != want {
		t.Errorf("appendDecimal(1/3) = %s, want %s", got, want)
	}
}

// dec2 parses s exactly, also beyond the range of amounts.
func dec2(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}
