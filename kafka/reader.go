package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
)

// Reader tuning.
const (
	// fetchPartitionBytes is how much one Fetch asks of the partition (and
	// of the whole response). Bigger fetches amortize the round trip; the
	// cost is memory: a reader holds up to two responses (the one Poll is
	// handing out and the one prefetched), several times their size once
	// decompressed and decoded, and the Go heap goal doubles whatever is
	// live. 256 KiB (a few thousand small records) against 1 MiB, bounded
	// tumble query, 2M events, 4 partitions, real Kafka, one run: peak RSS
	// 125-137 vs 227-268 MiB, server CPU 1.09-1.20 vs 1.35-1.86 s (fewer
	// page faults), the same events/s. (1 MiB had replaced 8 MiB, 495 ->
	// 301 MiB, for the same reason.)
	fetchPartitionBytes = 256 << 10
	// fetchMaxBytesLimit caps how far the fetch size grows to get past a
	// single batch larger than fetchPartitionBytes.
	fetchMaxBytesLimit = 256 << 20
	// fetchMaxWait is how long the broker holds a Fetch when the partition
	// has nothing new. It bounds how long Close waits for the in-flight
	// Fetch; it does not delay Poll, which waits on its own timer.
	fetchMaxWait = 250 * time.Millisecond
	// readerRetryTimeout is how long a reader keeps retrying a partition
	// whose leader cannot be reached before Poll reports the error.
	readerRetryTimeout = 30 * time.Second
	readerRetryBackoff = 100 * time.Millisecond
)

// Special starting offsets for NewPartitionReader, resolved when the reader
// is created.
const (
	// OffsetStart starts at the partition's log start offset.
	OffsetStart int64 = -2
	// OffsetEnd starts at the partition's end offset (see EndOffsets):
	// only records written from then on are read.
	OffsetEnd int64 = -1
)

// Record is one record read from a partition.
type Record struct {
	// Key and Value are nil for a null key or value. They may share memory
	// with other records of the same fetch and must not be modified.
	Key, Value []byte
	Offset     int64
	// Timestamp is the record's Kafka timestamp in Unix milliseconds: its
	// create time, or the broker's append time on topics configured with
	// LogAppendTime.
	Timestamp int64
	Partition int32
}

// PartitionReader reads one partition from a given offset, read_committed:
// records of aborted transactions and transaction markers are skipped, and
// nothing past the last stable offset is returned.
//
// It is not a consumer group member and commits nothing; the caller keeps
// Position in its checkpoints. Poll and Position are not safe for concurrent
// use: one goroutine owns a reader. Close may be called from any goroutine.
//
// Internally one goroutine per reader (the fetcher, started by
// NewPartitionReader and ended by Close) issues Fetch requests on the
// reader's own connection to the partition leader and decodes whole record
// batches, staying one response ahead of Poll. Poll takes decoded records a
// slice at a time, so the per-record cost is a struct copy rather than a
// channel hand-off.
type PartitionReader struct {
	topic     string
	partition int32

	// results carries decoded fetches from the fetcher to Poll, in offset
	// order. It is unbuffered: the fetcher decodes the next response while
	// Poll hands out the current one, then blocks until Poll wants it, so
	// the prefetch depth is one response. The fetcher closes it when it
	// exits, after sending a result with a non-nil err if it stopped on an
	// error.
	results chan fetchResult
	// free returns record slices that Poll has finished with to the fetcher
	// for reuse.
	free chan []Record
	// stop is closed by Close to end the fetcher; done is closed by the
	// fetcher when it has exited.
	stop, done chan struct{}
	closeOnce  sync.Once

	// Owned by the goroutine calling Poll.
	pending    []Record // decoded records not yet returned
	pendingIdx int      // next record of pending to return
	afterPend  int64    // offset after the fetch that filled pending
	err        error    // sticky: the fetcher's terminal error
	timer      *time.Timer

	f *fetcher
}

// fetchResult is one decoded Fetch response.
type fetchResult struct {
	records []Record
	// next is the offset the fetch after this one starts from: past the
	// last batch of the response, control and aborted batches included.
	next int64
	err  error
}

