package kafka

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// Producer tuning. Idempotence pins Net.MaxOpenRequests to 1, so batching
// comes from what accumulates while a request is in flight and from the
// flush triggers below.
const (
	// producerRetries is how often a failed produce is retried before Send
	// reports it. Idempotence makes retries safe (no duplicates, order
	// kept); 30 retries at 100 ms ride out a leader election.
	producerRetries      = 30
	producerRetryBackoff = 100 * time.Millisecond
	// flushBytes and flushFrequency start a request once this much is
	// buffered or this long after the first buffered message, whichever
	// comes first: 2 ms of added latency per Send buys full batches under
	// load.
	flushBytes     = 512 << 10
	flushFrequency = 2 * time.Millisecond
)

// Message is one record to produce.
type Message struct {
	Topic string
	// Key is nil for a keyless record (placed round-robin); an empty,
	// non-nil key is a key and hashes like one.
	Key []byte
	// Value nil writes a tombstone (a null value), which compacted topics
	// treat as a delete of Key.
	Value []byte
	// Timestamp is the record's create time in Unix milliseconds; 0 means
	// now.
	Timestamp int64
}

// ProducerOptions configure NewProducer.
type ProducerOptions struct {
	// TransactionalID makes the producer transactional: Send must then be
	// called between BeginTxn and CommitTxn or AbortTxn. A new producer with
	// the same id fences the old one and aborts its open transaction.
	// Empty means an idempotent, non-transactional producer.
	TransactionalID string
}

// Producer writes messages with acks=all, idempotently (no duplicates or
// reordering from retries), lz4-compressed, placing keyed messages with
// Kafka's murmur2 partitioner.
//
// Send is safe for concurrent use. The transaction methods are not meant to
// interleave with each other: one owner drives a transactional producer
// through Begin, Send and Commit or Abort.
type Producer struct {
	sp              sarama.SyncProducer
	transactionalID string

	mu     sync.Mutex // guards closed
	closed bool
}

// NewProducer opens a producer with its own connections (its
// configuration, such as the transactional id, is its own). For a
// transactional producer it also registers the id with the transaction
// coordinator, fencing any earlier producer with that id.
func (c *Client) NewProducer(opts ProducerOptions) (*Producer, error) {
	conf := newBaseConfig(c.clientID)
	conf.Producer.RequiredAcks = sarama.WaitForAll
	conf.Producer.Idempotent = true
	conf.Net.MaxOpenRequests = 1
	conf.Producer.Retry.Max = producerRetries
	conf.Producer.Retry.Backoff = producerRetryBackoff
	conf.Producer.Return.Successes = true
	conf.Producer.Return.Errors = true
	conf.Producer.Compression = sarama.CompressionLZ4
	conf.Producer.Flush.Bytes = flushBytes
	conf.Producer.Flush.Frequency = flushFrequency
	conf.Producer.Partitioner = newJavaPartitioner
	// Metadata only for the topics this producer writes: a full refresh on
	// a cluster with thousands of topics is wasted work.
	conf.Metadata.Full = false
	if opts.TransactionalID != "" {
		conf.Producer.Transaction.ID = opts.TransactionalID
	}
	sp, err := sarama.NewSyncProducer(c.brokers, conf)
	if err != nil {
		what := "producer"
		if opts.TransactionalID != "" {
			what = fmt.Sprintf("transactional producer %q", opts.TransactionalID)
		}
		return nil, fmt.Errorf("kafka: open %s on %s: %w", what, strings.Join(c.brokers, ","), err)
	}
	return &Producer{sp: sp, transactionalID: opts.TransactionalID}, nil
}

