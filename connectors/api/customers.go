package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/tallymarks/tallymarks/schemas"
)

// customerView is the body of GET /customers/{customerId}: the profile
// fields of section 9 plus points, level and segments.
type customerView struct {
	CustomerID        string           `json:"customerId"`
	TenantID          string           `json:"tenantId"`
	FirstName         *string          `json:"firstName"`
	LastName          *string          `json:"lastName"`
	DisplayName       *string          `json:"displayName"`
	EmailAddress      *string          `json:"emailAddress"`
	IsAccountLocked   bool             `json:"isAccountLocked"`
	MobileNumber      *string          `json:"mobileNumber"`
	OptinSMS          bool             `json:"optinSms"`
	OptinEmail        bool             `json:"optinEmail"`
	AcceptTerms       bool             `json:"acceptTerms"`
	DateOfBirth       *string          `json:"dateOfBirth"`
	Attributes        []attributeView  `json:"attributes"`
	CreatedAt         string           `json:"createdAt"`
	ChangedAt         string           `json:"changedAt"`
	ContactPhone      *string          `json:"contactPhone"`
	ExternalReference *string          `json:"externalReference"`
	ExternalStatus    *string          `json:"externalStatus"`
	Points            pointsView       `json:"points"`
	Level             *struct{}        `json:"level"`
	Segments          []map[string]any `json:"segments"`
}

type attributeView struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type pointsView struct {
	Balance         int64         `json:"balance"`
	LifetimeEarned  int64         `json:"lifetimeEarned"`
	LifetimeSpent   int64         `json:"lifetimeSpent"`
	LifetimeExpired int64         `json:"lifetimeExpired"`
	ExpiringNext    *expiringView `json:"expiringNext"`
}

type expiringView struct {
	Points int64  `json:"points"`
	On     string `json:"on"`
}

// formatTime writes t as the API returns every instant: UTC, milliseconds.
func formatTime(t time.Time) string { return schemas.FormatTime(t) }

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request, p principal) error {
	id := r.PathValue("customerId")
	if !uuidPattern.MatchString(id) {
		return invalidRequest([]FieldError{{
			Message: "must be a UUID (8-4-4-4-12 hex digits)", Param: "customerId", Value: id,
		}})
	}
	if !s.cfg.Customers.Recovered() {
		return errNotReady
	}
	st, err := s.cfg.Customers.Customer(p.tenantID, strings.ToLower(id))
	if err != nil {
		return err
	}
	if st == nil {
		return notFound("customer")
	}
	writeJSON(w, http.StatusOK, newCustomerView(st))
	return nil
}

func newCustomerView(st *schemas.CustomerState) customerView {
	pr := st.Profile
	v := customerView{
		CustomerID:        pr.CustomerID,
		TenantID:          pr.TenantID,
		FirstName:         pr.FirstName,
		LastName:          pr.LastName,
		DisplayName:       pr.DisplayName,
		EmailAddress:      pr.EmailAddress,
		IsAccountLocked:   pr.IsAccountLocked,
		MobileNumber:      pr.MobileNumber,
		OptinSMS:          pr.OptinSMS,
		OptinEmail:        pr.OptinEmail,
		AcceptTerms:       pr.AcceptTerms,
		Attributes:        make([]attributeView, 0, len(pr.Attributes)),
		CreatedAt:         formatTime(pr.CreatedAt),
		ChangedAt:         formatTime(pr.ChangedAt),
		ContactPhone:      pr.ContactPhone,
		ExternalReference: pr.ExternalReference,
		ExternalStatus:    pr.ExternalStatus,
		Points: pointsView{
			Balance:         st.Points.Balance,
			LifetimeEarned:  st.Points.LifetimeEarned,
			LifetimeSpent:   st.Points.LifetimeSpent,
			LifetimeExpired: st.Points.LifetimeExpired,
		},
		Segments: []map[string]any{},
	}
	if pr.DateOfBirth != nil {
		d := pr.DateOfBirth.Format(time.DateOnly)
		v.DateOfBirth = &d
	}
	for _, a := range pr.Attributes {
		v.Attributes = append(v.Attributes, attributeView(a))
	}
	return v
}
