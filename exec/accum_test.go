package exec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/catalog"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql"
	"github.com/streamsql/streamsql/sql/types"
	"github.com/streamsql/streamsql/state"
)

// Tests of the accumulators: every aggregate with NULLs, empty groups and
// FILTER, checkpoint encoding, and the allocation-free fast path.

// metrics is a stream with a column of every type the aggregates take.
var metrics = &catalog.Stream{
	Name: "metrics", Topic: "metrics", Format: "json", Timestamp: "ts",
	Columns: []catalog.Column{
		{Name: "k", Type: types.Varchar}, {Name: "x", Type: types.Bigint}, {Name: "d", Type: types.Double},
		{Name: "s", Type: types.Varchar}, {Name: "b", Type: types.Boolean}, {Name: "ts", Type: types.Timestamp},
	},
}

type metricsCatalog struct{}

func (metricsCatalog) Stream(name string) (*catalog.Stream, bool) {
	if name == "metrics" {
		return metrics, true
	}
	return nil, false
}

func planMetrics(t *testing.T, q string, mode planner.Mode) *planner.Plan {
	t.Helper()
	sel, err := sql.ParseSelect(q)
	if err != nil {
		t.Fatal(err)
	}
	p, err := planner.Build(sel, metricsCatalog{}, mode)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return p
}

// mrow is one metrics row; nil fields are NULL.
type mrow struct {
	k any
	x any
	d any
	s any
	b any
}

func metricsBatch(rows ...mrow) *types.Batch {
	b := types.NewBatch([]types.Type{types.Varchar, types.Bigint, types.Double, types.Varchar, types.Boolean, types.Timestamp, types.Timestamp}, len(rows))
	for i, r := range rows {
		val := func(v any, t types.Type) types.Value {
			switch v := v.(type) {
			case nil:
				return types.NullOf(t)
			case string:
				return types.StringValue(v)
			case int:
				return types.IntValue(int64(v))
			case float64:
				return types.FloatValue(v)
			case bool:
				return types.BoolValue(v)
			}
			panic(fmt.Sprintf("bad value %v", v))
		}
		ts := types.TimestampValue(int64(i))
		b.AppendRow([]types.Value{val(r.k, types.Varchar), val(r.x, types.Bigint), val(r.d, types.Double),
			val(r.s, types.Varchar), val(r.b, types.Boolean), ts, ts})
	}
	return b
}

// roundSink renders rows like sink, with doubles rounded to 6 significant
// digits so that expected values can be written by hand.
type roundSink struct{ rows []string }

func (s *roundSink) Collect(b *types.Batch) error {
	for i := 0; i < b.Len(); i++ {
		var parts []string
		for _, v := range b.Row(i) {
			switch {
			case v.Null:
				parts = append(parts, "NULL")
			case v.Type == types.Double:
				parts = append(parts, strconv.FormatFloat(v.F, 'g', 6, 64))
			default:
				parts = append(parts, v.String())
			}
		}
		s.rows = append(s.rows, strings.Join(parts, " "))
	}
	return nil
}

func (s *roundSink) take() string {
	out := strings.Join(s.rows, "\n")
	s.rows = nil
	return out
}

// metricRows: group a has duplicates and NULLs in every column, b only
// NULLs, c large values with a small spread (where a naive sum of squares
// loses every digit of the variance), d a single value.
var metricRows = []mrow{
	{"a", 1, 1.5, "p", true},
	{"a", 2, nil, "q", false},
	{"a", 2, 2.5, nil, nil},
	{"a", nil, 4.0, "p", true},
	{"b", nil, nil, nil, nil},
	{"c", 1, 1e9 + 4, "x", true},
	{"c", 1, 1e9 + 7, "x", true},
	{"c", 1, 1e9 + 13, "x", true},
	{"c", 1, 1e9 + 16, "x", true},
	{"d", 7, 3.0, "only", false},
}

