package customer

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"

	"github.com/tallymarks/tallymarks/processors/catalog"
	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

// Record headers TallyMarks reads and writes.
const (
	// HeaderConfigOffset carries the config-topic offset the accepting API
	// instance had applied; the processor waits for its own catalog to
	// reach it, so a configuration change applies to every event accepted
	// after the change was answered.
	HeaderConfigOffset = "tallymarks-config-offset"
	// HeaderDeadLetterReason says why a record went to a dead-letter topic.
	HeaderDeadLetterReason = "tallymarks-dlq-reason"
	// HeaderReplyTo names the API instance waiting for the event's outcome;
	// the processor answers on the replies topic under that key.
	HeaderReplyTo = topics.HeaderReplyTo
	// HeaderCorrelationID identifies the waiting request within its instance.
	HeaderCorrelationID = topics.HeaderCorrelationID
	// HeaderInline marks a system event that was assessed inline with its
	// cause and is on the events topic only to be recorded: the processor
	// skips it.
	HeaderInline = "tallymarks-inline"
)

// configWait bounds how long an event waits for the configuration it was
// accepted under; past it the event is assessed with what is there.
const configWait = 5 * time.Second

// Config configures a Processor.
type Config struct {
	Brokers []string
	Topics  topics.Names
	Codec   schemas.Codec
	Catalog *catalog.Catalog
	Log     *slog.Logger
	Goka    topics.GokaOptions
	// Storage is the local storage of the state table; default in memory,
	// recovered from the changelog at start.
	Storage storage.Builder
	// Retryable reports whether a decoding error is passing (the schema
	// registry did not answer) rather than a bad record. A passing error is
	// retried, holding the partition, instead of dead-lettering a good
	// record. Default: no error is retryable.
	Retryable func(error) bool
}

// Processor is the goka processor of customer state.
type Processor struct {
	cfg   Config
	proc  *goka.Processor
	rules *ruleSet
	// zones caches loaded time zones by IANA name.
	zones sync.Map
}

// New builds the processor's group graph. Topics must exist (see
// topics.Ensure).
func New(cfg Config) (*Processor, error) {
	p := &Processor{cfg: cfg, rules: newRuleSet(cfg.Catalog, cfg.Log)}
	graph := goka.DefineGroup(cfg.Topics.CustomerGroup(),
		goka.Input(goka.Stream(cfg.Topics.Events()), new(codec.Bytes), p.consume),
		goka.Input(goka.Stream(cfg.Topics.BudgetGrants()), new(codec.Bytes), p.settle),
		goka.Persist(StateCodec{Codec: cfg.Codec}),
		goka.Output(goka.Stream(cfg.Topics.Ledger()), new(codec.Bytes)),
		goka.Output(goka.Stream(cfg.Topics.EventsDLQ()), new(codec.Bytes)),
		goka.Output(goka.Stream(cfg.Topics.Errors()), new(codec.Bytes)),
		goka.Output(goka.Stream(cfg.Topics.Replies()), new(codec.Bytes)),
		goka.Output(goka.Stream(cfg.Topics.EventStatus()), new(codec.Bytes)),
		goka.Output(goka.Stream(cfg.Topics.Deliveries()), new(codec.Bytes)),
		goka.Output(goka.Stream(cfg.Topics.BudgetRequests()), new(codec.Bytes)),
		goka.Output(goka.Stream(cfg.Topics.Assessments()), new(codec.Bytes)),
		// System events assessed inline are recorded on the events topic,
		// marked with HeaderInline so that consume skips them.
		goka.Output(goka.Stream(cfg.Topics.Events()), new(codec.Bytes)),
	)
	proc, err := topics.NewProcessor(cfg.Brokers, graph, cfg.Goka, cfg.Storage, cfg.Log)
	if err != nil {
		return nil, err
	}
	p.proc = proc
	return p, nil
}

// Run processes events until ctx ends; it returns nil on cancellation.
func (p *Processor) Run(ctx context.Context) error {
	return topics.RunProcessor(ctx, p.proc, p.cfg.Log)
}

