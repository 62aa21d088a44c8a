package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

// errWriterSilent answers a configuration write the config writer did not
// decide in time. The request stays in Kafka and may still be written.
var errWriterSilent = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
	Message: "the configuration writer did not answer in time; the change may still be applied: " +
		"read the object before retrying", RetryAfter: 5}

// lostRace answers a write that another change to the same object,
// through another API instance, beat to the config writer.
func lostRace(current int) *Error {
	return &Error{Status: http.StatusConflict, Code: "version_conflict",
		Message: "another change to this object was written first; it is now at version " +
			strconv.Itoa(current) + ": read it and retry"}
}

// configWrites sends Admin API writes through the config writer
// (catalog.Writer), the single writer of each tenant's configuration, and
// returns once the writer decided and, for a write, this instance's
// catalog has applied it.
type configWrites struct {
	producer *kgo.Client
	replies  *Replies
	catalog  *catalog.Catalog
	topics   topics.Names
	codec    schemas.Codec
}

// write asks for rec to be written (or, with del, the object deleted) if
// the object is still prev, as this instance read it (nil: absent).
func (c *configWrites) write(ctx context.Context, prev, rec *schemas.ConfigRecord, del bool) error {
	req := schemas.ConfigRequest{
		RequestID: uuid.NewString(), Record: *rec, Delete: del, ReplyTo: c.replies.Instance(),
	}
	if prev != nil {
		at := prev.ChangedAt
		req.ExpectedVersion, req.ExpectedChangedAt = prev.Version, &at
	}
	b, err := c.codec.Encode(schemas.ConfigRequestSchema, &req)
	if err != nil {
		return fmt.Errorf("encoding config request: %w", err)
	}
	corr, ch := c.replies.expect()
	r := &kgo.Record{
		Topic: c.topics.ConfigRequests(), Key: []byte(rec.TenantID), Value: b,
		Headers: []kgo.RecordHeader{{Key: topics.HeaderCorrelationID, Value: []byte(corr)}},
	}
	if err := c.producer.ProduceSync(ctx, r).FirstErr(); err != nil {
		c.replies.forget(corr)
		return fmt.Errorf("producing config request: %w", err)
	}
	wait := time.Until(deadlineOr(ctx, adminWriteTimeout))
	var rep schemas.ConfigReply
	if !c.replies.wait(ctx, corr, ch, wait, schemas.ConfigReplySchema, &rep) {
		return errWriterSilent
	}
	if rep.Status != catalog.WriteDone {
		return lostRace(rep.CurrentVersion)
	}
	return c.catalog.WaitFor(ctx, rep.Offset+1, time.Until(deadlineOr(ctx, adminWriteTimeout)))
}

// deadlineOr returns ctx's deadline, or d from now when it has none.
func deadlineOr(ctx context.Context, d time.Duration) time.Time {
	if t, ok := ctx.Deadline(); ok {
		return t
	}
	return time.Now().Add(d)
}
