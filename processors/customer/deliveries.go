package customer

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/tallymarks/tallymarks/processors/rules"
	"github.com/tallymarks/tallymarks/schemas"
)

// deliveryNamespace is the UUIDv5 namespace of delivery ids.
var deliveryNamespace = uuid.MustParse("0f3b1c52-7a6e-4d1f-9b2a-4e8c5d7f9a31")

// deliveryRequest builds the request of one delivery a rule asked for. Its
// id derives from the event, rule and action, so that a redelivered event
// asks for the same delivery and the dispatcher sends it once. The template
// context is snapshotted now (finding 25): every retry sends the same bytes.
func deliveryRequest(ev *schemas.Event, res Result, d rules.Delivery, now time.Time) schemas.DeliveryRequest {
	id := uuid.NewSHA1(deliveryNamespace,
		[]byte(ev.TenantID+"/"+ev.EventID+"/"+d.RuleID+"/"+strconv.Itoa(d.ActionIndex))).String()
	ruleID, version, index := d.RuleID, d.RuleVersion, d.ActionIndex
	req := schemas.DeliveryRequest{
		DeliveryID:  id,
		TenantID:    ev.TenantID,
		CustomerID:  ev.CustomerID,
		EventID:     ev.EventID,
		Channel:     d.Channel,
		RuleID:      &ruleID,
		RuleVersion: &version,
		ActionIndex: &index,
		Context:     templateContext(ev, res, d, id),
		CreatedAt:   now.UTC().Truncate(time.Millisecond),
	}
	switch d.Channel {
	case rules.ChannelWebhook:
		req.WebhookID = &d.WebhookID
	default:
		subject, body := d.SubjectTemplate, d.BodyTemplate
		if subject != "" {
			req.SubjectTemplate = &subject
		}
		req.BodyTemplate = &body
	}
	return req
}

// templateContext is the context templates render against (SPEC section
// 8): the event, the customer profile, customerPointsBalance, the rule,
// tenantId, webhookId and deliveryId. Decimals are exact JSON numbers.
func templateContext(ev *schemas.Event, res Result, d rules.Delivery, deliveryID string) string {
	st := res.State
	pr := st.Profile
	ctx := map[string]any{
		"event": schemas.NewEventView(ev),
		"customer": map[string]any{
			"customerId": pr.CustomerID, "tenantId": pr.TenantID,
			"firstName": pr.FirstName, "lastName": pr.LastName, "displayName": pr.DisplayName,
			"emailAddress": pr.EmailAddress, "mobileNumber": pr.MobileNumber,
			"optinSms": pr.OptinSMS, "optinEmail": pr.OptinEmail,
			"createdAt":         schemas.FormatTime(pr.CreatedAt),
			"externalReference": pr.ExternalReference,
		},
		"customerPointsBalance": map[string]any{
			"amount":         st.Points.Balance,
			"previousAmount": res.Record.BalanceBefore,
			"lifetimeEarned": st.Points.LifetimeEarned,
			"level":          nil,
		},
		"rule":       map[string]any{"id": d.RuleID, "version": d.RuleVersion},
		"tenantId":   ev.TenantID,
		"webhookId":  d.WebhookID,
		"deliveryId": deliveryID,
	}
	b, err := json.Marshal(ctx)
	if err != nil {
		return "{}"
	}
	return string(b)
}
