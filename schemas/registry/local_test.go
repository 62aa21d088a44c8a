package registry

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
)

func TestLocal(t *testing.T) {
	l, err := NewLocal("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(l.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL() = %q, want a loopback address", l.URL())
	}

	// An sr.Client registers and reads back.
	cl, err := l.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	schema := sr.Schema{Schema: `{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`}
	id, err := cl.RegisterSchema(ctx, "r-value", schema, -1, -1)
	if err != nil {
		t.Fatalf("RegisterSchema: %v", err)
	}
	if got, err := cl.SchemaByID(ctx, id); err != nil || got.Schema != schema.Schema {
		t.Fatalf("SchemaByID(%d) = %q, %v", id, got.Schema, err)
	}

	// Any HTTP client can use it: it is a real socket.
	resp, err := http.Get(l.URL() + "/subjects")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"r-value"`) {
		t.Fatalf("GET /subjects = %s", body)
	}

	// A second registry cannot take the same address.
	host := strings.TrimPrefix(l.URL(), "http://")
	if other, err := NewLocal(host); err == nil {
		other.Close()
		t.Fatalf("NewLocal(%q) succeeded while the address is in use", host)
	}

	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := cl.SchemaByID(ctx, id); err == nil {
		t.Fatal("registry still answers after Close")
	}

	// The address is free again.
	again, err := NewLocal(host)
	if err != nil {
		t.Fatalf("NewLocal(%q) after Close: %v", host, err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}
