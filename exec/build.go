package exec

import (
	"fmt"
	"sort"

	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/planner/scalar"
	"github.com/streamsql/streamsql/sql/types"
	"github.com/streamsql/streamsql/state"
)

// operators instantiates the plan nodes of one task, bottom-up. last says
// whether the task's chain ends the query (its output goes to the sink or
// the client): the final projection then also carries the key columns the
// sink needs after the output columns.
func (g *graph) operators(nodes []planner.Node, pol ErrorPolicy, last bool) ([]Operator, error) {
	cfg := g.cfg
	var ops []Operator
	for i, n := range nodes {
		switch n := n.(type) {
		case *planner.Scan, *planner.Sort, *planner.Limit:
			// The scan is the task itself; sort and limit are the bounded
			// output stage (see resultStage).
		case *planner.Filter:
			ops = append(ops, NewFilter(n.Cond, pol))
		case *planner.WindowAssign:
			ops = append(ops, NewWindowAssign(n, pol))
		case *planner.WindowRank:
			ops = append(ops, NewWindowRank(n, pol))
		case *planner.Project:
			exprs := n.Exprs
			if last && cfg.Store != nil && isFinalProject(nodes[i+1:]) {
				exprs = append(append([]planner.Expr(nil), exprs...), sinkExtras(cfg.Plan, n.Input)...)
			}
			ops = append(ops, NewProject(exprs, pol))
		case *planner.WindowAgg:
			st := state.Options{NoCheckpoints: cfg.Store == nil}
			if n.Window.Kind == planner.Session {
				ops = append(ops, NewSessionAgg(n, "sessionagg", pol, &cfg.Stats.LateEvents, st))
			} else {
				ops = append(ops, NewWindowAgg(n, "windowagg", pol, &cfg.Stats.LateEvents,
					WindowOptions{AllowedLateness: cfg.AllowedLateness, EmitEarly: cfg.Plan.EmitChanges, State: st}))
			}
		case *planner.HashAgg:
			ops = append(ops, NewHashAggWith(n, "hashagg", g.bounded, pol, g.stateOptions()))
		default:
			return nil, fmt.Errorf("exec: no operator for %T", n)
		}
	}
	// A filter under a projection compacts only the columns it reads.
	for i := 0; i+1 < len(ops); i++ {
		if f, ok := ops[i].(*Filter); ok {
			if p, ok := ops[i+1].(*Project); ok {
				f.live = p.reads
			}
		}
	}
	return ops, nil
}

// stateOptions is one aggregation task's share of the query's state budget.
// Only a bounded query spills; a continuous one evicts to its checkpoints
// (its cache learns the store at Restore); a push query has neither and
// keeps its groups in memory.
func (g *graph) stateOptions() state.Options {
	cfg := g.cfg
	plain := state.Options{NoCheckpoints: cfg.Store == nil}
	if cfg.StateCacheBytes <= 0 || (cfg.Store == nil && !g.bounded) {
		return plain
	}
	opts := state.Options{Budget: cfg.StateCacheBytes / int64(max(g.nAgg, 1)), Counters: &cfg.Stats.State,
		NoCheckpoints: plain.NoCheckpoints}
	if g.bounded {
		if cfg.Spill == nil {
			return plain
		}
		opts.Spill = cfg.Spill
	}
	return opts
}

func isFinalProject(above []planner.Node) bool {
	for _, n := range above {
		switch n.(type) {
		case *planner.Sort, *planner.Limit:
		default:
			return false
		}
	}
	return true
}

// sinkExtras are the hidden columns a continuous query's final projection
// appends for its sink after the output columns: the key columns of an
// aggregation (see Plan.KeyCols), then the row's event time when it has one
// (see SinkLayout).
func sinkExtras(p *planner.Plan, input planner.Node) []planner.Expr {
	sch := input.Schema()
	var out []planner.Expr
	for _, c := range p.KeyCols {
		out = append(out, &planner.ColRef{Idx: c, Name: sch[c].Name, T: sch[c].Type})
	}
	props := input.Props()
	if tc := props.TimeCol; tc >= 0 {
		var t planner.Expr = &planner.ColRef{Idx: tc, Name: sch[tc].Name, T: types.Timestamp}
		if props.TimeIsEnd {
			// A window's result carries the window's last instant as its
			// time (as Flink's window rowtime does), so a downstream window of
			// the same size puts it in the same window.
			minus, err := scalar.Resolve("-", []types.Type{types.Timestamp, types.Interval})
			if err != nil {
				panic(err)
			}
			t = &planner.Call{Impl: minus, Args: []planner.Expr{t, &planner.Literal{V: types.IntervalValue(1)}}, Display: "-", Infix: true}
		}
		out = append(out, t)
	}
	return out
}

// SinkLayout says which hidden columns follow a continuous plan's output
// columns in the batches reaching its sink.
func SinkLayout(p *planner.Plan) (keys int, hasTime bool) {
	n := p.Root
	for {
		if proj, ok := n.(*planner.Project); ok {
			return len(p.KeyCols), proj.Input.Props().TimeCol >= 0
		}
		n = n.Children()[0]
	}
}

