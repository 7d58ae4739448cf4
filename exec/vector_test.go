package exec

import (
	"math/rand/v2"
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
	batch := types.NewBatch([]types.Type{types.Bigint, types.Bigint, types.Timestamp, types.Boolean, types.Varchar, types.Timestamp}, n)
	for range n {
		row := make([]types.Value, 6)
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
			call(op, col(2), col(5)))
	}
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
				if w, h := want.Value(r), have.Value(r); w.Null != h.Null || !w.Null && types.Compare(w, h) != 0 {
					t.Fatalf("%s row %d (%v): got %v, want %v", e, r, batch.Row(r), h, w)
				}
			}
		}
	}
	if vectorized != len(exprs) {
		t.Errorf("%d of %d expressions took the column-at-a-time form; want all", vectorized, len(exprs))
	}
}
