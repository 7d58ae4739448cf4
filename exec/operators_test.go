package exec

import (
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/streamsql/streamsql/catalog"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql"
	"github.com/streamsql/streamsql/sql/types"
	"github.com/streamsql/streamsql/state"
)

// fakeCatalog holds the clicks stream the tests plan against.
type fakeCatalog struct{}

var clicks = &catalog.Stream{
	Name: "clicks", Topic: "clicks", Format: "json", Timestamp: "ts",
	Columns: []catalog.Column{{Name: "user_id", Type: types.Bigint}, {Name: "page", Type: types.Varchar}, {Name: "ts", Type: types.Timestamp}},
}

func (fakeCatalog) Stream(name string) (*catalog.Stream, bool) {
	if name == "clicks" {
		return clicks, true
	}
	return nil, false
}

func plan(t testing.TB, q string, mode planner.Mode) *planner.Plan {
	t.Helper()
	sel, err := sql.ParseSelect(q)
	if err != nil {
		t.Fatal(err)
	}
	p, err := planner.Build(sel, fakeCatalog{}, mode)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// find returns the first node of type T in the plan.
func find[T planner.Node](p *planner.Plan) T {
	for n := p.Root; n != nil; {
		if x, ok := n.(T); ok {
			return x
		}
		if len(n.Children()) == 0 {
			break
		}
		n = n.Children()[0]
	}
	var zero T
	return zero
}

const minute = 60_000

// clickBatch builds a scan batch (user_id, page, ts, rowtime).
func clickBatch(rows ...[3]any) *types.Batch {
	b := types.NewBatch([]types.Type{types.Bigint, types.Varchar, types.Timestamp, types.Timestamp}, len(rows))
	for _, r := range rows {
		ts := types.TimestampValue(int64(r[2].(int)))
		b.AppendRow([]types.Value{types.IntValue(int64(r[0].(int))), types.StringValue(r[1].(string)), ts, ts})
	}
	return b
}

// sink collects emitted rows as text.
type sink struct{ rows []string }

func (s *sink) Collect(b *types.Batch) error {
	for i := 0; i < b.Len(); i++ {
		var parts []string
		for _, v := range b.Row(i) {
			if v.Null {
				parts = append(parts, "NULL")
			} else {
				parts = append(parts, v.String())
			}
		}
		s.rows = append(s.rows, strings.Join(parts, " "))
	}
	return nil
}

func (s *sink) take() string {
	out := strings.Join(s.rows, "\n")
	s.rows = nil
	return out
}

func TestWindowAggEmitsOnWatermarkAndDropsLate(t *testing.T) {
	p := plan(t, "SELECT page, COUNT(*), SUM(user_id), MIN(user_id), MAX(user_id), AVG(user_id) FROM clicks GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE)", planner.Continuous)
	var late atomic.Int64
	w := NewWindowAgg(find[*planner.WindowAgg](p), "w", ErrorPolicy{}, &late, WindowOptions{})
	out := &sink{}
	steps := []struct {
		name  string
		batch *types.Batch
		wm    int64
		want  string
		late  int64
	}{
		{name: "rows in two windows, nothing closed", batch: clickBatch([3]any{1, "/a", 10}, [3]any{2, "/b", 20}, [3]any{3, "/a", minute + 5}), wm: minute - 1},
		{name: "watermark reaches the first window's end", wm: minute,
			want: "/a 1970-01-01 00:00:00 1970-01-01 00:01:00 1 1 1 1 1\n/b 1970-01-01 00:00:00 1970-01-01 00:01:00 1 2 2 2 2"},
		{name: "an event for the emitted window is late", batch: clickBatch([3]any{9, "/a", 30}), wm: minute, late: 1},
		{name: "the open window keeps folding", batch: clickBatch([3]any{5, "/a", minute + 6}), wm: 2*minute - 1},
		{name: "end of input closes everything", wm: math.MaxInt64,
			want: "/a 1970-01-01 00:01:00 1970-01-01 00:02:00 2 8 3 5 4"},
	}
	for _, s := range steps {
		if s.batch != nil {
			if err := w.Process(s.batch, out); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.OnWatermark(s.wm, out); err != nil {
			t.Fatal(err)
		}
		if got := out.take(); got != s.want {
			t.Errorf("%s: emitted\n%s\nwant\n%s", s.name, got, s.want)
		}
		if late.Load() != s.late {
			t.Errorf("%s: late = %d, want %d", s.name, late.Load(), s.late)
		}
		late.Store(0)
	}
}

func TestWindowStartBeforeEpoch(t *testing.T) {
	for _, c := range []struct{ t, size, want int64 }{
		{0, 60, 0}, {59, 60, 0}, {60, 60, 60}, {-1, 60, -60}, {-60, 60, -60}, {-61, 60, -120},
	} {
		if got := windowStart(c.t, c.size); got != c.want {
			t.Errorf("windowStart(%d, %d) = %d, want %d", c.t, c.size, got, c.want)
		}
	}
}

// TestWindowAggCheckpointRestore checks that open windows survive a
// checkpoint and restore (split over two tasks by key hash), and emitted
// windows do not come back.
func TestWindowAggCheckpointRestore(t *testing.T) {
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	p := plan(t, "SELECT page, COUNT(*) FROM clicks GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE)", planner.Continuous)
	node := find[*planner.WindowAgg](p)
	var late atomic.Int64
	w := NewWindowAgg(node, "w", ErrorPolicy{}, &late, WindowOptions{})
	out := &sink{}
	must(t, w.Process(clickBatch([3]any{1, "/a", 10}, [3]any{2, "/b", minute + 1}, [3]any{3, "/c", minute + 2}, [3]any{4, "/c", minute + 3}), out))
	must(t, w.OnWatermark(minute, out))
	if got := out.take(); got != "/a 1970-01-01 00:00:00 1970-01-01 00:01:00 1" {
		t.Fatalf("emitted %q", got)
	}
	cm := state.NewCommit("q", 1)
	must(t, w.OnBarrier(cm, out))
	if _, err := store.Apply(cm); err != nil {
		t.Fatal(err)
	}
	var all []string
	for task := 0; task < 2; task++ {
		r := NewWindowAgg(node, "w", ErrorPolicy{}, &late, WindowOptions{})
		keep := func(k []byte) bool { return hashKey(k)%2 == uint64(task) }
		must(t, r.Restore(store, "q", minute, keep))
		if r.Watermark() != minute {
			t.Errorf("restored watermark %d", r.Watermark())
		}
		must(t, r.OnWatermark(math.MaxInt64, out))
		all = append(all, out.rows...)
		out.rows = nil
	}
	got := strings.Join(sortedCopy(all), "\n")
	want := "/b 1970-01-01 00:01:00 1970-01-01 00:02:00 1\n/c 1970-01-01 00:01:00 1970-01-01 00:02:00 2"
	if got != want {
		t.Errorf("after restore emitted\n%s\nwant\n%s", got, want)
	}
}

func TestHashAggBoundedAndUpsert(t *testing.T) {
	p := plan(t, "SELECT page, COUNT(*), COUNT(user_id) FROM clicks GROUP BY page", planner.Bounded)
	h := NewHashAgg(find[*planner.HashAgg](p), "h", true, ErrorPolicy{})
	out := &sink{}
	b := clickBatch([3]any{1, "/b", 1}, [3]any{2, "/a", 2}, [3]any{3, "/b", 3})
	b.Cols[0].Nulls[2] = true // COUNT(user_id) skips NULLs
	must(t, h.Process(b, out))
	must(t, h.OnEnd(out))
	if got, want := out.take(), "/a 1 1\n/b 2 1"; got != want {
		t.Errorf("bounded: got\n%s\nwant\n%s", got, want)
	}

	// Continuous: changed groups are emitted (as updates) at each barrier.
	h = NewHashAgg(find[*planner.HashAgg](p), "h", false, ErrorPolicy{})
	must(t, h.Process(clickBatch([3]any{1, "/b", 1}, [3]any{2, "/a", 2}), out))
	must(t, h.OnBarrier(state.NewCommit("q", 1), out))
	if got, want := out.take(), "/a 1 1\n/b 1 1"; got != want {
		t.Errorf("first barrier: got\n%s\nwant\n%s", got, want)
	}
	must(t, h.Process(clickBatch([3]any{3, "/b", 3}), out))
	must(t, h.OnBarrier(state.NewCommit("q", 2), out))
	if got, want := out.take(), "/b 2 2"; got != want {
		t.Errorf("second barrier: got\n%s\nwant\n%s", got, want)
	}
	must(t, h.OnBarrier(state.NewCommit("q", 3), out))
	if got := out.take(); got != "" {
		t.Errorf("unchanged groups re-emitted: %s", got)
	}
}

func TestGlobalAggregateOverEmptyInput(t *testing.T) {
	p := plan(t, "SELECT COUNT(*), SUM(user_id) FROM clicks", planner.Bounded)
	h := NewHashAgg(find[*planner.HashAgg](p), "h", true, ErrorPolicy{})
	out := &sink{}
	must(t, h.OnEnd(out))
	if got, want := out.take(), "0 NULL"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFilterProjectNullsAndErrors(t *testing.T) {
	p := plan(t, "SELECT user_id * 2 AS d, 10 / (user_id - 2) AS q FROM clicks WHERE page <> '/x'", planner.Continuous)
	var errs atomic.Int64
	pol := ErrorPolicy{Errors: &errs}
	f := NewFilter(find[*planner.Filter](p).Cond, pol)
	proj := NewProject(find[*planner.Project](p).Exprs, pol)
	out := &sink{}
	c := newChain([]Operator{f, proj}, out)
	b := clickBatch([3]any{1, "/a", 0}, [3]any{2, "/b", 0}, [3]any{3, "/x", 0}, [3]any{4, "/c", 0})
	b.Cols[1].Nulls[3] = true // NULL page: the condition is NULL, the row is dropped
	must(t, c.process(b))
	if got, want := out.take(), "2 -10\n4 NULL"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if errs.Load() != 1 {
		t.Errorf("expression errors = %d, want 1 (division by zero)", errs.Load())
	}

	// A bounded query is strict: the same error fails it.
	strict := NewProject(find[*planner.Project](p).Exprs, ErrorPolicy{Strict: true})
	if err := strict.Process(clickBatch([3]any{2, "/b", 0}), out); err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Errorf("strict policy: err = %v", err)
	}
}

func TestResultStageSortLimit(t *testing.T) {
	p := plan(t, "SELECT user_id, page FROM clicks ORDER BY page DESC, user_id LIMIT 3 OFFSET 1", planner.Bounded)
	out := &sink{}
	r := newResultStage(p, out.Collect)
	b := types.NewBatch([]types.Type{types.Bigint, types.Varchar}, 0)
	for _, row := range []struct {
		id   int64
		page string
		null bool
	}{{1, "/a", false}, {2, "/c", false}, {3, "/b", false}, {4, "", true}, {5, "/c", false}} {
		v := types.StringValue(row.page)
		if row.null {
			v = types.NullOf(types.Varchar)
		}
		b.AppendRow([]types.Value{types.IntValue(row.id), v})
	}
	must(t, r.collect(b))
	must(t, r.finish())
	// DESC puts NULL first (PostgreSQL); OFFSET 1 skips it.
	if got, want := out.take(), "2 /c\n5 /c\n3 /b"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestKeyEncodingRoundTrip(t *testing.T) {
	vals := []types.Value{types.IntValue(-5), types.FloatValue(2.5), types.StringValue("héllo"), types.BoolValue(true),
		types.TimestampValue(1795428075000), types.NullOf(types.Varchar)}
	var buf []byte
	for _, v := range vals {
		buf = appendValue(buf, v)
	}
	rest := buf
	for _, want := range vals {
		got, r, err := readValue(rest, want.Type)
		if err != nil {
			t.Fatal(err)
		}
		rest = r
		if got.Null != want.Null || (!got.Null && types.Compare(got, want) != 0) {
			t.Errorf("round trip %v -> %v", want, got)
		}
	}
	if len(rest) != 0 {
		t.Errorf("%d bytes left", len(rest))
	}
	if _, _, err := readValue([]byte{byte(types.Varchar), 50}, types.Varchar); err == nil {
		t.Error("truncated value decoded without error")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestWindowAggAllowedLatenessAndEarlyEmission(t *testing.T) {
	p := plan(t, "SELECT page, COUNT(*) FROM clicks GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE)", planner.Continuous)
	var late atomic.Int64
	w := NewWindowAgg(find[*planner.WindowAgg](p), "w", ErrorPolicy{}, &late, WindowOptions{AllowedLateness: 30_000, EmitEarly: true})
	out := &sink{}
	barrier := func() string {
		must(t, w.OnBarrier(state.NewCommit("q", 1), out))
		return out.take()
	}
	must(t, w.Process(clickBatch([3]any{1, "/a", 10}, [3]any{2, "/a", 20}), out))
	if got, want := barrier(), "/a 1970-01-01 00:00:00 1970-01-01 00:01:00 2"; got != want {
		t.Errorf("early emission: got %q, want %q", got, want)
	}
	if got := barrier(); got != "" {
		t.Errorf("unchanged window emitted again: %q", got)
	}
	must(t, w.OnWatermark(minute, out))
	if got, want := out.take(), "/a 1970-01-01 00:00:00 1970-01-01 00:01:00 2"; got != want {
		t.Errorf("final row: got %q, want %q", got, want)
	}
	// Within allowed lateness: the window is updated and emitted again.
	must(t, w.Process(clickBatch([3]any{3, "/a", 30}), out))
	must(t, w.OnWatermark(minute+10_000, out))
	if got, want := out.take(), "/a 1970-01-01 00:00:00 1970-01-01 00:01:00 3"; got != want {
		t.Errorf("late update: got %q, want %q", got, want)
	}
	// Past end + lateness: dropped and counted.
	must(t, w.OnWatermark(minute+30_000, out))
	must(t, w.Process(clickBatch([3]any{4, "/a", 40}), out))
	must(t, w.OnWatermark(minute+40_000, out))
	if got := out.take(); got != "" || late.Load() != 1 {
		t.Errorf("after lateness: emitted %q, late = %d", got, late.Load())
	}
}

// TestScanColumnsRead: the source decodes only the columns the plan uses
// (clicks is user_id, page, ts; ts is the event time, always read).
func TestScanColumnsRead(t *testing.T) {
	for _, tt := range []struct {
		q    string
		want []bool
	}{
		{"SELECT user_id FROM clicks", []bool{true, false, true}},
		{"SELECT * FROM clicks", []bool{true, true, true}},
		{"SELECT user_id FROM (SELECT user_id, page FROM clicks) AS v", []bool{true, false, true}},
		{"SELECT u FROM (SELECT user_id AS u, page FROM clicks WHERE page = 'x') AS v", []bool{true, true, true}},
		{"SELECT page FROM clicks WHERE user_id > 1", []bool{true, true, true}},
		{"SELECT count(*) FROM clicks GROUP BY page", []bool{false, true, true}},
		{"SELECT n FROM (SELECT page, count(*) AS n FROM clicks GROUP BY page) AS g", []bool{false, true, true}},
		{"SELECT count(*) FILTER (WHERE user_id > 3) FROM clicks", []bool{true, false, true}},
		{"SELECT page, count(*) FROM clicks GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE)", []bool{false, true, true}},
		{"SELECT window_start FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE))", []bool{false, false, true}},
	} {
		for _, mode := range []planner.Mode{planner.Bounded, planner.Continuous} {
			got := scanColumnsRead(plan(t, tt.q, mode))[:3] // then the scan's rowtime
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s (mode %v): read %v; want %v", tt.q, mode, got, tt.want)
			}
		}
	}
}

// TestFilterCompactsWhatTheProjectionReads: built as a query builds them, a
// filter under a projection compacts only the columns the projection
// reads, and the projection still sees the kept rows' values.
func TestFilterCompactsWhatTheProjectionReads(t *testing.T) {
	p := plan(t, "SELECT page, user_id + 1 AS u FROM clicks WHERE user_id <> 2 AND user_id <> 4", planner.Bounded)
	var nodes []planner.Node
	for n := p.Root; n != nil; {
		nodes = append([]planner.Node{n}, nodes...)
		if len(n.Children()) == 0 {
			break
		}
		n = n.Children()[0]
	}
	g := &graph{cfg: &Config{Plan: p}, bounded: true}
	ops, err := g.operators(nodes, ErrorPolicy{}, false)
	must(t, err)
	var f *Filter
	for _, op := range ops {
		if x, ok := op.(*Filter); ok {
			f = x
		}
	}
	if f == nil || !slices.Equal(f.live, []bool{true, true}) {
		t.Fatalf("filter live columns %v; want user_id and page only (not ts)", f.live)
	}
	out := &sink{}
	c := newChain(ops, out)
	must(t, c.process(clickBatch([3]any{1, "/a", 0}, [3]any{2, "/b", 0}, [3]any{3, "/c", 0}, [3]any{4, "/d", 0}, [3]any{5, "/e", 0})))
	if got, want := out.take(), "/a 2\n/c 4\n/e 6"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
