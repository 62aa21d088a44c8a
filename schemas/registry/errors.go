package registry

import "errors"

// Errors returned by Serde. Every error of Decode wraps exactly one of them,
// so that a consumer can tell a bad record (send it to a dead-letter topic)
// from a registry it cannot reach (retry; the record may be fine).
var (
	// ErrShortRecord is returned by Decode for a record shorter than the
	// five-byte Confluent header.
	ErrShortRecord = errors.New("record shorter than the 5-byte wire-format header")

	// ErrMagicByte is returned by Decode when the first byte is not 0: the
	// record was not written in the Confluent wire format.
	ErrMagicByte = errors.New("record does not start with magic byte 0")

	// ErrUnknownSchemaID is returned by Decode when the registry has no
	// schema with the record's id.
	ErrUnknownSchemaID = errors.New("schema id unknown to the registry")

	// ErrIncompatibleWriter is returned by Decode when the record's writer
	// schema is not Avro, cannot be parsed, or cannot be read as the
	// requested schema (Avro schema resolution fails).
	ErrIncompatibleWriter = errors.New("writer schema incompatible with reader schema")

	// ErrMalformed is returned by Decode when the Avro body does not decode
	// with the writer's schema: truncated or corrupt data, a string or array
	// over the configured limits, or records nested deeper than the nesting
	// limit (see WithMaxNesting).
	ErrMalformed = errors.New("malformed Avro body")

	// ErrRegistry is returned when the schema registry could not be asked:
	// connection failure, timeout, or an error response other than "not
	// found". The record itself may be fine; IsRetryable reports true.
	ErrRegistry = errors.New("schema registry unavailable")

	// ErrUnknownName is returned for a schema name the Serde was not built
	// with.
	ErrUnknownName = errors.New("schema name not registered with this serde")
)

// IsRetryable reports whether err is worth retrying later: true only for
// failures to reach the schema registry. Every other error of this package
// is a property of the record or of the schemas and will not go away.
func IsRetryable(err error) bool {
	return errors.Is(err, ErrRegistry)
}
