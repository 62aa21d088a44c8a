package topics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Ensure creates every topic of specs that does not exist yet, with the
// given replication factor. Existing topics are left alone, but one whose
// partition count differs from its spec is an error: co-partitioning would
// silently break.
func Ensure(ctx context.Context, adm *kadm.Client, specs []Spec, replication int16) error {
	// Topics are created concurrently: a broker takes a few hundred
	// milliseconds per topic, which added up to seconds one by one.
	errs := make([]error, len(specs))
	created := make([]bool, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			created[i], errs[i] = create(ctx, adm, s, replication)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := waitForLeaders(ctx, adm, specs); err != nil {
		return err
	}
	if slices.Contains(created, true) {
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

// create creates one topic with its spec's settings; an existing topic is
// not an error, and created says whether this call made it.
func create(ctx context.Context, adm *kadm.Client, s Spec, replication int16) (created bool, err error) {
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
	switch {
	case err != nil && errors.Is(err, kerr.TopicAlreadyExists):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("creating topic %s: %w", s.Name, err)
	case resp.Err == nil:
		return true, nil
	case errors.Is(resp.Err, kerr.TopicAlreadyExists):
		return false, nil
	}
	return false, fmt.Errorf("creating topic %s: %w", s.Name, resp.Err)
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
	// kadm answers ListTopics from franz-go's metadata cache, which keeps
	// the "no leader yet" answer for 5 s; asking for authorized operations
	// makes it send a fresh request each time instead.
	fresh := kadm.WithAuthorizedOps(ctx)
	for {
		details, err := adm.ListTopics(fresh, names...)
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
