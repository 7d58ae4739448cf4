package exec

import (
	"context"
	"sync"
)

// Transactions is the Kafka side of exactly-once delivery for one sink:
// the transaction that holds one checkpoint's output (see
// docs/exactly-once.md). The checkpoint coordinator is its only caller.
type Transactions interface {
	// Begin opens the transaction for the first epoch of this run.
	Begin() error
	// Commit records offsets (the next source offset per partition) with
	// epoch as a marker in the open transaction, commits it, and opens the
	// next one.
	Commit(epoch int64, offsets []int64) error
	// Committed reports whether the transaction of checkpoint epoch
	// committed. It is asked on recovery about a checkpoint that was
	// prepared in Badger but not resolved, after any earlier producer with
	// the same transactional id has been fenced.
	Committed(epoch int64) (bool, error)
}

// TxnGate keeps a sink's writes in the transaction of the epoch they belong
// to. A sink that has passed barrier n writes epoch n+1 rows; it may send
// them only once the coordinator has committed transaction n and opened
// n+1. Sinks of an at-least-once query get a nil gate, which never waits.
type TxnGate struct {
	mu   sync.Mutex
	open int64
	// changed is closed and replaced whenever open changes.
	changed chan struct{}
}

// NewTxnGate returns a gate whose open transaction is epoch.
func NewTxnGate(epoch int64) *TxnGate {
	return &TxnGate{open: epoch, changed: make(chan struct{})}
}

// Open marks epoch's transaction as the open one.
func (g *TxnGate) Open(epoch int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = epoch
	close(g.changed)
	g.changed = make(chan struct{})
}

// IsOpen reports whether epoch's transaction is open (always, for a nil gate).
func (g *TxnGate) IsOpen(epoch int64) bool {
	if g == nil {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open >= epoch
}

// Wait returns once epoch's transaction is open (or ctx is done).
func (g *TxnGate) Wait(ctx context.Context, epoch int64) error {
	if g == nil {
		return nil
	}
	for {
		g.mu.Lock()
		open, ch := g.open, g.changed
		g.mu.Unlock()
		if open >= epoch {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// SinkContext is what a sink needs from the query it serves.
type SinkContext struct {
	// Ctx ends with the query.
	Ctx context.Context
	// Gate orders writes into epoch transactions; nil for at-least-once.
	Gate *TxnGate
	// Epoch is the first epoch whose output the sink writes.
	Epoch int64
	// MayWait says the sink's task may block until the next transaction
	// opens: true for a source task writing its own sink (no other task
	// waits on it), false for an aggregation task, whose blocking could
	// hold back a barrier the commit is waiting for.
	MayWait bool
}
