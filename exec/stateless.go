package exec

import (
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql/types"
)

// Filter keeps the rows whose condition is TRUE (not FALSE, not NULL). On
// an upsert stream (rows carrying kinds) a failing update is not dropped but
// turned into a Delete: the key no longer satisfies the condition, so a
// reader of the upsert stream must forget its previous row (a tombstone).
// It keeps no state.
type Filter struct {
	stateless
	set  *exprSet
	cond evaluator
	sel  []bool
	// live marks the columns the operator above reads, when it is a
	// projection (nil: all): only those are compacted.
	live []bool
}

var _ Operator = (*Filter)(nil)

// NewFilter compiles a filter.
func NewFilter(cond planner.Expr, pol ErrorPolicy) *Filter {
	set := newExprSet(cond)
	return &Filter{set: set, cond: set.compile(cond, pol)}
}

// Process compacts b in place to the passing rows and emits it.
func (f *Filter) Process(b *types.Batch, out Collector) error {
	f.set.next()
	c, err := f.cond.eval(b)
	if err != nil {
		return err
	}
	n := b.Len()
	f.sel = f.sel[:0]
	kept := 0
	for i := 0; i < n; i++ {
		ok := !c.Nulls[i] && c.Bools[i]
		if !ok && b.Kinds != nil && b.Kinds[i] == types.UpdateAfter {
			b.Kinds[i] = types.Delete
			ok = true
		}
		f.sel = append(f.sel, ok)
		if ok {
			kept++
		}
	}
	if kept == 0 {
		return nil
	}
	if kept < n {
		b.KeepLive(f.sel, f.live)
	}
	return out.Collect(b)
}

// Project computes output columns from input columns. It keeps no state.
// The output batch is reused across calls.
type Project struct {
	stateless
	set   *exprSet
	exprs []evaluator
	types []types.Type
	out   *types.Batch
	// reads marks the input columns the expressions read.
	reads []bool
}

var _ Operator = (*Project)(nil)

// NewProject compiles a projection.
func NewProject(exprs []planner.Expr, pol ErrorPolicy) *Project {
	p := &Project{set: newExprSet(exprs...)}
	refs := map[int]bool{}
	for _, e := range exprs {
		p.exprs = append(p.exprs, p.set.compile(e, pol))
		p.types = append(p.types, e.Type())
		planner.ColumnsOf(e, refs)
	}
	for i := range refs {
		if i >= len(p.reads) {
			p.reads = append(p.reads, make([]bool, i+1-len(p.reads))...)
		}
		p.reads[i] = true
	}
	if p.reads == nil {
		p.reads = []bool{} // reads nothing (constants only)
	}
	p.out = types.NewBatch(p.types, 0)
	return p
}

// Process emits one output batch per input batch. Input columns passed
// through unchanged are shared, not copied.
func (p *Project) Process(b *types.Batch, out Collector) error {
	p.set.next()
	for i, e := range p.exprs {
		c, err := e.eval(b)
		if err != nil {
			return err
		}
		if _, isCol := e.(colEval); isCol {
			p.out.Cols[i] = c
			continue
		}
		// Computed columns belong to their evaluator and are overwritten by
		// its next call; two evaluators never share one, so no copy is needed.
		p.out.Cols[i] = c
	}
	p.out.Keys = b.Keys
	p.out.Kinds = b.Kinds
	return out.Collect(p.out)
}
