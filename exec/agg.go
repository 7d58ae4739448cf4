package exec

import (
	"encoding/binary"
	"math"
	"sort"
	"sync/atomic"
	"unsafe"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql/types"
	"github.com/streamsql/streamsql/state"
)

// windowSpec assigns event times to windows. Every window is [start, end)
// and aligned to the Unix epoch.
type windowSpec struct {
	kind planner.WindowKind
	// size is the window length (TUMBLE, HOP) or the largest window
	// (CUMULATE); slide is HOP's slide or CUMULATE's step.
	size, slide int64
}

// floorTo rounds t down to a multiple of m, also before 1970.
func floorTo(t, m int64) int64 {
	s := t - t%m
	if t%m < 0 {
		s -= m
	}
	return s
}

// windowStart is the start of the tumbling window of size holding t.
func windowStart(t, size int64) int64 { return floorTo(t, size) }

// assign appends to dst the windows holding t, earliest end first.
func (w windowSpec) assign(t int64, dst [][2]int64) [][2]int64 {
	switch w.kind {
	case planner.Hop:
		// Windows start every slide; t is in those starting in (t-size, t].
		first := floorTo(t-w.size, w.slide) + w.slide
		for s := first; s <= t; s += w.slide {
			dst = append(dst, [2]int64{s, s + w.size})
		}
	case planner.Cumulate:
		// Windows share the start of their size-long period and grow by
		// step: t is in every one that ends after it.
		base := floorTo(t, w.size)
		for e := floorTo(t-base, w.slide) + w.slide + base; e <= base+w.size; e += w.slide {
			dst = append(dst, [2]int64{base, e})
		}
	default:
		s := floorTo(t, w.size)
		dst = append(dst, [2]int64{s, s + w.size})
	}
	return dst
}

// WindowAgg aggregates rows per group key within event-time windows:
// TUMBLE, HOP (a row counts in every window that holds it) and CUMULATE.
//
// State: one group per (window, key) in a write-back cache keyed by window
// start, window end and the group key, plus an index of windows by end.
// On a watermark it emits every window whose end is at or before the
// watermark — each once, ordered by end, start and key. Without allowed
// lateness it then deletes the window's state, and a row all of whose
// windows have been emitted is late: dropped and counted. With allowed
// lateness L, a window's state is kept until the watermark passes end + L;
// a late row within L updates it and the updated row is emitted again at the
// next watermark or barrier; later rows are dropped and counted. With early
// emission (EMIT CHANGES) every barrier also emits the current row of each
// open window changed since the last barrier. On a barrier it writes the
// changed groups and the deletions.
type WindowAgg struct {
	core    aggCore
	spec    windowSpec
	timeCol evaluator
	cache   *state.Cache[*group]
	// open maps a window end to the groups of the windows ending then
	// (including emitted windows still within allowed lateness).
	open map[int64][]*state.Entry[*group]
	// wm is the last watermark seen; windows ending at or before it have
	// been emitted.
	wm       int64
	late     *atomic.Int64
	lateness int64
	early    bool
	// changed lists groups updated since their last emission that must be
	// emitted again: late updates, and with early emission all updates.
	changed []*state.Entry[*group]
	inList  map[*state.Entry[*group]]bool
	// reuse hands purged groups back to core (state never checkpointed).
	reuse bool
	pfx   [16]byte
	wins  [][2]int64
}

// WindowOptions are run-time choices of a windowed aggregation.
type WindowOptions struct {
	// AllowedLateness keeps emitted windows updatable this long (ms).
	AllowedLateness int64
	// EmitEarly emits changed open windows at every barrier.
	EmitEarly bool
	// State configures the operator's state cache.
	State state.Options
}

var _ Operator = (*WindowAgg)(nil)

// NewWindowAgg builds the operator; opID names its state.
func NewWindowAgg(n *planner.WindowAgg, opID string, pol ErrorPolicy, late *atomic.Int64, opts WindowOptions) *WindowAgg {
	w := &WindowAgg{
		core:     newAggCore(n.Keys, n.Aggs, true, pol),
		spec:     windowSpec{kind: n.Window.Kind, size: n.Window.Size, slide: n.Window.Slide},
		timeCol:  compile(n.Window.Time, pol),
		open:     map[int64][]*state.Entry[*group]{},
		wm:       math.MinInt64,
		late:     late,
		lateness: opts.AllowedLateness,
		early:    opts.EmitEarly,
		inList:   map[*state.Entry[*group]]bool{},
		reuse:    opts.State.NoCheckpoints,
	}
	w.cache = state.NewCacheWith[*group](opID, groupCodec{keyTypes: w.core.keyTypes, aggs: n.Aggs}, opts.State)
	return w
}

