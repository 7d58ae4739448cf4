package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// rawResult is measurement (a): the whole topic read by a plain sarama
// consumer that only counts messages. It is the floor the engine is compared
// with: what any Go program pays to get these records out of Kafka.
type rawResult struct {
	Events int64 `json:"events"`
	Bytes  int64 `json:"value_bytes"`
	cpuUse
	EventsPerS      float64 `json:"events_per_s"`
	EventsPerCPUSec float64 `json:"events_per_cpu_s"`
	// OthersCores is the average number of cores other processes kept
	// busy meanwhile. The server's CPU (cpuUse.Server) is, with the
	// embedded broker, the broker's cost of serving the fetches.
	OthersCores float64 `json:"others_cores"`
}

// rawReadTimeout bounds the raw read of one partition.
const rawReadTimeout = 10 * time.Minute

// rawRead consumes every partition of topic from its oldest to its newest
// offset with sarama's partition consumers (Fetch.Default 8 MiB, channel
// buffer 4096, as the engine's sarama settings) and counts the messages.
func rawRead(broker, topic string, serverPID int) (rawResult, error) {
	conf := sarama.NewConfig()
	conf.Version = sarama.V4_1_0_0
	conf.Consumer.Fetch.Default = 8 << 20
	conf.ChannelBufferSize = 4096
	conf.Consumer.Return.Errors = true
	client, err := sarama.NewClient([]string{broker}, conf)
	if err != nil {
		return rawResult{}, err
	}
	defer client.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		return rawResult{}, err
	}
	type span struct {
		partition  int32
		start, end int64
	}
	var spans []span
	var want int64
	for _, p := range parts {
		s, err := client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			return rawResult{}, err
		}
		e, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return rawResult{}, err
		}
		if e > s {
			spans = append(spans, span{p, s, e})
			want += e - s
		}
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return rawResult{}, err
	}
	defer consumer.Close()

	before, err := sampleCPU(serverPID)
	if err != nil {
		return rawResult{}, err
	}
	counts := make([]int64, len(spans))
	byteCounts := make([]int64, len(spans))
	errs := make([]error, len(spans))
	var wg sync.WaitGroup
	for i, sp := range spans {
		pc, err := consumer.ConsumePartition(topic, sp.partition, sp.start)
		if err != nil {
			return rawResult{}, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pc.AsyncClose()
			var n, b int64
			last := sp.end - 1
			// One timer for the whole read: a per-message time.After
			// would add its own cost to what is measured.
			timeout := time.NewTimer(rawReadTimeout)
			defer timeout.Stop()
			for {
				select {
				case m := <-pc.Messages():
					n++
					b += int64(len(m.Value))
					if m.Offset >= last {
						counts[i], byteCounts[i] = n, b
						return
					}
				case e := <-pc.Errors():
					errs[i] = e
					return
				case <-timeout.C:
					errs[i] = fmt.Errorf("partition %d: not read within %s (at %d of %d messages)",
						sp.partition, rawReadTimeout, n, sp.end-sp.start)
					return
				}
			}
		}()
	}
	wg.Wait()
	after, err := sampleCPU(serverPID)
	if err != nil {
		return rawResult{}, err
	}
	for _, e := range errs {
		if e != nil {
			return rawResult{}, e
		}
	}
	r := rawResult{cpuUse: cpuBetween(before, after)}
	for i := range counts {
		r.Events += counts[i]
		r.Bytes += byteCounts[i]
	}
	if r.Events != want {
		return r, fmt.Errorf("raw read counted %d messages, the partitions' offsets span %d", r.Events, want)
	}
	r.EventsPerS = float64(r.Events) / r.Wall.Seconds()
	r.EventsPerCPUSec = float64(r.Events) / r.Self.Seconds()
	r.OthersCores = r.othersCores()
	return r, nil
}
