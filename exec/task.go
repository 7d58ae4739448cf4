package exec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/streamsql/streamsql/exec/codec"
	"github.com/streamsql/streamsql/kafka"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql/types"
	"github.com/streamsql/streamsql/state"
)

type msgKind uint8

const (
	mData msgKind = iota
	mWatermark
	mIdle
	mBarrier
	mEnd
)

// message travels from a source task to an aggregation task. Data,
// watermarks and barriers share one ordered channel, so a barrier cuts the
// stream at one consistent point.
type message struct {
	kind  msgKind
	from  int
	batch *types.Batch
	wm    int64
	epoch int64
}

const (
	pollMax = 4096
	// pollWait bounds how long an idle source task waits for records
	// before it looks for a barrier again: it adds to checkpoint latency.
	pollWait = 20 * time.Millisecond
	// defaultIdleTimeout applies when a stream does not set idle_timeout.
	defaultIdleTimeout = 5 * time.Second
)

// sourceTask reads one partition: it decodes records into a batch, stamps
// event time, tracks the partition's watermark, runs the stateless operators
// and then either routes rows to aggregation tasks by key hash or writes
// them to its own sink. It owns its reader, decoder and batches.
type sourceTask struct {
	g         *graph
	idx       int
	topic     string
	partition int32
	src       Source
	next      int64 // next offset to read
	end       int64 // bounded: stop at this offset; -1 for continuous
	dec       codec.Decoder
	ncols     int // stream columns; the batch has ncols+1 (rowtime last)
	timeCol   int
	delay     int64
	idle      time.Duration
	chain     *chain
	batch     *types.Batch
	sel       []bool
	recs      []kafka.Record
	barriers  chan int64

	// decoded views the batch's decoded columns (all stream columns but
	// the computed ones), in order: the decoder appends to it, and computed
	// columns are evaluated over it into their columns of the batch.
	decoded *types.Batch
	// decodeInto holds the decoded columns the plan reads (the decoder's
	// target); skipped are the others, filled with NULLs.
	decodeInto *types.Batch
	skipped    []*types.Column
	computed   []computedColumn
	// rowRec[r] is the index in the polled records of the batch's row r.
	rowRec []int

	// Exactly one of these is the task's output.
	exchange *exchangeOut
	sink     Sink

	maxTs  int64
	wm     int64
	isIdle bool
}

