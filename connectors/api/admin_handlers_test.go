package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

const (
	tenantA = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	tenantB = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
)

// fakeStore is a configStore that applies writes to a catalog.Store at
// once, as a Catalog does once Kafka acknowledged them. delay widens the
// window between a check and its write, to expose races.
type fakeStore struct {
	*catalog.Store
	next  atomic.Int64
	delay time.Duration
}

func (f *fakeStore) Put(_ context.Context, rec *schemas.ConfigRecord) (int64, error) {
	time.Sleep(f.delay)
	off := f.next.Add(1) - 1
	return off, f.Apply(topics.ConfigKey(rec.TenantID, rec.Kind, rec.ID), rec, off)
}

func (f *fakeStore) Delete(_ context.Context, tenantID, kind, id string) (int64, error) {
	time.Sleep(f.delay)
	off := f.next.Add(1) - 1
	return off, f.Apply(topics.ConfigKey(tenantID, kind, id), nil, off)
}

// adminHarness serves the Admin API over a fakeStore; the caller's tenant
// is the x-tenant-id header, as authentication would establish it.
type adminHarness struct {
	t     *testing.T
	store *fakeStore
	api   *adminAPI
	mux   *http.ServeMux
	now   time.Time
	mu    sync.Mutex
}

func newAdminHarness(t *testing.T) *adminHarness {
	t.Helper()
	h := &adminHarness{t: t, store: &fakeStore{Store: catalog.NewStore()},
		now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	h.api = newAdminAPI(h.store, h.clock, slog.New(slog.DiscardHandler))
	h.mux = http.NewServeMux()
	h.api.routes(func(pattern, _ string, fn handlerFunc) {
		h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := fn(w, r, principal{tenantID: r.Header.Get("x-tenant-id")}); err != nil {
				writeError(w, err)
			}
		})
	})
	for i, tn := range []string{tenantA, tenantB} {
		body := `{"tenantId":"` + tn + `","name":"T","timeZone":"UTC"}`
		if err := h.store.Apply("k", &schemas.ConfigRecord{TenantID: tn, Kind: catalog.KindTenant,
			ID: tn, Version: 1, CreatedAt: h.now, ChangedAt: h.now, Body: body}, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	h.store.next.Store(2)
	return h
}

// clock moves on by a millisecond per reading, so that every write has
// its own time.
func (h *adminHarness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(time.Millisecond)
	return h.now
}

type adminAnswer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a request as tenant A unless hdr names another x-tenant-id.
func (h *adminHarness) do(method, path string, body any, hdr ...string) adminAnswer {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, "/api/v1/admin"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-tenant-id", tenantA)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	if _, pattern := h.mux.Handler(req); pattern == "" {
		writeError(rec, errRouteNotFound) // as Server does: a wrong method is an unknown route
	} else {
		h.mux.ServeHTTP(rec, req)
	}
	out := adminAnswer{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	_ = json.Unmarshal(rec.Body.Bytes(), &out.body)
	return out
}

// must sends a request and fails the test unless it answers want.
func (h *adminHarness) must(want int, method, path string, body any, hdr ...string) adminAnswer {
	h.t.Helper()
	a := h.do(method, path, body, hdr...)
	if a.status != want {
		h.t.Fatalf("%s %s = %d %s, want %d", method, path, a.status, a.raw, want)
	}
	return a
}

func economyBodyDoc(name string) map[string]any {
	return map[string]any{"name": name, "effectiveFrom": "2026-01-01T00:00:00Z", "basePointsPerUnit": 2}
}

func TestAdminCRUDAndLifecycle(t *testing.T) {
	h := newAdminHarness(t)

	created := h.must(201, "POST", "/economies", economyBodyDoc("Spring"))
	id, _ := created.body["id"].(string)
	if !uuidPattern.MatchString(id) || created.body["version"] != 1.0 ||
		created.body["status"] != "Configure" || created.body["basePointsPerUnit"] != 2.0 ||
		created.body["createdAt"] == nil || created.header.Get("ETag") != `"1"` {
		t.Fatalf("created: %s", created.raw)
	}
	if got := h.must(200, "GET", "/economies/"+strings.ToUpper(id), nil); got.raw != created.raw {
		t.Fatalf("read back %s, created %s", got.raw, created.raw)
	}
	h.must(404, "GET", "/economies/"+id, nil, "x-tenant-id", tenantB)

	patched := h.must(200, "PATCH", "/economies/"+id, map[string]any{"name": "Spring 2", "currency": "eur"})
	if patched.body["version"] != 2.0 || patched.body["name"] != "Spring 2" ||
		patched.body["currency"] != "EUR" || patched.body["basePointsPerUnit"] != 2.0 {
		t.Fatalf("patched: %s", patched.raw)
	}
	put := h.must(200, "PUT", "/economies/"+id, economyBodyDoc("Spring 3"))
	if put.body["version"] != 3.0 || put.body["currency"] != nil {
		t.Fatalf("replaced: %s", put.raw)
	}

	h.must(200, "POST", "/economies/"+id+"/status", map[string]any{"status": "Test"})
	active := h.must(200, "POST", "/economies/"+id+"/status", map[string]any{"status": "Active"})
	if active.body["status"] != "Active" || active.body["version"] != 3.0 {
		t.Fatalf("status change must not bump the version: %s", active.raw)
	}
	again := h.must(200, "POST", "/economies/"+id+"/status", map[string]any{"status": "Active"})
	if again.body["changedAt"] != active.body["changedAt"] {
		t.Fatalf("same status again is a no-op: %s then %s", active.raw, again.raw)
	}

	edit := h.must(409, "PATCH", "/economies/"+id, map[string]any{"name": "x"})
	back := h.must(409, "POST", "/economies/"+id+"/status", map[string]any{"status": "Configure"})
	del := h.must(409, "DELETE", "/economies/"+id, nil)
	for _, a := range []adminAnswer{edit, back, del} {
		if a.body["code"] != "illegal_transition" {
			t.Fatalf("want illegal_transition: %s", a.raw)
		}
	}
	if msg, _ := back.body["message"].(string); !strings.Contains(msg, "Inactive or Archived") {
		t.Fatalf("message must name the allowed changes: %s", back.raw)
	}

	draft := h.must(201, "POST", "/economies", economyBodyDoc("Draft"))
	h.must(204, "DELETE", "/economies/"+draft.body["id"].(string), nil)
	h.must(404, "GET", "/economies/"+draft.body["id"].(string), nil)
}

func TestAdminIfMatch(t *testing.T) {
	h := newAdminHarness(t)
	id := h.must(201, "POST", "/segments", map[string]any{"name": "VIP"}).body["id"].(string)

	h.must(200, "PATCH", "/segments/"+id, map[string]any{"name": "VIP 2"}, "If-Match", `"1"`)
	stale := h.must(409, "PATCH", "/segments/"+id, map[string]any{"name": "VIP 3"}, "If-Match", "1")
	if stale.body["code"] != "version_conflict" {
		t.Fatalf("stale If-Match: %s", stale.raw)
	}
	h.must(409, "POST", "/segments/"+id+"/status", map[string]any{"status": "Test"}, "If-Match", "1")
	h.must(200, "POST", "/segments/"+id+"/status", map[string]any{"status": "Test"}, "If-Match", "2")
	h.must(400, "PATCH", "/segments/"+id, map[string]any{"name": "x"}, "If-Match", "two")
}

// TestAdminConcurrentTransitions races edits against an activation. Were
// check and write not serialized, an edit that read the object in Test
// could write it back after the activation, undoing it.
func TestAdminConcurrentTransitions(t *testing.T) {
	h := newAdminHarness(t)
	h.store.delay = 2 * time.Millisecond
	id := h.must(201, "POST", "/segments", map[string]any{"name": "S", "status": "Test"}).body["id"].(string)

	var wg sync.WaitGroup
	var edits atomic.Int32
	for i := range 16 {
		wg.Go(func() {
			if i == 8 {
				h.must(200, "POST", "/segments/"+id+"/status", map[string]any{"status": "Active"})
				return
			}
			if a := h.do("PATCH", "/segments/"+id, map[string]any{"name": "S" + itoa(i)}); a.status == 200 {
				edits.Add(1)
			}
		})
	}
	wg.Wait()
	final := h.must(200, "GET", "/segments/"+id, nil)
	if final.body["status"] != "Active" || final.body["version"] != float64(1+edits.Load()) {
		t.Fatalf("after %d edits and an activation: %s", edits.Load(), final.raw)
	}

	// Edits with the same If-Match: exactly one wins.
	id2 := h.must(201, "POST", "/segments", map[string]any{"name": "T"}).body["id"].(string)
	var ok atomic.Int32
	for i := range 8 {
		wg.Go(func() {
			a := h.do("PATCH", "/segments/"+id2, map[string]any{"name": "T" + itoa(i)}, "If-Match", "1")
			if a.status == 200 {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d edits of version 1 succeeded, want 1", ok.Load())
	}
	if v := h.must(200, "GET", "/segments/"+id2, nil).body["version"]; v != 2.0 {
		t.Fatalf("version = %v, want 2", v)
	}
}

func TestAdminList(t *testing.T) {
	h := newAdminHarness(t)
	var ids []string
	for i := range 5 {
		doc := map[string]any{"name": "S" + itoa(i)}
		if i%2 == 0 {
			doc["status"] = "Test"
		}
		ids = append(ids, h.must(201, "POST", "/segments", doc).body["id"].(string))
	}
	h.must(201, "POST", "/segments", map[string]any{"name": "other"}, "x-tenant-id", tenantB)

	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		page := h.must(200, "GET", "/segments?limit=2"+cursor, nil)
		for _, it := range page.body["items"].([]any) {
			got = append(got, it.(map[string]any)["id"].(string))
		}
		next, _ := page.body["nextCursor"].(string)
		if next == "" {
			if pages != 2 {
				t.Fatalf("%d pages, want 3", pages+1)
			}
			break
		}
		cursor = "&cursor=" + next
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Fatalf("listed %v, want %v in creation order", got, ids)
	}

	test := h.must(200, "GET", "/segments?status=Test", nil)
	if n := len(test.body["items"].([]any)); n != 3 || test.body["nextCursor"] != nil {
		t.Fatalf("status=Test: %s", test.raw)
	}
	for _, q := range []string{"?limit=0", "?limit=501", "?status=Paused", "?cursor=%21"} {
		h.must(400, "GET", "/segments"+q, nil)
	}
	h.must(400, "GET", "/webhooks?status=Active", nil)
	empty := h.must(200, "GET", "/triggers", nil)
	if empty.raw != `{"items":[],"nextCursor":null}`+"\n" {
		t.Fatalf("empty list: %q", empty.raw)
	}
}

func TestAdminStatusRoutesAndCreateStatus(t *testing.T) {
	h := newAdminHarness(t)
	trig := map[string]any{"name": "Reminder", "nameSpace": "Cart.Reminder",
		"delay": map[string]any{"n": 2, "unit": "day"}}
	id := h.must(201, "POST", "/triggers", trig).body["id"].(string)
	h.must(404, "POST", "/triggers/"+id+"/status", map[string]any{"status": "Active"})
	trig["status"] = "Active"
	h.must(400, "POST", "/triggers", trig)

	bad := h.must(400, "POST", "/segments", map[string]any{"name": "S", "status": "Inactive"})
	if !hasParam(bad, "/status") {
		t.Fatalf("create as Inactive: %s", bad.raw)
	}
	id = h.must(201, "POST", "/segments", map[string]any{"name": "S", "status": "Test"}).body["id"].(string)
	h.must(400, "PUT", "/segments/"+id, map[string]any{"name": "S", "status": "Active"})
	h.must(200, "PUT", "/segments/"+id, map[string]any{"name": "S", "status": "Test", "id": "ignored",
		"version": 99})
	h.must(400, "POST", "/segments/"+id+"/status", map[string]any{"status": "Paused"})
	h.must(400, "POST", "/segments/"+id+"/status", map[string]any{})
	h.must(404, "POST", "/segments/"+tenantB+"/status", map[string]any{"status": "Active"})
}

func TestAdminOrderOfChecks(t *testing.T) {
	h := newAdminHarness(t)
	unknown := "/economies/" + tenantB
	// 400 before 404: an invalid body on an unknown id.
	h.must(400, "PUT", unknown, map[string]any{"name": ""})
	h.must(404, "PUT", unknown, economyBodyDoc("x"))
	h.must(404, "PATCH", unknown, map[string]any{"name": "x"})
	h.must(400, "PATCH", unknown, "[1]")
	h.must(404, "DELETE", unknown, nil)
	// 400 before 409: an invalid edit of an Active economy.
	id := h.must(201, "POST", "/economies", map[string]any{"name": "A", "effectiveFrom": "2026-01-01T00:00:00Z",
		"basePointsPerUnit": 1, "status": "Active"}).body["id"].(string)
	h.must(400, "PATCH", "/economies/"+id, map[string]any{"basePointsPerUnit": -1})
	h.must(409, "PATCH", "/economies/"+id, map[string]any{"basePointsPerUnit": 3})
}

func TestAdminWebhookSecrets(t *testing.T) {
	h := newAdminHarness(t)
	doc := map[string]any{"name": "CRM", "url": "https://bob:s3cret@crm.example.com/hook",
		"bodyTemplate": `{"id": {{event.eventId}} }`, "secret": "generate"}
	created := h.must(201, "POST", "/webhooks", doc)
	secret, _ := created.body["secret"].(string)
	id := created.body["id"].(string)
	if !strings.HasPrefix(secret, "whsec_") || created.body["hasSecret"] != true ||
		created.body["url"] != "https://bob:xxxxx@crm.example.com/hook" ||
		created.body["method"] != "POST" || created.body["timeout"] != "10s" ||
		created.body["contentType"] != "application/json" {
		t.Fatalf("created: %s", created.raw)
	}
	got := h.must(200, "GET", "/webhooks/"+id, nil)
	if _, shown := got.body["secret"]; shown || strings.Contains(got.raw, "s3cret") {
		t.Fatalf("GET shows a secret: %s", got.raw)
	}

	// Sending the GET answer back keeps the secret and the password.
	back := got.body
	back["name"] = "CRM 2"
	h.must(200, "PUT", "/webhooks/"+id, back)
	rec, _ := h.store.Object(tenantA, catalog.KindWebhook, id)
	var stored webhookBody
	_ = json.Unmarshal([]byte(rec.Body), &stored)
	if stored.Secret != secret || stored.URL != "https://bob:s3cret@crm.example.com/hook" || stored.Name != "CRM 2" {
		t.Fatalf("stored after PUT: %+v", stored)
	}

	h.must(200, "PATCH", "/webhooks/"+id, map[string]any{"timeout": "5s"})
	if after := h.must(200, "GET", "/webhooks/"+id, nil); after.body["hasSecret"] != true {
		t.Fatalf("PATCH lost the secret: %s", after.raw)
	}
	if cleared := h.must(200, "PATCH", "/webhooks/"+id, `{"secret": null}`); cleared.body["hasSecret"] != false {
		t.Fatalf("secret null kept the secret: %s", cleared.raw)
	}
}

func TestAdminInUse(t *testing.T) {
	h := newAdminHarness(t)
	wh := h.must(201, "POST", "/webhooks", map[string]any{"name": "W", "url": "https://example.com/h",
		"bodyTemplate": "{}"}).body["id"].(string)
	trig := h.must(201, "POST", "/triggers", map[string]any{"name": "T", "nameSpace": "Later",
		"delay": map[string]any{"n": 1, "unit": "hour"}}).body["id"].(string)

	// A rule as the rules work will store it: actions refer by id.
	status := catalog.StatusActive
	rule := &schemas.ConfigRecord{TenantID: tenantA, Kind: catalog.KindRule, ID: "rule-1", Version: 1,
		Status: &status, CreatedAt: h.now, ChangedAt: h.now,
		Body: `{"name":"r","actions":[{"type":"callWebhook","webhookId":"` + wh + `"},` +
			`{"type":"createTrigger","triggerId":"` + trig + `"}]}`}
	if _, err := h.store.Put(context.Background(), rule); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/webhooks/" + wh, "/triggers/" + trig} {
		a := h.must(409, "DELETE", path, nil)
		if a.body["code"] != "in_use" || !strings.Contains(a.raw, "rule-1") {
			t.Fatalf("DELETE %s: %s", path, a.raw)
		}
	}
	status = catalog.StatusArchived
	if _, err := h.store.Put(context.Background(), rule); err != nil {
		t.Fatal(err)
	}
	h.must(204, "DELETE", "/webhooks/"+wh, nil)
	h.must(204, "DELETE", "/triggers/"+trig, nil)
}

func TestAdminAPIKeys(t *testing.T) {
	h := newAdminHarness(t)
	first := h.must(201, "POST", "/api-keys", map[string]any{"name": "ops", "scope": "admin"})
	id := first.body["id"].(string)
	secret, _ := first.body["secret"].(string)
	if !strings.HasPrefix(id, "tmk_") || !strings.HasPrefix(secret, "tms_") || first.body["enabled"] != true ||
		first.body["lastUsedAt"] != nil {
		t.Fatalf("created: %s", first.raw)
	}
	rec, _ := h.store.Object(tenantA, catalog.KindAPIKey, id)
	if strings.Contains(rec.Body, secret) {
		t.Fatal("the secret is stored in clear")
	}
	if k, _ := h.store.APIKey(tenantA, id); !catalog.CheckSecret(k.SecretHash, secret) {
		t.Fatal("the stored hash does not match the secret")
	}
	got := h.must(200, "GET", "/api-keys/"+id, nil)
	if strings.Contains(got.raw, "secret") || strings.Contains(got.raw, "Hash") {
		t.Fatalf("GET shows the secret or hash: %s", got.raw)
	}

	// The only admin key can be neither disabled nor deleted.
	for _, a := range []adminAnswer{
		h.must(409, "PATCH", "/api-keys/"+id, map[string]any{"enabled": false}),
		h.must(409, "DELETE", "/api-keys/"+id, nil),
	} {
		if a.body["code"] != "in_use" {
			t.Fatalf("last admin key: %s", a.raw)
		}
	}
	h.must(400, "PATCH", "/api-keys/"+id, map[string]any{"scope": "events"})
	h.must(404, "PUT", "/api-keys/"+id, map[string]any{"name": "x"})

	events := h.must(201, "POST", "/api-keys", map[string]any{"name": "shop", "scope": "events"})
	h.must(200, "PATCH", "/api-keys/"+events.body["id"].(string), map[string]any{"enabled": false})
	second := h.must(201, "POST", "/api-keys", map[string]any{"name": "ops2", "scope": "admin"})
	renamed := h.must(200, "PATCH", "/api-keys/"+id, map[string]any{"name": "ops-old", "enabled": false})
	if renamed.body["enabled"] != false || renamed.body["name"] != "ops-old" || renamed.body["scope"] != "admin" {
		t.Fatalf("patched: %s", renamed.raw)
	}
	h.must(409, "DELETE", "/api-keys/"+second.body["id"].(string), nil)
	h.must(204, "DELETE", "/api-keys/"+id, nil)
	h.must(400, "POST", "/api-keys", map[string]any{"name": "x", "scope": "root"})
}

func TestAdminTenant(t *testing.T) {
	h := newAdminHarness(t)
	got := h.must(200, "GET", "/tenant", nil)
	if got.body["tenantId"] != tenantA || got.body["timeZone"] != "UTC" || got.body["version"] != 1.0 {
		t.Fatalf("tenant: %s", got.raw)
	}
	p := h.must(200, "PATCH", "/tenant", map[string]any{"timeZone": "Europe/Berlin", "name": "Acme"},
		"Content-Type", "application/merge-patch+json")
	if p.body["timeZone"] != "Europe/Berlin" || p.body["name"] != "Acme" || p.body["version"] != 2.0 {
		t.Fatalf("patched tenant: %s", p.raw)
	}
	if tn, _ := h.store.Tenant(tenantA); tn.TimeZone != "Europe/Berlin" {
		t.Fatalf("catalog tenant: %+v", tn)
	}
	for _, body := range []any{
		map[string]any{"timeZone": "Mars/Olympus"}, map[string]any{"timeZone": "Local"},
		map[string]any{"name": ""}, map[string]any{"smtp": "x"},
	} {
		h.must(400, "PATCH", "/tenant", body)
	}
	h.must(409, "PATCH", "/tenant", map[string]any{"name": "B"}, "If-Match", "1")
	h.must(415, "PATCH", "/tenant", map[string]any{"name": "B"}, "Content-Type", "text/plain")
}

func hasParam(a adminAnswer, param string) bool {
	errs, _ := a.body["errors"].([]any)
	for _, e := range errs {
		if m, _ := e.(map[string]any); m["param"] == param {
			return true
		}
	}
	return false
}
