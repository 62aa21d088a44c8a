package customer

import (
	"testing"
	"time"
)

func TestSegmentExpiry(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	joined := time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC)
	added := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		body string
		want string // RFC 3339 UTC, or "" for never
	}{
		{name: "none", body: `{"expiry":{"mode":"none"}}`, want: ""},
		{name: "absent", body: `{}`, want: ""},
		{name: "six months, clamped to the month's end", body: `{"expiry":{"mode":"period","n":1,"unit":"month"}}`,
			want: "2026-02-28T12:00:00Z"},
		{name: "ten days", body: `{"expiry":{"mode":"period","n":10,"unit":"day"}}`, want: "2026-02-10T12:00:00Z"},
		{name: "date", body: `{"expiry":{"mode":"date","date":"2027-01-01T00:00:00Z"}}`, want: "2027-01-01T00:00:00Z"},
		// Joined Feb 29: in 2026 the anniversary is Feb 28, its instant the
		// start of Mar 1 in Berlin (23:00 UTC the day before).
		{name: "until anniversary", body: `{"expiry":{"mode":"untilAnniversary"}}`, want: "2026-02-28T23:00:00Z"},
		{name: "until anniversary plus a year", body: `{"expiry":{"mode":"untilAnniversaryPlusYear"}}`,
			want: "2027-02-28T23:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SegmentExpiry(tt.body, added, joined, berlin)
			switch {
			case tt.want == "" && got != nil:
				t.Fatalf("expiry %v, want never", got)
			case tt.want != "" && (got == nil || got.Format(time.RFC3339) != tt.want):
				t.Fatalf("expiry %v, want %s", got, tt.want)
			}
		})
	}
}

func TestNextAnniversaryIsAtLeastAYearAfterJoining(t *testing.T) {
	joined := time.Date(2026, 5, 10, 8, 0, 0, 0, time.UTC)
	got := NextAnniversary(joined, joined.Add(time.Hour), time.UTC)
	if want := time.Date(2027, 5, 11, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("NextAnniversary = %v, want %v", got, want)
	}
}