// resultStage applies a bounded query's ORDER BY and LIMIT to its rows and
// hands them to the client callback. Without ORDER BY, rows stream through
// and the query stops as soon as LIMIT rows have passed; with it, rows are
// held until the input ends.
type resultStage struct {
	sortKeys []planner.SortKey
	limit    int64 // -1: none
	offset   int64
	seen     int64
	held     [][]types.Value
	schema   []types.Type
	out      func(*types.Batch) error
	scratch  *types.Batch
}

func newResultStage(p *planner.Plan, out func(*types.Batch) error) *resultStage {
	r := &resultStage{limit: -1, out: out}
	for _, c := range p.Columns {
		r.schema = append(r.schema, c.Type)
	}
	r.scratch = types.NewBatch(r.schema, 0)
	for n := p.Root; n != nil; {
		switch x := n.(type) {
		case *planner.Sort:
			r.sortKeys = x.Keys
		case *planner.Limit:
			r.limit, r.offset = x.Count, x.Offset
		default:
			return r
		}
		n = n.Children()[0]
	}
	return r
}

func (r *resultStage) collect(b *types.Batch) error {
	if r.sortKeys != nil {
		for i := 0; i < b.Len(); i++ {
			r.held = append(r.held, b.Row(i)[:len(r.schema)])
		}
		return nil
	}
	if r.offset == 0 && r.limit < 0 {
		return r.out(b)
	}
	r.scratch.Reset()
	for i := 0; i < b.Len(); i++ {
		r.seen++
		if r.seen <= r.offset {
			continue
		}
		if r.limit >= 0 && r.seen > r.offset+r.limit {
			break
		}
		r.scratch.AppendRow(b.Row(i)[:len(r.schema)])
	}
	if r.scratch.Len() > 0 {
		if err := r.out(r.scratch); err != nil {
			return err
		}
	}
	if r.limit >= 0 && r.seen >= r.offset+r.limit {
		return ErrStopOutput
	}
	return nil
}

// finish emits held rows in ORDER BY order (NULLs last ascending, first
// descending, as in PostgreSQL).
func (r *resultStage) finish() error {
	if r.sortKeys == nil {
		return nil
	}
	sort.SliceStable(r.held, func(i, j int) bool {
		for _, k := range r.sortKeys {
			a, b := r.held[i][k.Col], r.held[j][k.Col]
			var c int
			switch {
			case a.Null && b.Null:
				c = 0
			case a.Null:
				c = 1
			case b.Null:
				c = -1
			default:
				c = types.Compare(a, b)
			}
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	rows := r.held
	if r.offset > 0 {
		rows = rows[min(int64(len(rows)), r.offset):]
	}
	if r.limit >= 0 && int64(len(rows)) > r.limit {
		rows = rows[:r.limit]
	}
	r.scratch.Reset()
	for _, row := range rows {
		r.scratch.AppendRow(row)
	}
	if r.scratch.Len() == 0 {
		return nil
	}
	return r.out(r.scratch)
}

// scanColumnsRead marks the scan's columns the plan reads, and the
// event-time column. The source task decodes only these; the others stay
// NULL (column pruning). It walks the plan's chain from the root down,
// carrying which of each node's output columns are used above it: a
// projection needs only the inputs of the expressions whose results are
// used (a view's unused columns cost nothing), a filter adds its
// condition's, an aggregation needs its keys, arguments and time column
// whatever is used of its output. A node it does not know needs everything.
func scanColumnsRead(p *planner.Plan) []bool {
	width := len(p.Scan.Schema())
	all := func(n int) []bool {
		out := make([]bool, n)
		for i := range out {
			out[i] = true
		}
		return out
	}
	mark := func(dst []bool, es ...planner.Expr) {
		refs := map[int]bool{}
		for _, e := range es {
			if e != nil {
				planner.ColumnsOf(e, refs)
			}
		}
		for i := range refs {
			if i < len(dst) {
				dst[i] = true
			}
		}
	}
	used := all(len(p.Root.Schema())) // what the query's output uses: all of it
	for n := p.Root; ; {
		if _, ok := n.(*planner.Scan); ok {
			break
		}
		kids := n.Children()
		if len(kids) != 1 {
			used = all(width)
			break
		}
		in := make([]bool, len(kids[0].Schema()))
		switch n := n.(type) {
		case *planner.Filter:
			copy(in, used)
			mark(in, n.Cond)
		case *planner.Exchange:
			copy(in, used)
			mark(in, n.Keys...)
		case *planner.WindowAssign:
			copy(in, used) // its own window_start and window_end come last
			mark(in, n.Window.Time)
		case *planner.Project:
			for i, e := range n.Exprs {
				if used[i] {
					mark(in, e)
				}
			}
		case *planner.WindowAgg:
			mark(in, n.Keys...)
			mark(in, n.Window.Time)
			for _, a := range n.Aggs {
				mark(in, a.Arg, a.Filter)
			}
		case *planner.HashAgg:
			mark(in, n.Keys...)
			for _, a := range n.Aggs {
				mark(in, a.Arg, a.Filter)
			}
		default:
			in = all(len(in))
		}
		used, n = in, kids[0]
	}
	if tc := p.Scan.TimeCol; tc >= 0 && tc < width {
		used[tc] = true
	}
	return used
}
