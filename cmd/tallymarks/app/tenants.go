package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// TenantOptions are the flags of `tallymarks tenants create`.
type TenantOptions struct {
	Name     string
	TimeZone string
	// DemoEconomy also creates an Active economy of 1 point per unit of
	// currency with no expiry, as `dev` does.
	DemoEconomy bool
}

// CreateTenant creates a tenant and its first admin key on the configured
// Kafka, and writes the three header values to out. The secret is shown
// this once: only its hash is stored.
func CreateTenant(ctx context.Context, cfg *Config, log *slog.Logger, out io.Writer, o TenantOptions) error {
	if _, err := time.LoadLocation(o.TimeZone); err != nil {
		return fmt.Errorf("--time-zone: %q is not an IANA time zone such as Europe/Berlin", o.TimeZone)
	}
	a, err := Prepare(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()

	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.catalog.Run(ctx) }()
	creds, err := seedTenant(ctx, a.catalog, Credentials{}, tenantSpec{
		name: o.Name, timeZone: o.TimeZone, demoEconomy: o.DemoEconomy,
	})
	cancel()
	if runErr := <-done; err == nil {
		err = runErr
	}
	if err != nil {
		return fmt.Errorf("creating tenant: %w", err)
	}
	fmt.Fprintf(out, "tenant %q created; the secret is shown only now.\n\n"+
		"  x-tenant-id   %s\n  x-api-key     %s\n  x-api-secret  %s\n",
		o.Name, creds.TenantID, creds.APIKey, creds.APISecret)
	return nil
}
