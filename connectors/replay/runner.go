package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/tallymarks/tallymarks/processors/backtest"
	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// Store keeps job records: the catalog, over the compacted config topic.
// Put returns once this instance reads its own write.
type Store interface {
	Object(tenantID, kind, id string) (schemas.ConfigRecord, bool)
	Objects(tenantID, kind string) []schemas.ConfigRecord
	Put(ctx context.Context, rec *schemas.ConfigRecord) (int64, error)
	Delete(ctx context.Context, tenantID, kind, id string) (int64, error)
}

// JobRetention is how long a job's record is kept after it last changed:
// a tenant's older jobs are deleted when it starts a new one.
const JobRetention = 7 * 24 * time.Hour

// Source reads a tenant's past assessment records.
type Source interface {
	// Name is SourceKafka or SourceClickHouse.
	Name() string
	// Read calls fn with the tenant's records whose createdAt may lie in
	// [from, to), and at least all of those; the evaluator drops the
	// others. It reports the fraction read so far, from 0 to 1, through
	// progress. It stops at ctx's end or fn's first error and returns it.
	Read(ctx context.Context, tenantID string, from, to time.Time,
		progress func(float64), fn func(*schemas.Assessment) error) error
}

// Limits of one instance.
const (
	// Workers is how many jobs an instance runs at once.
	Workers = 2
	// QueueLength is how many accepted jobs may wait for a worker; Start
	// refuses more with ErrBusy.
	QueueLength = 16
)

// Config configures a Runner.
type Config struct {
	Store  Store
	Source Source
	Log    *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// MaxKeys bounds each job's memory (backtest.MaxKeys); default
	// backtest.DefaultMaxKeys.
	MaxKeys int
}

// Runner runs the backtest jobs this instance accepted. Start and Job
// are safe for concurrent use; Run runs the workers.
type Runner struct {
	cfg   Config
	queue chan *job
}

// job is an accepted job waiting for or held by a worker.
type job struct {
	rec   schemas.ConfigRecord
	body  body
	rules []*rules.Rule
}

// NewRunner returns a Runner; its jobs run once Run is called.
func NewRunner(cfg Config) *Runner {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = backtest.DefaultMaxKeys
	}
	return &Runner{cfg: cfg, queue: make(chan *job, QueueLength)}
}

// Start accepts a job evaluating rs over [from, to) for tenantID: it writes
// the job's record as running and queues the job. It returns the job id,
// or ErrBusy when the queue is full, or the store's error when the record
// could not be written; nothing is queued then.
func (r *Runner) Start(ctx context.Context, tenantID string, rs []*rules.Rule, from, to time.Time) (string, error) {
	if len(r.queue) == cap(r.queue) {
		return "", ErrBusy
	}
	now := r.cfg.Now().UTC().Truncate(time.Millisecond)
	r.prune(ctx, tenantID, now)
	j := &job{rules: rs, body: body{From: from, To: to, Source: r.cfg.Source.Name(), Results: []backtest.Result{}}}
	for _, rule := range rs {
		j.body.RuleIDs = append(j.body.RuleIDs, rule.ID)
	}
	status := StatusRunning
	j.rec = schemas.ConfigRecord{TenantID: tenantID, Kind: KindJob, ID: uuid.NewString(), Version: 1,
		Status: &status, CreatedAt: now, ChangedAt: now}
	if err := r.write(ctx, j); err != nil {
		return "", err
	}
	select {
	case r.queue <- j:
		return j.rec.ID, nil
	default:
		// Filled up since the check: the record shows the job failed.
		r.finish(ctx, j, nil, ErrBusy)
		return "", ErrBusy
	}
}

// prune deletes the tenant's jobs that have not changed for JobRetention,
// done or not: a running job's heartbeat changes it every few seconds. A
// deletion that fails is logged; the next job tries again.
func (r *Runner) prune(ctx context.Context, tenantID string, now time.Time) {
	for _, rec := range r.cfg.Store.Objects(tenantID, KindJob) {
		if now.Sub(rec.ChangedAt) < JobRetention {
			continue
		}
		if _, err := r.cfg.Store.Delete(ctx, tenantID, KindJob, rec.ID); err != nil {
			r.cfg.Log.Warn("deleting an old backtest job", "job", rec.ID, "err", err)
		}
	}
}

