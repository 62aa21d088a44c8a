// Package registry encodes and decodes TallyMarks records in the Confluent
// wire format against a schema registry, and runs an in-process registry for
// `tallymarks dev` and tests.
//
// A record is one magic byte 0, the writer schema's registry id as a 4-byte
// big-endian integer, and the Avro binary body. Subjects follow Confluent's
// TopicNameStrategy, "<topic>-value", so that producers in any language using
// a Confluent serializer write records TallyMarks reads, and the other way
// round.
package registry

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/tallymarks/tallymarks/processors/topics"
	"github.com/tallymarks/tallymarks/schemas"
)

// headerLen is the length of the wire-format header: magic byte and id.
const headerLen = 5

// maxPooledBuffer is the largest encode buffer kept for reuse; a rare huge
// record should not pin its buffer forever.
const maxPooledBuffer = 64 << 10

var _ schemas.Codec = (*Serde)(nil)

// Subjects returns the registry subjects of every TallyMarks schema under
// Confluent's TopicNameStrategy, "<topic>-value", for the topics of n. The
// event schema has two subjects, the events and the errors topic, because
// error events are events; every other schema has one. The customer schema
// is registered under "<prefix>customers-value", the subject of customer
// profiles on their own, although no topic of that name exists yet.
func Subjects(n topics.Names) map[schemas.Name][]string {
	value := func(topic string) string { return topic + "-value" }
	return map[schemas.Name][]string{
		schemas.EventSchema:         {value(n.Events()), value(n.Errors())},
		schemas.LedgerEntrySchema:   {value(n.Ledger())},
		schemas.DeliverySchema:      {value(n.Deliveries())},
		schemas.CustomerSchema:      {value(n.Prefix() + "customers")},
		schemas.CustomerStateSchema: {value(n.CustomerTable())},
		schemas.ConfigRecordSchema:  {value(n.Config())},
		schemas.ReplySchema:         {value(n.Replies())},
		schemas.EventStatusSchema:   {value(n.EventStatus())},
		schemas.BudgetRequestSchema: {value(n.BudgetRequests())},
		schemas.BudgetGrantSchema:   {value(n.BudgetGrants())},
		schemas.BudgetStateSchema:   {value(n.BudgetTable())},
		schemas.AssessmentSchema:    {value(n.Assessments())},
		schemas.ConfigRequestSchema: {value(n.ConfigRequests())},
		// Replies of several kinds share the replies topic, each under a
		// subject of its own; the waiting request knows which it expects.
		schemas.ConfigReplySchema: {n.Replies() + "-io.tallymarks.ConfigReply"},
	}
}

// Serde encodes and decodes the records of TallyMarks schemas in the
// Confluent wire format. It is safe for concurrent use; the schemas it was
// built with never change, and the writer schemas it learns while decoding
// are cached for its lifetime.
type Serde struct {
	cl      *sr.Client
	api     avro.API
	cfg     config
	current map[schemas.Name]*current // fixed after New
	bufs    sync.Pool                 // *avro.Writer
	readers sync.Pool                 // *avro.Reader

	mu       sync.Mutex
	fetched  map[int]avro.Schema        // writer schemas by id
	resolved map[readerKey]resolution   // decode schemas by name and writer id
	patches  map[patchKey]*decimalPatch // nil entries: nothing to patch
}

// patchKey identifies a decimal patch: decode schema and Go type.
type patchKey struct {
	schema avro.Schema
	typ    reflect.Type
}

// current is what the Serde knows of one of its own schemas.
type current struct {
	name   schemas.Name
	id     int   // the id Encode writes: the first subject's
	ids    []int // the ids of every subject, the same in Confluent's registry
	schema avro.Schema
	// codec is schema unrolled to the nesting limit (see unroll): it encodes
	// the same bytes and bounds how deep a decoded record may nest.
	codec avro.Schema
}

