package exec

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/planner/scalar"
	"github.com/streamsql/streamsql/sql/types"
)

// TestVectorMatchesRowByRow: the column-at-a-time comparisons and CASE give
// what callEval gives row by row, over random columns with NULLs, equal and
// extreme values, for every operator and both the column and the constant
// form.
func TestVectorMatchesRowByRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 500
	pick := []int64{-1 << 63, -1, 0, 1, 2, 1<<63 - 1}
	batch := types.NewBatch([]types.Type{types.Bigint, types.Bigint, types.Timestamp, types.Boolean, types.Varchar, types.Timestamp,
		types.Double, types.Double, types.Varchar, types.Boolean}, n)
	fpick := []float64{math.Inf(-1), -1.5, 0, math.Copysign(0, -1), 2.25, math.Inf(1), math.NaN()}
	for range n {
		row := make([]types.Value, 10)
		for j, typ := range []types.Type{types.Bigint, types.Bigint, types.Timestamp} {
			v := types.Value{Type: typ, I: pick[rng.IntN(len(pick))]}
			if rng.IntN(3) == 0 {
				v.I = rng.Int64N(5)
			}
			v.Null = rng.IntN(6) == 0
			row[j] = v
		}
		row[3] = types.BoolValue(rng.IntN(2) == 0)
		row[3].Null = rng.IntN(5) == 0
		row[4] = types.StringValue(string(rune('a' + rng.IntN(3))))
		row[4].Null = rng.IntN(5) == 0
		row[5] = types.TimestampValue(rng.Int64N(1 << 40))
		for _, j := range []int{6, 7} {
			row[j] = types.FloatValue(fpick[rng.IntN(len(fpick))])
			row[j].Null = rng.IntN(6) == 0
		}
		row[8] = types.StringValue([]string{"", "a", "b", "ab", "é"}[rng.IntN(5)])
		row[8].Null = rng.IntN(6) == 0
		row[9] = types.BoolValue(rng.IntN(2) == 0)
		row[9].Null = rng.IntN(4) == 0
		batch.AppendRow(row)
	}
	col := func(i int) planner.Expr { return &planner.ColRef{Idx: i, T: batch.Cols[i].Type} }
	lit := func(v types.Value) planner.Expr { return &planner.Literal{V: v} }
	call := func(name string, args ...planner.Expr) *planner.Call {
		ts := make([]types.Type, len(args))
		for i, a := range args {
			ts[i] = a.Type()
		}
		impl, err := scalar.Resolve(name, ts)
		if err != nil {
			t.Fatalf("%s%v: %v", name, ts, err)
		}
		return &planner.Call{Impl: impl, Args: args, Display: name}
	}
	var exprs []*planner.Call
	for _, op := range []string{"=", "<>", "<", "<=", ">", ">="} {
		exprs = append(exprs,
			call(op, col(0), col(1)),
			call(op, col(0), lit(types.IntValue(2))),
			call(op, col(1), lit(types.IntValue(-1<<63))),
			call(op, lit(types.IntValue(1)), col(0)),
			call(op, col(2), col(5)),
			call(op, col(6), col(7)),
			call(op, col(6), lit(types.FloatValue(0))),
			call(op, col(4), col(8)),
			call(op, col(8), lit(types.StringValue("ab"))))
	}
	for _, name := range []string{"and", "or"} {
		exprs = append(exprs,
			call(name, col(3), col(9)),
			call(name, col(9), call("<", col(0), col(1)), col(3)))
	}
	toDouble, err := scalar.Cast(types.Bigint, types.Double)
	if err != nil {
		t.Fatal(err)
	}
	castCol0 := &planner.Call{Impl: toDouble, Args: []planner.Expr{col(0)}, Display: "cast"}
	for _, op := range []string{"+", "-", "*"} {
		exprs = append(exprs,
			call(op, col(6), col(7)),
			call(op, lit(types.FloatValue(0.908)), col(7)),
			call(op, castCol0, col(6)))
	}
	exprs = append(exprs, castCol0,
		call("<", call("*", lit(types.FloatValue(0.908)), castCol0), lit(types.FloatValue(1e18))))
	exprs = append(exprs,
		call("not", col(3)), call("not", call("and", col(3), col(9))),
		call("is_null", col(4)), call("is_not_null", col(6)), call("is_null", call("=", col(0), col(1))))
	exprs = append(exprs,
		call("case", call("=", col(0), lit(types.IntValue(0))), col(2), call("=", col(0), lit(types.IntValue(1))), col(5), col(2)),
		call("case", col(3), col(4), call("<", col(0), col(1)), lit(types.StringValue("lt")), col(4)),
		call("case", col(3), col(3), call(">", col(0), col(1)), lit(types.BoolValue(false)), col(3)))
	vectorized := 0
	for _, e := range exprs {
		got := compile(e, ErrorPolicy{Strict: true})
		if _, ok := got.(*callEval); !ok {
			vectorized++
		}
		ref := &callEval{impl: e.Impl, out: types.NewColumn(e.Impl.Ret, 0), pol: ErrorPolicy{Strict: true},
			argv: make([]types.Value, len(e.Args)), cols: make([]*types.Column, len(e.Args))}
		for _, a := range e.Args {
			ref.args = append(ref.args, compile(a, ErrorPolicy{Strict: true}))
		}
		for range 2 { // twice: the evaluators reuse their output columns
			want, err := ref.eval(batch)
			if err != nil {
				t.Fatal(err)
			}
			have, err := got.eval(batch)
			if err != nil {
				t.Fatal(err)
			}
			for r := range n {
				w, h := want.Value(r), have.Value(r)
				if w.Type == types.Double && math.IsNaN(w.F) && math.IsNaN(h.F) {
					w.F, h.F = 0, 0 // NaN != NaN, but both are NaN
				}
				if w.Null != h.Null || !w.Null && w != h {
					t.Fatalf("%s row %d (%v): got %v, want %v", e, r, batch.Row(r), h, w)
				}
			}
		}
	}
	if vectorized != len(exprs) {
		t.Errorf("%d of %d expressions took the column-at-a-time form; want all", vectorized, len(exprs))
	}
}

