package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

// EarlyWrite is how long before from the Kafka source starts reading.
// Records are found by the time they were written, which follows the
// event's createdAt except for an event dated ahead of the clock: the API
// accepts up to 5 minutes ahead, upstream producers may write more.
const EarlyWrite = time.Hour

// KafkaSource reads the assessments topic by time: from the first record
// written at or after from − EarlyWrite to the end offsets the topic had
// when Read started. It holds no more than one fetch in memory.
//
// Limitation: it finds nothing older than the topic's retention
// (--assessments-retention, default 400 days), and misses an event
// written more than EarlyWrite before its createdAt.
type KafkaSource struct {
	Brokers []string
	Topic   string
	Codec   schemas.Codec
}

// Name returns SourceKafka.
func (k *KafkaSource) Name() string { return SourceKafka }

// Read reads every partition between its bounds, decoding only the
// tenant's records (their key starts with the tenant id).
func (k *KafkaSource) Read(ctx context.Context, tenantID string, from, _ time.Time,
	progress func(float64), fn func(*schemas.Assessment) error) error {
	bounds, total, err := k.bounds(ctx, from.Add(-EarlyWrite))
	if err != nil {
		return err
	}
	if total == 0 {
		progress(1)
		return nil
	}
	offsets := map[int32]kgo.Offset{}
	for p, b := range bounds {
		offsets[p] = kgo.NewOffset().At(b[0])
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{k.Topic: offsets}),
		kgo.FetchMaxBytes(16<<20))
	if err != nil {
		return fmt.Errorf("creating kafka client: %w", err)
	}
	defer cl.Close()

	prefix := []byte(topics.Key(tenantID, ""))
	var read int64
	for len(bounds) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		var ferr error
		fetches.EachError(func(_ string, p int32, err error) {
			ferr = errors.Join(ferr, fmt.Errorf("fetching partition %d: %w", p, err))
		})
		if ferr != nil {
			return ferr
		}
		for it := fetches.RecordIter(); !it.Done(); {
			r := it.Next()
			b, ok := bounds[r.Partition]
			if !ok || r.Offset >= b[1] {
				continue // past the end this read stops at
			}
			read++
			if r.Offset+1 >= b[1] {
				delete(bounds, r.Partition)
			}
			if !bytes.HasPrefix(r.Key, prefix) {
				continue
			}
			a := new(schemas.Assessment)
			if err := k.Codec.Decode(r.Value, schemas.AssessmentSchema, a); err != nil {
				return fmt.Errorf("decoding assessment at %d/%d: %w", r.Partition, r.Offset, err)
			}
			if err := fn(a); err != nil {
				return err
			}
		}
		progress(min(float64(read)/float64(total), 1))
	}
	progress(1)
	return nil
}

// bounds returns, for each partition with records to read, the offsets
// [first written at or after since, end), and how many records that is.
func (k *KafkaSource) bounds(ctx context.Context, since time.Time) (map[int32][2]int64, int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		return nil, 0, fmt.Errorf("creating kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, k.Topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, 0, fmt.Errorf("listing end offsets of %s: %w", k.Topic, err)
	}
	starts, err := adm.ListOffsetsAfterMilli(ctx, since.UnixMilli(), k.Topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, 0, fmt.Errorf("listing offsets of %s after %s: %w", k.Topic, since, err)
	}
	out := map[int32][2]int64{}
	var total int64
	ends.Each(func(e kadm.ListedOffset) {
		s, ok := starts.Lookup(e.Topic, e.Partition)
		// No record written since: the start is the end, or -1.
		if !ok || s.Offset < 0 || s.Offset >= e.Offset {
			return
		}
		out[e.Partition] = [2]int64{s.Offset, e.Offset}
		total += e.Offset - s.Offset
	})
	return out, total, nil
}
