package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/schemas"
)

// adminWriteTimeout bounds one configuration write: producing the record
// and reading it back into this instance's catalog.
const adminWriteTimeout = 15 * time.Second

// configStore is what the Admin API needs of the catalog: reads from this
// instance's store, and writes that return only once that store has applied
// them, so that a client reads its own write from the same instance.
// *catalog.Catalog implements it.
type configStore interface {
	Object(tenantID, kind, id string) (schemas.ConfigRecord, bool)
	Objects(tenantID, kind string) []schemas.ConfigRecord
	Put(ctx context.Context, rec *schemas.ConfigRecord) (int64, error)
	Delete(ctx context.Context, tenantID, kind, id string) (int64, error)
}

// adminKind describes one kind of configuration object served under
// /api/v1/admin/{plural}. The CRUD and lifecycle machinery is written once
// in admin_handlers.go; a kind supplies only what differs.
type adminKind struct {
	plural string // URL segment: "economies"
	kind   string // catalog kind, the middle of the config key: "economy"
	noun   string // for messages: "economy"

	// lifecycle: the object has a status (Configure, Test, Active, Inactive,
	// Archived), is editable and deletable only in Configure and Test, and
	// has POST /{id}/status. Without it there is no status at all.
	lifecycle bool
	// noReplace: no PUT; the kind is changed only through PATCH.
	noReplace bool

	// newID returns the id of a new object; nil: a random UUIDv4.
	newID func() (string, error)
	// decode validates a complete document from a client (the body of POST
	// or PUT, or a PATCH merged onto the current view) and returns what to
	// store. It reports every bad field at once.
	decode func(in *decodeInput) (*decoded, []FieldError)
	// extra returns fields shown after the view that live outside the
	// object's record, such as an API key's lastUsedAt; nil: none.
	extra func(st configStore, rec *schemas.ConfigRecord) (json.RawMessage, error)
	// view turns a stored body into the fields clients see, without the
	// server fields (id, version, status, createdAt, changedAt), which the
	// machinery adds. It must hide secrets. A PATCH is merged onto it.
	view func(body []byte) (json.RawMessage, error)
	// inUse returns the ids of objects that refer to the object id; DELETE
	// answers 409 in_use while there are any. nil: never in use.
	inUse func(st configStore, tenantID, id string) []string
	// checkWrite may veto a write with an *Error (409, 422): prev is nil on
	// create, next is nil on delete. nil: no check.
	checkWrite func(st configStore, tenantID string, prev, next *schemas.ConfigRecord) error
	// checkStatus may veto a lifecycle change that the transition table
	// allows, for example activating a rule whose segments are not Active.
	checkStatus func(st configStore, rec *schemas.ConfigRecord, to string) error
	// doc describes the kind's objects for the OpenAPI document.
	doc kindDoc
}

// decodeInput is what a kind's decode function is given.
type decodeInput struct {
	tenantID string
	// doc is the client's document: a JSON object that may also carry the
	// read-only fields of a GET answer, which are ignored.
	doc []byte
	// prev is the stored record being replaced or patched; nil on create.
	prev *schemas.ConfigRecord
	// nulls names the top-level fields that the client's own body (the PUT
	// body or the merge patch) set to null explicitly.
	nulls map[string]bool
	now   time.Time
	store configStore
}

// decoded is a validated document.
type decoded struct {
	// body is stored as the record's JSON body.
	body any
	// status is the status the document asks for, lifecycle kinds only.
	status *string
	// reveal holds values the answer to this write shows once and no read
	// ever shows again: a generated API or webhook secret.
	reveal map[string]string
}

// adminAPI serves the Admin API. It is safe for concurrent use.
//
// Each write checks lifecycle and version under the tenant's lock, which
// serializes the writes made through this instance, then goes through the
// config writer (catalog.Writer), which serializes all instances' writes
// per tenant: it writes a change only if the object is still at the
// version the change was made from, and otherwise answers
// version_conflict (SPEC-DECISIONS finding 37). A write returns once this
// instance's catalog has applied it.
type adminAPI struct {
	store configStore
	// writes sends writes through the config writer; nil writes straight
	// to the store (tests of the handlers).
	writes *configWrites
	now    func() time.Time
	log    *slog.Logger
	kinds  []*adminKind

	mu    sync.Mutex
	locks map[string]*sync.Mutex // by tenant id
}

func newAdminAPI(store configStore, now func() time.Time, log *slog.Logger) *adminAPI {
	return &adminAPI{store: store, now: now, log: log, kinds: adminKinds(), locks: map[string]*sync.Mutex{}}
}

// adminKinds returns the kinds the Admin API serves. Adding a kind here
// serves its routes and documents them.
func adminKinds() []*adminKind {
	return []*adminKind{
		economyKind(),
		segmentKind(),
		ruleKind(),
		triggerKind(),
		webhookKind(),
		apiKeyKind(),
	}
}

