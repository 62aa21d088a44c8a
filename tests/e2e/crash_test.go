package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tallymarks/tallymarks/cmd/tallymarks/app"
	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
	"github.com/tallymarks/tallymarks/schemas/registry"
	"github.com/tallymarks/tallymarks/tests/testenv"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// tallymarksBinary builds cmd/tallymarks once per test run, so that a test
// can run and kill the processor as a separate process.
func tallymarksBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tallymarks-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tallymarks")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/tallymarks").CombinedOutput()
		if err != nil {
			buildErr = &buildError{out: string(out), err: err}
		}
	})
	if buildErr != nil {
		t.Fatalf("building tallymarks: %v", buildErr)
	}
	return binPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// startProcessor runs `tallymarks serve --roles=processor` as a child
// process with extra flags; the test kills it or it is stopped at cleanup.
func startProcessor(t *testing.T, s *stack, extra ...string) *exec.Cmd {
	t.Helper()
	args := append([]string{"serve", "--roles=processor",
		"--kafka=" + s.brokers[0], "--schema-registry=" + s.regURL,
		"--topic-prefix=" + s.cfg.TopicPrefix, "--partitions=3"}, extra...)
	cmd := exec.Command(tallymarksBinary(t), args...)
	if os.Getenv("TALLYMARKS_TEST_LOGS") == "1" {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting processor: %v", err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		}
	})
	return cmd
}

// startAPIStack starts an API-only stack on a shared broker and a schema
// registry of its own, for tests that run the processor as a child process
// (startProcessor) and kill it.
func startAPIStack(t *testing.T) *stack {
	t.Helper()
	kafka := testenv.NewKafka(t)
	reg, err := registry.NewLocal("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	return startStack(t, stackOptions{roles: []string{app.RoleAPI}, brokers: kafka.Brokers, registry: reg.URL()})
}

// TestProcessorKilledBeforeCommit kills the processor with SIGKILL after it
// processed an order but before it committed the order's offset, then
// restarts it. The order is redelivered; the customer must end with the
// points of each order exactly once, and the ledger must hold one entry id
// per award.
func TestProcessorKilledBeforeCommit(t *testing.T) {
	s := startAPIStack(t)
	names := topics.New(s.cfg.TopicPrefix)
	cust := uuid.NewString()

	// A commit interval of an hour: whatever the processor consumes now
	// stays uncommitted until it is killed.
	proc := startProcessor(t, s, "--commit-interval=1h")
	post := func(total float64) {
		r := s.do("POST", "/events/orders", map[string]any{
			"eventId": uuid.NewString(), "customerId": cust, "nameSpace": "Order.Web",
			"order": map[string]any{"total": total},
		}, nil)
		if r.status != 200 {
			t.Fatalf("posting order: %d %s", r.status, r.raw)
		}
	}
	post(100)
	s.waitBalance(cust, 100)
	if n := committed(t, s.brokers, string(names.CustomerGroup()), names.Events()); n != 0 {
		t.Fatalf("processor committed %d offsets before the kill; the test needs none", n)
	}

	if err := proc.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()

	startProcessor(t, s)
	post(50)
	s.waitBalance(cust, 150)
	// Every record of the events topic committed: the two orders and the
	// system Points events recorded with them.
	eventually(t, 30*time.Second, "offsets committed after restart", func() (bool, string) {
		n, end := committed(t, s.brokers, string(names.CustomerGroup()), names.Events()), eventRecords(t, s)
		return n == end, "committed " + itoa(n) + " of " + itoa(end)
	})
	if got := s.balance(cust); got != 150 {
		t.Fatalf("balance = %d after restart, want 150", got)
	}

	entries := ledgerEntries(t, s, names.Ledger())
	byID := map[string]schemas.LedgerEntry{}
	var sum int64
	for _, e := range entries {
		if prev, ok := byID[e.EntryID]; ok {
			if prev.Points != e.Points || prev.EventID != e.EventID {
				t.Fatalf("entry %s emitted twice with different content", e.EntryID)
			}
			continue
		}
		byID[e.EntryID] = e
		sum += e.Points
	}
	if len(byID) != 2 || sum != 150 {
		t.Fatalf("ledger has %d distinct entries worth %d points (%d records), want 2 worth 150",
			len(byID), sum, len(entries))
	}
	t.Logf("ledger records: %d, distinct entries: %d", len(entries), len(byID))
}

// committed returns the sum of the offsets group has committed on topic.
func committed(t *testing.T, brokers []string, group, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err != nil {
		return 0 // the group does not exist yet
	}
	var n int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.At > 0 {
			n += o.At
		}
	})
	return n
}

// ledgerEntries reads every record of the ledger topic.
func ledgerEntries(t *testing.T, s *stack, topic string) []schemas.LedgerEntry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := reg(s)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	ends.Each(func(o kadm.ListedOffset) { want += o.Offset })

	var out []schemas.LedgerEntry
	for int64(len(out)) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d ledger records", len(out), want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			var e schemas.LedgerEntry
			if err := rc.Decode(r.Value, schemas.LedgerEntrySchema, &e); err != nil {
				t.Fatalf("decoding ledger record: %v", err)
			}
			out = append(out, e)
		})
	}
	return out
}

func reg(s *stack) (*registry.Serde, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := registryClient(s.regURL)
	if err != nil {
		return nil, err
	}
	return registry.New(ctx, cl, registry.Subjects(topics.New(s.cfg.TopicPrefix)))
}
