package exec

import (
	"fmt"
	"testing"

	"github.com/streamsql/streamsql/catalog"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql"
	"github.com/streamsql/streamsql/sql/types"
)

// Benchmarks of folding batches into existing groups: the per-row cost of
// the aggregates. go test ./exec -run '^$' -bench Fold -benchmem

var benchStream = &catalog.Stream{
	Name: "ev", Topic: "ev", Format: "json", Timestamp: "ts",
	Columns: []catalog.Column{{Name: "k", Type: types.Varchar}, {Name: "x", Type: types.Bigint}, {Name: "d", Type: types.Double}, {Name: "ts", Type: types.Timestamp}},
}

type benchCatalog struct{}

func (benchCatalog) Stream(name string) (*catalog.Stream, bool) { return benchStream, name == "ev" }

func benchFold(b *testing.B, q string) {
	sel, err := sql.ParseSelect(q)
	if err != nil {
		b.Fatal(err)
	}
	p, err := planner.Build(sel, benchCatalog{}, planner.Bounded)
	if err != nil {
		b.Fatal(err)
	}
	h := NewHashAgg(find[*planner.HashAgg](p), "h", true, ErrorPolicy{Strict: true})
	const rows = 1024
	batch := types.NewBatch([]types.Type{types.Varchar, types.Bigint, types.Double, types.Timestamp, types.Timestamp}, rows)
	for i := range rows {
		ts := types.TimestampValue(int64(i))
		batch.AppendRow([]types.Value{types.StringValue(fmt.Sprintf("/page/%d", i%16)), types.IntValue(int64(i % 100)),
			types.FloatValue(float64(i) / 3), ts, ts})
	}
	if err := h.Process(batch, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := h.Process(batch, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}

func BenchmarkFoldSimple(b *testing.B) {
	benchFold(b, "SELECT k, count(*), count(x), sum(x), avg(d), min(x), max(d) FROM ev GROUP BY k")
}

func BenchmarkFoldFiltered(b *testing.B) {
	benchFold(b, "SELECT k, count(*), count(*) FILTER (WHERE x < 50), sum(x) FILTER (WHERE d > 10) FROM ev GROUP BY k")
}

func BenchmarkFoldDistinct(b *testing.B) {
	benchFold(b, "SELECT k, count(DISTINCT x) FROM ev GROUP BY k")
}

func BenchmarkFoldStatistics(b *testing.B) {
	benchFold(b, "SELECT k, stddev(d), var_pop(x) FROM ev GROUP BY k")
}

func BenchmarkFoldApproxCountDistinct(b *testing.B) {
	benchFold(b, "SELECT k, approx_count_distinct(x) FROM ev GROUP BY k")
}