// NewPartitionReader returns a reader of topic's partition starting at
// offset, an absolute offset or OffsetStart or OffsetEnd. A missing topic or
// partition is ErrUnknownTopic or ErrUnknownPartition. An offset outside
// the log is reported by the first Poll.
func (c *Client) NewPartitionReader(topic string, partition int32, offset int64) (*PartitionReader, error) {
	wrap := func(err error) error {
		return fmt.Errorf("kafka: read %s/%d: %w", topic, partition, err)
	}
	t, err := c.topicMetadata(topic)
	if err != nil {
		return nil, wrap(err)
	}
	if partition < 0 || int(partition) >= len(t.Partitions) {
		return nil, wrap(fmt.Errorf("%w (the topic has %d)", ErrUnknownPartition, len(t.Partitions)))
	}
	switch {
	case offset == OffsetStart || offset == OffsetEnd:
		offs, err := c.listOffsets(topic, offset)
		if err != nil {
			return nil, wrap(err)
		}
		offset = offs[partition]
	case offset < 0:
		return nil, wrap(fmt.Errorf("invalid starting offset %d", offset))
	}
	conf := newBaseConfig(c.clientID)
	// The broker holds a Fetch up to fetchMaxWait; the read deadline must
	// outlast it with room for a large response.
	conf.Net.ReadTimeout = 30*time.Second + fetchMaxWait
	r := &PartitionReader{
		topic:     topic,
		partition: partition,
		results:   make(chan fetchResult),
		free:      make(chan []Record, 2),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		afterPend: offset,
	}
	r.f = &fetcher{
		c:         c,
		conf:      conf,
		topic:     topic,
		partition: partition,
		offset:    offset,
		fetchSize: fetchPartitionBytes,
		results:   r.results,
		free:      r.free,
		stop:      r.stop,
	}
	go func() {
		defer close(r.done)
		r.f.run()
	}()
	return r, nil
}

// Poll appends up to max records to buf[:0] and returns it. It waits up to
// wait for the first record; once it has some it returns what is
// immediately available without waiting for more. On timeout it returns an
// empty slice and a nil error; when ctx is done first it returns ctx.Err().
// An error from the partition (such as an offset outside the log, or a
// leader unreachable for readerRetryTimeout) ends the reader: Poll returns
// it, after handing out any records taken before it, and so does every
// later Poll. Lost connections and leader moves are retried quietly.
func (r *PartitionReader) Poll(ctx context.Context, buf []Record, max int, wait time.Duration) ([]Record, error) {
	buf = buf[:0]
	if r.err != nil {
		return buf, r.err
	}
	if err := ctx.Err(); err != nil {
		return buf, err
	}
	var timeout <-chan time.Time
	for len(buf) < max {
		if r.pendingIdx < len(r.pending) {
			n := min(max-len(buf), len(r.pending)-r.pendingIdx)
			buf = append(buf, r.pending[r.pendingIdx:r.pendingIdx+n]...)
			r.pendingIdx += n
			continue
		}
		// Take the next decoded fetch if it is ready. Only with nothing
		// to return yet do we wait for one, arming the timer then.
		var res fetchResult
		var ok bool
		select {
		case res, ok = <-r.results:
		default:
			if len(buf) > 0 {
				return buf, nil
			}
			if timeout == nil {
				if r.timer == nil {
					r.timer = time.NewTimer(wait)
				} else {
					r.timer.Reset(wait)
				}
				timeout = r.timer.C
				defer r.timer.Stop()
			}
			select {
			case res, ok = <-r.results:
			case <-ctx.Done():
				return buf, ctx.Err()
			case <-timeout:
				return buf, nil
			}
		}
		if !ok {
			r.err = fmt.Errorf("kafka: read %s/%d: %w", r.topic, r.partition, ErrClosed)
		} else if res.err != nil {
			r.err = res.err
		}
		if r.err != nil {
			// Records already taken go out now; the error with the
			// next Poll.
			if len(buf) > 0 {
				return buf, nil
			}
			return buf, r.err
		}
		r.recycle()
		r.pending, r.pendingIdx, r.afterPend = res.records, 0, res.next
	}
	return buf, nil
}

// recycle hands the exhausted pending slice back to the fetcher.
func (r *PartitionReader) recycle() {
	if cap(r.pending) == 0 {
		return
	}
	clear(r.pending) // drop references to the old response's bytes
	select {
	case r.free <- r.pending[:0]:
	default:
	}
	r.pending = nil
}

// Position returns the offset of the next record Poll would return: past
// every record returned so far and past any transaction markers and
// aborted records after them. A bounded read of the partition is complete
// once Position reaches the end offset taken when it started.
func (r *PartitionReader) Position() int64 {
	if r.pendingIdx < len(r.pending) {
		return r.pending[r.pendingIdx].Offset
	}
	return r.afterPend
}

// Topic and Partition name what the reader reads.
func (r *PartitionReader) Topic() string    { return r.topic }
func (r *PartitionReader) Partition() int32 { return r.partition }

// Close stops the reader and closes its connection. It waits for an
// in-flight Fetch to return, at most about fetchMaxWait on a healthy
// connection.
func (r *PartitionReader) Close() error {
	r.closeOnce.Do(func() { close(r.stop) })
	<-r.done
	return nil
}

