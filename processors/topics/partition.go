package topics

import (
	"encoding/binary"
	"hash"
)

// Partition returns the partition of key among n partitions exactly as
// Kafka's Java clients and franz-go's default partitioner place it:
// (murmur2(key) & 0x7fffffff) mod n. Every producer, processor and view of
// TallyMarks must agree on this, or a lookup finds nothing.
func Partition(key []byte, n int32) int32 {
	return int32(murmur2(key)&0x7fffffff) % n
}

// Hasher returns a hash for goka's WithHasher options and sarama's hash
// partitioner. Its Sum32 is the masked murmur2 of the bytes written, so
// goka's abs(int32(sum)) % n equals Partition: masking first is what makes
// goka and Kafka agree on every key, not just half of them.
func Hasher() hash.Hash32 { return &murmurHash{} }

type murmurHash struct {
	buf []byte
}

func (h *murmurHash) Write(p []byte) (int, error) {
	h.buf = append(h.buf, p...)
	return len(p), nil
}

func (h *murmurHash) Sum(b []byte) []byte {
	return binary.BigEndian.AppendUint32(b, h.Sum32())
}

func (h *murmurHash) Sum32() uint32 { return murmur2(h.buf) & 0x7fffffff }
func (h *murmurHash) Reset()        { h.buf = h.buf[:0] }
func (h *murmurHash) Size() int     { return 4 }
func (h *murmurHash) BlockSize() int {
	return 4
}

// murmur2 is the 32-bit MurmurHash2 variant of Kafka's Utils.murmur2, with
// its seed.
func murmur2(data []byte) uint32 {
	const (
		seed = 0x9747b28c
		m    = 0x5bd1e995
		r    = 24
	)
	length := len(data)
	h := uint32(seed) ^ uint32(length)

	for len(data) >= 4 {
		k := binary.LittleEndian.Uint32(data)
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
		data = data[4:]
	}

	switch len(data) {
	case 3:
		h ^= uint32(data[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[0])
		h *= m
	}

	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
