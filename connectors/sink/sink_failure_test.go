package sink

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSinkClickHouseDown cuts the sink off from ClickHouse and checks that
// it commits nothing it has not inserted, and that the rows arrive once
// ClickHouse is back, whether the sink waited or was restarted meanwhile.
func TestSinkClickHouseDown(t *testing.T) {
	tests := []struct {
		name    string
		restart bool // stop the sink while ClickHouse is down, start a new one after
	}{
		{"sink waits", false},
		{"sink stopped while down and restarted", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, chAddr, db := testClickHouse(t)
			ctx := testContext(t, 3*time.Minute)
			env := newKafkaEnv(ctx, t)
			px := newProxy(t, chAddr)
			group := env.prefix + "sink"
			failed := make(chan struct{}, 1)
			opts := []Option{
				WithGroup(group),
				WithShutdownTimeout(300 * time.Millisecond),
				WithLogger(slog.New(&signalHandler{
					Handler: slog.NewTextHandler(t.Output(), nil),
					msg:     "inserting into clickhouse failed, retrying",
					c:       failed,
				})),
			}

			// Up: the first entry is inserted and committed.
			stop := env.startSink(ctx, t, px.addr(), db, opts...)
			env.produce(ctx, t, env.entryRecord(t, "earn-1", 100))
			env.waitCommitted(ctx, t, group)
			before := env.committed(ctx, t, group)

			// Down: the second entry is read but cannot be inserted, so its
			// offset must not be committed.
			px.setUp(false)
			env.produce(ctx, t, env.entryRecord(t, "spend-1", -30))
			select {
			case <-failed:
			case <-ctx.Done():
				t.Fatal("the sink never failed to insert")
			}
			if after := env.committed(ctx, t, group); after != before {
				t.Fatalf("committed offsets moved from %v to %v while ClickHouse was down",
					before, after)
			}
			if tt.restart {
				stop()
				if after := env.committed(ctx, t, group); after != before {
					t.Fatalf("committed offsets moved from %v to %v at shutdown", before, after)
				}
			}

			// Up again: the row arrives, now committed.
			px.setUp(true)
			if tt.restart {
				env.startSink(ctx, t, px.addr(), db, opts...)
			}
			env.waitCommitted(ctx, t, group)
			got := queryStrings(ctx, t, conn, "SELECT balance, entries FROM "+db+
				".points_balance WHERE customer_id = ?", customerID)
			compareRows(t, "points_balance", got,
				[]map[string]string{{"balance": "70", "entries": "2"}})
		})
	}
}

// TestSinkRebalance moves partitions between two sinks of one group while
// records flow, and checks that every record arrives once and that the
// group ends committed at the end of every partition.
func TestSinkRebalance(t *testing.T) {
	conn, chAddr, db := testClickHouse(t)
	ctx := testContext(t, 3*time.Minute)
	env := newKafkaEnv(ctx, t)
	group := env.prefix + "sink"
	const perRound = 60

	round := func(i int) {
		recs := make([]*kgo.Record, perRound)
		for j := range recs {
			recs[j] = env.customerEntry(t, fmt.Sprintf("r%d-%d", i, j), int64(j+1))
		}
		env.produce(ctx, t, recs...)
	}

	// A alone; B joins and takes partitions from A while records flow; A
	// leaves and B takes everything.
	stopA := env.startSink(ctx, t, chAddr, db, WithGroup(group), WithBatchSize(7))
	round(1)
	env.waitCommitted(ctx, t, group)
	assignedB := make(chan struct{}, 1)
	stopB := env.startSink(ctx, t, chAddr, db, WithGroup(group), WithBatchSize(7),
		WithLogger(slog.New(&signalHandler{
			Handler: slog.NewTextHandler(t.Output(), nil),
			msg:     "partitions assigned",
			c:       assignedB,
		})))
	for b := false; !b; {
		select {
		case <-assignedB:
			b = env.memberCount(ctx, t, group) == 2
		case <-ctx.Done():
			t.Fatal("B never got partitions")
		}
	}
	round(2)
	env.waitCommitted(ctx, t, group)
	round(3)
	stopA()
	round(4)
	env.waitCommitted(ctx, t, group)
	stopB()

	got := queryStrings(ctx, t, conn,
		"SELECT count() AS n, uniqExact(entry_id) AS ids FROM "+db+".ledger FINAL")
	want := fmt.Sprint(4 * perRound)
	compareRows(t, "ledger", got, []map[string]string{{"n": want, "ids": want}})
	raw := queryStrings(ctx, t, conn, "SELECT count() AS n FROM "+db+".ledger")
	t.Logf("ledger holds %s rows before merges, %s after deduplication", raw[0]["n"], want)
}

