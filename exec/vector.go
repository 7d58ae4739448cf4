package exec

import (
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql/types"
)

// Column-at-a-time forms of the calls that filters and computed columns use
// most: comparisons (BIGINT, TIMESTAMP, INTERVAL, DOUBLE, VARCHAR; against
// a column or a constant), AND, OR, NOT, IS [NOT] NULL, CASE, DOUBLE +, -
// and * (which cannot fail), BIGINT +, -, *, / and % (which hand a batch
// with an error back to callEval) and the cast of BIGINT to DOUBLE. They
// compute what callEval computes, without building a Value per argument per
// row; every other call stays with callEval. TestVectorMatchesRowByRow and
// TestIntArithMatchesRowByRow hold the two to the same results.

// compileVector returns the column-at-a-time evaluator of e, or nil when
// e has none. rows is e's row-at-a-time evaluator, whose args are e's
// arguments, compiled.
func compileVector(e *planner.Call, rows *callEval) evaluator {
	impl, args := e.Impl, rows.args
	for i, a := range e.Args {
		if a.Type() != impl.ArgTypes[i] {
			return nil // an argument still to be cast: leave it to callEval
		}
	}
	switch impl.Name {
	case "=", "<>", "<", "<=", ">", ">=":
		t := impl.ArgTypes[0]
		if !intBacked(t) && t != types.Double && t != types.Varchar {
			return nil
		}
		c := &cmpEval{typ: t, a: args[0], b: args[1], out: types.NewColumn(types.Boolean, 0)}
		c.table = cmpTable(impl.Name)
		if lit, ok := e.Args[1].(*planner.Literal); ok {
			if lit.V.Null {
				return nil
			}
			c.konst, c.hasConst = lit.V, true
		}
		return c
	case "and", "or":
		return &logicEval{and: impl.Name == "and", args: args, out: types.NewColumn(types.Boolean, 0)}
	case "not":
		return &unaryEval{arg: args[0], out: types.NewColumn(types.Boolean, 0), kernel: notKernel}
	case "is_null", "is_not_null":
		return &unaryEval{arg: args[0], out: types.NewColumn(types.Boolean, 0), kernel: isNullKernel(impl.Name == "is_null")}
	case "+", "-", "*", "/", "%":
		switch {
		case impl.Ret == types.Bigint && impl.ArgTypes[0] == types.Bigint && impl.ArgTypes[1] == types.Bigint:
			return &intArithEval{op: impl.Name[0], a: args[0], b: args[1], out: types.NewColumn(types.Bigint, 0), rows: rows}
		case impl.Name == "/" || impl.Name == "%":
			return nil // DOUBLE division by zero is an error: callEval's policy applies
		case impl.Ret == types.Double && impl.ArgTypes[0] == types.Double && impl.ArgTypes[1] == types.Double:
			return &arithEval{op: impl.Name[0], a: args[0], b: args[1], out: types.NewColumn(types.Double, 0)}
		}
		return nil
	case "cast":
		if impl.ArgTypes[0] != types.Bigint || impl.Ret != types.Double {
			return nil
		}
		return &unaryEval{arg: args[0], out: types.NewColumn(types.Double, 0), kernel: intToDoubleKernel}
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

// cmpEval compares two columns of one type, or a column with a constant.
type cmpEval struct {
	typ      types.Type
	a, b     evaluator
	table    [3]bool
	konst    types.Value
	hasConst bool
	out      *types.Column
}

func (c *cmpEval) eval(b *types.Batch) (*types.Column, error) {
	ca, err := c.a.eval(b)
	if err != nil {
		return nil, err
	}
	n := b.Len()
	out := c.out
	out.Bools = slices.Grow(out.Bools[:0], n)[:n]
	out.Nulls = append(out.Nulls[:0], ca.Nulls...)
	res, t := out.Bools, c.table
	if c.hasConst {
		k := c.konst
		switch {
		case c.typ == types.Double:
			for r, x := range ca.Floats[:n] {
				res[r] = t[cmp3(x, k.F)]
			}
		case c.typ == types.Varchar:
			for r, x := range ca.Strs[:n] {
				res[r] = t[strings.Compare(x, k.S)+1]
			}
		default:
			for r, x := range ca.Ints[:n] {
				res[r] = t[cmp3(x, k.I)]
			}
		}
		return out, nil
	}
	cb, err := c.b.eval(b)
	if err != nil {
		return nil, err
	}
	switch {
	case c.typ == types.Double:
		ys := cb.Floats[:n]
		for r, x := range ca.Floats[:n] {
			res[r] = t[cmp3(x, ys[r])]
		}
	case c.typ == types.Varchar:
		ys := cb.Strs[:n]
		for r, x := range ca.Strs[:n] {
			res[r] = t[strings.Compare(x, ys[r])+1]
		}
	default:
		ys := cb.Ints[:n]
		for r, x := range ca.Ints[:n] {
			res[r] = t[cmp3(x, ys[r])]
		}
	}
	orNulls(out.Nulls, cb.Nulls[:n])
	return out, nil
}

// logicEval is SQL's three-valued AND (and = true) or OR over its
// arguments: FALSE dominates AND and TRUE dominates OR; otherwise a NULL
// argument makes the result NULL.
type logicEval struct {
	and  bool
	args []evaluator
	out  *types.Column
	// decided marks rows an argument settled (FALSE for AND, TRUE for OR).
	decided []bool
}

func (l *logicEval) eval(b *types.Batch) (*types.Column, error) {
	n := b.Len()
	out := l.out
	out.Bools = slices.Grow(out.Bools[:0], n)[:n]
	out.Nulls = slices.Grow(out.Nulls[:0], n)[:n]
	l.decided = slices.Grow(l.decided[:0], n)[:n]
	clear(out.Nulls)
	clear(l.decided)
	for _, a := range l.args {
		c, err := a.eval(b)
		if err != nil {
			return nil, err
		}
		for r, v := range c.Bools[:n] {
			if c.Nulls[r] {
				out.Nulls[r] = true
			} else if v != l.and {
				l.decided[r] = true
			}
		}
	}
	for r, d := range l.decided {
		out.Bools[r] = l.and != d
		out.Nulls[r] = out.Nulls[r] && !d
	}
	return out, nil
}

// orNulls makes dst[r] NULL where src[r] is: a row is NULL if either
// argument is.
func orNulls(dst, src []bool) {
	for r, null := range src {
		dst[r] = dst[r] || null
	}
}

// unaryEval applies a column-at-a-time kernel to one argument: kernel sets
// out to the result for the n rows of in.
type unaryEval struct {
	arg    evaluator
	out    *types.Column
	kernel func(out, in *types.Column, n int)
}

func (e *unaryEval) eval(b *types.Batch) (*types.Column, error) {
	c, err := e.arg.eval(b)
	if err != nil {
		return nil, err
	}
	e.kernel(e.out, c, b.Len())
	return e.out, nil
}

// notKernel is NOT: NULL stays NULL.
func notKernel(out, in *types.Column, n int) {
	out.Nulls = append(out.Nulls[:0], in.Nulls...)
	out.Bools = slices.Grow(out.Bools[:0], n)[:n]
	for r, v := range in.Bools[:n] {
		out.Bools[r] = !v
	}
}

// isNullKernel is IS NULL (want = true) or IS NOT NULL: never NULL itself.
func isNullKernel(want bool) func(out, in *types.Column, n int) {
	return func(out, in *types.Column, n int) {
		out.Nulls = slices.Grow(out.Nulls[:0], n)[:n]
		clear(out.Nulls)
		out.Bools = slices.Grow(out.Bools[:0], n)[:n]
		for r, null := range in.Nulls[:n] {
			out.Bools[r] = null == want
		}
	}
}

// intToDoubleKernel is CAST(BIGINT AS DOUBLE PRECISION).
func intToDoubleKernel(out, in *types.Column, n int) {
	out.Nulls = append(out.Nulls[:0], in.Nulls...)
	res := slices.Grow(out.Floats[:0], n)[:n]
	for r, x := range in.Ints[:n] {
		res[r] = float64(x)
	}
	out.Floats = res
}

// cmp3 is 0, 1 or 2 for x < y, x = y, x > y. A NaN is neither less nor
// greater than anything: equal, as types.Compare has it.
func cmp3[T int64 | float64](x, y T) int {
	c := 1
	if x < y {
		c = 0
	}
	if x > y {
		c = 2
	}
	return c
}

// arithEval is DOUBLE +, - or * (op): NULL if either side is.
type arithEval struct {
	op   byte
	a, b evaluator
	out  *types.Column
}

// evalOperands evaluates the two operands of an arithmetic call over b and
// sets out's NULLs to theirs: a row is NULL if either side is.
func evalOperands(a, bEv evaluator, b *types.Batch, out *types.Column) (ca, cb *types.Column, n int, err error) {
	if ca, err = a.eval(b); err != nil {
		return nil, nil, 0, err
	}
	if cb, err = bEv.eval(b); err != nil {
		return nil, nil, 0, err
	}
	n = b.Len()
	out.Nulls = append(out.Nulls[:0], ca.Nulls[:n]...)
	orNulls(out.Nulls, cb.Nulls[:n])
	return ca, cb, n, nil
}

func (e *arithEval) eval(b *types.Batch) (*types.Column, error) {
	out := e.out
	ca, cb, n, err := evalOperands(e.a, e.b, b, out)
	if err != nil {
		return nil, err
	}
	res := slices.Grow(out.Floats[:0], n)[:n]
	xs, ys := ca.Floats[:n], cb.Floats[:n]
	switch e.op {
	case '+':
		for r := range res {
			res[r] = xs[r] + ys[r]
		}
	case '-':
		for r := range res {
			res[r] = xs[r] - ys[r]
		}
	default:
		for r := range res {
			res[r] = xs[r] * ys[r]
		}
	}
	out.Floats = res
	return out, nil
}

// intArithEval is BIGINT +, -, *, / or % (op): NULL if either side is.
// A batch in which some row overflows or divides by zero is computed again
// by rows, the call's row-at-a-time evaluator, so that its error policy
// (fail the query, or count the error and make the row NULL) decides.
type intArithEval struct {
	op   byte
	a, b evaluator
	out  *types.Column
	rows *callEval
}

func (e *intArithEval) eval(b *types.Batch) (*types.Column, error) {
	out := e.out
	ca, cb, n, err := evalOperands(e.a, e.b, b, out)
	if err != nil {
		return nil, err
	}
	res := slices.Grow(out.Ints[:0], n)[:n]
	out.Ints = res
	xs, ys, nulls := ca.Ints[:n], cb.Ints[:n], out.Nulls[:n]
	// bad collects, branch-free, whether any row (NULL ones included, whose
	// values are not used) overflowed: its sign bit is set if one did.
	var bad int64
	switch e.op {
	case '+':
		for r := range res {
			x, y := xs[r], ys[r]
			s := x + y
			res[r] = s
			bad |= (x ^ s) & (y ^ s)
		}
	case '-':
		for r := range res {
			x, y := xs[r], ys[r]
			d := x - y
			res[r] = d
			bad |= (x ^ y) & (x ^ d)
		}
	case '*':
		for r := range res {
			x, y := xs[r], ys[r]
			hi, lo := bits.Mul64(uint64(x), uint64(y))
			// The signed product fits in 64 bits when the high word is the
			// sign extension of the low one (corrected for negative factors).
			if x < 0 {
				hi -= uint64(y)
			}
			if y < 0 {
				hi -= uint64(x)
			}
			res[r] = int64(lo)
			bad |= int64(hi ^ uint64(int64(lo)>>63))
		}
		if bad != 0 {
			bad = -1
		}
	default: // '/', '%'
		for r := range res {
			x, y := xs[r], ys[r]
			switch {
			case y == 0:
				res[r] = 0
				if !nulls[r] {
					bad = -1
				}
			case y == -1:
				// -x overflows for the smallest BIGINT; x % -1 is 0.
				if e.op == '/' {
					res[r] = -x
					if x == math.MinInt64 && !nulls[r] {
						bad = -1
					}
				} else {
					res[r] = 0
				}
			case e.op == '/':
				res[r] = x / y // truncates toward zero, as in PostgreSQL
			default:
				res[r] = x % y
			}
		}
	}
	if bad < 0 {
		e.rows.cols[0], e.rows.cols[1] = ca, cb
		return e.rows.apply(n)
	}
	return out, nil
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
		out.AppendFrom(src, r)
	}
	return out, nil
}