// windowOf reads the window bounds from a state key.
func windowOf(key string) [2]int64 {
	return [2]int64{int64(binary.BigEndian.Uint64([]byte(key[:8]))), int64(binary.BigEndian.Uint64([]byte(key[8:16])))}
}

// Restore loads the operator's state, keeping the groups keep accepts.
func (w *WindowAgg) Restore(st *state.Store, query string, wm int64, keep func(key []byte) bool) error {
	w.wm = wm
	err := w.cache.Restore(st, query, func(k []byte) bool { return len(k) >= 16 && (keep == nil || keep(k[16:])) })
	if err != nil {
		return err
	}
	w.cache.Range(func(e *state.Entry[*group]) {
		end := windowOf(e.Key)[1]
		w.open[end] = append(w.open[end], e)
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
		w.wins = w.spec.assign(tc.Ints[r], w.wins[:0])
		counted := false
		for _, win := range w.wins {
			if win[1]+w.lateness <= w.wm {
				continue // this window is final
			}
			counted = true
			binary.BigEndian.PutUint64(w.pfx[:8], uint64(win[0]))
			binary.BigEndian.PutUint64(w.pfx[8:], uint64(win[1]))
			key := w.core.rowKey(w.pfx[:], r)
			e := w.cache.Get(key)
			if e == nil {
				e = w.cache.Insert(key, w.core.newGroup(r, win[0]))
				w.open[win[1]] = append(w.open[win[1]], e)
			}
			w.core.fold(e.Val, r)
			w.cache.Touch(e)
			if (w.early || win[1] <= w.wm) && !w.inList[e] {
				// Emitted again at the next barrier (early results) or, for a
				// late update of an emitted window, at the next watermark.
				w.inList[e] = true
				w.changed = append(w.changed, e)
			}
		}
		if !counted {
			w.late.Add(1)
		}
	}
	return nil
}

func (w *WindowAgg) OnWatermark(wm int64, out Collector) error {
	if wm <= w.wm {
		return w.emitLateUpdates(out)
	}
	prev := w.wm
	w.wm = wm
	var ends []int64
	for end := range w.open {
		if end <= wm {
			ends = append(ends, end)
		}
	}
	sort.Slice(ends, func(i, j int) bool { return ends[i] < ends[j] })
	if err := w.emitLateUpdates(out); err != nil {
		return err
	}
	for _, end := range ends {
		entries := w.open[end]
		purge := end+w.lateness <= wm
		if end > prev {
			// The window closes now: its final row.
			if err := w.emit(entries, out); err != nil {
				return err
			}
		}
		if purge {
			delete(w.open, end)
			for _, e := range entries {
				w.cache.Delete(e)
				if w.reuse {
					w.core.spare = append(w.core.spare, e.Val)
				}
			}
		}
	}
	return nil
}

// emit writes the rows of entries (ordered by start and key) and clears
// their pending re-emission.
func (w *WindowAgg) emit(entries []*state.Entry[*group], out Collector) error {
	if len(entries) == 0 {
		return nil
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Key < entries[j].Key })
	w.core.out.Reset()
	for _, e := range entries {
		win := windowOf(e.Key)
		w.core.appendResult(e.Val, &win)
		delete(w.inList, e)
	}
	return out.Collect(w.core.out)
}

// emitLateUpdates re-emits emitted windows updated by late rows.
func (w *WindowAgg) emitLateUpdates(out Collector) error {
	if len(w.changed) == 0 {
		return nil
	}
	var late, rest []*state.Entry[*group]
	for _, e := range w.changed {
		if !w.inList[e] {
			continue
		}
		if windowOf(e.Key)[1] <= w.wm {
			late = append(late, e)
		} else {
			rest = append(rest, e)
		}
	}
	w.changed = rest
	return w.emit(late, out)
}

