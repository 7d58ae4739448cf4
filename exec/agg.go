package exec

import (
	"bytes"
	"encoding/binary"
	"math"
	"sort"
	"sync/atomic"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql/types"
	"github.com/streamsql/streamsql/state"
)

// acc is the running state of one aggregate call for one group.
type acc struct {
	n   int64 // rows counted (COUNT) or non-NULL inputs seen (SUM/AVG/MIN/MAX)
	i   int64 // integer sum
	f   float64
	min types.Value // MIN/MAX so far
}

// group is one group's state: its key values, window and accumulators.
type group struct {
	keys  []types.Value
	start int64 // window start (ms); 0 for non-windowed aggregation
	accs  []acc
}

// groupCodec serialises groups for checkpoints.
type groupCodec struct {
	keyTypes []types.Type
	aggs     []planner.AggCall
}

func (c groupCodec) Encode(dst []byte, g *group) []byte {
	for _, k := range g.keys {
		dst = appendValue(dst, k)
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(g.start))
	for _, a := range g.accs {
		dst = binary.AppendVarint(dst, a.n)
		dst = binary.AppendVarint(dst, a.i)
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(a.f))
		dst = appendValue(dst, a.min)
	}
	return dst
}

func (c groupCodec) Decode(b []byte) (*group, error) {
	g := &group{keys: make([]types.Value, len(c.keyTypes)), accs: make([]acc, len(c.aggs))}
	var err error
	for i, t := range c.keyTypes {
		if g.keys[i], b, err = readValue(b, t); err != nil {
			return nil, err
		}
	}
	if len(b) < 8 {
		return nil, errCorrupt
	}
	g.start = int64(binary.BigEndian.Uint64(b))
	b = b[8:]
	for i, a := range c.aggs {
		var k int
		if g.accs[i].n, k = binary.Varint(b); k <= 0 {
			return nil, errCorrupt
		}
		b = b[k:]
		if g.accs[i].i, k = binary.Varint(b); k <= 0 {
			return nil, errCorrupt
		}
		b = b[k:]
		if len(b) < 8 {
			return nil, errCorrupt
		}
		g.accs[i].f = math.Float64frombits(binary.BigEndian.Uint64(b))
		b = b[8:]
		if g.accs[i].min, b, err = readValue(b, a.Type); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// aggCore is what WindowAgg and HashAgg share: evaluating keys and
// arguments over a batch, and folding rows into accumulators.
type aggCore struct {
	keys     []evaluator
	keyTypes []types.Type
	args     []evaluator // nil entry for COUNT(*)
	aggs     []planner.AggCall
	keyCols  []*types.Column
	argCols  []*types.Column
	kbuf     []byte
	outTypes []types.Type
	out      *types.Batch
}

func newAggCore(keys []planner.Expr, aggs []planner.AggCall, windowed bool, pol ErrorPolicy) aggCore {
	c := aggCore{aggs: aggs}
	for _, k := range keys {
		c.keys = append(c.keys, compile(k, pol))
		c.keyTypes = append(c.keyTypes, k.Type())
		c.outTypes = append(c.outTypes, k.Type())
	}
	if windowed {
		c.outTypes = append(c.outTypes, types.Timestamp, types.Timestamp)
	}
	for _, a := range aggs {
		if a.Arg == nil {
			c.args = append(c.args, nil)
		} else {
			c.args = append(c.args, compile(a.Arg, pol))
		}
		c.outTypes = append(c.outTypes, a.Type)
	}
	c.keyCols = make([]*types.Column, len(keys))
	c.argCols = make([]*types.Column, len(aggs))
	c.out = types.NewBatch(c.outTypes, 0)
	return c
}

// evalInputs computes the key and argument columns of b.
func (c *aggCore) evalInputs(b *types.Batch) error {
	for i, k := range c.keys {
		col, err := k.eval(b)
		if err != nil {
			return err
		}
		c.keyCols[i] = col
	}
	for i, a := range c.args {
		if a == nil {
			continue
		}
		col, err := a.eval(b)
		if err != nil {
			return err
		}
		c.argCols[i] = col
	}
	return nil
}

// rowKey encodes row's group key after prefix into the reused buffer.
func (c *aggCore) rowKey(prefix []byte, row int) []byte {
	c.kbuf = append(c.kbuf[:0], prefix...)
	for _, col := range c.keyCols {
		c.kbuf = appendKeyValue(c.kbuf, col, row)
	}
	return c.kbuf
}

func (c *aggCore) newGroup(row int, start int64) *group {
	g := &group{keys: make([]types.Value, len(c.keyCols)), start: start, accs: make([]acc, len(c.aggs))}
	for i, col := range c.keyCols {
		g.keys[i] = col.Value(row)
	}
	return g
}

// fold adds row to g's accumulators.
func (c *aggCore) fold(g *group, row int) {
	for i, a := range c.aggs {
		ac := &g.accs[i]
		if a.Func == planner.AggCountStar {
			ac.n++
			continue
		}
		col := c.argCols[i]
		if col.Nulls[row] {
			continue
		}
		ac.n++
		switch a.Func {
		case planner.AggSum, planner.AggAvg:
			if col.Type == types.Double {
				ac.f += col.Floats[row]
			} else {
				ac.i += col.Ints[row]
				ac.f += float64(col.Ints[row])
			}
		case planner.AggMin, planner.AggMax:
			v := col.Value(row)
			if ac.n == 1 {
				ac.min = v
				continue
			}
			cmp := types.Compare(v, ac.min)
			if (a.Func == planner.AggMin && cmp < 0) || (a.Func == planner.AggMax && cmp > 0) {
				ac.min = v
			}
		}
	}
}

// appendResult appends g's output row: keys, [window bounds], aggregates.
func (c *aggCore) appendResult(g *group, window *int64) {
	col := 0
	for _, k := range g.keys {
		c.out.Cols[col].Append(k)
		col++
	}
	if window != nil {
		c.out.Cols[col].Append(types.TimestampValue(g.start))
		c.out.Cols[col+1].Append(types.TimestampValue(g.start + *window))
		col += 2
	}
	for i, a := range c.aggs {
		ac := g.accs[i]
		var v types.Value
		switch a.Func {
		case planner.AggCountStar, planner.AggCount:
			v = types.IntValue(ac.n)
		case planner.AggSum:
			switch {
			case ac.n == 0:
				v = types.NullOf(a.Type)
			case a.Type == types.Double:
				v = types.FloatValue(ac.f)
			default:
				v = types.Value{Type: a.Type, I: ac.i}
			}
		case planner.AggAvg:
			if ac.n == 0 {
				v = types.NullOf(types.Double)
			} else {
				v = types.FloatValue(ac.f / float64(ac.n))
			}
		case planner.AggMin, planner.AggMax:
			if ac.n == 0 {
				v = types.NullOf(a.Type)
			} else {
				v = ac.min
			}
		}
		c.out.Cols[col].Append(v)
		col++
	}
}

// WindowAgg aggregates rows per group key within tumbling event-time
// windows.
//
// State: one group per (window start, key) in a write-back cache, plus an
// index of open windows by start time. On a watermark it emits every window
// whose end is at or before the watermark — each exactly once, ordered by
// window start and key — and deletes its state. A row whose window has
// already been emitted is late: it is dropped and counted. On a barrier it
// writes the changed groups and the deletions of emitted ones.
type WindowAgg struct {
	core    aggCore
	size    int64
	timeCol evaluator
	cache   *state.Cache[*group]
	// open maps a window start to the groups in that window.
	open map[int64][]*state.Entry[*group]
	// wm is the last watermark seen; windows ending at or before it are closed.
	wm   int64
	late *atomic.Int64
	pfx  [8]byte
}

var _ Operator = (*WindowAgg)(nil)

// NewWindowAgg builds the operator; opID names its state.
func NewWindowAgg(n *planner.WindowAgg, opID string, pol ErrorPolicy, late *atomic.Int64) *WindowAgg {
	w := &WindowAgg{
		core:    newAggCore(n.Keys, n.Aggs, true, pol),
		size:    n.Window.Size,
		timeCol: compile(n.Window.Time, pol),
		open:    map[int64][]*state.Entry[*group]{},
		wm:      math.MinInt64,
		late:    late,
	}
	w.cache = state.NewCache[*group](opID, groupCodec{keyTypes: w.core.keyTypes, aggs: n.Aggs})
	return w
}

// windowStart is the start of the tumbling window holding t: windows are
// aligned to the Unix epoch, and floor division keeps that true before 1970.
func windowStart(t, size int64) int64 {
	s := t - t%size
	if t%size < 0 {
		s -= size
	}
	return s
}

// Restore loads the operator's state, keeping the groups keep accepts.
func (w *WindowAgg) Restore(st *state.Store, query string, wm int64, keep func(key []byte) bool) error {
	w.wm = wm
	err := w.cache.Restore(st, query, func(k []byte) bool { return len(k) >= 8 && (keep == nil || keep(k[8:])) })
	if err != nil {
		return err
	}
	w.cache.Range(func(e *state.Entry[*group]) {
		w.open[e.Val.start] = append(w.open[e.Val.start], e)
	})
	return nil
}

func (w *WindowAgg) Process(b *types.Batch, out Collector) error {
	if err := w.core.evalInputs(b); err != nil {
		return err
	}
	tc, err := w.timeCol.eval(b)
	if err != nil {
		return err
	}
	n := b.Len()
	for r := 0; r < n; r++ {
		if tc.Nulls[r] {
			continue
		}
		start := windowStart(tc.Ints[r], w.size)
		if start+w.size <= w.wm {
			w.late.Add(1)
			continue
		}
		binary.BigEndian.PutUint64(w.pfx[:], uint64(start))
		key := w.core.rowKey(w.pfx[:], r)
		e := w.cache.Get(key)
		if e == nil {
			e = w.cache.Insert(key, w.core.newGroup(r, start))
			w.open[start] = append(w.open[start], e)
		}
		w.core.fold(e.Val, r)
		w.cache.Touch(e)
	}
	return nil
}

func (w *WindowAgg) OnWatermark(wm int64, out Collector) error {
	if wm <= w.wm {
		return nil
	}
	w.wm = wm
	var closing []int64
	for start := range w.open {
		if start+w.size <= wm {
			closing = append(closing, start)
		}
	}
	if len(closing) == 0 {
		return nil
	}
	sort.Slice(closing, func(i, j int) bool { return closing[i] < closing[j] })
	for _, start := range closing {
		entries := w.open[start]
		delete(w.open, start)
		sort.Slice(entries, func(i, j int) bool { return entries[i].Key < entries[j].Key })
		w.core.out.Reset()
		for _, e := range entries {
			w.core.appendResult(e.Val, &w.size)
			w.cache.Delete(e)
		}
		if err := out.Collect(w.core.out); err != nil {
			return err
		}
	}
	return nil
}

func (w *WindowAgg) OnBarrier(cm *state.Commit, out Collector) error {
	w.cache.Flush(cm)
	return nil
}

func (w *WindowAgg) OnEnd(out Collector) error { return nil }

// Watermark returns the last watermark the operator saw.
func (w *WindowAgg) Watermark() int64 { return w.wm }

// HashAgg aggregates rows per group key without windows.
//
// State: one group per key in a write-back cache. In a continuous query its
// output is an upsert stream: on each barrier it emits the current row of
// every group changed since the previous barrier (so results appear at
// checkpoint frequency) and writes those groups to the checkpoint. In a
// bounded query it emits every group once at the end of the input.
type HashAgg struct {
	core    aggCore
	cache   *state.Cache[*group]
	bounded bool
	// changed lists groups updated since the last emission.
	changed []*state.Entry[*group]
	inList  map[*state.Entry[*group]]bool
	global  bool
}

var _ Operator = (*HashAgg)(nil)

// NewHashAgg builds the operator; opID names its state.
func NewHashAgg(n *planner.HashAgg, opID string, bounded bool, pol ErrorPolicy) *HashAgg {
	h := &HashAgg{core: newAggCore(n.Keys, n.Aggs, false, pol), bounded: bounded,
		inList: map[*state.Entry[*group]]bool{}, global: len(n.Keys) == 0}
	h.cache = state.NewCache[*group](opID, groupCodec{keyTypes: h.core.keyTypes, aggs: n.Aggs})
	return h
}

// Restore loads the operator's state, keeping the groups keep accepts.
func (h *HashAgg) Restore(st *state.Store, query string, keep func(key []byte) bool) error {
	return h.cache.Restore(st, query, keep)
}

func (h *HashAgg) Process(b *types.Batch, out Collector) error {
	if err := h.core.evalInputs(b); err != nil {
		return err
	}
	n := b.Len()
	for r := 0; r < n; r++ {
		key := h.core.rowKey(nil, r)
		e := h.cache.Get(key)
		if e == nil {
			e = h.cache.Insert(key, h.core.newGroup(r, 0))
		}
		h.core.fold(e.Val, r)
		h.cache.Touch(e)
		if !h.bounded && !h.inList[e] {
			h.inList[e] = true
			h.changed = append(h.changed, e)
		}
	}
	return nil
}

func (h *HashAgg) OnWatermark(int64, Collector) error { return nil }

func (h *HashAgg) OnBarrier(cm *state.Commit, out Collector) error {
	if len(h.changed) > 0 {
		sort.Slice(h.changed, func(i, j int) bool { return h.changed[i].Key < h.changed[j].Key })
		h.core.out.Reset()
		for _, e := range h.changed {
			h.core.appendResult(e.Val, nil)
			delete(h.inList, e)
		}
		h.changed = h.changed[:0]
		h.core.out.Kinds = h.core.out.Kinds[:0]
		for range h.core.out.Len() {
			h.core.out.Kinds = append(h.core.out.Kinds, types.UpdateAfter)
		}
		if err := out.Collect(h.core.out); err != nil {
			return err
		}
		h.core.out.Kinds = nil
	}
	h.cache.Flush(cm)
	return nil
}

// OnEnd emits every group, ordered by key. A global aggregate (no GROUP BY)
// over an empty input still yields its one row, as in SQL.
func (h *HashAgg) OnEnd(out Collector) error {
	if h.global && h.cache.Len() == 0 {
		h.cache.Insert(nil, &group{accs: make([]acc, len(h.core.aggs))})
	}
	var all []*state.Entry[*group]
	h.cache.Range(func(e *state.Entry[*group]) { all = append(all, e) })
	sort.Slice(all, func(i, j int) bool { return bytes.Compare([]byte(all[i].Key), []byte(all[j].Key)) < 0 })
	h.core.out.Reset()
	for _, e := range all {
		h.core.appendResult(e.Val, nil)
	}
	if h.core.out.Len() == 0 {
		return nil
	}
	return out.Collect(h.core.out)
}
