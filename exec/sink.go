package exec

import (
	"context"
	"sync"

	"github.com/streamsql/streamsql/exec/codec"
	"github.com/streamsql/streamsql/kafka"
	"github.com/streamsql/streamsql/sql/types"
)

// KafkaSink writes a task's output rows to a topic as JSON records. The
// value is the row's output columns; the key is the JSON object of the key
// columns that follow them (an aggregate's GROUP BY key) or, for a query
// without keys, the source record's key passed through. A Delete row
// becomes a tombstone.
//
// Rows are encoded into a buffer that the task hands over (Drain) after each
// batch it processes, and whenever it fills. A sender goroutine owned by the
// sink writes handed-over chunks through the producer (shared by the query's
// tasks), so the task does not wait for Kafka's acknowledgements; Checkpoint
// waits for all of them. With exactly-once delivery the sender waits at the
// gate until the transaction of a chunk's epoch is open.
type KafkaSink struct {
	producer *kafka.Producer
	topic    string
	nOut     int
	// timeCol is the batch column holding each row's event time, which
	// becomes the record's Kafka timestamp; -1 for none.
	timeCol int
	value   rowEncoder
	key     *codec.JSONEncoder // nil: pass source keys through
	keyView types.Batch
	pending []kafka.Message
	// arena holds the encoded bytes of pending messages; a new one is
	// started after each flush because the producer may keep references.
	arena   []byte
	ctx     context.Context
	gate    *TxnGate
	mayWait bool
	// epoch is the checkpoint epoch the buffered rows belong to.
	epoch int64

	// sendq carries chunks to the sender goroutine; inflight counts chunks
	// handed over and not yet acknowledged; errMu guards sendErr, the
	// first failed send.
	sendq    chan sinkChunk
	inflight sync.WaitGroup
	stopped  chan struct{}
	errMu    sync.Mutex
	sendErr  error
}

type sinkChunk struct {
	epoch int64
	msgs  []kafka.Message
}

var _ Sink = (*KafkaSink)(nil)

// sinkFlushRows bounds how many rows a sink buffers between flushes.
const sinkFlushRows = 16384

// rowEncoder writes one row of a batch as a record value.
type rowEncoder interface {
	AppendRow(dst []byte, b *types.Batch, i int) []byte
}

// NewKafkaSink returns a sink writing columns names (the first len(names)
// of each batch) to topic in format ("json" or "csv"); keyNames names the
// key columns after them (the key is always a JSON object), or is empty to
// pass source keys through; hasTime says an event-time column follows the
// keys.
func NewKafkaSink(sc SinkContext, p *kafka.Producer, topic, format string, names, keyNames []string, hasTime bool) *KafkaSink {
	s := &KafkaSink{producer: p, topic: topic, nOut: len(names), timeCol: -1,
		ctx: sc.Ctx, gate: sc.Gate, epoch: sc.Epoch, mayWait: sc.MayWait}
	if format == "csv" {
		s.value = codec.NewCSVEncoder(len(names))
	} else {
		s.value = codec.NewJSONEncoder(names)
	}
	if len(keyNames) > 0 {
		s.key = codec.NewJSONEncoder(keyNames)
	}
	if hasTime {
		s.timeCol = len(names) + len(keyNames)
	}
	s.sendq = make(chan sinkChunk, 4)
	s.stopped = make(chan struct{})
	go s.sender()
	return s
}

// sender writes chunks in order; it ends when Close closes sendq.
func (s *KafkaSink) sender() {
	defer close(s.stopped)
	for c := range s.sendq {
		err := s.failed()
		if err == nil {
			err = s.gate.Wait(s.ctx, c.epoch)
		}
		if err == nil {
			err = s.producer.Send(c.msgs)
		}
		if err != nil {
			s.errMu.Lock()
			if s.sendErr == nil {
				s.sendErr = err
			}
			s.errMu.Unlock()
		}
		s.inflight.Done()
	}
}

func (s *KafkaSink) failed() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.sendErr
}

func (s *KafkaSink) Write(b *types.Batch) error {
	n := b.Len()
	if s.key != nil {
		s.keyView.Cols = b.Cols[s.nOut:]
	}
	for i := 0; i < n; i++ {
		m := kafka.Message{Topic: s.topic}
		if s.timeCol >= 0 && !b.Cols[s.timeCol].Nulls[i] {
			m.Timestamp = b.Cols[s.timeCol].Ints[i]
		}
		if s.key != nil {
			start := len(s.arena)
			s.arena = s.key.AppendRow(s.arena, &s.keyView, i)
			m.Key = s.arena[start:len(s.arena):len(s.arena)]
		} else if b.Keys != nil {
			m.Key = b.Keys[i]
		}
		if b.Kinds == nil || b.Kinds[i] != types.Delete {
			start := len(s.arena)
			s.arena = s.value.AppendRow(s.arena, b, i)
			m.Value = s.arena[start:len(s.arena):len(s.arena)]
		}
		s.pending = append(s.pending, m)
	}
	if len(s.pending) >= sinkFlushRows {
		return s.Drain()
	}
	return nil
}

// Drain hands the buffered rows to the sender without waiting for Kafka.
func (s *KafkaSink) Drain() error {
	if err := s.failed(); err != nil {
		return err
	}
	if len(s.pending) == 0 {
		return nil
	}
	if !s.gate.IsOpen(s.epoch) {
		// Exactly-once: the rows belong to a transaction not open yet (the
		// coordinator is committing the previous one). Keep them: handing
		// them over could block this task, and the commit may be waiting
		// for a barrier stuck behind it. A task nobody waits on instead
		// waits once it holds a full buffer, bounding its memory.
		if !s.mayWait || len(s.pending) < sinkFlushRows {
			return nil
		}
		if err := s.gate.Wait(s.ctx, s.epoch); err != nil {
			return err
		}
	}
	s.inflight.Add(1)
	select {
	case s.sendq <- sinkChunk{epoch: s.epoch, msgs: s.pending}:
	case <-s.ctx.Done():
		s.inflight.Done()
		return s.ctx.Err()
	}
	// The chunk's slices now belong to the sender.
	s.pending = make([]kafka.Message, 0, cap(s.pending))
	s.arena = make([]byte, 0, cap(s.arena))
	return nil
}

// Checkpoint sends the rows of epoch, waits until Kafka has acknowledged
// every row written so far, and moves on to the next epoch.
func (s *KafkaSink) Checkpoint(epoch int64) error {
	if err := s.Drain(); err != nil {
		return err
	}
	s.inflight.Wait()
	if err := s.failed(); err != nil {
		return err
	}
	s.epoch = epoch + 1
	return nil
}

// Close stops the sender. Unsent rows are dropped; they are produced again
// from the last checkpoint.
func (s *KafkaSink) Close() error {
	close(s.sendq)
	<-s.stopped
	return nil
}
