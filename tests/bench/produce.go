package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

// produceResult is the untimed-for-the-ratio preparation step: how fast the
// topic was filled.
type produceResult struct {
	Producer   string        `json:"producer"`
	Events     int64         `json:"events"`
	Bytes      int64         `json:"value_bytes"`
	Wall       time.Duration `json:"wall_ns"`
	EventsPerS float64       `json:"events_per_s"`
}

// Producer tuning, shared by both clients: lz4 batches of up to 1 MiB
// (produce's batchBytes; the memory mode uses less, see memoryBatchBytes),
// several produce requests in flight, acks from the leader only and no
// idempotence (nothing here retries into duplicates that matter: the query
// check would catch them).
const (
	produceBatchBytes = 1 << 20
	produceLinger     = 5 * time.Millisecond
	produceInFlight   = 5
)

// produce writes n events round-robin over the topic's partitions with the
// named client and waits until all are acknowledged.
func produce(kind, broker, topic string, partitions int32, n int64, g valueSource, batchBytes int) (produceResult, error) {
	start := time.Now()
	var (
		err   error
		bytes int64
	)
	switch kind {
	case "kgo":
		bytes, err = produceKgo(broker, topic, partitions, n, g, batchBytes)
	case "sarama":
		bytes, err = produceSarama(broker, topic, partitions, n, g, batchBytes)
	default:
		err = fmt.Errorf("-producer %q: want kgo or sarama", kind)
	}
	wall := time.Since(start)
	if err != nil {
		return produceResult{}, err
	}
	return produceResult{Producer: kind, Events: n, Bytes: bytes, Wall: wall,
		EventsPerS: float64(n) / wall.Seconds()}, nil
}

// produceKgo uses franz-go's kgo client, which builds one batch per partition
// and compresses it once, with little per-record work.
func produceKgo(broker, topic string, partitions int32, n int64, g valueSource, batchBytes int) (int64, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(broker),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.Lz4Compression()),
		kgo.ProducerBatchMaxBytes(int32(batchBytes)),
		kgo.ProducerLinger(produceLinger),
		kgo.MaxBufferedRecords(500_000),
		kgo.MaxProduceRequestsInflightPerBroker(produceInFlight),
		kgo.DisableIdempotentWrite(),
		kgo.RequiredAcks(kgo.LeaderAck()),
	)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	var (
		failed   atomic.Int64
		firstErr error
		errOnce  sync.Once
	)
	done := func(_ *kgo.Record, err error) {
		if err != nil {
			failed.Add(1)
			errOnce.Do(func() { firstErr = err })
		}
	}
	ctx := context.Background()
	var (
		a     arena
		bytes int64
	)
	for i := int64(0); i < n; i++ {
		v := a.value(g)
		bytes += int64(len(v))
		cl.Produce(ctx, &kgo.Record{Partition: int32(i % int64(partitions)), Value: v}, done)
	}
	if err := cl.Flush(ctx); err != nil {
		return bytes, err
	}
	if f := failed.Load(); f > 0 {
		return bytes, fmt.Errorf("kgo: %d of %d records failed, first: %w", f, n, firstErr)
	}
	return bytes, nil
}

// produceSarama uses sarama's AsyncProducer, for comparison with kgo.
func produceSarama(broker, topic string, partitions int32, n int64, g valueSource, batchBytes int) (int64, error) {
	conf := sarama.NewConfig()
	conf.Version = sarama.V4_1_0_0
	conf.Producer.Partitioner = sarama.NewManualPartitioner
	conf.Producer.Compression = sarama.CompressionLZ4
	conf.Producer.RequiredAcks = sarama.WaitForLocal
	conf.Producer.Return.Successes = false
	conf.Producer.Return.Errors = true
	conf.Producer.Flush.Bytes = batchBytes
	conf.Producer.Flush.Messages = 10_000
	conf.Producer.Flush.Frequency = produceLinger
	conf.Producer.MaxMessageBytes = batchBytes
	conf.Net.MaxOpenRequests = produceInFlight
	conf.ChannelBufferSize = 65536
	p, err := sarama.NewAsyncProducer([]string{broker}, conf)
	if err != nil {
		return 0, err
	}
	var (
		failed   int64
		firstErr error
		wg       sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for e := range p.Errors() {
			if failed == 0 {
				firstErr = e.Err
			}
			failed++
		}
	}()
	var (
		a     arena
		bytes int64
	)
	in := p.Input()
	for i := int64(0); i < n; i++ {
		v := a.value(g)
		bytes += int64(len(v))
		in <- &sarama.ProducerMessage{Topic: topic, Partition: int32(i % int64(partitions)),
			Value: sarama.ByteEncoder(v)}
	}
	// Close flushes, then drains Errors() itself: an error may reach the
	// goroutine above or Close's ProducerErrors, so count both.
	closeErr := p.Close()
	wg.Wait()
	var pe sarama.ProducerErrors
	if errors.As(closeErr, &pe) {
		if failed == 0 && len(pe) > 0 {
			firstErr = pe[0].Err
		}
		failed += int64(len(pe))
	} else if closeErr != nil {
		return bytes, closeErr
	}
	if failed > 0 {
		return bytes, fmt.Errorf("sarama: %d of %d messages failed, first: %w", failed, n, firstErr)
	}
	return bytes, nil
}