// Job returns a tenant's job as clients see it; false when there is no
// such job for this tenant.
func (r *Runner) Job(tenantID, id string) (View, bool, error) {
	rec, ok := r.cfg.Store.Object(tenantID, KindJob, id)
	if !ok {
		return View{}, false, nil
	}
	v, err := viewOf(&rec, r.cfg.Now())
	return v, true, err
}

// Run runs queued jobs, Workers at a time, until ctx ends; it returns nil
// then. A job cut short by the end of ctx is recorded as failed if the
// store still takes writes, and shows as failed after StaleAfter if not.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case j := <-r.queue:
					r.run(ctx, j)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// run evaluates one job and records its outcome. A heartbeat rewrites the
// record with the progress while the job reads.
func (r *Runner) run(ctx context.Context, j *job) {
	log := r.cfg.Log.With("tenant_id", j.rec.TenantID, "job_id", j.rec.ID)
	log.Info("backtest started", "rules", j.body.RuleIDs, "from", j.body.From, "to", j.body.To,
		"source", j.body.Source)
	var (
		mu       sync.Mutex
		progress float64
	)
	eval := backtest.New(j.rules, j.body.From, j.body.To, backtest.MaxKeys(r.cfg.MaxKeys))
	g, gctx := errgroup.WithContext(ctx)
	done := make(chan struct{})

	// The reading, which ends the heartbeat when it returns.
	g.Go(func() error {
		defer close(done)
		return r.cfg.Source.Read(gctx, j.rec.TenantID, j.body.From, j.body.To,
			func(p float64) { mu.Lock(); progress = p; mu.Unlock() },
			eval.Add)
	})

	// The heartbeat: progress, and proof that the job is alive.
	g.Go(func() error {
		tick := time.NewTicker(HeartbeatInterval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return nil
			case <-tick.C:
				mu.Lock()
				j.body.Progress = progress
				mu.Unlock()
				if err := r.write(gctx, j); err != nil {
					log.Warn("writing backtest progress failed", "err", err)
				}
			}
		}
	})

	err := g.Wait()
	if err != nil {
		log.Warn("backtest failed", "err", err)
	} else {
		log.Info("backtest done")
	}
	r.finish(ctx, j, eval.Results(), err)
}

// finish records a job's outcome. It writes even when ctx has ended, for
// a few seconds: a stopping instance says its jobs failed if it can.
func (r *Runner) finish(ctx context.Context, j *job, results []backtest.Result, err error) {
	status := StatusDone
	j.body.Progress, j.body.Results = 1, results
	switch {
	case errors.Is(err, backtest.ErrTooLarge):
		status, j.body.Error = StatusFailed, msgTooLarge
	case err != nil && ctx.Err() != nil, errors.Is(err, ErrBusy):
		status, j.body.Error = StatusFailed, msgStopped
	case err != nil:
		status, j.body.Error = StatusFailed, msgSource
	}
	if status == StatusFailed {
		j.body.Results = []backtest.Result{}
	}
	j.rec.Status = &status
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.write(wctx, j); err != nil {
		r.cfg.Log.Warn("recording backtest outcome failed", "job_id", j.rec.ID, "err", err)
	}
}

// write stores the job's record with its current body.
func (r *Runner) write(ctx context.Context, j *job) error {
	b, err := json.Marshal(j.body)
	if err != nil {
		return fmt.Errorf("encoding backtest job: %w", err)
	}
	j.rec.Body = string(b)
	j.rec.ChangedAt = r.cfg.Now().UTC().Truncate(time.Millisecond)
	if _, err := r.cfg.Store.Put(ctx, &j.rec); err != nil {
		return fmt.Errorf("writing backtest job %s: %w", j.rec.ID, err)
	}
	return nil
}
