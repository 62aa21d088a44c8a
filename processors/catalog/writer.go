package catalog

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"

	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

// The config writer is the single writer of each tenant's configuration
// (SPEC-DECISIONS finding 37). An API instance checks a change against its
// own catalog, then sends it here with the version and changedAt it read;
// the writer, the only one deciding for that tenant, writes it only if the
// object is still so. Two instances that read the same state cannot both
// write the next one: the second gets version_conflict.

// Config reply statuses.
const (
	WriteDone     = "written"
	WriteConflict = "version_conflict"
)

// Decide says whether req may be written over cur, the object as the
// catalog has it (nil: absent). A request is written when the object is
// still as the API instance read it: absent for a creation, otherwise at
// the expected version and changedAt (a status change keeps the version).
// A request already written (its record is the current one, or the object
// it deletes is gone) is answered as written again, since the writer may
// see a request twice after a restart. Anything else is a conflict.
func Decide(cur *schemas.ConfigRecord, req *schemas.ConfigRequest) (write bool, status string) {
	switch {
	case unchanged(cur, req):
		return true, WriteDone
	case req.Delete && cur == nil:
		return false, WriteDone
	case !req.Delete && cur != nil && sameRecord(cur, &req.Record):
		return false, WriteDone
	}
	return false, WriteConflict
}

// unchanged reports whether cur is the state req was made from.
func unchanged(cur *schemas.ConfigRecord, req *schemas.ConfigRequest) bool {
	if cur == nil || req.ExpectedVersion == 0 {
		return cur == nil && req.ExpectedVersion == 0
	}
	return cur.Version == req.ExpectedVersion && req.ExpectedChangedAt != nil &&
		cur.ChangedAt.Equal(*req.ExpectedChangedAt)
}

func sameRecord(a, b *schemas.ConfigRecord) bool {
	return a.Version == b.Version && a.ChangedAt.Equal(b.ChangedAt) && a.Body == b.Body &&
		(a.Status == nil) == (b.Status == nil) && (a.Status == nil || *a.Status == *b.Status)
}

// Sync waits until the store has applied every record the config topic
// held when Sync was called.
func (c *Catalog) Sync(ctx context.Context) error {
	end, err := c.endOffset(ctx)
	if err != nil {
		return err
	}
	return c.WaitFor(ctx, end, 10*time.Second)
}

// WriterConfig configures a Writer.
type WriterConfig struct {
	Brokers []string
	Topics  topics.Names
	Codec   schemas.Codec
	// Catalog is read to decide and written through.
	Catalog *Catalog
	Log     *slog.Logger
	Goka    topics.GokaOptions
	// Retryable reports whether a decoding error is passing (the schema
	// registry did not answer); such a request is retried.
	Retryable func(error) bool
}

// Writer is the goka processor of config writes. It keeps no table: the
// config topic is its state, read through the catalog.
type Writer struct {
	cfg  WriterConfig
	proc *goka.Processor
}

// NewWriter builds the writer's group graph. Topics must exist.
func NewWriter(cfg WriterConfig) (*Writer, error) {
	w := &Writer{cfg: cfg}
	graph := goka.DefineGroup(cfg.Topics.ConfigGroup(),
		goka.Input(goka.Stream(cfg.Topics.ConfigRequests()), new(codec.Bytes), w.consume),
		goka.Output(goka.Stream(cfg.Topics.Replies()), new(codec.Bytes)),
	)
	proc, err := topics.NewProcessor(cfg.Brokers, graph, cfg.Goka, nil, cfg.Log)
	if err != nil {
		return nil, err
	}
	w.proc = proc
	return w, nil
}

// Run writes configuration until ctx ends; it returns nil on cancellation.
func (w *Writer) Run(ctx context.Context) error { return topics.RunProcessor(ctx, w.proc, w.cfg.Log) }

// consume decides one write. The catalog first catches up with the config
// topic, so that a write made by this tenant's previous writer (before a
// rebalance) is seen. A failure to write fails the partition, and the
// request is decided again after the restart.
func (w *Writer) consume(ctx goka.Context, msg any) {
	raw, _ := msg.([]byte)
	req := new(schemas.ConfigRequest)
	// A request dropped lets its API request time out with 503.
	if !topics.DecodeOrDrop(ctx, w.cfg.Log, w.cfg.Codec, schemas.ConfigRequestSchema, raw, req, w.cfg.Retryable) {
		return
	}
	c := w.cfg.Catalog
	if err := c.Sync(ctx.Context()); err != nil {
		ctx.Fail(fmt.Errorf("catching up with the config topic: %w", err))
	}
	rec := &req.Record
	var cur *schemas.ConfigRecord
	if r, ok := c.Object(rec.TenantID, rec.Kind, rec.ID); ok {
		cur = &r
	}
	write, status := Decide(cur, req)
	rep := schemas.ConfigReply{RequestID: req.RequestID, Status: status, Offset: -1}
	if cur != nil {
		rep.CurrentVersion = cur.Version
	}
	if write {
		var off int64
		var err error
		if req.Delete {
			off, err = c.Delete(ctx.Context(), rec.TenantID, rec.Kind, rec.ID)
		} else {
			off, err = c.Put(ctx.Context(), rec)
		}
		if err != nil {
			ctx.Fail(fmt.Errorf("writing %s %s: %w", rec.Kind, rec.ID, err))
		}
		rep.Offset, rep.CurrentVersion = off, rec.Version
	}
	if status == WriteDone && rep.Offset < 0 {
		rep.Offset = c.Applied() - 1
	}
	b, err := w.cfg.Codec.Encode(schemas.ConfigReplySchema, &rep)
	if err != nil {
		ctx.Fail(fmt.Errorf("encoding config reply: %w", err))
	}
	corr := ctx.Headers()[topics.HeaderCorrelationID]
	ctx.Emit(goka.Stream(w.cfg.Topics.Replies()), req.ReplyTo, b,
		goka.WithCtxEmitHeaders(goka.Headers{topics.HeaderCorrelationID: corr}))
}
