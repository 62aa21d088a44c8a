package e2e

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/cmd/tallymarks/app"
)

// as returns the headers that make a request with other credentials.
func as(tenantID, key, secret string) map[string]string {
	return map[string]string{"x-tenant-id": tenantID, "x-api-key": key, "x-api-secret": secret}
}

// must sends a request and fails the test unless it answers want.
func (s *stack) must(want int, method, path string, body any, hdr map[string]string) response {
	s.t.Helper()
	r := s.do(method, path, body, hdr)
	if r.status != want {
		s.t.Fatalf("%s %s = %d %s, want %d", method, path, r.status, r.raw, want)
	}
	return r
}

// order posts an order of total for cust and waits until the balance
// is want.
func (s *stack) order(cust string, total float64, want int64) {
	s.t.Helper()
	s.must(http.StatusOK, "POST", "/events/orders", map[string]any{
		"customerId": cust, "nameSpace": "Order.Web", "order": map[string]any{"total": total},
	}, nil)
	s.waitBalance(cust, want)
}

// TestAdminEconomyChangesBasePoints creates an economy through the Admin
// API and activates it: the next order earns at its rate.
func TestAdminEconomyChangesBasePoints(t *testing.T) {
	s := startStack(t, stackOptions{})
	cust := uuid.NewString()

	// The demo economy, written before the Admin API existed, reads back
	// in the current form.
	list := s.must(200, "GET", "/admin/economies?status=Active", nil, nil)
	items := list.body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["basePointsPerUnit"] != 1.0 {
		t.Fatalf("demo economy: %s", list.raw)
	}

	created := s.must(201, "POST", "/admin/economies", map[string]any{
		"name": "Double", "effectiveFrom": "2001-01-01T00:00:00Z", "basePointsPerUnit": 2,
		"expiry": map[string]any{"mode": "none"},
	}, nil)
	id := created.body["id"].(string)
	if created.body["status"] != "Configure" || created.body["version"] != 1.0 {
		t.Fatalf("created: %s", created.raw)
	}
	s.order(cust, 10, 10) // still the demo economy: 1 point per unit

	active := s.must(200, "POST", "/admin/economies/"+id+"/status", map[string]any{"status": "Active"}, nil)
	if active.body["status"] != "Active" || active.body["version"] != 1.0 {
		t.Fatalf("activated: %s", active.raw)
	}
	s.order(cust, 10, 30) // 10 × 2

	edit := s.must(409, "PATCH", "/admin/economies/"+id, map[string]any{"basePointsPerUnit": 3}, nil)
	back := s.must(409, "POST", "/admin/economies/"+id+"/status", map[string]any{"status": "Configure"}, nil)
	del := s.must(409, "DELETE", "/admin/economies/"+id, nil, nil)
	for _, r := range []response{edit, back, del} {
		if r.body["code"] != "illegal_transition" {
			t.Fatalf("want illegal_transition: %s", r.raw)
		}
	}
	if msg, _ := back.body["message"].(string); !strings.Contains(msg, "Inactive or Archived") {
		t.Fatalf("the message must name the allowed changes: %s", back.raw)
	}

	s.must(200, "POST", "/admin/economies/"+id+"/status", map[string]any{"status": "Inactive"}, nil)
	s.must(409, "POST", "/admin/economies/"+id+"/status", map[string]any{"status": "Active"}, nil)
	s.order(cust, 10, 40) // back to the demo economy
}

// adminKindCase is one kind for TestAdminKinds.
type adminKindCase struct {
	path      string
	create    map[string]any
	patch     map[string]any
	put       map[string]any
	lifecycle bool
}

