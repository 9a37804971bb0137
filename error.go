package parley

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Each maps to one HTTP status and one WebSocket error code in
// the transports; services choose the code, transports never do.
const (
	EINVALID      = "invalid"      // bad input; nothing was changed
	ENOTFOUND     = "not_found"    // no such thing, or the caller may not know it exists
	EFORBIDDEN    = "forbidden"    // the caller is known but lacks the right
	EUNAUTHORIZED = "unauthorized" // no valid session or token
	// ETWOFACTOR: the password was right, and the account also needs the
	// code from its authenticator app (or a recovery code).
	ETWOFACTOR = "two_factor_required"
	// ESETUPTWOFACTOR: the organisation requires administrators to use
	// two-factor sign-in and this one has not set it up yet; only setting
	// it up (and signing out) is allowed until they do.
	ESETUPTWOFACTOR = "two_factor_setup_required"
	ECONFLICT       = "conflict"     // the state does not allow it (e.g. request not yet allowed)
	ERATELIMITED    = "rate_limited" // too many attempts; retry later
	ETOOLARGE       = "too_large"    // a body or a file over its limit
	EUNAVAILABLE    = "unavailable"  // shutting down or a dependency is down; retry
	EINTERNAL       = "internal"     // anything else; logged, never shown
)

// Error is an error whose code and message are safe to show to the caller.
// Any other error is reported as EINTERNAL with a generic message.
type Error struct {
	Code    string
	Message string
	// Field names the offending input field for EINVALID, when there is one.
	Field string
	// RetryAfter, for ERATELIMITED, is how long until a retry can succeed.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("parley: %s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("parley: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error about one input field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err if it is an *Error, and a generic
// message otherwise, so internal details never reach a caller.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	}
	return "internal error"
}

// AtMost refuses a list of n items when more than max are allowed: an
// EINVALID naming field, checked before any item is looked at, so an
// oversized list costs nothing (a list is also what a query binds as
// parameters, and databases cap those).
func AtMost(field string, n, max int, what string) error {
	if n <= max {
		return nil
	}
	return Invalid(field, "at most %d %s", max, what)
}
