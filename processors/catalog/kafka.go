package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

// Catalog is a Store kept up to date from the config topic, plus the
// writer of that topic. Several roles of one process share one Catalog.
type Catalog struct {
	*Store

	topic  string
	codec  schemas.Codec
	log    *slog.Logger
	reader *kgo.Client
	writer *kgo.Client
	ready  chan struct{}
}

// New returns a Catalog reading and writing the config topic of names on
// the given brokers. Close releases its clients; Run must be running for
// the store to follow the topic.
func New(brokers []string, names topics.Names, codec schemas.Codec, log *slog.Logger) (*Catalog, error) {
	topic := names.Config()
	reader, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
			topic: {0: kgo.NewOffset().AtStart()},
		}),
		kgo.FetchMaxWait(200*time.Millisecond),
	)
	if err != nil {
		return nil, fmt.Errorf("creating config reader: %w", err)
	}
	// franz-go's defaults are what config writes need: acks from all
	// in-sync replicas and an idempotent producer.
	writer, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		reader.Close()
		return nil, fmt.Errorf("creating config writer: %w", err)
	}
	return &Catalog{
		Store:  NewStore(),
		topic:  topic,
		codec:  codec,
		log:    log,
		reader: reader,
		writer: writer,
		ready:  make(chan struct{}),
	}, nil
}

// Close closes the Kafka clients. Call it after Run has returned.
func (c *Catalog) Close() {
	c.reader.Close()
	c.writer.Close()
}

// Ready is closed once the store has applied every record that was in the
// topic when Run started.
func (c *Catalog) Ready() <-chan struct{} { return c.ready }

// Run follows the config topic until ctx ends, applying each record to the
// store. It returns nil when ctx is cancelled.
func (c *Catalog) Run(ctx context.Context) error {
	end, err := c.endOffset(ctx)
	if err != nil {
		return err
	}
	c.markReadyAt(end)

	for {
		fetches := c.reader.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			c.log.Warn("fetching config failed", "topic", topic, "partition", p, "err", err)
		})
		fetches.EachRecord(func(r *kgo.Record) {
			if err := c.apply(r); err != nil {
				c.log.Error("skipping config record", "offset", r.Offset, "key", string(r.Key), "err", err)
			}
		})
		c.markReadyAt(end)
	}
}

func (c *Catalog) apply(r *kgo.Record) error {
	if r.Value == nil {
		return c.Apply(string(r.Key), nil, r.Offset)
	}
	var rec schemas.ConfigRecord
	if err := c.codec.Decode(r.Value, schemas.ConfigRecordSchema, &rec); err != nil {
		// Still advance, so that waiters are not stuck behind a bad record.
		c.Skip(r.Offset)
		return fmt.Errorf("decoding config record: %w", err)
	}
	return c.Apply(string(r.Key), &rec, r.Offset)
}

func (c *Catalog) endOffset(ctx context.Context) (int64, error) {
	offs, err := kadm.NewClient(c.reader).ListEndOffsets(ctx, c.topic)
	if err != nil {
		return 0, fmt.Errorf("listing end offset of %s: %w", c.topic, err)
	}
	o, ok := offs.Lookup(c.topic, 0)
	if !ok || o.Err != nil {
		return 0, fmt.Errorf("listing end offset of %s: partition 0 missing", c.topic)
	}
	return o.Offset, nil
}

func (c *Catalog) markReadyAt(end int64) {
	select {
	case <-c.ready:
	default:
		if c.Applied() >= end {
			close(c.ready)
		}
	}
}

// Put writes rec to the config topic and returns once this catalog's store
// has applied it, so that the caller reads its own write. It returns the
// offset the record was written at.
func (c *Catalog) Put(ctx context.Context, rec *schemas.ConfigRecord) (int64, error) {
	b, err := c.codec.Encode(schemas.ConfigRecordSchema, rec)
	if err != nil {
		return 0, fmt.Errorf("encoding config record: %w", err)
	}
	key := topics.ConfigKey(rec.TenantID, rec.Kind, rec.ID)
	res := c.writer.ProduceSync(ctx, &kgo.Record{Key: []byte(key), Value: b})
	r, err := res.First()
	if err != nil {
		return 0, fmt.Errorf("producing config record %s: %w", key, err)
	}
	if err := c.WaitFor(ctx, r.Offset+1, 10*time.Second); err != nil {
		if errors.Is(err, ErrLagging) {
			return r.Offset, fmt.Errorf("waiting to read config record %s back: %w", key, err)
		}
		return r.Offset, err
	}
	return r.Offset, nil
}

// Delete writes a tombstone for one object to the config topic and returns
// once this catalog's store has applied it, so that the object is gone for
// the caller's next read. It returns the offset of the tombstone.
func (c *Catalog) Delete(ctx context.Context, tenantID, kind, id string) (int64, error) {
	key := topics.ConfigKey(tenantID, kind, id)
	r, err := c.writer.ProduceSync(ctx, &kgo.Record{Key: []byte(key)}).First()
	if err != nil {
		return 0, fmt.Errorf("producing tombstone %s: %w", key, err)
	}
	if err := c.WaitFor(ctx, r.Offset+1, 10*time.Second); err != nil {
		return r.Offset, fmt.Errorf("waiting to read tombstone %s back: %w", key, err)
	}
	return r.Offset, nil
}
