// Package app wires TallyMarks' roles together: configuration, Kafka
// topics, the schema registry, the catalog, and the roles a process runs.
package app

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tallymarks/tallymarks/processors/topics"
)

// Roles a process can play.
const (
	RoleAPI       = "api"
	RoleProcessor = "processor"
	RoleSink      = "sink"
)

// knownRoles are the roles this version can run. The scheduler and the
// delivery dispatcher of the architecture are not part of it yet.
var knownRoles = []string{RoleAPI, RoleProcessor, RoleSink}

// Config is the configuration of one tallymarks process. Each field has a
// flag and a TALLYMARKS_* environment variable; a flag wins over the
// variable.
type Config struct {
	// Brokers are the Kafka bootstrap addresses (--kafka, TALLYMARKS_KAFKA).
	Brokers []string
	// RegistryURL is the Confluent-compatible schema registry
	// (--schema-registry, TALLYMARKS_SCHEMA_REGISTRY).
	RegistryURL string
	// TopicPrefix prefixes every topic; default "tallymarks.".
	TopicPrefix string
	// Partitions of the customer-keyed topics when they are created;
	// default 6. Fixed once the topics exist.
	Partitions int
	// Replication factor of created topics; default 1.
	Replication int
	// HTTPAddr is where the API listens; default 127.0.0.1:8080.
	HTTPAddr string
	// Roles this process plays; default all known roles.
	Roles []string
	// ClickHouseAddr is the native-protocol address of ClickHouse; empty
	// disables the sink role.
	ClickHouseAddr string
	// ClickHouseDatabase is the sink's database; default "tallymarks".
	ClickHouseDatabase string
	// AssessmentsRetention is the retention of the assessments topic when
	// it is created (--assessments-retention); default 400 days. Backtests
	// that read Kafka find nothing older.
	AssessmentsRetention time.Duration
	// BacktestSource is where backtests read past events: "clickhouse",
	// "kafka", or "auto" (the default): ClickHouse when ClickHouseAddr is
	// set, Kafka's assessments topic otherwise (--backtest-source).
	BacktestSource string
	// CommitInterval is how often the processor commits consumed offsets;
	// default 1 s.
	CommitInterval time.Duration
	// LogLevel is debug, info, warn or error; default info.
	LogLevel string

	// Demo tenant of `tallymarks dev`; generated when empty.
	TenantID, APIKey, APISecret string

	// Tenant is what `tallymarks tenants create` creates.
	Tenant TenantOptions
}

// Has reports whether the process plays role.
func (c *Config) Has(role string) bool { return slices.Contains(c.Roles, role) }