func TestExtendedAggregates(t *testing.T) {
	for _, tc := range []struct {
		name, sel string
		want      string // one line per group a, b, c, d: the aggregates
	}{
		{"count distinct", "count(DISTINCT x), count(x), count(*), count(DISTINCT s)",
			"2 3 4 2\n0 0 1 0\n1 4 4 1\n1 1 1 1"},
		{"sum and avg distinct", "sum(DISTINCT x), avg(DISTINCT x), sum(x), min(DISTINCT x), max(DISTINCT s)",
			"3 1.5 5 1 q\nNULL NULL NULL NULL NULL\n1 1 4 1 x\n7 7 7 7 only"},
		{"distinct double", "count(DISTINCT d), sum(DISTINCT d)",
			"3 8\n0 NULL\n4 4e+09\n1 3"},
		// stddev_samp and var_samp are the same aggregates as stddev and
		// variance, computed once.
		{"stddev and variance", "stddev(d), stddev_samp(d), stddev_pop(d), variance(d), var_samp(d), var_pop(d)",
			"1.25831 1.0274 1.58333 1.05556\nNULL NULL NULL NULL\n5.47723 4.74342 30 22.5\nNULL 0 NULL 0"},
		{"stddev of bigint and distinct", "stddev(x), var_pop(DISTINCT x), stddev(DISTINCT d)",
			"0.57735 0.25 1.25831\nNULL NULL NULL\n0 0 5.47723\nNULL 0 NULL"},
		{"approx count distinct", "approx_count_distinct(s), approx_count_distinct(x), approx_count_distinct(d)",
			"2 2 3\n0 0 0\n1 1 4\n1 1 1"},
		{"listagg and string_agg", "listagg(s), string_agg(s, '; '), listagg(s, ''), group_concat(DISTINCT s SEPARATOR '|')",
			"p,q,p p; q; p pqp p|q\nNULL NULL NULL NULL\nx,x,x,x x; x; x; x xxxx x\nonly only only only"},
		{"filter", "count(*) FILTER (WHERE b), count(DISTINCT s) FILTER (WHERE x > 1), sum(x) FILTER (WHERE b IS NULL), " +
			"stddev(d) FILTER (WHERE x IS NOT NULL), listagg(s) FILTER (WHERE b), approx_count_distinct(s) FILTER (WHERE NOT b), count(*) FILTER (WHERE NULL)",
			"2 1 2 0.707107 p,p 1 0\n0 0 NULL NULL NULL 0 0\n4 0 NULL 5.47723 x,x,x,x 0 0\n0 1 NULL NULL NULL 1 0"},
		{"filter with the same aggregate unfiltered", "count(*), count(*) FILTER (WHERE b), min(x) FILTER (WHERE NOT b), min(x)",
			"4 2 2 1\n1 0 NULL NULL\n4 4 NULL 1\n1 0 7 7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := planMetrics(t, "SELECT k, "+tc.sel+" FROM metrics GROUP BY k", planner.Bounded)
			h := NewHashAgg(find[*planner.HashAgg](p), "h", true, ErrorPolicy{Strict: true})
			out := &roundSink{}
			// Two batches, so that state carries over between them.
			must(t, h.Process(metricsBatch(metricRows[:3]...), out))
			must(t, h.Process(metricsBatch(metricRows[3:]...), out))
			must(t, h.OnEnd(out))
			var got []string
			for _, r := range out.rows {
				got = append(got, r[strings.IndexByte(r, ' ')+1:]) // drop the key
			}
			if g := strings.Join(got, "\n"); g != tc.want {
				t.Errorf("got\n%s\nwant\n%s", g, tc.want)
			}
		})
	}
}

