// Package sink copies TallyMarks' Kafka topics into ClickHouse for
// reporting: every event, ledger entry, error event and assessment record
// becomes one row. It also reads assessment records back for backtests
// (AssessmentReader).
//
// The sink is idempotent rather than exactly-once. Each row carries the
// record's deterministic id (eventId, entryId) and lands in a
// ReplacingMergeTree table ordered by that id, and every view deduplicates at
// query time. A record read twice, after a crash, a rebalance or a replay,
// is stored twice until ClickHouse merges the parts, and is counted once by
// every query written as docs/clickhouse.md describes.
//
// Offsets are committed only after ClickHouse accepted the rows of every
// record up to them, and only for partitions the sink still owns, so a
// record is never skipped by a commit: a record is either in ClickHouse or
// will be read again.
package sink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/tallymarks/tallymarks/schemas"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"
)

// Decoder decodes a record value in the Confluent wire format into v, a
// pointer to the Go type of schema n. *registry.Serde is one. Errors for
// which registry.IsRetryable reports true (the registry could not be asked)
// are retried; every other error marks the record as bad, and it is
// skipped.
type Decoder interface {
	Decode(b []byte, n schemas.Name, v any) error
}

// Sink consumes the events, ledger, errors and assessments topics into
// ClickHouse. Create it with New and start it with Run.
type Sink struct {
	cfg config
}

// New returns a Sink that reads from the Kafka brokers and writes to the
// ClickHouse server at clickhouseAddr (host:port of the native protocol;
// the HTTP protocol is not supported, since ClickHouse 18.16 refuses the
// driver's HTTP settings), decoding records with dec. It connects to
// nothing; Run does. The error wraps ErrConfig and lists every invalid
// option.
func New(brokers []string, clickhouseAddr string, dec Decoder, opts ...Option) (*Sink, error) {
	cfg := defaultConfig()
	cfg.brokers, cfg.addr, cfg.dec = brokers, clickhouseAddr, dec
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.group == "" {
		cfg.group = cfg.names.Prefix() + "sink"
	}
	errs := cfg.validate()
	if _, err := loadMigrations(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}
	return &Sink{cfg: cfg}, nil
}

// Run connects to ClickHouse and applies the migrations, then consumes until
// ctx ends. While ClickHouse cannot be reached it waits and retries, with
// the retry backoff; it fails at once on an error that waiting cannot fix,
// such as refused credentials or a refused migration. On the way out it
// inserts and commits what it buffered, for at most the shutdown timeout,
// leaves the consumer group and closes its connections. It returns nil
// after a clean stop caused by ctx.
//
// Each call of Run opens its own connections, so a Sink may be run again
// after Run returned. Several sinks, in one process or many, may share a
// group and a database: the migrations are safe to run concurrently and the
// group shares the partitions out.
func (s *Sink) Run(ctx context.Context) (err error) {
	log := s.cfg.log

	// ClickHouse first: there is no point in joining the group before the
	// tables exist. A server that is down or restarting is waited for, so
	// that it does not take the rest of the process down with it.
	conn, err := s.connectRetrying(ctx)
	if conn == nil {
		return err
	}
	defer func() {
		if cerr := conn.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing clickhouse connection: %w", cerr))
		}
	}()

	// Then Kafka. The consumer's callbacks need the client and the client
	// needs the callbacks, so the consumer is built first and the client
	// attached.
	c := newConsumer(&s.cfg, conn)
	cl, err := kgo.NewClient(c.kafkaOptions(ctx)...)
	if err != nil {
		return fmt.Errorf("creating kafka client: %w", err)
	}
	c.cl = cl
	log.Info("sink started",
		"group", s.cfg.group, "database", s.cfg.database,
		"topics", []string{s.cfg.names.Events(), s.cfg.names.Ledger(), s.cfg.names.Errors(),
			s.cfg.names.Assessments()},
		"batch_size", s.cfg.batchSize, "flush_interval", s.cfg.flushInterval)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.run(gctx) })
	err = g.Wait()

	// Close leaves the group; the revoke callback it triggers finds the
	// buffer empty, since run flushed or dropped it on the way out.
	cl.Close()
	log.Info("sink stopped", "group", s.cfg.group)
	return err
}

// connectRetrying connects until it succeeds, ctx ends (nil, nil) or an
// error that waiting cannot fix occurs (nil, err).
func (s *Sink) connectRetrying(ctx context.Context) (driver.Conn, error) {
	b := newBackoff(&s.cfg)
	for {
		conn, err := s.connect(ctx)
		switch {
		case err == nil:
			return conn, nil
		case ctx.Err() != nil:
			return nil, nil
		case !transient(err):
			return nil, err
		}
		s.cfg.log.Warn("clickhouse unavailable at start, retrying",
			"addr", s.cfg.addr, "retry_in", b.next, "err", err)
		if b.wait(ctx) != nil {
			return nil, nil
		}
	}
}

// connect opens a connection to ClickHouse and applies the migrations.
func (s *Sink) connect(ctx context.Context) (driver.Conn, error) {
	conn, err := s.openClickHouse(ctx)
	if err != nil {
		return nil, err
	}
	applied, err := Migrate(ctx, conn, s.cfg.database)
	if err != nil {
		_ = conn.Close() // the migration error is the one worth returning
		return nil, err
	}
	if len(applied) > 0 {
		s.cfg.log.Info("clickhouse migrations applied",
			"database", s.cfg.database, "migrations", applied)
	}
	return conn, nil
}

// openClickHouse connects to the server's default database: the sink's own
// may not exist yet, and every statement names it explicitly.
func (s *Sink) openClickHouse(ctx context.Context) (driver.Conn, error) {
	return openConn(ctx, &s.cfg)
}

// openConn connects to the ClickHouse server of cfg and pings it.
func openConn(ctx context.Context, cfg *config) (driver.Conn, error) {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Protocol: clickhouse.Native,
		Addr:     []string{cfg.addr},
		Auth: clickhouse.Auth{
			Database: "default",
			Username: cfg.username,
			Password: cfg.password,
		},
		ClientInfo: clickhouse.ClientInfo{
			Products: []struct{ Name, Version string }{{Name: "tallymarks-sink", Version: "1"}},
		},
		Compression:  &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
		DialTimeout:  10 * time.Second,
		MaxOpenConns: 2,
		MaxIdleConns: 2,
	})
	if err != nil {
		return nil, fmt.Errorf("opening clickhouse %s: %w", cfg.addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		_ = conn.Close() // the ping error is the one worth returning
		return nil, fmt.Errorf("pinging clickhouse %s: %w", cfg.addr, err)
	}
	return conn, nil
}
