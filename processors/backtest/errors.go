package backtest

import "errors"

// ErrTooLarge says that an evaluation would hold more customers and cap
// counters than its MaxKeys bound: the window must be narrowed or fewer
// rules evaluated at once.
var ErrTooLarge = errors.New("backtest too large")