// TestExtendedAggregatesOverEmptyInput: a global aggregate of no rows still
// yields its row, with each aggregate's value for an empty group.
func TestExtendedAggregatesOverEmptyInput(t *testing.T) {
	p := planMetrics(t, "SELECT count(DISTINCT x), sum(DISTINCT x), stddev(d), var_pop(d), approx_count_distinct(s), listagg(s), "+
		"string_agg(s, '-'), count(*) FILTER (WHERE b) FROM metrics", planner.Bounded)
	h := NewHashAgg(find[*planner.HashAgg](p), "h", true, ErrorPolicy{Strict: true})
	out := &roundSink{}
	must(t, h.OnEnd(out))
	if got, want := out.take(), "0 NULL NULL NULL 0 NULL NULL 0"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestApproxCountDistinctAccuracy checks the HyperLogLog estimate at a
// cardinality where it is no longer exact, and that a checkpoint keeps it.
func TestApproxCountDistinctAccuracy(t *testing.T) {
	p := planMetrics(t, "SELECT approx_count_distinct(x), approx_count_distinct(s), count(DISTINCT x) FROM metrics", planner.Bounded)
	node := find[*planner.HashAgg](p)
	core := newAggCore(node.Keys, node.Aggs, false, ErrorPolicy{Strict: true})
	g := &group{accs: make([]acc, len(node.Aggs))}
	const n = 50_000
	for start := 0; start < 2*n; start += 1000 {
		rows := make([]mrow, 1000)
		for i := range rows {
			v := (start + i) % n // every value twice
			rows[i] = mrow{k: "k", x: v, s: fmt.Sprintf("user-%d", v)}
		}
		b := metricsBatch(rows...)
		must(t, core.evalInputs(b))
		for r := 0; r < b.Len(); r++ {
			core.fold(g, r)
		}
	}
	codec := groupCodec{aggs: node.Aggs}
	restored, err := codec.Decode(codec.Encode(nil, g))
	must(t, err)
	for _, gg := range []*group{g, restored} {
		core.out.Reset()
		core.appendResult(gg, nil)
		row := core.out.Row(0)
		for i, v := range row[:2] {
			if rel := math.Abs(float64(v.I)-n) / n; rel > 0.02 {
				t.Errorf("approx_count_distinct #%d = %d, more than 2%% off %d", i, v.I, n)
			}
		}
		if row[2].I != n {
			t.Errorf("count(DISTINCT x) = %d, want %d", row[2].I, n)
		}
	}
	if a, b := g.accs[0].ext.hll.Estimate(), restored.accs[0].ext.hll.Estimate(); a != b {
		t.Errorf("estimate changed through the codec: %d -> %d", a, b)
	}
}

// allAggregates computes every aggregate, some DISTINCT and some filtered.
const allAggregates = "SELECT k, count(*), count(x), sum(x), avg(d), min(s), max(d), count(DISTINCT s), sum(DISTINCT x), " +
	"stddev(d), stddev_pop(d), variance(x), var_pop(d), approx_count_distinct(s), listagg(s), string_agg(s, ' / '), " +
	"group_concat(DISTINCT s SEPARATOR ''), count(*) FILTER (WHERE b), count(DISTINCT x) FILTER (WHERE d > 2), " +
	"stddev(d) FILTER (WHERE b IS NOT NULL) FROM metrics GROUP BY k"

// TestGroupCodecRoundTrip encodes groups holding every kind of state,
// decodes them, and checks that the decoded groups give the same results
// and keep folding correctly (a DISTINCT set must still reject values it
// saw before the checkpoint).
func TestGroupCodecRoundTrip(t *testing.T) {
	p := planMetrics(t, allAggregates, planner.Bounded)
	node := find[*planner.HashAgg](p)
	core := newAggCore(node.Keys, node.Aggs, false, ErrorPolicy{Strict: true})
	codec := groupCodec{keyTypes: core.keyTypes, aggs: node.Aggs}

	fold := func(groups map[string]*group, rows []mrow) {
		b := metricsBatch(rows...)
		must(t, core.evalInputs(b))
		for r := 0; r < b.Len(); r++ {
			k := string(core.rowKey(nil, r))
			if groups[k] == nil {
				groups[k] = core.newGroup(r, 0)
			}
			core.fold(groups[k], r)
		}
	}
	results := func(groups map[string]*group) string {
		core.out.Reset()
		for _, k := range sortedKeys(groups) {
			core.appendResult(groups[k], nil)
		}
		s := &roundSink{}
		must(t, s.Collect(core.out))
		return s.take()
	}

	direct := map[string]*group{}
	fold(direct, metricRows)
	fold(direct, metricRows) // the same rows again: DISTINCT ignores them

	half := map[string]*group{}
	fold(half, metricRows)
	restored := map[string]*group{}
	for k, g := range half {
		enc := codec.Encode(nil, g)
		dec, err := codec.Decode(enc)
		if err != nil {
			t.Fatalf("decode %q: %v", k, err)
		}
		// A decoded group encodes to the same length (set order may differ).
		if again := codec.Encode(nil, dec); len(again) != len(enc) {
			t.Errorf("group %q re-encodes to %d bytes, was %d", k, len(again), len(enc))
		}
		// Every truncation of the encoding is an error, never a panic.
		for cut := range len(enc) {
			if _, err := codec.Decode(enc[:cut]); err == nil {
				t.Fatalf("group %q: encoding cut at %d/%d decoded without error", k, cut, len(enc))
			}
		}
		restored[k] = dec
	}
	if got, want := results(restored), results(half); got != want {
		t.Errorf("after round trip\n%s\nwant\n%s", got, want)
	}
	fold(restored, metricRows)
	if got, want := results(restored), results(direct); got != want {
		t.Errorf("folding after round trip\n%s\nwant\n%s", got, want)
	}
}

// TestExtendedStateSurvivesCheckpoint runs the same rows through a HashAgg
// once straight, and once with a checkpoint to Badger (state.Cache Flush),
// a restore into a new operator split over two tasks, and the rest of the
// rows: the results must be the same.
func TestExtendedStateSurvivesCheckpoint(t *testing.T) {
	store, err := state.Open(t.TempDir())
	must(t, err)
	defer store.Close()
	p := planMetrics(t, allAggregates, planner.Continuous)
	node := find[*planner.HashAgg](p)
	first, second := metricsBatch(metricRows[:6]...), metricsBatch(append(append([]mrow(nil), metricRows[6:]...), metricRows...)...)

	straight := NewHashAgg(node, "h", true, ErrorPolicy{Strict: true})
	want := &roundSink{}
	must(t, straight.Process(first, want))
	must(t, straight.Process(second, want))
	must(t, straight.OnEnd(want))

	before := NewHashAgg(node, "h", false, ErrorPolicy{Strict: true})
	must(t, before.Process(first, &roundSink{}))
	cm := state.NewCommit("q", 1)
	must(t, before.OnBarrier(cm, &roundSink{}))
	_, err = store.Apply(cm)
	must(t, err)

	var got []string
	for task := range 2 {
		keep := func(k []byte) bool { return hashKey(k)%2 == uint64(task) }
		after := NewHashAgg(node, "h", true, ErrorPolicy{Strict: true})
		must(t, after.Restore(store, "q", keep))
		must(t, after.core.evalInputs(second))
		sel := make([]bool, second.Len())
		for r := range sel {
			sel[r] = keep(after.core.rowKey(nil, r))
		}
		part := cloneBatch(second)
		part.Keep(sel)
		out := &roundSink{}
		if part.Len() > 0 {
			must(t, after.Process(part, out))
		}
		must(t, after.OnEnd(out))
		got = append(got, out.rows...)
	}
	if g, w := strings.Join(sortedCopy(got), "\n"), strings.Join(sortedCopy(want.rows), "\n"); g != w {
		t.Errorf("with checkpoint and restore\n%s\nwant\n%s", g, w)
	}
}

func cloneBatch(b *types.Batch) *types.Batch {
	schema := make([]types.Type, len(b.Cols))
	for i, c := range b.Cols {
		schema[i] = c.Type
	}
	out := types.NewBatch(schema, b.Len())
	for r := 0; r < b.Len(); r++ {
		out.AppendRow(b.Row(r))
	}
	return out
}

// TestMergeGroups checks that merging two groups (as session windows do)
// gives what one group folding both groups' rows gives, DISTINCT included.
func TestMergeGroups(t *testing.T) {
	// LISTAGG(DISTINCT ...) is left out: a merge appends the other group's
	// new values in sorted order, as the set does not keep arrival order.
	p := planMetrics(t, strings.Replace(allAggregates, "group_concat(DISTINCT s SEPARATOR '')", "count(DISTINCT d)", 1), planner.Bounded)
	node := find[*planner.HashAgg](p)
	core := newAggCore(node.Keys, node.Aggs, false, ErrorPolicy{Strict: true})
	foldAll := func(g *group, rows []mrow) {
		b := metricsBatch(rows...)
		must(t, core.evalInputs(b))
		for r := 0; r < b.Len(); r++ {
			core.fold(g, r)
		}
	}
	result := func(g *group) string {
		core.out.Reset()
		core.appendResult(g, nil)
		s := &roundSink{}
		must(t, s.Collect(core.out))
		return s.take()
	}
	// All rows in one group (the key is ignored here).
	for split := 0; split <= len(metricRows); split += 3 {
		whole := &group{keys: []types.Value{types.StringValue("k")}, accs: make([]acc, len(node.Aggs))}
		foldAll(whole, metricRows)
		a := &group{keys: []types.Value{types.StringValue("k")}, accs: make([]acc, len(node.Aggs))}
		b := &group{keys: []types.Value{types.StringValue("k")}, accs: make([]acc, len(node.Aggs))}
		foldAll(a, metricRows[:split])
		foldAll(b, metricRows[split:])
		must(t, core.mergeGroups(a, b))
		if got, want := result(a), result(whole); got != want {
			t.Errorf("split at %d: merged\n%s\nwant\n%s", split, got, want)
		}
	}
}

// TestFoldDoesNotAllocate pins the hot path: the simple aggregates, with
// and without FILTER, and DISTINCT over values already seen, fold a batch
// into existing groups without allocating.
func TestFoldDoesNotAllocate(t *testing.T) {
	for _, q := range []string{
		"SELECT k, count(*), count(x), sum(x), sum(d), avg(d), min(s), max(x) FROM metrics GROUP BY k",
		"SELECT k, count(*) FILTER (WHERE b), sum(x) FILTER (WHERE x > 1), max(s) FILTER (WHERE b IS NULL) FROM metrics GROUP BY k",
		"SELECT k, count(DISTINCT s), sum(DISTINCT x), stddev(d), var_pop(x) FROM metrics GROUP BY k",
	} {
		p := planMetrics(t, q, planner.Bounded)
		h := NewHashAgg(find[*planner.HashAgg](p), "h", true, ErrorPolicy{Strict: true})
		b := metricsBatch(metricRows...)
		out := &roundSink{}
		must(t, h.Process(b, out)) // create the groups and their state
		if n := testing.AllocsPerRun(50, func() { must(t, h.Process(b, out)) }); n != 0 {
			t.Errorf("%s: %v allocations per batch, want 0", q, n)
		}
	}
}

func sortedKeys(m map[string]*group) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return sortedCopy(ks)
}
