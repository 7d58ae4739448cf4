package state_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"weak"

	"github.com/streamsql/streamsql/state"
)

// int64Codec stores an int64 as 8 bytes.
type int64Codec struct{}

func (int64Codec) Encode(dst []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(v))
}

func (int64Codec) Decode(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, errors.New("bad counter")
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// entryBytes is what the cache estimates for one counter entry with a
// key of n bytes.
func entryBytes(n int) int64 { return int64(state.EntryOverhead + n + 8) }

func ckey(i int) []byte { return []byte(fmt.Sprintf("k%06d", i)) }

// bump adds d to key's counter, inserting it if absent, and mirrors the
// change in model.
func bump(c *state.Cache[int64], model map[string]int64, key []byte, d int64) {
	e := c.Get(key)
	if e == nil {
		e = c.Insert(key, 0)
	}
	e.Val += d
	c.Touch(e)
	model[string(key)] += d
}

// checkAll reads every key of model back through Get and every key through
// Sorted, in order, each once.
func checkAll(t *testing.T, c *state.Cache[int64], model map[string]int64) {
	t.Helper()
	bad := 0
	for k, want := range model {
		e := c.Get([]byte(k))
		switch {
		case e == nil:
			t.Errorf("Get(%s) = nil, want %d", k, want)
			bad++
		case e.Val != want:
			t.Errorf("Get(%s) = %d, want %d", k, e.Val, want)
			bad++
		}
		if bad > 5 {
			t.Fatalf("giving up")
		}
	}
	checkSorted(t, c, model, func(v int64) int64 { return v })
}

// checkSorted checks that Sorted visits every key of model once, in order,
// with its value (as num reads it), and no other key.
func checkSorted[V any](t *testing.T, c *state.Cache[V], model map[string]int64, num func(V) int64) {
	t.Helper()
	if err := c.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
	var keys []string
	err := c.Sorted(func(k string, v V) error {
		if want, ok := model[k]; !ok || num(v) != want {
			return fmt.Errorf("Sorted: %s = %d, want %d (present %v)", k, num(v), want, ok)
		}
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(model) || !sort.StringsAreSorted(keys) {
		t.Fatalf("Sorted visited %d keys (sorted %v), want %d", len(keys), sort.StringsAreSorted(keys), len(model))
	}
	for i := 1; i < len(keys); i++ {
		if keys[i] == keys[i-1] {
			t.Fatalf("Sorted visited %s twice", keys[i])
		}
	}
}

// TestCacheCheckpointedEviction runs a budgeted cache through checkpoints
// (applied in one transaction, in two phases, or failing) and checks that
// every value reads back right, that eviction happened, and that a restart
// restores the last checkpoint.
func TestCacheCheckpointedEviction(t *testing.T) {
	const keys = 10_000
	for _, tc := range []struct {
		name   string
		budget int64
		// twoPhase applies checkpoints with Prepare and Resolve.
		twoPhase bool
		// failEvery > 0 drops every failEvery-th checkpoint (never applied).
		failEvery int
	}{
		{name: "apply/4-entries", budget: 4 * entryBytes(7)},
		{name: "apply/100-entries", budget: 100 * entryBytes(7)},
		{name: "two-phase/4-entries", budget: 4 * entryBytes(7), twoPhase: true},
		{name: "failed-checkpoint", budget: 4 * entryBytes(7), failEvery: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, t.TempDir())
			c := state.NewCacheWith[int64]("agg", int64Codec{}, state.Options{Budget: tc.budget})
			if err := c.Restore(s, "q", nil); err != nil {
				t.Fatal(err)
			}
			model := map[string]int64{}
			durable := map[string]int64{}
			rng := rand.New(rand.NewSource(1))
			epoch := int64(0)
			maxUsed := int64(0)
			checkpoint := func() {
				epoch++
				cm := state.NewCommit("q", epoch)
				c.Flush(cm)
				if tc.failEvery > 0 && epoch%int64(tc.failEvery) == 0 {
					return // lost: its entries must never be evicted
				}
				if tc.twoPhase {
					if err := s.Prepare(cm); err != nil {
						t.Fatal(err)
					}
					if _, err := s.Resolve("q", epoch, true); err != nil {
						t.Fatal(err)
					}
				} else {
					apply(t, s, cm)
				}
				if tc.failEvery == 0 {
					durable = clone(model)
				}
			}
			// Every key once, then random updates, a checkpoint every 250.
			for i := 0; i < 3*keys; i++ {
				k := i
				if i >= keys {
					k = rng.Intn(keys)
				}
				bump(c, model, ckey(k), int64(1+rng.Intn(5)))
				if i%250 == 249 {
					checkpoint()
				}
				maxUsed = max(maxUsed, c.Used())
			}
			checkpoint()
			// Deletions: gone before and after their checkpoint.
			for k := 0; k < 20; k++ {
				if e := c.Get(ckey(k)); e != nil {
					c.Delete(e)
				}
				delete(model, string(ckey(k)))
				if c.Get(ckey(k)) != nil {
					t.Fatalf("Get(%s) after Delete found it", ckey(k))
				}
			}
			checkAll(t, c, model)
			checkpoint()
			checkAll(t, c, model)

			st := c.Stats()
			if st.Evicted == 0 || st.Loaded == 0 {
				t.Fatalf("stats %+v: nothing evicted or read back", st)
			}
			// Between checkpoints at most 250 keys change; with one in
			// flight, twice that may wait in memory.
			limit := tc.budget + 2*250*entryBytes(7)
			if tc.failEvery == 0 && maxUsed > limit {
				t.Errorf("largest working set %d bytes, want <= %d", maxUsed, limit)
			}
			t.Logf("stats %+v, largest working set %d bytes (%d entries)", st, maxUsed, maxUsed/entryBytes(7))
			if tc.failEvery > 0 {
				return
			}
			if got := load(t, s, "q", "agg"); len(got) != len(durable) {
				t.Fatalf("committed state has %d keys, want %d", len(got), len(durable))
			}
			// A restart split over two tasks restores everything, each half
			// read back through its own budgeted cache.
			for task := 0; task < 2; task++ {
				keep := func(k []byte) bool { return int(k[len(k)-1])%2 == task }
				r := state.NewCacheWith[int64]("agg", int64Codec{}, state.Options{Budget: tc.budget})
				if err := r.Restore(s, "q", keep); err != nil {
					t.Fatal(err)
				}
				want := map[string]int64{}
				for k, v := range durable {
					if keep([]byte(k)) {
						want[k] = v
					}
				}
				checkAll(t, r, want)
			}
		})
	}
}

func clone(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestCacheSpillRuns runs a bounded (never checkpointed) cache of counters
// with a tiny budget: the entries that outgrow it go to sorted runs, a key
// seen again starts from zero, and Sorted merges runs and memory into each
// key's exact total, in key order, once each; more runs than maxRuns are
// merged on the way; Close deletes them.
func TestCacheSpillRuns(t *testing.T) {
	for _, tc := range []struct {
		name   string
		keys   int
		budget int64
		spills bool // whether the cache is expected to write runs
	}{
		{name: "4-entries", keys: 10_000, budget: 4 * entryBytes(7), spills: true},
		{name: "1000-entries", keys: 10_000, budget: 1000 * entryBytes(7), spills: true},
		{name: "fits", keys: 500, budget: 1000 * entryBytes(7)},
		{name: "budget-below-one-entry", keys: 300, budget: 1, spills: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "spill")
			area, err := state.OpenSpillArea(dir)
			if err != nil {
				t.Fatal(err)
			}
			var merges int
			cm := &counterMerge{n: &merges}
			c := state.NewCacheWith[*int64]("agg", ptrCodec{}, state.Options{Budget: tc.budget, Spill: area})
			c.SetMerge(cm.merge)
			model := map[string]int64{}
			rng := rand.New(rand.NewSource(2))
			maxUsed, maxRuns := int64(0), 0
			for i := 0; i < 3*tc.keys; i++ {
				k := i
				if i >= tc.keys {
					k = rng.Intn(tc.keys)
				}
				d := int64(1 + rng.Intn(5))
				e := c.Get(ckey(k))
				if e == nil {
					v := int64(0)
					e = c.Insert(ckey(k), &v)
				}
				*e.Val += d
				c.Touch(e)
				model[string(ckey(k))] += d
				maxUsed = max(maxUsed, c.Used())
				if runs, _ := filepath.Glob(filepath.Join(dir, "*", "run-*")); len(runs) > maxRuns {
					maxRuns = len(runs)
				}
			}
			checkSorted(t, c, model, func(v *int64) int64 { return *v })
			if maxUsed > max(tc.budget, entryBytes(7)) {
				t.Errorf("largest working set %d bytes, want <= %d", maxUsed, tc.budget)
			}
			if maxRuns > 32 {
				t.Errorf("%d run files at once; want at most 32", maxRuns)
			}
			st := c.Stats()
			t.Logf("stats %+v, largest working set %d bytes, at most %d run files, %d merges", st, maxUsed, maxRuns, merges)
			if spilled := st.Runs > 0; spilled != tc.spills || (tc.spills && (merges == 0 || maxRuns == 0)) {
				t.Fatalf("stats %+v, %d merges, %d run files; want spilling %v", st, merges, maxRuns, tc.spills)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("Close left %d entries in %s", len(entries), dir)
			}
		})
	}
}

