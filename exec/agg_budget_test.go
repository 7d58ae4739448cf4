package exec

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/state"
)

const budgetQuery = "SELECT user_id, COUNT(*), MIN(page), MAX(page), SUM(user_id), COUNT(DISTINCT page) FROM clicks GROUP BY user_id"

// randomClicks returns batches of clicks by users out of users, the same
// for a seed.
func randomClicks(seed int64, batches, rows, users int) [][][3]any {
	rng := rand.New(rand.NewSource(seed))
	out := make([][][3]any, batches)
	for i := range out {
		for j := 0; j < rows; j++ {
			out[i] = append(out[i], [3]any{rng.Intn(users), fmt.Sprintf("/p/%d", rng.Intn(7)), rng.Intn(1 << 20)})
		}
	}
	return out
}

// TestHashAggBudgetBoundedSpill: a bounded GROUP BY with room for a handful
// of groups spills the rest and emits exactly what an unbounded one does.
func TestHashAggBudgetBoundedSpill(t *testing.T) {
	p := plan(t, budgetQuery, planner.Bounded)
	node := find[*planner.HashAgg](p)
	for _, tc := range []struct {
		name   string
		budget int64
	}{
		{"few-groups", 2_000},
		{"hundreds-of-groups", 100_000},
		{"below-one-group", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "spill")
			area, err := state.OpenSpillArea(dir)
			if err != nil {
				t.Fatal(err)
			}
			ref := NewHashAgg(node, "h", true, ErrorPolicy{})
			h := NewHashAggWith(node, "h", true, ErrorPolicy{}, state.Options{Budget: tc.budget, Spill: area})
			want, got := &sink{}, &sink{}
			for _, b := range randomClicks(1, 20, 500, 3000) {
				must(t, ref.Process(clickBatch(b...), want))
				must(t, h.Process(clickBatch(b...), got))
			}
			st := h.cache.Stats()
			must(t, ref.OnEnd(want))
			must(t, h.OnEnd(got))
			if st.Spilled == 0 || st.Runs == 0 {
				t.Fatalf("stats %+v: nothing spilled", st)
			}
			if len(got.rows) != len(want.rows) || got.take() != want.take() {
				t.Fatalf("budgeted output differs from the unbounded one (%d rows, want %d)", len(got.rows), len(want.rows))
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("OnEnd left %d spill directories", len(entries))
			}
			t.Logf("stats %+v", st)
		})
	}
}

// TestHashAggBudgetCheckpointed: a continuous GROUP BY with a tiny budget
// emits at every barrier exactly what an unbounded one does, reading
// evicted groups back from the checkpoints, and a restart from the last
// checkpoint (over two tasks) goes on as the unbounded operator does.
func TestHashAggBudgetCheckpointed(t *testing.T) {
	p := plan(t, budgetQuery, planner.Continuous)
	node := find[*planner.HashAgg](p)
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ref := NewHashAgg(node, "h", false, ErrorPolicy{})
	h := NewHashAggWith(node, "h", false, ErrorPolicy{}, state.Options{Budget: 2_000})
	must(t, h.Restore(store, "q", nil))
	want, got := &sink{}, &sink{}
	batches := randomClicks(2, 30, 300, 2000)
	epoch := int64(0)
	barrier := func(ops ...*HashAgg) {
		epoch++
		cm := state.NewCommit("q", epoch)
		must(t, ref.OnBarrier(state.NewCommit("ref", epoch), want))
		for _, op := range ops {
			must(t, op.OnBarrier(cm, got))
		}
		if _, err := store.Apply(cm); err != nil {
			t.Fatal(err)
		}
		w, g := want.take(), got.take()
		if len(ops) > 1 {
			w, g = strings.Join(sortedCopy(strings.Split(w, "\n")), "\n"), strings.Join(sortedCopy(strings.Split(g, "\n")), "\n")
		}
		if w != g {
			t.Fatalf("barrier %d: budgeted output differs from the unbounded one", epoch)
		}
	}
	for i, b := range batches[:20] {
		must(t, ref.Process(clickBatch(b...), want))
		must(t, h.Process(clickBatch(b...), got))
		if i%2 == 1 {
			barrier(h)
		}
	}
	st := h.cache.Stats()
	if st.Evicted == 0 || st.Loaded == 0 {
		t.Fatalf("stats %+v: nothing evicted or read back", st)
	}
	t.Logf("stats %+v", st)
	// Restart over two tasks, each with a tiny budget.
	var tasks []*HashAgg
	for task := 0; task < 2; task++ {
		r := NewHashAggWith(node, "h", false, ErrorPolicy{}, state.Options{Budget: 2_000})
		keep := func(k []byte) bool { return hashKey(k)%2 == uint64(task) }
		must(t, r.Restore(store, "q", keep))
		tasks = append(tasks, r)
	}
	for _, b := range batches[20:] {
		must(t, ref.Process(clickBatch(b...), want))
		// The exchange: each row to the task its key hashes to.
		for _, row := range b {
			r := tasks[hashKey(tasks[0].keyOf(t, row))%2]
			must(t, r.Process(clickBatch(row), got))
		}
		barrier(tasks...)
	}
}

// keyOf encodes the group key of one click as the operator does.
func (h *HashAgg) keyOf(t *testing.T, row [3]any) []byte {
	must(t, h.core.evalInputs(clickBatch(row)))
	return append([]byte(nil), h.core.rowKey(nil, 0)...)
}

// TestGroupSizeEstimate compares the budget's estimate of a COUNT(*) group
// by BIGINT (state.EntryOverhead + key + groupCodec.Size) with the heap it
// really takes.
func TestGroupSizeEstimate(t *testing.T) {
	p := plan(t, "SELECT user_id, COUNT(*) FROM clicks GROUP BY user_id", planner.Bounded)
	const n = 200_000
	b := clickBatch()
	for i := 0; i < n; i++ {
		b.AppendRow(clickBatch([3]any{i, "/", 0}).Row(0))
	}
	area, err := state.OpenSpillArea(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h := NewHashAggWith(find[*planner.HashAgg](p), "h", true, ErrorPolicy{}, state.Options{Budget: 1 << 40, Spill: area})
	must(t, h.Process(b, &sink{}))
	runtime.GC()
	runtime.ReadMemStats(&after)
	measured := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	estimated := float64(h.cache.Used()) / n
	runtime.KeepAlive(h)
	t.Logf("COUNT(*) GROUP BY BIGINT: %.0f bytes per group measured, %.0f estimated", measured, estimated)
	if estimated < 0.7*measured || estimated > 1.3*measured {
		t.Errorf("estimate %.0f bytes per group is not within 30%% of the measured %.0f", estimated, measured)
	}
}
