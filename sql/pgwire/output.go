package pgwire

import (
	"encoding/binary"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/streamsql/streamsql/sql/types"
)

// Output buffering policy; see "Output" in the package documentation.
const (
	// flushThreshold is the buffered size at which output is written at once.
	flushThreshold = 32 << 10
	// flushDelay bounds how long a queued message may wait for more to join
	// it. It keeps a streaming query's rows prompt (a human cannot tell 5ms)
	// while a fast producer still fills large writes.
	flushDelay = 5 * time.Millisecond
	// maxRetainedBuffer is the capacity above which the buffer is dropped
	// after a write rather than kept, so one huge row does not pin its memory
	// for the life of the connection.
	maxRetainedBuffer = 1 << 20
)

// output is a connection's outgoing message buffer. The connection goroutine
// queues messages; a timer goroutine may write the buffer concurrently, hence
// the mutex. Once a write fails, every later call returns that error, so a
// Session streaming rows to a vanished client stops at its next Row.
type output struct {
	nc net.Conn
	// onFail is called once, on the first failed write, to cancel what the
	// connection is running.
	onFail func()

	mu  sync.Mutex // guards the fields below
	buf []byte     // encoded messages not yet written
	err error      // the first write error; sticky
	// timerArmed says a timer fire is pending that will write buf; it is set
	// only together with scheduling one, so a queued message is never left
	// without a write in prospect.
	timerArmed bool
	timer      *time.Timer
	// ts formats the TIMESTAMPs of dataRows.
	ts types.TimestampFormatter
}

// send queues msg and arranges for it to be written soon.
func (o *output) send(msg pgproto3.BackendMessage) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	b, err := msg.Encode(o.buf)
	if err != nil {
		// The message is too large to frame (more than 65535 columns or
		// fields); Encode has discarded nothing that was queued before.
		return err
	}
	o.buf = b
	return o.queuedLocked()
}

// dataRow queues a DataRow for vals, encoding column i in formats[i] (nil
// means all text). It encodes straight into the buffer, without the
// intermediate [][]byte pgproto3.DataRow needs, because it runs once per
// result row.
func (o *output) dataRow(cols []Column, formats []int16, vals []types.Value) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	o.buf = appendDataRow(o.buf, cols, formats, vals)
	return o.queuedLocked()
}

// dataRows queues a DataRow for every row of b, as dataRow would for each,
// under one hold of the lock.
func (o *output) dataRows(cols []Column, formats []int16, b *types.Batch) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for r := range b.Len() {
		if o.err != nil {
			return o.err
		}
		o.buf = appendColDataRow(o.buf, cols, formats, b, r, &o.ts)
		if len(o.buf) >= flushThreshold {
			if err := o.flushLocked(); err != nil {
				return err
			}
		}
	}
	return o.queuedLocked()
}

// copyData queues a CopyData message holding one COPY line for vals,
// encoded straight into the buffer as dataRow does.
func (o *output) copyData(f *CopyFormat, vals []types.Value) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	start := len(o.buf)
	o.buf = append(o.buf, 'd', 0, 0, 0, 0)
	o.buf = appendCopyLine(o.buf, f, vals)
	// The length field counts itself but not the type byte.
	binary.BigEndian.PutUint32(o.buf[start+1:], uint32(len(o.buf)-start-1))
	return o.queuedLocked()
}

// raw queues bytes outside the message framing (the one-byte answer to
// SSLRequest) and writes them at once.
func (o *output) raw(b ...byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	o.buf = append(o.buf, b...)
	return o.flushLocked()
}

// queuedLocked applies the flush policy after something was appended.
func (o *output) queuedLocked() error {
	if len(o.buf) >= flushThreshold {
		return o.flushLocked()
	}
	if !o.timerArmed {
		o.timerArmed = true
		if o.timer == nil {
			o.timer = time.AfterFunc(flushDelay, o.timerFlush)
		} else {
			o.timer.Reset(flushDelay)
		}
	}
	return nil
}

// timerFlush runs on the timer's goroutine.
func (o *output) timerFlush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.timerArmed = false
	_ = o.flushLocked()
}

// flush writes everything queued now.
func (o *output) flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.flushLocked()
}

func (o *output) flushLocked() error {
	if o.timerArmed {
		// Nothing will be left for the pending fire to write. If it has
		// already started it finds an empty buffer, which is harmless.
		o.timer.Stop()
		o.timerArmed = false
	}
	if o.err != nil {
		return o.err
	}
	if len(o.buf) == 0 {
		return nil
	}
	_, err := o.nc.Write(o.buf)
	if cap(o.buf) > maxRetainedBuffer {
		o.buf = nil
	} else {
		o.buf = o.buf[:0]
	}
	if err != nil {
		o.err = err
		o.onFail()
	}
	return err
}

// failed reports whether a write has failed, which means the client is gone.
func (o *output) failed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err != nil
}

// stop cancels a pending timer fire once the connection is ending.
func (o *output) stop() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.timer != nil {
		o.timer.Stop()
	}
	o.timerArmed = false
}