// TestSharedSubexpressions: a projection evaluates a call written more than
// once among its expressions once per batch, gives the results it gives
// unshared, batch after batch, and never hands on one column twice.
func TestSharedSubexpressions(t *testing.T) {
	p := plan(t, `SELECT user_id + 1 AS a, user_id + 1 AS b,
		CASE WHEN user_id + 1 > 2 THEN upper(page) WHEN user_id + 1 > 1 THEN lower(upper(page)) ELSE upper(page) END AS c,
		upper(page) = 'X' OR upper(page) IS NULL AS d FROM clicks`, planner.Bounded)
	proj := find[*planner.Project](p)
	shared := NewProject(proj.Exprs, ErrorPolicy{Strict: true})
	if len(shared.set.memo) != 2 { // user_id + 1 and upper(page)
		t.Errorf("%d shared calls; want 2", len(shared.set.memo))
	}
	var plain []evaluator
	for _, e := range proj.Exprs {
		plain = append(plain, compile(e, ErrorPolicy{Strict: true}))
	}
	for round, rows := range [][][]any{
		{{1, "x", 0}, {2, "Y", 0}, {nil, nil, 0}, {5, "z", 0}},
		{{0, "q", 0}, {3, nil, 0}},
	} {
		in := types.NewBatch([]types.Type{types.Bigint, types.Varchar, types.Timestamp}, len(rows))
		for _, r := range rows {
			row := []types.Value{types.NullOf(types.Bigint), types.NullOf(types.Varchar), types.TimestampValue(0)}
			if r[0] != nil {
				row[0] = types.IntValue(int64(r[0].(int)))
			}
			if r[1] != nil {
				row[1] = types.StringValue(r[1].(string))
			}
			in.AppendRow(row)
		}
		var got *types.Batch
		if err := shared.Process(in, CollectorFunc(func(b *types.Batch) error { got = b; return nil })); err != nil {
			t.Fatal(err)
		}
		if got.Cols[0] == got.Cols[1] {
			t.Fatalf("round %d: two projected columns are one column", round)
		}
		for i, ev := range plain {
			want, err := ev.eval(in)
			if err != nil {
				t.Fatal(err)
			}
			for r := range in.Len() {
				if w, h := want.Value(r), got.Cols[i].Value(r); w != h {
					t.Errorf("round %d, column %d, row %d: got %v, want %v", round, i, r, h, w)
				}
			}
		}
	}
}

