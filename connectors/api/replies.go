package api

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

// Replies follows the replies topic and hands each reply addressed to this
// API instance to the request waiting for it, found by the reply's
// correlation-id header. Every instance reads every partition from the end,
// so no consumer group is involved; a reply that arrives when nobody waits
// (the request timed out) is dropped, and the client reads the outcome
// later through the event's status. Replies of several kinds (an event's
// outcome, a config write's) share the topic: the waiting request decodes
// the kind it asked for.
type Replies struct {
	instance string
	topic    string
	cl       *kgo.Client
	codec    schemas.Codec
	log      *slog.Logger
	ready    chan struct{}

	mu      sync.Mutex
	waiting map[string]chan []byte // by correlation id
}

// NewReplies returns a Replies for a new instance id. Close releases its
// client after Run has returned.
func NewReplies(brokers []string, topic string, codec schemas.Codec, log *slog.Logger) (*Replies, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("creating replies consumer: %w", err)
	}
	return &Replies{
		instance: uuid.NewString(),
		topic:    topic,
		cl:       cl,
		codec:    codec,
		log:      log,
		ready:    make(chan struct{}),
		waiting:  map[string]chan []byte{},
	}, nil
}

// Instance returns the id requests name in their reply-to header.
func (r *Replies) Instance() string { return r.instance }

// Ready is closed once Run consumes from the topic's current end: a reply
// to a request made after that is not missed.
func (r *Replies) Ready() <-chan struct{} { return r.ready }

// Close closes the Kafka client.
func (r *Replies) Close() { r.cl.Close() }

// Run consumes replies until ctx ends; it returns nil on cancellation.
func (r *Replies) Run(ctx context.Context) error {
	// Start at each partition's end, listed now: replies to requests made
	// from here on are all read.
	ends, err := kadm.NewClient(r.cl).ListEndOffsets(ctx, r.topic)
	if err != nil {
		return fmt.Errorf("listing end offsets of %s: %w", r.topic, err)
	}
	start := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) { start[o.Partition] = kgo.NewOffset().At(o.Offset) })
	if len(start) == 0 {
		return fmt.Errorf("topic %s has no partitions", r.topic)
	}
	r.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{r.topic: start})
	close(r.ready)

	for {
		fetches := r.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(t string, p int32, err error) {
			r.log.Warn("fetching replies failed", "topic", t, "partition", p, "err", err)
		})
		fetches.EachRecord(func(rec *kgo.Record) {
			if string(rec.Key) != r.instance {
				return
			}
			for _, h := range rec.Headers {
				if h.Key == topics.HeaderCorrelationID {
					r.deliver(string(h.Value), rec.Value)
					return
				}
			}
			r.log.Warn("skipping a reply without correlation id", "offset", rec.Offset)
		})
	}
}

func (r *Replies) deliver(corr string, value []byte) {
	r.mu.Lock()
	ch, ok := r.waiting[corr]
	delete(r.waiting, corr)
	r.mu.Unlock()
	if ok {
		ch <- value // buffered: never blocks
	}
}

// expect registers a request about to be produced and returns its
// correlation id; call wait with it, which also unregisters it.
func (r *Replies) expect() (string, chan []byte) {
	corr := uuid.NewString()
	ch := make(chan []byte, 1)
	r.mu.Lock()
	r.waiting[corr] = ch
	r.mu.Unlock()
	return corr, ch
}

// wait decodes the reply on ch as schema n into v; it returns false when
// ctx ends or d passes first, or the reply cannot be decoded.
func (r *Replies) wait(ctx context.Context, corr string, ch chan []byte, d time.Duration, n schemas.Name, v any) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case b := <-ch:
		if err := r.codec.Decode(b, n, v); err != nil {
			r.log.Warn("undecodable reply", "schema", n, "correlation_id", corr, "err", err)
			return false
		}
		return true
	case <-timer.C:
	case <-ctx.Done():
	}
	r.forget(corr)
	return false
}

// forget unregisters a request that no longer waits.
func (r *Replies) forget(corr string) {
	r.mu.Lock()
	delete(r.waiting, corr)
	r.mu.Unlock()
}