// consume handles one record of the events topic. The input codec is raw
// bytes and decoding happens here, so that a record that cannot be decoded
// goes to the dead-letter topic instead of stopping the partition.
func (p *Processor) consume(ctx goka.Context, msg any) {
	if _, inline := ctx.Headers()[HeaderInline]; inline {
		return
	}
	raw, _ := msg.([]byte)
	ev := new(schemas.Event)
	err := topics.DecodeRetrying(ctx, p.cfg.Log, p.cfg.Codec, schemas.EventSchema, raw, ev, p.cfg.Retryable)
	if err != nil {
		p.deadLetter(ctx, raw, fmt.Sprintf("undecodable: %v", err))
		return
	}
	if err := checkEnvelope(ctx.Key(), ev); err != nil {
		p.deadLetter(ctx, raw, err.Error())
		return
	}
	tenant, ok := p.cfg.Catalog.Tenant(ev.TenantID)
	if !ok {
		p.deadLetter(ctx, raw, "unknown tenant "+ev.TenantID)
		return
	}
	p.awaitConfig(ctx)

	in := p.input(ev, tenant)
	in.Partition, in.Offset = ctx.Partition(), ctx.Offset()
	res := Apply(state(ctx), ev, in)

	// An event waiting for budget grants is answered when its last grant
	// is settled: whoever waits is noted with it.
	waits := res.Record.Status == StatusAccepted && res.Outcome != Duplicate
	to, corr := replyHeaders(ctx)
	if waits && res.Outcome == Processed && to != "" {
		SetReplyTo(res.State, ev.EventID, to, corr)
	}
	if !waits {
		defer p.reply(ctx, to, corr, ev, res.Record, res.Outcome == Duplicate, res.Basket)
	}
	switch res.Outcome {
	case Duplicate:
		p.cfg.Log.Debug("duplicate event ignored", "event_id", ev.EventID, "key", ctx.Key())
		return
	case Evaluated:
		p.emitBasket(ctx, ev, res, in.Now)
		return
	}
	// State first, then outputs: if the process dies in between, the
	// redelivered record finds the event in the window and re-emits the
	// outputs with their original ids.
	if res.State != nil {
		ctx.SetValue(res.State)
	}
	for _, e := range res.Entries {
		p.emit(ctx, p.cfg.Topics.Ledger(), schemas.LedgerEntrySchema, &e)
	}
	for _, e := range res.Errors {
		p.emit(ctx, p.cfg.Topics.Errors(), schemas.EventSchema, &e)
	}
	p.emitRequests(ctx, res.Requests)
	if res.Outcome == Processed {
		// Keyed by customer like the event; consumers tell a copy written
		// again after a crash by its (tenantId, eventId).
		if res.Assessment != nil {
			p.emit(ctx, p.cfg.Topics.Assessments(), schemas.AssessmentSchema, res.Assessment)
		}
		for _, d := range res.Deliveries {
			req := deliveryRequest(ev, res, d, in.Now)
			p.emit(ctx, p.cfg.Topics.Deliveries(), schemas.DeliverySchema, &req)
		}
		for _, c := range res.Caused {
			p.emitCaused(ctx, c, res)
		}
		p.emitStatus(ctx, StatusOf(ev, res, in.Now))
	}
}

// settle handles one record of the budget-grants topic: the budget keeper's
// answer to a budgeted award (see budget.go). A grant that cannot be
// decoded is logged and dropped: the keeper wrote it, so it is a bug, and
// the event it answers stays accepted rather than stop the partition.
func (p *Processor) settle(ctx goka.Context, msg any) {
	raw, _ := msg.([]byte)
	g := new(schemas.BudgetGrant)
	if !topics.DecodeOrDrop(ctx, p.cfg.Log, p.cfg.Codec, schemas.BudgetGrantSchema, raw, g, p.cfg.Retryable) {
		return
	}
	st := state(ctx)
	ev, ok := PendingEvent(st, g.EventID)
	if !ok {
		ev = &schemas.Event{TenantID: g.TenantID, CustomerID: g.CustomerID, EventID: g.EventID}
	}
	tenant, _ := p.cfg.Catalog.Tenant(g.TenantID)
	in := p.input(ev, tenant)
	res := Settle(st, g, in)
	if res.State != nil {
		ctx.SetValue(res.State)
	}
	for _, e := range res.Entries {
		p.emit(ctx, p.cfg.Topics.Ledger(), schemas.LedgerEntrySchema, &e)
	}
	if res.State == nil {
		return
	}
	p.emitRequests(ctx, res.Requests)
	parent := Result{State: res.State, Record: res.Record}
	for _, d := range res.Deliveries {
		req := deliveryRequest(ev, parent, d, in.Now)
		p.emit(ctx, p.cfg.Topics.Deliveries(), schemas.DeliverySchema, &req)
	}
	for _, c := range res.Caused {
		p.emitCaused(ctx, c, parent)
	}
	p.emitStatus(ctx, *res.Status)
	if res.Done {
		p.reply(ctx, res.ReplyTo, res.CorrelationID, ev, res.Record, false, nil)
	}
}