// adminRoutes registers the Admin API's routes, all of scope admin. The
// dry run reads customer state besides the catalog, and backtests run as
// jobs, so they are served by the Server rather than the kind machinery
// (dryrun.go, backtest.go).
func (s *Server) adminRoutes() {
	a := newAdminAPI(s.cfg.Catalog, s.cfg.Now, s.cfg.Log)
	if s.cfg.Producer != nil && s.cfg.Replies != nil {
		a.writes = &configWrites{producer: s.cfg.Producer, replies: s.cfg.Replies,
			catalog: s.cfg.Catalog, topics: s.cfg.Topics, codec: s.cfg.Codec}
	}
	a.routes(s.handle)
	s.handle("POST /api/v1/admin/rules/test", catalog.ScopeAdmin, newDryRun(s).serve)
	s.handle("POST /api/v1/admin/rules/backtest", catalog.ScopeAdmin, s.postBacktest)
	s.handle("GET /api/v1/admin/rules/backtest/{jobId}", catalog.ScopeAdmin, s.getBacktest)
}

// routes registers every route of the Admin API through handle.
func (a *adminAPI) routes(handle func(pattern, scope string, h handlerFunc)) {
	for _, k := range a.kinds {
		a.register(handle, k)
	}
	handle("GET /api/v1/admin/tenant", catalog.ScopeAdmin, a.getTenant)
	handle("PATCH /api/v1/admin/tenant", catalog.ScopeAdmin, a.patchTenant)
}

// register adds the routes of one kind: that is all it takes to serve a
// new kind, such as rules.
func (a *adminAPI) register(handle func(pattern, scope string, h handlerFunc), k *adminKind) {
	base := "/api/v1/admin/" + k.plural
	handle("POST "+base, catalog.ScopeAdmin, a.create(k))
	handle("GET "+base, catalog.ScopeAdmin, a.list(k))
	handle("GET "+base+"/{id}", catalog.ScopeAdmin, a.get(k))
	if !k.noReplace {
		handle("PUT "+base+"/{id}", catalog.ScopeAdmin, a.replace(k))
	}
	handle("PATCH "+base+"/{id}", catalog.ScopeAdmin, a.patch(k))
	handle("DELETE "+base+"/{id}", catalog.ScopeAdmin, a.remove(k))
	if k.lifecycle {
		handle("POST "+base+"/{id}/status", catalog.ScopeAdmin, a.setStatus(k))
	}
}

// lock takes the tenant's write lock and returns its release.
func (a *adminAPI) lock(tenantID string) func() {
	a.mu.Lock()
	m := a.locks[tenantID]
	if m == nil {
		m = &sync.Mutex{}
		a.locks[tenantID] = m
	}
	a.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// clock returns the time stamped on a write: UTC, milliseconds, as every
// instant of the API.
func (a *adminAPI) clock() time.Time {
	return a.now().UTC().Truncate(time.Millisecond)
}

func (k *adminKind) makeID() (string, error) {
	if k.newID != nil {
		return k.newID()
	}
	u, err := uuid.NewRandom()
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// put writes rec, made from prev (nil for a new object), and waits until
// this instance has applied it. Through the config writer it is written
// only if the object is still prev.
func (a *adminAPI) put(ctx context.Context, prev, rec *schemas.ConfigRecord) error {
	ctx, cancel := context.WithTimeout(ctx, adminWriteTimeout)
	defer cancel()
	if a.writes != nil {
		return a.writeFailure(rec.Kind, rec.ID, a.writes.write(ctx, prev, rec, false))
	}
	_, err := a.store.Put(ctx, rec)
	return a.writeFailure(rec.Kind, rec.ID, err)
}

// tombstone deletes an object, rec as last read, and waits until this
// instance has applied it. Through the config writer it is deleted only
// if it is still at rec's version.
func (a *adminAPI) tombstone(ctx context.Context, rec *schemas.ConfigRecord) error {
	ctx, cancel := context.WithTimeout(ctx, adminWriteTimeout)
	defer cancel()
	if a.writes != nil {
		return a.writeFailure(rec.Kind, rec.ID, a.writes.write(ctx, rec, rec, true))
	}
	_, err := a.store.Delete(ctx, rec.TenantID, rec.Kind, rec.ID)
	return a.writeFailure(rec.Kind, rec.ID, err)
}

// writeFailure maps a failed write to its answer. When the record was
// written but not read back in time, the change may well be in force: the
// answer says so rather than "nothing was accepted".
func (a *adminAPI) writeFailure(kind, id string, err error) error {
	var apiErr *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr):
		return apiErr
	}
	if errors.Is(err, catalog.ErrLagging) {
		a.log.Warn("config write not read back in time", "kind", kind, "id", id, "err", err)
		return errConfigLagging
	}
	a.log.Warn("config write failed", "kind", kind, "id", id, "err", err)
	return errUnavailable
}
