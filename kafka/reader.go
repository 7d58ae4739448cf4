package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Reader tuning.
const (
	// fetchPartitionBytes is how much one Fetch asks of the partition (and
	// of the whole response). Bigger fetches amortize the round trip; the
	// cost is memory (a reader holds fetchBufsPerReader responses, several
	// times their size once decompressed) and cache misses: the decoder
	// reads a fetch's records right after they were decompressed, and
	// 128 KiB of lz4 JSON (about 0.7 MB decompressed) stays in cache where
	// more does not. Nexmark bounded, 3M events, real Kafka, median of 3,
	// events per server CPU-s at 64 / 128 / 256 KiB: q0 1,195k / 1,215k /
	// 1,124k, q1 1,056k / 1,124k / 1,053k, q2 1,478k / 1,531k / 1,563k.
	// (256 KiB had replaced 1 MiB and that 8 MiB, to halve peak RSS.)
	fetchPartitionBytes = 128 << 10
	// fetchBufsPerReader is how many fetches' buffers a reader has: one
	// Poll is handing records out of, one whose records the caller may
	// still hold from the last Poll, one the fetcher is filling. With a
	// fixed number, reused, a reader's memory does not depend on how long
	// it runs; the fetcher waits for a buffer when all are out.
	fetchBufsPerReader = 3
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
	// Key and Value are nil for a null key or value. They point into the
	// reader's fetch buffers: they must not be modified, and they are valid
	// only until the next Poll or Close of the reader that returned them
	// (copy what must outlive that).
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
// reader's own connection to the partition leader (fetch.go) and walks the
// record batches in place (batch.go), checking and decompressing them,
// staying one response ahead of Poll. Poll parses the records out of a
// response's batches as it hands them out, so the per-record cost is a
// parse into the caller's slice rather than a channel hand-off, and a
// response holds no per-record memory. A response's buffers go back
// to the fetcher once Poll is called again after handing out its last
// record, so a steady read reuses the same few buffers.
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
	// free returns the buffers of fetches Poll has finished with to the
	// fetcher for reuse.
	free chan *fetchBuf
	// stop is closed by Close to end the fetcher; done is closed by the
	// fetcher when it has exited.
	stop, done chan struct{}
	closeOnce  sync.Once

	// Owned by the goroutine calling Poll.
	pending   *fetchBuf   // the fetch records are being returned from
	cur       cursor      // over pending's records
	afterPend int64       // offset after the fetch that filled pending
	returned  int64       // offset after the last record returned
	retired   []*fetchBuf // exhausted fetches whose records the caller may still hold
	err       error       // sticky: the fetcher's terminal error
	timer     *time.Timer

	f *fetcher
}

// fetchResult is one decoded Fetch response.
type fetchResult struct {
	buf *fetchBuf // its records and the memory they point into
	// next is the offset the fetch after this one starts from: past the
	// last batch of the response, control and aborted batches included.
	next int64
	err  error
	// throttle is how long the broker asked the fetcher to wait before
	// its next Fetch.
	throttle time.Duration
}

