package app

import (
	"context"
	"fmt"

	"github.com/tallymarks/tallymarks/connectors/replay"
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

// backtestSource returns where backtests read past events (see
// Config.BacktestSource).
func (a *App) backtestSource() replay.Source {
	if a.cfg.BacktestSource == "clickhouse" || (a.cfg.BacktestSource != "kafka" && a.cfg.ClickHouseAddr != "") {
		return &replay.ClickHouseSource{Addr: a.cfg.ClickHouseAddr,
			Options: []sink.Option{sink.WithDatabase(a.cfg.ClickHouseDatabase)}}
	}
	return &replay.KafkaSource{Brokers: a.cfg.Brokers, Topic: a.names.Assessments(), Codec: a.codec}
}
