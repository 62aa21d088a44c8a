package replay

import (
	"context"
	"fmt"
	"time"

	"github.com/tallymarks/tallymarks/connectors/sink"
	"github.com/tallymarks/tallymarks/schemas"
)

// ClickHouseSource reads the sink's assessments table. Each Read opens its
// own connection, so that an API instance starts whether or not ClickHouse
// is up; a job fails when it cannot be reached.
//
// Limitation: the table holds what the sink has copied: about a second
// behind Kafka, and nothing from before the sink first ran.
type ClickHouseSource struct {
	Addr string
	// Options are the sink's: WithDatabase, WithClickHouseAuth.
	Options []sink.Option
}

// Name returns SourceClickHouse.
func (c *ClickHouseSource) Name() string { return SourceClickHouse }

// Read streams the tenant's rows of the seconds [from, to) touches, in
// createdAt order, copies removed.
func (c *ClickHouseSource) Read(ctx context.Context, tenantID string, from, to time.Time,
	progress func(float64), fn func(*schemas.Assessment) error) error {
	r, err := sink.OpenAssessmentReader(ctx, c.Addr, c.Options...)
	if err != nil {
		return fmt.Errorf("connecting to clickhouse: %w", err)
	}
	defer r.Close()
	total, err := r.Count(ctx, tenantID, from, to)
	if err != nil {
		return err
	}
	var read int64
	err = r.Read(ctx, tenantID, from, to, func(a *schemas.Assessment) error {
		read++
		if read%1000 == 0 && total > 0 {
			progress(min(float64(read)/float64(total), 1))
		}
		return fn(a)
	})
	if err != nil {
		return err
	}
	progress(1)
	return nil
}
