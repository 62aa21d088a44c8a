package sink

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Defaults of the options.
const (
	DefaultDatabase        = "tallymarks"
	DefaultBatchSize       = 5000
	DefaultFlushInterval   = time.Second
	DefaultRetryMin        = 100 * time.Millisecond
	DefaultRetryMax        = 10 * time.Second
	DefaultShutdownTimeout = 10 * time.Second
)

// Option configures a Sink.
type Option func(*config)

type config struct {
	brokers         []string
	addr            string
	dec             Decoder
	database        string
	names           topics.Names
	group           string
	batchSize       int
	flushInterval   time.Duration
	log             *slog.Logger
	kafkaOpts       []kgo.Opt
	username        string
	password        string
	retryMin        time.Duration
	retryMax        time.Duration
	shutdownTimeout time.Duration
}

func defaultConfig() config {
	return config{
		database:        DefaultDatabase,
		names:           topics.New(topics.DefaultPrefix),
		batchSize:       DefaultBatchSize,
		flushInterval:   DefaultFlushInterval,
		log:             slog.New(slog.DiscardHandler),
		retryMin:        DefaultRetryMin,
		retryMax:        DefaultRetryMax,
		shutdownTimeout: DefaultShutdownTimeout,
	}
}

// WithDatabase sets the ClickHouse database that holds the tables; it is
// created if absent. Default "tallymarks". The name must be a plain
// identifier: letters, digits and underscores, not starting with a digit.
func WithDatabase(name string) Option { return func(c *config) { c.database = name } }

// WithTopics sets the topic names to read. Default topics.New("tallymarks.").
// The sink reads Events, Ledger and Errors.
func WithTopics(n topics.Names) Option { return func(c *config) { c.names = n } }

// WithGroup sets the Kafka consumer group. Default "<topic prefix>sink", for
// example "tallymarks.sink". Sinks sharing a group share the partitions;
// a new group reads every topic again from its earliest offset.
func WithGroup(id string) Option { return func(c *config) { c.group = id } }

// WithBatchSize sets the most records buffered before they are inserted and
// committed. Default 5000; ClickHouse prefers few large inserts to many small
// ones.
func WithBatchSize(records int) Option { return func(c *config) { c.batchSize = records } }

// WithFlushInterval sets how long the first buffered record waits before the
// buffer is inserted even if it is not full. Default 1 s. It bounds how far
// ClickHouse lags behind Kafka while records keep arriving.
func WithFlushInterval(d time.Duration) Option { return func(c *config) { c.flushInterval = d } }

// WithLogger sets the logger. Default: discard everything.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithKafkaOptions adds franz-go client options, such as TLS or SASL, after
// the sink's own. Options that change group semantics (auto-commit, the
// rebalance callbacks, BlockRebalanceOnPoll) must not be passed: the sink's
// guarantee that it never commits an uninserted record depends on them.
func WithKafkaOptions(opts ...kgo.Opt) Option {
	return func(c *config) { c.kafkaOpts = append(c.kafkaOpts, opts...) }
}

// WithClickHouseAuth sets the ClickHouse user and password. Default: user
// "default" with no password.
func WithClickHouseAuth(user, password string) Option {
	return func(c *config) { c.username, c.password = user, password }
}

// WithRetryBackoff sets the wait before the first retry of a failed insert
// and the most it grows to, doubling on each failure. Defaults 100 ms and
// 10 s.
func WithRetryBackoff(first, most time.Duration) Option {
	return func(c *config) { c.retryMin, c.retryMax = first, most }
}

// WithShutdownTimeout sets how long Run, once its context ends, keeps trying
// to insert and commit what it buffered. Default 10 s. Whatever is not
// inserted by then is left uncommitted, so it is read again on the next
// start.
func WithShutdownTimeout(d time.Duration) Option {
	return func(c *config) { c.shutdownTimeout = d }
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validate reports every problem of c at once.
func (c *config) validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.brokers) == 0 {
		add("no Kafka brokers")
	}
	if c.addr == "" {
		add("no ClickHouse address")
	}
	if c.dec == nil {
		add("no decoder")
	}
	if !identifier.MatchString(c.database) {
		add("database %q is not a plain identifier", c.database)
	}
	if c.batchSize < 1 {
		add("batch size %d is below 1", c.batchSize)
	}
	if c.flushInterval <= 0 {
		add("flush interval %s is not positive", c.flushInterval)
	}
	if c.log == nil {
		add("nil logger")
	}
	if c.retryMin <= 0 || c.retryMax < c.retryMin {
		add("retry backoff %s..%s is not 0 < first <= most", c.retryMin, c.retryMax)
	}
	if c.shutdownTimeout < 0 {
		add("shutdown timeout %s is negative", c.shutdownTimeout)
	}
	return errs
}
