// Package exec runs planned queries: it turns a planner.Plan into tasks of
// streaming operators, moves batches, watermarks and checkpoint barriers
// between them, and drives checkpoints that save operator state and source
// offsets together.
//
// Operators are single-threaded state machines: the runtime (task.go) owns
// every goroutine and channel and calls an operator's methods from one
// goroutine only, so operators need no locks and can be tested by feeding
// them batches. exec does not parse or plan SQL (planner does) and does not
// know the Kafka protocol (package kafka does).
package exec

import (
	"github.com/streamsql/streamsql/sql/types"
	"github.com/streamsql/streamsql/state"
)

// Collector receives the batches an operator emits. The batch is only valid
// during the call: a collector that keeps rows copies them.
type Collector interface {
	Collect(b *types.Batch) error
}

// Operator is one step of a pipeline. The runtime calls its methods from a
// single goroutine, in stream order: batches, watermarks and barriers as they
// arrive in-band.
type Operator interface {
	// Process handles one input batch, emitting results to out.
	Process(b *types.Batch, out Collector) error
	// OnWatermark tells the operator no row with event time < wm will arrive
	// any more (math.MaxInt64 at the end of a bounded input).
	OnWatermark(wm int64, out Collector) error
	// OnBarrier writes the operator's changed state into cm. An operator
	// producing an upsert stream emits its changed rows here too, so that
	// they are part of the checkpoint.
	OnBarrier(cm *state.Commit, out Collector) error
	// OnEnd is called once when a bounded input is exhausted, after the
	// final watermark.
	OnEnd(out Collector) error
}

// CollectorFunc adapts a function to Collector.
type CollectorFunc func(b *types.Batch) error

// Collect calls f.
func (f CollectorFunc) Collect(b *types.Batch) error { return f(b) }

// chain runs operators one after another: each operator's output is the
// next one's input, and the last one emits to out.
type chain struct {
	ops []Operator
	out Collector
	// stages[i] is the collector feeding ops[i+1] (or out for the last).
	stages []Collector
}

func newChain(ops []Operator, out Collector) *chain {
	c := &chain{ops: ops, out: out, stages: make([]Collector, len(ops))}
	for i := range ops {
		if i == len(ops)-1 {
			c.stages[i] = out
			continue
		}
		next, nextOut := ops[i+1], i+1
		c.stages[i] = CollectorFunc(func(b *types.Batch) error { return next.Process(b, c.stages[nextOut]) })
	}
	return c
}

func (c *chain) process(b *types.Batch) error {
	if len(c.ops) == 0 {
		return c.out.Collect(b)
	}
	return c.ops[0].Process(b, c.stages[0])
}

// watermark passes wm through every operator in order, so that rows an
// operator emits on the watermark reach the operators after it first.
func (c *chain) watermark(wm int64) error {
	for i, op := range c.ops {
		if err := op.OnWatermark(wm, c.stages[i]); err != nil {
			return err
		}
	}
	return nil
}

func (c *chain) barrier(cm *state.Commit) error {
	for i, op := range c.ops {
		if err := op.OnBarrier(cm, c.stages[i]); err != nil {
			return err
		}
	}
	return nil
}

func (c *chain) end() error {
	for i, op := range c.ops {
		if err := op.OnEnd(c.stages[i]); err != nil {
			return err
		}
	}
	return nil
}

// stateless supplies no-op watermark, barrier and end handling.
type stateless struct{}

func (stateless) OnWatermark(int64, Collector) error       { return nil }
func (stateless) OnBarrier(*state.Commit, Collector) error { return nil }
func (stateless) OnEnd(Collector) error                    { return nil }
