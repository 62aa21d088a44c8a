package sink

import (
	"context"
	"errors"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// ErrConfig is wrapped by the error New returns when options are invalid;
// the error lists every problem at once.
var ErrConfig = errors.New("invalid sink configuration")

// ErrMigration is wrapped by every error Migrate returns after it reached the
// server: a migration file that cannot be parsed, or a statement the server
// refused.
var ErrMigration = errors.New("migrating clickhouse schema")

// errUnrepresentable marks a record whose values do not fit its ClickHouse
// columns, such as an amount beyond Decimal(18,4). Such a record is skipped
// like an undecodable one, so that it cannot stall the sink.
var errUnrepresentable = errors.New("value does not fit its column")

// errNotAnError marks a record of the errors topic that is not an error
// event; it is skipped with a warning.
var errNotAnError = errors.New("not an error event")

// ClickHouse exception codes the sink treats specially.
const (
	codeTimeoutExceeded        = 159
	codeReadonly               = 164
	codeTooManySimultaneous    = 202
	codeNoFreeConnection       = 203
	codeSocketTimeout          = 209
	codeNetworkError           = 210
	codeMemoryLimitExceeded    = 241
	codeTableIsReadOnly        = 242
	codeTooManyParts           = 252
	codeTableAlreadyExists     = 57
	codeDatabaseAlreadyExists  = 82
	codeAllConnectionTriesFail = 279
)

// transient reports whether err is likely to pass on its own, by waiting:
// a network failure, a timeout, an overloaded server. Every other failure of
// an insert needs a human (a dropped table, a changed column type). The sink
// retries both kinds, since skipping would lose rows; this predicate only
// decides whether a retry is logged as a warning or as an error.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) {
		// No answer from the server at all: dial, read or write failures.
		return true
	}
	switch ex.Code {
	case codeTimeoutExceeded, codeReadonly, codeTooManySimultaneous, codeNoFreeConnection,
		codeSocketTimeout, codeNetworkError, codeMemoryLimitExceeded, codeTableIsReadOnly,
		codeTooManyParts, codeAllConnectionTriesFail:
		return true
	}
	return false
}

// alreadyExists reports whether err says that a database, table or view
// exists. Every migration statement is CREATE … IF NOT EXISTS, but two
// servers-side creations racing can still report it; the object exists,
// which is what the statement wanted.
func alreadyExists(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) &&
		(ex.Code == codeTableAlreadyExists || ex.Code == codeDatabaseAlreadyExists)
}