// TestAdminKinds runs create, list, read, PATCH, PUT, status and DELETE
// for every kind, and checks that another tenant sees none of it.
func TestAdminKinds(t *testing.T) {
	s := startStack(t, stackOptions{})
	other, err := app.SeedDemo(context.Background(), s.app.Catalog(), app.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	otherHdr := as(other.TenantID, other.APIKey, other.APISecret)

	tpl := `{"customer": {{customer.customerId}}, "points": {{customerPointsBalance.amount}} }`
	cases := []adminKindCase{
		{path: "/admin/economies", lifecycle: true,
			create: map[string]any{"name": "E", "effectiveFrom": "2030-01-01T00:00:00Z", "basePointsPerUnit": 1.25,
				"levels": []any{map[string]any{"id": "gold", "name": "Gold", "spendThreshold": 1000}}},
			patch: map[string]any{"currency": "EUR"},
			put: map[string]any{"name": "E2", "effectiveFrom": "2030-01-01T00:00:00Z", "basePointsPerUnit": 0.5,
				"reversalPolicy": "capAtBalance"}},
		{path: "/admin/segments", lifecycle: true,
			create: map[string]any{"name": "VIP", "expiry": map[string]any{"mode": "period", "n": 6, "unit": "month"}},
			patch:  map[string]any{"description": "best customers"},
			put:    map[string]any{"name": "VIP2", "expiry": map[string]any{"mode": "untilAnniversary"}}},
		{path: "/admin/triggers",
			create: map[string]any{"name": "Reminder", "nameSpace": "Cart.Reminder",
				"delay": map[string]any{"n": 2, "unit": "day"}},
			patch: map[string]any{"relativeTo": "customerCreated"},
			put: map[string]any{"name": "Reminder2", "nameSpace": "Cart.Reminder2",
				"delay": map[string]any{"n": 1, "unit": "hour"}}},
		{path: "/admin/webhooks",
			create: map[string]any{"name": "CRM", "url": "https://example.com/hook", "bodyTemplate": tpl},
			patch:  map[string]any{"headers": map[string]any{"X-Source": "tallymarks"}},
			put:    map[string]any{"name": "CRM2", "url": "https://example.com/hook2", "bodyTemplate": "{}"}},
	}
	for _, c := range cases {
		t.Run(strings.TrimPrefix(c.path, "/admin/"), func(t *testing.T) {
			created := s.must(201, "POST", c.path, c.create, nil)
			id, _ := created.body["id"].(string)
			if _, err := uuid.Parse(id); err != nil || created.body["version"] != 1.0 ||
				created.body["createdAt"] == nil || created.body["changedAt"] == nil {
				t.Fatalf("created: %s", created.raw)
			}
			if _, has := created.body["status"]; has != c.lifecycle {
				t.Fatalf("status field present = %v: %s", has, created.raw)
			}
			if got := s.must(200, "GET", c.path+"/"+id, nil, nil); got.raw != created.raw {
				t.Fatalf("read %s, created %s", got.raw, created.raw)
			}
			if !listed(s, c.path, id, nil) || listed(s, c.path, id, otherHdr) {
				t.Fatal("listing: the object must show for its tenant only")
			}
			s.must(404, "GET", c.path+"/"+id, nil, otherHdr)
			s.must(404, "PATCH", c.path+"/"+id, c.patch, otherHdr)
			s.must(404, "DELETE", c.path+"/"+id, nil, otherHdr)

			patched := s.must(200, "PATCH", c.path+"/"+id, c.patch, nil)
			put := s.must(200, "PUT", c.path+"/"+id, c.put, map[string]string{"If-Match": `"2"`})
			if patched.body["version"] != 2.0 || put.body["version"] != 3.0 || put.body["name"] != c.put["name"] {
				t.Fatalf("patched %s, replaced %s", patched.raw, put.raw)
			}
			s.must(409, "PATCH", c.path+"/"+id, c.patch, map[string]string{"If-Match": "2"})
			s.must(400, "POST", c.path, map[string]any{"unknownField": 1}, nil)

			status := c.path + "/" + id + "/status"
			if c.lifecycle {
				s.must(200, "POST", status, map[string]any{"status": "Test"}, nil)
				bad := s.must(409, "POST", status, map[string]any{"status": "Inactive"}, nil)
				if msg, _ := bad.body["message"].(string); bad.body["code"] != "illegal_transition" ||
					!strings.Contains(msg, "Configure or Active") {
					t.Fatalf("Test to Inactive: %s", bad.raw)
				}
			} else {
				s.must(404, "POST", status, map[string]any{"status": "Active"}, nil)
			}
			s.must(204, "DELETE", c.path+"/"+id, nil, nil)
			s.must(404, "GET", c.path+"/"+id, nil, nil)
		})
	}
}

// listed reports whether id is on the first page of path for hdr's tenant.
func listed(s *stack, path, id string, hdr map[string]string) bool {
	s.t.Helper()
	r := s.must(200, "GET", path+"?limit=500", nil, hdr)
	for _, it := range r.body["items"].([]any) {
		if it.(map[string]any)["id"] == id {
			return true
		}
	}
	return false
}

func TestAdminValidationNamesEveryField(t *testing.T) {
	s := startStack(t, stackOptions{})
	r := s.must(400, "POST", "/admin/economies", map[string]any{
		"name": "", "effectiveFrom": "yesterday", "basePointsPerUnit": 1.00001, "currency": "EURO",
		"expiry": map[string]any{"mode": "pointsAging", "period": map[string]any{"n": 6, "unit": "year"}},
	}, nil)
	var params []string
	for _, e := range r.body["errors"].([]any) {
		params = append(params, e.(map[string]any)["param"].(string))
	}
	sort.Strings(params)
	want := "/basePointsPerUnit /currency /effectiveFrom /expiry/period/n /name"
	if r.body["code"] != "invalid_request" || strings.Join(params, " ") != want {
		t.Fatalf("errors at %v, want %s: %s", params, want, r.raw)
	}

	bad := s.must(400, "POST", "/admin/webhooks", map[string]any{"name": "W", "url": "https://example.com/h",
		"bodyTemplate": "{\n  \"a\": {{customer.firstName}}\n  \"b\": 1\n}"}, nil)
	if !strings.Contains(bad.raw, "line 3, column 3") {
		t.Fatalf("a template that is not JSON must be refused with its position: %s", bad.raw)
	}
}

func TestAdminWebhookSecret(t *testing.T) {
	s := startStack(t, stackOptions{})
	created := s.must(201, "POST", "/admin/webhooks", map[string]any{
		"name": "CRM", "url": "https://ann:pa55@example.com/hook", "secret": "generate",
		"bodyTemplate": `{"id": {{event.eventId}} }`,
	}, nil)
	secret, _ := created.body["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("created: %s", created.raw)
	}
	got := s.must(200, "GET", "/admin/webhooks/"+created.body["id"].(string), nil, nil)
	if strings.Contains(got.raw, secret) || strings.Contains(got.raw, "pa55") || got.body["hasSecret"] != true ||
		got.body["url"] != "https://ann:xxxxx@example.com/hook" {
		t.Fatalf("read: %s", got.raw)
	}
}

func TestAdminAPIKeys(t *testing.T) {
	s := startStack(t, stackOptions{})
	demo := s.creds.APIKey

	// The demo key is the tenant's only admin key.
	for _, r := range []response{
		s.must(409, "DELETE", "/admin/api-keys/"+demo, nil, nil),
		s.must(409, "PATCH", "/admin/api-keys/"+demo, map[string]any{"enabled": false}, nil),
	} {
		if r.body["code"] != "in_use" {
			t.Fatalf("last admin key: %s", r.raw)
		}
	}

	created := s.must(201, "POST", "/admin/api-keys", map[string]any{"name": "shop", "scope": "events"}, nil)
	id := created.body["id"].(string)
	secret, _ := created.body["secret"].(string)
	if secret == "" || created.body["enabled"] != true || created.body["scope"] != "events" {
		t.Fatalf("created: %s", created.raw)
	}
	for _, r := range []response{
		s.must(200, "GET", "/admin/api-keys/"+id, nil, nil),
		s.must(200, "GET", "/admin/api-keys", nil, nil),
	} {
		if strings.Contains(r.raw, secret) || strings.Contains(r.raw, "secret") || strings.Contains(r.raw, "$2a$") {
			t.Fatalf("a read shows the secret or its hash: %s", r.raw)
		}
	}

	if created.body["lastUsedAt"] != nil {
		t.Fatalf("a new key has lastUsedAt: %s", created.raw)
	}
	shop := as(s.creds.TenantID, id, secret)
	event := map[string]any{"customerId": uuid.NewString(), "nameSpace": "Order.Web",
		"order": map[string]any{"total": 1}}
	before := time.Now().UTC().Add(-time.Second)
	s.must(200, "POST", "/events/orders", event, shop)
	s.must(403, "GET", "/admin/api-keys", nil, shop)
	// Its use shows as lastUsedAt.
	eventually(t, 10*time.Second, "lastUsedAt recorded", func() (bool, string) {
		r := s.must(200, "GET", "/admin/api-keys/"+id, nil, nil)
		at, _ := r.body["lastUsedAt"].(string)
		used, err := time.Parse(time.RFC3339Nano, at)
		return err == nil && used.After(before), r.raw
	})

	s.must(200, "PATCH", "/admin/api-keys/"+id, map[string]any{"enabled": false}, nil)
	if r := s.do("POST", "/events/orders", event, shop); r.status != http.StatusUnauthorized {
		t.Fatalf("disabled key: %d %s, want 401 at once", r.status, r.raw)
	}
	s.must(200, "PATCH", "/admin/api-keys/"+id, map[string]any{"enabled": true, "name": "shop2"}, nil)
	s.must(200, "POST", "/events/orders", map[string]any{"eventId": uuid.NewString(), "customerId": uuid.NewString(),
		"nameSpace": "Order.Web", "order": map[string]any{"total": 1}}, shop)
	s.must(204, "DELETE", "/admin/api-keys/"+id, nil, nil)
	s.must(401, "POST", "/events/orders", event, shop)

	// With a second admin key the first may go, but then not the second.
	admin2 := s.must(201, "POST", "/admin/api-keys", map[string]any{"name": "ops", "scope": "admin"}, nil)
	hdr2 := as(s.creds.TenantID, admin2.body["id"].(string), admin2.body["secret"].(string))
	s.must(204, "DELETE", "/admin/api-keys/"+demo, nil, hdr2)
	s.must(401, "GET", "/admin/api-keys", nil, nil)
	s.must(409, "DELETE", "/admin/api-keys/"+admin2.body["id"].(string), nil, hdr2)
}

func TestAdminTenant(t *testing.T) {
	s := startStack(t, stackOptions{})
	got := s.must(200, "GET", "/admin/tenant", nil, nil)
	if got.body["tenantId"] != s.creds.TenantID || got.body["timeZone"] != "UTC" {
		t.Fatalf("tenant: %s", got.raw)
	}
	p := s.must(200, "PATCH", "/admin/tenant", map[string]any{"timeZone": "Europe/Berlin"}, nil)
	if p.body["timeZone"] != "Europe/Berlin" || p.body["name"] != got.body["name"] {
		t.Fatalf("patched: %s", p.raw)
	}
	s.must(400, "PATCH", "/admin/tenant", map[string]any{"timeZone": "Mars/Olympus"}, nil)
	if r := s.must(200, "GET", "/admin/tenant", nil, nil); r.body["timeZone"] != "Europe/Berlin" {
		t.Fatalf("read back: %s", r.raw)
	}
}