// ptrCodec stores a counter behind a pointer, so that merging can add in
// place, as operators' groups do.
type ptrCodec struct{}

func (ptrCodec) Encode(dst []byte, v *int64) []byte { return int64Codec{}.Encode(dst, *v) }
func (ptrCodec) Decode(b []byte) (*int64, error) {
	v, err := int64Codec{}.Decode(b)
	return &v, err
}

type counterMerge struct{ n *int }

func (m *counterMerge) merge(dst, src *int64) error {
	*m.n++
	*dst += *src
	return nil
}

// TestSpillAreaClearsLeftovers: runs a crashed process left
// behind are removed when the next one opens the area.
func TestSpillAreaClearsLeftovers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spill")
	area, err := state.OpenSpillArea(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := state.NewCacheWith[*int64]("agg", ptrCodec{}, state.Options{Budget: 1, Spill: area})
	c.SetMerge((&counterMerge{n: new(int)}).merge)
	for i := 0; i < 100; i++ {
		v := int64(1)
		c.Insert(ckey(i), &v)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("%d run directories, want 1", len(entries))
	}
	// Keep a copy of the runs, as a crash would leave them, and close the
	// original.
	leftover := filepath.Join(dir, "999")
	if err := os.CopyFS(leftover, os.DirFS(filepath.Join(dir, entries[0].Name()))); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("after Close: %d entries, want only the copy", len(entries))
	}
	if _, err := state.OpenSpillArea(dir); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("OpenSpillArea left %d entries", len(entries))
	}
}