// fetchBuf is the memory of one fetch: the raw response, the arena its
// compressed batches were decompressed into, and its data batches, whose
// records point into either. Buffers cycle between the fetcher and Poll.
type fetchBuf struct {
	resp    []byte
	arena   arena
	batches []recordBatch
	from    int64 // the offset the fetch asked for
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
	r := &PartitionReader{
		topic:     topic,
		partition: partition,
		results:   make(chan fetchResult),
		free:      make(chan *fetchBuf, fetchBufsPerReader),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		afterPend: offset,
		returned:  offset,
	}
	r.f = &fetcher{
		c:         c,
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
	// The records the last Poll returned are no longer in use.
	for _, fb := range r.retired {
		r.release(fb)
	}
	clear(r.retired)
	r.retired = r.retired[:0]
	if r.err != nil {
		return buf, r.err
	}
	if err := ctx.Err(); err != nil {
		return buf, err
	}
	var timeout <-chan time.Time
	for len(buf) < max {
		if r.pending != nil {
			rec, ok, err := r.cur.next()
			if ok {
				buf = append(buf, rec)
				r.returned = rec.Offset + 1
				continue
			}
			if err != nil {
				r.err = fmt.Errorf("kafka: read %s/%d: %w", r.topic, r.partition, err)
				if len(buf) > 0 {
					return buf, nil
				}
				return buf, r.err
			}
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
		if r.pending != nil {
			// Records of it may be in buf: give it back next Poll.
			r.retired = append(r.retired, r.pending)
		}
		r.pending, r.afterPend = res.buf, res.next
		r.cur = cursor{batches: res.buf.batches, from: res.buf.from, partition: r.partition}
	}
	return buf, nil
}

// release hands a fetch's buffers back to the fetcher for reuse.
func (r *PartitionReader) release(fb *fetchBuf) {
	clear(fb.batches) // drop references into the buffers
	fb.batches = fb.batches[:0]
	fb.arena.reset()
	r.free <- fb // never blocks: it has room for every buffer
}

// Position returns the offset of the next record Poll would return: past
// every record returned so far and past any transaction markers and
// aborted records after them. A bounded read of the partition is complete
// once Position reaches the end offset taken when it started.
func (r *PartitionReader) Position() int64 {
	if r.pending != nil {
		peek := r.cur
		switch rec, ok, err := peek.next(); {
		case ok:
			return rec.Offset
		case err != nil:
			// The next Poll reports it; nothing after what was
			// returned has been read.
			return r.returned
		}
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
	topic     string
	partition int32

	conn *fetchConn // connection to the leader; nil when not connected
	req  *kmsg.FetchRequest
	// idle is a fetch buffer no result took (an empty or failed fetch),
	// kept for the next one; made counts the buffers made so far.
	idle      *fetchBuf
	made      int
	offset    int64 // where the next Fetch starts
	fetchSize int32 // per-partition bytes asked for

	// failingSince is when the current run of transient failures began;
	// zero when the last attempt succeeded.
	failingSince time.Time

	// fetches counts Fetch requests sent; tests read it to check that an
	// idle reader long-polls rather than spins.
	fetches atomic.Int64

	results chan<- fetchResult
	free    <-chan *fetchBuf
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
		throttle := min(res.throttle, readerRetryTimeout)
		if res.next == f.offset && len(res.buf.batches) == 0 {
			f.idle = res.buf // nothing new within fetchMaxWait: keep it for the next
		} else {
			f.offset = res.next
			if !f.send(res) {
				return
			}
		}
		if throttle > 0 {
			// A quota was exceeded: wait as the broker asks, as Kafka's
			// clients do, before the next request.
			select {
			case <-f.stop:
				return
			case <-time.After(throttle):
			}
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
	if f.conn != nil {
		_ = f.conn.close()
		f.conn = nil
	}
}

// connect opens a connection to the partition's current leader.
func (f *fetcher) connect() error {
	addr, err := f.c.leaderAddr(f.topic, f.partition)
	if err != nil {
		return err
	}
	// The broker holds a Fetch up to fetchMaxWait; the deadline must
	// outlast it with room for a large response.
	id := f.c.clientID
	if id == "" {
		id = "streamsql"
	}
	f.conn, err = dialFetch(addr, id, 30*time.Second+fetchMaxWait)
	return err
}

// spare returns a fetch buffer for the next response: one Poll has
// finished with, a new one while the reader has fewer than
// fetchBufsPerReader, or else the next one Poll gives back. It returns nil
// when the reader is closed while it waits.
func (f *fetcher) spare() *fetchBuf {
	select {
	case fb := <-f.free:
		return fb
	default:
	}
	if f.made < fetchBufsPerReader {
		f.made++
		return &fetchBuf{}
	}
	select {
	case fb := <-f.free:
		return fb
	case <-f.stop:
		return nil
	}
}

// fetchOnce issues one Fetch from f.offset and decodes it. It returns
// next == f.offset and no records when there was nothing to read.
func (f *fetcher) fetchOnce() (fetchResult, error) {
	if f.conn == nil {
		if err := f.connect(); err != nil {
			return fetchResult{}, err
		}
	}
	if f.req == nil {
		f.req = kmsg.NewPtrFetchRequest()
		f.req.ReplicaID = -1
		f.req.MaxWaitMillis = int32(fetchMaxWait / time.Millisecond)
		f.req.MinBytes = 1
		f.req.IsolationLevel = 1 // read_committed
		// No incremental fetch session (KIP-227): each request names
		// the partition in full.
		f.req.SessionID, f.req.SessionEpoch = 0, -1
		t := kmsg.NewFetchRequestTopic()
		t.Topic = f.topic
		p := kmsg.NewFetchRequestTopicPartition()
		p.Partition = f.partition
		t.Partitions = []kmsg.FetchRequestTopicPartition{p}
		f.req.Topics = []kmsg.FetchRequestTopic{t}
	}
	f.req.MaxBytes = f.fetchSize
	p := &f.req.Topics[0].Partitions[0]
	p.FetchOffset, p.PartitionMaxBytes = f.offset, f.fetchSize
	p.CurrentLeaderEpoch, p.LogStartOffset = -1, -1

	fb := f.idle
	f.idle = nil
	if fb == nil {
		if fb = f.spare(); fb == nil {
			return fetchResult{}, ErrClosed
		}
	}
	f.fetches.Add(1)
	part, err := f.conn.fetch(f.req, &fb.resp)
	if err == nil && part.err != nil {
		err = part.err
		if errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
			// Distinguish a deleted topic (final) from a broker that has
			// not caught up with a new leader (retried).
			if _, merr := f.c.topicMetadata(f.topic); errors.Is(merr, ErrUnknownTopic) {
				err = ErrUnknownTopic
			} else {
				err = sarama.ErrNotLeaderForPartition
			}
		}
	}
	if err != nil {
		f.idle = fb
		if errors.Is(err, errMalformed) {
			// Treated as a broken connection: reconnect and retry.
			err = fmt.Errorf("%w: %w", io.ErrUnexpectedEOF, err)
		}
		return fetchResult{}, err
	}
	batches, next, partial, err := walkBatches(&part, &fb.arena, f.offset, fb.batches)
	fb.batches, fb.from = batches, f.offset
	if err != nil {
		f.idle = fb
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
			f.idle = fb
			return fetchResult{}, fmt.Errorf("a record batch is larger than %d bytes", fetchMaxBytesLimit)
		}
		f.fetchSize = min(2*f.fetchSize, fetchMaxBytesLimit)
	case len(part.batches) == 0 && part.lastStableOffset > f.offset && part.throttle == 0 && !part.redirected:
		// Everything below the last stable offset is readable now, and a
		// response that was neither throttled nor redirected carries
		// what there is from f.offset on. If it holds no batch at all
		// while the last stable offset is ahead, step over to it (the
		// walk above already steps over empty batches that compaction
		// keeps for producer state).
		next = part.lastStableOffset
	}
	return fetchResult{buf: fb, next: next, throttle: part.throttle}, nil
}
