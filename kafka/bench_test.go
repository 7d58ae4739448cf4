package kafka

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// benchMessages is how many small records the read benchmarks read per
// iteration, from one partition.
const benchMessages = 200_000

var benchSetup struct {
	once    sync.Once
	brokers []string
	topic   string
	err     error
}

// benchTopic writes benchMessages records of about 50 bytes (JSON, like a
// typical source) to a fresh one-partition topic, once per process. It
// uses the external cluster if one is configured, otherwise an in-memory
// embedded broker that lives until the process exits (so the broker
// shares this process's CPU, as it would in `streamsql --dev`).
func benchTopic(b *testing.B) ([]string, string) {
	b.Helper()
	s := &benchSetup
	s.once.Do(func() {
		s.brokers = externalBrokers()
		if s.brokers == nil {
			e, err := StartEmbedded("127.0.0.1:0", "")
			if err != nil {
				s.err = err
				return
			}
			s.brokers = []string{e.Addr()}
		}
		c, err := NewClient(s.brokers, "bench")
		if err != nil {
			s.err = err
			return
		}
		defer c.Close()
		s.topic = fmt.Sprintf("bench-read-%d", time.Now().UnixNano())
		if _, err := c.CreateTopic(s.topic, 1, 1); err != nil {
			s.err = err
			return
		}
		p, err := c.NewProducer(ProducerOptions{})
		if err != nil {
			s.err = err
			return
		}
		defer p.Close()
		msgs := make([]Message, 0, 20_000)
		for i := 0; i < benchMessages; i++ {
			msgs = append(msgs, Message{
				Topic: s.topic,
				Key:   []byte(fmt.Sprintf("user-%d", i%1000)),
				Value: []byte(fmt.Sprintf(`{"id":%d,"user":"u%d","amount":%d.25}`, i, i%1000, i%997)),
			})
			if len(msgs) == cap(msgs) {
				if err := p.Send(msgs); err != nil {
					s.err = err
					return
				}
				msgs = msgs[:0]
			}
		}
	})
	if s.err != nil {
		b.Fatal(s.err)
	}
	return s.brokers, s.topic
}

// BenchmarkPartitionReader reads benchMessages records through Poll, 1024
// at a time, touching each record's value as a consumer would.
func BenchmarkPartitionReader(b *testing.B) {
	brokers, topic := benchTopic(b)
	c, err := NewClient(brokers, "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	buf := make([]Record, 0, 1024)
	var bytes int
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		r, err := c.NewPartitionReader(topic, 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		for n := 0; n < benchMessages; {
			buf, err = r.Poll(ctx, buf, 1024, 10*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			if len(buf) == 0 {
				b.Fatalf("timed out after %d records", n)
			}
			for j := range buf {
				bytes += len(buf[j].Value)
			}
			n += len(buf)
		}
		b.StopTimer()
		cpu -= processCPU()
		_ = r.Close() // waits out the prefetcher's long poll; not reading
		cpu += processCPU()
		b.StartTimer()
	}
	reportRead(b, processCPU()-cpu)
	_ = bytes
}

// BenchmarkSaramaPartitionConsumer is the baseline: sarama's
// ConsumePartition with the settings notes/kafka.md measured (8 MiB
// fetches, 4096-message channel buffer), one message per channel receive.
func BenchmarkSaramaPartitionConsumer(b *testing.B) {
	brokers, topic := benchTopic(b)
	conf := newBaseConfig("bench")
	var bytes int
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		consumer, err := sarama.NewConsumer(brokers, conf)
		if err != nil {
			b.Fatal(err)
		}
		pc, err := consumer.ConsumePartition(topic, 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		for n := 0; n < benchMessages; n++ {
			select {
			case m := <-pc.Messages():
				bytes += len(m.Value)
			case err := <-pc.Errors():
				b.Fatal(err)
			case <-time.After(10 * time.Second):
				b.Fatalf("timed out after %d records", n)
			}
		}
		b.StopTimer()
		cpu -= processCPU()
		_ = pc.Close()
		_ = consumer.Close()
		cpu += processCPU()
		b.StartTimer()
	}
	reportRead(b, processCPU()-cpu)
	_ = bytes
}

// reportRead reports read throughput and the process's CPU time per
// message. With the embedded broker that CPU includes the broker's; with
// STREAMSQL_TEST_BROKERS it is the reader's alone.
func reportRead(b *testing.B, cpu time.Duration) {
	msgs := float64(benchMessages * b.N)
	b.ReportMetric(msgs/b.Elapsed().Seconds(), "msgs/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/msgs, "cpu-ns/msg")
	}
}

// BenchmarkProducerSend writes batches of 4096 records of about 100 bytes
// to a fresh 4-partition topic through Send, as a sink does between
// checkpoints; "txn" wraps each batch in a transaction.
func BenchmarkProducerSend(b *testing.B) {
	brokers := externalBrokers()
	if brokers == nil {
		e, err := StartEmbedded("127.0.0.1:0", "")
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		brokers = []string{e.Addr()}
	}
	for _, mode := range []string{"idempotent", "txn"} {
		b.Run(mode, func(b *testing.B) {
			c, err := NewClient(brokers, "bench")
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			topic := fmt.Sprintf("bench-send-%s-%d", mode, time.Now().UnixNano())
			if _, err := c.CreateTopic(topic, 4, 1); err != nil {
				b.Fatal(err)
			}
			opts := ProducerOptions{}
			if mode == "txn" {
				opts.TransactionalID = topic
			}
			p, err := c.NewProducer(opts)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			msgs := make([]Message, 4096)
			for i := range msgs {
				msgs[i] = Message{Topic: topic, Key: []byte(fmt.Sprintf("k%d", i)),
					Value: []byte(fmt.Sprintf(`{"auction":%d,"bidder":%d,"price":%d,"dateTime":"2026-11-23T10:01:00.123Z","extra":""}`, i, i*7, i%997))}
			}
			b.SetBytes(int64(len(msgs)) * 100)
			b.ReportAllocs()
			for b.Loop() {
				if mode == "txn" {
					if err := p.BeginTxn(); err != nil {
						b.Fatal(err)
					}
				}
				if err := p.Send(msgs); err != nil {
					b.Fatal(err)
				}
				if mode == "txn" {
					if err := p.CommitTxn(); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "records/s")
		})
	}
}
