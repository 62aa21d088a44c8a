package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"golang.org/x/sync/errgroup"

	"github.com/tallymarks/tallymarks/connectors/api"
	"github.com/tallymarks/tallymarks/connectors/replay"
	"github.com/tallymarks/tallymarks/processors/budget"
	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/processors/customer"
	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
	"github.com/tallymarks/tallymarks/schemas/registry"
)

// App is one running tallymarks process.
type App struct {
	cfg     *Config
	log     *slog.Logger
	names   topics.Names
	codec   *registry.Serde
	catalog *catalog.Catalog
	// httpAddr receives the API's bound address once it listens.
	httpAddr chan string
}

// Prepare connects to Kafka and the schema registry, creates missing
// topics and registers the schemas. Close releases what it opened.
func Prepare(ctx context.Context, cfg *Config, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: log, names: topics.New(cfg.TopicPrefix), httpAddr: make(chan string, 1)}

	if err := a.ensureTopics(ctx); err != nil {
		return nil, err
	}
	rc, err := sr.NewClient(sr.URLs(cfg.RegistryURL))
	if err != nil {
		return nil, fmt.Errorf("creating schema registry client: %w", err)
	}
	serde, err := registry.New(ctx, rc, registry.Subjects(a.names))
	if err != nil {
		return nil, fmt.Errorf("registering schemas: %w", err)
	}
	a.codec = serde
	a.catalog, err = catalog.New(cfg.Brokers, a.names, a.codec, log.With("component", "catalog"))
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Catalog returns the process's catalog, for seeding configuration.
func (a *App) Catalog() *catalog.Catalog { return a.catalog }

// HTTPAddr returns a channel that receives the API's address once it
// listens.
func (a *App) HTTPAddr() <-chan string { return a.httpAddr }

// Close releases the catalog's clients. Call it after Run has returned.
func (a *App) Close() { a.catalog.Close() }

func (a *App) ensureTopics(ctx context.Context) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(a.cfg.Brokers...))
	if err != nil {
		return fmt.Errorf("creating Kafka admin client: %w", err)
	}
	defer cl.Close()
	var opts []topics.SpecOption
	if a.cfg.AssessmentsRetention > 0 {
		opts = append(opts, topics.AssessmentsRetention(a.cfg.AssessmentsRetention))
	}
	specs := a.names.Specs(int32(a.cfg.Partitions), opts...)
	if err := topics.Ensure(ctx, kadm.NewClient(cl), specs, int16(a.cfg.Replication)); err != nil {
		return fmt.Errorf("ensuring topics: %w", err)
	}
	return nil
}

// Run runs the catalog and every configured role until ctx ends or one of
// them fails, and returns their joined errors.
func (a *App) Run(ctx context.Context) error {
	// Build every role first, so that a role that cannot be built stops the
	// process before anything has started.
	var roles []func(context.Context) error
	if a.cfg.Has(RoleProcessor) {
		proc, err := customer.New(customer.Config{
			Brokers: a.cfg.Brokers,
			Topics:  a.names,
			Codec:   a.codec,
			Catalog: a.catalog,
			Log:     a.log.With("component", "processor"),
			Goka:    a.gokaOptions("processor"),
			// A registry outage must not dead-letter good events.
			Retryable: registry.IsRetryable,
		})
		if err != nil {
			return err
		}
		keeper, err := budget.New(budget.Config{
			Brokers:   a.cfg.Brokers,
			Topics:    a.names,
			Codec:     a.codec,
			Log:       a.log.With("component", "budget"),
			Goka:      a.gokaOptions("budget"),
			Retryable: registry.IsRetryable,
		})
		if err != nil {
			return err
		}
		roles = append(roles, proc.Run, keeper.Run)
	}
	if a.cfg.Has(RoleAPI) {
		roles = append(roles, a.runAPI)
	}
	if a.cfg.Has(RoleSink) {
		run, err := a.buildSink()
		if err != nil {
			return err
		}
		if run != nil {
			roles = append(roles, run)
		}
	}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.catalog.Run(ctx) })

	// Roles start once the catalog has caught up: tenants, keys and
	// economies must be known before the first event or request.
	select {
	case <-a.catalog.Ready():
		a.log.Info("catalog ready", "offset", a.catalog.Applied())
		for _, run := range roles {
			g.Go(func() error { return run(ctx) })
		}
	case <-ctx.Done():
	}
	return g.Wait()
}

func (a *App) gokaOptions(role string) topics.GokaOptions {
	return topics.GokaOptions{ClientID: "tallymarks-" + role, CommitInterval: a.cfg.CommitInterval}
}

