package kafka

import (
	"sync/atomic"

	"github.com/IBM/sarama"
)

// murmur2 is Kafka's Utils.murmur2: the 32-bit MurmurHash2 variant with
// seed 0x9747b28c that the Java client's default partitioner applies to
// serialized keys. Java's int arithmetic wraps like uint32 and its >>> is a
// logical shift, so the whole computation runs in uint32 and only the
// result is reinterpreted as Java's signed int.
func murmur2(data []byte) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	length := len(data)
	h := seed ^ uint32(length)
	n4 := length / 4
	for i := 0; i < n4; i++ {
		i4 := i * 4
		k := uint32(data[i4]) | uint32(data[i4+1])<<8 | uint32(data[i4+2])<<16 | uint32(data[i4+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	// The tail falls through like Java's switch without breaks.
	tail := data[n4*4:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// PartitionForKey returns the partition the Java client's default
// partitioner picks for a serialized key among numPartitions:
// toPositive(murmur2(key)) % numPartitions, where toPositive clears the
// sign bit (it is not an absolute value). numPartitions must be positive.
func PartitionForKey(key []byte, numPartitions int32) int32 {
	return int32(uint32(murmur2(key))&0x7fffffff) % numPartitions
}

// javaPartitioner is the sarama.Partitioner of every Producer: keyed
// messages go where PartitionForKey says, counting all partitions of the
// topic whether or not they have a leader right now, as Java does, so
// co-partitioning with topics written by Java producers holds. Keyless messages go round-robin.
type javaPartitioner struct {
	// next is the round-robin cursor for keyless messages. sarama calls a
	// topic's partitioner from one goroutine, but an atomic costs nothing
	// here and keeps that an assumption we need not rely on.
	next atomic.Uint32
}

func newJavaPartitioner(string) sarama.Partitioner { return new(javaPartitioner) }

var _ sarama.DynamicConsistencyPartitioner = (*javaPartitioner)(nil)

func (p *javaPartitioner) Partition(msg *sarama.ProducerMessage, numPartitions int32) (int32, error) {
	if msg.Key == nil {
		return int32((p.next.Add(1) - 1) % uint32(numPartitions)), nil
	}
	key, err := msg.Key.Encode()
	if err != nil {
		return -1, err
	}
	return PartitionForKey(key, numPartitions), nil
}

// RequiresConsistency makes sarama hand Partition the count of all
// partitions rather than only the writable ones.
func (p *javaPartitioner) RequiresConsistency() bool { return true }

// MessageRequiresConsistency lets keyless messages use only writable
// partitions, as round-robin has no placement to keep.
func (p *javaPartitioner) MessageRequiresConsistency(msg *sarama.ProducerMessage) bool {
	return msg.Key != nil
}
