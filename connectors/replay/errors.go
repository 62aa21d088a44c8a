package replay

import "errors"

// ErrBusy says that this instance has as many backtests queued as it
// takes; the client should try again later.
var ErrBusy = errors.New("too many backtests queued")