func (w *WindowAgg) OnBarrier(cm *state.Commit, out Collector) error {
	if w.early && len(w.changed) > 0 {
		var pending []*state.Entry[*group]
		for _, e := range w.changed {
			if w.inList[e] {
				pending = append(pending, e)
			}
		}
		w.changed = w.changed[:0]
		if err := w.emit(pending, out); err != nil {
			return err
		}
	} else if err := w.emitLateUpdates(out); err != nil {
		return err
	}
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
// bounded query it emits every group once at the end of the input, in key
// order.
//
// With a state budget (Config.StateCacheBytes) the cache holds a bounded
// working set: in a continuous query groups written to a durable checkpoint
// may be evicted and are read back from it (the groups in changed are dirty,
// so they stay); in a bounded query the groups in memory are written as a
// sorted run of partial groups whenever they outgrow the budget, and OnEnd
// merges the runs in key order (a key's partial groups combined as session
// windows combine) before Close deletes them.
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

// NewHashAgg builds the operator with every group in memory; opID names its
// state.
func NewHashAgg(n *planner.HashAgg, opID string, bounded bool, pol ErrorPolicy) *HashAgg {
	return NewHashAggWith(n, opID, bounded, pol, state.Options{})
}

// NewHashAggWith builds the operator with its cache bounded by opts.
func NewHashAggWith(n *planner.HashAgg, opID string, bounded bool, pol ErrorPolicy, opts state.Options) *HashAgg {
	h := &HashAgg{core: newAggCore(n.Keys, n.Aggs, false, pol), bounded: bounded,
		inList: map[*state.Entry[*group]]bool{}, global: len(n.Keys) == 0}
	h.cache = state.NewCacheWith[*group](opID, groupCodec{keyTypes: h.core.keyTypes, aggs: n.Aggs}, opts)
	if bounded {
		// A bounded query spills sorted runs of partial groups and merges
		// them at the end (state/runs.go): no lookups of spilled groups.
		h.cache.SetMerge(h.core.mergeGroups)
	}
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
	return h.cache.Err()
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
	return h.cache.Err()
}

// endChunk is how many rows OnEnd emits per batch, so that a large result
// does not sit in one batch (with a budget, it need not fit in memory).
const endChunk = 64 << 10

// OnEnd emits every group, ordered by key. A global aggregate (no GROUP BY)
// over an empty input still yields its one row, as in SQL.
func (h *HashAgg) OnEnd(out Collector) error {
	if h.global && h.cache.Len() == 0 {
		h.cache.Insert(nil, &group{accs: make([]acc, len(h.core.aggs))})
	}
	h.core.out.Reset()
	err := h.cache.Sorted(func(_ string, g *group) error {
		h.core.appendResult(g, nil)
		if h.core.out.Len() < endChunk {
			return nil
		}
		err := out.Collect(h.core.out)
		h.core.out.Reset()
		return err
	})
	if err == nil && h.core.out.Len() > 0 {
		err = out.Collect(h.core.out)
	}
	if cerr := h.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close deletes the groups a bounded query spilled. The runtime calls it
// when the query ends, however it ends; OnEnd calls it once it has emitted.
func (h *HashAgg) Close() error { return h.cache.Close() }

// Size estimates a group's Go heap (for the cache's budget): the group
// struct, its key values and accumulators, string payloads and, roughly,
// the extra state of DISTINCT and the extended aggregates.
func (c groupCodec) Size(g *group) int {
	n := int(unsafe.Sizeof(group{})) + len(g.keys)*int(unsafe.Sizeof(types.Value{})) + len(g.accs)*int(unsafe.Sizeof(acc{}))
	for _, k := range g.keys {
		n += len(k.S)
	}
	for i := range g.accs {
		a := &g.accs[i]
		n += len(a.min.S)
		if x := a.ext; x != nil {
			n += int(unsafe.Sizeof(accExt{})) + cap(x.buf)
			// A distinct value: its bytes (about 16), the key header, the map
			// slot and rounding; counted, not measured, to stay O(1).
			n += len(x.seen) * 64
			if x.hll != nil {
				n += 1 << 10 // sparse at first; dense sketches are larger
			}
		}
	}
	return n
}
