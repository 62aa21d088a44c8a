package customer

import (
	"encoding/json"
	"time"
)

// segmentExpiryBody is the part of a segment's stored body that decides
// when a membership ends.
type segmentExpiryBody struct {
	Expiry struct {
		Mode string `json:"mode"`
		N    int    `json:"n"`
		Unit string `json:"unit"`
		Date string `json:"date"`
	} `json:"expiry"`
}

// SegmentExpiry returns when a membership of the segment whose stored body
// is body, added at addedAt for a customer who joined at joined, ends; nil
// for never. Dates are local to loc (SPEC section 6, findings 19 and 23).
func SegmentExpiry(body string, addedAt, joined time.Time, loc *time.Location) *time.Time {
	var b segmentExpiryBody
	if json.Unmarshal([]byte(body), &b) != nil {
		return nil
	}
	var t time.Time
	switch e := b.Expiry; e.Mode {
	case "period":
		local := addedAt.In(loc)
		switch e.Unit {
		case "day":
			t = local.AddDate(0, 0, e.N)
		case "month":
			t = addMonths(local, e.N)
		case "year":
			t = addMonths(local, 12*e.N)
		default:
			return nil
		}
	case "date":
		var err error
		if t, err = time.Parse(time.RFC3339, e.Date); err != nil {
			d, derr := time.ParseInLocation(time.DateOnly, e.Date, loc)
			if derr != nil {
				return nil
			}
			t = d
		}
	case "untilAnniversary":
		t = NextAnniversary(joined, addedAt, loc)
	case "untilAnniversaryPlusYear":
		t = addMonths(NextAnniversary(joined, addedAt, loc).In(loc), 12)
	default:
		return nil
	}
	t = t.UTC()
	return &t
}

// NextAnniversary returns the first anniversary instant strictly after
// after, for a customer who joined at joined: the start of the local day
// following the join date's month and day (Feb 29 falls on Feb 28 in other
// years), at least one year after joining (finding 19).
func NextAnniversary(joined, after time.Time, loc *time.Location) time.Time {
	j := joined.In(loc)
	for y := max(j.Year()+1, after.In(loc).Year()); ; y++ {
		day := j.Day()
		if j.Month() == time.February && day == 29 && !isLeap(y) {
			day = 28
		}
		a := time.Date(y, j.Month(), day+1, 0, 0, 0, 0, loc)
		if a.After(after) {
			return a
		}
	}
}

// addMonths adds n months, clamping to the end of a shorter month (Jan 31
// + 1 month = Feb 28 or 29).
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }
