package customer

import (
	"math/big"
	"time"

	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// The snapshot on the assessments topic is written from the subject the
// rules read and read back into one, so that a backtest answers every
// rules.Customer question as the processor did (SPEC-DECISIONS finding 34).
// It keeps only what the rules ask about this one event: every counter,
// the one day window of the event's type and nameSpace, and the segments
// live at createdAt.

// newAssessment returns the assessment record of ev: the event and what s,
// the subject its rules read, answers for it. basePoints is the economy's
// base points for ev and loc the tenant's zone.
func newAssessment(s *subject, ev *schemas.Event, loc *time.Location, basePoints int64) *schemas.Assessment {
	snap := schemas.CustomerSnapshot{
		TimeZone:   loc.String(),
		BasePoints: basePoints,
		Counters:   append([]schemas.TypeCounter{}, s.st.Counters...),
		PeakBefore: orZero(s.PreviousPeak(s.typ)),
		Segments:   []string{},
	}
	for i := range s.st.Windows {
		if w := s.st.Windows[i]; w.Type == string(s.typ) && w.NameSpace == ev.NameSpace {
			snap.Window = &w
		}
	}
	for _, m := range s.st.Segments {
		if s.InSegment(m.SegmentID, ev.CreatedAt) {
			snap.Segments = append(snap.Segments, m.SegmentID)
		}
	}
	if lvl := s.Level(); lvl != "" {
		snap.Level = &lvl
	}
	b := s.Points()
	snap.Balance, snap.PreviousBalance, snap.LifetimeEarned = b.Balance, b.PreviousBalance, b.LifetimeEarned
	c := s.Contact()
	snap.OptinEmail, snap.OptinSMS = c.OptinEmail, c.OptinSMS
	if c.EmailAddress != "" {
		snap.EmailAddress = &c.EmailAddress
	}
	if c.MobileNumber != "" {
		snap.MobileNumber = &c.MobileNumber
	}
	return &schemas.Assessment{
		TenantID: ev.TenantID, CustomerID: ev.CustomerID, EventID: ev.EventID,
		Event: *ev, Snapshot: snap,
	}
}

// SnapshotCustomer returns the customer of a snapshot as rules read it,
// for the event an assessment record holds: it answers every question
// of rules.Customer about that event as the processor's answered when the
// record was written. Questions about other nameSpaces' windows answer 0;
// the rules never ask them.
func SnapshotCustomer(a *schemas.Assessment) rules.Customer {
	snap := &a.Snapshot
	typ, _ := a.Event.Type()
	st := &schemas.CustomerState{
		Points: schemas.PointsSummary{
			Balance: snap.Balance, LifetimeEarned: snap.LifetimeEarned,
		},
		Counters: snap.Counters,
		Profile: schemas.Customer{
			EmailAddress: snap.EmailAddress, OptinEmail: snap.OptinEmail,
			MobileNumber: snap.MobileNumber, OptinSMS: snap.OptinSMS,
		},
	}
	if snap.Window != nil {
		st.Windows = []schemas.NameSpaceWindow{*snap.Window}
	}
	// Memberships live at createdAt, the only instant the rules ask about.
	for _, id := range snap.Segments {
		st.Segments = append(st.Segments, schemas.Membership{SegmentID: id, AddedAt: a.Event.CreatedAt})
	}
	return &subject{st: st, balanceBefore: snap.PreviousBalance, typ: typ, peakBefore: snap.PeakBefore}
}

func orZero(r *big.Rat) *big.Rat {
	if r == nil {
		return new(big.Rat)
	}
	return r
}
