package api

import (
	"strings"
	"testing"
)

func TestCheckTransition(t *testing.T) {
	allowed := map[string]bool{
		"Configure>Test": true, "Configure>Active": true,
		"Test>Configure": true, "Test>Active": true,
		"Active>Inactive": true, "Active>Archived": true,
		"Inactive>Archived": true,
	}
	for _, from := range statuses {
		for _, to := range statuses {
			if from == to {
				continue
			}
			t.Run(from+">"+to, func(t *testing.T) {
				err := checkTransition("rule", from, to)
				if allowed[from+">"+to] != (err == nil) {
					t.Fatalf("checkTransition(%s, %s) = %v", from, to, err)
				}
				if err == nil {
					return
				}
				if err.Status != 409 || err.Code != "illegal_transition" {
					t.Fatalf("error = %+v", err)
				}
				for _, next := range transitions[from] {
					if !strings.Contains(err.Message, next) {
						t.Fatalf("message %q does not name the allowed %s", err.Message, next)
					}
				}
			})
		}
	}
}

func TestCheckEditable(t *testing.T) {
	k := economyKind()
	tests := []struct {
		status string
		ok     bool
		hint   string
	}{
		{status: "Configure", ok: true},
		{status: "Test", ok: true},
		{status: "Active", hint: "change its status"},
		{status: "Inactive", hint: "change its status"},
		{status: "Archived", hint: "read-only"},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			err := checkEditable(k, tt.status, "edited")
			if tt.ok != (err == nil) {
				t.Fatalf("checkEditable(%s) = %v", tt.status, err)
			}
			if err != nil && (err.Code != "illegal_transition" || !strings.Contains(err.Message, tt.hint)) {
				t.Fatalf("error = %+v", err)
			}
		})
	}
}

func TestCheckDocumentStatus(t *testing.T) {
	active := "Active"
	tests := []struct {
		name   string
		status string
		edit   bool
		ok     bool
	}{
		{name: "create as Configure", status: "Configure", ok: true},
		{name: "create as Test", status: "Test", ok: true},
		{name: "create as Active", status: "Active", ok: true},
		{name: "create as Inactive", status: "Inactive"},
		{name: "create as Archived", status: "Archived"},
		{name: "edit keeps status", status: "Active", edit: true, ok: true},
		{name: "edit changes status", status: "Test", edit: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs []FieldError
			s := tt.status
			if tt.edit {
				errs = checkDocumentStatus(&s, recordWithStatus(&active))
			} else {
				errs = checkDocumentStatus(&s, nil)
			}
			if tt.ok != (len(errs) == 0) {
				t.Fatalf("errors = %+v", errs)
			}
		})
	}
}