// New registers each schema of subjects under its subjects and returns a
// Serde for those schemas. Registering is idempotent: a schema the registry
// already holds under a subject keeps its id. The registered text is the
// schema's full JSON, self-contained and with its defaults and docs, so that
// other clients resolve against it exactly as TallyMarks does.
//
// ctx bounds registration only. Every name must be one of schemas.Files and
// have at least one subject; all such problems are reported together. A
// registry that refuses a schema (for instance as incompatible with the
// subject's earlier versions) fails New with its error.
func New(ctx context.Context, cl *sr.Client, subjects map[schemas.Name][]string,
	opts ...Option,
) (*Serde, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := checkSubjects(subjects); err != nil {
		return nil, err
	}

	s := &Serde{
		cl:       cl,
		cfg:      cfg,
		current:  make(map[schemas.Name]*current, len(subjects)),
		fetched:  make(map[int]avro.Schema),
		resolved: make(map[readerKey]resolution),
		patches:  make(map[patchKey]*decimalPatch),
		// Limits matter only when decoding; they are what keeps outside
		// input from allocating without bound.
		api: avro.Config{
			MaxByteSliceSize:  cfg.maxBytes,
			MaxSliceAllocSize: cfg.maxItems,
		}.Freeze(),
	}
	s.bufs.New = func() any { return avro.NewWriter(nil, 512, avro.WithWriterConfig(s.api)) }
	s.readers.New = func() any { return avro.NewReader(nil, 0, avro.WithReaderConfig(s.api)) }

	// Register in schemas.Files order, so that a fresh registry hands out
	// the same ids every time.
	for _, n := range schemas.Files {
		subs, ok := subjects[n]
		if !ok {
			continue
		}
		c, err := s.register(ctx, n, subs)
		if err != nil {
			return nil, err
		}
		s.current[n] = c
	}
	return s, nil
}

// checkSubjects reports every name that is unknown or has no subject.
func checkSubjects(subjects map[schemas.Name][]string) error {
	var errs []error
	for n, subs := range subjects {
		if !slices.Contains(schemas.Files, n) {
			errs = append(errs, fmt.Errorf("schema %q: %w", n, ErrUnknownName))
		}
		if len(subs) == 0 || slices.Contains(subs, "") {
			errs = append(errs, fmt.Errorf("schema %q: empty subject", n))
		}
	}
	return errors.Join(errs...)
}

// register registers schema n under each of subjects.
func (s *Serde) register(ctx context.Context, n schemas.Name, subjects []string) (*current, error) {
	sch, err := schemas.Schema(n)
	if err != nil {
		return nil, fmt.Errorf("loading schema %s: %w", n, err)
	}
	text, err := registrationText(sch)
	if err != nil {
		return nil, fmt.Errorf("writing schema %s: %w", n, err)
	}
	codec, _, err := unroll(sch, s.cfg.maxNesting)
	if err != nil {
		return nil, fmt.Errorf("unrolling schema %s: %w", n, err)
	}

	c := &current{name: n, schema: sch, codec: codec}
	for _, subj := range subjects {
		id, err := s.cl.RegisterSchema(ctx, subj, sr.Schema{Schema: text, Type: sr.TypeAvro}, -1, -1)
		if err != nil {
			return nil, fmt.Errorf("registering schema %s under subject %s: %w", n, subj, classify(err))
		}
		c.ids = append(c.ids, id)
	}
	c.id = c.ids[0]
	return c, nil
}

// registrationText returns the text registered for s: its full JSON form.
// Not s.String(): that is Avro's Parsing Canonical Form, which drops
// defaults and docs. A registry holding it would give other clients schemas
// without defaults, and a Confluent registry would then refuse, as not
// backward compatible, the next version that adds a field with a default.
func registrationText(s avro.Schema) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// SchemaID returns the registry id Encode writes for schema n, or
// ErrUnknownName.
func (s *Serde) SchemaID(n schemas.Name) (int, error) {
	c, ok := s.current[n]
	if !ok {
		return 0, fmt.Errorf("schema %s: %w", n, ErrUnknownName)
	}
	return c.id, nil
}

// Encode returns v, a value or pointer of the Go type of schema n (see
// package schemas), in the wire format with the id of n's first subject. It
// fails with ErrUnknownName for a name the Serde was not built with, and
// with the Avro encoder's error for a value that does not fit the schema,
// including records nested deeper than the nesting limit.
func (s *Serde) Encode(n schemas.Name, v any) ([]byte, error) {
	return s.AppendEncode(nil, n, v)
}

// AppendEncode is Encode appending to b. On error it returns b unchanged.
func (s *Serde) AppendEncode(b []byte, n schemas.Name, v any) ([]byte, error) {
	c, ok := s.current[n]
	if !ok {
		return b, fmt.Errorf("encoding %s: %w", n, ErrUnknownName)
	}

	w := s.bufs.Get().(*avro.Writer)
	if err := write(w, c.codec, v); err != nil {
		return b, fmt.Errorf("encoding %s: %w", n, err)
	}
	b = appendHeader(b, c.id)
	b = append(b, w.Buffer()...)
	s.putWriter(w)
	return b, nil
}

// write encodes v into w, turning a panic of the encoder into an error.
func write(w *avro.Writer, sch avro.Schema, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errCodecPanic, p)
		}
	}()
	w.WriteVal(sch, v)
	return w.Error
}

// putWriter returns w to the pool, emptied, unless its buffer grew large.
func (s *Serde) putWriter(w *avro.Writer) {
	if cap(w.Buffer()) > maxPooledBuffer {
		return
	}
	w.Reset(nil)
	w.Error = nil
	s.bufs.Put(w)
}