// fetcher is the state of a reader's fetch goroutine; only that goroutine
// touches it, apart from the atomic fetches counter.
type fetcher struct {
	c         *Client
	conf      *sarama.Config
	topic     string
	partition int32

	broker    *sarama.Broker // connection to the leader; nil when not connected
	offset    int64          // where the next Fetch starts
	fetchSize int32          // per-partition bytes asked for

	// failingSince is when the current run of transient failures began;
	// zero when the last attempt succeeded.
	failingSince time.Time

	// fetches counts Fetch requests sent; tests read it to check that an
	// idle reader long-polls rather than spins.
	fetches atomic.Int64

	results chan<- fetchResult
	free    <-chan []Record
	stop    <-chan struct{}
}

func (f *fetcher) run() {
	defer close(f.results)
	defer f.disconnect()
	for {
		select {
		case <-f.stop:
			return
		default:
		}
		res, err := f.fetchOnce()
		if err != nil {
			if !isRetriable(err) || (!f.failingSince.IsZero() && time.Since(f.failingSince) > readerRetryTimeout) {
				f.send(fetchResult{err: fmt.Errorf("kafka: read %s/%d at offset %d: %w", f.topic, f.partition, f.offset, err)})
				return
			}
			if f.failingSince.IsZero() {
				f.failingSince = time.Now()
			}
			f.disconnect()
			select {
			case <-f.stop:
				return
			case <-time.After(readerRetryBackoff):
			}
			continue
		}
		f.failingSince = time.Time{}
		if res.next == f.offset && len(res.records) == 0 {
			continue // nothing new within fetchMaxWait
		}
		f.offset = res.next
		if !f.send(res) {
			return
		}
	}
}

// send delivers a result to Poll, or gives up when the reader is closed.
func (f *fetcher) send(res fetchResult) bool {
	select {
	case f.results <- res:
		return true
	case <-f.stop:
		return false
	}
}

func (f *fetcher) disconnect() {
	if f.broker != nil {
		_ = f.broker.Close()
		f.broker = nil
	}
}

// connect opens a connection to the partition's current leader.
func (f *fetcher) connect() error {
	addr, err := f.c.leaderAddr(f.topic, f.partition)
	if err != nil {
		return err
	}
	b := sarama.NewBroker(addr)
	if err := b.Open(f.conf); err != nil {
		return err
	}
	if ok, err := b.Connected(); !ok {
		if err == nil {
			err = sarama.ErrNotConnected
		}
		_ = b.Close()
		return err
	}
	f.broker = b
	return nil
}

// fetchOnce issues one Fetch from f.offset and decodes it. It returns
// next == f.offset and no records when there was nothing to read.
func (f *fetcher) fetchOnce() (fetchResult, error) {
	if f.broker == nil {
		if err := f.connect(); err != nil {
			return fetchResult{}, err
		}
	}
	req := &sarama.FetchRequest{
		// sarama clamps the version to what the broker supports.
		Version:     12,
		MaxWaitTime: int32(fetchMaxWait / time.Millisecond),
		MinBytes:    1,
		MaxBytes:    f.fetchSize,
		Isolation:   sarama.ReadCommitted,
		// No incremental fetch session (KIP-227): each request names the
		// partition in full.
		SessionID:    0,
		SessionEpoch: -1,
	}
	req.AddBlock(f.topic, f.partition, f.offset, f.fetchSize, -1)
	f.fetches.Add(1)
	resp, err := f.broker.Fetch(req)
	if err != nil {
		return fetchResult{}, err
	}
	block := resp.GetBlock(f.topic, f.partition)
	if block == nil {
		return fetchResult{}, sarama.ErrIncompleteResponse
	}
	if !errors.Is(block.Err, sarama.ErrNoError) {
		if errors.Is(block.Err, sarama.ErrUnknownTopicOrPartition) {
			// Distinguish a deleted topic (final) from a broker that has
			// not caught up with a new leader (retried).
			if _, err := f.c.topicMetadata(f.topic); errors.Is(err, ErrUnknownTopic) {
				return fetchResult{}, ErrUnknownTopic
			}
			return fetchResult{}, sarama.ErrNotLeaderForPartition
		}
		return fetchResult{}, block.Err
	}

	var records []Record
	select {
	case records = <-f.free:
	default:
	}
	records, next, partial, err := decodeBlock(block, f.partition, f.offset, records)
	if err != nil {
		return fetchResult{}, err
	}
	switch {
	case next > f.offset:
		if f.fetchSize > fetchPartitionBytes && !partial {
			f.fetchSize = fetchPartitionBytes
		}
	case partial:
		// The next batch does not fit in fetchSize: brokers since KIP-74
		// return a first batch whole whatever its size, so this is an
		// older broker; ask for more.
		if f.fetchSize >= fetchMaxBytesLimit {
			return fetchResult{}, fmt.Errorf("a record batch is larger than %d bytes", fetchMaxBytesLimit)
		}
		f.fetchSize = min(2*f.fetchSize, fetchMaxBytesLimit)
	case len(block.RecordsSet) == 0 && block.LastStableOffset > f.offset &&
		resp.ThrottleTime == 0 && block.PreferredReadReplica < 0 && block.DivergingEpoch == nil:
		// Everything below the last stable offset is readable now, and a
		// response that was neither throttled nor redirected carries
		// what there is from f.offset on. If it holds no batch at all,
		// the range holds only empty batches (compaction keeps them for
		// producer state), which sarama drops while decoding, and
		// Position would never reach the end. Step over them.
		next = block.LastStableOffset
	}
	return fetchResult{records: records, next: next}, nil
}

