package exec

import (
	"context"

	"github.com/streamsql/streamsql/exec/codec"
	"github.com/streamsql/streamsql/kafka"
	"github.com/streamsql/streamsql/sql/types"
)

// KafkaSink writes a task's output rows to a topic as JSON records. The
// value is the row's output columns; the key is the JSON object of the key
// columns that follow them (an aggregate's GROUP BY key) or, for a query
// without keys, the source record's key passed through. A Delete row
// becomes a tombstone. Rows are buffered and sent at every checkpoint and
// whenever the buffer fills, through a producer shared by the query's tasks.
// With exactly-once delivery each send waits at the gate until the
// transaction of the rows' epoch is open.
type KafkaSink struct {
	producer *kafka.Producer
	topic    string
	nOut     int
	// timeCol is the batch column holding each row's event time, which
	// becomes the record's Kafka timestamp; -1 for none.
	timeCol int
	value   *codec.JSONEncoder
	key     *codec.JSONEncoder // nil: pass source keys through
	keyView types.Batch
	pending []kafka.Message
	// arena holds the encoded bytes of pending messages; a new one is
	// started after each flush because the producer may keep references.
	arena []byte
	ctx   context.Context
	gate  *TxnGate
	// epoch is the checkpoint epoch the buffered rows belong to.
	epoch int64
}

var _ Sink = (*KafkaSink)(nil)

// sinkFlushRows bounds how many rows a sink buffers between flushes.
const sinkFlushRows = 16384

// NewKafkaSink returns a sink writing columns names (the first len(names)
// of each batch) to topic; keyNames names the key columns after them, or is
// empty to pass source keys through; hasTime says an event-time column
// follows the keys.
func NewKafkaSink(sc SinkContext, p *kafka.Producer, topic string, names, keyNames []string, hasTime bool) *KafkaSink {
	s := &KafkaSink{producer: p, topic: topic, nOut: len(names), value: codec.NewJSONEncoder(names), timeCol: -1,
		ctx: sc.Ctx, gate: sc.Gate, epoch: sc.Epoch}
	if len(keyNames) > 0 {
		s.key = codec.NewJSONEncoder(keyNames)
	}
	if hasTime {
		s.timeCol = len(names) + len(keyNames)
	}
	return s
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
		return s.flush()
	}
	return nil
}

// Checkpoint sends the rows of epoch and moves on to the next epoch.
func (s *KafkaSink) Checkpoint(epoch int64) error {
	if err := s.flush(); err != nil {
		return err
	}
	s.epoch = epoch + 1
	return nil
}

func (s *KafkaSink) flush() error {
	if len(s.pending) == 0 {
		return nil
	}
	if err := s.gate.Wait(s.ctx, s.epoch); err != nil {
		return err
	}
	err := s.producer.Send(s.pending)
	clear(s.pending)
	s.pending = s.pending[:0]
	s.arena = make([]byte, 0, cap(s.arena))
	return err
}

// Close drops unflushed rows; they are re-produced from the last checkpoint.
func (s *KafkaSink) Close() error { return nil }