// input builds what Apply and Settle need besides the state and the
// event: the tenant's rules, zone, segment lookups and the economy in
// force at the event's createdAt.
func (p *Processor) input(ev *schemas.Event, tenant catalog.Tenant) Input {
	loc := p.location(tenant.TimeZone)
	in := Input{
		Now: time.Now(), Location: loc, DeferBudget: true,
		Rules:         p.rules.rules(ev.TenantID, loc),
		SegmentActive: segmentActive(p.cfg.Catalog, ev.TenantID),
		SegmentExpiry: segmentExpiry(p.cfg.Catalog, ev.TenantID, loc),
	}
	if e, ok := p.cfg.Catalog.EconomyAt(ev.TenantID, ev.CreatedAt); ok {
		in.Economy = &e
	}
	return in
}

// state returns the customer state of the record's key, nil for none.
func state(ctx goka.Context) *schemas.CustomerState {
	st, _ := ctx.Value().(*schemas.CustomerState)
	return st
}

// emitRequests sends budget requests to the budget keeper, keyed by
// tenant and rule.
func (p *Processor) emitRequests(ctx goka.Context, reqs []schemas.BudgetRequest) {
	for _, r := range reqs {
		b, err := p.cfg.Codec.Encode(schemas.BudgetRequestSchema, &r)
		if err != nil {
			ctx.Fail(fmt.Errorf("encoding budget request: %w", err))
		}
		ctx.Emit(goka.Stream(p.cfg.Topics.BudgetRequests()), topics.BudgetKey(r.TenantID, r.RuleID), b)
	}
}

// emitCaused records a system event assessed inline: on the events topic,
// marked so that no processor assesses it again, and its status.
func (p *Processor) emitCaused(ctx goka.Context, c Caused, parent Result) {
	b, err := p.cfg.Codec.Encode(schemas.EventSchema, &c.Event)
	if err != nil {
		ctx.Fail(fmt.Errorf("encoding system event: %w", err))
	}
	ctx.Emit(goka.Stream(p.cfg.Topics.Events()), ctx.Key(), b,
		goka.WithCtxEmitHeaders(goka.Headers{HeaderInline: []byte("1")}))
	res := Result{
		Record:  schemas.ProcessedEvent{Status: c.Status()},
		Entries: c.Entries,
		Trace:   c.Trace,
		State:   parent.State,
	}
	p.emitStatus(ctx, StatusOf(&c.Event, res, time.Now()))
}

// emitBasket emits what an evaluated basket causes: its webhook deliveries
// and its status. It writes no state (finding 10), so a redelivered basket
// is simply evaluated again; its deliveries keep their ids (basketDelivery).
//
// The status is left out when the customer has processed another event
// with the basket's eventId: statuses are keyed by tenant and eventId, and
// the order that a cart became may reuse the cart's id. Its status must
// survive a later question about the cart.
func (p *Processor) emitBasket(ctx goka.Context, ev *schemas.Event, res Result, now time.Time) {
	for _, d := range res.Deliveries {
		req := basketDelivery(ev, res, d, now)
		p.emit(ctx, p.cfg.Topics.Deliveries(), schemas.DeliverySchema, &req)
	}
	if _, taken := Seen(res.State, ev.EventID); taken {
		p.cfg.Log.Debug("basket status not recorded: its eventId names a processed event",
			"event_id", ev.EventID, "key", ctx.Key())
		return
	}
	p.emitStatus(ctx, StatusOf(ev, res, now))
}

// emitStatus records what became of an event for GET /events/{eventId}.
//
// Limitation: a redelivered event does not re-emit its status, because the
// trace is not kept in the customer state; if the process died between
// writing the state and the status, the event's status stays unknown.
func (p *Processor) emitStatus(ctx goka.Context, st schemas.EventStatus) {
	b, err := p.cfg.Codec.Encode(schemas.EventStatusSchema, &st)
	if err != nil {
		ctx.Fail(fmt.Errorf("encoding event status: %w", err))
	}
	ctx.Emit(goka.Stream(p.cfg.Topics.EventStatus()), topics.EventKey(st.TenantID, st.EventID), b)
}

// replyHeaders returns the API instance and correlation id waiting for the
// record's outcome, empty when nobody waits.
func replyHeaders(ctx goka.Context) (to, corr string) {
	h := ctx.Headers()
	to, corr = string(h[HeaderReplyTo]), string(h[HeaderCorrelationID])
	if to == "" || corr == "" {
		return "", ""
	}
	return to, corr
}

