// Command tallymarks runs the TallyMarks loyalty engine.
//
//	tallymarks dev             everything in one process, in-process Kafka, no setup
//	tallymarks serve           the given roles against a real Kafka and schema registry
//	tallymarks tenants create  a tenant and its first admin key
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tallymarks/tallymarks/cmd/tallymarks/app"
)

const usage = `usage: tallymarks <command> [flags]

commands:
  dev             run every role in one process on an in-process Kafka and schema registry
  serve           run the roles given by --roles against Kafka and a schema registry
  tenants create  create a tenant and its first admin key, and print its credentials

Run "tallymarks <command> -h" for the flags of a command.
`

func main() {
	err := run(os.Args[1:])
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp): // -h printed the flags
	default:
		fmt.Fprintln(os.Stderr, "tallymarks:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) >= 2 && args[0] == "tenants" && args[1] == "create" {
		args = append([]string{"tenants create"}, args[2:]...)
	}
	if len(args) == 0 || (args[0] != "dev" && args[0] != "serve" && args[0] != "tenants create") {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("a command is required")
	}
	cmd := args[0]
	cfg, err := app.Parse(cmd, args[1:], os.Getenv)
	if err != nil {
		return err
	}
	log := app.NewLogger(os.Stderr, cfg.LogLevel)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch cmd {
	case "dev":
		return app.Dev(ctx, cfg, log, os.Stdout)
	case "tenants create":
		return app.CreateTenant(ctx, cfg, log, os.Stdout, cfg.Tenant)
	}
	return app.Serve(ctx, cfg, log)
}
