// Package testenv decides, in one place, where a test finds Kafka and
// ClickHouse.
//
// Kafka, in order of preference:
//   - TALLYMARKS_TEST_KAFKA=host:port[,host:port]: a running broker (what
//     .ci/run sets after deploy/services.sh up); the value "kfake" forces the
//     in-process fake instead;
//   - a testcontainers broker, when a Docker engine answers;
//   - an in-process kfake cluster.
//
// ClickHouse, in order of preference:
//   - TALLYMARKS_TEST_CLICKHOUSE=host:port: a running server's native port;
//   - a testcontainers server, when a Docker engine answers;
//   - otherwise the test is skipped with the reason.
//
// With TALLYMARKS_REQUIRE_SERVICES=1 a real service that cannot be found
// fails the test instead: CI must never pass by silently skipping or by
// falling back to the fake.
package testenv

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcclickhouse "github.com/testcontainers/testcontainers-go/modules/clickhouse"
	tckafka "github.com/testcontainers/testcontainers-go/modules/kafka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Environment variables read by this package.
const (
	EnvKafka           = "TALLYMARKS_TEST_KAFKA"
	EnvClickHouse      = "TALLYMARKS_TEST_CLICKHOUSE"
	EnvRequireServices = "TALLYMARKS_REQUIRE_SERVICES"
)

// Container images used when Docker is reachable.
const (
	kafkaImage      = "confluentinc/confluent-local:7.9.0"
	clickhouseImage = "clickhouse/clickhouse-server:25.3-alpine"
)

// KafkaKind says which kind of broker a test got.
type KafkaKind string

// The kinds of broker.
const (
	KafkaReal      KafkaKind = "real"
	KafkaContainer KafkaKind = "container"
	KafkaFake      KafkaKind = "kfake"
)

// Kafka is a broker a test can use.
type Kafka struct {
	Brokers []string
	Kind    KafkaKind
}

// NewKafka returns a broker for t. A kfake cluster is private to t and closed
// when t ends; a real or container broker is shared, so tests must use
// unique topic prefixes (see Prefix).
func NewKafka(t testing.TB) Kafka {
	t.Helper()
	switch v := os.Getenv(EnvKafka); {
	case v == string(KafkaFake):
		return newFake(t)
	case v != "":
		return Kafka{Brokers: strings.Split(v, ","), Kind: KafkaReal}
	}
	if dockerAvailable() {
		return Kafka{Brokers: sharedKafkaContainer(t), Kind: KafkaContainer}
	}
	if required() {
		t.Fatalf("%s=1 but %s is not set and no Docker engine answers: "+
			"start Kafka with deploy/services.sh up", EnvRequireServices, EnvKafka)
	}
	return newFake(t)
}

// NewFakeKafka returns an in-process kfake cluster private to t, for tests
// that need a broker they can stop or that only check client behaviour.
func NewFakeKafka(t testing.TB) (Kafka, *kfake.Cluster) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(-1))
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return Kafka{Brokers: c.ListenAddrs(), Kind: KafkaFake}, c
}

func newFake(t testing.TB) Kafka {
	k, _ := NewFakeKafka(t)
	return k
}

// ClickHouse returns the native-protocol address (host:port) of a ClickHouse
// server, or skips t, or fails it when services are required.
func ClickHouse(t testing.TB) string {
	t.Helper()
	if v := os.Getenv(EnvClickHouse); v != "" {
		return v
	}
	if dockerAvailable() {
		return sharedClickHouseContainer(t)
	}
	if required() {
		t.Fatalf("%s=1 but %s is not set and no Docker engine answers: "+
			"start ClickHouse with deploy/services.sh up", EnvRequireServices, EnvClickHouse)
	}
	t.Skipf("no ClickHouse: set %s=host:port (deploy/services.sh up starts one) or run Docker",
		EnvClickHouse)
	return ""
}

// Prefix returns a topic or database prefix unique to t, so that tests
// sharing one real broker or server never see each other's data.
func Prefix(t testing.TB) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '_'
	}, t.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	return "t" + name + "_" + time.Now().UTC().Format("150405.000000")[7:] + "_"
}

func required() bool { return os.Getenv(EnvRequireServices) == "1" }

var (
	dockerOnce sync.Once
	dockerOK   bool
)

// dockerAvailable reports whether a Docker engine answers a ping. A docker
// CLI without an engine, as on machines without Docker, answers no.
func dockerAvailable() bool {
	dockerOnce.Do(func() {
		// testcontainers panics ("rootless Docker not found") when it finds
		// no engine at all, so a machine without Docker is answered here.
		if os.Getenv("DOCKER_HOST") == "" {
			if _, err := os.Stat("/var/run/docker.sock"); err != nil {
				return
			}
		}
		defer func() {
			if recover() != nil {
				dockerOK = false
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		cli, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err != nil {
			return
		}
		defer cli.Close()
		_, err = cli.Ping(ctx)
		dockerOK = err == nil
	})
	return dockerOK
}

var (
	kafkaOnce    sync.Once
	kafkaBrokers []string
	kafkaErr     error

	chOnce sync.Once
	chAddr string
	chErr  error
)

// sharedKafkaContainer starts one broker container per test binary; the
// testcontainers reaper removes it when the binary exits.
func sharedKafkaContainer(t testing.TB) []string {
	t.Helper()
	kafkaOnce.Do(func() {
		ctx := context.Background()
		c, err := tckafka.Run(ctx, kafkaImage, tckafka.WithClusterID("tallymarks-test"))
		if err != nil {
			kafkaErr = err
			return
		}
		kafkaBrokers, kafkaErr = c.Brokers(ctx)
	})
	if kafkaErr != nil {
		t.Fatalf("starting Kafka container: %v", kafkaErr)
	}
	return kafkaBrokers
}

func sharedClickHouseContainer(t testing.TB) string {
	t.Helper()
	chOnce.Do(func() {
		ctx := context.Background()
		c, err := tcclickhouse.Run(ctx, clickhouseImage)
		if err != nil {
			chErr = err
			return
		}
		chAddr, chErr = c.ConnectionHost(ctx)
	})
	if chErr != nil {
		t.Fatalf("starting ClickHouse container: %v", chErr)
	}
	return chAddr
}

// DropTopics deletes, when t ends, every topic whose name starts with
// prefix. A shared broker would otherwise keep every test's topics: each
// run of the suite makes over a thousand partitions, and a broker holds
// open files for each, until it runs out of them.
func DropTopics(t testing.TB, brokers []string, prefix string) {
	t.Cleanup(func() {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
		if err != nil {
			t.Logf("dropping topics %s*: %v", prefix, err)
			return
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		adm := kadm.NewClient(cl)
		all, err := adm.ListTopics(ctx)
		if err != nil {
			t.Logf("dropping topics %s*: %v", prefix, err)
			return
		}
		var names []string
		for _, name := range all.Names() {
			if strings.HasPrefix(name, prefix) {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			return
		}
		if _, err := adm.DeleteTopics(ctx, names...); err != nil {
			t.Logf("dropping topics %s*: %v", prefix, err)
		}
	})
}
