package sink

import (
	"context"
	"time"
)

// backoff yields waits that double from the configured first wait up to the
// configured most.
type backoff struct {
	next, most time.Duration
}

func newBackoff(cfg *config) *backoff {
	return &backoff{next: cfg.retryMin, most: cfg.retryMax}
}

// wait blocks for the next wait, or until ctx ends, which it returns.
func (b *backoff) wait(ctx context.Context) error {
	t := time.NewTimer(b.next)
	defer t.Stop()
	b.next = min(2*b.next, b.most)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
