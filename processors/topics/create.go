package topics

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Ensure creates every topic of specs that does not exist yet, with the
// given replication factor. Existing topics are left alone, but one whose
// partition count differs from its spec is an error: co-partitioning would
// silently break.
func Ensure(ctx context.Context, adm *kadm.Client, specs []Spec, replication int16) error {
	var errs []error
	created := false
	for _, s := range specs {
		configs := map[string]*string{}
		switch {
		case s.Compacted && s.Retention > 0:
			configs["cleanup.policy"] = ptr("compact,delete")
			configs["retention.ms"] = ptr(strconv.FormatInt(s.Retention.Milliseconds(), 10))
		case s.Compacted:
			configs["cleanup.policy"] = ptr("compact")
		default:
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
		switch {
		case err == nil && resp.Err == nil:
			created = true
		case err == nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists):
			errs = append(errs, fmt.Errorf("creating topic %s: %w", s.Name, resp.Err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := waitForLeaders(ctx, adm, specs); err != nil {
		return err
	}
	if created {
		// A partition can have a leader in the metadata a moment before that
		// broker accepts writes for it; sarama's idempotent producer then
		// fails with "not the leader" instead of retrying (seen on Kafka
		// 4.4.0 about one run in three). Give new topics a moment to settle.
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return checkPartitions(ctx, adm, specs)
}

// waitForLeaders polls metadata until every partition of specs has a leader,
// for at most 30 s.
func waitForLeaders(ctx context.Context, adm *kadm.Client, specs []Spec) error {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		details, err := adm.ListTopics(ctx, names...)
		if err == nil && allLed(details, names) {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("waiting for partition leaders of new topics: %w", ctx.Err())
		}
	}
}

func allLed(details kadm.TopicDetails, names []string) bool {
	for _, n := range names {
		d, ok := details[n]
		if !ok || d.Err != nil || len(d.Partitions) == 0 {
			return false
		}
		for _, p := range d.Partitions {
			if p.Err != nil || p.Leader < 0 {
				return false
			}
		}
	}
	return true
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
