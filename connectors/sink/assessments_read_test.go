package sink

import (
	"reflect"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// assessmentRecord is an assessment of orderEvent with every snapshot field
// set.
func assessmentRecord() *schemas.Assessment {
	ev := orderEvent()
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	return &schemas.Assessment{
		TenantID: ev.TenantID, CustomerID: ev.CustomerID, EventID: ev.EventID, Event: *ev,
		Snapshot: schemas.CustomerSnapshot{
			TimeZone: "Europe/Paris", BasePoints: 120,
			Counters: []schemas.TypeCounter{
				{Type: "order", Count: 3, Sum: dec("300.5"), MaxSum: dec("310")},
				{Type: "action", Count: 1, Sum: dec("0"), MaxSum: dec("0")},
			},
			PeakBefore: dec("310"),
			Window: &schemas.NameSpaceWindow{Type: "order", NameSpace: "Order.Web", Total: 3,
				FirstDay: day, LastUsed: ev.CreatedAt,
				Days: []schemas.DayCount{{Day: day, Count: 2}, {Day: day.AddDate(0, 0, 1), Count: 1}}},
			Segments: []string{"vip", "new"}, Level: ptr("gold"),
			Balance: 500, PreviousBalance: 380, LifetimeEarned: 900,
			EmailAddress: ptr("ann@example.com"), OptinEmail: true, OptinSMS: false,
		},
	}
}

// TestAssessmentJSONRoundTrip reads back the JSON columns of an assessment
// row into the record they were written from.
func TestAssessmentJSONRoundTrip(t *testing.T) {
	sparse := assessmentRecord()
	sparse.Event = *actionEvent()
	sparse.Snapshot = schemas.CustomerSnapshot{TimeZone: "UTC", PeakBefore: dec("0"), Segments: []string{}}
	for _, want := range []*schemas.Assessment{assessmentRecord(), sparse} {
		row := newAssessmentRow(origin{}, want)
		got := &schemas.Assessment{TenantID: want.TenantID, CustomerID: want.CustomerID, EventID: want.EventID}
		if err := readJSON([]byte(row.event), &got.Event); err != nil {
			t.Fatalf("reading event: %v\n%s", err, row.event)
		}
		if err := readJSON([]byte(row.snapshot), &got.Snapshot); err != nil {
			t.Fatalf("reading snapshot: %v\n%s", err, row.snapshot)
		}
		// Compared as JSON again: big.Rat values are equal without being
		// DeepEqual.
		if a, b := string(eventJSON(&got.Event)), row.event; a != b {
			t.Fatalf("event read back:\n%s\nwant\n%s", a, b)
		}
		back := newAssessmentRow(origin{}, got)
		if back.snapshot != row.snapshot {
			t.Fatalf("snapshot read back:\n%s\nwant\n%s", back.snapshot, row.snapshot)
		}
		if !reflect.DeepEqual(got.Event.CreatedAt, want.Event.CreatedAt) || got.Event.Order == nil != (want.Event.Order == nil) {
			t.Fatalf("event fields differ: %+v", got.Event)
		}
	}
}

func TestReadJSONRefusesOtherShapes(t *testing.T) {
	for _, doc := range []string{`[]`, `{"timeZone": 3}`, `{"counters": [{"sum": "x"}]}`,
		`{"window": {"firstDay": "yesterday"}}`, `{"segments": "vip"}`} {
		var s schemas.CustomerSnapshot
		if err := readJSON([]byte(doc), &s); err == nil {
			t.Errorf("readJSON(%s) = nil error, want one", doc)
		}
	}
}

// FuzzReadJSON reads arbitrary documents as events: never a panic, and what
// reads without error writes back to a document that reads the same.
func FuzzReadJSON(f *testing.F) {
	f.Add(string(eventJSON(orderEvent())))
	f.Add(string(eventJSON(errorEvent())))
	f.Add(`{"order": {"total": 1e400}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		var ev schemas.Event
		if err := readJSON([]byte(doc), &ev); err != nil {
			return
		}
		once := eventJSON(&ev)
		var again schemas.Event
		if err := readJSON(once, &again); err != nil {
			t.Fatalf("reading back %s: %v", once, err)
		}
		if twice := eventJSON(&again); string(twice) != string(once) {
			t.Fatalf("not stable:\n%s\n%s", once, twice)
		}
	})
}

func TestAssessmentsSQLRefusesBadTenant(t *testing.T) {
	now := time.Now()
	for _, id := range []string{"", "x' OR 1=1 --", "{6a1f0c62-8a4e-4f57-9a53-1d1f8f0c0001}"} {
		if _, err := assessmentsSQL("db", id, now, now); err == nil {
			t.Errorf("assessmentsSQL(tenant %q) = nil error, want one", id)
		}
	}
}

// TestAssessmentReaderOnServer stores an assessment row twice, as a
// redelivery does, and reads it back once through clickhouse-go.
func TestAssessmentReaderOnServer(t *testing.T) {
	conn, addr, db := testClickHouse(t)
	ctx := testContext(t, time.Minute)
	if _, err := Migrate(ctx, conn, db); err != nil {
		t.Fatalf("Migrate() error = %v", err)
	}
	want := assessmentRecord()
	row := newAssessmentRow(origin{}, want)
	for range 2 {
		if err := insertStep(t, assessmentsTable, db, &row).send(ctx, conn); err != nil {
			t.Fatal(err)
		}
	}
	r, err := OpenAssessmentReader(ctx, addr, WithDatabase(db))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	at := want.Event.CreatedAt
	tests := []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"window around it", at.Add(-time.Hour), at.Add(time.Hour), 1},
		{"window ending before it", at.Add(-time.Hour), at.Add(-time.Second), 0},
		{"window starting after it", at.Add(time.Second), at.Add(time.Hour), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []*schemas.Assessment
			err := r.Read(ctx, want.TenantID, tt.from, tt.to, func(a *schemas.Assessment) error {
				got = append(got, a)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Fatalf("read %d records, want %d", len(got), tt.want)
			}
			if tt.want == 1 && newAssessmentRow(origin{}, got[0]).snapshot != row.snapshot {
				t.Fatalf("snapshot read back: %+v", got[0].Snapshot)
			}
		})
	}
	if n, err := r.Count(ctx, want.TenantID, at.Add(-time.Hour), at.Add(time.Hour)); err != nil || n < 1 {
		t.Fatalf("Count() = %d, %v; want at least 1", n, err)
	}
}
