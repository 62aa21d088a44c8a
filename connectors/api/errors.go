package api

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Error is the one error body of every endpoint (section 9):
// {"code", "message", "detail", "errors": [{"message", "param", "value"}]}.
type Error struct {
	Status  int          `json:"-"`
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Detail  string       `json:"detail,omitempty"`
	Errors  []FieldError `json:"errors,omitempty"`
	// RetryAfter, in seconds, is sent as a Retry-After header when > 0.
	RetryAfter int `json:"-"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// The stable error codes and their statuses. Clients match on code.
var (
	errUnauthorized = &Error{Status: http.StatusUnauthorized, Code: "unauthorized",
		Message: "missing or invalid credentials"}
	errForbidden = &Error{Status: http.StatusForbidden, Code: "forbidden",
		Message: "this API key's scope does not cover this route"}
	errRouteNotFound = &Error{Status: http.StatusNotFound, Code: "not_found",
		Message: "no such route"}
	errUnsupportedMediaType = &Error{Status: http.StatusUnsupportedMediaType,
		Code: "unsupported_media_type", Message: "the body must be application/json"}
	errPayloadTooLarge = &Error{Status: http.StatusRequestEntityTooLarge,
		Code: "payload_too_large", Message: "the body must be at most 1 MiB"}
	errUnavailable = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
		Message: "Kafka is unavailable: nothing was accepted", RetryAfter: 5}
	errNotReady = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
		Message: "this instance is still recovering its state", RetryAfter: 5}
	errInsufficientPoints = &Error{Status: http.StatusConflict, Code: "insufficient_points",
		Message: "the customer's balance does not cover the spend"}
	errAccountLocked = &Error{Status: http.StatusLocked, Code: "account_locked",
		Message: "the customer's account is locked"}
	errInternal = &Error{Status: http.StatusInternalServerError, Code: "internal",
		Message: "internal error"}
)

func invalidRequest(fields []FieldError) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_request",
		Message: "the request is invalid", Errors: fields}
}

func notFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: what + " not found"}
}

func eventIDConflict(eventID string) *Error {
	return &Error{Status: http.StatusConflict, Code: "event_id_conflict",
		Message: "eventId " + eventID + " was already used for another customer"}
}

// writeError writes err as the error body. Errors that are not *Error are
// internal: their text never reaches the client.
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = errInternal
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", itoa(e.RetryAfter))
	}
	writeJSON(w, e.Status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do
}