// entryRecord encodes a ledger entry of the test customer with a stable id
// derived from name.
func (env *kafkaEnv) entryRecord(t *testing.T, name string, points int64) *kgo.Record {
	t.Helper()
	return env.ledgerRecord(t, customerID, name, points)
}

// customerEntry encodes a ledger entry of a customer of its own, so that the
// entries spread over every partition.
func (env *kafkaEnv) customerEntry(t *testing.T, name string, points int64) *kgo.Record {
	t.Helper()
	customer := uuid.NewSHA1(uuid.NameSpaceOID, []byte("customer/"+name)).String()
	return env.ledgerRecord(t, customer, name, points)
}

func (env *kafkaEnv) ledgerRecord(t *testing.T, customer, name string, points int64) *kgo.Record {
	t.Helper()
	typ := schemas.EntryEarn
	if points < 0 {
		typ = schemas.EntrySpend
	}
	e := &schemas.LedgerEntry{
		EntryID:    uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)).String(),
		TenantID:   tenantID,
		CustomerID: customer,
		Type:       typ,
		Points:     points,
		EventID:    uuid.NewSHA1(uuid.NameSpaceOID, []byte("event/"+name)).String(),
		Source:     schemas.SourcePoints,
		OccurredAt: at("2024-05-05T05:05:05.005Z"),
		RecordedAt: at("2024-05-05T05:05:06.006Z"),
	}
	b, err := env.serde.Encode(schemas.LedgerEntrySchema, e)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte(topics.Key(tenantID, customer))
	return &kgo.Record{Topic: env.names.Ledger(), Key: key, Value: b}
}

// memberCount returns how many members of group hold partitions.
func (env *kafkaEnv) memberCount(ctx context.Context, t *testing.T, group string) int {
	t.Helper()
	groups, err := env.adm.DescribeGroups(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range groups[group].Members {
		if a, ok := m.Assigned.AsConsumer(); ok && len(a.Topics) > 0 {
			n++
		}
	}
	return n
}

// committed returns the group's committed offsets of the sink's topics as
// text, for comparing two moments.
func (env *kafkaEnv) committed(ctx context.Context, t *testing.T, group string) string {
	t.Helper()
	offs, err := env.adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(offs.Offsets().Sorted())
}

// signalHandler sends on c, without blocking, whenever a record with message
// msg is logged.
type signalHandler struct {
	slog.Handler
	msg string
	c   chan struct{}
}

func (h *signalHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.c <- struct{}{}:
		default:
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h *signalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &signalHandler{Handler: h.Handler.WithAttrs(as), msg: h.msg, c: h.c}
}

func (h *signalHandler) WithGroup(name string) slog.Handler {
	return &signalHandler{Handler: h.Handler.WithGroup(name), msg: h.msg, c: h.c}
}

// proxy forwards TCP connections to a target while up; while down it closes
// every connection, open or new, as a ClickHouse that went away would.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	up    bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, up: true, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.serve)
	t.Cleanup(func() {
		_ = ln.Close()
		p.setUp(false)
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) setUp(up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = up
	if !up {
		for c := range p.conns {
			_ = c.Close()
		}
		clear(p.conns)
	}
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.forward(c) })
	}
}

func (p *proxy) forward(c net.Conn) {
	p.mu.Lock()
	if !p.up {
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	p.mu.Unlock()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if !p.up {
		p.mu.Unlock()
		_ = c.Close()
		_ = s.Close()
		return
	}
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	p.mu.Unlock()

	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src) // ends when either side closes; then close both
		_ = dst.Close()
		_ = src.Close()
	}
	wg.Go(func() { pipe(s, c) })
	wg.Go(func() { pipe(c, s) })
	wg.Wait()
}
