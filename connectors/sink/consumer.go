package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/tallymarks/tallymarks/schemas"
	"github.com/tallymarks/tallymarks/schemas/registry"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumer is the poll loop of one Run and the rebalance callbacks that share
// its buffer.
//
// Lock order: mu, then whatever franz-go takes inside CommitOffsetsSync.
// franz-go never calls a rebalance callback while holding a lock that
// CommitOffsetsSync needs, so the loop may commit while holding mu and a
// callback may wait for mu.
type consumer struct {
	cfg  *config
	conn driver.Conn
	cl   *kgo.Client
	log  *slog.Logger

	// mu guards everything below. The loop holds it while it adds polled
	// records or flushes; the rebalance callbacks hold it while they flush
	// and forget partitions. BlockRebalanceOnPoll already keeps callbacks
	// away between a poll that returned records and AllowRebalance; mu also
	// covers the flush that follows a poll that returned none.
	mu sync.Mutex
	// buf holds the rows not yet inserted.
	buf buffer
	// offsets holds, per owned partition, the offset after the last record
	// added to buf (inserted or skipped) and not yet committed. Committing
	// it before buf is inserted would skip rows for good if the sink then
	// stopped; that is the one thing the sink must never do.
	offsets map[string]map[int32]kgo.EpochOffset
	// firstAt is when the oldest record in buf was added; zero if none.
	firstAt time.Time
}

// buffer holds rows per table and counts the records behind them.
type buffer struct {
	events  []eventRow
	ledger  []ledgerRow
	errors  []errorRow
	assess  []assessmentRow
	records int // records added since the last flush, skipped ones too
}

func newConsumer(cfg *config, conn driver.Conn) *consumer {
	return &consumer{
		cfg:     cfg,
		conn:    conn,
		log:     cfg.log,
		offsets: map[string]map[int32]kgo.EpochOffset{},
	}
}

// kafkaOptions returns the client options. ctx is Run's: it bounds the
// flush a revocation makes.
func (c *consumer) kafkaOptions(ctx context.Context) []kgo.Opt {
	n := c.cfg.names
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.cfg.brokers...),
		kgo.ConsumerGroup(c.cfg.group),
		kgo.ConsumeTopics(n.Events(), n.Ledger(), n.Errors(), n.Assessments()),
		// A new group must see every record ever written, not only new ones.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// Offsets are committed by hand, after the insert they cover.
		kgo.DisableAutoCommit(),
		// Between a poll that returned records and AllowRebalance no
		// partition is taken away, so the offsets committed in between
		// belong to partitions the sink owns.
		kgo.BlockRebalanceOnPoll(),
		// Records of aborted transactions never reach the tables.
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.OnPartitionsAssigned(c.assigned),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, p map[string][]int32) {
			c.revoked(ctx, p)
		}),
		kgo.OnPartitionsLost(c.lost),
	}
	return append(opts, c.cfg.kafkaOpts...)
}

// run polls, buffers and flushes until ctx ends, then flushes once more.
func (c *consumer) run(ctx context.Context) error {
	for {
		// Wait for records, but no longer than the oldest buffered
		// record may wait for its insert.
		pctx, cancel := c.pollContext(ctx)
		fetches := c.cl.PollRecords(pctx, c.room())
		cancel()
		if ctx.Err() != nil || fetches.IsClientClosed() {
			break
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return // the flush interval ended
			}
			c.log.Warn("fetch failed", "topic", topic, "partition", partition, "err", err)
		})

		// Buffer what came and flush if the batch is full or due. The
		// flush happens before AllowRebalance, so its commit covers only
		// partitions that are still ours.
		c.mu.Lock()
		err := c.addAll(ctx, fetches)
		if err == nil && c.due(time.Now()) {
			err = c.flushLocked(ctx)
		}
		c.mu.Unlock()
		if err != nil {
			break // only an ending ctx fails adding or flushing
		}
		c.cl.AllowRebalance()
	}

	// Still before AllowRebalance: the last commit, too, covers only
	// partitions that are ours.
	c.shutdown(ctx)
	c.cl.AllowRebalance()
	return nil
}