// runAPI serves the HTTP APIs, reading customers through a goka view,
// until ctx ends; then it drains requests for up to 3 s.
func (a *App) runAPI(ctx context.Context) error {
	log := a.log.With("component", "api")
	view, err := goka.NewView(a.cfg.Brokers, goka.Table(a.names.CustomerTable()),
		a.codec.Codec(schemas.CustomerStateSchema, func() any { return new(schemas.CustomerState) }),
		append(topics.ViewOptions(a.gokaOptions("api"), storage.MemoryBuilder()),
			goka.WithViewLogger(topics.GokaLogger{Log: log}))...)
	if err != nil {
		return fmt.Errorf("creating customer view: %w", err)
	}
	producer, err := kgo.NewClient(kgo.SeedBrokers(a.cfg.Brokers...),
		kgo.ProducerLinger(0), kgo.RecordDeliveryTimeout(10*time.Second))
	if err != nil {
		return fmt.Errorf("creating event producer: %w", err)
	}
	defer producer.Close()
	statusView, err := goka.NewView(a.cfg.Brokers, goka.Table(a.names.EventStatus()),
		a.codec.Codec(schemas.EventStatusSchema, func() any { return new(schemas.EventStatus) }),
		append(topics.ViewOptions(a.gokaOptions("api"), storage.MemoryBuilder()),
			goka.WithViewLogger(topics.GokaLogger{Log: log}))...)
	if err != nil {
		return fmt.Errorf("creating event status view: %w", err)
	}
	budgetView, err := goka.NewView(a.cfg.Brokers, goka.Table(a.names.BudgetTable()),
		budget.StateCodec{Codec: a.codec},
		append(topics.ViewOptions(a.gokaOptions("api"), storage.MemoryBuilder()),
			goka.WithViewLogger(topics.GokaLogger{Log: log}))...)
	if err != nil {
		return fmt.Errorf("creating budget view: %w", err)
	}
	// Every API instance takes a share of the config writer's partitions,
	// so that Admin API writes work wherever the API runs.
	writer, err := catalog.NewWriter(catalog.WriterConfig{
		Brokers: a.cfg.Brokers, Topics: a.names, Codec: a.codec, Catalog: a.catalog,
		Log: a.log.With("component", "config-writer"), Goka: a.gokaOptions("config-writer"),
		Retryable: registry.IsRetryable,
	})
	if err != nil {
		return err
	}
	replies, err := api.NewReplies(a.cfg.Brokers, a.names.Replies(), a.codec, log)
	if err != nil {
		return err
	}
	defer replies.Close()
	backtests := replay.NewRunner(replay.Config{
		Store: a.catalog, Source: a.backtestSource(), Log: log.With("component", "backtest"),
	})

	handler := api.New(api.Config{
		Catalog:   a.catalog,
		Producer:  producer,
		Codec:     a.codec,
		Topics:    a.names,
		Customers: viewReader{view},
		Replies:   replies,
		Statuses:  statusReader{statusView},
		Budgets:   budgetReader{budgetView},
		Backtests: backtests,
		Log:       log,
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", a.cfg.HTTPAddr, err)
	}
	a.httpAddr <- ln.Addr().String()
	log.Info("api listening", "addr", ln.Addr().String())

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return view.Run(gctx) })
	g.Go(func() error { return replies.Run(gctx) })
	g.Go(func() error { return statusView.Run(gctx) })
	g.Go(func() error { return budgetView.Run(gctx) })
	g.Go(func() error { return writer.Run(gctx) })
	g.Go(func() error { return handler.RecordKeyUses(gctx) })
	g.Go(func() error { return backtests.Run(gctx) })
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// viewReader adapts a goka view of the customer table to api.CustomerReader.
type viewReader struct{ view *goka.View }

func (v viewReader) Customer(tenantID, customerID string) (*schemas.CustomerState, error) {
	val, err := v.view.Get(topics.Key(tenantID, customerID))
	if err != nil {
		return nil, fmt.Errorf("reading customer %s: %w", customerID, err)
	}
	st, _ := val.(*schemas.CustomerState)
	return st, nil
}

func (v viewReader) Recovered() bool { return v.view.Recovered() }

// statusReader adapts a goka view of the event-status table to
// api.StatusReader.
type statusReader struct{ view *goka.View }

func (v statusReader) Status(tenantID, eventID string) (*schemas.EventStatus, error) {
	val, err := v.view.Get(topics.EventKey(tenantID, eventID))
	if err != nil {
		return nil, fmt.Errorf("reading status of event %s: %w", eventID, err)
	}
	st, _ := val.(*schemas.EventStatus)
	return st, nil
}

func (v statusReader) Recovered() bool { return v.view.Recovered() }

// Serve runs the configured roles against the configured Kafka and schema
// registry until ctx ends.
func Serve(ctx context.Context, cfg *Config, log *slog.Logger) error {
	a, err := Prepare(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}

// NewLogger returns the process logger: slog text on w at level.
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated by Config.Validate
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// budgetReader adapts a goka view of the budget table to api.BudgetReader.
type budgetReader struct{ view *goka.View }

func (v budgetReader) Used(tenantID, ruleID string, actionIndex int) (int64, error) {
	val, err := v.view.Get(topics.BudgetKey(tenantID, ruleID))
	if err != nil {
		return 0, fmt.Errorf("reading budget of rule %s: %w", ruleID, err)
	}
	st, _ := val.(*schemas.BudgetState)
	return budget.Used(st, actionIndex), nil
}
