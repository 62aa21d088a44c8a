package topics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"

	"github.com/tallymarks/tallymarks/schemas"
)

// SaramaVersion is the protocol version goka's sarama clients speak. 2.8.0
// works with both Kafka 4.x (which dropped pre-2.1 protocol versions) and
// kfake; 2.4.0 and 3.6.0 were seen to fail against kfake.
var SaramaVersion = sarama.V2_8_0_0

// GokaOptions configure the sarama clients behind goka.
type GokaOptions struct {
	// ClientID names the clients in broker logs.
	ClientID string
	// CommitInterval is how often consumed offsets are committed; default
	// 1 s. Events after the last commit are redelivered after a crash,
	// which the processor handles; a longer interval only means more
	// redelivery.
	CommitInterval time.Duration
	// FlushFrequency bounds how long an emitted record waits in the
	// producer; default 5 ms (goka's 100 ms sets p99 latency near 110 ms).
	FlushFrequency time.Duration
}

// SaramaConfig returns the sarama configuration every goka processor, view
// and emitter of TallyMarks uses: acks from all replicas with an idempotent
// producer, streams read from the oldest offset for new groups, and
// placement by Kafka's murmur2 partitioner.
func SaramaConfig(o GokaOptions) *sarama.Config {
	c := goka.DefaultConfig()
	c.Version = SaramaVersion
	if o.ClientID != "" {
		c.ClientID = o.ClientID
	}

	// A new group must not skip events accepted before it first started.
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Offsets.AutoCommit.Interval = orDefault(o.CommitInterval, time.Second)

	// Nothing accepted is lost: every write waits for all in-sync replicas,
	// and the idempotent producer never duplicates on retry.
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Idempotent = true
	c.Net.MaxOpenRequests = 1
	c.Producer.Retry.Max = 20
	c.Producer.Compression = sarama.CompressionNone
	c.Producer.Flush.Frequency = orDefault(o.FlushFrequency, 5*time.Millisecond)
	c.Producer.Partitioner = sarama.NewCustomHashPartitioner(Hasher)
	return c
}

// ProcessorOptions returns the goka options that make a processor use
// SaramaConfig, Kafka's partitioner and the given local storage.
func ProcessorOptions(o GokaOptions, st storage.Builder) []goka.ProcessorOption {
	return []goka.ProcessorOption{
		goka.WithHasher(Hasher),
		goka.WithProducerBuilder(goka.ProducerBuilderWithConfig(SaramaConfig(o))),
		goka.WithConsumerGroupBuilder(goka.ConsumerGroupBuilderWithConfig(SaramaConfig(o))),
		goka.WithConsumerSaramaBuilder(goka.SaramaConsumerBuilderWithConfig(SaramaConfig(o))),
		goka.WithTopicManagerBuilder(topicManager(o)),
		goka.WithStorageBuilder(st),
	}
}

// ViewOptions returns the goka options that make a view agree with the
// processors on partitioning and client settings.
func ViewOptions(o GokaOptions, st storage.Builder) []goka.ViewOption {
	return []goka.ViewOption{
		goka.WithViewHasher(Hasher),
		goka.WithViewConsumerSaramaBuilder(goka.SaramaConsumerBuilderWithConfig(SaramaConfig(o))),
		goka.WithViewTopicManagerBuilder(topicManager(o)),
		goka.WithViewStorageBuilder(st),
		goka.WithViewAutoReconnect(),
	}
}

// topicManager builds goka's topic manager on our config. Topics are made
// by Ensure beforehand; goka only checks them.
func topicManager(o GokaOptions) goka.TopicManagerBuilder {
	tm := goka.NewTopicManagerConfig()
	tm.Table.Replication = 1
	tm.Stream.Replication = 1
	return goka.TopicManagerBuilderWithConfig(SaramaConfig(o), tm)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// GokaLogger sends goka's printf-style logs to slog at debug level, with
// goka's text in the detail attribute: goka logs every partition state
// change, which is too much for info.
type GokaLogger struct{ Log *slog.Logger }

// Print logs v at debug level.
func (l GokaLogger) Print(v ...any) { l.Log.Debug("goka", "detail", fmt.Sprint(v...)) }

// Println logs v at debug level.
func (l GokaLogger) Println(v ...any) { l.Log.Debug("goka", "detail", fmt.Sprint(v...)) }

// Printf logs the formatted message at debug level.
func (l GokaLogger) Printf(f string, v ...any) { l.Log.Debug("goka", "detail", fmt.Sprintf(f, v...)) }

// DecodeRetrying decodes a goka record as schema n into v, retrying with
// backoff while retryable (nil: never) calls the error passing, such as a
// schema registry that does not answer: a good record must not be dropped
// or dead-lettered for that. It gives up only when the processor stops,
// failing the callback so that the record is not committed. Any other
// error is returned at once.
func DecodeRetrying(ctx goka.Context, log *slog.Logger, c schemas.Codec, n schemas.Name, raw []byte, v any,
	retryable func(error) bool,
) error {
	wait := 100 * time.Millisecond
	for {
		err := c.Decode(raw, n, v)
		if err == nil || retryable == nil || !retryable(err) {
			return err
		}
		log.Warn("decoding record failed, retrying", "topic", ctx.Topic(), "key", ctx.Key(),
			"partition", ctx.Partition(), "offset", ctx.Offset(), "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Context().Done():
			ctx.Fail(fmt.Errorf("decoding %s at offset %d: %w", ctx.Topic(), ctx.Offset(), err))
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// NewProcessor builds a goka processor of graph with the options every
// TallyMarks processor uses; st defaults to memory (recovered from the
// changelog at start).
func NewProcessor(brokers []string, graph *goka.GroupGraph, o GokaOptions, st storage.Builder,
	log *slog.Logger,
) (*goka.Processor, error) {
	if st == nil {
		st = storage.MemoryBuilder()
	}
	opts := append(ProcessorOptions(o, st), goka.WithLogger(GokaLogger{Log: log}))
	proc, err := goka.NewProcessor(brokers, graph, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating processor %s: %w", graph.Group(), err)
	}
	return proc, nil
}

// RunProcessor runs proc until ctx ends, and returns nil on cancellation.
// goka reports a cancellation during start-up as its own error ("context
// closed while waiting for startup tables"), not context.Canceled, so any
// error once ctx has ended counts as the cancellation.
func RunProcessor(ctx context.Context, proc *goka.Processor, log *slog.Logger) error {
	log.Info("processor starting", "group", string(proc.Graph().Group()))
	err := proc.Run(ctx)
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// DecodeOrDrop is DecodeRetrying for records that TallyMarks itself wrote
// to an internal topic: one that cannot be decoded is a bug, not bad
// input, and holding the partition would stop every key on it, so it is
// logged as dropped and DecodeOrDrop returns false.
func DecodeOrDrop(ctx goka.Context, log *slog.Logger, c schemas.Codec, n schemas.Name, raw []byte, v any,
	retryable func(error) bool,
) bool {
	if err := DecodeRetrying(ctx, log, c, n, raw, v, retryable); err != nil {
		log.Error("record dropped: undecodable", "schema", n, "topic", ctx.Topic(), "key", ctx.Key(),
			"partition", ctx.Partition(), "offset", ctx.Offset(), "err", err)
		return false
	}
	return true
}