// Parse reads the configuration of command cmd ("serve" or "dev") from
// args and the environment.
func Parse(cmd string, args []string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	fs := flag.NewFlagSet("tallymarks "+cmd, flag.ContinueOnError)
	env := func(name, def string) string {
		if v := getenv("TALLYMARKS_" + name); v != "" {
			return v
		}
		return def
	}
	var brokers, roles, commit, retention string
	var partitions, replication string
	fs.StringVar(&brokers, "kafka", env("KAFKA", "127.0.0.1:9092"), "Kafka bootstrap brokers, comma-separated")
	fs.StringVar(&c.RegistryURL, "schema-registry", env("SCHEMA_REGISTRY", "http://127.0.0.1:8081"),
		"schema registry URL")
	fs.StringVar(&c.TopicPrefix, "topic-prefix", env("TOPIC_PREFIX", topics.DefaultPrefix), "prefix of every topic")
	fs.StringVar(&partitions, "partitions", env("PARTITIONS", "6"), "partitions of customer-keyed topics when created")
	fs.StringVar(&replication, "replication", env("REPLICATION", "1"), "replication factor of created topics")
	fs.StringVar(&c.HTTPAddr, "http-addr", env("HTTP_ADDR", "127.0.0.1:8080"), "HTTP listen address of the API")
	fs.StringVar(&roles, "roles", env("ROLES", strings.Join(knownRoles, ",")),
		"roles to run, comma-separated: api (REST API, config writer, backtests), "+
			"processor (customer processor, budget keeper), sink (ClickHouse)")
	fs.StringVar(&c.ClickHouseAddr, "clickhouse-addr", env("CLICKHOUSE_ADDR", ""),
		"ClickHouse native address; empty disables the sink")
	fs.StringVar(&c.ClickHouseDatabase, "clickhouse-database", env("CLICKHOUSE_DATABASE", "tallymarks"),
		"ClickHouse database of the sink")
	fs.StringVar(&commit, "commit-interval", env("COMMIT_INTERVAL", "1s"), "how often the processor commits offsets")
	fs.StringVar(&retention, "assessments-retention",
		env("ASSESSMENTS_RETENTION", topics.DefaultAssessmentsRetention.String()),
		"retention of the assessments topic when created, e.g. 9600h")
	fs.StringVar(&c.BacktestSource, "backtest-source", env("BACKTEST_SOURCE", "auto"),
		"where backtests read past events: auto, clickhouse or kafka")
	fs.StringVar(&c.LogLevel, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error")
	if cmd == "dev" {
		fs.StringVar(&c.TenantID, "tenant-id", env("TENANT_ID", ""), "demo tenant id (UUID); random when empty")
		fs.StringVar(&c.APIKey, "api-key", env("API_KEY", ""), "demo admin key id; random when empty")
		fs.StringVar(&c.APISecret, "api-secret", env("API_SECRET", ""), "demo admin key secret; random when empty")
	}
	if cmd == "tenants create" {
		fs.StringVar(&c.Tenant.Name, "name", "", "the tenant's name (required)")
		fs.StringVar(&c.Tenant.TimeZone, "time-zone", "UTC", "the tenant's IANA time zone")
		fs.BoolVar(&c.Tenant.DemoEconomy, "demo-economy", false,
			"also create an Active economy of 1 point per unit of currency, no expiry")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	var errs []error
	c.Brokers = splitList(brokers)
	c.Roles = splitList(roles)
	c.Partitions = parseInt("--partitions", partitions, 1, 10_000, &errs)
	c.Replication = parseInt("--replication", replication, 1, 10, &errs)
	d, err := time.ParseDuration(commit)
	if err != nil || d <= 0 {
		errs = append(errs, fmt.Errorf("--commit-interval: %q is not a positive duration such as 1s", commit))
	}
	c.CommitInterval = d
	c.AssessmentsRetention, err = time.ParseDuration(retention)
	if err != nil || c.AssessmentsRetention <= 0 {
		errs = append(errs, fmt.Errorf("--assessments-retention: %q is not a positive duration such as 9600h",
			retention))
	}
	if cmd == "tenants create" && strings.TrimSpace(c.Tenant.Name) == "" {
		errs = append(errs, errors.New("--name: the tenant's name is required"))
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// Validate reports every problem of c at once.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("--kafka: at least one broker address is required"))
	}
	for _, r := range c.Roles {
		if !slices.Contains(knownRoles, r) {
			errs = append(errs, fmt.Errorf("--roles: unknown role %q; this version runs %s",
				r, strings.Join(knownRoles, ", ")))
		}
	}
	switch c.BacktestSource {
	case "", "auto", "kafka":
	case "clickhouse":
		if c.ClickHouseAddr == "" {
			errs = append(errs, errors.New("--backtest-source: clickhouse needs --clickhouse-addr"))
		}
	default:
		errs = append(errs, fmt.Errorf("--backtest-source: %q is not auto, clickhouse or kafka", c.BacktestSource))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level: %q is not debug, info, warn or error", c.LogLevel))
	}
	if c.TenantID != "" && !isUUID(c.TenantID) {
		errs = append(errs, fmt.Errorf("--tenant-id: %q is not a UUID", c.TenantID))
	}
	return errors.Join(errs...)
}

func parseInt(name, s string, lo, hi int, errs *[]error) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		*errs = append(*errs, fmt.Errorf("%s: %q is not a whole number from %d to %d", name, s, lo, hi))
	}
	return n
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case (r >= '0' && r <= '9') || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F'):
		default:
			return false
		}
	}
	return true
}

// Getenv is os.Getenv, for callers of Parse.
var Getenv = os.Getenv
