package exec

import (
	"sync/atomic"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/planner/scalar"
	"github.com/streamsql/streamsql/sql/types"
)

// ErrorPolicy decides what a run-time expression error (division by zero,
// overflow, a bad cast) does to a row (SEMANTICS.md, "Bad data").
type ErrorPolicy struct {
	// Strict makes the first error fail the query: bounded SELECTs
	// answer the client with it, as PostgreSQL does.
	Strict bool
	// Errors counts errors turned into NULL in a continuous query.
	Errors *atomic.Int64
}

// evaluator computes an expression over a whole batch. The returned column
// is owned by the evaluator (or is an input column) and is valid until the
// next call.
type evaluator interface {
	eval(b *types.Batch) (*types.Column, error)
}

func compile(e planner.Expr, pol ErrorPolicy) evaluator {
	switch e := e.(type) {
	case *planner.ColRef:
		return colEval(e.Idx)
	case *planner.Literal:
		return &litEval{v: e.V, out: types.NewColumn(e.V.Type, 0)}
	case *planner.Call:
		c := &callEval{impl: e.Impl, out: types.NewColumn(e.Impl.Ret, 0), pol: pol,
			argv: make([]types.Value, len(e.Args)), cols: make([]*types.Column, len(e.Args))}
		for _, a := range e.Args {
			c.args = append(c.args, compile(a, pol))
		}
		if v := compileVector(e, c.args); v != nil {
			return v
		}
		return c
	}
	panic("exec: unknown expression type")
}

type colEval int

func (c colEval) eval(b *types.Batch) (*types.Column, error) { return b.Cols[c], nil }

type litEval struct {
	v   types.Value
	out *types.Column
}

func (l *litEval) eval(b *types.Batch) (*types.Column, error) {
	n := b.Len()
	if l.out.Len() != n {
		l.out.Reset()
		for range n {
			l.out.Append(l.v)
		}
	}
	return l.out, nil
}

// callEval applies a scalar function row by row over argument columns. The
// loop reuses its argument slice and output column, so it does not allocate
// per row (beyond what a string-producing function allocates itself).
type callEval struct {
	impl *scalar.Impl
	args []evaluator
	cols []*types.Column
	argv []types.Value
	out  *types.Column
	pol  ErrorPolicy
}

func (c *callEval) eval(b *types.Batch) (*types.Column, error) {
	for i, a := range c.args {
		col, err := a.eval(b)
		if err != nil {
			return nil, err
		}
		c.cols[i] = col
	}
	c.out.Reset()
	n := b.Len()
	for r := 0; r < n; r++ {
		null := false
		for i, col := range c.cols {
			c.argv[i] = col.Value(r)
			null = null || col.Nulls[r]
		}
		if null && !c.impl.NullAware {
			c.out.AppendNull()
			continue
		}
		v, err := c.impl.Eval(c.argv)
		if err != nil {
			if c.pol.Strict {
				return nil, err
			}
			if c.pol.Errors != nil {
				c.pol.Errors.Add(1)
			}
			c.out.AppendNull()
			continue
		}
		c.out.Append(v)
	}
	return c.out, nil
}