func (g *graph) newSourceTask(ctx context.Context, part int, starts, ends []int64, lower []planner.Node,
	ex *planner.Exchange, pol ErrorPolicy) (*sourceTask, error) {
	cfg := g.cfg
	scan := cfg.Plan.Scan
	st := scan.Stream
	schema := scan.Schema()
	t := &sourceTask{
		g: g, idx: part, topic: st.Topic, partition: int32(part), next: starts[part], end: -1,
		ncols: len(st.Columns), timeCol: scan.TimeCol, delay: st.WatermarkDelay,
		idle: time.Duration(st.IdleTimeout) * time.Millisecond, barriers: make(chan int64, 1),
		maxTs: math.MinInt64, wm: math.MinInt64,
	}
	if t.idle <= 0 {
		t.idle = defaultIdleTimeout
	}
	if ends != nil {
		t.end = ends[part]
	}
	var sch []types.Type
	for _, c := range schema {
		sch = append(sch, c.Type)
	}
	t.batch = types.NewBatch(sch, pollMax)
	t.batch.Keys = make([][]byte, 0, pollMax)
	decoded := scan.Decoded()
	t.decoded = &types.Batch{Cols: make([]*types.Column, len(decoded))}
	decSchema := make([]planner.Column, len(decoded))
	for i, c := range decoded {
		t.decoded.Cols[i] = t.batch.Cols[c]
		decSchema[i] = schema[c]
	}
	fields := decoderFields(decSchema)
	for i, c := range decoded {
		fields[i].Path = st.Columns[c].Path
	}
	// Column pruning: skip decoding VARCHAR columns the plan does not read
	// (nor computed columns read), filling them with NULLs. Only VARCHAR
	// columns are skipped because any JSON value converts to text, so a
	// skipped column can never have made the message undecodable: which
	// messages count as bad data does not depend on the query. A nested
	// leaf is skipped only while another decoded column has the same
	// parent object, because a parent that is not an object makes a message
	// bad and the decoder checks parents only on the way to a leaf. CSV
	// decodes by position, so it keeps every column.
	needs := scanColumnsRead(cfg.Plan)
	for _, c := range decoded {
		if st.Columns[c].Type != types.Varchar {
			needs[c] = true
		}
	}
	for _, c := range scan.Computed {
		if needs[c.Col] {
			refs := map[int]bool{}
			planner.ColumnsOf(c.Expr, refs)
			for i := range refs {
				needs[decoded[i]] = true
			}
		}
	}
	parentPath := func(c int) string {
		p := st.Columns[c].Path
		return strings.Join(p[:len(p)-1], "\x00")
	}
	checked := map[string]bool{} // parent objects a decoded leaf leads through
	for _, c := range decoded {
		if needs[c] && len(st.Columns[c].Path) > 1 {
			checked[parentPath(c)] = true
		}
	}
	for _, c := range decoded {
		if !needs[c] && len(st.Columns[c].Path) > 1 && !checked[parentPath(c)] {
			needs[c] = true
			checked[parentPath(c)] = true
		}
	}
	t.decodeInto = t.decoded
	if st.Format != "csv" {
		t.decodeInto = &types.Batch{}
		var kept []codec.Field
		for i, c := range decoded {
			if needs[c] {
				t.decodeInto.Cols = append(t.decodeInto.Cols, t.decoded.Cols[i])
				kept = append(kept, fields[i])
			} else {
				t.skipped = append(t.skipped, t.decoded.Cols[i])
			}
		}
		fields = kept
	}
	switch st.Format {
	case "csv":
		t.dec = codec.NewCSVDecoder(fields)
	default:
		t.dec = codec.NewJSONDecoder(fields)
	}
	for _, c := range scan.Computed {
		t.computed = append(t.computed, computedColumn{col: t.batch.Cols[c.Col], ev: compile(c.Expr, pol)})
	}
	ops, err := g.operators(lower, pol, len(g.aggs) == 0)
	if err != nil {
		return nil, err
	}
	var out Collector
	switch {
	case ex != nil:
		// The exchange carries its input's rows, which a view or derived
		// table below it (a projection) makes different from the scan's.
		var exSch []types.Type
		for _, c := range ex.Input.Schema() {
			exSch = append(exSch, c.Type)
		}
		t.exchange = newExchangeOut(g, part, ex.Keys, exSch, g.exchangeNeeds, pol)
		out = t.exchange
	case cfg.Store == nil:
		out = CollectorFunc(g.output)
	default:
		if t.sink, err = cfg.NewSink(SinkContext{Ctx: ctx, Gate: g.gate, Epoch: g.firstEpoch, MayWait: true}); err != nil {
			return nil, err
		}
		out = CollectorFunc(func(b *types.Batch) error {
			cfg.Stats.RowsOut.Add(int64(b.Len()))
			return t.sink.Write(b)
		})
	}
	t.chain = newChain(ops, out)
	if t.end < 0 || t.next < t.end {
		r, err := cfg.Client.NewPartitionReader(st.Topic, int32(part), t.next)
		if err != nil {
			return nil, err
		}
		t.src = r
	} else {
		t.src = emptySource{pos: t.next}
	}
	return t, nil
}

// emptySource stands in for a partition a bounded query has nothing to read from.
type emptySource struct{ pos int64 }

func (emptySource) Poll(context.Context, []kafka.Record, int, time.Duration) ([]kafka.Record, error) {
	return nil, nil
}
func (e emptySource) Position() int64 { return e.pos }
func (emptySource) Close() error      { return nil }

