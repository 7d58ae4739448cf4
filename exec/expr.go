package exec

import (
	"fmt"
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

func compile(e planner.Expr, pol ErrorPolicy) evaluator { return (*exprSet)(nil).compile(e, pol) }

// exprSet compiles the expressions of one operator so that a call written
// more than once among them (Nexmark q14's 0.908 * price in both bounds of
// its filter, HOUR(dateTime) in each branch of its CASE) is evaluated once
// per batch. The operator calls next before evaluating a new batch. A nil
// *exprSet compiles without sharing.
type exprSet struct {
	round  uint64
	counts map[string]int
	memo   map[string]*memoEval
}

// newExprSet prepares a set for es, counting their calls.
func newExprSet(es ...planner.Expr) *exprSet {
	s := &exprSet{counts: map[string]int{}, memo: map[string]*memoEval{}}
	var count func(e planner.Expr)
	count = func(e planner.Expr) {
		if c, ok := e.(*planner.Call); ok {
			s.counts[exprKey(c)]++
			for _, a := range c.Args {
				count(a)
			}
		}
	}
	for _, e := range es {
		if e != nil {
			count(e)
		}
	}
	return s
}

// next starts a new batch: shared results are computed afresh.
func (s *exprSet) next() {
	if s != nil {
		s.round++
	}
}

// compile compiles e; its nested calls that occur more than once in the set
// share one evaluator. e itself is never shared, so two results an operator
// hands on (two projected columns) are never one column.
func (s *exprSet) compile(e planner.Expr, pol ErrorPolicy) evaluator {
	return s.compileNode(e, pol, true)
}

func (s *exprSet) compileNode(e planner.Expr, pol ErrorPolicy, top bool) evaluator {
	switch e := e.(type) {
	case *planner.ColRef:
		return colEval(e.Idx)
	case *planner.Literal:
		return &litEval{v: e.V, out: types.NewColumn(e.V.Type, 0)}
	case *planner.Call:
		var key string
		shared := s != nil && !top
		if shared {
			key = exprKey(e)
			shared = s.counts[key] > 1
		}
		if shared {
			if m, ok := s.memo[key]; ok {
				return m
			}
		}
		c := &callEval{impl: e.Impl, out: types.NewColumn(e.Impl.Ret, 0), pol: pol,
			argv: make([]types.Value, len(e.Args)), cols: make([]*types.Column, len(e.Args))}
		for _, a := range e.Args {
			c.args = append(c.args, s.compileNode(a, pol, false))
		}
		var ev evaluator = c
		if v := compileVector(e, c); v != nil {
			ev = v
		}
		if shared {
			m := &memoEval{set: s, inner: ev}
			s.memo[key] = m
			return m
		}
		return ev
	}
	panic("exec: unknown expression type")
}

// exprKey identifies an expression by its structure: the same function
// implementation over the same columns and constants.
func exprKey(e planner.Expr) string {
	switch e := e.(type) {
	case *planner.ColRef:
		return fmt.Sprintf("#%d", e.Idx)
	case *planner.Literal:
		return fmt.Sprintf("%d:%t:%d:%v:%q", e.V.Type, e.V.Null, e.V.I, e.V.F, e.V.S)
	case *planner.Call:
		k := fmt.Sprintf("%s:%d(", e.Impl.Name, e.Impl.Ret)
		for _, a := range e.Args {
			k += exprKey(a) + ","
		}
		return k + ")"
	}
	return fmt.Sprintf("%T:%s", e, e)
}

// memoEval evaluates its expression once per round of its set.
type memoEval struct {
	set   *exprSet
	inner evaluator
	round uint64
	done  bool
	col   *types.Column
	err   error
}

func (m *memoEval) eval(b *types.Batch) (*types.Column, error) {
	if !m.done || m.round != m.set.round {
		m.col, m.err = m.inner.eval(b)
		m.round, m.done = m.set.round, true
	}
	return m.col, m.err
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
	return c.apply(b.Len())
}

// apply computes the call's n rows from the argument columns in c.cols.
func (c *callEval) apply(n int) (*types.Column, error) {
	c.out.Reset()
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
