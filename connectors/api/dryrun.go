package api

import (
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/processors/customer"
	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// dryRunRequest is the body of POST /admin/rules/test (SPEC-DECISIONS
// finding 24): a customer and any event envelope, whose payload slot
// decides its type. The event's customerId may be left out.
type dryRunRequest struct {
	CustomerID *string       `json:"customerId"`
	Event      *eventRequest `json:"event"`
}

// dryRunAnswer is what the event would do, with the shapes of GET
// /events/{eventId}: ledgerEntries as there, trace as there.
type dryRunAnswer struct {
	EventID    string `json:"eventId"`
	CustomerID string `json:"customerId"`
	// Status is assessed, or refused for a spend the processor would
	// refuse, with its code.
	Status string  `json:"status"`
	Code   *string `json:"code,omitempty"`
	// KnownCustomer is false when the customer has no state yet and the
	// event was assessed for a new, empty customer.
	KnownCustomer   bool              `json:"knownCustomer"`
	PreviousBalance int64             `json:"previousBalance"`
	Balance         int64             `json:"balance"`
	Event           schemas.EventView `json:"event"`
	Outcomes        []rules.Outcome   `json:"outcomes"`
	PotentialPoints *int64            `json:"potentialPoints,omitempty"`
	LedgerEntries   []ledgerEntryView `json:"ledgerEntries"`
	Trace           customer.Trace    `json:"trace"`
	CausedEvents    []string          `json:"causedEvents"`
	Deliveries      []deliveryView    `json:"deliveries"`
	Schedules       []scheduleView    `json:"schedules"`
}

// deliveryView is a webhook call, e-mail or SMS the event would send, its
// templates unrendered.
type deliveryView struct {
	RuleID          string `json:"ruleId"`
	RuleVersion     int    `json:"ruleVersion"`
	ActionIndex     int    `json:"actionIndex"`
	Channel         string `json:"channel"`
	WebhookID       string `json:"webhookId,omitempty"`
	SubjectTemplate string `json:"subjectTemplate,omitempty"`
	BodyTemplate    string `json:"bodyTemplate,omitempty"`
}

// scheduleView is a trigger the event would schedule.
type scheduleView struct {
	RuleID      string `json:"ruleId"`
	RuleVersion int    `json:"ruleVersion"`
	ActionIndex int    `json:"actionIndex"`
	TriggerID   string `json:"triggerId"`
}

// dryRun serves POST /admin/rules/test. It is safe for concurrent use.
type dryRun struct {
	s     *Server
	rules *customer.RuleSet
}

func newDryRun(s *Server) *dryRun {
	return &dryRun{s: s, rules: customer.NewRuleSet(s.cfg.Catalog, s.cfg.Log)}
}

// serve runs one event through the tenant's Test and Active rules with
// customer.Apply, the processor's own function, on the customer's current
// state, and answers what it would do. Nothing is produced and no state is
// written: the state Apply returns is dropped. Deduplication is ignored,
// caps are checked without being used, and an unknown customer is a new,
// empty one. The input is built as the processor builds it (rules,
// segment lookups, zone), except that a Test economy in force is preferred
// (customer.DryRunEconomy), so that without Test rules or economies a dry
// run gives the trace and entries the real event will get, provided
// nothing changes in between.
func (d *dryRun) serve(w http.ResponseWriter, r *http.Request, p principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	ev, err := d.readEvent(body, p)
	if err != nil {
		return err
	}
	cfg := &d.s.cfg
	if cfg.Customers == nil || !cfg.Customers.Recovered() {
		return errNotReady
	}
	st, err := cfg.Customers.Customer(p.tenantID, ev.CustomerID)
	if err != nil {
		return err
	}

	// The processor's input for this event, as a dry run.
	loc := tenantLocation(cfg.Catalog, p.tenantID)
	in := customer.Input{
		Partition: -1, Offset: -1, Now: cfg.Now(), Location: loc, DryRun: true,
		Rules:         d.rules.Rules(p.tenantID, loc),
		SegmentActive: customer.SegmentActiveLookup(cfg.Catalog, p.tenantID),
		SegmentExpiry: customer.SegmentExpiryLookup(cfg.Catalog, p.tenantID, loc),
		Economy:       customer.DryRunEconomy(cfg.Catalog, p.tenantID, ev.CreatedAt),
	}
	if cfg.Budgets != nil {
		// Budgets are checked against what the keeper has granted; a read
		// that fails counts the budget as unused, like a new rule's.
		in.BudgetUsed = func(ruleID string, actionIndex int) int64 {
			used, err := cfg.Budgets.Used(p.tenantID, ruleID, actionIndex)
			if err != nil {
				cfg.Log.Warn("reading budget for a dry run", "rule", ruleID, "err", err)
			}
			return used
		}
	}
	res := customer.Apply(customer.WithoutEvent(st, ev.EventID), ev, in)

	writeJSON(w, http.StatusOK, newDryRunAnswer(ev, st, res))
	return nil
}

// readEvent reads the request and validates its event as the event
// endpoints do, with pointers under /event.
func (d *dryRun) readEvent(body []byte, p principal) (*schemas.Event, error) {
	var req dryRunRequest
	if errs := decodeStrict(body, &req); errs != nil {
		return nil, invalidRequest(errs)
	}
	v := &validator{}
	cust := v.uuid("/customerId", req.CustomerID, true)
	var typ schemas.EventType
	if req.Event == nil {
		v.add("/event", "is required", nil)
	} else {
		typ = v.dryRunSlot(req.Event)
		switch ec := req.Event.CustomerID; {
		case ec == nil && cust != "":
			req.Event.CustomerID = &cust
		case ec != nil && cust != "" && !strings.EqualFold(*ec, cust):
			v.add("/event/customerId", "must be absent or equal customerId", *ec)
		}
	}
	if len(v.errs) > 0 {
		return nil, invalidRequest(v.errs)
	}

	ev, errs := req.Event.toEvent(typ, p.tenantID, d.s.cfg.Now())
	if errs != nil {
		return nil, invalidRequest(prefixed("/event", errs))
	}
	if ev.EventID == "" {
		ev.EventID = uuid.NewString()
	}
	return ev, nil
}

// dryRunSlot returns the type of the one payload slot set.
func (v *validator) dryRunSlot(req *eventRequest) schemas.EventType {
	set := req.setSlots()
	if len(set) != 1 {
		v.add("/event", "must have exactly one payload: action, order, transaction, transfer, "+
			"points, redemption or basket", nil)
		return ""
	}
	return set[0]
}

// newDryRunAnswer builds the answer from Apply's result on st, the state
// before the event (nil for an unknown customer).
func newDryRunAnswer(ev *schemas.Event, st *schemas.CustomerState, res customer.Result) dryRunAnswer {
	a := dryRunAnswer{
		EventID: ev.EventID, CustomerID: ev.CustomerID, Status: customer.StatusAssessed,
		KnownCustomer: st != nil, Event: schemas.NewEventView(ev),
		Outcomes: []rules.Outcome{}, LedgerEntries: make([]ledgerEntryView, 0, len(res.Entries)),
		Trace: res.Trace, CausedEvents: []string{},
		Deliveries: make([]deliveryView, 0, len(res.Deliveries)),
		Schedules:  make([]scheduleView, 0, len(res.Schedules)),
	}
	if st != nil {
		a.PreviousBalance = st.Points.Balance
	}
	a.Balance = a.PreviousBalance
	if res.State != nil {
		a.Balance = res.State.Points.Balance
	}
	if res.Refused != "" {
		code := res.Refused
		a.Status, a.Code = customer.StatusRefused, &code
	}
	if a.Trace.Rules == nil {
		a.Trace.Rules = []rules.RuleTrace{}
	}
	for _, e := range res.Entries {
		a.LedgerEntries = append(a.LedgerEntries, newLedgerEntryView(e))
	}
	for _, dl := range res.Deliveries {
		a.Deliveries = append(a.Deliveries, deliveryView{
			RuleID: dl.RuleID, RuleVersion: dl.RuleVersion, ActionIndex: dl.ActionIndex,
			Channel: dl.Channel, WebhookID: dl.WebhookID,
			SubjectTemplate: dl.SubjectTemplate, BodyTemplate: dl.BodyTemplate,
		})
	}
	for _, sc := range res.Schedules {
		a.Schedules = append(a.Schedules, scheduleView{
			RuleID: sc.RuleID, RuleVersion: sc.RuleVersion, ActionIndex: sc.ActionIndex,
			TriggerID: sc.TriggerID,
		})
	}
	for _, c := range res.Caused {
		a.CausedEvents = append(a.CausedEvents, c.Event.EventID)
	}
	// A basket: its outcomes and potential points, as POST /events/baskets
	// would answer them.
	if res.Outcome == customer.Evaluated && res.Basket != nil {
		a.Outcomes = res.Basket.Outcomes
		pp := res.Basket.PotentialPoints
		a.PotentialPoints = &pp
	}
	return a
}
