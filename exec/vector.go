package exec

import (
	"slices"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql/types"
)

// Column-at-a-time forms of the calls that filters and computed columns use
// most: comparisons of integer-represented values (BIGINT, TIMESTAMP,
// INTERVAL), against a column or a constant, and CASE. They compute what
// callEval computes, without building a Value per argument per row; every
// other call stays with callEval. TestVectorMatchesRowByRow holds the two
// to the same results.

// compileVector returns the column-at-a-time evaluator of e, or nil when
// e has none. args are e's arguments, compiled.
func compileVector(e *planner.Call, args []evaluator) evaluator {
	impl := e.Impl
	for i, a := range e.Args {
		if a.Type() != impl.ArgTypes[i] {
			return nil // an argument still to be cast: leave it to callEval
		}
	}
	switch impl.Name {
	case "=", "<>", "<", "<=", ">", ">=":
		if !intBacked(impl.ArgTypes[0]) {
			return nil
		}
		c := &cmpIntEval{a: args[0], b: args[1], out: types.NewColumn(types.Boolean, 0)}
		c.table = cmpTable(impl.Name)
		if lit, ok := e.Args[1].(*planner.Literal); ok {
			if lit.V.Null {
				return nil
			}
			c.konst, c.hasConst = lit.V.I, true
		}
		return c
	case "case":
		if impl.Ret == types.Unknown {
			return nil
		}
		return &caseEval{args: args, cols: make([]*types.Column, len(args)), out: types.NewColumn(impl.Ret, 0)}
	}
	return nil
}

// intBacked reports whether values of t live in Column.Ints and compare as
// integers.
func intBacked(t types.Type) bool {
	return t == types.Bigint || t == types.Timestamp || t == types.Interval
}

// cmpTable is op's answer for a < b, a = b and a > b.
func cmpTable(op string) [3]bool {
	switch op {
	case "=":
		return [3]bool{false, true, false}
	case "<>":
		return [3]bool{true, false, true}
	case "<":
		return [3]bool{true, false, false}
	case "<=":
		return [3]bool{true, true, false}
	case ">":
		return [3]bool{false, false, true}
	}
	return [3]bool{false, true, true} // >=
}

// cmpIntEval compares two integer-backed columns, or one with a constant.
type cmpIntEval struct {
	a, b     evaluator
	table    [3]bool
	konst    int64
	hasConst bool
	out      *types.Column
}

func (c *cmpIntEval) eval(b *types.Batch) (*types.Column, error) {
	ca, err := c.a.eval(b)
	if err != nil {
		return nil, err
	}
	n := b.Len()
	out := c.out
	out.Bools = slices.Grow(out.Bools[:0], n)[:n]
	out.Nulls = append(out.Nulls[:0], ca.Nulls...)
	t := c.table
	if c.hasConst {
		k := c.konst
		for r, x := range ca.Ints[:n] {
			out.Bools[r] = t[cmp3(x, k)]
		}
		return out, nil
	}
	cb, err := c.b.eval(b)
	if err != nil {
		return nil, err
	}
	ys := cb.Ints[:n]
	for r, x := range ca.Ints[:n] {
		out.Bools[r] = t[cmp3(x, ys[r])]
		out.Nulls[r] = out.Nulls[r] || cb.Nulls[r]
	}
	return out, nil
}

// cmp3 is 0, 1 or 2 for x < y, x = y, x > y.
func cmp3(x, y int64) int {
	c := 1
	if x < y {
		c = 0
	}
	if x > y {
		c = 2
	}
	return c
}

// caseEval is case(cond1, res1, ..., else): per row, the result of the
// first condition that is true (not NULL), else the last argument.
type caseEval struct {
	args []evaluator
	cols []*types.Column
	out  *types.Column
}

func (c *caseEval) eval(b *types.Batch) (*types.Column, error) {
	for i, a := range c.args {
		col, err := a.eval(b)
		if err != nil {
			return nil, err
		}
		c.cols[i] = col
	}
	n := b.Len()
	out := c.out
	out.Reset()
	last := len(c.cols) - 1
	for r := 0; r < n; r++ {
		src := c.cols[last]
		for i := 0; i < last; i += 2 {
			if cond := c.cols[i]; !cond.Nulls[r] && cond.Bools[r] {
				src = c.cols[i+1]
				break
			}
		}
		out.Nulls = append(out.Nulls, src.Nulls[r])
		switch out.Type {
		case types.Double:
			out.Floats = append(out.Floats, src.Floats[r])
		case types.Varchar:
			out.Strs = append(out.Strs, src.Strs[r])
		case types.Boolean:
			out.Bools = append(out.Bools, src.Bools[r])
		default:
			out.Ints = append(out.Ints, src.Ints[r])
		}
	}
	return out, nil
}