// pollContext bounds a poll by the flush deadline of the buffered records.
func (c *consumer) pollContext(ctx context.Context) (context.Context, context.CancelFunc) {
	c.mu.Lock()
	first := c.firstAt
	c.mu.Unlock()
	if first.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, first.Add(c.cfg.flushInterval))
}

// room returns how many records a poll may return without overfilling the
// batch; at least one.
func (c *consumer) room() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(c.cfg.batchSize-c.buf.records, 1)
}

// due reports whether buf must be flushed now. Called with mu held.
func (c *consumer) due(now time.Time) bool {
	if c.buf.records >= c.cfg.batchSize {
		return true
	}
	return !c.firstAt.IsZero() && !now.Before(c.firstAt.Add(c.cfg.flushInterval))
}

// addAll adds the polled records to buf, in order. It fails only when ctx
// ends while the schema registry cannot be reached; the records from that
// one on are then neither buffered nor committed, and are read again by
// whoever owns their partitions next. Called with mu held.
func (c *consumer) addAll(ctx context.Context, fetches kgo.Fetches) error {
	for it := fetches.RecordIter(); !it.Done(); {
		if err := c.add(ctx, it.Next()); err != nil {
			return err
		}
	}
	return nil
}

// add converts one record into a row of buf and advances the partition's
// offset past it. A record that cannot be decoded or converted is skipped
// with a warning: the processor dead-letters bad input, and a sink stuck on
// one record would stop reporting for its whole partition. A record that
// could not be decoded because the schema registry is unreachable is not
// bad, and skipping it would lose it: it is retried, with backoff, until
// the registry answers or ctx ends. Called with mu held.
func (c *consumer) add(ctx context.Context, r *kgo.Record) error {
	src := origin{topic: r.Topic, partition: r.Partition, offset: r.Offset}
	b := newBackoff(c.cfg)
	for {
		err := c.convert(r, src)
		if err == nil {
			break
		}
		if !registry.IsRetryable(err) {
			c.log.Warn("skipping record", "topic", r.Topic, "partition", r.Partition,
				"offset", r.Offset, "err", err)
			break
		}
		c.log.Warn("schema registry unavailable, retrying", "topic", r.Topic,
			"partition", r.Partition, "offset", r.Offset, "retry_in", b.next, "err", err)
		if err := b.wait(ctx); err != nil {
			return err
		}
	}

	c.buf.records++
	if c.firstAt.IsZero() {
		c.firstAt = time.Now()
	}
	parts := c.offsets[r.Topic]
	if parts == nil {
		parts = map[int32]kgo.EpochOffset{}
		c.offsets[r.Topic] = parts
	}
	parts[r.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
	return nil
}

// convert decodes r by its topic and appends its row to buf.
func (c *consumer) convert(r *kgo.Record, src origin) error {
	switch r.Topic {
	case c.cfg.names.Events():
		ev := new(schemas.Event)
		if err := c.cfg.dec.Decode(r.Value, schemas.EventSchema, ev); err != nil {
			return fmt.Errorf("decoding event: %w", err)
		}
		row, err := newEventRow(src, ev)
		if err != nil {
			return err
		}
		c.buf.events = append(c.buf.events, row)
	case c.cfg.names.Ledger():
		e := new(schemas.LedgerEntry)
		if err := c.cfg.dec.Decode(r.Value, schemas.LedgerEntrySchema, e); err != nil {
			return fmt.Errorf("decoding ledger entry: %w", err)
		}
		c.buf.ledger = append(c.buf.ledger, newLedgerRow(src, e))
	case c.cfg.names.Errors():
		ev := new(schemas.Event)
		if err := c.cfg.dec.Decode(r.Value, schemas.EventSchema, ev); err != nil {
			return fmt.Errorf("decoding error event: %w", err)
		}
		row, err := newErrorRow(src, ev)
		if err != nil {
			return err
		}
		c.buf.errors = append(c.buf.errors, row)
	case c.cfg.names.Assessments():
		a := new(schemas.Assessment)
		if err := c.cfg.dec.Decode(r.Value, schemas.AssessmentSchema, a); err != nil {
			return fmt.Errorf("decoding assessment: %w", err)
		}
		c.buf.assess = append(c.buf.assess, newAssessmentRow(src, a))
	default:
		return fmt.Errorf("record of unexpected topic %q", r.Topic)
	}
	return nil
}

// flushLocked inserts buf, retrying until ClickHouse accepts it, and then
// commits the offsets. It returns an error only when ctx ends first; the
// rows not yet inserted stay in buf and no offset is committed. Called with
// mu held.
func (c *consumer) flushLocked(ctx context.Context) error {
	if err := insertAll(ctx, c, eventsTable, &c.buf.events); err != nil {
		return err
	}
	if err := insertAll(ctx, c, ledgerTable, &c.buf.ledger); err != nil {
		return err
	}
	if err := insertAll(ctx, c, errorsTable, &c.buf.errors); err != nil {
		return err
	}
	if err := insertAll(ctx, c, assessmentsTable, &c.buf.assess); err != nil {
		return err
	}
	c.buf.records, c.firstAt = 0, time.Time{}

	// Every row up to the offsets is in ClickHouse now.
	c.commitLocked(ctx)
	return nil
}

// commitLocked commits the pending offsets. A failed commit is logged and
// kept for the next one: the records behind it are inserted already, so
// the worst outcome is that they are read and inserted again, which the
// tables absorb. Called with mu held.
func (c *consumer) commitLocked(ctx context.Context) {
	if len(c.offsets) == 0 {
		return
	}
	var cerr error
	c.cl.CommitOffsetsSync(ctx, c.offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest,
		resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			cerr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil && cerr == nil {
					cerr = fmt.Errorf("topic %s partition %d: %w", t.Topic, p.Partition, err)
				}
			}
		}
	})
	if cerr != nil {
		c.log.Warn("committing offsets failed; the records will be read again",
			"group", c.cfg.group, "err", cerr)
		return
	}
	c.log.Debug("offsets committed", "offsets", c.offsets)
	clear(c.offsets)
}

