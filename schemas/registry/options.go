package registry

import "time"

// Defaults of the Serde options.
const (
	DefaultFetchTimeout = 10 * time.Second
	DefaultMaxBytes     = 1 << 20 // 1 MiB, Kafka's default largest record
	DefaultMaxItems     = 100_000
	DefaultMaxNesting   = 8
)

// Option configures a Serde.
type Option func(*config)

type config struct {
	fetchTimeout time.Duration
	maxBytes     int
	maxItems     int
	maxNesting   int
}

func defaultConfig() config {
	return config{
		fetchTimeout: DefaultFetchTimeout,
		maxBytes:     DefaultMaxBytes,
		maxItems:     DefaultMaxItems,
		maxNesting:   DefaultMaxNesting,
	}
}

// WithFetchTimeout bounds each request Decode makes to the registry for a
// writer schema it has not seen (default 10 s). Decode has no context,
// because goka codecs have none, so this timeout is what stops a decode from
// hanging on an unreachable registry. Values ≤ 0 are ignored.
func WithFetchTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.fetchTimeout = d
		}
	}
}

// WithMaxBytes sets the longest string or bytes value Decode accepts, in
// bytes (default 1 MiB). Longer values fail with ErrMalformed before
// anything is allocated for them. Values ≤ 0 are ignored.
func WithMaxBytes(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxBytes = n
		}
	}
}

// WithMaxItems sets the most elements one array may have when decoded
// (default 100,000). Avro writes an array's length before its elements, and
// the decoder allocates for that length at once, so without a bound a few
// hostile bytes could ask for gigabytes. Values ≤ 0 are ignored.
func WithMaxItems(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxItems = n
		}
	}
}

// WithMaxNesting sets how deep records of a recursive schema may nest
// (default 8): an error event carrying the failed event is one level, an
// error event about that error event two. Deeper records fail to encode and
// fail to decode with ErrMalformed. Values < 0 are ignored; 0 allows no
// nesting at all.
func WithMaxNesting(n int) Option {
	return func(c *config) {
		if n >= 0 {
			c.maxNesting = n
		}
	}
}
