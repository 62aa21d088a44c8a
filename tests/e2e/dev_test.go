package e2e

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestDevCommand runs `tallymarks dev` as a user would: it prints the
// credentials it was given, serves an order through to the balance, and
// stops cleanly within 5 s of Ctrl-C.
func TestDevCommand(t *testing.T) {
	tenant := uuid.NewString()
	cmd := exec.Command(tallymarksBinary(t), "dev", "--http-addr", "127.0.0.1:0",
		"--tenant-id", tenant, "--api-key", "tmk_e2e", "--api-secret", "tms_e2e")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("TALLYMARKS_TEST_LOGS") == "1" {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})

	// Read the welcome text up to its last line.
	var welcome strings.Builder
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		welcome.WriteString(lines.Text() + "\n")
		if strings.HasPrefix(lines.Text(), "Press Ctrl-C") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	text := welcome.String()
	for _, want := range []string{"x-tenant-id   " + tenant, "x-api-key     tmk_e2e", "x-api-secret  tms_e2e"} {
		if !strings.Contains(text, want) {
			t.Fatalf("welcome lacks %q:\n%s", want, text)
		}
	}
	m := regexp.MustCompile(`API\s+(http://\S+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("welcome names no API address:\n%s", text)
	}

	s := &stack{t: t, base: m[1]}
	s.creds.TenantID, s.creds.APIKey, s.creds.APISecret = tenant, "tmk_e2e", "tms_e2e"
	s.waitReady()
	cust := uuid.NewString()
	if r := s.do("POST", "/events/orders", map[string]any{
		"customerId": cust, "nameSpace": "Order.Web", "order": map[string]any{"total": 19.99},
	}, nil); r.status != 200 {
		t.Fatalf("order: %d %s", r.status, r.raw)
	}
	s.waitBalance(cust, 19)

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev exited with %v after Ctrl-C, want status 0", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("dev did not stop within 5 s of Ctrl-C")
	}
}