// TestCacheUnbudgetedUnchanged: without a budget nothing is evicted, Get
// misses do not touch Badger and sizes are not tracked.
func TestCacheUnbudgetedUnchanged(t *testing.T) {
	c := state.NewCache[int64]("agg", int64Codec{})
	model := map[string]int64{}
	for i := 0; i < 1000; i++ {
		bump(c, model, ckey(i), 1)
	}
	if c.Len() != 1000 || c.Used() != 0 || c.Stats() != (state.CacheStats{}) {
		t.Fatalf("Len %d Used %d Stats %+v", c.Len(), c.Used(), c.Stats())
	}
	checkAll(t, c, model)
}

// TestEntryOverhead measures what an entry costs beyond its key and value
// and compares it with EntryOverhead. Other tests' background goroutines
// (Badger's) allocate too, so it takes the closest of three measurements.
func TestEntryOverhead(t *testing.T) {
	const n = 200_000
	keys := make([][]byte, n)
	keyBytes := 0
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("user-%08d", i))
		keyBytes += len(keys[i])
	}
	best := math.Inf(1)
	for try := 0; try < 3; try++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := state.NewCacheWith[int64]("agg", int64Codec{}, state.Options{Budget: 1 << 40})
		for _, k := range keys {
			c.Insert(k, 1)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(c)
		// The int64 value is inside the Entry struct; the estimate counts
		// it as its 8 encoded bytes.
		per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)-int64(keyBytes))/n - 8
		t.Logf("measured %.0f bytes per entry beyond key and value; EntryOverhead is %d", per, state.EntryOverhead)
		if math.Abs(per-state.EntryOverhead) < math.Abs(best-state.EntryOverhead) {
			best = per
		}
	}
	if best < 0.5*state.EntryOverhead || best > 1.5*state.EntryOverhead {
		t.Errorf("measured overhead %.0f bytes is not within 50%% of EntryOverhead (%d)", best, state.EntryOverhead)
	}
}

// TestCacheWithoutCheckpointsFreesDeleted: a cache that is never flushed (a
// bounded query's window state) lets go of a deleted entry at once; one
// that checkpoints holds it until the Flush that writes the deletion.
// Without the option a bounded windowed query kept every window it ever
// closed until it ended.
func TestCacheWithoutCheckpointsFreesDeleted(t *testing.T) {
	for _, tc := range []struct {
		opts     state.Options
		wantFree bool
	}{
		{state.Options{NoCheckpoints: true}, true},
		{state.Options{}, false},
	} {
		c := state.NewCacheWith[int64]("agg", int64Codec{}, tc.opts)
		var refs []weak.Pointer[state.Entry[int64]]
		for i := range 100 {
			e := c.Insert(fmt.Appendf(nil, "k%d", i), int64(i))
			c.Touch(e)
			refs = append(refs, weak.Make(e))
			c.Delete(e)
		}
		runtime.GC()
		freed := 0
		for _, r := range refs {
			if r.Value() == nil {
				freed++
			}
		}
		if got := freed == len(refs); got != tc.wantFree {
			t.Errorf("NoCheckpoints=%v: %d of %d deleted entries freed before a Flush", tc.opts.NoCheckpoints, freed, len(refs))
		}
		if c.Len() != 0 {
			t.Errorf("NoCheckpoints=%v: Len %d after deleting everything", tc.opts.NoCheckpoints, c.Len())
		}
		runtime.KeepAlive(c)
	}
}
