package rules

import (
	"fmt"
	"strconv"
	"time"
)

// dateLayout is how a bare date is written: 2026-03-01.
const dateLayout = "2006-01-02"

// Date is a calendar day without a zone. Rules use it for bare dates,
// which mean local days in the tenant's zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("parsing date %q: %w", s, err)
	}
	return DateOf(t, time.UTC), nil
}

// DateOf returns the local day of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// String writes the date as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// MarshalJSON writes the date as a JSON string, YYYY-MM-DD.
func (d Date) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(d.String())), nil
}

// AddDays returns the date n days later (earlier for negative n).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC), time.UTC)
}

// AddMonths returns the same day n months later (earlier for negative n),
// clamped to the last day of a shorter month: 31 March minus one month is
// 28 or 29 February, not 3 March.
func (d Date) AddMonths(n int) Date {
	first := time.Date(d.Year, d.Month+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return Date{first.Year(), first.Month(), min(d.Day, last)}
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// Start returns the first instant of the day in loc. It is DST-safe: where
// a transition skips local midnight, the day starts at the transition.
func (d Date) Start(loc *time.Location) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
	if DateOf(t, loc) != d {
		// Midnight does not exist that day and time.Date chose the offset
		// before the gap, landing on the previous evening. The day begins
		// when that zone ends.
		_, end := t.ZoneBounds()
		t = end
	}
	return t
}

// Bound is a rule's validFrom or validTo: an instant, or a bare date that
// means a local day in the tenant's zone.
type Bound struct {
	// Instant is set for an RFC 3339 bound.
	Instant time.Time
	// Date is set, and Instant zero, for a bare date.
	Date Date
}

// IsDate reports whether the bound is a bare date.
func (b *Bound) IsDate() bool { return b.Instant.IsZero() }

// From returns the bound as the first instant it admits: the instant, or
// the start of the local day.
func (b *Bound) From(loc *time.Location) time.Time {
	if b.IsDate() {
		return b.Date.Start(loc)
	}
	return b.Instant
}

// Until returns the bound as the first instant it excludes: the instant,
// or the start of the local day after the date, so that a bare validTo
// includes its whole day.
func (b *Bound) Until(loc *time.Location) time.Time {
	if b.IsDate() {
		return b.Date.AddDays(1).Start(loc)
	}
	return b.Instant
}

// MarshalJSON writes the bound as given: YYYY-MM-DD or RFC 3339.
func (b Bound) MarshalJSON() ([]byte, error) {
	if b.IsDate() {
		return b.Date.MarshalJSON()
	}
	return []byte(strconv.Quote(b.Instant.Format(time.RFC3339Nano))), nil
}

// parseBound reads YYYY-MM-DD or RFC 3339 with an offset.
func parseBound(s string) (Bound, bool) {
	if len(s) == len(dateLayout) {
		d, err := ParseDate(s)
		return Bound{Date: d}, err == nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.IsZero() {
		return Bound{}, false
	}
	return Bound{Instant: t}, true
}

// calendarPeriod returns the calendar period of unit (day, week, month,
// year) in loc that contains t: a key naming it and the instant it ends.
// Keys are 2026-03-01, 2026-W09 (ISO weeks, Monday first), 2026-03, 2026.
func calendarPeriod(t time.Time, unit string, loc *time.Location) (key string, end time.Time) {
	day := DateOf(t, loc)
	switch unit {
	case "week":
		y, w := t.In(loc).ISOWeek()
		monday := day.AddDays(-((int(t.In(loc).Weekday()) + 6) % 7))
		return fmt.Sprintf("%04d-W%02d", y, w), monday.AddDays(7).Start(loc)
	case "month":
		next := Date{day.Year, day.Month, 1}.AddMonths(1)
		return fmt.Sprintf("%04d-%02d", day.Year, day.Month), next.Start(loc)
	case "year":
		return fmt.Sprintf("%04d", day.Year), Date{day.Year + 1, time.January, 1}.Start(loc)
	default: // day
		return day.String(), day.AddDays(1).Start(loc)
	}
}