// TestIntArithMatchesRowByRow: BIGINT arithmetic column-at-a-time gives
// callEval's results, including its errors: under a strict policy the same
// error, under a lenient one the same NULLs and the same error count.
func TestIntArithMatchesRowByRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pick := []int64{math.MinInt64, math.MinInt64 + 1, -1 << 32, -3, -1, 0, 1, 2, 7, 1 << 32, math.MaxInt64 - 1, math.MaxInt64}
	// Batches without a failing row, and batches with one.
	gen := func(n int, wild bool) *types.Batch {
		b := types.NewBatch([]types.Type{types.Bigint, types.Bigint}, n)
		for range n {
			row := make([]types.Value, 2)
			for j := range row {
				v := types.IntValue(rng.Int64N(2001) - 1000)
				if j == 1 && v.I == 0 {
					v.I = 5
				}
				if wild && rng.IntN(4) == 0 {
					v.I = pick[rng.IntN(len(pick))]
				}
				v.Null = rng.IntN(7) == 0
				row[j] = v
			}
			b.AppendRow(row)
		}
		return b
	}
	col := func(i int) planner.Expr { return &planner.ColRef{Idx: i, T: types.Bigint} }
	for _, op := range []string{"+", "-", "*", "/", "%"} {
		impl, err := scalar.Resolve(op, []types.Type{types.Bigint, types.Bigint})
		if err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]planner.Expr{{col(0), col(1)}, {col(0), &planner.Literal{V: types.IntValue(123)}},
			{&planner.Literal{V: types.IntValue(math.MinInt64)}, col(1)}} {
			e := &planner.Call{Impl: impl, Args: args, Display: op}
			for _, strict := range []bool{true, false} {
				var gotErrs, wantErrs atomic.Int64
				got := compile(e, ErrorPolicy{Strict: strict, Errors: &gotErrs})
				if _, ok := got.(*intArithEval); !ok {
					t.Fatalf("%s: compiled to %T; want *intArithEval", e, got)
				}
				ref := &callEval{impl: e.Impl, out: types.NewColumn(types.Bigint, 0), pol: ErrorPolicy{Strict: strict, Errors: &wantErrs},
					argv: make([]types.Value, 2), cols: make([]*types.Column, 2)}
				for _, a := range args {
					ref.args = append(ref.args, compile(a, ErrorPolicy{Strict: true}))
				}
				for round := range 6 {
					b := gen(300, round%2 == 1)
					want, werr := ref.eval(b)
					have, herr := got.eval(b)
					if (werr == nil) != (herr == nil) || werr != nil && werr.Error() != herr.Error() {
						t.Fatalf("%s strict=%v round %d: error %v; want %v", e, strict, round, herr, werr)
					}
					if werr != nil {
						continue
					}
					for r := range b.Len() {
						if w, h := want.Value(r), have.Value(r); w.Null != h.Null || !w.Null && w != h {
							t.Fatalf("%s strict=%v round %d row %d (%v): got %v, want %v", e, strict, round, r, b.Row(r), h, w)
						}
					}
				}
				if gotErrs.Load() != wantErrs.Load() {
					t.Errorf("%s strict=%v: %d errors counted; want %d", e, strict, gotErrs.Load(), wantErrs.Load())
				}
			}
		}
	}
}