// reply answers the API instance waiting for ev's outcome, if one is. A
// duplicate is answered with the original outcome, a basket with its
// BasketResult as JSON.
func (p *Processor) reply(ctx goka.Context, to, corr string, ev *schemas.Event, rec schemas.ProcessedEvent,
	existing bool, basket *BasketResult,
) {
	if to == "" {
		return
	}
	r := schemas.Reply{
		CorrelationID:   corr,
		EventID:         ev.EventID,
		TenantID:        ev.TenantID,
		CustomerID:      ev.CustomerID,
		Status:          rec.Status,
		Code:            rec.Code,
		IsExisting:      existing,
		PreviousBalance: rec.BalanceBefore,
		Balance:         rec.BalanceAfter,
	}
	if basket != nil {
		result, err := json.Marshal(basket)
		if err != nil {
			ctx.Fail(fmt.Errorf("encoding basket result: %w", err))
		}
		r.Result = string(result)
	}
	b, err := p.cfg.Codec.Encode(schemas.ReplySchema, &r)
	if err != nil {
		ctx.Fail(fmt.Errorf("encoding reply: %w", err))
	}
	ctx.Emit(goka.Stream(p.cfg.Topics.Replies()), to, b,
		goka.WithCtxEmitHeaders(goka.Headers{HeaderCorrelationID: []byte(corr)}))
}

// emit encodes v and emits it to topic under the record's key. An encoding
// failure is a bug, not bad input: it fails the partition rather than lose
// an output.
func (p *Processor) emit(ctx goka.Context, topic string, n schemas.Name, v any) {
	b, err := p.cfg.Codec.Encode(n, v)
	if err != nil {
		ctx.Fail(fmt.Errorf("encoding %s for %s: %w", n, topic, err))
	}
	ctx.Emit(goka.Stream(topic), ctx.Key(), b)
}

// location returns the named zone, or UTC when it cannot be loaded; the
// Admin API validates zones, so that only happens for a zone the machine's
// time zone database lacks.
func (p *Processor) location(name string) *time.Location {
	if l, ok := p.zones.Load(name); ok {
		return l.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		p.cfg.Log.Warn("unknown time zone, using UTC", "zone", name, "err", err)
		loc = time.UTC
	}
	p.zones.Store(name, loc)
	return loc
}

// awaitConfig waits until the catalog has applied the config offset the
// event was accepted under, at most configWait.
func (p *Processor) awaitConfig(ctx goka.Context) {
	v, ok := ctx.Headers()[HeaderConfigOffset]
	if !ok {
		return
	}
	off, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return
	}
	if err := p.cfg.Catalog.WaitFor(ctx.Context(), off, configWait); err != nil {
		p.cfg.Log.Warn("assessing with lagging configuration",
			"key", ctx.Key(), "want_offset", off, "err", err)
	}
}

func (p *Processor) deadLetter(ctx goka.Context, raw []byte, reason string) {
	p.cfg.Log.Warn("event dead-lettered", "key", ctx.Key(),
		"partition", ctx.Partition(), "offset", ctx.Offset(), "reason", reason)
	ctx.Emit(goka.Stream(p.cfg.Topics.EventsDLQ()), ctx.Key(), raw,
		goka.WithCtxEmitHeaders(goka.Headers{HeaderDeadLetterReason: []byte(reason)}))
}

// checkEnvelope checks what every event must satisfy, whoever produced it:
// the key names the event's own tenant and customer, and exactly one
// payload is set.
func checkEnvelope(key string, ev *schemas.Event) error {
	tenant, cust, err := topics.SplitKey(key)
	if err != nil {
		return err
	}
	if tenant != ev.TenantID || cust != ev.CustomerID {
		return fmt.Errorf("key %q does not match tenantId %s and customerId %s",
			key, ev.TenantID, ev.CustomerID)
	}
	if _, n := ev.Type(); n != 1 {
		return fmt.Errorf("event %s has %d payloads, want exactly 1", ev.EventID, n)
	}
	return nil
}

// StateCodec is the goka codec of the state table.
type StateCodec struct {
	Codec schemas.Codec
}

// Encode encodes a *schemas.CustomerState.
func (c StateCodec) Encode(v any) ([]byte, error) {
	return c.Codec.Encode(schemas.CustomerStateSchema, v)
}

// Decode decodes a *schemas.CustomerState.
func (c StateCodec) Decode(b []byte) (any, error) {
	st := new(schemas.CustomerState)
	if err := c.Codec.Decode(b, schemas.CustomerStateSchema, st); err != nil {
		return nil, fmt.Errorf("decoding customer state: %w", err)
	}
	return st, nil
}