// shutdown makes a last attempt, bounded by the shutdown timeout, to insert
// and commit what is buffered. What it cannot insert it drops uncommitted;
// the next owner of the partitions reads it again.
func (c *consumer) shutdown(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf.records == 0 && len(c.offsets) == 0 {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.shutdownTimeout)
	defer cancel()
	if err := c.flushLocked(sctx); err != nil {
		c.log.Warn("buffered records not inserted before shutdown; they will be read again",
			"records", c.buf.records, "err", err)
	}
	c.buf = buffer{}
	c.firstAt = time.Time{}
	clear(c.offsets)
}

// assigned logs new partitions; their records start at the committed
// offset, or at the earliest one for a new group.
func (c *consumer) assigned(_ context.Context, _ *kgo.Client, p map[string][]int32) {
	if len(p) > 0 {
		c.log.Info("partitions assigned", "group", c.cfg.group, "partitions", p)
	}
}

// revoked runs before partitions move to another member. It flushes and
// commits now: once it returns the new owner starts from the committed
// offset, and rows we buffered but did not insert would be lost for good if
// we committed them later, or be committed over the new owner's progress.
// If ctx ends first, nothing more is committed for these partitions and the
// new owner reads their uninserted records again.
func (c *consumer) revoked(ctx context.Context, p map[string][]int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(p) > 0 {
		c.log.Info("partitions revoked", "group", c.cfg.group, "partitions", p)
	}
	if c.buf.records > 0 || len(c.offsets) > 0 {
		if err := c.flushLocked(ctx); err != nil {
			c.log.Warn("buffered records not inserted before revocation; they will be read again",
				"records", c.buf.records, "err", err)
		}
	}
	c.forgetLocked(p)
}

// lost runs when the group session ended without a clean revocation, for
// example after a missed heartbeat. Committing for these partitions could
// move back another member's position, so their offsets are dropped. Their
// buffered rows are still inserted with the next flush: the new owner
// inserts them again, which the tables absorb.
func (c *consumer) lost(_ context.Context, _ *kgo.Client, p map[string][]int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log.Warn("partitions lost", "group", c.cfg.group, "partitions", p)
	c.forgetLocked(p)
}

// forgetLocked drops the pending offsets of partitions no longer owned.
func (c *consumer) forgetLocked(p map[string][]int32) {
	for topic, parts := range p {
		for _, part := range parts {
			delete(c.offsets[topic], part)
		}
		if len(c.offsets[topic]) == 0 {
			delete(c.offsets, topic)
		}
	}
}
