package api

import (
	"net/http"
	"strconv"
	"strings"
)

// The Admin API's own answers; the codes are those of section 12.

// errConfigLagging answers a configuration write that Kafka acknowledged
// but this instance did not read back in time: the change is probably in
// force, so a blind retry could apply it twice.
var errConfigLagging = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
	Message: "the change was written but this instance has not read it back yet; " +
		"read the object before retrying", RetryAfter: 5}

func illegalTransition(msg string) *Error {
	return &Error{Status: http.StatusConflict, Code: "illegal_transition", Message: msg}
}

func versionConflict(want, have int) *Error {
	return &Error{Status: http.StatusConflict, Code: "version_conflict",
		Message: "If-Match names version " + strconv.Itoa(want) +
			" but the current version is " + strconv.Itoa(have)}
}

func inUse(msg string, ids []string) *Error {
	return &Error{Status: http.StatusConflict, Code: "in_use",
		Message: msg, Detail: strings.Join(ids, ", ")}
}
