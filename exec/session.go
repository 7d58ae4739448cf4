package exec

import (
	"encoding/binary"
	"math"
	"sort"
	"sync/atomic"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql/types"
	"github.com/streamsql/streamsql/state"
)

// SessionAgg aggregates rows per group key within session windows: events
// of one key closer than the gap share a session, which ends at its last
// event plus the gap. An event that bridges two sessions merges them.
//
// State: one group per (key, session start) in a write-back cache. The
// session's last event time is kept as an extra MAX aggregate over the
// event-time column appended to the query's aggregates, so it is
// checkpointed with them and merges like them. On a watermark it emits every
// session whose end is at or before the watermark, ordered by end and key,
// and deletes it. An event that would form a session already
// closed by the watermark, and joins no open session, is late: dropped and
// counted.
type SessionAgg struct {
	core    aggCore
	gap     int64
	timeCol evaluator
	cache   *state.Cache[*group]
	// sessions maps a group key to its open sessions, ordered by start.
	sessions map[string][]*state.Entry[*group]
	wm       int64
	late     *atomic.Int64
	lastIdx  int // index of the internal MAX(event time) accumulator
	view     types.Batch
	kbuf     []byte
}

var _ Operator = (*SessionAgg)(nil)

// NewSessionAgg builds the operator; opID names its state.
func NewSessionAgg(n *planner.WindowAgg, opID string, pol ErrorPolicy, late *atomic.Int64, st state.Options) *SessionAgg {
	aggs := append(append([]planner.AggCall(nil), n.Aggs...),
		planner.AggCall{Func: planner.AggMax, Arg: n.Window.Time, Type: types.Timestamp})
	s := &SessionAgg{
		core:     newAggCore(n.Keys, aggs, true, pol),
		gap:      n.Window.Size,
		timeCol:  compile(n.Window.Time, pol),
		sessions: map[string][]*state.Entry[*group]{},
		wm:       math.MinInt64,
		late:     late,
		lastIdx:  len(n.Aggs),
	}
	s.cache = state.NewCacheWith[*group](opID, groupCodec{keyTypes: s.core.keyTypes, aggs: aggs}, st)
	return s
}

// Session state keys are the group key followed by the 8-byte start, so a
// key's sessions are adjacent and restore can find the group key.
func (s *SessionAgg) stateKey(groupKey []byte, start int64) []byte {
	s.kbuf = append(append(s.kbuf[:0], groupKey...), 0, 0, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint64(s.kbuf[len(s.kbuf)-8:], uint64(start))
	return s.kbuf
}

// Restore loads the operator's state, keeping the groups keep accepts.
func (s *SessionAgg) Restore(st *state.Store, query string, wm int64, keep func(key []byte) bool) error {
	s.wm = wm
	err := s.cache.Restore(st, query, func(k []byte) bool { return len(k) >= 8 && (keep == nil || keep(k[:len(k)-8])) })
	if err != nil {
		return err
	}
	s.cache.Range(func(e *state.Entry[*group]) {
		gk := e.Key[:len(e.Key)-8]
		s.sessions[gk] = append(s.sessions[gk], e)
	})
	for _, list := range s.sessions {
		sort.Slice(list, func(i, j int) bool { return list[i].Val.start < list[j].Val.start })
	}
	return nil
}

func (s *SessionAgg) last(g *group) int64 { return g.accs[s.lastIdx].min.I }

func (s *SessionAgg) Process(b *types.Batch, out Collector) error {
	if err := s.core.evalInputs(b); err != nil {
		return err
	}
	tc, err := s.timeCol.eval(b)
	if err != nil {
		return err
	}
	n := b.Len()
	for r := 0; r < n; r++ {
		if tc.Nulls[r] {
			continue
		}
		t := tc.Ints[r]
		gk := string(s.core.rowKey(nil, r))
		list := s.sessions[gk]
		// The open sessions this event touches: start-gap < t < last+gap.
		var touch []int
		for i, e := range list {
			if e.Val.start-s.gap < t && t < s.last(e.Val)+s.gap {
				touch = append(touch, i)
			}
		}
		if len(touch) == 0 {
			if t+s.gap <= s.wm {
				s.late.Add(1)
				continue
			}
			g := s.core.newGroup(r, t)
			s.core.fold(g, r)
			e := s.cache.Insert(s.stateKey([]byte(gk), t), g)
			list = append(list, e)
			sort.Slice(list, func(i, j int) bool { return list[i].Val.start < list[j].Val.start })
			s.sessions[gk] = list
			continue
		}
		// Merge every touched session into the first, then add the event.
		first := list[touch[0]]
		g := first.Val
		for _, i := range touch[1:] {
			if err := s.core.mergeGroups(g, list[i].Val); err != nil {
				return err
			}
			g.start = min(g.start, list[i].Val.start)
			s.cache.Delete(list[i])
		}
		s.core.fold(g, r)
		start := min(g.start, t)
		kept := list[:0]
		for i, e := range list {
			if i == touch[0] || !contains(touch, i) {
				kept = append(kept, e)
			}
		}
		list = kept
		if start != g.start {
			// The session now starts earlier: its state key changes.
			g.start = start
			s.cache.Delete(first)
			ne := s.cache.Insert(s.stateKey([]byte(gk), start), g)
			for i, e := range list {
				if e == first {
					list[i] = ne
				}
			}
		} else {
			s.cache.Touch(first)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Val.start < list[j].Val.start })
		s.sessions[gk] = list
	}
	return nil
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (s *SessionAgg) OnWatermark(wm int64, out Collector) error {
	if wm <= s.wm {
		return nil
	}
	s.wm = wm
	type closed struct {
		key string
		e   *state.Entry[*group]
	}
	var done []closed
	for gk, list := range s.sessions {
		kept := list[:0]
		for _, e := range list {
			if s.last(e.Val)+s.gap <= wm {
				done = append(done, closed{gk, e})
			} else {
				kept = append(kept, e)
			}
		}
		if len(kept) == 0 {
			delete(s.sessions, gk)
		} else {
			s.sessions[gk] = kept
		}
	}
	if len(done) == 0 {
		return nil
	}
	// Emit in order of session end, then key: deterministic output.
	sort.Slice(done, func(i, j int) bool {
		ei, ej := s.last(done[i].e.Val), s.last(done[j].e.Val)
		if ei != ej {
			return ei < ej
		}
		return done[i].e.Key < done[j].e.Key
	})
	s.core.out.Reset()
	for _, d := range done {
		win := [2]int64{d.e.Val.start, s.last(d.e.Val) + s.gap}
		s.core.appendResult(d.e.Val, &win)
		s.cache.Delete(d.e)
	}
	// Hide the internal last-event-time aggregate from downstream.
	s.view.Cols = s.core.out.Cols[:len(s.core.out.Cols)-1]
	return out.Collect(&s.view)
}

func (s *SessionAgg) OnBarrier(cm *state.Commit, out Collector) error {
	s.cache.Flush(cm)
	return nil
}

func (s *SessionAgg) OnEnd(out Collector) error { return nil }
