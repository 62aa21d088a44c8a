// Package schemas holds the Avro schemas of every record TallyMarks writes to
// Kafka, the Go types that mirror them, and their binary codecs.
//
// The .avsc files beside this file are the source of truth; upstream producers
// in any language write events with event.avsc. A schema may refer to a named
// type of a schema listed before it in [Files], so the files are parsed in
// that order into one cache.
package schemas

import (
	"embed"
	"fmt"
	"sync"

	"github.com/hamba/avro/v2"
)

//go:embed *.avsc
var files embed.FS

// Name identifies one top-level schema.
type Name string

// The top-level schemas, one per .avsc file.
const (
	EventSchema         Name = "event"
	LedgerEntrySchema   Name = "ledger_entry"
	DeliverySchema      Name = "delivery_request"
	CustomerSchema      Name = "customer"
	CustomerStateSchema Name = "customer_state"
	ConfigRecordSchema  Name = "config_record"
	ReplySchema         Name = "reply"
	EventStatusSchema   Name = "event_status"
	BudgetRequestSchema Name = "budget_request"
	BudgetGrantSchema   Name = "budget_grant"
	BudgetStateSchema   Name = "budget_state"
	AssessmentSchema    Name = "assessment"
	ConfigRequestSchema Name = "config_request"
	ConfigReplySchema   Name = "config_reply"
)

// Files lists the schemas in dependency order: each may use named types of
// those before it.
var Files = []Name{
	EventSchema,
	LedgerEntrySchema,
	DeliverySchema,
	CustomerSchema,
	EventStatusSchema,
	CustomerStateSchema,
	ConfigRecordSchema,
	ReplySchema,
	BudgetRequestSchema,
	BudgetGrantSchema,
	BudgetStateSchema,
	AssessmentSchema,
	ConfigRequestSchema,
	ConfigReplySchema,
}

var (
	parseOnce sync.Once
	parsed    map[Name]avro.Schema
	parseErr  error
)

// Source returns the text of the named .avsc file.
func Source(n Name) (string, error) {
	b, err := files.ReadFile(string(n) + ".avsc")
	if err != nil {
		return "", fmt.Errorf("reading schema %s: %w", n, err)
	}
	return string(b), nil
}

// Schema returns the parsed schema of n, with the named types of earlier
// files resolved. Its String form is Avro's canonical form, which drops
// defaults and docs: register its full JSON (json.Marshal) instead, as
// package registry does.
func Schema(n Name) (avro.Schema, error) {
	parseOnce.Do(func() { parsed, parseErr = ParseAll(Source) })
	if parseErr != nil {
		return nil, parseErr
	}
	s, ok := parsed[n]
	if !ok {
		return nil, fmt.Errorf("unknown schema %q", n)
	}
	return s, nil
}

// MustSchema is Schema for schemas known to be embedded; it panics on error,
// which can only happen if an embedded file is broken (a test catches that).
func MustSchema(n Name) avro.Schema {
	s, err := Schema(n)
	if err != nil {
		panic(err)
	}
	return s
}

// ParseAll parses every schema of [Files], in order, into one fresh cache,
// reading each text through src.
func ParseAll(src func(Name) (string, error)) (map[Name]avro.Schema, error) {
	return ParseSet(Files, src)
}

// ParseSet parses the named schemas, in the given order, reading each text
// through src; each may use named types of those before it. The
// compatibility test uses it to parse released sets, which lack the schemas
// added since.
//
// Each schema gets a cache of its own, filled by parsing the schemas before
// it again. hamba's parser rewrites shared named types in place, turning a
// definition into a bare reference when another schema happens to reach
// that type first: parsed into one shared cache, customer_state made
// event's marshalled JSON lose the definition of Attribute.
func ParseSet(names []Name, src func(Name) (string, error)) (map[Name]avro.Schema, error) {
	texts := make([]string, len(names))
	for i, n := range names {
		text, err := src(n)
		if err != nil {
			return nil, err
		}
		texts[i] = text
	}
	out := make(map[Name]avro.Schema, len(names))
	for i, n := range names {
		cache := &avro.SchemaCache{}
		for j := range i {
			if _, err := avro.ParseWithCache(texts[j], "", cache); err != nil {
				return nil, fmt.Errorf("parsing schema %s: %w", names[j], err)
			}
		}
		s, err := avro.ParseWithCache(texts[i], "", cache)
		if err != nil {
			return nil, fmt.Errorf("parsing schema %s: %w", n, err)
		}
		out[n] = s
	}
	return out, nil
}

// Codec encodes and decodes records of the named schemas. The schema
// registry's Serde implements it with the Confluent wire format; every
// reader and writer of Kafka records in TallyMarks goes through one.
type Codec interface {
	Encode(n Name, v any) ([]byte, error)
	Decode(b []byte, n Name, v any) error
}
