package exec

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql/types"
	"github.com/streamsql/streamsql/state"
)

// benchBatch is a 4096-row scan batch of clicks over 100 pages, one event
// every 10 ms.
func benchBatch() *types.Batch {
	b := types.NewBatch([]types.Type{types.Bigint, types.Varchar, types.Timestamp, types.Timestamp}, 4096)
	pages := make([]string, 100)
	for i := range pages {
		pages[i] = fmt.Sprintf("/p/%d", i)
	}
	for i := 0; i < 4096; i++ {
		ts := types.TimestampValue(1_795_428_000_000 + int64(i)*10)
		b.AppendRow([]types.Value{types.IntValue(int64(i % 9973)), types.StringValue(pages[i*7%100]), ts, ts})
	}
	return b
}

type discard struct{ n int }

func (d *discard) Collect(b *types.Batch) error { d.n += b.Len(); return nil }

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}

// BenchmarkFilterProject: WHERE + a computed projection over a batch.
func BenchmarkFilterProject(b *testing.B) {
	p := plan(b, "SELECT user_id * 2 + 1, UPPER(page) FROM clicks WHERE user_id % 2 = 0", planner.Continuous)
	f := NewFilter(find[*planner.Filter](p).Cond, ErrorPolicy{})
	proj := NewProject(find[*planner.Project](p).Exprs, ErrorPolicy{})
	src := benchBatch()
	work := types.NewBatch([]types.Type{types.Bigint, types.Varchar, types.Timestamp, types.Timestamp}, 4096)
	c := newChain([]Operator{f, proj}, &discard{})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		work.Reset()
		for i := 0; i < src.Len(); i++ {
			for j, col := range src.Cols {
				work.Cols[j].Append(col.Value(i))
			}
		}
		if err := c.process(work); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, src.Len())
}

// BenchmarkWindowAgg: the clickstream tumble count, folding batches and
// closing windows as the watermark advances.
func BenchmarkWindowAgg(b *testing.B) {
	p := plan(b, "SELECT page, COUNT(*) FROM clicks GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE)", planner.Continuous)
	var late atomic.Int64
	w := NewWindowAgg(find[*planner.WindowAgg](p), "w", ErrorPolicy{}, &late, WindowOptions{})
	src := benchBatch()
	out := &discard{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// Shift event time so windows keep closing.
		shift := int64(i) * 40_960
		for r := range src.Cols[2].Ints {
			src.Cols[2].Ints[r] += shift
		}
		if err := w.Process(src, out); err != nil {
			b.Fatal(err)
		}
		for r := range src.Cols[2].Ints {
			src.Cols[2].Ints[r] -= shift
		}
		if err := w.OnWatermark(1_795_428_000_000+shift, out); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, src.Len())
}

// BenchmarkHashAgg: non-windowed GROUP BY over 10k keys.
func BenchmarkHashAgg(b *testing.B) {
	p := plan(b, "SELECT user_id, COUNT(*), SUM(user_id), MAX(page) FROM clicks GROUP BY user_id", planner.Continuous)
	h := NewHashAgg(find[*planner.HashAgg](p), "h", true, ErrorPolicy{})
	src := benchBatch()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := h.Process(src, &discard{}); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, src.Len())
}

// BenchmarkCheckpoint: flushing 10k changed groups and applying the commit
// to Badger.
func BenchmarkCheckpoint(b *testing.B) {
	st, err := state.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	p := plan(b, "SELECT user_id, COUNT(*) FROM clicks GROUP BY user_id", planner.Continuous)
	h := NewHashAgg(find[*planner.HashAgg](p), "h", false, ErrorPolicy{})
	src := benchBatch()
	for i := 0; i < 3; i++ {
		_ = h.Process(src, &discard{})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		_ = h.Process(src, &discard{})
		cm := state.NewCommit("q", int64(i+1))
		if err := h.OnBarrier(cm, &discard{}); err != nil {
			b.Fatal(err)
		}
		if _, err := st.Apply(cm); err != nil {
			b.Fatal(err)
		}
	}
}
