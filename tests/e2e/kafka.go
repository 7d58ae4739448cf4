package e2e

import (
	"fmt"
	"sort"
	"time"

	"github.com/IBM/sarama"
)

// Kafka is the test's own Kafka client: plain sarama, independent of the
// server's kafka package, reading with isolation.level=read_committed.
type Kafka struct {
	client   sarama.Client
	producer sarama.SyncProducer
}

func saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.ClientID = "streamsql-e2e"
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	cfg.Consumer.Return.Errors = true
	cfg.Metadata.Retry.Max = 10
	cfg.Metadata.Retry.Backoff = 200 * time.Millisecond
	return cfg
}

// NewKafka connects to addr.
func NewKafka(addr string) (*Kafka, error) {
	var client sarama.Client
	var err error
	for i := 0; i < 50; i++ {
		if client, err = sarama.NewClient([]string{addr}, saramaConfig()); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to kafka at %s: %w", addr, err)
	}
	p, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		client.Close()
		return nil, err
	}
	return &Kafka{client: client, producer: p}, nil
}

// Close closes the client.
func (k *Kafka) Close() {
	k.producer.Close()
	k.client.Close()
}

// Record is one record as a test sees it.
type Record struct {
	Partition int32
	Key       []byte
	Value     []byte // nil for a tombstone
}

// Produce writes records to topic. A record with Partition < 0 goes to
// partition i mod the partition count, i being its index.
func (k *Kafka) Produce(topic string, recs []Record) error {
	if err := k.client.RefreshMetadata(topic); err != nil {
		return err
	}
	parts, err := k.client.Partitions(topic)
	if err != nil {
		return fmt.Errorf("topic %s: %w", topic, err)
	}
	msgs := make([]*sarama.ProducerMessage, len(recs))
	for i, r := range recs {
		p := r.Partition
		if p < 0 {
			p = int32(i % len(parts))
		}
		m := &sarama.ProducerMessage{Topic: topic, Partition: p, Value: sarama.ByteEncoder(r.Value)}
		if r.Key != nil {
			m.Key = sarama.ByteEncoder(r.Key)
		}
		msgs[i] = m
	}
	return k.producer.SendMessages(msgs)
}

// ReadAll reads topic from the beginning until n records have arrived (or
// timeout passes), then for settle longer to catch any extra record. Records
// are returned partition by partition in offset order.
func (k *Kafka) ReadAll(topic string, n int, timeout, settle time.Duration) ([]Record, error) {
	deadline := time.Now().Add(timeout)
	var parts []int32
	var err error
	for {
		if err = k.client.RefreshMetadata(topic); err == nil {
			if parts, err = k.client.Partitions(topic); err == nil && len(parts) > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("topic %s: %v", topic, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	consumer, err := sarama.NewConsumerFromClient(k.client)
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	type msg struct {
		rec Record
		off int64
	}
	ch := make(chan msg, 1024)
	var pcs []sarama.PartitionConsumer
	// A topic a sink has just created may not have its leaders in every
	// broker's metadata yet (NOT_LEADER on real Kafka): retry until the
	// deadline rather than fail.
	for _, p := range parts {
		var pc sarama.PartitionConsumer
		for {
			pc, err = consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
			_ = k.client.RefreshMetadata(topic)
		}
		if err != nil {
			for _, c := range pcs {
				c.AsyncClose()
			}
			return nil, fmt.Errorf("reading %s/%d: %w", topic, p, err)
		}
		pcs = append(pcs, pc)
		go func(pc sarama.PartitionConsumer, p int32) {
			for m := range pc.Messages() {
				ch <- msg{Record{Partition: p, Key: m.Key, Value: m.Value}, m.Offset}
			}
		}(pc, p)
	}
	defer func() {
		for _, pc := range pcs {
			pc.AsyncClose()
		}
	}()
	var got []msg
	var settleEnd time.Time
	for {
		wait := time.Until(deadline)
		if !settleEnd.IsZero() {
			wait = time.Until(settleEnd)
		}
		if wait <= 0 {
			break
		}
		select {
		case m := <-ch:
			got = append(got, m)
			if len(got) >= n && settleEnd.IsZero() {
				settleEnd = time.Now().Add(settle)
			}
		case <-time.After(wait):
		}
	}
	sort.SliceStable(got, func(i, j int) bool {
		if got[i].rec.Partition != got[j].rec.Partition {
			return got[i].rec.Partition < got[j].rec.Partition
		}
		return got[i].off < got[j].off
	})
	out := make([]Record, len(got))
	for i, m := range got {
		out[i] = m.rec
	}
	return out, nil
}

// Topics lists the cluster's topics (without internal ones).
func (k *Kafka) Topics() ([]string, error) {
	if err := k.client.RefreshMetadata(); err != nil {
		return nil, err
	}
	all, err := k.client.Topics()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range all {
		if len(t) > 0 && t[0] != '_' {
			out = append(out, t)
		}
	}
	return out, nil
}

// DeleteTopics deletes topics and waits until they are gone, so a next
// script can create them afresh on a shared cluster.
func (k *Kafka) DeleteTopics(topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	admin, err := sarama.NewClusterAdminFromClient(k.client)
	if err != nil {
		return err
	}
	for _, t := range topics {
		if err := admin.DeleteTopic(t); err != nil && err != sarama.ErrUnknownTopicOrPartition {
			return fmt.Errorf("deleting %s: %w", t, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		left, err := k.Topics()
		if err != nil {
			return err
		}
		remaining := 0
		for _, l := range left {
			for _, t := range topics {
				if l == t {
					remaining++
				}
			}
		}
		if remaining == 0 {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("topics %v still exist after deletion", topics)
}