// Send writes msgs and returns once every one is acknowledged by all
// in-sync replicas, or with the first error. On error some messages may
// have been written; a transactional caller aborts the transaction.
func (p *Producer) Send(msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	pms := make([]sarama.ProducerMessage, len(msgs))
	ptrs := make([]*sarama.ProducerMessage, len(msgs))
	now := time.Now()
	for i := range msgs {
		m := &msgs[i]
		pm := &pms[i]
		pm.Topic = m.Topic
		if m.Key != nil {
			pm.Key = sarama.ByteEncoder(m.Key)
		}
		if m.Value != nil {
			pm.Value = sarama.ByteEncoder(m.Value)
		}
		if m.Timestamp != 0 {
			pm.Timestamp = time.UnixMilli(m.Timestamp)
		} else {
			pm.Timestamp = now
		}
		ptrs[i] = pm
	}
	err := p.sp.SendMessages(ptrs)
	if err == nil {
		return nil
	}
	var perrs sarama.ProducerErrors
	if errors.As(err, &perrs) && len(perrs) > 0 {
		first := perrs[0]
		if errors.Is(first.Err, sarama.ErrUnknownTopicOrPartition) {
			return fmt.Errorf("kafka: send to %q: %w (%d of %d messages failed: %w)",
				first.Msg.Topic, ErrUnknownTopic, len(perrs), len(msgs), first.Err)
		}
		return fmt.Errorf("kafka: send to %q: %d of %d messages failed, first: %w",
			first.Msg.Topic, len(perrs), len(msgs), first.Err)
	}
	return fmt.Errorf("kafka: send: %w", err)
}

// BeginTxn starts a transaction.
func (p *Producer) BeginTxn() error {
	if p.transactionalID == "" {
		return ErrNotTransactional
	}
	if err := p.sp.BeginTxn(); err != nil {
		return fmt.Errorf("kafka: begin transaction %q: %w", p.transactionalID, err)
	}
	return nil
}

// CommitTxn commits the open transaction after flushing its messages. When
// it fails the caller should AbortTxn, unless the producer was fenced (the
// error wraps sarama.ErrProducerFenced), in which case only Close is left.
// It returns once the commit is decided; read_committed readers see the
// records when the coordinator's markers reach the partitions, a moment
// later on Apache Kafka (see EndOffsets).
func (p *Producer) CommitTxn() error {
	if p.transactionalID == "" {
		return ErrNotTransactional
	}
	if err := p.sp.CommitTxn(); err != nil {
		return fmt.Errorf("kafka: commit transaction %q: %w", p.transactionalID, err)
	}
	return nil
}

// AbortTxn aborts the open transaction: read_committed readers never see
// its messages.
func (p *Producer) AbortTxn() error {
	if p.transactionalID == "" {
		return ErrNotTransactional
	}
	if err := p.sp.AbortTxn(); err != nil {
		return fmt.Errorf("kafka: abort transaction %q: %w", p.transactionalID, err)
	}
	return nil
}

// Close flushes buffered messages and closes the producer's connections.
// An open transaction is left to the coordinator's timeout, or to the next
// producer with the same transactional id, which aborts it.
func (p *Producer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if err := p.sp.Close(); err != nil {
		return fmt.Errorf("kafka: close producer: %w", err)
	}
	return nil
}

// AddOffsetsToTxn records, inside the open transaction, the consumer-group
// offsets of group for topic's partitions (offsets[p] for partition p) with
// the same metadata string on each. The offsets become the group's committed
// offsets if and only if the transaction commits, which makes them a durable
// record of whether it did (see Client.GroupOffsets).
func (p *Producer) AddOffsetsToTxn(group, topic string, offsets []int64, metadata string) error {
	if p.transactionalID == "" {
		return ErrNotTransactional
	}
	parts := make([]*sarama.PartitionOffsetMetadata, len(offsets))
	for i, off := range offsets {
		md := metadata
		parts[i] = &sarama.PartitionOffsetMetadata{Partition: int32(i), Offset: off, LeaderEpoch: -1, Metadata: &md}
	}
	if err := p.sp.AddOffsetsToTxn(map[string][]*sarama.PartitionOffsetMetadata{topic: parts}, group); err != nil {
		return fmt.Errorf("kafka: add offsets of group %q to transaction %q: %w", group, p.transactionalID, err)
	}
	return nil
}
