package topics

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Ensure creates every topic of specs that does not exist yet, with the
// given replication factor. Existing topics are left alone, but one whose
// partition count differs from its spec is an error: co-partitioning would
// silently break.
func Ensure(ctx context.Context, adm *kadm.Client, specs []Spec, replication int16) error {
	var errs []error
	for _, s := range specs {
		configs := map[string]*string{}
		if s.Compacted {
			configs["cleanup.policy"] = ptr("compact")
		} else {
			configs["cleanup.policy"] = ptr("delete")
			ms := int64(-1)
			if s.Retention > 0 {
				ms = s.Retention.Milliseconds()
			}
			configs["retention.ms"] = ptr(strconv.FormatInt(ms, 10))
		}
		resp, err := adm.CreateTopic(ctx, s.Partitions, replication, configs, s.Name)
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("creating topic %s: %w", s.Name, err))
			continue
		}
		if err == nil && resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("creating topic %s: %w", s.Name, resp.Err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return checkPartitions(ctx, adm, specs)
}

func checkPartitions(ctx context.Context, adm *kadm.Client, specs []Spec) error {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	details, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("listing topics: %w", err)
	}
	var errs []error
	for _, s := range specs {
		d, ok := details[s.Name]
		if !ok || d.Err != nil {
			errs = append(errs, fmt.Errorf("topic %s is missing after creation", s.Name))
			continue
		}
		if got := int32(len(d.Partitions)); got != s.Partitions {
			errs = append(errs, fmt.Errorf(
				"topic %s has %d partitions, want %d: co-partitioned topics must agree",
				s.Name, got, s.Partitions))
		}
	}
	return errors.Join(errs...)
}

func ptr[T any](v T) *T { return &v }