// Decode reads a wire-format record b into v, a pointer to a zero value of
// the Go type of schema n.
//
// A record written with n's current schema is decoded directly. Any other
// id is looked up in the registry (once per id, with the fetch timeout;
// concurrent first decodes of one id may each ask) and the data is read
// through Avro schema resolution: fields the writer lacks take the reader's
// defaults, fields the reader lacks are skipped. The outcome for an id, a
// decode schema or ErrIncompatibleWriter, is cached for the Serde's lifetime;
// registry failures and unknown ids are not, so a later record retries.
//
// The body must be exactly one Avro datum: a truncated body, or bytes left
// after it, fail with ErrMalformed. Errors wrap ErrUnknownName,
// ErrShortRecord, ErrMagicByte, ErrUnknownSchemaID, ErrIncompatibleWriter,
// ErrMalformed or ErrRegistry. Arrays decode as empty, never nil, slices.
func (s *Serde) Decode(b []byte, n schemas.Name, v any) error {
	c, ok := s.current[n]
	if !ok {
		return fmt.Errorf("decoding %s: %w", n, ErrUnknownName)
	}
	id, body, err := splitHeader(b)
	if err != nil {
		return fmt.Errorf("decoding %s: %w", n, err)
	}

	sch := c.codec
	if !slices.Contains(c.ids, id) {
		sch, err = s.readerFor(c, id)
		if err != nil {
			return fmt.Errorf("decoding %s written with schema id %d: %w", n, id, err)
		}
	}

	if err := s.read(sch, body, v); err != nil {
		return fmt.Errorf("decoding %s written with schema id %d: %w: %w", n, id, ErrMalformed, err)
	}
	if err := s.patchDecimals(sch, body, v); err != nil {
		return fmt.Errorf("decoding decimals of %s written with schema id %d: %w: %w", n, id, ErrMalformed, err)
	}
	return nil
}

// Causes wrapped in ErrMalformed and in encoding errors.
var (
	errTrailingBytes = errors.New("bytes left after the Avro datum")
	// errCodecPanic reports a panic of the Avro codec turned into an error:
	// hamba panics, for instance, on a nil *big.Rat for a decimal that is
	// not nullable. A panic must not take a consumer down.
	errCodecPanic = errors.New("avro codec panicked")
)

// read decodes body, exactly one datum of sch, into v. It does not use
// avro.Unmarshal, which reports running out of data (io.EOF) as success:
// a body cut at a field boundary would decode into a partly filled value.
func (s *Serde) read(sch avro.Schema, body []byte, v any) (err error) {
	r := s.readers.Get().(*avro.Reader)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errCodecPanic, p)
			return // the reader may be in any state: not pooled
		}
		r.Reset(nil)
		r.Error = nil
		s.readers.Put(r)
	}()

	r.Error = nil
	r.Reset(body)
	r.ReadVal(sch, v)
	if r.Error != nil {
		return r.Error
	}
	r.Peek() // sets io.EOF when the body is used up
	if r.Error == nil {
		return errTrailingBytes
	}
	return nil
}

// patchDecimals re-reads the nullable decimals of v when hamba has damaged
// them (see decimal_patch.go).
func (s *Serde) patchDecimals(sch avro.Schema, body []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil
	}
	target := rv.Elem()

	key := patchKey{schema: sch, typ: target.Type()}
	s.mu.Lock()
	p, ok := s.patches[key]
	s.mu.Unlock()
	if !ok {
		p = buildPatch(sch, key.typ)
		s.mu.Lock()
		s.patches[key] = p
		s.mu.Unlock()
	}
	if p == nil || !p.needed(target) {
		return nil
	}

	shadow := reflect.New(p.shadow)
	if err := s.read(sch, body, shadow.Interface()); err != nil {
		return err
	}
	p.apply(shadow.Elem(), target)
	return nil
}

// appendHeader appends the wire-format header for schema id to b.
func appendHeader(b []byte, id int) []byte {
	// Registry ids are positive int32s, so the conversion keeps them whole.
	return binary.BigEndian.AppendUint32(append(b, 0), uint32(id))
}

// splitHeader returns the schema id and the Avro body of record b.
func splitHeader(b []byte) (id int, body []byte, err error) {
	if len(b) < headerLen {
		return 0, nil, fmt.Errorf("%w: %d bytes", ErrShortRecord, len(b))
	}
	if b[0] != 0 {
		return 0, nil, fmt.Errorf("%w: got %#02x", ErrMagicByte, b[0])
	}
	return int(binary.BigEndian.Uint32(b[1:headerLen])), b[headerLen:], nil
}
