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
// start, window end and the group key, plus an index of open windows by end.
// On a watermark it emits every window whose end is at or before the
// watermark — each exactly once, ordered by end, start and key — and deletes
// its state. A row all of whose windows have been emitted is late: dropped
// and counted. On a barrier it writes the changed groups and the deletions.
type WindowAgg struct {
	core    aggCore
	spec    windowSpec
	timeCol evaluator
	cache   *state.Cache[*group]
	// open maps a window end to the groups of the windows ending then.
	open map[int64][]*state.Entry[*group]
	// wm is the last watermark seen; windows ending at or before it are closed.
	wm   int64
	late *atomic.Int64
	pfx  [16]byte
	wins [][2]int64
}

var _ Operator = (*WindowAgg)(nil)

// NewWindowAgg builds the operator; opID names its state.
func NewWindowAgg(n *planner.WindowAgg, opID string, pol ErrorPolicy, late *atomic.Int64) *WindowAgg {
	w := &WindowAgg{
		core:    newAggCore(n.Keys, n.Aggs, true, pol),
		spec:    windowSpec{kind: n.Window.Kind, size: n.Window.Size, slide: n.Window.Slide},
		timeCol: compile(n.Window.Time, pol),
		open:    map[int64][]*state.Entry[*group]{},
		wm:      math.MinInt64,
		late:    late,
	}
	w.cache = state.NewCache[*group](opID, groupCodec{keyTypes: w.core.keyTypes, aggs: n.Aggs})
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
			if win[1] <= w.wm {
				continue // this window has been emitted
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
		}
		if !counted {
			w.late.Add(1)
		}
	}
	return nil
}

func (w *WindowAgg) OnWatermark(wm int64, out Collector) error {
	if wm <= w.wm {
		return nil
	}
	w.wm = wm
	var closing []int64
	for end := range w.open {
		if end <= wm {
			closing = append(closing, end)
		}
	}
	if len(closing) == 0 {
		return nil
	}
	sort.Slice(closing, func(i, j int) bool { return closing[i] < closing[j] })
	for _, end := range closing {
		entries := w.open[end]
		delete(w.open, end)
		// Keys start with the window start, so this orders by start, then key.
		sort.Slice(entries, func(i, j int) bool { return entries[i].Key < entries[j].Key })
		w.core.out.Reset()
		for _, e := range entries {
			win := windowOf(e.Key)
			w.core.appendResult(e.Val, &win)
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
