package e2e

import (
	"os/exec"
	"regexp"
	"testing"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/schemas/registry"
	"github.com/tallymarks/tallymarks/tests/testenv"
)

// TestTenantsCreate creates a tenant with the CLI and uses the credentials
// it printed against a running stack on the same topics.
func TestTenantsCreate(t *testing.T) {
	kafka := testenv.NewKafka(t)
	reg, err := registry.NewLocal("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	s := startStack(t, stackOptions{brokers: kafka.Brokers, registry: reg.URL()})

	out, err := exec.Command(tallymarksBinary(t), "tenants", "create", "--name", "Acme",
		"--time-zone", "Europe/Berlin", "--demo-economy",
		"--kafka", kafka.Brokers[0], "--schema-registry", reg.URL(),
		"--topic-prefix", s.cfg.TopicPrefix, "--partitions", "3").CombinedOutput()
	if err != nil {
		t.Fatalf("tenants create: %v\n%s", err, out)
	}
	field := func(name string) string {
		m := regexp.MustCompile(name + `\s+(\S+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("output lacks %s:\n%s", name, out)
		}
		return string(m[1])
	}
	s.creds.TenantID = field("x-tenant-id")
	s.creds.APIKey = field("x-api-key")
	s.creds.APISecret = field("x-api-secret")

	cust := uuid.NewString()
	r := s.do("POST", "/events/orders", map[string]any{
		"customerId": cust, "nameSpace": "Order.Shop", "order": map[string]any{"total": 42.99},
	}, nil)
	if r.status != 200 || r.body["tenantId"] != s.creds.TenantID {
		t.Fatalf("order with the new tenant's key: %d %s", r.status, r.raw)
	}
	s.waitBalance(cust, 42)

	bad, err := exec.Command(tallymarksBinary(t), "tenants", "create", "--name", "X",
		"--time-zone", "Mars/Olympus", "--kafka", kafka.Brokers[0]).CombinedOutput()
	if err == nil || !regexp.MustCompile(`--time-zone: "Mars/Olympus" is not an IANA time zone`).Match(bad) {
		t.Fatalf("bad time zone: err %v, output %s", err, bad)
	}
}
