package catalog

import "errors"

// ErrLagging is returned by Store.WaitFor when the store has not reached the
// requested offset in time.
var ErrLagging = errors.New("configuration not caught up")
