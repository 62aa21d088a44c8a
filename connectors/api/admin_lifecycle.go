package api

import (
	"strings"

	"github.com/tallymarks/tallymarks/processors/catalog"
)

// statuses lists the lifecycle statuses in their usual order.
var statuses = []string{
	catalog.StatusConfigure, catalog.StatusTest, catalog.StatusActive,
	catalog.StatusInactive, catalog.StatusArchived,
}

// transitions is the lifecycle of SPEC section 3 and SPEC-DECISIONS
// finding 16, shared by economies, segments and rules: the statuses each
// status may change to. Inactive never becomes Active again and Archived
// is final.
var transitions = map[string][]string{
	catalog.StatusConfigure: {catalog.StatusTest, catalog.StatusActive},
	catalog.StatusTest:      {catalog.StatusConfigure, catalog.StatusActive},
	catalog.StatusActive:    {catalog.StatusInactive, catalog.StatusArchived},
	catalog.StatusInactive:  {catalog.StatusArchived},
	catalog.StatusArchived:  {},
}

// createStatuses are the statuses a create body may ask for.
var createStatuses = []string{catalog.StatusConfigure, catalog.StatusTest, catalog.StatusActive}

func isStatus(s string) bool { return contains(statuses, s) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkTransition returns nil when an object of noun may change from one
// status to another, and otherwise a 409 illegal_transition naming the
// changes allowed from its status. The same status again is the caller's
// no-op and not checked here.
func checkTransition(noun, from, to string) *Error {
	allowed := transitions[from]
	if contains(allowed, to) {
		return nil
	}
	msg := "cannot change " + article(noun) + " from " + from + " to " + to + ": "
	if len(allowed) == 0 {
		return illegalTransition(msg + from + " is final")
	}
	return illegalTransition(msg + "from " + from + " only " + strings.Join(allowed, " or ") + " is allowed")
}

// editable reports whether an object in status may be changed or deleted.
func editable(status string) bool {
	return status == catalog.StatusConfigure || status == catalog.StatusTest
}

// checkEditable returns the 409 for editing (verb "edited") or deleting
// (verb "deleted") an object of kind k that is no longer in Configure or
// Test.
func checkEditable(k *adminKind, status, verb string) *Error {
	if editable(status) {
		return nil
	}
	hint := "; change its status instead"
	if status == catalog.StatusArchived {
		hint = "; Archived objects are read-only"
	}
	return illegalTransition(article(k.noun) + " in " + status + " cannot be " + verb +
		": only " + k.plural + " in Configure or Test can" + hint)
}
