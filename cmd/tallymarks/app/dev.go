package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/schemas"
	"github.com/tallymarks/tallymarks/schemas/registry"
)

// demoNamespace derives the ids of the demo tenant's objects, so that the
// same tenant id always gets the same economy id.
var demoNamespace = uuid.MustParse("c0a3a1f4-27b5-4d1e-8a8e-2a3c9a4f6e01")

// Credentials are the three header values of an API key.
type Credentials struct {
	TenantID, APIKey, APISecret string
}

// Dev runs every role in one process on an in-process Kafka (kfake) and
// schema registry, with a demo tenant whose credentials it writes to out.
// It returns when ctx ends. Nothing is kept on disk.
func Dev(ctx context.Context, cfg *Config, log *slog.Logger, out io.Writer) error {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		return fmt.Errorf("starting in-process Kafka: %w", err)
	}
	defer cluster.Close()
	reg, err := registry.NewLocal("")
	if err != nil {
		return fmt.Errorf("starting in-process schema registry: %w", err)
	}
	defer func() {
		if err := reg.Close(); err != nil {
			log.Warn("stopping in-process schema registry", "err", err)
		}
	}()
	cfg.Brokers = cluster.ListenAddrs()
	cfg.RegistryURL = reg.URL()
	if cfg.ClickHouseAddr == "" {
		cfg.Roles = without(cfg.Roles, RoleSink)
	}

	a, err := Prepare(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()

	errc := make(chan error, 1)
	go func() { errc <- a.Run(ctx) }()

	creds, err := SeedDemo(ctx, a.Catalog(), Credentials{
		TenantID: cfg.TenantID, APIKey: cfg.APIKey, APISecret: cfg.APISecret,
	})
	if err != nil {
		return err
	}
	select {
	case addr := <-a.HTTPAddr():
		printWelcome(out, addr, creds, cfg)
	case err := <-errc:
		return err
	}
	return <-errc
}

// SeedDemo creates the demo tenant, its admin key and its economy: 1 point
// per unit of currency, no expiry, no levels, effective since 2000 so that
// backdated events earn too. Empty fields of c are generated; the
// credentials used are returned. It waits for the catalog to be ready.
func SeedDemo(ctx context.Context, cat *catalog.Catalog, c Credentials) (Credentials, error) {
	return seedTenant(ctx, cat, c, tenantSpec{name: "Demo", timeZone: "UTC", demoEconomy: true})
}

// seedObject is one configuration object seedTenant writes.
type seedObject struct {
	kind, id, status string
	body             any
}

// tenantSpec describes a tenant to create.
type tenantSpec struct {
	name, timeZone string
	// demoEconomy adds the demo economy: 1 point per unit, no expiry.
	demoEconomy bool
}

// seedTenant writes a tenant, its first admin key named "admin" and, if
// asked, the demo economy to the config topic.
func seedTenant(ctx context.Context, cat *catalog.Catalog, c Credentials, spec tenantSpec) (Credentials, error) {
	select {
	case <-cat.Ready():
	case <-ctx.Done():
		return Credentials{}, ctx.Err()
	}
	c.TenantID = strings.ToLower(c.TenantID)
	var err error
	if c.TenantID == "" {
		c.TenantID = uuid.NewString()
	}
	if c.APIKey == "" {
		if c.APIKey, err = catalog.NewKeyID(); err != nil {
			return c, err
		}
	}
	if c.APISecret == "" {
		if c.APISecret, err = catalog.NewSecret(); err != nil {
			return c, err
		}
	}
	hash, err := catalog.HashSecret(c.APISecret)
	if err != nil {
		return c, err
	}

	now := time.Now().UTC().Truncate(time.Millisecond)
	economyID := uuid.NewSHA1(demoNamespace, []byte(c.TenantID+"/economy")).String()
	objects := []seedObject{
		{catalog.KindTenant, c.TenantID, "", catalog.Tenant{Name: spec.name, TimeZone: spec.timeZone}},
		{catalog.KindAPIKey, c.APIKey, "", catalog.APIKey{
			Name: "admin", Scope: catalog.ScopeAdmin, Enabled: true,
			SecretHash: hash, CreatedAt: now,
		}},
	}
	if spec.demoEconomy {
		objects = append(objects, seedObject{catalog.KindEconomy, economyID, catalog.StatusActive, catalog.Economy{
			Name: "Demo economy", Status: catalog.StatusActive,
			EffectiveFrom:     time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
			BasePointsPerUnit: "1", Expiry: catalog.Expiry{Mode: "none"},
			ReversalPolicy: "allowNegative",
		}})
	}
	for _, o := range objects {
		body, err := json.Marshal(o.body)
		if err != nil {
			return c, fmt.Errorf("encoding demo %s: %w", o.kind, err)
		}
		rec := &schemas.ConfigRecord{
			TenantID: c.TenantID, Kind: o.kind, ID: o.id, Version: 1,
			CreatedAt: now, ChangedAt: now, Body: string(body),
		}
		if o.status != "" {
			rec.Status = &o.status
		}
		if _, err := cat.Put(ctx, rec); err != nil {
			return c, fmt.Errorf("creating demo %s: %w", o.kind, err)
		}
	}
	return c, nil
}

func printWelcome(out io.Writer, addr string, c Credentials, cfg *Config) {
	sink := "off (pass --clickhouse-addr to enable)"
	if cfg.Has(RoleSink) {
		sink = cfg.ClickHouseAddr + ", database " + cfg.ClickHouseDatabase
	}
	fmt.Fprintf(out, `TallyMarks dev is running (in-process Kafka and schema registry; nothing is kept).

  API           http://%s/api/v1
  x-tenant-id   %s
  x-api-key     %s
  x-api-secret  %s
  ClickHouse    %s

Try:
  curl -s -X POST http://%[1]s/api/v1/events/orders \
    -H 'content-type: application/json' \
    -H 'x-tenant-id: %[2]s' -H 'x-api-key: %[3]s' -H 'x-api-secret: %[4]s' \
    -d '{"customerId":"6f1d3c2a-8f47-4a8e-9d1c-2b7e5a9c0d11","nameSpace":"Order.Web","order":{"total":120.50}}'
  curl -s http://%[1]s/api/v1/customers/6f1d3c2a-8f47-4a8e-9d1c-2b7e5a9c0d11 \
    -H 'x-tenant-id: %[2]s' -H 'x-api-key: %[3]s' -H 'x-api-secret: %[4]s'

Press Ctrl-C to stop.
`, addr, c.TenantID, c.APIKey, c.APISecret, sink)
}

func without(list []string, drop string) []string {
	out := list[:0:0]
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}
