package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// errRowRefused says that the driver refused one row while building a
// batch; the row was dropped from the buffer and the batch can be built
// again at once.
var errRowRefused = errors.New("row refused by the driver")

// insertAll inserts *rows into t, retrying with backoff until ClickHouse
// accepts them or ctx ends, and empties *rows on success. Rows are never
// given up on: a failure the sink cannot wait out is logged at error level,
// for a human, and still retried, because dropping the rows and committing
// past them would lose them.
func insertAll[T any](ctx context.Context, c *consumer, t *table[T], rows *[]T) error {
	b := newBackoff(c.cfg)
	for len(*rows) > 0 {
		err := insert(ctx, c, t, rows)
		switch {
		case err == nil:
			c.log.Debug("rows inserted", "table", t.name, "rows", len(*rows))
			*rows = (*rows)[:0]
			return nil
		case errors.Is(err, errRowRefused):
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		}
		level := slog.LevelWarn
		if !transient(err) {
			level = slog.LevelError
		}
		c.log.Log(ctx, level, "inserting into clickhouse failed, retrying",
			"table", t.name, "rows", len(*rows), "retry_in", b.next, "err", err)
		if err := b.wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// insert sends *rows to t as one batch. A row the driver refuses while the
// batch is built is removed from *rows, logged with the record it came from,
// and reported as errRowRefused; the batch is abandoned, since the refused
// row may have left some of its columns one value longer than others.
func insert[T any](ctx context.Context, c *consumer, t *table[T], rows *[]T) error {
	batch, err := c.conn.PrepareBatch(ctx, t.insertSQL(c.cfg.database))
	if err != nil {
		return fmt.Errorf("preparing insert into %s: %w", t.name, err)
	}
	defer batch.Close()

	vals := make([]any, 0, len(t.columns))
	for i := range *rows {
		r := &(*rows)[i]
		if err := batch.Append(t.values(r, vals)...); err != nil {
			_ = batch.Abort() // the batch is discarded either way
			src := t.origin(r)
			c.log.Warn("skipping record refused by the clickhouse driver",
				"topic", src.topic, "partition", src.partition, "offset", src.offset,
				"table", t.name, "err", err)
			*rows = append((*rows)[:i], (*rows)[i+1:]...)
			return errRowRefused
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("inserting %d rows into %s: %w", len(*rows), t.name, err)
	}
	return nil
}
