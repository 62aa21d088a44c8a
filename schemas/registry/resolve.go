package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
)

// maxReferenceDepth bounds how deep the schema references of a writer
// schema may go; a registry is not trusted to hold no cycles.
const maxReferenceDepth = 16

// readerKey identifies a decode schema: reader name and writer id.
type readerKey struct {
	name string
	id   int
}

// resolution is the cached outcome of resolving one writer against one
// reader: a schema to decode with, or the permanent reason there is none.
type resolution struct {
	schema avro.Schema
	err    error
}

// readerFor returns the schema that decodes data written with schema id as
// c's Go type, fetching the writer schema if need be.
func (s *Serde) readerFor(c *current, id int) (avro.Schema, error) {
	key := readerKey{name: string(c.name), id: id}
	s.mu.Lock()
	r, ok := s.resolved[key]
	s.mu.Unlock()
	if ok {
		return r.schema, r.err
	}

	w, err := s.writerSchema(id)
	if err == nil {
		r.schema, err = resolve(c, w, s.cfg.maxNesting)
	}
	// Ids are immutable, so everything but a failure to reach the registry
	// or an id it does not know (yet) gives the same answer next time.
	if err != nil && (IsRetryable(err) || errors.Is(err, ErrUnknownSchemaID)) {
		return nil, err
	}
	r.err = err
	s.mu.Lock()
	s.resolved[key] = r
	s.mu.Unlock()
	return r.schema, r.err
}

// resolve returns the schema that decodes data written with w as c's type.
func resolve(c *current, w avro.Schema, depth int) (avro.Schema, error) {
	// Same canonical form, same bytes: another registration of our schema,
	// for instance under a registry that numbers subjects apart.
	if w.Fingerprint() == c.schema.Fingerprint() {
		return c.codec, nil
	}
	writer, _, err := unroll(w, depth)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIncompatibleWriter, err)
	}
	if err := checkLogical(c.codec, writer); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIncompatibleWriter, err)
	}
	// A fresh SchemaCompatibility each time: hamba's marks a pair of schemas
	// as compatible-in-progress in a cache shared by its callers, and a
	// concurrent check of the same pair would take that mark for success.
	sch, err := avro.NewSchemaCompatibility().Resolve(c.codec, writer)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIncompatibleWriter, err)
	}
	return sch, nil
}

// writerSchema returns the parsed writer schema of id, from the cache or
// from the registry.
func (s *Serde) writerSchema(id int) (avro.Schema, error) {
	s.mu.Lock()
	w, ok := s.fetched[id]
	s.mu.Unlock()
	if ok {
		return w, nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.fetchTimeout)
	defer cancel()
	ss, err := s.cl.SchemaByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("fetching schema: %w", classify(err))
	}
	if ss.Type != sr.TypeAvro {
		return nil, fmt.Errorf("%w: schema is %s, not Avro", ErrIncompatibleWriter, ss.Type)
	}

	// Every writer schema gets a cache of its own: the names in it are the
	// writer's, and must not meet those of other versions.
	cache := &avro.SchemaCache{}
	if err := s.loadReferences(ctx, ss.References, cache, map[string]bool{}, 0); err != nil {
		return nil, err
	}
	w, err = avro.ParseWithCache(ss.Schema, "", cache)
	if err != nil {
		return nil, fmt.Errorf("%w: parsing writer schema: %w", ErrIncompatibleWriter, err)
	}

	s.mu.Lock()
	s.fetched[id] = w
	s.mu.Unlock()
	return w, nil
}

// loadReferences parses the schemas that refs name, and theirs before them,
// into cache. Schemas that TallyMarks registers have no references; those of
// other producers may.
func (s *Serde) loadReferences(ctx context.Context, refs []sr.SchemaReference,
	cache *avro.SchemaCache, seen map[string]bool, depth int,
) error {
	if len(refs) > 0 && depth >= maxReferenceDepth {
		return fmt.Errorf("%w: schema references nested deeper than %d", ErrIncompatibleWriter,
			maxReferenceDepth)
	}
	for _, ref := range refs {
		key := fmt.Sprintf("%s/%d", ref.Subject, ref.Version)
		if seen[key] {
			continue
		}
		seen[key] = true

		ss, err := s.cl.SchemaByVersion(ctx, ref.Subject, ref.Version)
		if err != nil {
			return fmt.Errorf("fetching referenced schema %s version %d: %w", ref.Subject, ref.Version,
				classify(err))
		}
		if err := s.loadReferences(ctx, ss.References, cache, seen, depth+1); err != nil {
			return err
		}
		if _, err := avro.ParseWithCache(ss.Schema.Schema, "", cache); err != nil {
			return fmt.Errorf("%w: parsing referenced schema %s version %d: %w", ErrIncompatibleWriter,
				ref.Subject, ref.Version, err)
		}
	}
	return nil
}

// classify wraps a registry client error in this package's sentinels: "not
// found" becomes ErrUnknownSchemaID; a refused schema (409 conflict, 422
// invalid) stays as it is; everything else, transport failures, timeouts,
// authentication and server errors, becomes ErrRegistry: the record may be
// fine, the registry is not reachable as configured.
func classify(err error) error {
	var re *sr.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %w", ErrUnknownSchemaID, err)
		case http.StatusConflict, http.StatusUnprocessableEntity:
			return err
		}
	}
	return fmt.Errorf("%w: %w", ErrRegistry, err)
}
