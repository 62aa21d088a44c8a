package app

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	t.Run("defaults", func(t *testing.T) {
		c, err := Parse("serve", nil, getenv)
		if err != nil {
			t.Fatal(err)
		}
		if c.HTTPAddr != "127.0.0.1:8080" || c.Partitions != 6 || c.TopicPrefix != "tallymarks." ||
			c.CommitInterval != time.Second || strings.Join(c.Roles, ",") != "api,processor,sink" ||
			c.AssessmentsRetention != 400*24*time.Hour || c.BacktestSource != "auto" {
			t.Fatalf("defaults: %+v", c)
		}
	})

	t.Run("environment, and a flag wins over it", func(t *testing.T) {
		env["TALLYMARKS_KAFKA"] = "k1:9092,k2:9092"
		env["TALLYMARKS_HTTP_ADDR"] = "0.0.0.0:9000"
		defer clear(env)
		c, err := Parse("serve", []string{"--http-addr", "127.0.0.1:1"}, getenv)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(c.Brokers, ",") != "k1:9092,k2:9092" || c.HTTPAddr != "127.0.0.1:1" {
			t.Fatalf("got brokers %v, addr %s", c.Brokers, c.HTTPAddr)
		}
	})

	t.Run("every problem reported at once", func(t *testing.T) {
		_, err := Parse("dev", []string{"--roles", "api,scheduler", "--partitions", "0",
			"--commit-interval", "soon", "--log-level", "loud", "--tenant-id", "acme",
			"--assessments-retention", "-1h", "--backtest-source", "clickhouse"}, getenv)
		if err == nil {
			t.Fatal("no error")
		}
		for _, want := range []string{`--roles: unknown role "scheduler"`, "--partitions", "--commit-interval",
			"--log-level", "--tenant-id", "--assessments-retention", "--backtest-source: clickhouse needs"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q:\n%v", want, err)
			}
		}
	})

	t.Run("tenants create needs a name", func(t *testing.T) {
		_, err := Parse("tenants create", nil, getenv)
		if err == nil || !strings.Contains(err.Error(), "--name") {
			t.Fatalf("err = %v, want one naming --name", err)
		}
	})
}
