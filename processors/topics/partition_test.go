package topics

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestPartitionMatchesKafka checks our placement against franz-go's default
// partitioner, which reproduces the Java client's murmur2 placement.
func TestPartitionMatchesKafka(t *testing.T) {
	kafka := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for _, n := range []int{1, 3, 6, 12, 100} {
		for i := range 2000 {
			key := fmt.Sprintf("7f1c9a52-1b1e-4c6e-9a57-%012d/%d", i, i*7919)
			want := kafka.Partition(&kgo.Record{Key: []byte(key)}, n)
			if got := Partition([]byte(key), int32(n)); int(got) != want {
				t.Fatalf("Partition(%q, %d) = %d, franz-go says %d", key, n, got, want)
			}
		}
	}
}

// TestHasherMatchesPartition checks that goka's formula over our hasher,
// abs(int32(Sum32())) % n, gives the same partition as Kafka's.
func TestHasherMatchesPartition(t *testing.T) {
	h := Hasher()
	for i := range 5000 {
		key := []byte(fmt.Sprintf("tenant-%d/customer-%d", i%7, i))
		h.Reset()
		if _, err := h.Write(key); err != nil {
			t.Fatal(err)
		}
		sum := int32(h.Sum32())
		if sum < 0 {
			t.Fatalf("Sum32 of %q is negative as int32: %d", key, sum)
		}
		if got, want := sum%12, Partition(key, 12); got != want {
			t.Fatalf("goka placement of %q = %d, Kafka's = %d", key, got, want)
		}
	}
}

// TestMurmur2Vectors pins values of Kafka's Utils.murmur2 for known inputs.
func TestMurmur2Vectors(t *testing.T) {
	tests := []struct {
		in   string
		want int32
	}{
		// From Kafka's UtilsTest.testMurmur2.
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
	}
	for _, tt := range tests {
		if got := int32(murmur2([]byte(tt.in))); got != tt.want {
			t.Errorf("murmur2(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
