package topics

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
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

// Decoder decodes a record's value into v; schemas.Codec.Decode bound to
// one schema.
type Decoder func(raw []byte, v any) error

// DecodeRetrying decodes a goka record with dec, retrying with backoff
// while retryable (nil: never) calls the error passing, such as a schema
// registry that does not answer: a good record must not be dropped or
// dead-lettered for that. It gives up only when the processor stops,
// failing the callback so that the record is not committed. Any other
// error is returned at once.
func DecodeRetrying(ctx goka.Context, log *slog.Logger, raw []byte, v any, dec Decoder,
	retryable func(error) bool,
) error {
	wait := 100 * time.Millisecond
	for {
		err := dec(raw, v)
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