func (t *sourceTask) run(ctx context.Context) error {
	lastData := time.Now()
	if t.exchange != nil {
		t.exchange.ctx = ctx
	}
	for {
		select {
		case epoch := <-t.barriers:
			if err := t.barrier(ctx, epoch); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if t.end >= 0 && t.next >= t.end {
			return t.finish(ctx)
		}
		recs, err := t.src.Poll(ctx, t.recs[:0], pollMax, pollWait)
		if err != nil {
			if errors.Is(err, context.Canceled) || ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("reading %s/%d: %w", t.topic, t.partition, err)
		}
		t.recs = recs
		if len(recs) == 0 {
			t.next = t.src.Position()
			if !t.isIdle && time.Since(lastData) >= t.idle && t.exchange != nil {
				t.isIdle = true
				if err := t.exchange.broadcast(ctx, message{kind: mIdle}); err != nil {
					return err
				}
			}
			continue
		}
		lastData = time.Now()
		t.isIdle = false
		if t.end >= 0 {
			// A bounded read stops at the end offset seen when it began.
			n := 0
			for n < len(recs) && recs[n].Offset < t.end {
				n++
			}
			recs = recs[:n]
		}
		if err := t.process(ctx, recs); err != nil {
			return err
		}
		if t.sink != nil {
			if err := t.sink.Drain(); err != nil {
				return fmt.Errorf("sink: %w", err)
			}
		}
		if t.end < 0 || t.next < t.end {
			// Step over transaction markers that follow the records.
			t.next = max(t.next, t.src.Position())
		}
	}
}

// computedColumn evaluates one computed column of the stream over the
// decoded columns and appends the result to col, a column of the batch.
type computedColumn struct {
	col *types.Column
	ev  evaluator
}

// process decodes records into the task's batch, computes the computed
// columns, stamps event time and pushes the batch through.
func (t *sourceTask) process(ctx context.Context, recs []kafka.Record) error {
	b := t.batch
	b.Reset()
	b.Cols = b.Cols[:t.ncols+1]
	rowtime := b.Cols[t.ncols]
	stats := &t.g.cfg.Stats
	t.rowRec = t.rowRec[:0]
	for i := range recs {
		t.next = recs[i].Offset + 1
		if err := t.dec.Decode(recs[i].Value, t.decodeInto); err != nil {
			(*stats).DecodeErrors.Add(1)
			continue
		}
		t.rowRec = append(t.rowRec, i)
	}
	n := len(t.rowRec)
	for _, c := range t.skipped {
		c.ResetNulls(n)
	}
	if n > 0 {
		// Computed columns come before event time, which may be one.
		for _, c := range t.computed {
			col, err := c.ev.eval(t.decoded)
			if err != nil {
				return err
			}
			appendColumn(c.col, col)
		}
	}
	dropped := 0
	for r := 0; r < n; r++ {
		rec := &recs[t.rowRec[r]]
		ts := rec.Timestamp
		if t.timeCol >= 0 {
			c := b.Cols[t.timeCol]
			if c.Nulls[r] {
				// No event time: the row cannot be placed in time. Count it as
				// bad data and drop it below, as for an undecodable message.
				dropped++
			}
			ts = c.Ints[r]
		}
		rowtime.Append(types.TimestampValue(ts))
		// The key's bytes belong to the reader until its next Poll; the
		// batch may outlive that (a sink's producer sends it later).
		b.Keys = append(b.Keys, bytes.Clone(rec.Key))
		if ts > t.maxTs && (t.timeCol < 0 || !b.Cols[t.timeCol].Nulls[r]) {
			t.maxTs = ts
		}
	}
	if dropped > 0 {
		t.sel = t.sel[:0]
		tc := b.Cols[t.timeCol]
		for r := 0; r < n; r++ {
			t.sel = append(t.sel, !tc.Nulls[r])
		}
		b.Keep(t.sel)
		(*stats).DecodeErrors.Add(int64(dropped))
	}
	n = b.Len()
	(*stats).RowsIn.Add(int64(n))
	if n > 0 {
		if err := t.chain.process(b); err != nil {
			return err
		}
	}
	if t.exchange != nil {
		if err := t.exchange.flush(ctx); err != nil {
			return err
		}
		if t.maxTs != math.MinInt64 && t.maxTs-t.delay > t.wm {
			t.wm = t.maxTs - t.delay
			return t.exchange.broadcast(ctx, message{kind: mWatermark, wm: t.wm})
		}
	}
	return nil
}

// appendColumn appends the rows of src to dst, a column of the same type.
func appendColumn(dst, src *types.Column) {
	dst.Nulls = append(dst.Nulls, src.Nulls...)
	switch dst.Type {
	case types.Double:
		dst.Floats = append(dst.Floats, src.Floats...)
	case types.Varchar:
		dst.Strs = append(dst.Strs, src.Strs...)
	case types.Boolean:
		dst.Bools = append(dst.Bools, src.Bools...)
	default:
		dst.Ints = append(dst.Ints, src.Ints...)
	}
}

// barrier takes the task's part of checkpoint epoch: it records the next
// offset, forwards the barrier downstream (or flushes its own sink), and
// acknowledges to the coordinator.
func (t *sourceTask) barrier(ctx context.Context, epoch int64) error {
	cm := state.NewCommit(t.g.cfg.ID, epoch)
	cm.SetOffset(t.topic, t.partition, t.next)
	if err := t.chain.barrier(cm); err != nil {
		return err
	}
	a := ack{epoch: epoch, commit: cm, part: t.partition, next: t.next}
	if t.exchange != nil {
		if err := t.exchange.flush(ctx); err != nil {
			return err
		}
		if err := t.exchange.broadcast(ctx, message{kind: mBarrier, epoch: epoch}); err != nil {
			return err
		}
	} else if t.sink != nil {
		if err := t.sink.Checkpoint(epoch); err != nil {
			return fmt.Errorf("sink: %w", err)
		}
	}
	select {
	case t.g.acks <- a:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finish ends a bounded read: the final watermark closes every window.
func (t *sourceTask) finish(ctx context.Context) error {
	if err := t.chain.watermark(math.MaxInt64); err != nil {
		return err
	}
	if err := t.chain.end(); err != nil {
		return err
	}
	if t.exchange != nil {
		if err := t.exchange.flush(ctx); err != nil {
			return err
		}
		if err := t.exchange.broadcast(ctx, message{kind: mWatermark, wm: math.MaxInt64}); err != nil {
			return err
		}
		return t.exchange.broadcast(ctx, message{kind: mEnd})
	}
	return nil
}

// exchangeOut routes rows to aggregation tasks by the hash of their group
// key. It copies rows column by column into one pending batch per target and
// sends them on flush; a sent batch belongs to the receiver. Columns the
// aggregation does not read are sent as NULLs, not copied.
type exchangeOut struct {
	g       *graph
	from    int
	keys    []evaluator
	keyCols []*types.Column
	schema  []types.Type
	// needed[j] says the tasks above the exchange read column j.
	needed  []bool
	pending []*types.Batch
	route   []int32
	counts  []int
	kbuf    []byte

	// Exchange batches are credits, as in Flink's credit-based network
	// stack: each source task owns at most exBatchesPerTarget per
	// aggregation task, and the aggregation tasks hand them back to free
	// once processed. With all of them out the source waits for one, so
	// the batches a query holds are set by its shape, not by how long it
	// runs or how far the aggregation tasks fall behind, and a slow source
	// never waits for batches another source holds.
	free      chan *types.Batch
	made      int
	batchRows int
	ctx       context.Context // the task's, for waiting on free
}

// exBatchesPerTarget is how many exchange batches a source task owns per
// aggregation task: on average one being filled and one on its way or
// being processed. Four measured the same (Nexmark q12 and q17 events per
// CPU-s within noise) with about 3 MB more peak RSS in the memory bench.
const exBatchesPerTarget = 2

func newExchangeOut(g *graph, from int, keys []planner.Expr, schema []types.Type, needed []bool, pol ErrorPolicy) *exchangeOut {
	nAgg := len(g.aggs)
	e := &exchangeOut{g: g, from: from, schema: schema, needed: needed, pending: make([]*types.Batch, nAgg),
		counts: make([]int, nAgg), free: make(chan *types.Batch, exBatchesPerTarget*nAgg),
		// A target's share of a source batch, with room for skew; a
		// batch that gets more grows once and keeps its size.
		batchRows: min(pollMax, (pollMax+pollMax/4)/nAgg)}
	for _, k := range keys {
		e.keys = append(e.keys, compile(k, pol))
	}
	e.keyCols = make([]*types.Column, len(keys))
	return e
}

func (e *exchangeOut) Collect(b *types.Batch) error {
	for i, k := range e.keys {
		c, err := k.eval(b)
		if err != nil {
			return err
		}
		e.keyCols[i] = c
	}
	n := b.Len()
	targets := len(e.pending)
	e.route = e.route[:0]
	clear(e.counts)
	for r := 0; r < n; r++ {
		target := 0
		if targets > 1 {
			e.kbuf = e.kbuf[:0]
			for _, c := range e.keyCols {
				e.kbuf = appendKeyValue(e.kbuf, c, r)
			}
			target = int(hashKey(e.kbuf) % uint64(targets))
		}
		e.route = append(e.route, int32(target))
		e.counts[target]++
	}
	for t, cnt := range e.counts {
		if cnt > 0 && e.pending[t] == nil {
			var err error
			if e.pending[t], err = e.take(); err != nil {
				return err
			}
		}
	}
	for j, c := range b.Cols {
		if !e.needed[j] {
			for t, cnt := range e.counts {
				if cnt > 0 {
					e.pending[t].Cols[j].ExtendNulls(cnt)
				}
			}
			continue
		}
		for r := 0; r < n; r++ {
			e.pending[e.route[r]].Cols[j].AppendFrom(c, r)
		}
	}
	return nil
}

// take returns an empty exchange batch: a free one, a new one while the
// task owns fewer than its share, or else the next one handed back.
func (e *exchangeOut) take() (*types.Batch, error) {
	select {
	case b := <-e.free:
		return b, nil
	default:
	}
	if e.made < cap(e.free) {
		e.made++
		return types.NewBatch(e.schema, e.batchRows), nil
	}
	select {
	case b := <-e.free:
		return b, nil
	case <-e.ctx.Done():
		return nil, e.ctx.Err()
	}
}

func (e *exchangeOut) flush(ctx context.Context) error {
	for i, p := range e.pending {
		if p == nil || p.Len() == 0 {
			continue
		}
		e.pending[i] = nil
		if err := e.send(ctx, i, message{kind: mData, batch: p}); err != nil {
			return err
		}
	}
	return nil
}

func (e *exchangeOut) broadcast(ctx context.Context, m message) error {
	for i := range e.g.aggs {
		if err := e.send(ctx, i, m); err != nil {
			return err
		}
	}
	return nil
}

func (e *exchangeOut) send(ctx context.Context, target int, m message) error {
	m.from = e.from
	select {
	case e.g.aggs[target].in <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// aggInbox is how many messages an aggregation task's input channel
// holds.
const aggInbox = 16

// aggTask runs the stateful part of a query for the keys that hash to it:
// it merges its inputs' watermarks (the minimum over inputs that are not
// idle), aligns checkpoint barriers across inputs, and writes results to its
// sink or to the bounded query's output.
type aggTask struct {
	g     *graph
	idx   int
	in    chan message
	nIn   int
	chain *chain
	agg   Operator
	sink  Sink

	wms      []int64
	idle     []bool
	blocked  []bool
	queued   [][]message
	nBlocked int
	ended    []bool
	nEnded   int
	outWm    int64
	epoch    int64
	// wmPub mirrors outWm for readers on other goroutines.
	wmPub atomic.Int64
}

func (t *aggTask) outWmLoad() int64 { return t.wmPub.Load() }

func (g *graph) newAggTask(ctx context.Context, idx, n, nIn int, upper []planner.Node, pol ErrorPolicy) (*aggTask, error) {
	cfg := g.cfg
	t := &aggTask{g: g, idx: idx, in: make(chan message, aggInbox), nIn: nIn,
		wms: make([]int64, nIn), idle: make([]bool, nIn), blocked: make([]bool, nIn),
		queued: make([][]message, nIn), ended: make([]bool, nIn), outWm: g.startWm}
	for i := range t.wms {
		t.wms[i] = math.MinInt64
	}
	t.wmPub.Store(t.outWm)
	ops, err := g.operators(upper, pol, true)
	if err != nil {
		return nil, err
	}
	t.agg = ops[0]
	keep := func(key []byte) bool { return n == 1 || hashKey(key)%uint64(n) == uint64(idx) }
	if cfg.Store != nil {
		switch a := t.agg.(type) {
		case *WindowAgg:
			if err := a.Restore(cfg.Store, cfg.ID, g.startWm, keep); err != nil {
				return nil, fmt.Errorf("restoring state: %w", err)
			}
		case *SessionAgg:
			if err := a.Restore(cfg.Store, cfg.ID, g.startWm, keep); err != nil {
				return nil, fmt.Errorf("restoring state: %w", err)
			}
		case *HashAgg:
			if err := a.Restore(cfg.Store, cfg.ID, keep); err != nil {
				return nil, fmt.Errorf("restoring state: %w", err)
			}
		}
	}
	var out Collector
	if cfg.Store == nil {
		out = CollectorFunc(g.output)
	} else {
		if t.sink, err = cfg.NewSink(SinkContext{Ctx: ctx, Gate: g.gate, Epoch: g.firstEpoch}); err != nil {
			return nil, err
		}
		out = CollectorFunc(func(b *types.Batch) error {
			cfg.Stats.RowsOut.Add(int64(b.Len()))
			return t.sink.Write(b)
		})
	}
	t.chain = newChain(ops, out)
	return t, nil
}

func (t *aggTask) run(ctx context.Context) error {
	for {
		select {
		case m := <-t.in:
			done, err := t.handle(ctx, m)
			if err != nil || done {
				return err
			}
			if t.sink != nil {
				if err := t.sink.Drain(); err != nil {
					return fmt.Errorf("sink: %w", err)
				}
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// handle processes one message; done is true when every input has ended.
func (t *aggTask) handle(ctx context.Context, m message) (bool, error) {
	if t.blocked[m.from] {
		// The input already delivered this checkpoint's barrier: hold its
		// later messages until every input has (barrier alignment).
		t.queued[m.from] = append(t.queued[m.from], m)
		return false, nil
	}
	switch m.kind {
	case mData:
		if t.idle[m.from] {
			t.idle[m.from] = false
		}
		if err := t.chain.process(m.batch); err != nil {
			return false, err
		}
		// The operators above the exchange keep nothing of a batch once
		// it is processed (they fold it into state or write it out), so
		// it goes back to the source that owns it.
		m.batch.Reset()
		select {
		case t.g.sources[m.from].exchange.free <- m.batch:
		default:
		}
		return false, nil
	case mWatermark:
		t.wms[m.from] = m.wm
		t.idle[m.from] = false
		return false, t.advance()
	case mIdle:
		t.idle[m.from] = true
		return false, t.advance()
	case mBarrier:
		t.blocked[m.from] = true
		t.epoch = m.epoch
		t.nBlocked++
		if t.nBlocked < t.nIn {
			return false, nil
		}
		if err := t.checkpoint(ctx, m.epoch); err != nil {
			return false, err
		}
		// Release the inputs and replay what they sent meanwhile, in order.
		queued := t.queued
		t.queued = make([][]message, t.nIn)
		for i := range t.blocked {
			t.blocked[i] = false
		}
		t.nBlocked = 0
		for _, q := range queued {
			for _, qm := range q {
				if done, err := t.handle(ctx, qm); err != nil || done {
					return done, err
				}
			}
		}
		return false, nil
	case mEnd:
		t.ended[m.from] = true
		t.nEnded++
		if t.nEnded < t.nIn {
			return false, nil
		}
		return true, t.chain.end()
	}
	return false, nil
}

// advance recomputes the task's watermark: the minimum over inputs that are
// not idle. When every input is idle, the maximum over all inputs is used
// (as Flink's watermark valve does), so that the last partition to receive
// data still closes its windows once it falls silent.
func (t *aggTask) advance() error {
	wm := int64(math.MaxInt64)
	active := false
	for i, w := range t.wms {
		if t.idle[i] {
			continue
		}
		active = true
		wm = min(wm, w)
	}
	if !active {
		wm = math.MinInt64
		for _, w := range t.wms {
			wm = max(wm, w)
		}
	}
	if wm <= t.outWm {
		return nil
	}
	t.outWm = wm
	t.wmPub.Store(wm)
	if err := t.chain.watermark(wm); err != nil {
		return err
	}
	t.g.publishWatermark()
	return nil
}

func (t *aggTask) checkpoint(ctx context.Context, epoch int64) error {
	cm := state.NewCommit(t.g.cfg.ID, epoch)
	if err := t.chain.barrier(cm); err != nil {
		return err
	}
	if t.sink != nil {
		if err := t.sink.Checkpoint(epoch); err != nil {
			return fmt.Errorf("sink: %w", err)
		}
	}
	a := ack{epoch: epoch, commit: cm, wm: t.outWm, hasWm: true, part: -1}
	select {
	case t.g.acks <- a:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// publishWatermark sets the query's watermark statistic to the minimum
// over aggregation tasks.
func (g *graph) publishWatermark() {
	wm := int64(math.MaxInt64)
	for _, a := range g.aggs {
		wm = min(wm, a.outWmLoad())
	}
	g.cfg.Stats.Watermark.Store(wm)
}