// decodeBlock appends the records of a Fetch response block at or after
// from to out, read_committed, and returns the offset after the last whole
// batch (from if there was none) and whether a truncated trailing batch
// was dropped.
//
// It follows the Java consumer's CompletedFetch: the response lists the
// aborted transactions (producer id, first offset) overlapping the fetched
// range. Walking batches in offset order, a producer id becomes aborted
// once a transaction of it starts at or before the batch's last offset; its
// transactional data batches are then skipped until its abort marker (a
// control batch) clears it. Control batches are never returned.
func decodeBlock(block *sarama.FetchResponseBlock, partition int32, from int64, out []Record) (_ []Record, next int64, partial bool, err error) {
	next = from
	aborted := block.AbortedTransactions
	if len(aborted) > 1 {
		aborted = slices.Clone(aborted)
		slices.SortFunc(aborted, func(a, b *sarama.AbortedTransaction) int {
			switch {
			case a.FirstOffset < b.FirstOffset:
				return -1
			case a.FirstOffset > b.FirstOffset:
				return 1
			}
			return 0
		})
	}
	var abortedPIDs map[int64]struct{}

	// Size out once: appending record by record would copy it
	// log2(records) times.
	n := 0
	for _, rs := range block.RecordsSet {
		if rs.RecordBatch != nil {
			n += len(rs.RecordBatch.Records)
		}
	}
	out = slices.Grow(out[:0], n)

	for _, rs := range block.RecordsSet {
		b := rs.RecordBatch
		if b == nil {
			if rs.MsgSet != nil && len(rs.MsgSet.Messages) > 0 {
				return out, next, false, errors.New("legacy (v0/v1) message format is not supported")
			}
			continue
		}
		if b.PartialTrailingRecord {
			partial = true
			break
		}
		last := b.LastOffset()
		if last < next {
			continue // a batch wholly before our offset
		}
		if b.ProducerID >= 0 {
			for len(aborted) > 0 && aborted[0].FirstOffset <= last {
				if abortedPIDs == nil {
					abortedPIDs = make(map[int64]struct{})
				}
				abortedPIDs[aborted[0].ProducerID] = struct{}{}
				aborted = aborted[1:]
			}
			if b.Control {
				if isAbortMarker(b) {
					delete(abortedPIDs, b.ProducerID)
				}
			} else if _, ok := abortedPIDs[b.ProducerID]; ok && b.IsTransactional {
				next = last + 1
				continue
			}
		}
		if b.Control {
			next = last + 1
			continue
		}
		base := b.FirstTimestamp.UnixMilli()
		appendTime := b.MaxTimestamp.UnixMilli()
		for _, rec := range b.Records {
			off := b.FirstOffset + rec.OffsetDelta
			if off < next {
				continue // compressed batches start before the offset asked
			}
			ts := base + rec.TimestampDelta.Milliseconds()
			if b.LogAppendTime {
				ts = appendTime
			}
			out = append(out, Record{Key: rec.Key, Value: rec.Value, Offset: off, Timestamp: ts, Partition: partition})
		}
		next = last + 1
	}
	if block.Partial {
		partial = true
	}
	return out, next, partial, nil
}

// isAbortMarker reports whether a control batch is a transaction abort
// marker: its record's key is (version int16, type int16) with type 0.
func isAbortMarker(b *sarama.RecordBatch) bool {
	if len(b.Records) == 0 {
		return false
	}
	key := b.Records[0].Key
	return len(key) >= 4 && binary.BigEndian.Uint16(key[2:4]) == 0
}
