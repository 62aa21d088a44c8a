// Package e2e drives TallyMarks from outside, through its HTTP API, on the
// Kafka and ClickHouse that testenv finds: real services in CI, kfake and a
// skipped ClickHouse on a bare machine.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/tallymarks/tallymarks/cmd/tallymarks/app"
	"github.com/tallymarks/tallymarks/schemas/registry"
	"github.com/tallymarks/tallymarks/tests/testenv"
)

// stack is one TallyMarks process under test, with its own topic prefix.
type stack struct {
	t       *testing.T
	base    string // http://host:port/api/v1
	creds   app.Credentials
	cfg     *app.Config
	cancel  context.CancelFunc
	done    chan error
	brokers []string
	regURL  string
	app     *app.App
}

type stackOptions struct {
	roles      []string
	clickhouse string // native address; empty: no sink
	registry   string // reuse a registry; empty: start one
	prefix     string // reuse a topic prefix; empty: a fresh one
	creds      app.Credentials
	brokers    []string
}

// startStack runs the roles of opts in this process until the test ends.
func startStack(t *testing.T, opts stackOptions) *stack {
	t.Helper()
	if opts.brokers == nil {
		opts.brokers = testenv.NewKafka(t).Brokers
	}
	if opts.registry == "" {
		reg, err := registry.NewLocal("")
		if err != nil {
			t.Fatalf("starting schema registry: %v", err)
		}
		t.Cleanup(func() { _ = reg.Close() })
		opts.registry = reg.URL()
	}
	if opts.prefix == "" {
		opts.prefix = testenv.Prefix(t)
		testenv.DropTopics(t, opts.brokers, opts.prefix)
	}
	if opts.roles == nil {
		opts.roles = []string{app.RoleAPI, app.RoleProcessor}
	}
	cfg := &app.Config{
		Brokers:            opts.brokers,
		RegistryURL:        opts.registry,
		TopicPrefix:        opts.prefix,
		Partitions:         3,
		Replication:        1,
		HTTPAddr:           "127.0.0.1:0",
		Roles:              opts.roles,
		ClickHouseAddr:     opts.clickhouse,
		ClickHouseDatabase: strings.TrimSuffix(strings.ReplaceAll(opts.prefix, ".", "_"), "_"),
		CommitInterval:     time.Second,
		LogLevel:           "info",
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Prepare(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("preparing app: %v", err)
	}
	s := &stack{t: t, cfg: cfg, cancel: cancel, done: make(chan error, 1),
		brokers: opts.brokers, regURL: opts.registry, app: a}
	go func() { s.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		s.stop()
		a.Close()
	})

	s.creds, err = app.SeedDemo(ctx, a.Catalog(), opts.creds)
	if err != nil {
		t.Fatalf("seeding tenant: %v", err)
	}
	if cfg.Has(app.RoleAPI) {
		select {
		case addr := <-a.HTTPAddr():
			s.base = "http://" + addr + "/api/v1"
		case err := <-s.done:
			t.Fatalf("app stopped: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("API did not start within 30 s")
		}
		s.waitReady()
	}
	return s
}

func (s *stack) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("app returned: %v", err)
		}
	case <-time.After(20 * time.Second):
		s.t.Error("app did not stop within 20 s")
	}
}

func (s *stack) waitReady() {
	ready := strings.TrimSuffix(s.base, "/api/v1") + "/readyz"
	eventually(s.t, 60*time.Second, "API ready", func() (bool, string) {
		resp, err := http.Get(ready)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// response is an HTTP answer with its decoded JSON body.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends method path with body (a string is sent as is, anything else as
// JSON) and the stack's credentials unless hdr overrides them.
func (s *stack) do(method, path string, body any, hdr map[string]string) response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("x-tenant-id", s.creds.TenantID)
	req.Header.Set("x-api-key", s.creds.APIKey)
	req.Header.Set("x-api-secret", s.creds.APISecret)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	checkContract(s.t, req, resp.StatusCode, resp.Header, raw)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// balance returns the customer's points balance, or -1 when unknown.
func (s *stack) balance(customerID string) int64 {
	r := s.do("GET", "/customers/"+customerID, nil, nil)
	if r.status == http.StatusNotFound {
		return -1
	}
	if r.status != http.StatusOK {
		s.t.Fatalf("GET customer: %d %s", r.status, r.raw)
	}
	pts, _ := r.body["points"].(map[string]any)
	b, _ := pts["balance"].(float64)
	return int64(b)
}

// waitBalance waits until the customer's balance is want.
func (s *stack) waitBalance(customerID string, want int64) {
	s.t.Helper()
	eventually(s.t, 30*time.Second, "balance", func() (bool, string) {
		got := s.balance(customerID)
		return got == want, "balance " + itoa(got) + ", want " + itoa(want)
	})
}

// eventually polls cond until it holds or timeout passes. It is a wait for
// asynchronous processing, not a speed assertion.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not reached within %s: %s", what, timeout, last)
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	if os.Getenv("TALLYMARKS_TEST_LOGS") == "1" {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func registryClient(url string) (*sr.Client, error) { return sr.NewClient(sr.URLs(url)) }
