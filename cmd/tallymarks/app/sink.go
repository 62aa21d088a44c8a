package app

import (
	"context"
	"fmt"

	"github.com/tallymarks/tallymarks/connectors/sink"
)

// buildSink returns the sink role's run function, or nil when no
// ClickHouse address is configured.
func (a *App) buildSink() (func(context.Context) error, error) {
	if a.cfg.ClickHouseAddr == "" {
		a.log.Info("sink disabled: no --clickhouse-addr")
		return nil, nil
	}
	s, err := sink.New(a.cfg.Brokers, a.cfg.ClickHouseAddr, a.codec,
		sink.WithDatabase(a.cfg.ClickHouseDatabase),
		sink.WithTopics(a.names),
		sink.WithLogger(a.log.With("component", "sink")),
	)
	if err != nil {
		return nil, fmt.Errorf("creating sink: %w", err)
	}
	return s.Run, nil
}
